/**
 * History benchmark: `npm run bench:history` (runs from dist/ after a build).
 *
 * Writes 100,000 valid history records (one run record and one migration record a minute, over
 * ~35 days: ticks with gates and decisions, migrations started then completed / failed /
 * timed out, some dry runs) to a temporary file, then times:
 *   - readHistory (streaming read + schema check of every line),
 *   - computeStats over the records,
 *   - the `proxbalance stats` CLI end to end (a whole process: start-up, config, read, stats, output),
 *   - `proxbalance history --csv` end to end (every migration exported).
 * Prints the figures and writes them into docs/benchmarks.md under "## History" (other sections
 * are kept). BENCH_RECORDS changes the count; BENCH_KEEP=1 keeps the temporary folder. Goal (issue 6): 100,000 records read in well under a second.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';
import { readHistory, type HistoryRecord, type MigrationRecord, type RunRecord } from '../../src/history/store.js';
import { computeStats } from '../../src/history/stats.js';
import { foldMigrations } from '../../src/history/views.js';
import { rng } from '../helpers/generate.js';

const foldedCount = (records: HistoryRecord[]) => foldMigrations(records).length;

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const REPEAT = 5;
const NOW = Date.parse('2026-11-25T12:00:00.000Z');


function generate(n: number): string {
  const rand = rng(42);
  const lines: string[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  const ticks = Math.ceil(n / 2);
  let open: MigrationRecord | null = null;
  for (let i = 0; lines.length < n; i++) {
    const t = NOW - (ticks - i) * 60_000;
    const vmid = 100 + Math.floor(rand() * 2000);
    const dry = rand() < 0.2;
    const run: RunRecord = {
      v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t), finished_at: iso(t + 2000), trigger: 'scheduled', mode: dry ? 'dry-run' : 'live',
      gates: [
        { name: 'halted', passed: true, message: 'Automation not halted' },
        { name: 'window', passed: true, message: 'Migration window "Nightly" open' },
      ],
      outcome: 'success',
      decisions: [
        { vmid, name: `guest-${vmid}`, guest_type: 'qemu', action: 'move', source: 'pve1', target: 'pve2', confidence: 80, reason: 'pve1 CPU 91% over 60%' },
        { vmid: vmid + 1, name: `guest-${vmid + 1}`, guest_type: 'lxc', action: 'skip', reason: 'Cooldown active' },
      ],
    };
    lines.push(JSON.stringify(run));
    if (lines.length >= n) break;
    // One migration record a tick: a start, then its outcome on the next tick.
    if (open) {
      const r = rand();
      const status = r < 0.9 ? 'completed' : r < 0.97 ? 'failed' : 'timeout';
      lines.push(JSON.stringify({ ...open, at: iso(t), status, finished_at: iso(t), duration_s: 20 + Math.floor(rand() * 200), ...(status !== 'completed' && { error: 'migration aborted' }) }));
      open = null;
    } else {
      const m: MigrationRecord = {
        v: 1, type: 'migration', at: iso(t), run_id: `r${i}`, migration_id: `m${i}`, vmid, name: `guest-${vmid}`, guest_type: rand() < 0.3 ? 'lxc' : 'qemu',
        source: `pve${1 + Math.floor(rand() * 8)}`, target: `pve${1 + Math.floor(rand() * 8)}`, confidence: 75 + Math.floor(rand() * 25),
        reason: 'pve1 CPU 91% over 60%', status: dry ? 'dry-run' : 'started', upid: dry ? null : `UPID:pve1:0000${i}:00005678:6565ABCD:qmigrate:${vmid}:root@pam!bal:`,
        started_at: iso(t),
      };
      lines.push(JSON.stringify(m));
      if (!dry) open = m;
    }
  }
  return lines.join('\n') + '\n';
}

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Wall time and CPU time (user + system): on a busy machine the wall time grows, the CPU time much less. */
interface Figure {
  wallMs: number;
  cpuMs: number;
  /** Peak RSS of a CLI process. */
  maxRssMiB?: number;
}

async function timeIt<T>(fn: () => Promise<T> | T): Promise<Figure & { value: T }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let value!: T;
  for (let i = 0; i < REPEAT; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    value = await fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wallMs: medianOf(walls), cpuMs: medianOf(cpus), value };
}

