import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHistory, decisionsHolder, type HistoryRecord, type MigrationRecord, type RunRecord, type HaltedRecord } from '../src/history/store.js';
import { readHistoryTail, CONFIRM_OLD } from '../src/history/tail.js';
import {
  activeHalt, ENGINE_LOOKBACK_MS, engineHistoryView, failuresWithoutHalt, lastRun, nextScheduledCheck, recordsInForce, selectMigrations, selectRuns, unfinishedMigrations,
} from '../src/history/views.js';
import { computeStats } from '../src/history/stats.js';
import { haltRecipients } from '../src/notify/notifier.js';
import { rng } from './helpers/generate.js';

/**
 * The end of the history read by readHistoryTail gives the same views as the whole file, on
 * random histories written the way ticks write them: each simulated tick reads the end of the
 * file (as the real tick does) and writes its run record's `carried` from what it read. The
 * histories hold what can be old and still in force: a halt never resumed, intents never
 * resolved, a failure of a run that died before its halt, halt notifications, decisions named by
 * decisions_same_as, a first stretch written before `carried` existed (no checkpoint), damaged
 * lines, and a clock that runs behind for a few records.
 */

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const PROVIDERS = ['webhook', 'email', 'slack'] as const;

interface Sim {
  path: string;
  rand: () => number;
  t: number;
  tick: number;
  mig: number;
  /** Ticks written before checkpoints existed: no `carried`, decisions_same_as chained, no intents. */
  oldTicks: number;
  decisions: RunRecord['decisions'];
}

function write(sim: Sim, r: HistoryRecord | string): void {
  appendFileSync(sim.path, `${typeof r === 'string' ? r : JSON.stringify(r)}\n`);
}

function migration(sim: Sim, runId: string, status: MigrationRecord['status'], extra: Partial<MigrationRecord> = {}): MigrationRecord {
  const vmid = 100 + Math.floor(sim.rand() * 6);
  return {
    v: 1, type: 'migration', at: iso(sim.t), run_id: runId, migration_id: `${runId}-${vmid}`, vmid, name: `g${vmid}`, guest_type: 'qemu',
    source: `pve${1 + Math.floor(sim.rand() * 3)}`, target: 'pve4', reason: 'pve1 CPU over 60%', status, upid: null, ...extra,
  };
}

function upid(sim: Sim, vmid: number): string {
  return `UPID:pve1:0000${(sim.mig++).toString(16).padStart(4, '0')}:00005678:${Math.floor(sim.t / 1000).toString(16).toUpperCase()}:qmigrate:${vmid}:root@pam!bal:`;
}

/** The outcome of a migration whose state is `m`, recorded by run `runId` (reconciliation or the executor). */
function outcome(sim: Sim, runId: string, m: MigrationRecord, status: 'completed' | 'failed' | 'never_started' | 'timeout' | 'started'): MigrationRecord {
  const u = m.upid ?? (status === 'never_started' ? null : upid(sim, m.vmid));
  return { ...m, at: iso(sim.t), run_id: runId, status, upid: u, ...(status !== 'never_started' && { started_at: m.started_at ?? iso(sim.t - 60_000) }), ...(status === 'completed' || status === 'failed' ? { finished_at: iso(sim.t), duration_s: 60 } : {}), ...(status === 'failed' ? { error: 'migration aborted' } : {}) };
}

