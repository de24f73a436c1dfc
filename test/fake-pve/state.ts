/**
 * The fake Proxmox VE's world: nodes, guests, storages, HA resources, tasks. Time is read from a
 * clock on every request (`advance()`), so migrations progress without timers: a task's log lines
 * and its end are laid out when it starts and become visible as the clock passes them. Node cpu/mem
 * follow from the guests on them (recomputeNodes of the generator), so a migration changes loads.
 */
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode, SnapshotStorage } from '../../src/generated/snapshot.js';
import { formatUpid, type Upid } from '../../src/pve/upid.js';
import { recomputeNodes, rng } from '../helpers/generate.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface FakeNode extends SnapshotNode {
  nodeid: number;
  ip: string;
  /** HA LRM: active, idle or maintenance. */
  lrm: 'active' | 'idle' | 'maintenance';
  uptime: number;
}

export interface FakeGuest extends SnapshotGuest {
  /** Whether the guest is an HA resource (sid vm:ID or ct:ID). */
  ha: boolean;
  /** Bytes of disks on node-local storage (0: all on shared storage). */
  localDisks: number;
  /** Local resources (hostpci0, usb0) that prevent a live migration. */
  localResources: string[];
  /** Node → storages missing there (the precondition's unavailable_storages). */
  unavailableOn: Record<string, string[]>;
  uptime: number;
  /** PVE 8: the HA group the resource names. */
  haGroup?: string | null;
  /** PVE 9 HA resource property failback (default on). */
  failback?: boolean;
}

/** A PVE 9 HA rule as `ha-manager rules` holds it. */
export interface FakeHaRule {
  rule: string;
  type: 'node-affinity' | 'resource-affinity';
  /** sids: vm:100, ct:101. */
  resources: string[];
  /** node-affinity: node → priority. */
  nodes?: Record<string, number>;
  strict?: boolean;
  affinity?: 'positive' | 'negative';
  disable?: boolean;
}

/** A PVE 8 HA group. */
export interface FakeHaGroup {
  group: string;
  nodes: Record<string, number>;
  restricted?: boolean;
  nofailback?: boolean;
}

/** Something the fake HA manager did on its own, for tests to check. */
export interface HaEvent {
  vmid: number;
  from: string;
  to: string;
  atMs: number;
  why: string;
}

/** A task: the fields of its UPID, plus what the fake needs to play it. */
export interface FakeTask extends Upid {
  upid: string;
  /** Wall-clock ms when the task appears / ends. */
  startMs: number;
  endMs: number;
  /** Lines with the wall-clock ms they appear at. */
  lines: Array<{ atMs: number; t: string }>;
  exitstatus: string;
  ended: boolean;
  onEnd?: () => void;
}

export interface HaResource {
  sid: string;
  state: string;
}

export interface FakeStateOptions {
  clock?: () => number;
  /** Real ms per simulated second of a task. Default 50 (a 20 s migration takes 1 s). */
  msPerSecond?: number;
  clusterName?: string | null;
  version?: string;
  crs?: { ha?: string; 'ha-auto-rebalance'?: number };
  seed?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
/** Proxmox's render_bytes: one decimal, largest binary unit under 1024. */
export function renderBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}
const hms = (s: number) => `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(Math.floor(s % 60))}`;

/** An HTTP error as Proxmox gives it. */
export class PveHttpError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
    super(message);
  }
}

