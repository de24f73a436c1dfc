import { Command, CommanderError } from 'commander';
import { log } from '../log/logger.js';
import { PveNetworkError, PveTlsError } from '../pve/errors.js';
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
import { explainCommand } from './explain-cmd.js';
import { notifyCommand } from './notify-cmd.js';
import { metricsCommand } from './metrics-cmd.js';
import { reportCommand } from './report-cmd.js';

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
  program.addCommand(explainCommand());
  program.addCommand(logsCommand());
  program.addCommand(notifyCommand());
  program.addCommand(metricsCommand());
  program.addCommand(reportCommand());
  return program;
}

/** What failed, and for the failures a person can fix, what to check. */
export function withHint(e: Error): string {
  if (e instanceof PveTlsError) return `${e.message}; run \`proxbalance doctor\` to see the certificate presented and how to trust it (proxmox_ca_file or proxmox_fingerprint)`;
  if (e instanceof PveNetworkError) {
    const hint = ['ENOTFOUND', 'EAI_AGAIN'].includes(e.code)
      ? 'check proxmox_host (the name does not resolve) and the DNS'
      : 'check proxmox_host, proxmox_port (8006 unless changed) and any firewall between here and the node; `proxbalance doctor` tests each host';
    return `${e.message}: ${hint}`;
  }
  return e.message;
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
    // The logger already says "error": the line is what failed, then what to check.
    log.error(withHint(e as Error));
    if (process.env.PROXBALANCE_DEBUG) log.error((e as Error).stack ?? '');
    await log.flush();
    return EXIT_FAILURE;
  }
}
