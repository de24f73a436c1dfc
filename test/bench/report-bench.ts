/**
 * Report benchmark: `npm run bench:report` (runs from dist/ after a build).
 *
 * Writes 100,000 valid history records (a run record a minute and a migration every other, over ~30
 * days: every tick with imbalance figures, node loads of 8 nodes and 42 decisions, migrations
 * as intent, started, then completed / failed / timed out, some dry runs) to a temporary file, then times
 * `proxbalance report --output FILE` end to end (a whole process: start-up, config, read, page)
 * and the page builder alone, and prints the page's size. Writes the figures into
 * docs/benchmarks.md under "## Report" (other sections are kept). BENCH_RECORDS changes the count.
 * Goal (issue 15): under 2 s, and the page under 1.5 MB.
 */
import { writeBenchSection } from './doc-section.js';
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, tempDir } from '../helpers/cli.js';
import { readHistory, type DecisionRecord, type MigrationRecord, type RunRecord } from '../../src/history/store.js';
import { reportHtml } from '../../src/report/write.js';
import { loadConfig } from '../../src/config/load.js';
import { rng } from '../helpers/generate.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const REPEAT = 5;
const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const NODES = Array.from({ length: 8 }, (_, i) => `pve${i + 1}`);
const SKIPS = ['Cooldown active', "Missing 'auto-migrate-ok' tag", 'Below confidence threshold (62 < 75)', 'Guest is locked (backup)', 'No target with room'];

function tick(i: number, t: number, rand: () => number): RunRecord {
  const iso = (ms: number) => new Date(ms).toISOString();
  const decisions: DecisionRecord[] = [];
  for (let k = 0; k < 42; k++) {
    const vmid = 100 + ((i * 7 + k * 13) % 2000);
    decisions.push(k < 2
      ? { vmid, name: `guest-${vmid}`, guest_type: 'qemu', action: 'move', source: 'pve1', target: NODES[1 + (k % 7)]!, confidence: 80 + k, reason: 'pve1 is at 81 % memory (threshold 70 %); pve3 has room: 48 % → 56 %', outcome: 'completed' }
      : { vmid, name: `guest-${vmid}`, guest_type: k % 3 ? 'qemu' : 'lxc', action: 'skip', source: NODES[k % 8]!, reason: SKIPS[(i + k) % SKIPS.length]! });
  }
  const before = 8 + rand() * 20;
  return {
    v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t), finished_at: iso(t + 2000), trigger: 'scheduled', mode: 'live',
    gates: [{ name: 'halted', passed: true, message: 'Automation not halted' }, { name: 'migration_window', passed: true, message: 'no migration window defined' }],
    // carried: as this version's ticks write it (nothing in force here), so readers may stop at it.
    outcome: 'success', decisions, carried: [],
    summary: { imbalance_before: Math.round(before * 100) / 100, imbalance_after: Math.round(before * 0.6 * 100) / 100, moves_planned: 2, gib_moved: 12, api_requests: 15 },
    node_load: NODES.map((node, n) => ({ node, cpu_before: 20 + n * 7, mem_before: 30 + n * 6, cpu_after: 25 + n * 5, mem_after: 35 + n * 4 })),
  };
}

/** `n` records, the last tick at NOW (a first pass counts the ticks they take; the random draws do not depend on the time). */
export function generate(n: number): string {
  return build(n, build(n, 0).ticks).text;
}