export class FakeState {
  nodes: FakeNode[] = [];
  guests: FakeGuest[] = [];
  storages: SnapshotStorage[] = [];
  tasks: FakeTask[] = [];
  quorate = true;
  standalone = false;
  clusterName: string;
  version: string;
  crs: { ha?: string; 'ha-auto-rebalance'?: number };
  /** Fault: how long GET /cluster/tasks keeps showing an ended task as running. */
  tasksLagMs = 0;
  /** vmid → reason: the next migration of that guest fails with "migration aborted". */
  failMigrations = new Map<number, string>();
  /** PVE 9 HA rules (a PVE 8 fake answers 501 for /cluster/ha/rules). */
  haRules: FakeHaRule[] = [];
  /** PVE 8 HA groups (empty on PVE 9, as after the migration to rules). */
  haGroups: FakeHaGroup[] = [];
  /** Migrations the fake HA manager started itself: failback move-backs. */
  haMoveBacks: HaEvent[] = [];
  /** Migrate requests the HA manager refused (negative affinity). */
  haRefusals: HaEvent[] = [];
  /** Guests HA moved along with a requested one (positive affinity). */
  haFollowers: HaEvent[] = [];
  private pending: Array<{ atMs: number; apply: () => void }> = [];
  private pid = 0x1000;
  readonly clock: () => number;
  readonly msPerSecond: number;

  constructor(opts: FakeStateOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.msPerSecond = opts.msPerSecond ?? 50;
    this.clusterName = opts.clusterName ?? 'fake';
    this.standalone = opts.clusterName === null;
    this.version = opts.version ?? '9.1.1';
    this.crs = opts.crs ?? { ha: 'basic' };
  }

  now(): number {
    return this.clock();
  }

  /** Seeds the state from a ClusterSnapshot (e.g. generateSnapshot's), with fake-only defaults. */
  static fromSnapshot(snap: ClusterSnapshot, opts: FakeStateOptions = {}): FakeState {
    const s = new FakeState({ clusterName: snap.cluster.standalone ? null : snap.cluster.name ?? 'fake', ...opts });
    s.quorate = snap.cluster.quorate !== false;
    if (snap.crs.ha_mode || snap.crs.ha_auto_rebalance !== null) {
      s.crs = { ...(snap.crs.ha_mode ? { ha: snap.crs.ha_mode } : {}), 'ha-auto-rebalance': snap.crs.ha_auto_rebalance ? 1 : 0 };
    }
    snap.nodes.forEach((n, i) =>
      s.nodes.push({ ...structuredClone(n), nodeid: i + 1, ip: `10.0.0.${11 + i}`, lrm: n.ha_state === 'maintenance' ? 'maintenance' : 'idle', uptime: 86_400 * 12 }),
    );
    for (const g of snap.guests) {
      s.guests.push({ ...structuredClone(g), ha: g.hastate !== null, localDisks: g.local?.disks_bytes ?? 0, localResources: g.local?.resources ?? [], unavailableOn: {}, uptime: g.status === 'running' ? 3600 * 24 * 3 : 0 });
    }
    s.storages = structuredClone(snap.storages);
    s.recompute();
    return s;
  }

  node(name: string): FakeNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  guest(vmid: number): FakeGuest | undefined {
    return this.guests.find((g) => g.vmid === vmid);
  }

  /** Node figures from the guests on them. */
  recompute(): void {
    const view = { nodes: this.nodes, guests: this.guests } as unknown as ClusterSnapshot;
    recomputeNodes(view);
    for (const n of this.nodes) {
      if (n.lrm === 'maintenance') continue;
      n.lrm = this.guests.some((g) => g.ha && g.node === n.name) ? 'active' : 'idle';
    }
  }

  haResources(): HaResource[] {
    return this.guests.filter((g) => g.ha).map((g) => ({ sid: sidOf(g), state: 'started' }));
  }

  /** PVE before 9: HA groups, no rules. */
  get pve8(): boolean {
    return Number(this.version.split('.')[0]) < 9;
  }

  /** The node placement HA applies to a guest: rule/group name, node priorities, strict, failback. */
  haNodeRule(g: FakeGuest): { name: string; nodes: Record<string, number>; strict: boolean; failback: boolean } | null {
    if (this.pve8) {
      const grp = this.haGroups.find((x) => x.group === g.haGroup);
      return grp ? { name: grp.group, nodes: grp.nodes, strict: grp.restricted === true, failback: grp.nofailback !== true } : null;
    }
    const r = this.haRules.find((x) => !x.disable && x.type === 'node-affinity' && x.resources.includes(sidOf(g)));
    return r ? { name: r.rule, nodes: r.nodes ?? {}, strict: r.strict === true, failback: g.failback !== false } : null;
  }

