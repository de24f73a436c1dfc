import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { runCli, tempDir, type CliResult } from './cli.js';
import { join } from 'node:path';
import type { HistoryRecord, MigrationRecord, RunRecord } from '../../src/history/store.js';

/**
 * A FIXED history for the read-command tests, with known answers. The clock is fixed at NOW
 * (a Wednesday, through PROXBALANCE_NOW). The file also holds a garbage line (line 3) and a
 * torn last line, which the reader skips with warnings.
 */
export const NOW = '2026-11-25T12:00:00.000Z';
/** A name a spreadsheet round trip must survive: comma, quotes, newline. */
export const AWKWARD_NAME = 'dns, "primary"\nsecond line';
export const AWKWARD_REASON = 'load: pve2 CPU 91%, mem "high"';

let seq = 0;
export function mig(over: Partial<MigrationRecord>): MigrationRecord {
  return {
    v: 1, type: 'migration', at: '2026-11-25T10:00:00.000Z', run_id: 'r1', migration_id: `m${++seq}`, vmid: 120, name: 'web01',
    guest_type: 'qemu', source: 'pve1', target: 'pve2', status: 'started', upid: 'UPID:pve1:00001234:00005678:6565ABCD:qmigrate:120:root@pam!bal:',
    ...over,
  };
}

export function runRec(over: Partial<RunRecord>): RunRecord {
  return {
    v: 1, type: 'run', run_id: 'r1', started_at: '2026-11-25T10:00:00.000Z', finished_at: '2026-11-25T10:01:05.000Z',
    trigger: 'scheduled', mode: 'live', gates: [], outcome: 'no_action', decisions: [], ...over,
  };
}

/** started + outcome records of one migration. */
function pair(id: string, start: Partial<MigrationRecord>, end: Partial<MigrationRecord> | null): MigrationRecord[] {
  const first = mig({ migration_id: id, at: start.started_at, ...start });
  return end ? [first, { ...first, ...end, migration_id: id }] : [first];
}

/**
 * The expected figures (documented next to each record):
 * last 24 h: attempted 4 (m1 completed, m2 failed, m3 timeout, m8 pending), success rate 1/3,
 *            dry run 1 (m5), median duration 60 s.
 * last 7 d:  attempted 5 (+ m4 completed), success rate 2/4, dry run 2 (+ m6), median 90 s.
 * m7 is older than 7 days; m9 lies after NOW and is never shown.
 */
