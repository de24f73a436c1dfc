/**
 * Anti-affinity (`exclude_<group>` tags, with respect_exclude_tags): two guests sharing a group
 * never end on the same node. Every move of every kind checks it (Sim.conflict); this phase fixes
 * existing violations with moves of kind 'anti-affinity', under the ordinary rules and gates.
 * On a node holding k > 1 members of a group, k − 1 of them move: the cheapest movable ones.
 */
import { pct, type Planner } from './context.js';
import { REASON } from './rules.js';
import { newEvaluation, type SimGuest, type SimNode } from './state.js';

const scratch = newEvaluation();

export function fixAntiAffinity(p: Planner): void {
  if (!p.config.automated_migrations.rules.respect_exclude_tags) return;
  const sim = p.sim;
  const groups = [...sim.groupCount.keys()].sort();
  for (const grp of groups) {
    const counts = sim.groupCount.get(grp)!;
    const nodes = [...counts.entries()]
      .filter(([idx, c]) => c > 1 && sim.nodes[idx]!.online)
      .map(([idx]) => sim.nodes[idx]!)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const node of nodes) {
      const members = sim.guestsOn[node.idx]!.filter((g) => g.groups.includes(grp));
      const movable: SimGuest[] = [];
      for (const sg of members) {
        const r = p.rules(sg);
        if (r) p.skip(sg, r, { kind: 'anti-affinity' });
        else if (!sg.moved) movable.push(sg);
      }
      movable.sort((a, b) => a.gib - b.gib || a.vmid - b.vmid);
      for (const sg of movable) {
        if ((counts.get(node.idx) ?? 0) <= 1) break;
        const a = p.arrivalOf(sg);
        let best: { t: SimNode; after: number } | null = null;
        let rollbackOnly: SimNode | null = null;
        for (const t of p.candidateTargets(a.guests)) {
          if (sim.conflict(sg, t)) continue;
          const ev = sim.evaluate(a, t, scratch);
          if (!ev.capOk) continue;
          if (p.rollback(sg, t)) {
            rollbackOnly ??= t;
            continue;
          }
          const after = ev.imbalanceAfter;
          if (!best || after < best.after - 1e-9 || (Math.abs(after - best.after) <= 1e-9 && t.name < best.t.name)) best = { t, after };
        }
        if (!best) {
          if (rollbackOnly) {
            p.skip(sg, { reason: REASON.rollback, detail: `the only node free of ${grp} with room is ${rollbackOnly.name}, which it left within 24 h` }, { kind: 'anti-affinity', target: rollbackOnly.name });
            p.notes.push(`rollback prevented: ${sg.g.name} (${sg.vmid}) would return to ${rollbackOnly.name}`);
          } else {
            p.skip(sg, p.haReason(sg) ?? { reason: REASON.noRoom, detail: `no node without another ${grp} guest has room for it` }, { kind: 'anti-affinity' });
          }
          continue;
        }
        const t = best.t;
        p.propose({ a, t, kind: 'anti-affinity', gain: 1, reason: () => affinityReason(p, sg, grp, members, node, t) });
      }
    }
  }
}

function affinityReason(p: Planner, sg: SimGuest, grp: string, members: SimGuest[], node: SimNode, t: SimNode): string {
  const others = members.filter((m) => m !== sg && m.node === node.idx).map((m) => m.g.name);
  return `${sg.g.name} shares ${grp} with ${others.join(', ')} on ${node.name}; ${t.name} has no ${grp} guest and room: ${pct(p.sim.worstMemPct(t))} → ${pct(p.sim.worstMemPct(t, sg.reserve))} memory`;
}