  /** Where HA lets the guest run and where it wants it (select_service_node's candidates). */
  haNodes(g: FakeGuest): { allowed: string[]; preferred: string[]; failback: boolean } {
    const online = this.nodes.filter((n) => n.status === 'online' && n.lrm !== 'maintenance').map((n) => n.name);
    const r = this.haNodeRule(g);
    if (!r) return { allowed: online, preferred: online, failback: g.failback !== false };
    const prio = (n: string): number | undefined => (n in r.nodes ? r.nodes[n] : r.strict ? undefined : -1);
    const allowed = online.filter((n) => prio(n) !== undefined);
    const top = Math.max(...allowed.map((n) => prio(n)!));
    return { allowed, preferred: allowed.filter((n) => prio(n) === top), failback: r.failback };
  }

  /** HA partners of a guest by resource-affinity (PVE 9 only). */
  haPartners(g: FakeGuest, affinity: 'positive' | 'negative'): FakeGuest[] {
    if (this.pve8) return [];
    const sid = sidOf(g);
    const sids = new Set(this.haRules.filter((r) => !r.disable && r.type === 'resource-affinity' && r.affinity === affinity && r.resources.includes(sid)).flatMap((r) => r.resources));
    sids.delete(sid);
    return this.guests.filter((x) => x.ha && sids.has(sidOf(x)));
  }

  /** Negative partners on `target` that are not migrating themselves (they would block a move there). */
  haBlocking(g: FakeGuest, target: string): FakeGuest[] {
    return this.haPartners(g, 'negative').filter((p) => p.node === target && p.hastate !== 'migrate');
  }

  /**
   * One CRM round for a guest (run after each of its migrations ends): with failback on, a guest
   * off its preferred nodes (or, failback off, off its allowed nodes) is migrated by HA to the
   * least loaded preferred node, as the HA manager does.
   */
  private crmRound(g: FakeGuest): void {
    if (!g.ha || g.status !== 'running' || g.hastate === 'migrate') return;
    const { allowed, preferred, failback } = this.haNodes(g);
    const wanted = failback ? preferred : allowed;
    if (!wanted.length || wanted.includes(g.node)) return;
    const to = [...wanted].sort((a, b) => this.node(a)!.mem / this.node(a)!.maxmem - this.node(b)!.mem / this.node(b)!.maxmem || a.localeCompare(b))[0]!;
    const startMs = this.now() + 2 * this.msPerSecond;
    this.haMoveBacks.push({ vmid: g.vmid, from: g.node, to, atMs: startMs, why: failback ? 'failback' : 'not allowed' });
    g.hastate = 'migrate';
    this.at(startMs, () => this.runMigration(g, to, { online: true, restart: true, user: 'root@pam', ha: true, startMs }));
  }

  /** Runs what the clock has reached: scheduled events, task ends. */
  advance(): void {
    const now = this.now();
    let changed = true;
    while (changed) {
      changed = false;
      this.pending.sort((a, b) => a.atMs - b.atMs);
      while (this.pending.length && this.pending[0]!.atMs <= now) {
        this.pending.shift()!.apply();
        changed = true;
      }
      for (const t of [...this.tasks].sort((a, b) => a.endMs - b.endMs)) {
        if (!t.ended && t.endMs <= now) {
          t.ended = true;
          t.onEnd?.();
          changed = true;
        }
      }
    }
  }

  /** Runs fn when the clock reaches atMs (checked on the next request). */
  at(atMs: number, apply: () => void): void {
    this.pending.push({ atMs, apply });
  }

