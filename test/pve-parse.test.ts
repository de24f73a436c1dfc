import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatUpid, parseUpid } from '../src/pve/upid.js';
import { parseLogLine, parseSize, summarizeMigrationLog } from '../src/pve/tasklog.js';
import { buildSnapshot, parsePropertyString, parseTags, averageRrd, lrmState } from '../src/pve/snapshot.js';
import { normalizePrecondition } from '../src/pve/client.js';
import { parsePermissionMessage } from '../src/pve/errors.js';
import type { ClusterStatusEntry, ClusterTaskEntry, MigratePreconditionRaw, ResourceEntry, RrdPoint, TaskStatus } from '../src/pve/types.js';
import { PVE_FIXTURES_DIR, readFixture } from './helpers/pve-schema.js';
import { assertValidSnapshot } from './helpers/snapshot-schema.js';

test('UPID: parse and format round-trip, 8 or 9 hex digits of pstart, empty id, token user', () => {
  const cases = [
    'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:',
    'UPID:pve-2:00001234:1A2B3C4D5:65A0B1C2:qmigrate:100:proxbalance@pve!balancer:',
    'UPID:pve3:0000ABCD:00C0FFEE:65A0B1C2:aptupdate::root@pam:',
  ];
  for (const c of cases) {
    const u = parseUpid(c);
    assert.ok(u, c);
    assert.equal(formatUpid(u), c);
  }
  const u = parseUpid(cases[0]!)!;
  assert.deepEqual(u, { node: 'node1', pid: 0xff1fd, pstart: 0x10f9374c, starttime: 0x630d702c, type: 'vzdump', id: '110', user: 'root@pam' });
  assert.equal(parseUpid(cases[1]!)!.pstart, 0x1a2b3c4d5);
  assert.equal(parseUpid(cases[1]!)!.user, 'proxbalance@pve!balancer');
  assert.equal(parseUpid(cases[2]!)!.id, '');
  assert.equal(parseUpid('UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam'), null, 'the trailing colon is part of it');
  assert.equal(parseUpid('UPID:node1:FF1FD:10F9374C:630D702C:vzdump:110:root@pam:'), null);
  assert.equal(parseUpid('not a upid'), null);
});

test('UPIDs of the captured task status answers agree with their fields', () => {
  for (const f of ['proxmoxer_task_status_stopped_ok.json', 'proxmoxer_task_status_running.json']) {
    const st = readFixture<{ data: TaskStatus }>(f).data;
    const u = parseUpid(st.upid)!;
    assert.equal(u.pid, st.pid);
    assert.equal(u.pstart, st.pstart);
    assert.equal(u.starttime, st.starttime);
    assert.equal(u.node, st.node);
    assert.equal(u.type, st.type);
  }
});

test('sizes use binary units', () => {
  assert.equal(parseSize('357.9 MiB'), Math.round(357.9 * 1024 ** 2));
  assert.equal(parseSize('4.0 GiB'), 4 * 1024 ** 3);
  assert.equal(parseSize('512 KiB'), 512 * 1024);
  assert.equal(parseSize('1.5 TiB'), 1.5 * 1024 ** 4);
  assert.equal(parseSize('12 B'), 12);
  assert.equal(parseSize('lots'), null);
});

