import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { guestPattern } from '../util/guest.js';
import { log } from '../log/logger.js';
import { positiveInt, vmidArg } from './args.js';
import { setupLogging, withCommon, type CommonOptions } from './common.js';

export const SERVICE_UNIT = 'proxmox-balance-automigrate.service';
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const DEFAULT_LINES = 500;

/** A failure of `logs` that is the machine's, not the user's: message on stderr, exit 1. */
class LogsError extends Error {}

/** journald's socket folder: where it runs, the service's stderr becomes journal entries. */
const JOURNALD_SOCKET = '/run/systemd/journal';

function journaldRunning(): boolean {
  return existsSync(JOURNALD_SOCKET);
}

function unitInstalled(): boolean {
  return UNIT_DIRS.some((d) => existsSync(join(d, SERVICE_UNIT)));
}

/**
 * `proxbalance logs`: the service's journal through journalctl (the one place where a subprocess
 * is the right tool: the journal's format is journald's business). `--vmid` keeps the lines naming
 * the guest (`VM 120` / `CT 120`), like the guide's `journalctl … | grep "VM 120"`: -n counts the
 * journal lines read before filtering.
 */
function runJournalctl(args: string[], filter: RegExp | null, json: boolean): Promise<{ code: number; printed: number }> {
  return new Promise((resolve, reject) => {
    let printed = 0;
    const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (filter && !filter.test(json ? messageOf(line) : line)) return;
      printed++;
      process.stdout.write(`${line}\n`);
    });
    // `proxbalance logs | head`: a closed pipe ends the child quietly.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') child.kill('SIGTERM');
    });
    // Ctrl-C reaches journalctl (same process group): wait for it to end instead of dying first.
    const onSignal = () => child.kill('SIGTERM');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    child.on('error', (e: NodeJS.ErrnoException) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (e.code === 'ENOENT') {
        reject(new LogsError(`journalctl not found: this machine has no systemd journal to read. The service logs to stderr; under systemd that is the journal of ${SERVICE_UNIT}.`));
      } else reject(new LogsError(`cannot run journalctl: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      lines.close();
      if (code !== 0 && !signal) {
        reject(new LogsError(`journalctl failed (exit ${code})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`));
        return;
      }
      resolve({ code: code ?? 0, printed });
    });
  });
}

/** The MESSAGE of a `journalctl -o json` line (a string, or bytes when not valid UTF-8). */
function messageOf(line: string): string {
  try {
    const m = (JSON.parse(line) as { MESSAGE?: unknown }).MESSAGE;
    if (typeof m === 'string') return m;
    if (Array.isArray(m)) return Buffer.from(m as number[]).toString('utf8');
  } catch {
    /* not JSON: match the whole line */
  }
  return line;
}

export function logsCommand(): Command {
  return withCommon(new Command('logs'))
    .description(`the service's log: journalctl -u ${SERVICE_UNIT} (last 500 lines unless told)`)
    .option('-n, --lines <N>', `journal lines to read (default ${DEFAULT_LINES})`)
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--vmid <id>', 'only lines about this guest (VM 120 / CT 120)')
    .option('--json', "journald's JSON, one entry a line (journalctl -o json): time, priority, message")
    .action(async (opts: CommonOptions & { lines?: string; follow?: boolean; vmid?: string; json?: boolean }) => {
      setupLogging(opts);
      const n = opts.lines !== undefined ? positiveInt('--lines', opts.lines) : DEFAULT_LINES;
      const filter = opts.vmid !== undefined ? guestPattern(vmidArg(opts.vmid)) : null;
      const installed = unitInstalled();
      const args = ['-u', SERVICE_UNIT, '-n', String(n), '-o', opts.json ? 'json' : 'cat', '--no-pager', '-q', ...(opts.follow ? ['-f'] : [])];
      try {
        if (opts.follow && !installed) {
          throw new LogsError(`${SERVICE_UNIT} is not installed on this machine (no unit file in ${UNIT_DIRS.join(', ')}): nothing to follow. See deploy/ for the install steps.`);
        }
        const { printed } = await runJournalctl(args, filter, Boolean(opts.json));
        if (printed === 0 && !opts.follow && !journaldRunning()) {
          throw new LogsError(`no journald on this machine (${JOURNALD_SOCKET} does not exist): nothing records the service's log here, so there are no entries to show. Under systemd the service logs to the journal of ${SERVICE_UNIT}.`);
        }
        if (printed === 0 && !opts.follow) {
          if (!installed) {
            throw new LogsError(`${SERVICE_UNIT} is not installed on this machine (no unit file in ${UNIT_DIRS.join(', ')}) and its journal is empty. See deploy/ for the install steps.`);
          }
          log.warn(filter ? `no line about guest ${opts.vmid} in the last ${n} journal lines of ${SERVICE_UNIT}` : `no entries yet in the journal of ${SERVICE_UNIT}: has the timer run yet? (\`proxbalance status\` shows the timer)`);
        }
      } catch (e) {
        if (!(e instanceof LogsError)) throw e;
        log.error(`logs: ${e.message}`);
        process.exitCode = 1;
      }
    });
}