  /** Tasks visible now (started), newest first. */
  visibleTasks(): FakeTask[] {
    const now = this.now();
    return this.tasks.filter((t) => t.startMs <= now).sort((a, b) => b.startMs - a.startMs);
  }

  task(upid: string): FakeTask | undefined {
    return this.tasks.find((t) => t.upid === upid && t.startMs <= this.now());
  }

  /**
   * Ends every running task now, HA follow-up migrations and scheduled events included (for tests
   * and drivers that do not want to wait). UPID start times stay as they were.
   */
  finishAll(): void {
    for (let round = 0; round < 100; round++) {
      const now = this.now();
      for (const p of this.pending) p.atMs = Math.min(p.atMs, now);
      for (const t of this.tasks) {
        if (t.startMs > now) t.startMs = now;
        if (!t.ended) this.shiftTask(t, now - t.endMs);
      }
      this.advance();
      if (!this.pending.length && this.tasks.every((t) => t.ended)) return;
    }
  }

  private shiftTask(t: FakeTask, deltaMs: number): void {
    t.endMs += deltaMs;
    for (const l of t.lines) l.atMs = Math.min(l.atMs + deltaMs, t.endMs);
  }

  taskLines(t: FakeTask): string[] {
    const now = this.now();
    const lines = t.lines.filter((l) => l.atMs <= now).map((l) => l.t);
    if (t.ended) lines.push(t.exitstatus === 'OK' ? 'TASK OK' : t.exitstatus.startsWith('WARNINGS') ? `TASK ${t.exitstatus}` : `TASK ERROR: ${t.exitstatus}`);
    return lines;
  }

  /** Creates a task; `script` lists [simulated seconds from start, text] (text null: no line). */
  addTask(p: { node: string; type: string; id: string; user: string; startMs: number; script: Array<[number, string | null]>; durationS: number; exitstatus: string; onEnd?: () => void; stamped?: boolean }): FakeTask {
    const starttime = Math.floor(p.startMs / 1000);
    const pid = ++this.pid;
    const pstart = 0x10000000 + ((p.startMs / 10) % 0x0fffffff);
    const upid = formatUpid({ node: p.node, pid, pstart: Math.floor(pstart), starttime, type: p.type, id: p.id, user: p.user });
    const ms = this.msPerSecond;
    const t: FakeTask = {
      upid,
      node: p.node,
      pid,
      pstart: Math.floor(pstart),
      starttime,
      type: p.type,
      id: p.id,
      user: p.user,
      startMs: p.startMs,
      endMs: p.startMs + p.durationS * ms,
      lines: p.script
        .filter((s): s is [number, string] => s[1] !== null)
        .map(([sec, text]) => ({ atMs: p.startMs + sec * ms, t: p.stamped === false || !/^\S/.test(text) || text.startsWith('task started') ? text : `${stamp(starttime * 1000 + sec * 1000)} ${text}` })),
      exitstatus: p.exitstatus,
      ended: false,
    };
    if (p.onEnd) t.onEnd = p.onEnd;
    this.tasks.push(t);
    return t;
  }