/** One tick: reads the end of the file like runTick, appends what it does, and its run record. */
function simTick(sim: Sim): void {
  const old = sim.tick < sim.oldTicks;
  const runId = `r${sim.tick++}`;
  // The clock: mostly an hour or so between ticks, sometimes days; rarely a few records dated far too early.
  sim.t += sim.rand() < 0.05 ? 3 * 24 * HOUR * sim.rand() : HOUR * (0.2 + sim.rand());
  const behind = sim.rand() < 0.01 ? 30 * 24 * HOUR : 0;
  const now = sim.t;
  sim.t -= behind;
  const view = readHistoryTail(sim.path, { sinceMs: now - ENGINE_LOOKBACK_MS, checkpoint: true }).records;
  const append = (r: HistoryRecord) => {
    write(sim, r);
    view.push(r);
  };
  const r = sim.rand();
  // Earlier migrations without outcome: usually looked up, sometimes not (node offline).
  for (const m of unfinishedMigrations(view)) {
    if (sim.rand() < 0.6) continue;
    const st = (['completed', 'failed', 'never_started', 'started'] as const)[Math.floor(sim.rand() * 4)]!;
    append(outcome(sim, runId, m, st));
    if (st === 'failed' && !activeHalt(view)) append({ v: 1, type: 'halted', at: iso(sim.t), run_id: runId, vmid: m.vmid, migration_id: m.migration_id, error: 'migration aborted' });
  }
  if (activeHalt(view) && sim.rand() < 0.05) append({ v: 1, type: 'resumed', at: iso(sim.t), by: 'root' });
  let died = false;
  if (r < 0.3 && !activeHalt(view)) {
    const first = migration(sim, runId, old ? 'started' : 'intent', old ? { started_at: iso(sim.t) } : { planned_at: iso(sim.t) });
    if (old) first.upid = upid(sim, first.vmid);
    append(first);
    const fate = sim.rand();
    if (fate < 0.15) died = true; // killed around the request: the intent stays without outcome
    else if (fate < 0.25) append(outcome(sim, runId, first, 'timeout'));
    else if (fate < 0.35) {
      append(outcome(sim, runId, first, 'failed'));
      if (sim.rand() < 0.4) died = true; // died between the failure and its halt
      else append({ v: 1, type: 'halted', at: iso(sim.t), run_id: runId, vmid: first.vmid, migration_id: first.migration_id, error: 'migration aborted' });
    } else append(outcome(sim, runId, first, 'completed'));
  } else if (r < 0.4) append(migration(sim, runId, 'dry-run', { started_at: iso(sim.t) }));
  if (sim.rand() < 0.01) write(sim, sim.rand() < 0.5 ? '{"torn": ' : '{"v":1,"type":"bogus"}');
  if (died) {
    sim.t += behind;
    return;
  }
  if (sim.rand() < 0.1) sim.decisions = [{ vmid: 100 + Math.floor(sim.rand() * 6), action: 'skip', reason: `Cooldown active ${sim.tick}` }];
  const halt = activeHalt(view);
  const run: RunRecord = {
    v: 1, type: 'run', run_id: runId, started_at: iso(sim.t), finished_at: iso(sim.t + 1000), trigger: sim.rand() < 0.8 ? 'scheduled' : 'manual', mode: 'live',
    gates: [], outcome: halt ? 'halted' : 'no_action', decisions: sim.decisions, ...(old ? {} : { carried: recordsInForce(view) }),
  };
  const prev = lastRun(view);
  const holder = prev && decisionsHolder(prev);
  if (prev && holder && JSON.stringify(prev.decisions) === JSON.stringify(run.decisions) && (old || sim.t - Date.parse(holder.started_at) <= 24 * HOUR)) {
    write(sim, { ...run, decisions: [], decisions_same_as: old ? prev.run_id : holder.run_id });
  } else write(sim, run);
  view.push(run);
  if (halt && sim.rand() < 0.5) {
    const p = PROVIDERS[Math.floor(sim.rand() * PROVIDERS.length)]!;
    write(sim, { v: 1, type: 'notification', at: iso(sim.t), run_id: runId, event: 'halt', title: 'Automation Halted', halt_at: halt.at, deliveries: [{ provider: p, ok: sim.rand() < 0.3 }] });
  }
  sim.t += behind;
}

/** Everything the commands that read the end of the file derive from the history. */
function facts(records: HistoryRecord[], nowMs: number) {
  const now = new Date(nowMs);
  const halt = activeHalt(records);
  const open = unfinishedMigrations(records);
  return {
    halt,
    open,
    failuresWithoutHalt: failuresWithoutHalt(records),
    engine: engineHistoryView(records, nowMs),
    lastRun: lastRun(records),
    lastRunBeforeNow: lastRun(records, (r) => Date.parse(r.started_at) <= nowMs),
    nextScheduled: nextScheduledCheck(records, 60, now),
    haltRecipients: halt ? haltRecipients(records, halt as HaltedRecord, [...PROVIDERS]) : null,
    // The tasks a lookup by guest and time must not take: UPIDs of that guest since the intent.
    knownUpids: open.filter((m) => !m.upid).map((m) => records.filter((r) => r.type === 'migration' && r.upid && r.vmid === m.vmid && Date.parse(r.at) >= Date.parse(m.first_at)).map((r) => (r as MigrationRecord).upid).sort()),
    // What the next run record carries.
    inForce: recordsInForce(records),
  };
}

function simulate(seed: number, dir: string): { sim: Sim; end: number } {
  const rand = rng(seed);
  const sim: Sim = { path: join(dir, `h${seed}.jsonl`), rand, t: Date.parse('2026-01-01T00:00:00Z'), tick: 0, mig: 0, oldTicks: rand() < 0.5 ? Math.floor(rand() * 150) : 0, decisions: [] };
  writeFileSync(sim.path, '');
  // Something old that stays in force: a halt never resumed, or an intent never resolved.
  const ticks = 300 + Math.floor(rand() * 150);
  for (let i = 0; i < ticks; i++) simTick(sim);
  return { sim, end: sim.t };
}

