import { Command } from 'commander';
import type { HaltedRecord, HistoryRecord, RunRecord } from '../history/store.js';
import { activeHalt, lastRun, migrationTime, nextScheduledCheck, unfinishedMigrations, type MigrationState } from '../history/views.js';
import type { Config } from '../config/load.js';
import { guestLabel, guestRef } from '../util/guest.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { statusText } from './history-cmd.js';
import { readForCommand } from './read-history.js';
import { windowStatus, type WindowState, type WindowStatus } from './status-windows.js';
import { cell, formatTime, paint, relative } from './style.js';

/**
 * `proxbalance status`: what config and history say now. The live part (migrations running in
 * the cluster, with progress) needs the Proxmox client and is not shown yet.
 */
export interface StatusReport {
  now: string;
  config_file: string;
  history_file: string;
  automation: { enabled: boolean; mode: 'live' | 'dry-run' };
  halted: HaltedRecord | null;
  windows: WindowStatus;
  last_tick: (Pick<RunRecord, 'run_id' | 'started_at' | 'finished_at' | 'trigger' | 'mode' | 'outcome' | 'reason'> & { moves: number; skips: number }) | null;
  next_check: { due_at: string | null; in_seconds: number | null; check_interval_minutes: number; basis: string };
  /** Migrations the history holds no outcome for yet (the next tick looks them up by UPID). */
  unfinished: MigrationState[];
}

export function statusReport(records: readonly HistoryRecord[], config: Config, now: Date, paths: { config: string; history: string }): StatusReport {
  const am = config.automated_migrations;
  const last = lastRun(records, (r) => Date.parse(r.started_at) <= now.getTime());
  const interval = am.check_interval_minutes;
  const scheduled = nextScheduledCheck(records, interval, now);
  let next: StatusReport['next_check'];
  if (scheduled) {
    const due = scheduled.dueMs;
    next = {
      due_at: new Date(due).toISOString(),
      in_seconds: Math.max(0, Math.round((due - now.getTime()) / 1000)),
      check_interval_minutes: interval,
      basis: `last scheduled tick ${scheduled.last.started_at} + check_interval_minutes ${interval}`,
    };
  } else {
    next = { due_at: null, in_seconds: null, check_interval_minutes: interval, basis: 'no scheduled tick recorded yet: the next timer firing runs one' };
  }
  return {
    now: now.toISOString(),
    config_file: paths.config,
    history_file: paths.history,
    automation: { enabled: am.enabled, mode: am.dry_run ? 'dry-run' : 'live' },
    halted: activeHalt(records),
    windows: windowStatus(config, now),
    last_tick: last && {
      run_id: last.run_id, started_at: last.started_at, finished_at: last.finished_at, trigger: last.trigger, mode: last.mode, outcome: last.outcome,
      ...(last.reason !== undefined && { reason: last.reason }),
      moves: last.decisions.filter((d) => d.action === 'move').length,
      skips: last.decisions.filter((d) => d.action === 'skip').length,
    },
    next_check: next,
    unfinished: unfinishedMigrations(records).filter((m) => Date.parse(migrationTime(m)) <= now.getTime()),
  };
}

function windowLine(kind: string, w: WindowState, nowMs: number): string {
  const c = paint();
  const name = `${kind} "${cell(w.name)}"`;
  if (w.open) {
    const until = w.closes_at ? ` until ${formatTime(w.closes_at, w.zone)} (${relative(Date.parse(w.closes_at), nowMs)})` : '';
    return `${name} ${kind === 'blackout' ? c.red('open') : c.green('open')}${until}`;
  }
  const opens = w.next_opens_at ? `, opens ${formatTime(w.next_opens_at, w.zone)} (${relative(Date.parse(w.next_opens_at), nowMs)})` : ', never opens (no day)';
  return `${name} closed${opens}`;
}

export function renderStatus(s: StatusReport, zone: string): string {
  const c = paint();
  const nowMs = Date.parse(s.now);
  const rows: [string, string[]][] = [];
  const a = s.automation;
  rows.push(['Automation', [`${a.enabled ? c.green('enabled') : c.yellow('disabled')}, ${a.mode === 'live' ? 'live' : c.cyan('dry run (nothing is executed)')}`]]);
  rows.push([
    'Halted',
    [
      s.halted
        ? `${c.red('yes')}, since ${formatTime(s.halted.at, zone)}: automation halted after failed migration of ${guestRef(s.halted.vmid, s.halted.guest_type)}: ${cell(s.halted.error)}; run \`proxbalance resume\``
        : 'no',
    ],
  ]);
  const w = s.windows;
  const wl = [...w.migration_windows.map((x) => windowLine('migration window', x, nowMs)), ...w.blackout_windows.map((x) => windowLine('blackout', x, nowMs))];
  if (!w.migration_windows.length) wl.unshift('no migration window: migrations at any time');
  wl.push(`migrations now: ${w.allowed_now ? c.green('allowed') : c.yellow('not allowed')} (${cell(w.reason)})`);
  rows.push(['Windows', wl]);
  const t = s.last_tick;
  rows.push([
    'Last tick',
    [
      t
        ? `${formatTime(t.started_at, zone)} (${relative(Date.parse(t.started_at), nowMs)}), ${t.trigger}, ${t.mode}: ${statusText(t.outcome)}${t.reason ? ` (${cell(t.reason)})` : ''}, ${t.moves} move${t.moves === 1 ? '' : 's'}`
        : 'none recorded yet',
    ],
  ]);
  const n = s.next_check;
  rows.push([
    'Next check',
    [
      n.due_at === null
        ? `at the next timer firing (${n.basis})`
        : n.in_seconds! > 0
          ? `in ${relative(Date.parse(n.due_at), nowMs).slice(3)} (${formatTime(n.due_at, zone)}: last scheduled tick + check_interval_minutes ${n.check_interval_minutes})`
          : `due now: the timer's next firing (within a minute) runs it (every ${n.check_interval_minutes} min)`,
    ],
  ]);
  if (s.unfinished.length) {
    rows.push([
      'Unfinished',
      s.unfinished.map(
        (m) => `${cell(guestLabel(m.vmid, m.guest_type, m.name))} ${cell(m.source)} → ${cell(m.target)}, started ${formatTime(migrationTime(m), zone)}, ${m.status}: outcome not recorded yet (the next tick looks it up)`,
      ),
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, vs]) => vs.map((v, i) => (i === 0 ? c.bold(k.padEnd(width)) : ' '.repeat(width)) + v).join('\n')).join('\n');
}

export function statusCommand(): Command {
  return withCommon(new Command('status'))
    .description('automation on or off, dry run or live, halted, windows, last tick and next check')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const ctx = await readForCommand(opts);
      const s = statusReport(ctx.records, ctx.loaded.config, ctx.now, { config: ctx.loaded.path, history: ctx.loaded.config.history_file });
      out(opts.json ? JSON.stringify(s, null, 2) : renderStatus(s, ctx.zone));
    });
}
