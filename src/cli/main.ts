import { Command, CommanderError } from 'commander';
import { log } from '../log/logger.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from '../util/errors.js';
import { packageVersion } from '../util/resources.js';
import { activityCommand } from './activity-cmd.js';
import { configCommand } from './config-cmd.js';
import { snapshotCommand } from './snapshot-cmd.js';
import { runCommand } from './run-cmd.js';
import { resumeCommand } from './resume-cmd.js';
import { doctorCommand } from './doctor-cmd.js';
import { planCommand } from './plan-cmd.js';
import { historyCommand } from './history-cmd.js';
import { logsCommand } from './logs-cmd.js';
import { statsCommand } from './stats-cmd.js';
import { statusCommand } from './status-cmd.js';
import { notifyCommand } from './notify-cmd.js';
import { metricsCommand } from './metrics-cmd.js';

export function buildProgram(): Command {
  const program = new Command('proxbalance')
    .description('Keeps a Proxmox VE cluster balanced by live-migrating VMs and containers, automatically and safely.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(runCommand());
  program.addCommand(resumeCommand());
  program.addCommand(configCommand());
  program.addCommand(doctorCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(planCommand());
  program.addCommand(statusCommand());
  program.addCommand(historyCommand());
  program.addCommand(statsCommand());
  program.addCommand(activityCommand());
  program.addCommand(logsCommand());
  program.addCommand(notifyCommand());
  program.addCommand(metricsCommand());
  return program;
}

/** Runs the CLI; resolves to the exit code (0 done, 1 runtime failure, 2 usage or config error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // exitOverride is not inherited by commands built apart and added: set it on each.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return EXIT_OK;
      if (e.code === 'commander.executeSubCommandAsync') return e.exitCode;
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      // Our own multi-line messages (a config with several problems): one log line each, since
      // the logger escapes line breaks (a guest name cannot forge a line).
      for (const line of e.message.split('\n')) log.error(line);
      await log.flush();
      return e.exitCode;
    }
    log.error(`error: ${(e as Error).message}`);
    if (process.env.PROXBALANCE_DEBUG) log.error((e as Error).stack ?? '');
    await log.flush();
    return EXIT_FAILURE;
  }
}
