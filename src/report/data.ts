import type { Config } from '../config/load.js';
import type { NodeLoadRecord } from '../generated/history.js';
import type { HistoryRecord, RunRecord } from '../history/store.js';
import { dailyStats, periodStats, type DayStats, type HistoryStats } from '../history/stats.js';
import { foldMigrations, lastRun, selectMigrations, selectRuns, type MigrationState } from '../history/views.js';
import { statusReport, type StatusReport } from '../status/report.js';

/**
 * What the HTML report shows, computed from the history, the config and `now` only (pure: no
 * clock, no I/O). Every figure comes from the same history views and statistics as `status`,
 * `stats`, `history` and `activity`, so the page and the terminal never disagree.
 */
export interface ReportData {
  generated_at: string;
  /** The config's display zone: the times written into the page before its script shows them in the browser's zone. */
  zone: string;
  since: string;
  config_file: string;
  history_file: string;
  status: Pick<StatusReport, 'automation' | 'halted' | 'windows' | 'last_tick' | 'next_check' | 'unfinished'>;
  stats: Pick<HistoryStats, 'last_24h' | 'last_7d'>;
  /** Migrations per calendar day (config zone) over the --since span, oldest first. */
  days: DayStats[];
  node_load: NodeLoadView | null;
  imbalance: ImbalancePoint[];
  /** Ticks with an imbalance figure in the span (before bucketing). */
  imbalance_ticks: number;
  /** The newest migrations in the span, newest first. */
  migrations: MigrationState[];
  ticks: TickView[];
}

export interface NodeLoadView {
  run_id: string;
  at: string;
  rows: NodeLoadRecord[];
  /** Hot thresholds (recommendation_thresholds) and the target caps (safety_checks), percent. */
  cpu_threshold: number;
  mem_threshold: number;
  cpu_cap: number;
  mem_cap: number;
}

export interface ImbalancePoint {
  /** ISO time: the tick's start, or the middle of a bucket of ticks. */
  at: string;
  before: number;
  after: number | null;
  /** Ticks averaged into this point. */
  ticks: number;
}

/** A tick for the activity table; `same_as` names the shown tick whose decisions it repeated (not listed twice). */
export type TickView = RunRecord & { same_as?: string };

export const LAST_MIGRATIONS = 10;
export const LAST_TICKS = 10;
/** The imbalance chart and its table hold at most this many points: ticks are averaged into buckets beyond it. */
export const MAX_IMBALANCE_POINTS = 240;
/** The daily chart holds at most this many days (a longer --since still bounds the other sections). */
export const MAX_DAYS = 92;
const DAY = 86_400_000;

export interface ReportInput {
  records: readonly HistoryRecord[];
  config: Config;
  now: Date;
  sinceMs: number;
  zone: string;
  paths: { config: string; history: string };
}

export function buildReportData(input: ReportInput): ReportData {
  const { records, config, now, sinceMs, zone, paths } = input;
  const nowMs = now.getTime();
  const s = statusReport(records, config, now, paths);
  const span = { sinceMs, untilMs: nowMs };
  // Folded once for the figures (computeStats would fold again): the same functions `stats` uses.
  const folded = foldMigrations(records);
  const days = Math.min(MAX_DAYS, Math.max(1, Math.ceil((nowMs - sinceMs) / DAY)));
  const runs = selectRuns(records, span);
  return {
    generated_at: now.toISOString(),
    zone,
    since: new Date(sinceMs).toISOString(),
    config_file: paths.config,
    history_file: paths.history,
    status: { automation: s.automation, halted: s.halted, windows: s.windows, last_tick: s.last_tick, next_check: s.next_check, unfinished: s.unfinished },
    stats: { last_24h: periodStats(folded, nowMs - DAY, nowMs), last_7d: periodStats(folded, nowMs - 7 * DAY, nowMs) },
    days: dailyStats(folded, now, days, zone),
    node_load: nodeLoadView(records, config, nowMs),
    ...imbalanceSeries(runs),
    migrations: selectMigrations(records, span).slice(0, LAST_MIGRATIONS),
    ticks: tickViews(runs.slice(0, LAST_TICKS)),
  };
}

/** The node loads the last tick that read the cluster recorded, with the config's lines to draw. */
function nodeLoadView(records: readonly HistoryRecord[], config: Config, nowMs: number): NodeLoadView | null {
  const run = lastRun(records, (r) => Boolean(r.node_load?.length) && Date.parse(r.started_at) <= nowMs);
  if (!run) return null;
  const t = config.recommendation_thresholds;
  const safety = config.automated_migrations.safety_checks;
  return {
    run_id: run.run_id, at: run.started_at, rows: run.node_load!,
    cpu_threshold: t.cpu_threshold, mem_threshold: t.mem_threshold, cpu_cap: safety.max_node_cpu_percent, mem_cap: safety.max_node_memory_percent,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Imbalance before and after each tick's plan, oldest first. More ticks than MAX_IMBALANCE_POINTS
 * are averaged into equal time buckets, so the page stays small whatever the history holds.
 */
export function imbalanceSeries(newestFirst: readonly RunRecord[]): { imbalance: ImbalancePoint[]; imbalance_ticks: number } {
  const pts: { t: number; before: number; after: number | null }[] = [];
  for (let i = newestFirst.length - 1; i >= 0; i--) {
    const r = newestFirst[i]!;
    const before = num(r.summary?.imbalance_before);
    if (before !== null) pts.push({ t: Date.parse(r.started_at), before, after: num(r.summary?.imbalance_after) });
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  if (pts.length <= MAX_IMBALANCE_POINTS) {
    return { imbalance: pts.map((p) => ({ at: new Date(p.t).toISOString(), before: p.before, after: p.after, ticks: 1 })), imbalance_ticks: pts.length };
  }
  const t0 = pts[0]!.t;
  const width = (pts[pts.length - 1]!.t - t0) / MAX_IMBALANCE_POINTS || 1;
  const buckets = new Map<number, { n: number; before: number; after: number; na: number }>();
  for (const p of pts) {
    const k = Math.min(MAX_IMBALANCE_POINTS - 1, Math.floor((p.t - t0) / width));
    const b = buckets.get(k) ?? { n: 0, before: 0, after: 0, na: 0 };
    b.n++;
    b.before += p.before;
    if (p.after !== null) {
      b.after += p.after;
      b.na++;
    }
    buckets.set(k, b);
  }
  const imbalance = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([k, b]) => ({
    at: new Date(Math.round(t0 + (k + 0.5) * width)).toISOString(), before: round(b.before / b.n), after: b.na ? round(b.after / b.na) : null, ticks: b.n,
  }));
  return { imbalance, imbalance_ticks: pts.length };
}

/** A tick whose decisions repeat the next older shown one's (the steady state) names it instead of listing them again. */
function tickViews(newestFirst: readonly RunRecord[]): TickView[] {
  return newestFirst.map((r, i) => {
    const older = newestFirst[i + 1];
    if (older && r.decisions.length && (r.decisions === older.decisions || JSON.stringify(r.decisions) === JSON.stringify(older.decisions))) {
      return { ...r, same_as: older.run_id };
    }
    return r;
  });
}

/** Migrations per day are counted in `zone`; the stats' own rule (docs/monitoring.md) applies. */
export function totalOfDay(d: DayStats): number {
  return d.completed + d.failed + d.timeout + d.pending + d.dry_run;
}

export type { MigrationState };
