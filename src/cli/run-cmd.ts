import { Command } from 'commander';
import { runTick, type TickResult } from '../executor/tick.js';
import type { Plan } from '../engine/types.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { guestRef } from '../util/guest.js';
import { cliNow } from './clock.js';
import { cell, paint } from './style.js';
import { plannerLine } from './planner-compare.js';
import { configureLogger, log, redact, registerSecret } from '../log/logger.js';
import { resolveTokenSecret } from '../config/load.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

interface RunOptions extends CommonOptions {
  dryRun?: boolean;
  scheduled?: boolean;
  json?: boolean;
}

/** A clock that starts at PROXBALANCE_NOW (a testing aid, see clock.ts) and then runs. */
function runningClock(): (() => Date) | undefined {
  if (!process.env.PROXBALANCE_NOW) return undefined;
  const base = cliNow().getTime();
  const started = Date.now();
  return () => new Date(base + (Date.now() - started));
}

/** Gates, planned moves with their reasons and score, and the guests not moved, grouped by reason. */
export function formatPlan(plan: Plan, snapshot: ClusterSnapshot | null, statusOf: (vmid: number) => string): string[] {
  const c = paint();
  const lines: string[] = [];
  lines.push('', c.bold('Gates'));
  // Text from the cluster (names, reasons, task errors) is shown with its control characters escaped.
  for (const g of plan.gates) lines.push(`  ${g.passed ? c.green('✓') : c.red('✗')} ${g.name.padEnd(17)} ${cell(g.message)}`);
  const s = plan.summary;
  lines.push('', c.bold(`Plan: ${plan.moves.length} move(s); imbalance ${s.imbalance_before} → ${s.imbalance_after}; ${s.gib_moved} GiB to move`));
  lines.push(`  ${plannerLine(plan)}`);
  plan.moves.forEach((m, i) => {
    lines.push(`  ${i + 1}. ${guestRef(m.vmid, m.type)} ${cell(m.name)}  ${cell(m.source)} → ${cell(m.target)}  ${m.kind}, confidence ${m.confidence}  ${statusOf(m.vmid)}`);
    lines.push(`     ${cell(m.reason)}`);
    const b = m.score;
    lines.push(c.gray(`     score: imbalance ${b.imbalance_before} → ${b.imbalance_after}, gain ${b.gain}, headroom ${b.headroom}, risk ${b.risk}, ${b.gib_moved} GiB; target after: mem ${b.target_mem_percent_after} %, cpu ${b.target_cpu_percent_after} %`));
  });
  if (plan.notes.length) {
    lines.push('', c.bold('Notes'));
    for (const n of plan.notes) lines.push(`  ${cell(n)}`);
  }
  if (plan.skipped.length) {
    const byReason = new Map<string, string[]>();
    const types = new Map((snapshot?.guests ?? []).map((g) => [g.vmid, g.type] as const));
    for (const sk of plan.skipped) {
      const list = byReason.get(sk.reason) ?? [];
      list.push(`${guestRef(sk.vmid, types.get(sk.vmid) ?? 'qemu')}${sk.target ? ` → ${cell(sk.target)}` : ''}${sk.detail ? ` (${cell(sk.detail)})` : ''}`);
      byReason.set(sk.reason, list);
    }
    lines.push('', c.bold(`Not moved: ${plan.skipped.length} guest(s)`));
    for (const [reason, guests] of byReason) {
      const shown = guests.length > 8 ? `${guests.slice(0, 8).join(', ')}, … (${guests.length - 8} more)` : guests.join(', ');
      lines.push(`  ${cell(reason)}: ${shown}`);
    }
  }
  return lines;
}

export function formatTick(r: TickResult, dryRun: boolean): string {
  const c = paint();
  const run = r.run;
  if (!run) return '';
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
  if (r.apiRequests) lines.push('', c.gray(`${r.apiRequests} API request(s)`));
  return lines.join('\n');
}

export function runCommand(): Command {
  return withCommon(new Command('run'))
    .description('one tick: check the gates, plan, then migrate (or only simulate), and record it all in the history')
    .option('--dry-run', 'plan and record, migrate nothing (also when automation is disabled)')
    .option('--scheduled', 'started by the timer: skip quietly until check_interval_minutes have passed since the last scheduled run')
    .option('--json', 'print the run record, plan and results as JSON')
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
      dryRunFlag: Boolean(opts.dryRun), scheduled: Boolean(opts.scheduled), stopping: () => stop,
      ...(now ? { now } : {}), ...(pollMs ? { pollMs, progressMs: pollMs * 5 } : {}),
    });
    const dry = Boolean(opts.dryRun) || loaded.config.automated_migrations.dry_run;
    if (opts.json) {
      out(JSON.stringify({ run: result.run, plan: result.plan, results: result.results.map((x) => ({ vmid: x.move.vmid, status: x.status, upid: x.upid, detail: x.detail })), api_requests: result.apiRequests }, null, 2));
    } else if (result.run && !opts.scheduled) out(formatTick(result, dry)); // the timer's runs speak through their log lines (the journal)
    process.exitCode = stop ? 1 : result.exitCode;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

