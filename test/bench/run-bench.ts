/**
 * Benchmark of one whole `proxbalance run --dry-run` process against the fake Proxmox VE over
 * HTTPS, start-up included: wall time, API requests, peak RSS. Prints a Markdown table. One guest
 * in ten is HA-managed, held by node-affinity rules (one per node, failback on) with a few
 * positive and negative resource-affinity pairs, so the snapshot reads the HA rules (7 + N
 * requests) and the engine plans by them.
 *   npm run bench:run
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { connectionConfig, startFakePve } from '../fake-pve/server.js';
import { sidOf, type FakeState } from '../fake-pve/state.js';

const sizes: Array<[number, number]> = [[3, 30], [20, 2000], [64, 10000]];
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
// A wrapper that runs the real CLI entry and then reports the process's own peak RSS.
const wrapper = `const { main } = await import(${JSON.stringify(main)}); const code = await main(process.argv); process.stderr.write('\\nBENCH maxrss_kib=' + process.resourceUsage().maxRSS + '\\n'); process.exit(code);`;

function once(configPath: string): Promise<{ ms: number; rssMiB: number; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--input-type=module', '-e', wrapper, 'proxbalance', 'run', '--dry-run', '--json', '--quiet', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /BENCH maxrss_kib=(\d+)/.exec(err);
      if (code !== 0) process.stderr.write(err);
      resolve({ ms, rssMiB: m ? Number(m[1]) / 1024 : NaN, code });
    });
  });
}

/** Every tenth guest HA-managed, pinned to its node (failback on); pairs kept together or apart. */
function addHaRules(s: FakeState): void {
  const ha = s.guests.filter((g, i) => i % 10 === 0 && !g.template);
  for (const g of ha) g.ha = true;
  for (const n of s.nodes) {
    const here = ha.filter((g) => g.node === n.name).map(sidOf);
    if (here.length) s.haRules.push({ rule: `pin-${n.name}`, type: 'node-affinity', resources: here, nodes: { [n.name]: 1 } });
  }
  for (let i = 0; i + 3 < Math.min(ha.length, 40); i += 4) {
    s.haRules.push({ rule: `pair-${i}`, type: 'resource-affinity', resources: [sidOf(ha[i]!), sidOf(ha[i + 1]!)], affinity: 'positive' });
    s.haRules.push({ rule: `apart-${i}`, type: 'resource-affinity', resources: [sidOf(ha[i + 2]!), sidOf(ha[i + 3]!)], affinity: 'negative' });
  }
}

const rows: string[] = [];
for (const [nodes, guests] of sizes) {
  const fake = await startFakePve({ generate: { nodes, guests, seed: 42 } });
  if (!process.env.BENCH_NO_HA) addHaRules(fake.state);
  const dir = mkdtempSync(join(tmpdir(), 'proxbalance-bench-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    ...connectionConfig(fake), history_file: join(dir, 'history.jsonl'), automated_migrations: { enabled: true },
  }), { mode: 0o600 });
  const results = [];
  for (let i = 0; i < repeats; i++) {
    fake.requests.reset();
    const r = await once(configPath);
    results.push({ ...r, requests: fake.requests.total() });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const snapshotBound = 7 + nodes;
  rows.push(`| ${nodes} / ${guests} | ${med(results.map((r) => r.ms)).toFixed(0)} ms | ${med(results.map((r) => r.requests))} (snapshot bound ${snapshotBound}, + 1 precondition per planned move) | ${med(results.map((r) => r.rssMiB)).toFixed(0)} MiB | ${results.every((r) => r.code === 0) ? 'ok' : 'FAILED'} |`);
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`node ${process.version}, ${repeats} runs each, median\n`);
console.log('| nodes / guests | wall time (whole process) | API requests | peak RSS | exit |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
