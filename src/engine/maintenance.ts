/**
 * Maintenance evacuation: every guest on a node in `maintenance_nodes` or in HA maintenance is
 * planned off it, first in the plan. Tag rules (ignore, whitelist, exclude_*), cooldown, rollback
 * and the confidence floor are bypassed; templates, active migrations, locks, local resources,
 * target caps and the per-run limit still hold. HA-managed guests on a node in HA maintenance are
 * left to Proxmox HA, which moves them itself.
 */
import { pct, type Planner } from './context.js';
import { REASON } from './rules.js';
import type { SimGuest, SimNode } from './state.js';

export function evacuate(p: Planner): void {
  const sim = p.sim;
  const maint = sim.nodes.filter((n) => n.maintenance).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const node of maint) {
    if (!node.online) {
      if (sim.guestsOn[node.idx]!.length) p.notes.push(`${node.name} is in maintenance but not online: its guests cannot be evacuated`);
      continue;
    }
    // Largest first (they are the hardest to fit), then by vmid.
    const guests = [...sim.guestsOn[node.idx]!].sort((a, b) => b.reserve - a.reserve || b.g.maxmem - a.g.maxmem || a.vmid - b.vmid);
    const why = node.haMaintenance ? 'HA maintenance mode' : 'maintenance_nodes';
    for (const sg of guests) {
      if (sg.moved) continue;
      if (node.haMaintenance && sg.g.hastate !== null) {
        p.skip(sg, { reason: REASON.haMaintenance, detail: `${node.name} is in HA maintenance; Proxmox HA moves HA-managed guests itself` });
        continue;
      }
      const hard = p.hard(sg);
      if (hard) {
        p.skip(sg, hard);
        continue;
      }
      const a = p.arrivalOf(sg);
      let best: { t: SimNode; conflict: number; after: number } | null = null;
      for (const t of p.candidateTargets(a.guests)) {
        const ev = sim.evaluate(a, t);
        if (!ev.capOk) continue;
        // exclude_* is bypassed, but a target without a group member is still preferred.
        const conflict = sim.conflict(sg, t) ? 1 : 0;
        const after = ev.imbalanceAfter;
        if (!best || conflict < best.conflict || (conflict === best.conflict && (after < best.after - 1e-9 || (Math.abs(after - best.after) <= 1e-9 && t.name < best.t.name)))) {
          best = { t, conflict, after };
        }
      }
      if (!best) {
        p.skip(sg, p.haReason(sg) ?? { reason: REASON.noRoom, detail: noRoomDetail(p, sg) });
        continue;
      }
      const t = best.t;
      p.propose({ a, t, kind: 'evacuation', gain: 1, bypassFloor: true, reason: () => evacuationReason(p, sg, node, t, why) });
    }
  }
}

/** Why no node takes an evacuated guest: the caps, and the first node the target filter rules out. */
function noRoomDetail(p: Planner, sg: SimGuest): string {
  const blocked = p.sim.nodes.find((t) => t.balanced && t.idx !== sg.node && p.allowed(sg, t) !== null);
  const sc = p.config.automated_migrations.safety_checks;
  return blocked
    ? `no target stays under the caps; ${blocked.name}: ${p.allowed(sg, blocked)}`
    : `no online node stays under the caps (memory ${sc.max_node_memory_percent} %, CPU ${sc.max_node_cpu_percent} %) with this guest`;
}

function evacuationReason(p: Planner, sg: SimGuest, s: SimNode, t: SimNode, why: string): string {
  const before = p.sim.worstMemPct(t);
  const after = p.sim.worstMemPct(t, sg.reserve);
  return `${s.name} is in maintenance (${why}); ${t.name} has room: ${pct(before)} → ${pct(after)} memory`;
}
