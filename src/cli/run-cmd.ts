import { Command } from 'commander';
import { runTick, type TickResult } from '../executor/tick.js';
import { cliNow } from './clock.js';
import { cell, formatPlan, paint } from './style.js';
import { formatComparison } from './planner-compare.js';
import { UsageError } from '../util/errors.js';
import { configureLogger, log, redact, registerSecret } from '../log/logger.js';
import { resolveTokenSecret } from '../config/load.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

interface RunOptions extends CommonOptions {
  dryRun?: boolean;
  scheduled?: boolean;
  json?: boolean;
  compare?: boolean;
}

/** A clock that starts at PROXBALANCE_NOW (a testing aid, see clock.ts) and then runs. */
function runningClock(): (() => Date) | undefined {
  if (!process.env.PROXBALANCE_NOW) return undefined;
  const base = cliNow().getTime();
  const started = Date.now();
  return () => new Date(base + (Date.now() - started));
}

export function formatTick(r: TickResult): string {
  const c = paint();
  const run = r.run;
  if (!run) return '';
  // The tick decided whether this was a dry run (--dry-run or the config): its run record says.
  const dryRun = run.mode === 'dry-run';
  const lines: string[] = [c.bold(`proxbalance run ${run.run_id}: ${run.mode}${run.trigger === 'scheduled' ? ', scheduled' : ''} → ${run.outcome}`)];
  if (run.reason) lines.push(`  ${cell(run.reason)}`);
  if (r.plan) {
    lines.push(...formatPlan(r.plan, r.snapshot, (vmid) => {
      if (dryRun) return c.cyan('Dry run');
      const res = r.results.find((x) => x.move.vmid === vmid);
      if (!res) return '';
      if (res.status === 'completed') return c.green(res.status);
      if (res.status === 'skipped') return c.yellow(`skipped: ${cell(res.detail)}`);
      return c.red(`${res.status}${res.detail ? `: ${cell(res.detail)}` : ''}`);
    }));
  }
  if (r.comparison) lines.push('', c.bold('  the same snapshot with both planners (--compare):'), ...formatComparison(r.comparison));
  if (r.apiRequests) lines.push('', c.gray(`${r.apiRequests} API request(s)`));
  return lines.join('\n');
}

export function runCommand(): Command {
  return withCommon(new Command('run'))
    .description('one tick: check the gates, plan, then migrate (or only simulate), and record it all in the history')
    .option('--dry-run', 'plan and record, migrate nothing (also when automation is disabled)')
    .option('--scheduled', 'started by the timer: skip quietly until check_interval_minutes have passed since the last scheduled run')
    .option('--json', 'print the run record, plan and results as JSON')
    .option('--compare', 'with --dry-run: also plan with the greedy and the exact (optimal) planner on the same snapshot and show them side by side')
    .action(async (opts: RunOptions) => {
      if (opts.json) {
        // --json prints exactly one JSON object, whatever happens (a config error, a tick that
        // failed, a run that did nothing): the error, if any, is in it too.
        try {
          await runAction(opts);
        } catch (e) {
          out(JSON.stringify({ run: null, plan: null, results: [], api_requests: 0, error: redact((e as Error).message) }, null, 2));
          throw e;
        }
        return;
      }
      await runAction(opts);
    });
}

async function runAction(opts: RunOptions): Promise<void> {
  if (opts.compare && !opts.dryRun) throw new UsageError('--compare needs --dry-run: a comparison is a simulation, and a live tick executes one plan');
  const loaded = loadFromOptions(opts);
  // A person at a terminal reads the table printed at the end: the info lines would say every
  // decision a second time. Warnings and errors still show; the timer and --json are unchanged.
  if (process.stdout.isTTY && !opts.scheduled && !opts.json && !opts.verbose) {
    configureLogger({ level: loaded.config.log_level === 'error' ? 'error' : 'warn', format: opts.logFormat ?? 'auto' });
  }
  try {
    registerSecret(resolveTokenSecret(loaded.config, loaded.path));
  } catch { /* runTick reports it */ }
  let stop = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop) return;
    stop = true;
    log.warn(`${sig} received: starting nothing new; migrations in flight are recorded as interrupted (Proxmox finishes them)`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const pollMs = Number(process.env.PROXBALANCE_POLL_MS) || undefined;
    const now = runningClock();
    const result = await runTick(loaded, {
      dryRunFlag: Boolean(opts.dryRun), scheduled: Boolean(opts.scheduled), stopping: () => stop, compare: Boolean(opts.compare),
      ...(now ? { now } : {}), ...(pollMs ? { pollMs, progressMs: pollMs * 5 } : {}),
    });
    if (opts.json) {
      out(JSON.stringify({ run: result.run, plan: result.plan, results: result.results.map((x) => ({ vmid: x.move.vmid, status: x.status, upid: x.upid, detail: x.detail })), ...(result.comparison ? { comparison: result.comparison } : {}), api_requests: result.apiRequests }, null, 2));
    } else if (result.run && !opts.scheduled) out(formatTick(result)); // the timer's runs speak through their log lines (the journal)
    process.exitCode = stop ? 1 : result.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

