/**
 * `doctor`: what Proxmox HA lets proxbalance do, rule by rule ("rule db-pin: strict to pve1 — its
 * 3 guests are never moved"), and whether HA is recovering right now. Reads one snapshot.
 */
import type { ClusterSnapshot, SnapshotHaRule } from '../generated/snapshot.js';
import { HaPlacement, ruleName } from '../engine/ha.js';
import type { PveClient } from '../pve/client.js';
import { takeSnapshot } from '../pve/snapshot.js';
import type { Check } from './doctor.js';
import { byName } from '../engine/names.js';

const guests = (n: number) => `${n === 1 ? 'its guest' : `its ${n} guests`}`;

/** Where HA lets the rule's guests go (the nodes no guest of the rule is refused), in words. */
function nodeRuleLine(r: SnapshotHaRule, ha: HaPlacement, snap: ClusterSnapshot): string {
  const who = ruleName(r.rule).replace(/^HA /, '');
  const vmids = r.resources.map((s) => ha.guests.get(Number(s.split(':')[1]))).filter((g) => g !== undefined);
  const online = snap.nodes.filter((n) => n.status === 'online').map((n) => n.name);
  const where = (v: number) => snap.guests.find((g) => g.vmid === v)?.node;
  const prio = r.nodes ?? {};
  const nodes = Object.keys(prio).sort(byName);
  const top = Math.max(...nodes.map((n) => prio[n] ?? 0));
  const first = nodes.filter((n) => prio[n] === top);
  const then = nodes.filter((n) => prio[n] !== top);
  const head = `${who}: ${r.strict ? `strict to ${nodes.join(', ')}` : `prefers ${first.join(', ')}${then.length ? ` (then ${then.join(', ')})` : ''}`}`;
  if (!vmids.length) return `${head} — no HA guest uses it`;
  const movable = vmids.filter((g) => online.some((n) => n !== where(g.vmid) && ha.block(g.vmid, n, where) === null));
  const failback = vmids.some((g) => g.failback) ? (vmids.every((g) => g.failback) ? ' (failback on)' : ' (failback on for some)') : ' (failback off)';
  if (!movable.length) return `${head}${failback} — ${guests(vmids.length)} ${vmids.length === 1 ? 'is' : 'are'} never moved`;
  const allowed = [...new Set(movable.flatMap((g) => [...(g.failback ? g.preferred ?? [] : g.allowed ?? online)]))].sort(byName);
  return `${head}${failback} — ${movable.length} of ${vmids.length} guest(s) may move, only between ${allowed.join(', ')}`;
}

function ruleLine(r: SnapshotHaRule, ha: HaPlacement, snap: ClusterSnapshot): string {
  if (r.disabled) return `${ruleName(r.rule).replace(/^HA /, '')}: disabled — not applied`;
  if (r.type === 'node-affinity') return nodeRuleLine(r, ha, snap);
  const n = r.resources.length;
  return r.affinity === 'positive'
    ? `rule '${r.rule}': positive affinity — ${guests(n)} move together, each target must hold all of them`
    : `rule '${r.rule}': negative affinity — ${guests(n)} never share a node, and none goes where another runs`;
}

/** The HA checks: one per rule, the recovery state, and what could not be read. */
export async function haChecks(client: PveClient): Promise<Check[]> {
  let snap: ClusterSnapshot;
  try {
    snap = await takeSnapshot(client);
  } catch (e) {
    return [{ name: 'ha', status: 'warn', message: `cannot read the cluster: ${(e as Error).message}` }];
  }
  const ha = new HaPlacement(snap);
  const out: Check[] = [];
  if (!snap.ha?.complete) {
    const why = snap.unknowns.find((u) => u.startsWith('HA placement')) ?? 'unknown';
    out.push({ name: 'ha', status: 'warn', message: `HA rules not readable: ${why}`, fix: 'grant Sys.Audit on / to the token (and its user)' });
    return out;
  }
  const recovering = ha.recovering();
  if (recovering) out.push({ name: 'ha', status: 'warn', message: `HA is recovering ${recovering}: no tick migrates until HA is done` });
  const managed = snap.ha.resources.filter((r) => r.state !== 'ignored').length;
  const source = snap.ha.source === 'groups' ? 'HA groups (Proxmox VE 8)' : 'HA rules';
  if (!snap.ha.rules.length) {
    out.push({ name: 'ha', status: 'pass', message: managed ? `${managed} HA guest(s), no ${source}: HA keeps them wherever they are moved` : 'no HA-managed guest' });
    return out;
  }
  out.push({ name: 'ha', status: 'pass', message: `${managed} HA guest(s), ${snap.ha.rules.length} ${source}; proxbalance only moves them where HA leaves them` });
  for (const r of snap.ha.rules) out.push({ name: `ha ${r.rule}`, status: 'pass', message: ruleLine(r, ha, snap) });
  return out;
}