test('migration log lines', () => {
  assert.deepEqual(parseLogLine('2025-01-04 00:34:30 migration active, transferred 357.9 MiB of 4.0 GiB VM-state, 586.6 MiB/s').event, {
    kind: 'progress', transferred: Math.round(357.9 * 1024 ** 2), total: 4 * 1024 ** 3, rate: Math.round(586.6 * 1024 ** 2),
  });
  assert.equal(parseLogLine('2025-01-04 00:34:30 migration active, transferred 1 MiB of 2 GiB VM-state, 3 MiB/s').time, '2025-01-04 00:34:30');
  assert.deepEqual(parseLogLine('2025-01-04 00:34:38 average migration speed: 457.0 MiB/s - downtime 73 ms').event, { kind: 'average', rate: Math.round(457 * 1024 ** 2), downtimeMs: 73 });
  assert.deepEqual(parseLogLine('2025-01-04 00:34:42 migration finished successfully (duration 00:00:18)').event, { kind: 'finished', durationSeconds: 18 });
  assert.deepEqual(parseLogLine('2025-01-04 00:34:42 ERROR: migration aborted (duration 00:00:03): VM 100 qmp command failed').event, {
    kind: 'error', message: 'migration aborted (duration 00:00:03): VM 100 qmp command failed',
  });
  assert.deepEqual(parseLogLine('TASK ERROR: migration aborted').event, { kind: 'task-error', message: 'migration aborted' });
  assert.deepEqual(parseLogLine('TASK WARNINGS: 2').event, { kind: 'task-warnings', count: 2 });
  assert.deepEqual(parseLogLine('2025-01-04 00:34:30 drive-scsi0: transferred 1.0 GiB of 32.0 GiB (3.12%) in 2s').event, {
    kind: 'disk', drive: 'drive-scsi0', transferred: 1024 ** 3, total: 32 * 1024 ** 3,
  });
  assert.equal(parseLogLine('2025-01-04 00:34:29 set migration capabilities').event, null);
});

test('the real HA live-migration logs parse: HA-started, progress, speed, success', () => {
  const a = summarizeMigrationLog(readFixture<{ data: Array<{ n: number; t: string }> }>('real_qmigrate_live_log_ha_vm105.json').data);
  assert.equal(a.haStarted, true);
  assert.equal(a.finished, true);
  assert.equal(a.ended, true);
  assert.equal(a.error, null);
  assert.equal(a.durationSeconds, 18);
  assert.equal(a.downtimeMs, 73);
  assert.equal(a.transferred, Math.round(2.5 * 1024 ** 3));
  assert.equal(a.total, 4 * 1024 ** 3);
  const text = readFileSync(join(PVE_FIXTURES_DIR, 'real_qmigrate_live_log_ha_vm20057.txt'), 'utf8').split('\n').filter(Boolean);
  const b = summarizeMigrationLog(text);
  assert.equal(b.haStarted, true);
  assert.equal(b.finished, true);
  assert.equal(b.transferred, Math.round(11.7 * 1024 ** 3), 'the "migration completed, transferred" line is the last word');
  assert.equal(b.averageRate, Math.round(806.6 * 1024 ** 2));
  const json = readFixture<{ data: Array<{ n: number; t: string }>; total: number }>('real_qmigrate_live_log_ha_vm20057.json');
  assert.equal(json.total, json.data.length);
  assert.deepEqual(json.data.map((l) => l.n), json.data.map((_, i) => i + 1));
});

test('tags split on ";" and tolerate "," and spaces', () => {
  assert.deepEqual(parseTags('prod;web'), ['prod', 'web']);
  assert.deepEqual(parseTags('prod, web ;; Ignore'), ['prod', 'web', 'ignore']);
  assert.deepEqual(parseTags(' a b;a '), ['a', 'b']);
  assert.deepEqual(parseTags('go-proxmox+cloud-init'), ['go-proxmox+cloud-init']);
  assert.deepEqual(parseTags(''), []);
  assert.deepEqual(parseTags(undefined), []);
});

test('small helpers: property strings, rrd averages, LRM states, permission messages', () => {
  assert.deepEqual(parsePropertyString('ha=static,ha-auto-rebalance=1'), { ha: 'static', 'ha-auto-rebalance': '1' });
  assert.deepEqual(parsePropertyString({ ha: 'basic', 'ha-auto-rebalance': 0 }), { ha: 'basic', 'ha-auto-rebalance': '0' });
  const pts: RrdPoint[] = [{ time: 1 }, { time: 2, cpu: 0.2, memused: 100, iowait: 0.01 }, { time: 3, cpu: 0.4, memused: 300, iowait: 0.03 }];
  const avg = averageRrd(pts)!;
  assert.ok(Math.abs(avg.cpu - 0.3) < 1e-9 && avg.mem === 200 && avg.samples === 2);
  assert.equal(averageRrd([{ time: 1 }]), null);
  // Proxmox's own text: "<node> (<state>, <watchdog>, <time>)", older without the watchdog.
  assert.equal(lrmState('pve1 (maintenance mode, watchdog active, Tue Nov 25 12:00:00 2026)'), 'maintenance');
  assert.equal(lrmState('pve1 (active, watchdog active, Tue Nov 25 12:00:00 2026)'), 'active');
  assert.equal(lrmState('pve2 (idle, watchdog standby, Tue Nov 25 12:00:00 2026)'), 'idle');
  assert.equal(lrmState('deadbeef (active, Tue Nov 25 12:00:00 2026)'), 'active', 'a node name is not a state');
  assert.equal(lrmState('maintenance-box (active, watchdog active, Tue Nov 25 12:00:00 2026)'), 'active');
  assert.equal(lrmState('pve3 (old timestamp - dead?, watchdog standby, Tue Nov 25 11:00:00 2026)'), 'dead');
  assert.equal(lrmState('pve3 (unable to read lrm status)'), 'unknown');
  assert.equal(lrmState('pve1 (restart mode, watchdog active, Tue Nov 25 12:00:00 2026)'), 'restart');
  assert.equal(lrmState('maintenance mode'), 'maintenance', 'a bare state');
  assert.deepEqual(parsePermissionMessage('Permission check failed (/vms/100, VM.Migrate)'), { path: '/vms/100', privilege: 'VM.Migrate' });
});

