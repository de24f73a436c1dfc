/**
 * Scenarios: JSON files in test/fake-pve/scenarios/ describing a cluster in readable units
 * (GiB), or a `generate` block for a seeded cluster of any size. See scenarios/README.md.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { generateSnapshot, type GenerateOptions } from '../helpers/generate.js';
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode, SnapshotStorage } from '../../src/generated/snapshot.js';
import { FakeState, type FakeHaGroup, type FakeHaRule, type FakeStateOptions } from './state.js';

export const SCENARIO_DIR = join(ROOT, 'test', 'fake-pve', 'scenarios');
const GiB = 1024 ** 3;

export interface ScenarioNode {
  name: string;
  maxcpu: number;
  maxmem_gib: number;
  status?: 'online' | 'offline';
  /** HA maintenance mode (ha-manager crm-command node-maintenance enable). */
  maintenance?: boolean;
  iowait?: number;
}

export interface ScenarioGuest {
  vmid: number;
  type?: 'qemu' | 'lxc';
  name?: string;
  node: string;
  status?: 'running' | 'stopped';
  /** Fraction 0..1 of its own cores. */
  cpu?: number;
  maxcpu?: number;
  mem_gib?: number;
  maxmem_gib?: number;
  disk_gib?: number;
  tags?: string[];
  lock?: string | null;
  pool?: string | null;
  ha?: boolean;
  template?: boolean;
  local_disks_gib?: number;
  local_resources?: string[];
  /** node → storages missing there. */
  unavailable_on?: Record<string, string[]>;
  /** PVE 8: the HA group it names (implies ha). */
  ha_group?: string;
  /** PVE 9 HA failback (default on). */
  failback?: boolean;
  /** HA service state (started, fence, recovery, …; implies ha). */
  hastate?: string;
}

export interface Scenario {
  description?: string;
  cluster?: string | null;
  version?: string;
  quorate?: boolean;
  crs?: { ha?: string; 'ha-auto-rebalance'?: number };
  generate?: GenerateOptions;
  nodes?: ScenarioNode[];
  guests?: ScenarioGuest[];
  storages?: SnapshotStorage[];
  /** PVE 9 HA rules. */
  ha_rules?: FakeHaRule[];
  /** PVE 8 HA groups (with version 8.x). */
  ha_groups?: FakeHaGroup[];
}

export function listScenarios(): string[] {
  return readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json'));
}

export function readScenario(nameOrPath: string): Scenario {
  const file = existsSync(nameOrPath) ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.json`);
  if (!existsSync(file)) throw new Error(`no scenario ${nameOrPath} (have: ${listScenarios().join(', ')})`);
  return JSON.parse(readFileSync(file, 'utf8')) as Scenario;
}

export function scenarioState(sc: Scenario, opts: FakeStateOptions = {}): FakeState {
  const so: FakeStateOptions = { ...opts };
  if (sc.cluster !== undefined) so.clusterName = sc.cluster;
  if (sc.version) so.version = sc.version;
  if (sc.crs) so.crs = sc.crs;
  if (sc.generate) {
    const s = FakeState.fromSnapshot(generateSnapshot(sc.generate), so);
    if (sc.crs) s.crs = sc.crs;
    return s;
  }
  const nodes: SnapshotNode[] = (sc.nodes ?? []).map((n) => ({
    name: n.name, status: n.status ?? 'online', cpu: 0, maxcpu: n.maxcpu, mem: 0, maxmem: n.maxmem_gib * GiB,
    avg: { cpu: 0, mem: 0, iowait: n.iowait ?? 0.01, samples: 70 }, ha_state: n.maintenance ? 'maintenance' : null, complete: true,
  }));
  const guests: SnapshotGuest[] = (sc.guests ?? []).map((g) => {
    const type = g.type ?? 'qemu';
    const status = g.status ?? 'running';
    const maxmem = Math.round((g.maxmem_gib ?? 2) * GiB);
    return {
      vmid: g.vmid, type, name: g.name ?? `${type === 'qemu' ? 'vm' : 'ct'}${g.vmid}`, node: g.node, status,
      cpu: status === 'running' ? g.cpu ?? 0.1 : 0, maxcpu: g.maxcpu ?? 2,
      mem: status === 'running' ? Math.round((g.mem_gib ?? (g.maxmem_gib ?? 2) * 0.6) * GiB) : 0, maxmem,
      maxdisk: Math.round((g.disk_gib ?? 32) * GiB), tags: g.tags ?? [], lock: g.lock ?? null, pool: g.pool ?? null,
      hastate: g.hastate ?? (g.ha || g.ha_group ? 'started' : null), template: g.template ?? false,
      local: { disks_bytes: Math.round((g.local_disks_gib ?? 0) * GiB), resources: g.local_resources ?? [], not_allowed: {} },
    };
  });
  const storages: SnapshotStorage[] =
    sc.storages ??
    nodes.flatMap((n) => [
      { storage: 'local', node: n.name, shared: false, status: 'available', plugintype: 'dir', content: ['iso', 'vztmpl', 'backup'], disk: 20 * GiB, maxdisk: 100 * GiB },
      { storage: 'local-lvm', node: n.name, shared: false, status: 'available', plugintype: 'lvmthin', content: ['images', 'rootdir'], disk: 50 * GiB, maxdisk: 400 * GiB },
      { storage: 'ceph', node: n.name, shared: true, status: 'available', plugintype: 'rbd', content: ['images', 'rootdir'], disk: 2000 * GiB, maxdisk: 10000 * GiB },
    ]);
  const snap: ClusterSnapshot = {
    v: 1, taken_at: new Date(0).toISOString(), api: { host: 'scenario', requests: 0 },
    cluster: { name: sc.cluster ?? null, quorate: sc.quorate ?? true, standalone: sc.cluster === null },
    crs: { ha_auto_rebalance: null }, nodes, guests, storages, tasks: [], unknowns: [],
  };
  const s = FakeState.fromSnapshot(snap, so);
  for (const g of sc.guests ?? []) {
    const fg = s.guest(g.vmid)!;
    if (g.unavailable_on) fg.unavailableOn = g.unavailable_on;
    if (g.ha_group) fg.haGroup = g.ha_group;
    if (g.failback !== undefined) fg.failback = g.failback;
  }
  s.haRules = structuredClone(sc.ha_rules ?? []);
  s.haGroups = structuredClone(sc.ha_groups ?? []);
  return s;
}

export function loadScenario(sc: string | Scenario, opts: FakeStateOptions = {}): FakeState {
  return scenarioState(typeof sc === 'string' ? readScenario(sc) : sc, opts);
}