  /**
   * Starts a migration as Proxmox does, or throws PveHttpError as Proxmox would. Returns the UPID
   * of the task the POST answers with (hamigrate for an HA resource).
   */
  startMigration(type: 'qemu' | 'lxc', node: string, vmid: number, params: Record<string, string>, user: string): string {
    const kind = type === 'qemu' ? 'VM' : 'CT';
    // Same order of checks as qemu-server's / pve-container's migrate_vm.
    const target = params.target;
    if (!target) throw new PveHttpError(400, 'Parameter verification failed.', { target: 'property is missing and it is not optional' });
    if (target === node) throw new PveHttpError(400, 'Parameter verification failed.', { target: 'target is local node.' });
    if (!this.quorate) throw new PveHttpError(500, 'cluster not ready - no quorum?');
    const tn = this.node(target);
    if (!tn) throw new PveHttpError(500, `no such cluster node '${target}'`);
    if (tn.status !== 'online') throw new PveHttpError(500, `target node '${target}' is not online`);
    const g = this.guests.find((x) => x.vmid === vmid && x.type === type);
    if (!g || g.node !== node) throw new PveHttpError(500, `Configuration file 'nodes/${node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist`);
    if (g.lock) throw new PveHttpError(500, `${kind} is locked (${g.lock})`);
    const running = g.status === 'running';
    const online = isTrue(params.online);
    const restart = isTrue(params.restart);
    if (type === 'qemu' && running && !online) throw new PveHttpError(500, "can't migrate running VM without --online");
    if (type === 'lxc' && running && !online && !restart) throw new PveHttpError(500, "can't migrate running container without --online or --restart");

    const nowMs = this.now();
    if (g.ha) return this.requestHaMigration(g, target, user, running || online);
    return this.runMigration(g, target, { online, restart, user, ha: false, startMs: nowMs, withLocalDisks: isTrue(params['with-local-disks']) }).upid;
  }

  /**
   * `ha-manager migrate`: the POST only queues a CRM request (a hamigrate task); the LRM on the
   * source starts the real migration as root@pam. A negative-affinity partner on the target makes
   * the request fail (pve-ha-manager >= 5.0.3); positive partners are queued to the same target.
   */
  private requestHaMigration(g: FakeGuest, target: string, user: string, online: boolean): string {
    const kind = g.type === 'qemu' ? 'VM' : 'CT';
    const sid = sidOf(g);
    const blocking = this.haBlocking(g, target);
    const script: Array<[number, string | null]> = [[0, `Requesting HA migration for ${kind} ${g.vmid} to node ${target}`]];
    if (blocking.length) {
      for (const b of blocking) script.push([0, `service '${sid}' in negative affinity with service '${sidOf(b)}'`]);
      this.haRefusals.push({ vmid: g.vmid, from: g.node, to: target, atMs: this.now(), why: `negative affinity with ${sidOf(blocking[0]!)}` });
      return this.addTask({ node: g.node, type: 'hamigrate', id: String(g.vmid), user, startMs: this.now(), durationS: 1, exitstatus: `command 'ha-manager migrate ${sid} ${target}' failed: exit code 255`, script, stamped: false }).upid;
    }
    const ha = this.addTask({ node: g.node, type: 'hamigrate', id: String(g.vmid), user, startMs: this.now(), durationS: 1, exitstatus: 'OK', script, stamped: false });
    const along = this.haPartners(g, 'positive').filter((p) => p.node !== target && p.hastate !== 'migrate');
    for (const p of [g, ...along]) p.hastate = 'migrate';
    ha.onEnd = () => {
      const startMs = ha.endMs + 1 * this.msPerSecond;
      this.at(startMs, () => this.runMigration(g, target, { online, restart: true, user: 'root@pam', ha: true, startMs }));
      for (const p of along) {
        this.haFollowers.push({ vmid: p.vmid, from: p.node, to: target, atMs: startMs, why: `positive affinity with ${sid}` });
        this.at(startMs, () => this.runMigration(p, target, { online: p.status === 'running', restart: true, user: 'root@pam', ha: true, startMs }));
      }
    };
    return ha.upid;
  }

