/**
 * Proxmox HA placement as the engine sees it (pure): from the snapshot's HA resources and rules
 * (PVE 9 rules, or PVE 8 groups turned into node-affinity rules by src/pve/ha-read.ts) it derives
 * per HA guest where HA lets it run and where HA would leave it, its negative partners and its
 * positive group, exactly as ../pve-ha-manager does (see docs/decisions.md, "Proxmox HA"):
 *   - node-affinity: strict → allowed = the rule's online nodes; non-strict → every online node
 *     (unlisted ones at priority -1); preferred = the allowed nodes at the highest priority present;
 *   - failback on (the default) → HA migrates the guest back to a preferred node, so only preferred
 *     nodes are targets; failback off → any allowed node;
 *   - negative resource-affinity → HA refuses a move onto a node hosting a partner;
 *   - positive resource-affinity → HA moves every partner along to the same node.
 * The engine asks two things: `block` ("may guest G go to node T, and if not, why, naming the
 * rule") and `comovers` ("which guests arrive with G"). Everything else is bookkeeping for them.
 */
import type { ClusterSnapshot, SnapshotHaRule } from '../generated/snapshot.js';
import { byName } from './names.js';

export interface Skip {
  reason: string;
  detail?: string;
}

/** What HA says about one guest. */
export interface HaGuest {
  vmid: number;
  sid: string;
  failback: boolean;
  /** The node-affinity rule placing it, or null. */
  nodeRule: { name: string; strict: boolean; nodes: Record<string, number> } | null;
  /** Nodes HA lets it run on (null: every online node). */
  allowed: Set<string> | null;
  /** Nodes HA leaves it on (null: every allowed node). */
  preferred: Set<string> | null;
  negative: Array<{ rule: string; vmid: number; sid: string }>;
  /** Its positive group (itself included, by vmid) and the rules that make it; null when alone. */
  positive: { rules: string[]; members: number[] } | null;
}

/** Service states that mean HA is recovering guests (the cluster is not balanced meanwhile). */
export const RECOVERY_STATES = new Set(['fence', 'recovery']);
/**
 * Service states in which HA would not carry out a migrate request (or is moving the guest
 * already): asking would only end in "HA manager started no migration task".
 */
export const BUSY_STATES = new Set(['error', 'freeze', 'fence', 'recovery', 'migrate', 'relocate', 'request_stop', 'request_start_balance']);

const label = (sid: string, vmid: number) => `${sid.startsWith('ct:') ? 'CT' : 'VM'} ${vmid}`;
/** "HA rule 'db-pin'", or for a PVE 8 group (named 'group:db' in the snapshot) "HA group 'db'". */
export const ruleName = (name: string) => (name.startsWith('group:') ? `HA group '${name.slice(6)}'` : `HA rule '${name}'`);

export class HaPlacement {
  /** The snapshot carries HA data (snapshots written before HA rules were read do not). */
  readonly known: boolean;
  /** Every HA read succeeded. */
  readonly complete: boolean;
  readonly guests = new Map<number, HaGuest>();
  private readonly managed = new Set<number>();

  constructor(private readonly snap: ClusterSnapshot) {
    const ha = snap.ha;
    this.known = ha !== undefined;
    this.complete = ha?.complete ?? true;
    for (const g of snap.guests) if (g.hastate !== null) this.managed.add(g.vmid);
    if (!ha) return;
    const online = snap.nodes.filter((n) => n.status === 'online' && n.ha_state !== 'maintenance').map((n) => n.name);
    const bySid = new Map<string, number>();
    for (const r of ha.resources) {
      if (r.state === 'ignored') {
        this.managed.delete(r.vmid);
        continue;
      }
      this.managed.add(r.vmid);
      bySid.set(r.sid, r.vmid);
      this.guests.set(r.vmid, { vmid: r.vmid, sid: r.sid, failback: r.failback, nodeRule: null, allowed: null, preferred: null, negative: [], positive: null });
    }
    const enabled = ha.rules.filter((r) => !r.disabled);
    for (const r of enabled.filter((x) => x.type === 'node-affinity')) this.applyNodeRule(r, bySid, online);
    this.applyResourceRules(enabled.filter((x) => x.type === 'resource-affinity'), bySid);
  }

  private applyNodeRule(r: SnapshotHaRule, bySid: Map<string, number>, online: string[]): void {
    const nodes = (r.nodes ?? {}) as Record<string, number>;
    for (const sid of r.resources) {
      const g = this.guests.get(bySid.get(sid) ?? -1);
      if (!g || g.nodeRule) continue; // a resource is in at most one node-affinity rule
      g.nodeRule = { name: r.rule, strict: r.strict === true, nodes };
      const prio = (n: string) => (n in nodes ? nodes[n]! : r.strict ? null : -1);
      const allowed = online.filter((n) => prio(n) !== null);
      const top = Math.max(...allowed.map((n) => prio(n)!));
      g.allowed = new Set(allowed);
      g.preferred = new Set(allowed.filter((n) => prio(n) === top));
    }
  }

