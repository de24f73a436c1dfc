import { createHash } from 'node:crypto';
import type { PeriodStats } from '../history/stats.js';
import { migrationTime } from '../history/views.js';
import { guestLabel } from '../util/guest.js';
import { formatDuration, formatTime, percent } from '../cli/style.js';
import { CLIENT_JS } from './client.js';
import { LAST_MIGRATIONS, totalOfDay, type ReportData, type TickView } from './data.js';
import { PAGE_CSS } from './style.js';

/**
 * The report page: pure HTML from ReportData and the chart library's text. Everything that comes
 * from the cluster or the history goes through esc() (text and attributes) or json() (the chart
 * data block); the Content-Security-Policy lets only the page's own two scripts run (by hash) and
 * forbids every request, so even a missed escape could neither run code nor call out.
 */
export interface Assets {
  /** uPlot's minified IIFE build and its stylesheet. */
  js: string;
  css: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** JSON for a <script type="application/json"> block: nothing in it can close the element or start markup. */
export function json(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** A time in the config's zone (the no-script text) with UTC on hover; the script shows it in the browser's zone. */
function time(iso: string | null | undefined, zone: string): string {
  if (!iso) return '';
  const utc = formatTime(iso, 'UTC');
  return `<time datetime="${esc(iso)}" title="${esc(utc)}">${esc(formatTime(iso, zone))}</time>`;
}

function table(caption: string, head: string[], rows: string[][], opts: { id?: string; empty?: string; rowHeads?: boolean } = {}): string {
  const id = opts.id ? ` id="${opts.id}"` : '';
  const th = head.map((h) => `<th scope="col">${h}</th>`).join('');
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map((c, i) => (i === 0 && opts.rowHeads ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${head.length}">${esc(opts.empty ?? 'none')}</td></tr>`;
  return `<table${id}><caption>${caption}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const badge = (text: string, kind: string) => `<span class="badge ${kind}">${esc(text)}</span>`;
const STATUS_KIND: Record<string, string> = {
  completed: 'ok', success: 'ok', no_action: 'muted', failed: 'bad', error: 'bad', halted: 'bad', timeout: 'warn', interrupted: 'warn',
  unknown: 'warn', partial: 'warn', skipped: 'muted', disabled: 'muted', 'dry-run': 'dry', never_started: 'muted', intent: 'warn', started: 'warn',
};
const status = (s: string) => badge(s, STATUS_KIND[s] ?? 'muted');

function statusSection(d: ReportData): string {
  const s = d.status;
  const z = d.zone;
  const rows: [string, string][] = [];
  rows.push(['Automation', `${s.automation.enabled ? badge('enabled', 'ok') : badge('disabled', 'warn')} ${s.automation.mode === 'live' ? badge('live', 'ok') : badge('dry run: nothing is executed', 'dry')}`]);
  rows.push(['Halted', s.halted
    ? `${badge('halted', 'bad')} since ${time(s.halted.at, z)}, after the failed migration of ${esc(guestLabel(s.halted.vmid, s.halted.guest_type))}: ${esc(s.halted.error)}. Run <code>proxbalance resume</code> to lift it.`
    : 'no']);
  const w = s.windows;
  const win = [...w.migration_windows.map((x) => ['migration window', x] as const), ...w.blackout_windows.map((x) => ['blackout', x] as const)].map(([kind, x]) =>
    `<li>${esc(kind)} “${esc(x.name)}” ${x.open ? `${badge('open', kind === 'blackout' ? 'bad' : 'ok')}${x.closes_at ? ` until ${time(x.closes_at, z)}` : ''}` : `closed${x.next_opens_at ? `, opens ${time(x.next_opens_at, z)}` : ', never opens (no day)'}`}</li>`);
  if (!w.migration_windows.length) win.unshift('<li>no migration window: migrations at any time</li>');
  win.push(`<li>migrations now: ${w.allowed_now ? badge('allowed', 'ok') : badge('not allowed', 'warn')} (${esc(w.reason)})</li>`);
  rows.push(['Windows', `<ul>${win.join('')}</ul>`]);
  const t = s.last_tick;
  rows.push(['Last tick', t
    ? `${time(t.started_at, z)}, ${esc(t.trigger)}, ${esc(t.mode)}: ${status(t.outcome)}${t.reason ? ` (${esc(t.reason)})` : ''}, ${t.moves} move${t.moves === 1 ? '' : 's'}, ${t.skips} skip${t.skips === 1 ? '' : 's'}`
    : 'none recorded yet']);
  const n = s.next_check;
  rows.push(['Next check', n.due_at
    ? `${time(n.due_at, z)} <span data-relative="${esc(n.due_at)}"></span> (last scheduled tick + check_interval_minutes ${n.check_interval_minutes})`
    : esc(`at the next timer firing (${n.basis})`)]);
  if (s.unfinished.length) {
    rows.push(['Unfinished', `<ul>${s.unfinished.map((m) => `<li>${esc(guestLabel(m.vmid, m.guest_type, m.name))} ${esc(m.source)} → ${esc(m.target)}, started ${time(migrationTime(m), z)}, ${status(m.status)}: outcome not recorded yet (the next tick looks it up)</li>`).join('')}</ul>`]);
  }
  const body = rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('\n');
  return `<section aria-labelledby="h-status"><h2 id="h-status">Automation status</h2>
<table class="kv" id="table-status"><caption class="sr">Automation status</caption><tbody>\n${body}\n</tbody></table></section>`;
}

function statsSection(d: ReportData): string {
  const col = (p: PeriodStats) => [p.attempted, p.completed, p.failed, p.timeout, p.pending, percent(p.success_rate), p.dry_run, p.median_duration_s === null ? '-' : formatDuration(p.median_duration_s)].map(esc);
  const labels = ['live migrations attempted', 'completed', 'failed', 'timed out', 'outcome pending', 'success rate', 'dry-run moves (counted apart)', 'median duration'];
  const a = col(d.stats.last_24h);
  const b = col(d.stats.last_7d);
  return `<section aria-labelledby="h-stats"><h2 id="h-stats">Statistics</h2>
${table('Migrations in the last 24 hours and 7 days', ['', 'last 24 h', 'last 7 d'], labels.map((l, i) => [esc(l), a[i]!, b[i]!]), { id: 'table-stats', rowHeads: true })}</section>`;
}

function daysSection(d: ReportData): string {
  const rows = d.days.map((x) => [`<time datetime="${esc(x.date)}" data-date>${esc(x.date)}</time>`, ...[x.completed, x.failed, x.timeout, x.pending, x.dry_run, totalOfDay(x)].map(esc)]);
  return `<section aria-labelledby="h-days"><h2 id="h-days">Migrations per day</h2>
<div class="chart" id="chart-days" role="img" aria-label="Stacked bar chart of migrations per day by outcome; the same figures are in the table below."></div>
${table(`Migrations per day by outcome, last ${d.days.length} days (days in ${esc(d.zone)})`, ['day', 'completed', 'failed', 'timed out', 'pending', 'dry run', 'total'], rows, { id: 'table-days', rowHeads: true })}</section>`;
}

function nodesSection(d: ReportData): string {
  const nl = d.node_load;
  if (!nl) {
    return `<section aria-labelledby="h-nodes"><h2 id="h-nodes">Node load</h2><p>No tick has recorded node loads yet (a tick records them when it reads the cluster).</p></section>`;
  }
  const p = (x: number) => `${x.toFixed(1)} %`;
  const rows = nl.rows.map((r) => [esc(r.node), p(r.cpu_before), p(r.cpu_after), p(r.mem_before), p(r.mem_after)]);
  return `<section aria-labelledby="h-nodes"><h2 id="h-nodes">Node load before and after the last tick's moves</h2>
<p>As the tick of ${time(nl.at, d.zone)} saw the nodes (averages), and after its planned moves as the engine simulated them. Lines: the hot threshold (recommendation_thresholds: CPU ${nl.cpu_threshold} %, memory ${nl.mem_threshold} %) and the cap no move may push a target over (safety_checks: CPU ${nl.cpu_cap} %, memory ${nl.mem_cap} %).</p>
<div class="pair"><figure><figcaption>CPU</figcaption><div class="chart" id="chart-cpu" role="img" aria-label="CPU use per node before and after the planned moves; figures in the table below."></div></figure>
<figure><figcaption>Memory</figcaption><div class="chart" id="chart-mem" role="img" aria-label="Memory use per node before and after the planned moves; figures in the table below."></div></figure></div>
${table('Node load, percent', ['node', 'CPU before', 'CPU after', 'memory before', 'memory after'], rows, { id: 'table-nodes', rowHeads: true })}</section>`;
}

function imbalanceSection(d: ReportData): string {
  const rows = d.imbalance.map((p) => [time(p.at, d.zone), esc(p.before.toFixed(2)), esc(p.after === null ? '' : p.after.toFixed(2)), esc(p.ticks)]);
  const bucketed = d.imbalance_ticks > d.imbalance.length ? ` (${d.imbalance_ticks} ticks averaged into ${d.imbalance.length} points)` : '';
  return `<section aria-labelledby="h-imbalance"><h2 id="h-imbalance">Cluster imbalance over time</h2>
<p>The imbalance number of each tick (spread of node loads plus every point over a threshold; see docs/decisions.md) before and after its plan, since ${time(d.since, d.zone)}${esc(bucketed)}.</p>
<div class="chart" id="chart-imbalance" role="img" aria-label="Line chart of cluster imbalance over time; the figures are in the table under it."></div>
<details><summary>Imbalance figures as a table</summary>
${table('Cluster imbalance per tick, points', ['time', 'before', 'after', 'ticks'], rows, { id: 'table-imbalance', empty: 'no tick with an imbalance figure in this span' })}</details></section>`;
}

function migrationsSection(d: ReportData): string {
  const rows = d.migrations.map((m) => [
    time(migrationTime(m), d.zone), esc(guestLabel(m.vmid, m.guest_type, m.name)), `${esc(m.source)} → ${esc(m.target)}`, status(m.status),
    esc(formatDuration(m.duration_s)), esc(m.confidence === undefined ? '' : Math.round(m.confidence)), esc(m.kind ?? ''),
    `${esc(m.reason ?? '')}${m.error ? `<br><span class="err">${esc(m.error)}</span>` : ''}`,
  ]);
  return `<section aria-labelledby="h-migrations"><h2 id="h-migrations">Recent migrations (the last ${LAST_MIGRATIONS} since ${time(d.since, d.zone)})</h2>
${table('The newest migrations, newest first', ['started', 'guest', 'move', 'status', 'duration', 'confidence', 'kind', 'reason'], rows, { id: 'table-migrations', empty: 'no migration in this span' })}</section>`;
}

function tickBlock(r: TickView, zone: string, byId: Map<string, TickView>): string {
  const moves = r.decisions.filter((x) => x.action === 'move').length;
  const head = `${time(r.started_at, zone)} ${esc(r.trigger)}, ${esc(r.mode)}: ${status(r.outcome)}${r.reason ? ` ${esc(r.reason)}` : ''}; ${moves} move${moves === 1 ? '' : 's'}, ${r.decisions.length - moves} skip${r.decisions.length - moves === 1 ? '' : 's'}`;
  const gates = r.gates.length ? `<ul class="gates">${r.gates.map((g) => `<li>${g.passed ? badge('passed', 'ok') : badge('failed', 'bad')} ${esc(g.name)}: ${esc(g.message)}</li>`).join('')}</ul>` : '';
  const notes = r.notes?.length ? `<ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  let decisions = '';
  if (r.same_as) decisions = `<p>Same decisions as the tick of ${time(byId.get(r.same_as)?.started_at, zone)} below.</p>`;
  else if (r.decisions.length) {
    decisions = table(`Decisions of this tick`, ['guest', 'action', 'move', 'confidence', 'reason', 'outcome'], r.decisions.map((x) => [
      esc(guestLabel(x.vmid, x.guest_type, x.name)), x.action === 'move' ? badge('move', 'ok') : badge('skip', 'muted'),
      x.source || x.target ? `${esc(x.source ?? '?')} → ${esc(x.target ?? '?')}` : '', esc(x.confidence === undefined ? '' : Math.round(x.confidence)), esc(x.reason), esc(x.outcome ?? ''),
    ]), { rowHeads: true });
  }
  return `<article class="tick" data-run="${esc(r.run_id)}"><h3>${head}</h3>${gates}${notes}${decisions}</article>`;
}

function activitySection(d: ReportData): string {
  const byId = new Map(d.ticks.map((t) => [t.run_id, t] as const));
  const body = d.ticks.length ? d.ticks.map((t) => tickBlock(t, d.zone, byId)).join('\n') : '<p>No tick recorded in this span.</p>';
  return `<section aria-labelledby="h-activity" id="activity"><h2 id="h-activity">Activity: the last ticks and every skip reason</h2>\n${body}</section>`;
}

export function renderReport(d: ReportData, assets: Assets): string {
  const dataJson = json({ days: d.days, node_load: d.node_load, imbalance: d.imbalance });
  const csp = `default-src 'none'; script-src ${sha256(assets.js)} ${sha256(CLIENT_JS)}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="proxbalance">
<title>proxbalance report, ${esc(formatTime(d.generated_at, d.zone))}</title>
<style>${assets.css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>proxbalance report</h1>
<p>Generated ${time(d.generated_at, d.zone)} from <code>${esc(d.history_file)}</code> (config <code>${esc(d.config_file)}</code>); sections below cover the ticks since ${time(d.since, d.zone)}. Times are in your browser's time zone; hover for UTC.</p></header>
<main>
${statusSection(d)}
${statsSection(d)}
${daysSection(d)}
${nodesSection(d)}
${imbalanceSection(d)}
${migrationsSection(d)}
${activitySection(d)}
</main>
<script type="application/json" id="report-data">${dataJson}</script>
<script>${assets.js}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

