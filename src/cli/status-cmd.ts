import { Command } from 'commander';
import { migrationTime } from '../history/views.js';
import { guestLabel, guestRef } from '../util/guest.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand, STATUS_SCOPE, type ReadContext } from './read-history.js';
import { inProgress, type InProgress } from '../executor/in-progress.js';
import { formatBytes, formatElapsed } from '../executor/follow.js';
import { resolveTokenSecret } from '../config/load.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { log, registerSecret } from '../log/logger.js';
import type { WindowState } from '../status/windows.js';
import { statusReport, type StatusReport } from '../status/report.js';
import { cell, formatTime, paint, relative, statusText } from './style.js';
import { schedulerState, TIMER_UNIT } from '../doctor/scheduler.js';
import { lockHolder } from '../history/lock.js';

/**
 * `proxbalance status`: what config and history say now (src/status/report.ts), and, live from the
 * cluster, every migration running (ours or anyone's) with its progress.
 */
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
  const sch = s.scheduler;
  const timerOff = Boolean(sch?.systemd && sch.timer && !(sch.timer.enabled && sch.timer.active));
  rows.push(['Automation', [`${a.enabled ? c.green('enabled') : c.yellow('disabled')}, ${a.mode === 'live' ? 'live' : c.cyan('dry run (nothing is executed)')}${timerOff ? c.yellow(`, but the timer is not running: no tick starts by itself (systemctl enable --now ${TIMER_UNIT})`) : ''}`]]);
  if (sch) rows.push(['Scheduler', [sch.systemd ? sch.summary : c.gray(sch.summary)]]);
  if (s.tick_running) {
    const since = s.tick_running.since ? formatTime(s.tick_running.since, zone) : 'unknown time';
    rows.push(['Tick', [c.cyan(`tick running since ${since}, pid ${s.tick_running.pid ?? 'unknown'}`)]]);
  }
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
      timerOff
        ? c.yellow('none: the timer is not running')
        : n.due_at === null
        ? `at the next timer firing (${n.basis})`
        : n.in_seconds! > 0
          ? `in ${relative(Date.parse(n.due_at), nowMs).slice(3)} (${formatTime(n.due_at, zone)}: last scheduled tick + check_interval_minutes ${n.check_interval_minutes})`
          : `due now: the timer's next firing (within a minute) runs it (every ${n.check_interval_minutes} min)`,
    ],
  ]);
  if (s.in_progress === null) rows.push(['Migrating', [c.gray(`not known: ${s.cluster_note ?? 'the cluster was not asked'}`)]]);
  else if (!s.in_progress.length) rows.push(['Migrating', ['no migration running in the cluster']]);
  else {
    const names = new Map(s.unfinished.map((m) => [m.vmid, m.name] as const));
    rows.push(['Migrating', s.in_progress.map((m) => {
      const moved = m.transferred_bytes !== null ? `, ${formatBytes(m.transferred_bytes)}${m.total_bytes !== null ? ` of ${formatBytes(m.total_bytes)}` : ''}${m.rate_bytes_s !== null ? `, ${formatBytes(m.rate_bytes_s)}/s` : ''}` : '';
      return `${cell(guestLabel(m.vmid, m.type, names.get(m.vmid)))} ${cell(m.source)} → ${cell(m.target ?? '?')}, elapsed ${formatElapsed(m.elapsed_s)}${moved}${m.ha ? ' (HA)' : ''}`;
    })]);
  }
  if (s.in_flight.length) {
    rows.push(['In flight', s.in_flight.map((m) => `${cell(guestLabel(m.vmid, m.guest_type, m.name))} ${cell(m.source)} → ${cell(m.target)}, started ${formatTime(migrationTime(m), zone)} by the running tick`)]);
  }
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

/**
 * What systemd and the run lock say: the timer and the service's last tick, and a tick running
 * now. The running tick's own migrations (started at or after it took the lock) are in flight,
 * not unfinished: they have an owner that records their outcome.
 */
export async function addScheduler(s: StatusReport, historyPath: string): Promise<void> {
  s.scheduler = schedulerState();
  s.tick_running = await lockHolder(historyPath);
  if (s.tick_running) {
    const since = s.tick_running.since ? Date.parse(s.tick_running.since) : -Infinity;
    s.in_flight = s.unfinished.filter((m) => Date.parse(migrationTime(m)) >= since);
    s.unfinished = s.unfinished.filter((m) => Date.parse(migrationTime(m)) < since);
  }
}

/** Asks the cluster what is migrating now; the reason instead when it cannot. */
async function live(loaded: ReadContext['loaded'], now: Date): Promise<{ in_progress: InProgress[] | null; cluster_note?: string; failed: boolean }> {
  let secret: string;
  try {
    secret = resolveTokenSecret(loaded.config, loaded.path);
  } catch {
    return { in_progress: null, cluster_note: 'no API token secret configured', failed: false };
  }
  registerSecret(secret);
  const client = new PveClient({ ...clientOptionsFromConfig(loaded.config, secret, log), retries: 1 });
  try {
    return { in_progress: await inProgress(client, now), failed: false };
  } catch (e) {
    log.error(`status: the cluster did not answer: ${(e as Error).message}`);
    return { in_progress: null, cluster_note: `the cluster did not answer (${(e as Error).message})`, failed: true };
  } finally {
    await client.close();
  }
}

export function statusCommand(): Command {
  return withCommon(new Command('status'))
    .description('automation on or off, dry run or live, halted, windows, last tick, next check, and the migrations running now')
    .option('--json', 'print JSON')
    .option('--offline', 'do not ask the cluster what is migrating now')
    .option('--watch [seconds]', 'refresh until interrupted (default every 2 s)')
    .action(async (opts: CommonOptions & { json?: boolean; offline?: boolean; watch?: string | boolean }) => {
      const every = opts.watch === undefined ? 0 : Math.max(1, Number(opts.watch === true ? 2 : opts.watch) || 2) * 1000;
      let stop = false;
      const onSig = () => { stop = true; };
      process.once('SIGINT', onSig);
      process.once('SIGTERM', onSig);
      try {
        for (;;) {
          const ctx = await readForCommand(opts, STATUS_SCOPE);
          const s = statusReport(ctx.records, ctx.loaded.config, ctx.now, { config: ctx.loaded.path, history: ctx.loaded.config.history_file });
          await addScheduler(s, ctx.loaded.config.history_file);
          let failed = false;
          if (opts.offline) s.cluster_note = 'not asked (--offline)';
          else {
            const l = await live(ctx.loaded, ctx.now);
            s.in_progress = l.in_progress;
            if (l.cluster_note) s.cluster_note = l.cluster_note;
            failed = l.failed;
          }
          const text = opts.json ? JSON.stringify(s, null, 2) : renderStatus(s, ctx.zone);
          if (every && process.stdout.isTTY && !opts.json) process.stdout.write('\x1b[2J\x1b[H');
          out(text);
          process.exitCode = failed ? 1 : 0;
          if (!every || stop) break;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, every);
            const check = setInterval(() => { if (stop) { clearTimeout(t); clearInterval(check); resolve(); } }, 100);
            setTimeout(() => clearInterval(check), every + 50);
          });
          if (stop) break;
        }
      } finally {
        process.off('SIGINT', onSig);
        process.off('SIGTERM', onSig);
      }
    });
}
