import type { ClusterSnapshot, SnapshotGuest, SnapshotNode } from '../../src/generated/snapshot.js';

/**
 * Seeded generator of cluster snapshots: N nodes, G guests (mixed VM and CT sizes, some tags,
 * optionally a hot node that holds an outsized share). Deterministic for a seed. Node figures are
 * derived from the guests on them, like a real cluster's, so moving a guest changes them.
 * Used by engine tests, property tests, benchmarks and (as initial state) the fake Proxmox server.
 */
export interface GenerateOptions {
  nodes: number;
  guests: number;
  seed?: number;
  /** Share of guests placed on the first node (0 = spread evenly). Default 0.35. */
  hotShare?: number;
  /** Share of guests that are containers. Default 0.3. */
  lxcShare?: number;
  /** Share of guests that carry a tag (ignore, auto-migrate-ok, exclude_*). Default 0.15. */
  tagShare?: number;
  /** Share of guests stopped. Default 0.1. */
  stoppedShare?: number;
  takenAt?: string;
}

const GiB = 1024 ** 3;

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NODE_OVERHEAD_BYTES = 2 * GiB;
export const NODE_OVERHEAD_CPU = 0.02;

/** Recomputes every node's cpu/mem (and averages) from the running guests on it. */
export function recomputeNodes(snap: ClusterSnapshot): void {
  const byNode = new Map<string, { cpuCores: number; mem: number }>();
  for (const g of snap.guests) {
    if (g.status !== 'running') continue;
    const acc = byNode.get(g.node) ?? { cpuCores: 0, mem: 0 };
    acc.cpuCores += g.cpu * g.maxcpu;
    acc.mem += g.mem;
    byNode.set(g.node, acc);
  }
  for (const n of snap.nodes) {
    if (n.status !== 'online') continue;
    const acc = byNode.get(n.name) ?? { cpuCores: 0, mem: 0 };
    n.cpu = Math.min(1, NODE_OVERHEAD_CPU + acc.cpuCores / n.maxcpu);
    n.mem = NODE_OVERHEAD_BYTES + acc.mem;
    if (n.avg) n.avg = { ...n.avg, cpu: n.cpu, mem: n.mem };
  }
}

export function generateSnapshot(opts: GenerateOptions): ClusterSnapshot {
  const r = rng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hotShare = opts.hotShare ?? 0.35;
  const nodes: SnapshotNode[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const maxcpu = pick([16, 32, 48, 64]);
    const maxmem = pick([128, 192, 256, 384]) * GiB;
    nodes.push({
      name: `pve${i + 1}`,
      status: 'online',
      cpu: 0,
      maxcpu,
      mem: 0,
      maxmem,
      avg: { cpu: 0, mem: 0, iowait: r() * 0.03, samples: 70 },
      ha_state: null,
      complete: true,
    });
  }
  // Size guests so the cluster as a whole sits near 45 % memory.
  const totalMem = nodes.reduce((s, n) => s + n.maxmem, 0);
  const meanGuestMem = (0.45 * totalMem) / Math.max(1, opts.guests);
  const guests: SnapshotGuest[] = [];
  for (let i = 0; i < opts.guests; i++) {
    const vmid = 100 + i;
    const lxc = r() < (opts.lxcShare ?? 0.3);
    const memFactor = pick([0.25, 0.5, 0.5, 1, 1, 1, 2, 3]);
    const maxmem = Math.max(0.5 * GiB, Math.round((meanGuestMem * memFactor) / (256 * 1024 ** 2)) * 256 * 1024 ** 2);
    const maxcpu = pick(lxc ? [1, 1, 2, 2, 4] : [1, 2, 2, 4, 4, 8]);
    const stopped = r() < (opts.stoppedShare ?? 0.1);
    const node = opts.nodes === 0 ? 'pve1' : r() < hotShare ? nodes[0]!.name : nodes[Math.floor(r() * nodes.length)]!.name;
    const tags: string[] = [];
    if (r() < (opts.tagShare ?? 0.15)) {
      const t = pick(['ignore', 'auto-migrate-ok', 'exclude_db', 'exclude_web', 'prod']);
      tags.push(t);
    }
    guests.push({
      vmid,
      type: lxc ? 'lxc' : 'qemu',
      name: `${lxc ? 'ct' : 'vm'}${vmid}`,
      node,
      status: stopped ? 'stopped' : 'running',
      cpu: stopped ? 0 : Math.round(r() * 0.35 * 1000) / 1000,
      maxcpu,
      mem: stopped ? 0 : Math.round(maxmem * (0.4 + r() * 0.5)),
      maxmem,
      maxdisk: pick([8, 16, 32, 64, 100]) * GiB,
      tags,
      lock: null,
      pool: null,
      hastate: null,
      template: false,
    });
  }
  const snap: ClusterSnapshot = {
    v: 1,
    taken_at: opts.takenAt ?? '2026-11-25T12:00:00.000Z',
    api: { host: 'generated', requests: 0, pve_version: '9.1.1' },
    cluster: { name: 'gen', quorate: true, standalone: false },
    crs: { ha_auto_rebalance: false, ha_mode: 'basic' },
    nodes,
    guests,
    storages: nodes.flatMap((n) => [
      { storage: 'local', node: n.name, shared: false, status: 'available', plugintype: 'dir', content: ['iso', 'vztmpl', 'backup'], disk: 20 * GiB, maxdisk: 100 * GiB },
      { storage: 'ceph', node: n.name, shared: true, status: 'available', plugintype: 'rbd', content: ['images', 'rootdir'], disk: 2000 * GiB, maxdisk: 10000 * GiB },
    ]),
    tasks: [],
    unknowns: [],
  };
  recomputeNodes(snap);
  return snap;
}

/** Guest CPU scaled so the running guests use `share` of the cluster's cores (node figures follow). */
export function scaleCpu(snap: ClusterSnapshot, share: number): void {
  const used = snap.guests.filter((g) => g.status === 'running').reduce((s, g) => s + g.cpu * g.maxcpu, 0);
  const cores = snap.nodes.reduce((s, n) => s + n.maxcpu, 0);
  const f = Math.min(1, (share * cores) / Math.max(1e-9, used));
  for (const g of snap.guests) g.cpu *= f;
  recomputeNodes(snap);
}

/**
 * The skewed starts of issue 16's table: guest CPU at 30 % of the cluster's cores and the least
 * share of guests piled on pve1 (in steps of 0.005) that puts it at `memPct` % memory or more.
 */
export function skewedCluster(nodes: number, guests: number, memPct: number, seed = 7): { base: ClusterSnapshot; hotShare: number } {
  for (let hotShare = 0; ; hotShare += 0.005) {
    const base = generateSnapshot({ nodes, guests, seed, hotShare });
    scaleCpu(base, 0.3);
    const n = base.nodes[0]!;
    if ((100 * n.mem) / n.maxmem >= memPct || hotShare > 0.9) return { base, hotShare: Math.round(hotShare * 1000) / 1000 };
  }
}
