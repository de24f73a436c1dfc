/**
 * Builds a ClusterSnapshot in at most 7 + (online nodes) requests, whatever the number of guests:
 * /cluster/resources, /cluster/status, /cluster/tasks, /cluster/ha/status/current,
 * /cluster/options, /cluster/ha/resources and (when there are HA resources) the HA rules or groups
 * (see ha-read.ts), then one /nodes/{node}/rrddata per online node, all concurrently. What could
 * not be learned is said (null, complete=false, an entry in unknowns), never invented.
 */
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode, SnapshotStorage, SnapshotTask } from '../generated/snapshot.js';
import type { PveClient } from './client.js';
import { PveApiError, PveError } from './errors.js';
import { buildHa, readHaPlacement, type HaPlacementInput } from './ha-read.js';
import { MIGRATION_TASK_TYPES } from '../engine/rules.js';
import { bool, taskRunning, type ClusterTaskEntry, type ClusterStatusEntry, type HaStatusEntry, type ResourceEntry, type RrdPoint } from './types.js';
import { byName } from '../engine/names.js';


/** Tags as Proxmox stores them ("a;b"), tolerating "," and spaces; lower-cased, no empties, no duplicates. */
export function parseTags(tags: string | undefined | null): string[] {
  if (!tags) return [];
  const out: string[] = [];
  for (const t of tags.split(/[;,\s]+/)) {
    const v = t.trim().toLowerCase();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** "ha=static,ha-auto-rebalance=1" or {ha: 'static', 'ha-auto-rebalance': 1} → a flat record. */
export function parsePropertyString(v: unknown): Record<string, string> {
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
  if (typeof v !== 'string' || !v) return {};
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Averages of the points that carry values; null when none does. */
export function averageRrd(points: RrdPoint[]): SnapshotNode['avg'] {
  let n = 0;
  let cpu = 0;
  let mem = 0;
  let io = 0;
  for (const p of points) {
    if (typeof p.cpu !== 'number' || typeof p.memused !== 'number' || !Number.isFinite(p.cpu) || !Number.isFinite(p.memused)) continue;
    n++;
    cpu += p.cpu;
    mem += p.memused;
    io += typeof p.iowait === 'number' && Number.isFinite(p.iowait) ? p.iowait : 0;
  }
  if (!n) return null;
  return { cpu: cpu / n, mem: Math.round(mem / n), iowait: io / n, samples: n };
}

/**
 * The state inside an LRM entry's status text, which Proxmox writes as
 * "<node> (<state>, <watchdog>, <time>)" (older: "<node> (<state>, <time>)"):
 * "maintenance mode" → maintenance, "old timestamp - dead?" → dead, "active", "idle", …;
 * "<node> (unable to read lrm status)" → unknown. A bare state (no node, no brackets) is read too.
 */
export function lrmState(status: string): string {
  const m = /^\S+ \(([^,)]*)/.exec(status.trim());
  const state = (m ? m[1]! : status).trim().toLowerCase();
  if (state === 'maintenance mode' || state === 'maintenance') return 'maintenance';
  if (state.startsWith('old timestamp')) return 'dead';
  if (state.startsWith('unable to read')) return 'unknown';
  return state.replace(/ mode$/, '') || 'unknown';
}

const why = (e: unknown) => (e instanceof PveError ? e.message : (e as Error)?.message ?? String(e));

/**
 * The reads a decision depends on, in one place. In a strict snapshot (the one a tick plans on)
 * the failure of any of them (an error status, no answer, a refusal for want of a privilege)
 * fails the whole snapshot with a SnapshotReadError naming each failed read: no guest is moved on
 * partial data. A read added to the snapshot that the decision depends on is declared here and
 * made through `required()` in takeSnapshot.
 */
export const REQUIRED_READS = {
  resources: 'GET /cluster/resources',
  status: 'GET /cluster/status',
  tasks: 'GET /cluster/tasks',
  ha: 'GET /cluster/ha/status/current',
  options: 'GET /cluster/options',
  rrddata: 'GET /nodes/{node}/rrddata',
} as const;
// The HA placement reads (ha-read.ts: /cluster/ha/resources, rules or groups) fail closed per
// guest instead: when one fails, the snapshot says so and no HA-managed guest is moved.
export type RequiredRead = keyof typeof REQUIRED_READS;

export interface ReadFailure {
  /** The request, e.g. "GET /nodes/pve2/rrddata". */
  read: string;
  error: string;
}

/** A strict snapshot could not read everything the decision depends on. */
export class SnapshotReadError extends PveError {
  constructor(readonly failures: ReadFailure[]) {
    super(`cannot decide on partial data: ${failures.map((f) => `${f.read} failed (${f.error})`).join('; ')}`);
    this.name = 'SnapshotReadError';
  }
}

export interface SnapshotOptions {
  now?: Date;
  /** Fail (SnapshotReadError) when any required read fails, instead of recording it as unknown. */
  strict?: boolean;
  /**
   * Take the nodes' hour averages from this earlier snapshot instead of reading rrddata again
   * (the fresh look before a migrate request: the averages cannot have changed much, the
   * current figures can).
   */
  averagesFrom?: ClusterSnapshot;
}

export async function takeSnapshot(client: PveClient, opts: SnapshotOptions = {}): Promise<ClusterSnapshot> {
  const startCount = client.requestCount;
  const unknowns: string[] = [];
  const failures: ReadFailure[] = [];
  /** A required read: its answer, or the API error that kept it from us (recorded as a failure). */
  const required = <T>(read: RequiredRead, p: Promise<T>, path?: string): Promise<T | PveError> =>
    p.catch((e: unknown) => {
      if (!(e instanceof PveError)) throw e;
      failures.push({ read: path ? `GET ${path}` : REQUIRED_READS[read], error: e instanceof PveApiError ? `${e.status} ${e.pveMessage}` : why(e) });
      return e;
    });

  const resourcesP = required('resources', client.clusterResources());
  const statusP = required('status', client.clusterStatus());
  const tasksP = required('tasks', client.clusterTasks());
  const haP = required('ha', client.haStatus());
  const optionsP = required('options', client.clusterOptions());
  // The fresh look before a request keeps the placement it planned with (no extra requests).
  const placementP = opts.averagesFrom ? Promise.resolve(null) : readHaPlacement(client);
  // rrddata as soon as the resources tell which nodes are online.
  const rrdP = resourcesP.then((res) =>
    res instanceof Error || opts.averagesFrom ? [] : Promise.all(
      res
        .filter((r) => r.type === 'node' && r.status === 'online' && r.node)
        .map(async (r) => [r.node!, await required('rrddata', client.nodeRrd(r.node!), `/nodes/${r.node!}/rrddata`)] as const),
    ),
  );
  // Settle everything before deciding, so no request is left running when one fails.
  const [resources, statusR, tasks, haR, optR, rrdR, haPlacement] = await Promise.all([resourcesP, statusP, tasksP, haP, optionsP, rrdP, placementP]);
  if (opts.strict && failures.length) throw new SnapshotReadError(failures.sort((a, b) => byName(a.read, b.read)));
  // Without them there is nothing to describe.
  if (resources instanceof Error) throw resources;
  if (tasks instanceof Error) throw tasks;
  const tolerated = <T>(r: T | PveError, what: string): T | null => {
    if (!(r instanceof Error)) return r;
    if (r instanceof PveApiError && r.status === 403) {
      unknowns.push(`${what}: not permitted (${r.pveMessage})${what.includes('/cluster/status') ? '; grant Sys.Audit on /' : ''}`);
      return null;
    }
    if (what.includes('/cluster/status')) throw r;
    if (r instanceof PveApiError) {
      unknowns.push(`${what}: ${r.message}`);
      return null;
    }
    throw r;
  };
  const status = tolerated(statusR, 'quorum and node membership (GET /cluster/status)');
  const ha = tolerated(haR, 'HA status (GET /cluster/ha/status/current)');
  const options = tolerated(optR, 'cluster options (GET /cluster/options)');
  const rrd = new Map<string, RrdPoint[] | Error>(rrdR);
  return buildSnapshot({
    resources, status, tasks, ha, options, rrd, unknowns, ...(haPlacement ? { haPlacement } : {}),
    ...(opts.averagesFrom ? { averages: new Map(opts.averagesFrom.nodes.map((n) => [n.name, n.avg] as const)) } : {}),
    host: client.host ?? client.hosts[0]!, requests: client.requestCount - startCount, now: opts.now ?? new Date(),
  });
}

/** What the snapshot is built from: the answers of the gathering requests (null: not learned). */
export interface SnapshotInput {
  resources: ResourceEntry[];
  status: ClusterStatusEntry[] | null;
  tasks: ClusterTaskEntry[];
  ha: HaStatusEntry[] | null;
  options: Record<string, unknown> | null;
  /** Node → its rrddata points, or the error that kept them from us. */
  rrd: Map<string, RrdPoint[] | Error>;
  /** Node → its hour averages, known already (taken instead of rrd for the nodes it names). */
  averages?: Map<string, SnapshotNode['avg']>;
  /** Things already known to be unknown. */
  unknowns?: string[];
  /** The HA placement reads (ha-read.ts); absent: the snapshot has no `ha` section. */
  haPlacement?: HaPlacementInput;
  host: string;
  requests: number;
  now: Date;
}

/** Pure: the snapshot from the API answers (used by takeSnapshot, and by tests on real captures). */
export function buildSnapshot(input: SnapshotInput): ClusterSnapshot {
  const { resources, status, ha } = input;
  const unknowns = [...(input.unknowns ?? [])];
  const statusNodes = new Map((status ?? []).filter((s) => s.type === 'node').map((s) => [s.name, s]));
  // HA LRM state per node.
  const lrm = new Map<string, string>();
  for (const e of ha ?? []) if (e.type === 'lrm' && e.node) lrm.set(e.node, lrmState(String(e.status ?? '')));
  const nodes = nodesOf(input, statusNodes, lrm, unknowns);
  const guests = guestsOf(resources, new Map(nodes.map((n) => [n.name, n.status])), unknowns);
  const haSection = input.haPlacement ? buildHa(input.haPlacement, ha) : null;
  if (input.haPlacement?.error) unknowns.push(`${input.haPlacement.error}: HA-managed guests are not moved`);
  return {
    v: 1,
    taken_at: input.now.toISOString(),
    api: { host: input.host, requests: input.requests, pve_version: null },
    cluster: clusterOf(status),
    crs: crsOf(input.options),
    nodes,
    guests,
    storages: storagesOf(resources),
    tasks: migrationTasksOf(input.tasks),
    unknowns,
    ...(haSection ? { ha: haSection } : {}),
  };
}

/** Cluster name and quorum; a node without a cluster entry is standalone (and quorate). */
function clusterOf(status: SnapshotInput['status']): ClusterSnapshot['cluster'] {
  const clusterEntry = status?.find((s) => s.type === 'cluster') ?? null;
  const standalone = status !== null && clusterEntry === null;
  return {
    name: clusterEntry?.name ?? null,
    quorate: status === null ? null : standalone ? true : bool(clusterEntry!.quorate),
    standalone,
  };
}

type StatusEntry = NonNullable<SnapshotInput['status']>[number];

/** Every node /cluster/resources or /cluster/status lists, by name; what is not known of each goes to `unknowns`. */
function nodesOf(input: SnapshotInput, statusNodes: Map<string, StatusEntry>, lrm: Map<string, string>, unknowns: string[]): SnapshotNode[] {
  const nodes: SnapshotNode[] = [];
  for (const r of input.resources.filter((x) => x.type === 'node' && x.node)) {
    nodes.push(nodeOf(input, r, statusNodes.get(r.node!), lrm, unknowns));
  }
  const seen = new Set(nodes.map((n) => n.name));
  for (const [name, m] of statusNodes) {
    if (seen.has(name)) continue;
    unknowns.push(`node ${name}: listed by /cluster/status but not by /cluster/resources (token lacks Sys.Audit on /nodes/${name}?)`);
    nodes.push({ name, status: bool(m.online) ? 'unknown' : 'offline', cpu: 0, maxcpu: 0, mem: 0, maxmem: 0, avg: null, ha_state: lrm.get(name) ?? null, complete: false });
  }
  return nodes.sort((a, b) => byName(a.name, b.name));
}

/** One node of /cluster/resources: its figures, its hour averages, and whether all of it is known. */
function nodeOf(input: SnapshotInput, r: SnapshotInput['resources'][number], member: StatusEntry | undefined, lrm: Map<string, string>, unknowns: string[]): SnapshotNode {
  const name = r.node!;
  let st = (['online', 'offline'].includes(String(r.status)) ? r.status : 'unknown') as SnapshotNode['status'];
  if (st === 'online' && member && !bool(member.online)) {
    st = 'unknown';
    unknowns.push(`node ${name}: /cluster/resources says online, /cluster/status says offline`);
  }
  let complete = st === 'online';
  const hasFigures = typeof r.cpu === 'number' && typeof r.mem === 'number' && typeof r.maxmem === 'number' && typeof r.maxcpu === 'number';
  if (st !== 'online') unknowns.push(`node ${name}: ${st}, its load is not known`);
  else if (!hasFigures) {
    complete = false;
    unknowns.push(`node ${name}: no cpu/memory figures in /cluster/resources`);
  }
  let avg: SnapshotNode['avg'] = null;
  if (st === 'online') {
    const got = input.averages?.has(name) ? input.averages.get(name) ?? [] : input.rrd.get(name);
    const averaged = nodeAverages(name, got);
    if (typeof averaged === 'string') {
      complete = false;
      unknowns.push(averaged);
    } else avg = averaged;
  }
  return {
    name,
    status: st,
    cpu: hasFigures ? r.cpu! : 0,
    maxcpu: typeof r.maxcpu === 'number' ? r.maxcpu : 0,
    mem: hasFigures ? r.mem! : 0,
    maxmem: typeof r.maxmem === 'number' ? r.maxmem : 0,
    avg,
    ha_state: lrm.get(name) ?? null,
    complete,
  };
}

/** An online node's hour averages: kept from an earlier snapshot, or from its rrddata; or why they are not known. */
function nodeAverages(name: string, got: SnapshotNode['avg'] | RrdPoint[] | Error | undefined): NonNullable<SnapshotNode['avg']> | string {
  if (got && !Array.isArray(got) && !(got instanceof Error)) return got;
  if (got instanceof Error) return `rrddata of ${name}: ${why(got)}`;
  if (!got) return `rrddata of ${name}: not read`;
  return averageRrd(got) ?? `rrddata of ${name}: no data points in the last hour`;
}

function guestsOf(resources: SnapshotInput['resources'], nodeStatus: Map<string, SnapshotNode['status']>, unknowns: string[]): SnapshotGuest[] {
  const guests: SnapshotGuest[] = [];
  const blind = new Set<string>();
  for (const r of resources) {
    if ((r.type !== 'qemu' && r.type !== 'lxc') || typeof r.vmid !== 'number') continue;
    const node = r.node ?? '';
    if (nodeStatus.get(node) !== 'online' && typeof r.cpu !== 'number') blind.add(node);
    guests.push(guestOf(r));
  }
  for (const n of blind) unknowns.push(`guests on ${n}: no usage figures (node ${nodeStatus.get(n) ?? 'unknown'})`);
  return guests.sort((a, b) => a.vmid - b.vmid);
}

function storagesOf(resources: SnapshotInput['resources']): SnapshotStorage[] {
  return resources
    .filter((r) => r.type === 'storage' && r.storage && r.node)
    .map((r) => ({
      storage: r.storage!,
      node: r.node!,
      shared: bool(r.shared),
      status: String(r.status ?? 'unknown'),
      plugintype: String(r.plugintype ?? ''),
      content: String(r.content ?? '').split(',').map((c) => c.trim()).filter(Boolean),
      disk: num(r.disk),
      maxdisk: num(r.maxdisk),
    }));
}

/** The migration tasks of /cluster/tasks, running or ended. */
function migrationTasksOf(taskEntries: SnapshotInput['tasks']): SnapshotTask[] {
  return taskEntries
    .filter((t) => MIGRATION_TASK_TYPES.has(t.type))
    .map((t) => {
      const ended = !taskRunning(t);
      return {
        upid: t.upid,
        node: t.node,
        type: t.type,
        id: String(t.id ?? ''),
        user: String(t.user ?? ''),
        starttime: t.starttime,
        status: ended ? String(t.status ?? '') : null,
        endtime: ended ? t.endtime! : null,
      };
    });
}

function crsOf(options: SnapshotInput['options']): ClusterSnapshot['crs'] {
  if (!options) return { ha_auto_rebalance: null, ha_mode: null };
  const c = parsePropertyString(options.crs);
  return { ha_auto_rebalance: bool(c['ha-auto-rebalance']), ha_mode: c.ha ?? null };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function guestOf(r: ResourceEntry): SnapshotGuest {
  return {
    vmid: r.vmid!,
    type: r.type as 'qemu' | 'lxc',
    name: String(r.name ?? ''),
    node: String(r.node ?? ''),
    status: String(r.status ?? 'unknown'),
    cpu: num(r.cpu),
    maxcpu: num(r.maxcpu),
    mem: num(r.mem),
    maxmem: num(r.maxmem),
    maxdisk: num(r.maxdisk),
    tags: parseTags(r.tags),
    lock: r.lock ? String(r.lock) : null,
    pool: r.pool ? String(r.pool) : null,
    hastate: r.hastate ? String(r.hastate) : null,
    template: bool(r.template),
  };
}
