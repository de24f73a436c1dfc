import type { Command } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from '../util/errors.js';
import { packageVersion } from '../util/resources.js';

/**
 * The commands, in the order `--help` lists them. Each is imported only when it is used: a command
 * loads its own modules and libraries and no other command's (start-up is most of a short run's CPU).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Command>]> = [
  ['run', async () => (await import('./run-cmd.js')).runCommand()],
  ['resume', async () => (await import('./resume-cmd.js')).resumeCommand()],
  ['config', async () => (await import('./config-cmd.js')).configCommand()],
  ['doctor', async () => (await import('./doctor-cmd.js')).doctorCommand()],
  ['snapshot', async () => (await import('./snapshot-cmd.js')).snapshotCommand()],
  ['plan', async () => (await import('./plan-cmd.js')).planCommand()],
  ['status', async () => (await import('./status-cmd.js')).statusCommand()],
  ['history', async () => (await import('./history-cmd.js')).historyCommand()],
  ['stats', async () => (await import('./stats-cmd.js')).statsCommand()],
  ['activity', async () => (await import('./activity-cmd.js')).activityCommand()],
  ['explain', async () => (await import('./explain-cmd.js')).explainCommand()],
  ['logs', async () => (await import('./logs-cmd.js')).logsCommand()],
  ['notify', async () => (await import('./notify-cmd.js')).notifyCommand()],
  ['metrics', async () => (await import('./metrics-cmd.js')).metricsCommand()],
  ['report', async () => (await import('./report-cmd.js')).reportCommand()],
];

/**
 * The commands an argument list needs: the one it names; none for `--version` alone; all of them
 * otherwise (help, a mistyped command: commander lists or suggests them).
 */
function commandsFor(argv: readonly string[]): Array<() => Promise<Command>> {
  const args = argv.slice(2);
  const named = args.find((a) => !a.startsWith('-'));
  const one = COMMANDS.find(([name]) => name === named);
  if (one) return [one[1]];
  if (versionOnly(argv)) return [];
  return COMMANDS.map(([, load]) => load);
}

/** `proxbalance --version` (or -V), nothing else. */
const versionOnly = (argv: readonly string[]) => argv.length > 2 && argv.slice(2).every((a) => a === '-V' || a === '--version');

/** The program with the commands `argv` needs (all of them without `argv`). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('proxbalance')
    .description('Keeps a Proxmox VE cluster balanced by live-migrating VMs and containers, automatically and safely.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  const loads = argv ? commandsFor(argv) : COMMANDS.map(([, load]) => load);
  for (const c of await Promise.all(loads.map((load) => load()))) program.addCommand(c);
  return program;
}

/** What failed, and for the failures a person can fix, what to check. */
export async function withHint(e: Error): Promise<string> {
  const { PveNetworkError, PveTlsError } = await import('../pve/errors.js');
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
  // The version alone is answered before commander loads: that would be a third of its CPU.
  if (versionOnly(argv)) {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const { CommanderError } = await import('commander');
  const program = await buildProgram(argv);
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
    const { log } = await import('../log/logger.js');
    if (e instanceof UsageError) {
      // Our own multi-line messages (a config with several problems): one log line each, since
      // the logger escapes line breaks (a guest name cannot forge a line).
      for (const line of e.message.split('\n')) log.error(line);
      await log.flush();
      return e.exitCode;
    }
    // The logger already says "error": the line is what failed, then what to check.
    log.error(await withHint(e as Error));
    if (process.env.PROXBALANCE_DEBUG) log.error((e as Error).stack ?? '');
    await log.flush();
    return EXIT_FAILURE;
  }
}
