import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setupE2E } from './helpers/e2e.js';
import type { HaltedRecord, HistoryRecord, MigrationRecord, RunRecord } from '../src/history/store.js';

/**
 * The real CLI against the fake Proxmox, with the record that decides the tick (a halt, an intent
 * without outcome) sixty days old, behind 30,000 newer run records: `run` and `status` read only
 * the end of the file (the debug line says how many lines) and still act on it.
 */

const N = 30_000;
/** How old the decisive record is: far beyond the 7 days a tick looks back. */
const DAYS = 60;
const iso = (ms: number) => new Date(ms).toISOString();

function history(path: string, old: Array<MigrationRecord | HaltedRecord>, opts: { carried: boolean }): void {
  const now = Date.now();
  const start = now - DAYS * 24 * 3600_000;
  const lines = old.map((r) => JSON.stringify(r));
  for (let i = 0; i < N; i++) {
    const t = start + 60_000 + Math.floor((i * (now - start - 120_000)) / N);
    const run: RunRecord = {
      v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t), finished_at: iso(t + 800), trigger: 'manual', mode: 'dry-run', gates: [],
      outcome: 'no_action', decisions: [{ vmid: 101, name: 'web1', guest_type: 'qemu', action: 'skip', reason: 'Cooldown active' }],
      ...(opts.carried ? { carried: old } : {}),
    };
    lines.push(JSON.stringify(run));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const linesRead = (stderr: string) => Number(/read \d+ records \((\d+) lines/.exec(stderr)?.[1] ?? NaN);
const runs = (rs: HistoryRecord[]) => rs.filter((r): r is RunRecord => r.type === 'run');

test('a halt sixty days old behind 30,000 newer runs: run stays halted and status shows it, reading only the end', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const at = iso(Date.now() - DAYS * 24 * 3600_000);
    const halt: HaltedRecord = { v: 1, type: 'halted', at, run_id: 'r-old', vmid: 104, guest_type: 'qemu', error: 'migration aborted: disk full' };
    history(e.historyPath, [halt], { carried: true });
    const r = await e.run(['run', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Automation halted after failed migration of VM 104/);
    assert.ok(linesRead(r.stderr) < N / 6, `the tick read ${linesRead(r.stderr)} lines of ${N + 1}:\n${r.stderr}`);
    const last = runs(e.records()).at(-1)!;
    assert.equal(last.outcome, 'halted');
    assert.deepEqual(last.carried, [halt], 'the new run record carries the halt on');
    assert.equal(e.fake.requests.log.filter((q) => q.method === 'POST').length, 0, 'no migration');
    const s = await e.run(['status', '--offline', '--json', '--verbose']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).halted.at, at);
    assert.ok(linesRead(s.stderr) < N / 40, `status read ${linesRead(s.stderr)} lines`);
    // resume finds it the same way, and the next tick is no longer halted.
    const res = await e.run(['resume']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /resumed: automation was halted after the failed migration of VM 104/);
    const s2 = await e.run(['status', '--offline', '--json']);
    assert.equal(JSON.parse(s2.stdout).halted, null);
  } finally {
    await e.cleanup();
  }
});

test('an intent sixty days old behind 30,000 newer runs is looked up once and recorded never started', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    const at = iso(Date.now() - DAYS * 24 * 3600_000);
    const guest = e.fake.state.guest(101)!;
    const intent: MigrationRecord = {
      v: 1, type: 'migration', at, run_id: 'r-old', migration_id: 'r-old-101', vmid: 101, name: 'web1', guest_type: 'qemu', source: guest.node, target: 'pve3',
      status: 'intent', upid: null, planned_at: at,
    };
    history(e.historyPath, [intent], { carried: true });
    const st = await e.run(['status', '--offline', '--json']);
    assert.deepEqual(JSON.parse(st.stdout).unfinished.map((m: { migration_id: string }) => m.migration_id), ['r-old-101']);
    const r = await e.run(['run', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(linesRead(r.stderr) < N / 6, `the tick read ${linesRead(r.stderr)} lines`);
    const outcomes = () => e.records().filter((x): x is MigrationRecord => x.type === 'migration' && x.migration_id === 'r-old-101' && x.status !== 'intent');
    assert.deepEqual(outcomes().map((m) => m.status), ['never_started']);
    assert.deepEqual(runs(e.records()).at(-1)!.carried, [], 'nothing older is in force any more');
    const r2 = await e.run(['run']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(outcomes().length, 1, 'recorded exactly once');
  } finally {
    await e.cleanup();
  }
});

test('a history written before checkpoints existed is read whole: its old halt still stops the tick', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const halt: HaltedRecord = { v: 1, type: 'halted', at: iso(Date.now() - DAYS * 24 * 3600_000), run_id: 'r-old', vmid: 104, error: 'migration aborted' };
    history(e.historyPath, [halt], { carried: false });
    const r = await e.run(['run', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(runs(e.records()).at(-1)!.outcome, 'halted');
    assert.ok(linesRead(r.stderr) > N, 'read to the start of the file');
    assert.match(r.stderr, /the whole file/);
  } finally {
    await e.cleanup();
  }
});
