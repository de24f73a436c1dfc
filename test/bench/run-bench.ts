/**
 * Benchmark of one whole `proxbalance run --dry-run` process against the fake Proxmox VE over
 * HTTPS, start-up included: wall time, CPU time of the process (user + system), API requests,
 * peak RSS, and the data floor: the same GET requests fetched in parallel by one curl process
 * from the same server (what no client can beat), and the Node.js floor (the same reads by a
 * Node.js process that does nothing else). Then `proxbalance --version`. The CLI gets the
 * environment a systemd unit gives it (no NODE_EXTRA_CA_CERTS). Prints Markdown. One guest
 * in ten is HA-managed, held by node-affinity rules (one per node, failback on) with a few
 * positive and negative resource-affinity pairs, so the snapshot reads the HA rules (7 + N
 * requests) and the engine plans by them.
 *   npm run bench:run          (BENCH_SIZES=64x10000, BENCH_REPEATS=5, BENCH_PLANNER=auto, BENCH_NO_HA=1 vary it)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { connectionConfig, startFakePve, type FakePve, type RequestRecord } from '../fake-pve/server.js';
import { sidOf, type FakeState } from '../fake-pve/state.js';

// BENCH_SIZES=64x10000 runs one size only.
const sizes: Array<[number, number]> = process.env.BENCH_SIZES
  ? process.env.BENCH_SIZES.split(',').map((x) => x.split('x').map(Number) as [number, number])
  : [[3, 30], [20, 2000], [64, 10000]];
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
// BENCH_PLANNER=auto (or optimal) measures a tick with the exact planner: the solver thread loads while the cluster is read.
const planner = process.env.BENCH_PLANNER ?? 'greedy';
const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
// A wrapper that runs the real CLI entry and then reports the process's own peak RSS.
const wrapper = `const { main } = await import(${JSON.stringify(main)}); const code = await main(process.argv); const u = process.resourceUsage(); process.stderr.write('\\nBENCH maxrss_kib=' + u.maxRSS + ' cpu_us=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); process.exit(code);`;

const versionWrapper = `const { main } = await import(${JSON.stringify(main)}); const code = await main(process.argv); const u = process.resourceUsage(); process.stderr.write('BENCH cpu_us=' + (u.userCPUTime + u.systemCPUTime) + '\\n'); process.exit(code);`;
// The CLI runs with the environment a systemd unit gives it: without NODE_EXTRA_CA_CERTS, which a
// machine may set for every process (Node then parses that bundle at start: 40 ms of CPU here).
const { NODE_EXTRA_CA_CERTS: _extraCa, ...cliEnv } = process.env;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function once(configPath: string): Promise<{ ms: number; cpuMs: number; rssMiB: number; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--input-type=module', '-e', wrapper, 'proxbalance', 'run', '--dry-run', '--json', '--quiet', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: cliEnv });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /BENCH maxrss_kib=(\d+) cpu_us=(\d+)/.exec(err);
      if (code !== 0) process.stderr.write(err);
      resolve({ ms, cpuMs: m ? Number(m[2]) / 1000 : NaN, rssMiB: m ? Number(m[1]) / 1024 : NaN, code });
    });
  });
}

/** Wall time of one curl process fetching these GETs in parallel (the tick's reads: the data floor). */
async function dataFloor(fake: FakePve, gets: readonly RequestRecord[]): Promise<number> {
  const args = ['-s', '-Z', '--parallel-max', '100', '--cacert', fake.caFile, '-H', `Authorization: PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}`];
  for (const r of gets) args.push(`https://${fake.host}:${fake.port}/api2/json${r.path}${r.query}`, '-o', '/dev/null');
  const t0 = process.hrtime.bigint();
  // Asynchronous: the fake server answering curl runs in this very process.
  const code = await new Promise<number | null>((resolve, reject) => spawn('curl', args, { stdio: 'ignore' }).on('error', reject).on('close', resolve));
  if (code !== 0) throw new Error(`curl failed (exit ${code})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * The least a Node.js client does for the same reads: one process that loads undici, opens the
 * same 6 verified HTTPS connections, fetches these GETs and parses their JSON, nothing else (no
 * config, logger, snapshot, plan or history). What proxbalance adds is the rest of the tick.
 */
function nodeFloor(fake: FakePve, gets: readonly RequestRecord[]): Promise<{ ms: number; cpuMs: number }> {
  const urls = gets.map((r) => `/api2/json${r.path}${r.query}`);
  const script = `
    const { readFileSync } = await import('node:fs');
    const { createSecureContext } = await import('node:tls');
    const { Agent, buildConnector, request } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'util', 'http.js'))});
    const connect = buildConnector({ secureContext: createSecureContext({ ca: readFileSync(${JSON.stringify(fake.caFile)}, 'utf8') }) });
    const agent = new Agent({ connect, connections: 6, pipelining: 1 });
    const urls = ${JSON.stringify(urls)};
    await Promise.all(urls.map(async (u) => {
      const res = await request(agent, 'https://${fake.host}:${fake.port}' + u, { method: 'GET', headers: { authorization: process.env.PVE_AUTH } });
      JSON.parse(await res.body.text());
    }));
    await agent.close();
    const r = process.resourceUsage();
    process.stderr.write('BENCH cpu_us=' + (r.userCPUTime + r.systemCPUTime) + '\\n');`;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // With the tick's own setting for WebAssembly (a greedy tick parses HTTP on the baseline compiler).
    const child = spawn(process.execPath, ['--liftoff-only', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...cliEnv, PVE_AUTH: `PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}` } });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject).on('close', (code) => {
      const m = /BENCH cpu_us=(\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`node floor failed (exit ${code}): ${err.slice(0, 500)}`));
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: Number(m[1]) / 1000 });
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
    ...connectionConfig(fake), history_file: join(dir, 'history.jsonl'), automated_migrations: { enabled: true, planner },
  }), { mode: 0o600 });
  const results = [];
  for (let i = 0; i < repeats; i++) {
    fake.requests.reset();
    const r = await once(configPath);
    const gets = fake.requests.log.filter((x) => x.method === 'GET');
    const requests = fake.requests.total();
    fake.requests.reset();
    const floorMs = await dataFloor(fake, gets);
    const node = await nodeFloor(fake, gets);
    results.push({ ...r, requests, floorMs, nodeMs: node.ms, nodeCpuMs: node.cpuMs });
  }
  const snapshotBound = 7 + nodes;
  const wall = med(results.map((r) => r.ms));
  const floor = med(results.map((r) => r.floorMs));
  rows.push(`| ${nodes} / ${guests} | ${wall.toFixed(0)} ms | ${med(results.map((r) => r.cpuMs)).toFixed(0)} ms | ${floor.toFixed(0)} ms | ${(wall / floor).toFixed(2)} × | ${med(results.map((r) => r.nodeMs)).toFixed(0)} ms, ${med(results.map((r) => r.nodeCpuMs)).toFixed(0)} ms CPU | ${med(results.map((r) => r.requests))} (snapshot bound ${snapshotBound}, + 1 precondition per planned move) | ${med(results.map((r) => r.rssMiB)).toFixed(0)} MiB | ${results.every((r) => r.code === 0) ? 'ok' : 'FAILED'} |`);
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`node ${process.version}, planner ${planner}, ${repeats} runs each, median; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log('| nodes / guests | wall time (whole process) | CPU (user + system) | data floor (curl, parallel) | wall / floor | Node.js floor (wall, CPU) | API requests | peak RSS | exit |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

// `proxbalance --version`: start-up alone.
const version: Array<{ ms: number; cpuMs: number }> = [];
for (let i = 0; i < repeats; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', versionWrapper, 'proxbalance', '--version'], { encoding: 'utf8', env: cliEnv });
  const m = /BENCH cpu_us=(\d+)/.exec(r.stderr);
  version.push({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: m ? Number(m[1]) / 1000 : NaN });
}
console.log(`\n\`proxbalance --version\`: ${med(version.map((v) => v.ms)).toFixed(0)} ms wall, ${med(version.map((v) => v.cpuMs)).toFixed(0)} ms CPU (median of ${repeats})`);