  private runMigration(g: FakeGuest, target: string, o: { online: boolean; restart: boolean; user: string; ha: boolean; startMs: number; withLocalDisks?: boolean }): FakeTask {
    const source = g.node;
    const type = g.type === 'qemu' ? 'qmigrate' : 'vzmigrate';
    const kind = g.type === 'qemu' ? 'VM' : 'CT';
    const tn = this.node(target)!;
    const running = g.status === 'running';
    const script: Array<[number, string | null]> = [];
    if (o.ha) script.push([0, 'task started by HA resource agent']);
    script.push([0, `starting migration of ${kind} ${g.vmid} to node '${target}' (${tn.ip})`]);
    let failure: string | null = null;
    const injected = this.failMigrations.get(g.vmid);
    if (injected !== undefined) {
      this.failMigrations.delete(g.vmid);
      failure = injected;
    }
    let sec = 0;
    let duration: number;
    if (g.type === 'lxc' && running && !o.restart && !o.ha) {
      // online=1 on a running container: the API accepts it, the task fails.
      script.push([0, 'ERROR: lxc live migration is currently not implemented']);
      script.push([0, 'ERROR: migration aborted (duration 00:00:01): lxc live migration is currently not implemented']);
      return this.finishMigrationTask(g, source, target, type, o, script, 1, 'migration aborted', false);
    }
    if (g.localResources.length && running) {
      const msg = `can't migrate VM which uses local devices: ${g.localResources.join(', ')}`;
      script.push([0, `ERROR: Problem found while scanning volumes - ${msg}`]);
      script.push([0, `ERROR: migration aborted (duration 00:00:00): ${msg}`]);
      return this.finishMigrationTask(g, source, target, type, o, script, 1, 'migration aborted', false);
    }
    const missing = g.unavailableOn[target];
    if (missing?.length) {
      const msg = `storage '${missing[0]}' is not available on node '${target}'`;
      script.push([0, `ERROR: Problem found while scanning volumes - ${msg}`]);
      script.push([0, `ERROR: migration aborted (duration 00:00:00): ${msg}`]);
      return this.finishMigrationTask(g, source, target, type, o, script, 1, 'migration aborted', false);
    }
    if (g.type === 'qemu' && running && g.localDisks > 0 && !o.withLocalDisks && !o.ha) {
      const msg = "can't live migrate attached local disks without with-local-disks option";
      script.push([0, `ERROR: Problem found while scanning volumes - ${msg}`]);
      script.push([0, `ERROR: migration aborted (duration 00:00:00): ${msg}`]);
      return this.finishMigrationTask(g, source, target, type, o, script, 1, 'migration aborted', false);
    }
    if (g.type === 'qemu' && running) {
      const state = Math.max(512 * MiB, g.mem);
      const rate = 500 * MiB;
      const steps = Math.max(2, Math.ceil(state / rate));
      if (g.localDisks > 0) {
        script.push([0, `found local disk 'local-lvm:vm-${g.vmid}-disk-0' (attached)`]);
        const dsteps = Math.max(2, Math.ceil(g.localDisks / (800 * MiB)));
        for (let i = 1; i <= dsteps; i++) {
          const done = Math.min(g.localDisks, Math.round((g.localDisks * i) / dsteps));
          script.push([++sec, `drive-scsi0: transferred ${renderBytes(done)} of ${renderBytes(g.localDisks)} (${((100 * done) / g.localDisks).toFixed(2)}%) in ${sec}s`]);
        }
      }
      script.push([sec, `starting VM ${g.vmid} on remote node '${target}'`]);
      sec += 2;
      script.push([sec, 'start remote tunnel'], [sec, 'ssh tunnel ver 1'], [sec, `starting online/live migration on unix:/run/qemu-server/${g.vmid}.migrate`]);
      script.push([sec, 'set migration capabilities'], [sec, 'migration downtime limit: 100 ms'], [sec, 'migration cachesize: 512.0 MiB'], [sec, 'set migration parameters']);
      script.push([sec, `start migrate command to unix:/run/qemu-server/${g.vmid}.migrate`]);
      const failAt = failure !== null ? Math.max(1, Math.floor(steps * 0.4)) : Infinity;
      for (let i = 1; i < steps; i++) {
        if (i >= failAt) break;
        const done = Math.round((state * i) / steps);
        script.push([++sec, `migration active, transferred ${renderBytes(done)} of ${renderBytes(state)} VM-state, ${renderBytes(rate * (0.8 + ((i * 7) % 5) / 10))}/s`]);
      }
      if (failure !== null) {
        script.push([++sec, `ERROR: online migrate failure - ${failure}`]);
        script.push([sec, 'aborting phase 2 - cleanup resources'], [sec, 'migrate_cancel']);
        script.push([++sec, `ERROR: migration aborted (duration ${hms(sec)}): ${failure}`]);
        return this.finishMigrationTask(g, source, target, type, o, script, sec, 'migration aborted', false);
      }
      sec++;
      script.push([sec, `average migration speed: ${renderBytes(rate)}/s - downtime 73 ms`], [sec, 'migration status: completed']);
      sec += 2;
      script.push([sec, `migration finished successfully (duration ${hms(sec)})`]);
      duration = sec;
    } else {
      // Offline VM or restart-migrated container.
      let saved: { cpu: number; mem: number } | null = null;
      if (g.type === 'lxc' && running) {
        script.push([0, `shutdown CT ${g.vmid}`]);
        saved = { cpu: g.cpu, mem: g.mem };
        g.status = 'stopped';
        g.cpu = 0;
        g.mem = 0;
        this.recompute();
        sec += 3;
      }
      script.push([sec, `volume 'ceph:vm-${g.vmid}-disk-0' is on shared storage 'ceph'`]);
      if (failure !== null) {
        script.push([++sec, `ERROR: migration aborted (duration ${hms(sec)}): ${failure}`]);
        const t = this.finishMigrationTask(g, source, target, type, o, script, sec, 'migration aborted', false);
        if (saved) this.restoreCt(t, g, saved, source);
        return t;
      }
      sec += 2;
      script.push([sec, 'start final cleanup']);
      if (saved) script.push([++sec, 'start container on target node']);
      sec += 1;
      script.push([sec, `migration finished successfully (duration ${hms(sec)})`]);
      duration = sec;
      const t = this.finishMigrationTask(g, source, target, type, o, script, duration, 'OK', true);
      if (saved) this.restoreCt(t, g, saved, target);
      return t;
    }
    return this.finishMigrationTask(g, source, target, type, o, script, duration, 'OK', true);
  }

