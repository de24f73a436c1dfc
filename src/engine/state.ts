/**
 * The simulator: the cluster as the engine models it while planning. Every chosen move is applied
 * here at once, so later decisions see earlier ones (no two guests dumped on the same cool node).
 * The imbalance number is kept as running sums, so judging a candidate move costs O(1).
 */
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode } from '../generated/snapshot.js';
import { GiB, imbalanceFrom, nodeLoad, overload, type Thresholds } from './score.js';

export interface SimNode {
  idx: number;
  name: string;
  online: boolean;
  complete: boolean;
  /** In maintenance_nodes or in HA maintenance: evacuated, never a target. */
  maintenance: boolean;
  haMaintenance: boolean;
  /** Online, fully read and not in maintenance: counts in the imbalance number, may be a source of load moves and a target. */
  balanced: boolean;
  maxcpu: number;
  maxmem: number;
  /**
   * CPU in use, cores: the hour's average when the snapshot has it (one spike does not move
   * guests), the current figure on a node a migration touched within the hour (its average still
   * shows the guests that left or not those that came).
   */
  cpuCores: number;
  /** Memory in use now, bytes (memory does not spike; an hour's average lags behind migrations). */
  mem: number;
  /**
   * Memory for the cap check: the higher of now and the hour's average, plus the full configured
   * memory of every guest moved in (running or not).
   */
  worstMem: number;
  /** CPU for the cap check, cores: the higher of now and the hour's average, plus what moves in. */
  worstCpu: number;
  iowaitPct: number;
  /** Running guests on the node. */
  running: number;
}

export interface SimGuest {
  g: SnapshotGuest;
  vmid: number;
  /** Current node index (changes when a move is applied). */
  node: number;
  running: boolean;
  cpuCores: number;
  mem: number;
  /**
   * What leaving takes off the source: cpuCores and mem scaled down when the guests' own figures add
   * up to more than the node reports (a saturated node, or hour averages against current guest
   * figures), so a source never goes below zero. A target always receives the full figures.
   */
  cpuOut: number;
  memOut: number;
  /** Memory the target must be able to hold in the worst case: configured memory of a running guest. */
  reserve: number;
  /** Local disk bytes (from the precondition data when present). */
  localDisk: number;
  /** GiB that travel: memory in use plus local disks. */
  gib: number;
  /** exclude_<group> tags. */
  groups: string[];
  moved: boolean;
}

export interface Delta {
  sum: number;
  sq: number;
  pen: number;
}

/** One guest, or a group arriving together, as `Sim.evaluate` takes it (see `Sim.arrival`). */
export interface Arrival {
  readonly guests: readonly SimGuest[];
  /** What the target receives: CPU cores and memory in use (current basis). */
  readonly cpuCores: number;
  readonly mem: number;
  /** Worst-case memory on the target: the full configured memory of each guest. */
  readonly reserve: number;
  /** The change to the imbalance sums when the guests leave their nodes. */
  readonly departure: Delta;
}

/** The outcome of one evaluation of an arrival on a target (see `Sim.evaluate`). */
export interface Evaluation {
  imbalanceAfter: number;
  /** Target after the arrival, percent, on the basis the imbalance number uses. */
  cpuPct: number;
  memPct: number;
  /** Target after the arrival, percent, worst case (what the caps are checked against). */
  worstCpuPct: number;
  worstMemPct: number;
  /** Both worst-case figures at or below max_node_cpu_percent / max_node_memory_percent. */
  capOk: boolean;
}

export function newEvaluation(): Evaluation {
  return { imbalanceAfter: 0, cpuPct: 0, memPct: 0, worstCpuPct: 0, worstMemPct: 0, capOk: false };
}

/**
 * used / total in percent. A node that reports no total (maxmem or maxcpu 0: it could not be
 * read) is full when anything is used, so it is never a target and no figure becomes NaN.
 */
function percent(used: number, total: number): number {
  if (total > 0) return (used / total) * 100;
  return used > 0 ? 100 : 0;
}

/** A node's CPU figure at or above this share of its cores: at its ceiling (see Sim.scaleOutflows). */
export const SATURATED = 0.99;

const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : 0);