/** Loaded into each CLI process with --import: reports its CPU time and peak RSS on exit. */
const PRELOAD = `import { writeSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(2, '\\nBENCH_USAGE ' + JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKiB: u.maxRSS }) + '\\n');
});
`;

function cli(args: string[], preload: string, config?: string): Figure {
  const walls: number[] = [];
  const cpus: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, BIN, ...args, ...(config ? ['--config', config] : [])], {
      env: { ...process.env, PROXBALANCE_NOW: new Date(NOW).toISOString(), NO_COLOR: '1' },
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    walls.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`proxbalance ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    const usage = /BENCH_USAGE (\{.*\})/.exec(r.stderr);
    if (usage) {
      const u = JSON.parse(usage[1]!) as { cpuMs: number; maxRssKiB: number };
      cpus.push(u.cpuMs);
      rss.push(u.maxRssKiB / 1024);
    }
  }
  return { wallMs: medianOf(walls), cpuMs: medianOf(cpus), maxRssMiB: Math.max(...rss) };
}

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('proxbalance-bench-');
  try {
    const history = join(dir, 'history.jsonl');
    writeFileSync(history, generate(RECORDS));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal', history_file: history }), { mode: 0o600 });
    const size = statSync(history).size;

    const preload = join(dir, 'usage.mjs');
    writeFileSync(preload, PRELOAD);
    const load0 = loadavg()[0]!;
    const read = await timeIt(() => readHistory(history));
    if (read.value.records.length !== RECORDS || read.value.warnings.length) throw new Error(`read ${read.value.records.length} records, ${read.value.warnings.length} warnings`);
    const rssAfterRead = process.memoryUsage().rss;
    const stats = await timeIt(() => computeStats(read.value.records, new Date(NOW)));
    const both = await timeIt(async () => computeStats((await readHistory(history)).records, new Date(NOW)));
    const statsCli = cli(['stats'], preload, config);
    const csvCli = cli(['history', '--csv'], preload, config);
    const startup = cli(['--version'], preload);
    const load1 = loadavg()[0]!;

    const ms = (x: number) => `${x.toFixed(0)} ms`;
    const rows: [string, Figure | string][] = [
      [`readHistory (${RECORDS.toLocaleString('en')} records, ${(size / 2 ** 20).toFixed(1)} MiB)`, read],
      ['computeStats (24 h, 7 d, 7 daily rows)', stats],
      ['readHistory + computeStats', both],
      ['`proxbalance stats` end to end (one process)', statsCli],
      [`\`proxbalance history --csv\` end to end (all ${foldedCount(read.value.records).toLocaleString('en')} migrations exported)`, csvCli],
      ['`proxbalance --version` (process start-up alone)', startup],
    ];
    const table = rows.map(([k, f]) =>
      typeof f === 'string' ? `| ${k} | ${f} | | |` : `| ${k} | ${ms(f.wallMs)} | ${ms(f.cpuMs)} | ${f.maxRssMiB === undefined ? '' : `${f.maxRssMiB.toFixed(0)} MiB`} |`,
    );
    table.push(`| the benchmark process after one read (RSS) | | | ${(rssAfterRead / 2 ** 20).toFixed(0)} MiB |`);
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, Node.js ${process.version}, ${process.platform}, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`;
    const section = [
      '## History',
      '',
      `\`npm run bench:history\` (test/bench/history-bench.ts): ${RECORDS.toLocaleString('en')} history records (a run record and a`,
      'migration record a minute over ~35 days) in a temporary file; median of 5 runs each. Goal: the',
      'history read in well under a second. CPU is user + system time of the process; wall time also',
      'counts waiting for a CPU, which a busy machine (see the load average) inflates.',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}:`,
      '',
      '| what | wall | CPU | peak RSS |',
      '|---|---|---|---|',
      ...table,
      '',
    ].join('\n');
    console.log(section);

    const doc = join(ROOT, 'docs', 'benchmarks.md');
    const before = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\nFigures measured by the benchmark scripts; each script rewrites its own section.\n';
    const start = before.search(/^## History\s*$/m);
    let text: string;
    if (start < 0) text = `${before.trimEnd()}\n\n${section}`;
    else {
      const rest = before.slice(start + 1);
      const next = rest.search(/^## /m);
      text = before.slice(0, start) + section + (next < 0 ? '' : `\n${rest.slice(next)}`);
    }
    writeFileSync(doc, text.endsWith('\n') ? text : `${text}\n`);
    console.log(`written to ${doc}`);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
