import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E } from './helpers/e2e.js';

test('plan --snapshot replays a saved snapshot offline: the same plan as a dry run, no request, nothing written', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    const file = join(e.dir, 'snap.json');
    const s = await e.run(['snapshot', '--output', file]);
    assert.equal(s.code, 0, s.stderr);
    const dry = await e.run(['run', '--json']);
    const live = JSON.parse(dry.stdout).plan;
    const requests = e.fake.requests.total();
    const historyBefore = readFileSync(e.historyPath, 'utf8');

    const r = await e.run(['plan', '--snapshot', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const replay = JSON.parse(r.stdout);
    // The saved snapshot does not hold what the tick's precondition checks learn (VM 108's PCI
    // device), so the plans agree up to that point: the first move is the same, with the same score.
    const pick = (m: { vmid: number; target: string; confidence: number; kind: string }) => [m.vmid, m.target, m.confidence, m.kind];
    assert.deepEqual(pick(replay.moves[0]), pick(live.moves[0]));
    assert.equal(replay.moves.length, live.moves.length);
    assert.equal(e.fake.requests.total(), requests, 'no API request');
    assert.equal(readFileSync(e.historyPath, 'utf8'), historyBefore, 'nothing recorded');

    // A config change tried on the saved cluster: evacuate pve1.
    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    cfg.automated_migrations.maintenance_nodes = ['pve1'];
    writeFileSync(e.configPath, JSON.stringify(cfg), { mode: 0o600 });
    const evac = await e.run(['plan', '--snapshot', file]);
    assert.equal(evac.code, 0, evac.stderr);
    assert.match(evac.stdout, /replay: nothing is executed or recorded/);
    assert.match(evac.stdout, /evacuation/);

    writeFileSync(join(e.dir, 'bad.json'), JSON.stringify({ v: 1, nodes: 'x' }));
    const bad = await e.run(['plan', '--snapshot', join(e.dir, 'bad.json')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.json: not a proxbalance snapshot/);
    writeFileSync(join(e.dir, 'torn.json'), '{"v": 1,\n "nodes": [');
    const torn = await e.run(['plan', '--snapshot', join(e.dir, 'torn.json')]);
    assert.equal(torn.code, 2);
    assert.match(torn.stderr, /torn\.json: not valid JSON at line 2/);
  } finally {
    await e.cleanup();
  }
});