  private applyResourceRules(rules: SnapshotHaRule[], bySid: Map<string, number>): void {
    // Positive groups: connected components over all positive rules.
    const parent = new Map<number, number>();
    const find = (x: number): number => {
      let p = parent.get(x) ?? x;
      if (p !== x) parent.set(x, (p = find(p)));
      return p;
    };
    const groupRules = new Map<number, Set<string>>();
    for (const r of rules) {
      const members = r.resources.map((s) => bySid.get(s)).filter((v): v is number => v !== undefined);
      if (r.affinity === 'negative') {
        for (const a of members) for (const b of members) if (a !== b) this.guests.get(a)!.negative.push({ rule: r.rule, vmid: b, sid: this.guests.get(b)!.sid });
        continue;
      }
      for (const m of members.slice(1)) parent.set(find(m), find(members[0]!));
      for (const m of members) groupRules.set(m, (groupRules.get(m) ?? new Set()).add(r.rule));
    }
    const comps = new Map<number, number[]>();
    for (const v of groupRules.keys()) comps.set(find(v), [...(comps.get(find(v)) ?? []), v]);
    for (const members of comps.values()) {
      if (members.length < 2) continue;
      members.sort((a, b) => a - b);
      const names = [...new Set(members.flatMap((m) => [...groupRules.get(m)!]))].sort();
      for (const m of members) this.guests.get(m)!.positive = { rules: names, members };
    }
  }

  /** Whether HA manages the guest (its placement then follows HA's rules). */
  isHa(vmid: number): boolean {
    return this.managed.has(vmid);
  }

  /** Guest-level: HA data could not be read, so an HA guest is not moved at all. */
  unknown(vmid: number): Skip | null {
    if (!this.isHa(vmid) || this.complete) return null;
    return { reason: 'HA placement unknown', detail: 'the HA rules or resources could not be read (see the snapshot\'s unknowns); HA-managed guests are not moved' };
  }

  /** Guest-level: its HA service is in a state where HA would not migrate it on request. */
  busy(vmid: number): Skip | null {
    const g = this.guests.get(vmid);
    const s = g ? this.snap.ha?.services.find((x) => x.sid === g.sid) : undefined;
    if (!s || !BUSY_STATES.has(s.state)) return null;
    return { reason: `HA service state '${s.state}'`, detail: 'Proxmox HA would not carry out a migration request now' };
  }

  /** Node rule of one guest alone: may HA keep it on `target`? */
  private nodeBlock(g: HaGuest, target: string): Skip | null {
    const r = g.nodeRule;
    if (!r) return null;
    if (g.allowed && !g.allowed.has(target)) {
      const list = Object.keys(r.nodes).sort(byName).join(', ');
      return { reason: `${ruleName(r.name)} allows only ${list} (strict)`, detail: `${label(g.sid, g.vmid)} may not run on ${target}` };
    }
    if (g.failback && g.preferred && !g.preferred.has(target)) {
      // Never empty here: preferred is empty only when nothing is allowed, which the check above refused.
      const pref = [...g.preferred].sort(byName).join(', ');
      return { reason: `${ruleName(r.name)} prefers ${pref} (failback on)`, detail: `HA would migrate ${label(g.sid, g.vmid)} back from ${target}` };
    }
    return null;
  }

  /**
   * May guest `vmid` go to `target`? Null when HA lets it (and every guest it brings along) run
   * there and would leave it there; otherwise why not, naming the rule. `where` tells where a guest
   * is now (the engine's simulated cluster).
   */
  block(vmid: number, target: string, where: (vmid: number) => string | undefined): Skip | null {
    const g = this.guests.get(vmid);
    if (!g) return this.unknown(vmid);
    const moving = [vmid, ...this.comovers(vmid, target, where)];
    for (const m of moving) {
      const mg = this.guests.get(m)!;
      const nb = this.nodeBlock(mg, target);
      if (nb) return m === vmid ? nb : { reason: nb.reason, detail: `${label(mg.sid, m)} comes along (HA positive affinity): ${nb.detail}` };
      for (const n of mg.negative) {
        if (moving.includes(n.vmid) || where(n.vmid) !== target) continue;
        return { reason: `HA negative affinity with ${label(n.sid, n.vmid)} on ${target}`, detail: `HA rule '${n.rule}'${m === vmid ? '' : ` (${label(mg.sid, m)} comes along)`}` };
      }
    }
    return null;
  }

  /** The guests HA moves along to `target` when `vmid` moves there (its positive partners not already there), by vmid. */
  comovers(vmid: number, target: string, where: (vmid: number) => string | undefined): number[] {
    const p = this.guests.get(vmid)?.positive;
    if (!p) return [];
    return p.members.filter((m) => m !== vmid && where(m) !== undefined && where(m) !== target);
  }

  /** The first HA service being recovered (fence/recovery), or a node being fenced: "VM 104 (fence)". */
  recovering(): string | null {
    const ha = this.snap.ha;
    for (const s of ha?.services ?? []) {
      if (!RECOVERY_STATES.has(s.state)) continue;
      const vmid = Number(s.sid.split(':')[1]);
      return `${Number.isInteger(vmid) ? label(s.sid, vmid) : s.sid} (${s.state})`;
    }
    const fenced = this.snap.nodes.find((n) => n.ha_state !== null && /fenc/.test(n.ha_state));
    return fenced ? `node ${fenced.name} (${fenced.ha_state})` : null;
  }

  /** Whether the HA state is unknown while HA guests exist (then recovery cannot be ruled out). */
  stateUnknown(): boolean {
    return this.known && this.snap.ha!.status_known === false && this.managed.size > 0;
  }
}
