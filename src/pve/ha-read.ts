/**
 * Reads Proxmox HA placement for the snapshot: the HA resources, then the rules that place them.
 * PVE 9 places by HA rules (GET /cluster/ha/rules); PVE 8 by HA groups (GET /cluster/ha/groups,
 * each resource naming its `group`; /cluster/ha/rules answers 501 there). Which one to read is
 * decided from the resources already read, so a tick never spends a request it does not need:
 * no HA resource → nothing more; a resource with a `group` → groups (PVE 8); otherwise → rules
 * (a 501 there means PVE 8 without groups: nothing places the guests). At most two requests.
 */
import type { SnapshotHa, SnapshotHaResource, SnapshotHaRule } from '../generated/snapshot.js';
import type { PveClient } from './client.js';
import { PveApiError } from './errors.js';
import { bool, type HaStatusEntry } from './types.js';

/** An entry of GET /cluster/ha/resources (only the properties that are set are listed). */
export interface HaResourceEntry {
  sid: string;
  state?: string;
  type?: string;
  group?: string;
  failback?: number | boolean;
  [k: string]: unknown;
}

/** An entry of GET /cluster/ha/rules (PVE 9). */
export interface HaRuleEntry {
  rule: string;
  type: string;
  resources?: string;
  nodes?: string;
  strict?: number | boolean;
  affinity?: string;
  disable?: number | boolean;
  [k: string]: unknown;
}

/** An entry of GET /cluster/ha/groups (PVE 8). */
export interface HaGroupEntry {
  group: string;
  nodes?: string;
  restricted?: number | boolean;
  nofailback?: number | boolean;
  [k: string]: unknown;
}

/** What the HA reads returned; `error` names a read that failed (then nothing is trusted). */
export interface HaPlacementInput {
  resources: HaResourceEntry[] | null;
  rules: HaRuleEntry[] | null;
  groups: HaGroupEntry[] | null;
  error: string | null;
}

type Getter = Pick<PveClient, 'get'>;

/** Reads the HA resources and what places them (0, 1 or 2 requests after the resources: see the module doc). */
export async function readHaPlacement(client: Getter, resourcesP?: Promise<HaResourceEntry[]>): Promise<HaPlacementInput> {
  const out: HaPlacementInput = { resources: null, rules: null, groups: null, error: null };
  const what = (path: string, e: PveApiError) => `HA placement (GET ${path}): ${e.status === 403 ? `not permitted (${e.pveMessage}); grant Sys.Audit on /` : e.message}`;
  try {
    out.resources = await (resourcesP ?? client.get<HaResourceEntry[]>('/cluster/ha/resources'));
  } catch (e) {
    if (!(e instanceof PveApiError)) throw e;
    out.error = what('/cluster/ha/resources', e);
    return out;
  }
  if (!out.resources.length) return out;
  if (out.resources.some((r) => typeof r.group === 'string' && r.group)) {
    try {
      out.groups = await client.get<HaGroupEntry[]>('/cluster/ha/groups');
    } catch (e) {
      if (!(e instanceof PveApiError)) throw e;
      out.error = what('/cluster/ha/groups', e);
    }
    return out;
  }
  try {
    out.rules = await client.get<HaRuleEntry[]>('/cluster/ha/rules');
  } catch (e) {
    if (!(e instanceof PveApiError)) throw e;
    // PVE 8 has no rules: the path is not implemented there, and no group places these guests.
    if (e.status !== 501) out.error = what('/cluster/ha/rules', e);
  }
  return out;
}

const list = (v: unknown): string[] => (typeof v === 'string' ? v.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean) : Array.isArray(v) ? v.map(String) : []);

/** "pve1:2,pve2" → {pve1: 2, pve2: 0}. */
export function parseNodePriorities(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of list(v)) {
    const [node, prio] = part.split(':');
    if (!node) continue;
    const p = Number(prio ?? 0);
    out[node] = Number.isInteger(p) ? p : 0;
  }
  return out;
}

/** "vm:100" / "ct:101" / "100" → 100; null for anything else. */
export function sidVmid(sid: string): number | null {
  const m = /^(?:(?:vm|ct):)?(\d+)$/.exec(sid.trim());
  return m ? Number(m[1]) : null;
}

/** The snapshot's `ha` section from the HA reads and the HA status (pure). */
export function buildHa(input: HaPlacementInput, status: HaStatusEntry[] | null): SnapshotHa {
  const groups = new Map((input.groups ?? []).map((g) => [g.group, g]));
  const resources: SnapshotHaResource[] = [];
  for (const r of input.resources ?? []) {
    const vmid = sidVmid(String(r.sid ?? ''));
    if (vmid === null) continue;
    const group = typeof r.group === 'string' && r.group ? r.group : null;
    const grp = group ? groups.get(group) : undefined;
    // PVE 9: the resource's failback (default on). PVE 8: the group's nofailback (default off).
    const failback = grp ? !bool(grp.nofailback) : r.failback === undefined ? true : bool(r.failback);
    resources.push({ sid: String(r.sid), vmid, state: String(r.state ?? 'started'), failback, group });
  }
  const rules: SnapshotHaRule[] = [];
  for (const r of input.rules ?? []) {
    const type = r.type === 'node-affinity' || r.type === 'resource-affinity' ? r.type : null;
    if (!type) continue;
    const rule: SnapshotHaRule = { rule: String(r.rule), type, resources: list(r.resources), disabled: bool(r.disable) };
    if (type === 'node-affinity') {
      rule.nodes = parseNodePriorities(r.nodes);
      rule.strict = bool(r.strict);
    } else if (r.affinity === 'positive' || r.affinity === 'negative') rule.affinity = r.affinity;
    else continue;
    rules.push(rule);
  }
  for (const g of input.groups ?? []) {
    const members = resources.filter((r) => r.group === g.group).map((r) => r.sid);
    rules.push({ rule: `group:${g.group}`, type: 'node-affinity', resources: members, disabled: false, nodes: parseNodePriorities(g.nodes), strict: bool(g.restricted) });
  }
  const services = (status ?? [])
    .filter((e) => e.type === 'service' && typeof e.sid === 'string')
    .map((e) => ({ sid: e.sid!, node: String(e.node ?? ''), state: String(e.state ?? e.status ?? 'unknown') }));
  const source = input.groups ? 'groups' : input.rules ? 'rules' : 'none';
  return { source, complete: input.error === null, resources, rules, services, status_known: status !== null };
}