/** A snapshot node as the simulator models it (figures in cores and bytes; see SimNode). */
function simNode(sn: SnapshotNode, idx: number, maintenanceNames: ReadonlySet<string>, recentlyChanged: ReadonlySet<string>): SimNode {
  const online = sn.status === 'online';
  const haMaintenance = sn.ha_state === 'maintenance';
  const maintenance = maintenanceNames.has(sn.name) || haMaintenance;
  const cpuNow = finite(sn.cpu);
  const cpuAvg = sn.avg ? finite(sn.avg.cpu) : cpuNow;
  const memNow = finite(sn.mem);
  const memAvg = sn.avg ? finite(sn.avg.mem) : memNow;
  const cpuFrac = recentlyChanged.has(sn.name) ? cpuNow : cpuAvg;
  return {
    idx,
    name: sn.name,
    online,
    complete: sn.complete,
    maintenance,
    haMaintenance,
    balanced: online && sn.complete && !maintenance && sn.maxmem > 0 && sn.maxcpu > 0,
    maxcpu: sn.maxcpu,
    maxmem: sn.maxmem,
    cpuCores: cpuFrac * sn.maxcpu,
    mem: memNow,
    worstMem: Math.max(memNow, memAvg),
    worstCpu: Math.max(cpuNow, cpuAvg) * sn.maxcpu,
    iowaitPct: sn.avg && Number.isFinite(sn.avg.iowait) ? sn.avg.iowait * 100 : 0,
    running: 0,
  };
}

/** A snapshot guest on node `nodeIdx` as the simulator models it (cpuOut/memOut are set once its node is complete). */
function simGuest(g: SnapshotGuest, nodeIdx: number, trackGroups: boolean): SimGuest {
  const running = g.status === 'running' || g.status === 'paused';
  const localDisk = g.local?.disks_bytes ?? 0;
  const mem = running ? g.mem : 0;
  return {
    g,
    vmid: g.vmid,
    node: nodeIdx,
    running,
    cpuCores: running ? g.cpu * g.maxcpu : 0,
    mem,
    // Set once its node is complete (scaleOutflows). Not a number until then, which also makes
    // them fractional fields from the start: storing the first fraction into a field created as
    // 0 makes V8 re-shape all 10,000 guests (20 ms of a plan).
    cpuOut: Number.NaN,
    memOut: Number.NaN,
    // Worst case on the target: all its configured memory, also for a stopped guest (it may
    // be started there: onboot, HA, a person).
    reserve: Math.max(g.maxmem, g.mem),
    localDisk,
    gib: (mem + localDisk) / GiB,
    groups: trackGroups ? g.tags.filter((t) => t.startsWith('exclude_') && t.length > 8) : [],
    moved: false,
  };
}

export class Sim {
  readonly nodes: SimNode[];
  readonly byName = new Map<string, SimNode>();
  /** Every guest on a listed node, by vmid (ascending). */
  readonly guests: SimGuest[];
  readonly guestsOn: SimGuest[][];
  /** group → node index → number of members there. */
  readonly groupCount = new Map<string, Map<number, number>>();
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private penalty = 0;

  constructor(
    snap: ClusterSnapshot,
    readonly th: Thresholds,
    readonly caps: { mem: number; cpu: number },
    maintenanceNames: ReadonlySet<string>,
    trackGroups: boolean,
    /** Nodes a live migration touched within the last hour: their CPU average is stale. */
    recentlyChanged: ReadonlySet<string> = new Set(),
  ) {
    this.nodes = snap.nodes.map((sn, idx) => simNode(sn, idx, maintenanceNames, recentlyChanged));
    for (const nd of this.nodes) this.byName.set(nd.name, nd);
    this.guestsOn = this.nodes.map(() => []);
    this.guests = [];
    for (const g of [...snap.guests].sort((a, b) => a.vmid - b.vmid)) this.addGuest(g, trackGroups);
    for (const nd of this.nodes) this.scaleOutflows(nd);
    for (const nd of this.nodes) {
      if (!nd.balanced) continue;
      const l = this.load(nd);
      this.n++;
      this.sum += l;
      this.sumSq += l * l;
      this.penalty += overload(this.cpuPct(nd), this.memPct(nd), th);
    }
  }

