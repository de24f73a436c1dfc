/**
 * Benchmark (not a test: nothing is asserted on time): snapshot gathering against the fake over
 * HTTPS for growing clusters. Run after a build:
 *   node dist/test/bench/snapshot.bench.js [nodes:guests ...]
 */
import { startFakePve } from '../fake-pve/server.js';
import { clientFor } from '../helpers/pve.js';
import { takeSnapshot } from '../../src/pve/snapshot.js';

const sizes = (process.argv.slice(2).length ? process.argv.slice(2) : ['3:30', '20:2000', '50:10000']).map((s) => s.split(':').map(Number) as [number, number]);
for (const [nodes, guests] of sizes) {
  const fake = await startFakePve({ generate: { nodes, guests, seed: 1 } });
  const c = clientFor(fake);
  const runs: number[] = [];
  let requests = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const s = await takeSnapshot(c);
    runs.push(performance.now() - t0);
    requests = s.api.requests;
  }
  runs.sort((a, b) => a - b);
  process.stdout.write(`${nodes} nodes / ${guests} guests: ${requests} requests, median ${runs[2]!.toFixed(1)} ms, best ${runs[0]!.toFixed(1)} ms\n`);
  await c.close();
  await fake.close();
}
