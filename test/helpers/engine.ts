/**
 * Small builders for engine table tests: hand-made clusters with round numbers (nodes of 100 GiB
 * and 10 cores by default, so bytes and cores read as percentages).
 */
import { withDefaults } from '../../src/config/validate.js';
import type { Config } from '../../src/config/validate.js';
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode } from '../../src/generated/snapshot.js';
import type { HistoryMigration, HistoryView, Plan } from '../../src/engine/index.js';
import { recomputeNodes } from './generate.js';

export const GiB = 1024 ** 3;
/** Wednesday 2026-11-25 12:00 UTC. */
export const NOW = Date.parse('2026-11-25T12:00:00Z');

export function node(name: string, over: Partial<SnapshotNode> = {}): SnapshotNode {
  return {
    name,
    status: 'online',
    cpu: 0,
    maxcpu: 10,
    mem: 0,
    maxmem: 100 * GiB,
    avg: { cpu: 0, mem: 0, iowait: 0, samples: 60 },
    ha_state: null,
    complete: true,
    ...over,
  };
}

/**
 * A node at `cpuPct` % CPU and `memPct` % memory, now and on the hour average (with `iowaitPct` %),
 * for tests that set node figures by hand (`cluster(..., keepNodeFigures = true)`).
 */
export function nodeAt(name: string, cpuPct: number, memPct: number, over: Partial<SnapshotNode> = {}, iowaitPct = 0): SnapshotNode {
  return node(name, { cpu: cpuPct / 100, mem: memPct * GiB, avg: { cpu: cpuPct / 100, mem: memPct * GiB, iowait: iowaitPct / 100, samples: 60 }, ...over });
}

/** A running VM using `memGiB` of `maxmemGiB` (default: the same) and `cpu` of its 1 core. */
export function guest(vmid: number, nodeName: string, memGiB: number, over: Partial<SnapshotGuest> & { maxmemGiB?: number } = {}): SnapshotGuest {
  const { maxmemGiB, ...rest } = over;
  return {
    vmid,
    type: 'qemu',
    name: `vm${vmid}`,
    node: nodeName,
    status: 'running',
    cpu: 0.1,
    maxcpu: 1,
    mem: memGiB * GiB,
    maxmem: (maxmemGiB ?? memGiB) * GiB,
    maxdisk: 32 * GiB,
    tags: [],
    lock: null,
    pool: null,
    hastate: null,
    template: false,
    ...rest,
  };
}

/** Builds a snapshot; node figures are derived from the running guests (plus 2 GiB overhead) unless `keepNodeFigures`. */
export function cluster(nodes: SnapshotNode[], guests: SnapshotGuest[], over: Partial<ClusterSnapshot> = {}, keepNodeFigures = false): ClusterSnapshot {
  const snap: ClusterSnapshot = {
    v: 1,
    taken_at: new Date(NOW).toISOString(),
    api: { host: 'test', requests: 0 },
    cluster: { name: 'test', quorate: true, standalone: false },
    crs: { ha_auto_rebalance: false },
    nodes,
    guests,
    storages: [],
    tasks: [],
    unknowns: [],
    ...over,
  };
  if (!keepNodeFigures) recomputeNodes(snap);
  return snap;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(a: any, b: any): any {
  if (b === undefined) return a;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out: any = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = merge(a?.[k], v);
  return out;
}

export function config(over: DeepPartial<Config> = {}): Config {
  const base = withDefaults({ proxmox_host: 'pve.test', proxmox_api_token_id: 'root@pam!t' }) as unknown as Config;
  return merge(base, over) as Config;
}

export const NO_HISTORY: HistoryView = { halted: null, migrations: [] };

export function history(migrations: HistoryMigration[], halted: HistoryView['halted'] = null): HistoryView {
  return { halted, migrations };
}

/** A completed live migration `minutesAgo` minutes before NOW (taking one minute). */
export function migrated(vmid: number, source: string, target: string, minutesAgo: number, status: HistoryMigration['status'] = 'completed'): HistoryMigration {
  return {
    vmid,
    source,
    target,
    status,
    started_at: new Date(NOW - (minutesAgo + 1) * 60_000).toISOString(),
    finished_at: new Date(NOW - minutesAgo * 60_000).toISOString(),
  };
}

/** A hot pve1 (≈ 90 % memory) and two cool nodes: the textbook load case. */
export function hotCluster(extra: SnapshotGuest[] = [], nodeOver: Record<string, Partial<SnapshotNode>> = {}): ClusterSnapshot {
  const guests: SnapshotGuest[] = [];
  for (let i = 0; i < 11; i++) guests.push(guest(100 + i, 'pve1', 8));
  guests.push(guest(200, 'pve2', 20), guest(300, 'pve3', 30));
  return cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n, nodeOver[n])), [...guests, ...extra]);
}

export function skipOf(p: Plan, vmid: number) {
  return p.skipped.find((s) => s.vmid === vmid);
}

/** Applies a plan's moves to a copy of the snapshot (guests change node, node figures recomputed). */
export function applyPlan(snap: ClusterSnapshot, p: Plan): ClusterSnapshot {
  const next = structuredClone(snap);
  for (const m of p.moves) {
    const g = next.guests.find((x) => x.vmid === m.vmid)!;
    g.node = m.target;
  }
  recomputeNodes(next);
  return next;
}