export function fixtureRecords(): HistoryRecord[] {
  const gatesOk = [
    { name: 'halted', passed: true, message: 'Automation not halted' },
    { name: 'window', passed: true, message: 'Migration window "Nightly" open' },
    { name: 'health', passed: true, message: 'Cluster healthy, quorate' },
  ];
  return [
    ...pair('m7', { vmid: 125, name: 'old', started_at: '2026-11-10T10:00:00.000Z', confidence: 80 }, { status: 'completed', at: '2026-11-10T10:02:00.000Z', duration_s: 120 }),
    ...pair('m6', { vmid: 124, name: 'cache', source: 'pve3', target: 'pve1', started_at: '2026-11-20T11:00:00.000Z', status: 'dry-run', upid: null, confidence: 77 }, null),
    ...pair('m4', { vmid: 120, name: 'web01', source: 'pve2', target: 'pve1', started_at: '2026-11-23T08:00:00.000Z', confidence: 78, reason: 'distribution' }, { status: 'completed', at: '2026-11-23T08:02:00.000Z', duration_s: 120 }),
    ...pair('m3', { vmid: 122, name: 'db01', source: 'pve1', target: 'pve3', started_at: '2026-11-24T20:00:00.000Z', confidence: 90 }, { status: 'timeout', at: '2026-11-24T22:00:00.000Z', duration_s: 7200, error: 'no outcome after 120 minutes' }),
    runRec({ run_id: 'r0', started_at: '2026-11-25T09:00:00.000Z', finished_at: '2026-11-25T09:00:40.000Z', outcome: 'failed', gates: gatesOk,
      decisions: [{ vmid: 121, name: AWKWARD_NAME, guest_type: 'lxc', action: 'move', source: 'pve2', target: 'pve3', confidence: 85, reason: AWKWARD_REASON, outcome: 'failed' }] }),
    ...pair('m2', { run_id: 'r0', vmid: 121, name: AWKWARD_NAME, guest_type: 'lxc', source: 'pve2', target: 'pve3', started_at: '2026-11-25T09:00:00.000Z', confidence: 85, reason: AWKWARD_REASON },
      { status: 'failed', at: '2026-11-25T09:00:30.000Z', duration_s: 30, error: 'migration aborted', exitstatus: 'migration aborted' }),
    { v: 1, type: 'halted', at: '2026-11-25T09:00:31.000Z', run_id: 'r0', vmid: 121, guest_type: 'lxc', migration_id: 'm2', error: 'migration aborted' },
    { v: 1, type: 'resumed', at: '2026-11-25T09:30:00.000Z', by: 'root' },
    runRec({ run_id: 'r1', started_at: '2026-11-25T10:00:00.000Z', finished_at: '2026-11-25T10:01:05.000Z', outcome: 'success', gates: gatesOk,
      decisions: [
        { vmid: 120, name: 'web01', guest_type: 'qemu', action: 'move', source: 'pve1', target: 'pve2', confidence: 82, kind: 'load', reason: 'pve1 CPU 91% over 60%', outcome: 'completed' },
        { vmid: 121, name: AWKWARD_NAME, guest_type: 'lxc', action: 'skip', reason: 'Cooldown active' },
        { vmid: 122, name: 'db01', guest_type: 'qemu', action: 'skip', reason: 'Below confidence threshold' },
      ] }),
    ...pair('m1', { vmid: 120, name: 'web01', source: 'pve1', target: 'pve2', started_at: '2026-11-25T10:00:00.000Z', confidence: 82, reason: 'pve1 CPU 91% over 60%' },
      { status: 'completed', at: '2026-11-25T10:01:00.000Z', duration_s: 60, transferred_bytes: 4 * 2 ** 30 }),
    runRec({ run_id: 'r2', started_at: '2026-11-25T11:00:00.000Z', finished_at: '2026-11-25T11:00:03.000Z', trigger: 'manual', mode: 'dry-run', outcome: 'success', gates: gatesOk,
      decisions: [
        { vmid: 123, name: 'app', guest_type: 'qemu', action: 'move', source: 'pve3', target: 'pve2', confidence: 76, reason: 'pve3 memory 80% over 70%', outcome: 'Dry run' },
        { vmid: 120, name: 'web01', guest_type: 'qemu', action: 'skip', reason: 'Cooldown active' },
      ] }),
    ...pair('m5', { run_id: 'r2', vmid: 123, name: 'app', source: 'pve3', target: 'pve2', started_at: '2026-11-25T11:00:00.000Z', status: 'dry-run', upid: null, confidence: 76 }, null),
    ...pair('m8', { vmid: 126, name: 'batch', source: 'pve1', target: 'pve3', started_at: '2026-11-25T11:30:00.000Z', confidence: 88 }, null),
    runRec({ run_id: 'r3', started_at: '2026-11-25T11:50:00.000Z', finished_at: '2026-11-25T11:50:01.000Z', outcome: 'skipped', reason: 'Outside migration window',
      gates: [gatesOk[0]!, { name: 'window', passed: false, message: 'Outside migration window: "Nightly" opens 22:00' }], decisions: [] }),
    ...pair('m9', { vmid: 127, name: 'future', started_at: '2026-11-26T10:00:00.000Z' }, { status: 'completed', at: '2026-11-26T10:01:00.000Z', duration_s: 60 }),
  ];
}

/** Writes the fixture history (garbage at line 3, torn last line) and a config naming it. */
export function writeFixture(dir: string, opts: { records?: HistoryRecord[]; config?: Record<string, unknown>; damaged?: boolean } = {}): { history: string; config: string } {
  mkdirSync(dir, { recursive: true });
  const history = join(dir, 'history.jsonl');
  const lines = (opts.records ?? fixtureRecords()).map((r) => JSON.stringify(r));
  if (opts.damaged !== false) {
    lines.splice(2, 0, 'garbage that is not JSON');
    lines.push('{"v":1,"type":"migration","at":"2026-11-25T11:5'); // a crash mid-write, no newline
  }
  writeFileSync(history, lines.join('\n') + (opts.damaged !== false ? '' : '\n'));
  const config = join(dir, 'config.json');
  const cfg = {
    proxmox_host: 'pve1',
    proxmox_api_token_id: 'root@pam!bal',
    history_file: history,
    ...opts.config,
  };
  writeFileSync(config, JSON.stringify(cfg, null, 2), { mode: 0o600 });
  chmodSync(config, 0o600);
  return { history, config };
}

/**
 * For a test file: writes the fixture into a fresh folder before its tests and removes it after.
 * `cli` runs the real binary on that config with the clock at NOW.
 */
export function sharedFixture(): { dir: string; config: string; cli: (...args: string[]) => Promise<CliResult> } {
  let cleanup = () => {};
  const fx = {
    dir: '',
    config: '',
    cli: (...args: string[]) => runCli([...args, '--config', fx.config], { env: { PROXBALANCE_NOW: NOW } }),
  };
  before(() => {
    const t = tempDir();
    fx.dir = t.dir;
    cleanup = t.cleanup;
    fx.config = writeFixture(t.dir).config;
  });
  after(() => cleanup());
  return fx;
}