  private restoreCt(t: FakeTask, g: FakeGuest, saved: { cpu: number; mem: number }, where: string): void {
    const prev = t.onEnd;
    t.onEnd = () => {
      prev?.();
      g.node = where;
      g.status = 'running';
      g.cpu = saved.cpu;
      g.mem = saved.mem;
      this.recompute();
    };
  }

  private finishMigrationTask(g: FakeGuest, source: string, target: string, type: string, o: { user: string; ha: boolean; startMs: number }, script: Array<[number, string | null]>, durationS: number, exitstatus: string, moves: boolean): FakeTask {
    g.lock = 'migrate';
    const t = this.addTask({ node: source, type, id: String(g.vmid), user: o.user, startMs: o.startMs, script, durationS, exitstatus });
    t.onEnd = () => {
      g.lock = null;
      if (moves) g.node = target;
      if (o.ha) g.hastate = 'started';
      this.recompute();
      // The next CRM round: HA moves the guest back where its rules want it.
      if (o.ha) this.at(this.now() + this.msPerSecond, () => this.crmRound(g));
    };
    return t;
  }

  /** Node goes offline now: its guests become unknown, its LRM is gone. */
  setNodeOffline(name: string, offline = true): void {
    const n = this.node(name);
    if (!n) throw new Error(`no node ${name}`);
    n.status = offline ? 'offline' : 'online';
    this.recompute();
  }
}

export function sidOf(g: { type: string; vmid: number }): string {
  return `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`;
}

export function isTrue(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** Deterministic noise for rrd points. */
export function noise(seed: string, i: number): number {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return rng((h ^ i) >>> 0)() - 0.5;
}

export { GiB, MiB };
