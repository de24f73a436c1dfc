import { Command } from 'commander';
import { DateTime } from 'luxon';
import { computeStats, type DayStats, type HistoryStats, type PeriodStats } from '../history/stats.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand, STATS_SCOPE } from './read-history.js';
import { formatDuration, paint, percent, table } from './style.js';

const BAR_WIDTH = 40;
export const CHART_GLYPHS = { completed: '█', failed: '▒', dry_run: '░' } as const;

/**
 * Splits `width` cells between the segments in proportion, every non-zero segment getting at
 * least one cell. With at most `width` in the largest row, one cell is one migration.
 */
export function barCells(counts: readonly number[], max: number, width = BAR_WIDTH): number[] {
  if (max <= width) return [...counts];
  const total = counts.reduce((a, b) => a + b, 0);
  const cells = Math.max(1, Math.round((total / max) * width));
  const raw = counts.map((n) => (n / total) * cells);
  const out = raw.map((x, i) => (counts[i]! > 0 ? Math.max(1, Math.floor(x)) : 0));
  // Hand out what rounding down left, largest remainders first.
  let left = cells - out.reduce((a, b) => a + b, 0);
  const order = raw.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (const { i } of order) {
    if (left <= 0) break;
    if (counts[i]! > 0) {
      out[i]!++;
      left--;
    }
  }
  return out;
}

export function chart(days: readonly DayStats[], zone: string): string {
  const c = paint();
  const seg = (d: DayStats) => [d.completed, d.failed + d.timeout, d.dry_run];
  const max = Math.max(0, ...days.map((d) => seg(d).reduce((a, b) => a + b, 0)));
  const lines = days.map((d) => {
    const [ok, bad, dry] = barCells(seg(d), max);
    const label = DateTime.fromISO(d.date, { zone }).toFormat('ccc MM-dd');
    const bar = c.green(CHART_GLYPHS.completed.repeat(ok!)) + c.red(CHART_GLYPHS.failed.repeat(bad!)) + c.blue(CHART_GLYPHS.dry_run.repeat(dry!));
    const figures = [`${d.completed} completed`, `${d.failed + d.timeout} failed`, `${d.dry_run} dry run`];
    if (d.pending) figures.push(`${d.pending} pending`);
    const total = d.completed + d.failed + d.timeout + d.dry_run;
    return `${label} │${bar}${' '.repeat(Math.max(0, Math.min(max, BAR_WIDTH) - (ok! + bad! + dry!)))} ${total ? figures.join(', ') : c.dim('nothing')}`;
  });
  const legend =
    `${c.green(CHART_GLYPHS.completed)} completed  ${c.red(CHART_GLYPHS.failed)} failed or timed out  ${c.blue(CHART_GLYPHS.dry_run)} dry run` +
    (max > BAR_WIDTH ? `  (scaled: ${BAR_WIDTH} cells = ${max})` : '  (one cell = one migration)') +
    `; days in ${zone}`;
  return [...lines, legend].join('\n');
}

function periodRows(p: PeriodStats): string[] {
  return [
    String(p.attempted),
    String(p.completed),
    String(p.failed),
    String(p.timeout),
    String(p.pending),
    percent(p.success_rate),
    String(p.dry_run),
    p.median_duration_s === null ? '-' : formatDuration(p.median_duration_s),
  ];
}

export function renderStats(s: HistoryStats): string {
  const labels = ['live migrations attempted', 'completed', 'failed', 'timed out', 'outcome pending', 'success rate', 'dry-run moves (apart)', 'median duration'];
  const a = periodRows(s.last_24h);
  const b = periodRows(s.last_7d);
  const rows = labels.map((l, i) => [l, a[i]!, b[i]!]);
  return [table(rows, ['', 'LAST 24 H', 'LAST 7 D']), '', paint().bold('Last 7 days'), chart(s.days, s.zone)].join('\n');
}

export function statsCommand(): Command {
  return withCommon(new Command('stats'))
    .description('migration figures for the last 24 hours and 7 days, with a 7-day chart')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const ctx = await readForCommand(opts, STATS_SCOPE);
      const s = computeStats(ctx.records, ctx.now, { zone: ctx.zone });
      out(opts.json ? JSON.stringify(s, null, 2) : renderStats(s));
    });
}