  /**
   * The guest with this vmid, or undefined (the last of equal vmids, should a snapshot repeat one).
   * A binary search over `guests`: a Map of every guest costs milliseconds to build at 10,000 guests
   * (Node 20 grows large Maps slowly), more than all lookups of a plan together.
   */
  guest(vmid: number): SimGuest | undefined {
    const gs = this.guests;
    let lo = 0;
    let hi = gs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (gs[mid]!.vmid <= vmid) lo = mid + 1;
      else hi = mid;
    }
    const g = gs[lo - 1];
    return g !== undefined && g.vmid === vmid ? g : undefined;
  }

  /** Places a snapshot guest on its node (a guest on a node the snapshot does not list is left out). */
  private addGuest(g: SnapshotGuest, trackGroups: boolean): void {
    const node = this.byName.get(g.node);
    if (!node) return;
    const sg = simGuest(g, node.idx, trackGroups);
    this.guests.push(sg);
    this.guestsOn[node.idx]!.push(sg);
    if (g.status === 'running') node.running++;
    for (const grp of sg.groups) this.bumpGroup(grp, node.idx, 1);
  }

  /**
   * What leaving takes off node `nd` (see SimGuest.cpuOut): when its guests' figures add up to more
   * than the node reports, each guest's share is scaled down so the node never goes below zero.
   * Except on a node at its CPU ceiling (all its cores busy, now or on the hour's average): its
   * figure stops at 100 % while its guests' demand does not, so their sum is its CPU load and each
   * leaves with all of its share. Scaled down, every move off a saturated node looked smaller than
   * it is, and the exact planner's "fewest moves" answered a smaller problem than the real one.
   */
  private scaleOutflows(nd: SimNode): void {
    let cores = 0;
    let mem = 0;
    for (const sg of this.guestsOn[nd.idx]!) {
      cores += sg.cpuCores;
      mem += sg.mem;
    }
    if (cores > nd.worstCpu && nd.worstCpu >= SATURATED * nd.maxcpu) {
      nd.cpuCores = cores;
      nd.worstCpu = cores;
    }
    const fc = cores > nd.cpuCores ? Math.max(0, nd.cpuCores) / cores : 1;
    const fm = mem > nd.mem ? Math.max(0, nd.mem) / mem : 1;
    for (const sg of this.guestsOn[nd.idx]!) {
      sg.cpuOut = sg.cpuCores * fc;
      sg.memOut = sg.mem * fm;
    }
  }

  private bumpGroup(grp: string, idx: number, d: number): void {
    let m = this.groupCount.get(grp);
    if (!m) this.groupCount.set(grp, (m = new Map()));
    m.set(idx, (m.get(idx) ?? 0) + d);
  }

  cpuPct(nd: SimNode, extraCores = 0): number {
    return percent(nd.cpuCores + extraCores, nd.maxcpu);
  }
  memPct(nd: SimNode, extraBytes = 0): number {
    return percent(nd.mem + extraBytes, nd.maxmem);
  }
  worstMemPct(nd: SimNode, extraBytes = 0): number {
    return percent(nd.worstMem + extraBytes, nd.maxmem);
  }
  load(nd: SimNode): number {
    return nodeLoad(this.cpuPct(nd), this.memPct(nd));
  }
  hotCpuMem(nd: SimNode): boolean {
    return this.cpuPct(nd) > this.th.cpu || this.memPct(nd) > this.th.mem;
  }
  hot(nd: SimNode): boolean {
    return this.hotCpuMem(nd) || nd.iowaitPct > this.th.iowait;
  }
  meanLoad(): number {
    return this.n ? this.sum / this.n : 0;
  }
  imbalance(): number {
    return imbalanceFrom(this.n, this.sum, this.sumSq, this.penalty);
  }

  /**
   * What is arriving: one guest, or several that arrive together (a group that moves as one). The
   * departure is computed once per arrival and reused for every target it is evaluated against.
   * No arriving guest may already be on the target it is evaluated against.
   */
  arrival(guests: readonly SimGuest[]): Arrival {
    if (guests.length === 1) {
      const sg = guests[0]!;
      return { guests, cpuCores: sg.cpuCores, mem: sg.mem, reserve: sg.reserve, departure: this.departure(sg.node, sg.cpuOut, sg.memOut, { sum: 0, sq: 0, pen: 0 }) };
    }
    let cpuCores = 0;
    let mem = 0;
    let reserve = 0;
    const out = new Map<number, { cpu: number; mem: number }>();
    for (const sg of guests) {
      cpuCores += sg.cpuCores;
      mem += sg.mem;
      reserve += sg.reserve;
      const o = out.get(sg.node) ?? { cpu: 0, mem: 0 };
      o.cpu += sg.cpuOut;
      o.mem += sg.memOut;
      out.set(sg.node, o);
    }
    const d: Delta = { sum: 0, sq: 0, pen: 0 };
    for (const [idx, o] of out) this.departure(idx, o.cpu, o.mem, d);
    return { guests, cpuCores, mem, reserve, departure: d };
  }

  /** Adds to `d` the change of the imbalance sums when `cpu` cores and `mem` bytes leave node `idx`. */
  private departure(idx: number, cpu: number, mem: number, d: Delta): Delta {
    const s = this.nodes[idx]!;
    if (!s.balanced) return d;
    const l0 = this.load(s);
    const cpu1 = this.cpuPct(s, -cpu);
    const mem1 = this.memPct(s, -mem);
    const l1 = nodeLoad(cpu1, mem1);
    d.sum += l1 - l0;
    d.sq += l1 * l1 - l0 * l0;
    d.pen += overload(cpu1, mem1, this.th) - overload(this.cpuPct(s), this.memPct(s), this.th);
    return d;
  }

  /**
   * THE evaluation of "what happens to the cluster if `a` arrives on `t`", used by every phase:
   * the imbalance number after, the target's figures after (current basis, as the imbalance number
   * counts them), and the cap check on the worst case (the higher of now and the hour's average,
   * memory counting every arriving guest's full configured memory). Writes into `out` (reused in
   * tight loops: no allocation per pair) and returns it.
   */
  evaluate(a: Arrival, t: SimNode, out: Evaluation = newEvaluation()): Evaluation {
    let sum = this.sum + a.departure.sum;
    let sumSq = this.sumSq + a.departure.sq;
    let penalty = this.penalty + a.departure.pen;
    const cpu1 = this.cpuPct(t, a.cpuCores);
    const mem1 = this.memPct(t, a.mem);
    if (t.balanced) {
      const c0 = this.cpuPct(t);
      const m0 = this.memPct(t);
      const l0 = nodeLoad(c0, m0);
      const l1 = nodeLoad(cpu1, mem1);
      sum += l1 - l0;
      sumSq += l1 * l1 - l0 * l0;
      penalty += overload(cpu1, mem1, this.th) - overload(c0, m0, this.th);
    }
    out.imbalanceAfter = imbalanceFrom(this.n, sum, sumSq, penalty);
    out.cpuPct = cpu1;
    out.memPct = mem1;
    out.worstCpuPct = this.worstCpuPct(t, a.cpuCores);
    out.worstMemPct = this.worstMemPct(t, a.reserve);
    out.capOk = this.capsHold(out.worstMemPct, out.worstCpuPct);
    return out;
  }

  /**
   * `evaluate(a, t).capOk` without the imbalance arithmetic: a cheap first test for loops over
   * many pairs (most pairs of a busy cluster fail the caps, so they need not be evaluated).
   */
  fits(a: Arrival, t: SimNode): boolean {
    return this.capsHold(this.worstMemPct(t, a.reserve), this.worstCpuPct(t, a.cpuCores));
  }

  private capsHold(worstMemPct: number, worstCpuPct: number): boolean {
    return worstMemPct <= this.caps.mem + 1e-9 && worstCpuPct <= this.caps.cpu + 1e-9;
  }

  /** CPU percent for the cap check (see worstCpu). */
  worstCpuPct(nd: SimNode, extraCores = 0): number {
    return percent(nd.worstCpu + extraCores, nd.maxcpu);
  }

  /** Can `t` take anything at all (below both caps in the worst case now)? */
  hasRoom(t: SimNode): boolean {
    return this.worstMemPct(t) < this.caps.mem && this.worstCpuPct(t) < this.caps.cpu;
  }

  /** Does `t` already hold another guest sharing one of `sg`'s exclude groups? Returns the group. */
  conflict(sg: SimGuest, t: SimNode): string | null {
    for (const grp of sg.groups) {
      const c = this.groupCount.get(grp)?.get(t.idx) ?? 0;
      if (c - (sg.node === t.idx ? 1 : 0) > 0) return grp;
    }
    return null;
  }

  apply(sg: SimGuest, t: SimNode): void {
    const s = this.nodes[sg.node]!;
    this.shift(s, -sg.cpuOut, -sg.memOut, -sg.memOut);
    this.shift(t, sg.cpuCores, sg.mem, sg.reserve);
    if (sg.g.status === 'running') {
      s.running--;
      t.running++;
    }
    for (const grp of sg.groups) {
      this.bumpGroup(grp, s.idx, -1);
      this.bumpGroup(grp, t.idx, 1);
    }
    const list = this.guestsOn[s.idx]!;
    list.splice(list.indexOf(sg), 1);
    const tl = this.guestsOn[t.idx]!;
    let i = tl.length;
    while (i > 0 && tl[i - 1]!.vmid > sg.vmid) i--;
    tl.splice(i, 0, sg);
    sg.node = t.idx;
    sg.moved = true;
  }

  private shift(nd: SimNode, cores: number, mem: number, worst: number): void {
    if (nd.balanced) {
      const l0 = this.load(nd);
      this.sum -= l0;
      this.sumSq -= l0 * l0;
      this.penalty -= overload(this.cpuPct(nd), this.memPct(nd), this.th);
    }
    nd.cpuCores += cores;
    nd.worstCpu += cores;
    nd.mem += mem;
    nd.worstMem += worst;
    if (nd.balanced) {
      const l1 = this.load(nd);
      this.sum += l1;
      this.sumSq += l1 * l1;
      this.penalty += overload(this.cpuPct(nd), this.memPct(nd), this.th);
    }
  }
}
