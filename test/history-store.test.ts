import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './helpers/cli.js';
import { appendRecord, readHistory, type HistoryRecord, type MigrationRecord } from '../src/history/store.js';
import { activeHalt, foldMigrations, unfinishedMigrations, lastRun } from '../src/history/views.js';
import { acquireLock, LockBusyError } from '../src/history/lock.js';

const mig = (over: Partial<MigrationRecord>): MigrationRecord => ({
  v: 1, type: 'migration', at: '2026-11-25T10:00:00.000Z', run_id: 'r1', migration_id: 'm1', vmid: 120, name: 'web01',
  guest_type: 'qemu', source: 'pve1', target: 'pve2', status: 'started', upid: 'UPID:pve1:00001234:00005678:6565ABCD:qmigrate:120:root@pam!bal:',
  ...over,
});
const run = (over: Partial<HistoryRecord> = {}): HistoryRecord => ({
  v: 1, type: 'run', run_id: 'r1', started_at: '2026-11-25T10:00:00.000Z', finished_at: '2026-11-25T10:00:05.000Z',
  trigger: 'scheduled', mode: 'live', gates: [], outcome: 'no_action', decisions: [], ...over,
} as HistoryRecord);

test('records append as whole lines, and read back in order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'sub', 'history.jsonl');
    appendRecord(p, mig({}));
    appendRecord(p, mig({ status: 'completed', at: '2026-11-25T10:01:00.000Z', duration_s: 60 }));
    appendRecord(p, run());
    assert.equal(statSync(p).mode & 0o777, 0o640);
    const text = readFileSync(p, 'utf8');
    assert.equal(text.split('\n').length, 4);
    assert.ok(text.endsWith('\n'));
    const { records, warnings } = await readHistory(p);
    assert.deepEqual(warnings, []);
    assert.deepEqual(records.map((r) => r.type), ['migration', 'migration', 'run']);
    const folded = foldMigrations(records);
    assert.equal(folded.length, 1);
    assert.equal(folded[0]!.status, 'completed');
    assert.equal(folded[0]!.duration_s, 60);
    assert.equal(folded[0]!.first_at, '2026-11-25T10:00:00.000Z');
    assert.equal(lastRun(records)?.run_id, 'r1');
  } finally {
    cleanup();
  }
});

test('an invalid record is refused before anything is written', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'h.jsonl');
    assert.throws(() => appendRecord(p, mig({ status: 'exploded' as never })), /invalid migration record/);
    assert.throws(() => appendRecord(p, mig({ at: '25/11/2026' })), /invalid migration record/);
    assert.equal(existsSync(p), false);
  } finally {
    cleanup();
  }
});

test('a torn last line and a garbage line are skipped with their line numbers; nothing is rewritten', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'h.jsonl');
    appendRecord(p, mig({}));
    appendFileSync(p, 'this is not json\n');
    appendFileSync(p, '{"v":1,"type":"mystery"}\n');
    appendRecord(p, mig({ status: 'completed', at: '2026-11-25T10:01:00.000Z' }));
    appendFileSync(p, '{"v":1,"type":"migration","at":"2026-11-25T10:0'); // a crash mid-write
    const before = readFileSync(p);
    const { records, warnings, lines } = await readHistory(p);
    assert.equal(lines, 5);
    assert.equal(records.length, 2);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0]!, /h\.jsonl line 2: skipped, not valid JSON/);
    assert.match(warnings[1]!, /line 3: skipped, unknown record type "mystery"/);
    assert.match(warnings[2]!, /line 5: skipped, incomplete last line/);
    assert.deepEqual(readFileSync(p), before, 'reading changes nothing');

    // The next append terminates the torn line instead of gluing onto it.
    appendRecord(p, run());
    const after = readFileSync(p);
    assert.deepEqual(after.subarray(0, before.length), before, 'old bytes untouched');
    const again = await readHistory(p);
    assert.equal(again.records.length, 3);
    assert.equal(again.records[2]!.type, 'run');
    assert.match(again.warnings.at(-1)!, /line 5: skipped, not valid JSON/);
  } finally {
    cleanup();
  }
});

test('a missing history file is an empty history', async () => {
  const r = await readHistory('/nonexistent/dir/h.jsonl');
  assert.deepEqual(r, { records: [], warnings: [], lines: 0 });
});

test('halt holds until resumed; unfinished migrations are the ones with an open outcome', () => {
  const records: HistoryRecord[] = [
    mig({ migration_id: 'a' }),
    mig({ migration_id: 'a', status: 'failed', error: 'migration aborted' }),
    { v: 1, type: 'halted', at: '2026-11-25T10:02:00.000Z', run_id: 'r1', vmid: 120, error: 'migration aborted' },
    mig({ migration_id: 'b', vmid: 121 }),
    mig({ migration_id: 'c', vmid: 122 }),
    mig({ migration_id: 'c', vmid: 122, status: 'interrupted' }),
    mig({ migration_id: 'd', vmid: 123, status: 'dry-run', upid: null }),
  ];
  assert.equal(activeHalt(records)?.vmid, 120);
  assert.deepEqual(unfinishedMigrations(records).map((m) => m.migration_id), ['b', 'c']);
  records.push({ v: 1, type: 'resumed', at: '2026-11-25T11:00:00.000Z' });
  assert.equal(activeHalt(records), null);
});

test('the run lock excludes a second holder, names its pid, and is free the moment the holder dies (kill -9)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'h.jsonl');
    // A holder in another process.
    const lockModule = new URL('../src/history/lock.js', import.meta.url).href;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { acquireLock } = await import(${JSON.stringify(lockModule)}); await acquireLock(${JSON.stringify(path)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok) => holder.stdout!.once('data', () => ok()));
    await assert.rejects(acquireLock(path), (e: unknown) => e instanceof LockBusyError && e.pid === holder.pid && /pid \d+/.test(e.message));
    await assert.rejects(acquireLock(join(dir, '.', 'h.jsonl')), LockBusyError, 'another spelling of the same path is the same lock');
    const other = await acquireLock(join(dir, 'other.jsonl'));
    await other.release();
    holder.kill('SIGKILL');
    await new Promise((ok) => holder.on('close', ok));
    const mine = await acquireLock(path);
    await assert.rejects(acquireLock(path), LockBusyError, 'held by this process now');
    await mine.release();
    const again = await acquireLock(path);
    await again.release();
    assert.deepEqual(readdirSync(dir), [], 'no lock file is left anywhere');
  } finally {
    cleanup();
  }
});