test('the precondition answer normalises (the synthetic capture, qemu spelling)', () => {
  const raw = readFixture<{ data: MigratePreconditionRaw }>('go-proxmox_pve9x_SYNTHETIC_qemu_101_migrate_precondition.json').data;
  const p = normalizePrecondition(raw);
  assert.deepEqual(p.allowedNodes, ['node2', 'node3']);
  assert.equal(p.hasLocalDisks, true);
  assert.equal(p.localDisksBytes, 34359738368);
  assert.match(p.notAllowed.node4!, /local-lvm/);
  assert.match(p.notAllowed.node4!, /vm:101/);
  const lxc = normalizePrecondition({ running: 1, 'allowed-nodes': ['a'], 'not-allowed-nodes': { b: { 'blocking-ha-resources': [{ sid: 'ct:5', cause: 'resource-affinity' }] } } });
  assert.deepEqual(lxc.allowedNodes, ['a']);
  assert.equal(lxc.running, true);
  assert.match(lxc.notAllowed.b!, /ct:5/);
});

test('a snapshot builds from the real captures of /cluster/resources and /cluster/status', () => {
  const resources = readFixture<{ data: ResourceEntry[] }>('go-proxmox_pve8x_cluster_resources.json').data;
  const status = readFixture<{ data: ClusterStatusEntry[] }>('go-proxmox_pve8x_cluster_status.json').data;
  const tasks = readFixture<{ data: ClusterTaskEntry[] }>('go-proxmox_pve9x_SYNTHETIC_cluster_tasks.json').data;
  const s = buildSnapshot({ resources, status, tasks, ha: null, options: null, rrd: new Map(), host: 'node1', requests: 3, now: new Date('2026-01-01T00:00:00Z') });
  assertValidSnapshot(s);
  assert.equal(s.cluster.name, 'clustername');
  assert.equal(s.cluster.quorate, true);
  assert.equal(s.guests.length, resources.filter((r) => r.type === 'qemu').length);
  assert.equal(s.storages.length, resources.filter((r) => r.type === 'storage').length);
  assert.equal(s.guests.find((g) => g.vmid === 101)!.template, true);
  assert.equal(s.tasks.length, 0, 'vzdump and qmstart are not migrations');
  assert.equal(s.crs.ha_auto_rebalance, null);
  // Every online node lacks rrddata here: said, not invented.
  for (const n of s.nodes.filter((x) => x.status === 'online')) assert.equal(n.avg, null);
});

test('missingPrivileges reads GET /access/permissions', async () => {
  const { missingPrivileges } = await import('../src/pve/types.js');
  const full = readFixture<{ data: Record<string, Record<string, number>> }>('go-proxmox_pve8x_access_permissions.json').data;
  assert.deepEqual(missingPrivileges(full), []);
  assert.deepEqual(missingPrivileges({ '/': { 'VM.Audit': 1, 'Sys.Audit': 1 } }), ['VM.Migrate', 'Datastore.Audit']);
  assert.deepEqual(missingPrivileges({}), ['VM.Audit', 'VM.Migrate', 'Sys.Audit', 'Datastore.Audit']);
});