function build(n: number, ticks: number): { text: string; ticks: number } {
  const rand = rng(42);
  const lines: string[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  let open: MigrationRecord | null = null;
  let i = 0;
  for (; lines.length < n; i++) {
    const t = NOW - (ticks - i) * 60_000;
    // As ticks write them: a tick that decided what the previous one did names it (the steady
    // state); the decisions change every 30 ticks here.
    const run = tick(i, t, rand);
    if (i % 30) lines.push(JSON.stringify({ ...run, decisions: [], decisions_same_as: `r${i - (i % 30)}` }));
    else lines.push(JSON.stringify(run));
    if (lines.length >= n) break;
    if (open) {
      const r = rand();
      const status = r < 0.9 ? 'completed' : r < 0.97 ? 'failed' : 'timeout';
      lines.push(JSON.stringify({ ...open, at: iso(t), status, finished_at: iso(t), duration_s: 20 + Math.floor(rand() * 200), ...(status !== 'completed' && { error: 'migration aborted' }) }));
      open = null;
    } else {
      const vmid = 100 + Math.floor(rand() * 2000);
      const dry = rand() < 0.2;
      const m: MigrationRecord = {
        v: 1, type: 'migration', at: iso(t), run_id: `r${i}`, migration_id: `m${i}`, vmid, name: `guest-${vmid}`, guest_type: 'qemu', source: 'pve1', target: NODES[1 + Math.floor(rand() * 7)]!,
        confidence: 75 + Math.floor(rand() * 25), reason: 'pve1 CPU 91% over 60%', status: dry ? 'dry-run' : 'started', upid: dry ? null : `UPID:pve1:0000${i}:00005678:6565ABCD:qmigrate:${vmid}:root@pam!bal:`, started_at: iso(t),
      };
      // As the executor writes a live move: its intent (before the request), then its start.
      if (!dry) lines.push(JSON.stringify({ ...m, status: 'intent', upid: null, started_at: undefined, planned_at: iso(t) }));
      lines.push(JSON.stringify(m));
      if (!dry) open = m;
    }
  }
  return { text: lines.join('\n') + '\n', ticks: i };
}

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Loaded into each CLI process with --import: reports its CPU time (user + system) on exit. */
const PRELOAD = `import { writeSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(2, '\\nBENCH_USAGE ' + JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }) + '\\n');
});
`;

/** Wall time (median and slowest) and CPU time (median) of the CLI; a busy machine inflates the wall time. */
function cliRun(args: string[], preload: string): { wallMs: number; maxWallMs: number; cpuMs: number } {
  const walls: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, BIN, ...args], { env: { ...process.env, PROXBALANCE_NOW: new Date(NOW).toISOString(), NO_COLOR: '1' }, encoding: 'utf8' });
    walls.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`proxbalance ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    const usage = /BENCH_USAGE (\{.*\})/.exec(r.stderr);
    if (usage) cpu.push((JSON.parse(usage[1]!) as { cpuMs: number }).cpuMs);
  }
  return { wallMs: medianOf(walls), maxWallMs: Math.max(...walls), cpuMs: medianOf(cpu) };
}

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('proxbalance-bench-');
  try {
    const history = join(dir, 'history.jsonl');
    writeFileSync(history, generate(RECORDS));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal', history_file: history }), { mode: 0o600 });
    const out = join(dir, 'report.html');
    const preload = join(dir, 'usage.mjs');
    writeFileSync(preload, PRELOAD);
    const load0 = loadavg()[0]!;
    const cli = cliRun(['report', '--output', out, '--config', config], preload);
    const size = statSync(out).size;
    const cli30 = cliRun(['report', '--since', '30d', '--output', join(dir, 'r30.html'), '--config', config], preload);
    const stats = cliRun(['stats', '--config', config], preload);
    const size30 = statSync(join(dir, 'r30.html')).size;
    const { records } = await readHistory(history);
    const loaded = loadConfig(config);
    const builds: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const t0 = performance.now();
      reportHtml({ records, loaded, now: new Date(NOW), sinceMs: NOW - 7 * 86_400_000 });
      builds.push(performance.now() - t0);
    }
    const load1 = loadavg()[0]!;
    const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB (${(b / 1e6).toFixed(2)} MB)`;
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, Node.js ${process.version}, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`;
    const section = [
      '## Report',
      '',
      `\`npm run bench:report\` (test/bench/report-bench.ts): ${RECORDS.toLocaleString('en')} history records (${(statSync(history).size / 2 ** 20).toFixed(1)} MiB;`,
      'a run record a minute over ~30 days, each with imbalance figures, the loads of 8 nodes, `carried`, 42',
      'decisions changing every 30 ticks (the others name them with decisions_same_as, as ticks do),',
      'and a migration every other minute, written as ticks write it: intent, start, outcome, or a dry run). Median of 5 runs (slowest in parentheses); CPU is user +',
      'system time of the process, which a busy machine (see the load average) inflates less. Goal',
      '(issue 15): `proxbalance report` under 2 s, the page under 1.5 MB.',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}:`,
      '',
      '| what | wall | CPU | page size |',
      '|---|---|---|---|',
      `| \`proxbalance report --output FILE\` end to end (last 7 days) | ${cli.wallMs.toFixed(0)} ms (${cli.maxWallMs.toFixed(0)} ms) | ${cli.cpuMs.toFixed(0)} ms | ${kb(size)} |`,
      `| \`proxbalance report --since 30d\` end to end | ${cli30.wallMs.toFixed(0)} ms (${cli30.maxWallMs.toFixed(0)} ms) | ${cli30.cpuMs.toFixed(0)} ms | ${kb(size30)} |`,
      `| for comparison: \`proxbalance stats\` on the same history (read + stats) | ${stats.wallMs.toFixed(0)} ms (${stats.maxWallMs.toFixed(0)} ms) | ${stats.cpuMs.toFixed(0)} ms | |`,
      `| the page alone (data + HTML from records in memory, in the bench process) | ${medianOf(builds).toFixed(0)} ms | | |`,
      '',
      'Of the page, uPlot (inlined) is about 52 KB; the imbalance chart holds at most 240 points and',
      'the activity the last 10 ticks, so the size does not grow with the history. Like `stats`, the',
      'report reads only the end of the file (8 days, or a day before `--since`: docs/running.md), so',
      'its time grows with the span shown, not with the file.',
      '',
    ].join('\n');
    console.log(section);
    console.log(`written to ${writeBenchSection('Report', section)}`);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