test('the end of the history gives the same views as the whole file (random histories)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-tail-'));
  let partial = 0;
  let oldInForce = 0;
  try {
    for (let seed = 1; seed <= 12; seed++) {
      const { sim, end } = simulate(seed, dir);
      const full = await readHistory(sim.path);
      for (const nowMs of [end, end + HOUR, end + 2 * ENGINE_LOOKBACK_MS]) {
        const tail = readHistoryTail(sim.path, { sinceMs: nowMs - ENGINE_LOOKBACK_MS, checkpoint: true });
        assert.deepEqual(facts(tail.records, nowMs), facts(full.records, nowMs), `seed ${seed}, now ${iso(nowMs)}`);
        for (const w of tail.warnings) assert.ok(full.warnings.includes(w), `seed ${seed}: warning ${w} not among the whole read's ${full.warnings.join(' | ')}`);
        if (!tail.whole) {
          partial++;
          // Something in force is older than the look-back (and than the CONFIRM_OLD records past it).
          if (facts(full.records, nowMs).inForce.some((r) => Date.parse(r.at) < nowMs - ENGINE_LOOKBACK_MS - 3 * 24 * HOUR)) oldInForce++;
        }
      }
      // history --since and stats read the end without a checkpoint.
      for (const back of [HOUR, 2 * 24 * HOUR, 8 * 24 * HOUR]) {
        const since = end - back;
        const tail = readHistoryTail(sim.path, { sinceMs: since, checkpoint: false });
        assert.deepEqual(selectMigrations(tail.records, { sinceMs: since, untilMs: end }), selectMigrations(full.records, { sinceMs: since, untilMs: end }), `seed ${seed} migrations since -${back}`);
        assert.deepEqual(selectRuns(tail.records, { sinceMs: since, untilMs: end }), selectRuns(full.records, { sinceMs: since, untilMs: end }), `seed ${seed} runs since -${back}`);
      }
      const statsTail = readHistoryTail(sim.path, { sinceMs: end - 8 * 24 * HOUR, checkpoint: false });
      assert.deepEqual(computeStats(statsTail.records, new Date(end), { zone: 'Europe/Berlin' }), computeStats(full.records, new Date(end), { zone: 'Europe/Berlin' }));
    }
    // The property was tested where it matters: reads that stopped early with old state in force.
    assert.ok(partial >= 10, `only ${partial} reads stopped before the start of the file`);
    assert.ok(oldInForce >= 3, `only ${oldInForce} reads had a record in force older than the part they read`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a halt and an intent older than the look-back are found behind many newer records; little is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-tail-'));
  try {
    const path = join(dir, 'history.jsonl');
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const intent: MigrationRecord = { v: 1, type: 'migration', at: iso(t0), run_id: 'r0', migration_id: 'r0-101', vmid: 101, name: 'db', guest_type: 'qemu', source: 'pve1', target: 'pve2', status: 'intent', upid: null, planned_at: iso(t0) };
    const halt: HaltedRecord = { v: 1, type: 'halted', at: iso(t0 + 1000), run_id: 'r0', vmid: 102, error: 'migration aborted' };
    const lines = [JSON.stringify(intent), JSON.stringify(halt)];
    const n = 20_000;
    for (let i = 1; i <= n; i++) {
      const run: RunRecord = { v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t0 + i * 60_000), finished_at: iso(t0 + i * 60_000 + 500), trigger: 'scheduled', mode: 'live', gates: [], outcome: 'halted', decisions: [], carried: [intent, halt] };
      lines.push(JSON.stringify(run));
    }
    writeFileSync(path, lines.join('\n') + '\n');
    const now = t0 + (n + 1) * 60_000;
    const tail = readHistoryTail(path, { sinceMs: now - HOUR, checkpoint: true });
    const full = await readHistory(path);
    assert.equal(tail.whole, false);
    assert.ok(tail.lines <= 2 * 60 + CONFIRM_OLD + 2, `read ${tail.lines} lines`);
    assert.deepEqual(activeHalt(tail.records), halt);
    assert.deepEqual(unfinishedMigrations(tail.records), unfinishedMigrations(full.records));
    assert.equal(unfinishedMigrations(tail.records)[0]?.migration_id, 'r0-101');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a guest HA moved along (a start with planned_at, no intent) opens its migration: the read stops behind it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-tail-'));
  try {
    const path = join(dir, 'history.jsonl');
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const n = 5_000;
    const lines: string[] = [];
    const run = (i: number): RunRecord => ({ v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t0 + i * 60_000), finished_at: iso(t0 + i * 60_000 + 500), trigger: 'scheduled', mode: 'live', gates: [], outcome: 'success', decisions: [], carried: [] });
    for (let i = 1; i <= n; i++) lines.push(JSON.stringify(run(i)));
    // Near the end: a pair's lead (intent, started, completed) and its companion (started with planned_at, completed).
    const at = t0 + (n - 30) * 60_000;
    const base = { v: 1 as const, type: 'migration' as const, run_id: `r${n - 30}`, guest_type: 'qemu' as const, source: 'pve1', target: 'pve2', upid: 'UPID:pve1:00001234:00005678:6565ABCD:hamigrate:101:root@pam!bal:' };
    const lead = { ...base, migration_id: 'm-lead', vmid: 101, name: 'web' };
    const along = { ...base, migration_id: 'm-along', vmid: 102, name: 'db', reason: 'HA moves it along with VM 101 (positive affinity)' };
    const recs: MigrationRecord[] = [
      { ...lead, at: iso(at), status: 'intent', upid: null, planned_at: iso(at) },
      { ...lead, at: iso(at + 1000), status: 'started', started_at: iso(at + 1000) },
      { ...along, at: iso(at + 1000), status: 'started', started_at: iso(at + 1000), planned_at: iso(at) },
      { ...lead, at: iso(at + 60_000), status: 'completed', started_at: iso(at + 1000), finished_at: iso(at + 60_000) },
      { ...along, at: iso(at + 60_000), status: 'completed', started_at: iso(at + 1000), finished_at: iso(at + 60_000), planned_at: iso(at) },
    ];
    lines.splice(n - 29, 0, ...recs.map((r) => JSON.stringify(r)));
    writeFileSync(path, lines.join('\n') + '\n');
    const now = t0 + (n + 1) * 60_000;
    const tail = readHistoryTail(path, { sinceMs: now - HOUR, checkpoint: true });
    const full = await readHistory(path);
    assert.equal(tail.whole, false);
    assert.ok(tail.lines < 200, `read ${tail.lines} lines`);
    assert.deepEqual(selectMigrations(tail.records, { sinceMs: now - HOUR }).map((m) => [m.migration_id, m.status]).sort(), [['m-along', 'completed'], ['m-lead', 'completed']]);
    assert.deepEqual(selectMigrations(tail.records, { sinceMs: now - HOUR }), selectMigrations(full.records, { sinceMs: now - HOUR }));
    // Written before the mark existed (no planned_at on the companion's start): correct, but the whole file is read.
    writeFileSync(path, lines.map((l) => (l.includes('"m-along"') ? l.replace(/,"planned_at":"[^"]*"/, '') : l)).join('\n') + '\n');
    const old = readHistoryTail(path, { sinceMs: now - HOUR, checkpoint: true });
    assert.equal(old.whole, true);
    assert.deepEqual(selectMigrations(old.records, { sinceMs: now - HOUR }), selectMigrations((await readHistory(path)).records, { sinceMs: now - HOUR }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damaged lines in the part read are warned about with their line number from the start; nothing is modified', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-tail-'));
  try {
    const path = join(dir, 'history.jsonl');
    const lines: string[] = [];
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < 3000; i++) {
      lines.push(JSON.stringify({ v: 1, type: 'run', run_id: `r${i}`, started_at: iso(t0 + i * 60_000), finished_at: iso(t0 + i * 60_000), trigger: 'manual', mode: 'live', gates: [], outcome: 'no_action', decisions: [], carried: [] }));
      if (i === 2990) lines.push('garbage');
      if (i === 2995) lines.push('{"v":1,"type":"mystery"}');
    }
    const text = `${lines.join('\n')}\n{"v":1,"type":"ru`;
    writeFileSync(path, text);
    const tail = readHistoryTail(path, { sinceMs: t0 + 2980 * 60_000, checkpoint: true });
    const full = await readHistory(path);
    assert.equal(tail.whole, false);
    assert.deepEqual(tail.warnings, full.warnings);
    assert.deepEqual(tail.warnings.map((w) => w.replace(/^.* line (\d+): .*$/, '$1')), ['2992', '2998', '3003']);
    assert.match(tail.warnings[2]!, /incomplete last line/);
    assert.equal(readFileSync(path, 'utf8'), text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
