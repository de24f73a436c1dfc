/**
 * Distribution balancing (distribution_balancing.enabled): evens out running-guest counts across
 * online, fully read, non-maintenance nodes. While the largest count minus the smallest exceeds
 * guest_count_threshold, the smallest eligible guest (at most max_cpu_cores cores and max_memory_gb
 * GiB; 0 = no limit) moves from the fullest node to the emptiest node that takes it, counts updated
 * after each move. Same target rules, tags, cooldown, rollback guard and confidence floor as any
 * move; it never makes a target hot and never worsens the imbalance number by more than
 * DISTRIBUTION_TOLERANCE points. Lowest priority: it runs last.
 */
import { type Planner } from './context.js';
import { REASON } from './rules.js';
import { GiB } from './score.js';
import type { SimGuest, SimNode } from './state.js';

export const DISTRIBUTION_TOLERANCE = 0.5;

const byName = (a: SimNode, b: SimNode) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function balanceDistribution(p: Planner): void {
  const db = p.config.distribution_balancing;
  if (!db.enabled) return;
  const sim = p.sim;
  const nodes = sim.nodes.filter((n) => n.balanced);
  if (nodes.length < 2) return;
  const rejected = new Set<number>();
  const fits = (sg: SimGuest) =>
    sg.g.status === 'running' && (db.max_cpu_cores <= 0 || sg.g.maxcpu <= db.max_cpu_cores) && (db.max_memory_gb <= 0 || sg.g.maxmem <= db.max_memory_gb * GiB);
  for (;;) {
    const sorted = [...nodes].sort((a, b) => b.running - a.running || byName(a, b));
    const full = sorted[0]!;
    const empty = sorted[sorted.length - 1]!;
    const spread = full.running - empty.running;
    if (spread <= db.guest_count_threshold) return;
    const targets = [...nodes].filter((t) => t.running < full.running - 1).sort((a, b) => a.running - b.running || byName(a, b));
    const guests = sim.guestsOn[full.idx]!.filter((sg) => !sg.moved && !rejected.has(sg.vmid) && fits(sg)).sort((a, b) => a.g.maxmem - b.g.maxmem || a.g.maxcpu - b.g.maxcpu || a.vmid - b.vmid);
    let moved = false;
    for (const sg of guests) {
      const r = p.rules(sg);
      if (r) {
        p.skip(sg, r, { kind: 'distribution' });
        rejected.add(sg.vmid);
        continue;
      }
      const before = sim.imbalance();
      const a = p.arrivalOf(sg);
      let chosen: SimNode | null = null;
      let rollbackTo: SimNode | null = null;
      const allowed = new Set(p.candidateTargets(a.guests));
      for (const t of targets) {
        if (!allowed.has(t) || sim.conflict(sg, t)) continue;
        const ev = sim.evaluate(a, t);
        if (!ev.capOk || ev.cpuPct > p.th.cpu || ev.memPct > p.th.mem) continue;
        if (ev.imbalanceAfter > before + DISTRIBUTION_TOLERANCE) continue;
        if (p.rollback(sg, t)) {
          rollbackTo ??= t;
          continue;
        }
        chosen = t;
        break;
      }
      if (!chosen) {
        if (rollbackTo) {
          p.skip(sg, { reason: REASON.rollback, detail: `the emptiest node with room is ${rollbackTo.name}, which it left within 24 h` }, { kind: 'distribution', target: rollbackTo.name });
          p.notes.push(`rollback prevented: ${sg.g.name} (${sg.vmid}) would return to ${rollbackTo.name}`);
        } else {
          const why = p.haReason(sg);
          if (why) p.skip(sg, why, { kind: 'distribution' });
        }
        rejected.add(sg.vmid);
        continue;
      }
      const t = chosen;
      const reason = () => `${full.name} runs ${full.running} guests and ${empty.name} ${empty.running} (difference ${spread}, threshold ${db.guest_count_threshold}); ${t.name} (${t.running}) takes small guest ${sg.g.name}`;
      const outcome = p.propose({ a, t, kind: 'distribution', gain: 1, reason });
      if (outcome === 'budget') return;
      if (outcome === 'below-confidence') {
        rejected.add(sg.vmid);
        continue;
      }
      moved = true;
      break;
    }
    if (!moved) return;
  }
}
