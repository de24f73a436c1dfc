/**
 * The planning context shared by the phases (maintenance, anti-affinity, load, distribution): the
 * simulator, the per-run budget, the moves chosen so far and the skips recorded.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import { guestRules, hardRules, isRollback, notAllowed, REASON, type RuleContext, type Skip } from './rules.js';
import { confidence, GiB, headroom, r2, risk, type Thresholds } from './score.js';
import { newEvaluation, type Arrival, type Sim, type SimGuest, type SimNode } from './state.js';
import type { MoveKind, PlannedMove, ScoreBreakdown, SkippedGuest } from './types.js';

/** What a phase proposes to commit: an arrival (one guest or a group), its target and why. */
export interface Proposal {
  a: Arrival;
  t: SimNode;
  kind: MoveKind;
  /** 0..1, the gain component of confidence (load moves: from the improvement; others 1). */
  gain: number;
  /** The sentence for the plan (called only when the move is committed, before it is applied). */
  reason: () => string;
  /** Maintenance evacuations bypass the confidence floor. */
  bypassFloor?: boolean;
}

/** How a proposal ended: committed, or which step refused it (its skip is recorded). */
export type Outcome = 'committed' | 'below-confidence' | 'budget';

/**
 * Whether guest `sg` may go to `t` as far as Proxmox and the configuration restrict targets
 * (returns why not, or null). The one place target restrictions plug in: Proxmox's precondition
 * check today; HA rules (allowed nodes per guest) later.
 */
export type TargetFilter = (sg: SimGuest, t: SimNode) => string | null;

export class Planner {
  readonly moves: PlannedMove[] = [];
  readonly skipped = new Map<number, SkippedGuest>();
  readonly notes: string[] = [];
  budget: number;
  private ruleCache = new Map<number, Skip | null>();
  private scratch = newEvaluation();

  constructor(
    readonly sim: Sim,
    readonly config: ProxbalanceConfig,
    readonly rc: RuleContext,
    readonly th: Thresholds,
    readonly allowed: TargetFilter = notAllowed,
  ) {
    this.budget = Math.max(0, config.automated_migrations.rules.max_migrations_per_run);
  }

  get minConfidence(): number {
    return this.config.automated_migrations.rules.min_confidence_score;
  }

  /** Ordinary rules for a guest (cached). */
  rules(sg: SimGuest): Skip | null {
    let r = this.ruleCache.get(sg.vmid);
    if (r === undefined) {
      r = guestRules(sg, this.rc) ?? this.noAllowedTarget(sg);
      this.ruleCache.set(sg.vmid, r);
    }
    return r;
  }

  hard(sg: SimGuest): Skip | null {
    return hardRules(sg, this.rc) ?? this.noAllowedTarget(sg);
  }

  /** The target filter rules out every node that could take the guest. */
  private noAllowedTarget(sg: SimGuest): Skip | null {
    let others = 0;
    for (const n of this.sim.nodes) {
      if (!n.balanced || n.idx === sg.node) continue;
      if (this.allowed(sg, n) === null) return null;
      others++;
    }
    if (!others) return null;
    const why = this.sim.nodes.filter((n) => n.balanced && n.idx !== sg.node).map((n) => this.allowed(sg, n));
    return { reason: REASON.noAllowedTarget(this.sim.nodes.filter((n) => n.balanced && n.idx !== sg.node).map((n, i) => `${n.name}: ${why[i]}`).join('; ')) };
  }

  /** Records a skip (the first reason for a guest wins; a guest that moves is never listed). */
  skip(sg: SimGuest, s: Skip, extra: Partial<SkippedGuest> = {}): void {
    if (this.skipped.has(sg.vmid) || sg.moved) return;
    const e: SkippedGuest = { vmid: sg.vmid, name: sg.g.name, node: this.sim.nodes[sg.node]!.name, reason: s.reason };
    if (s.detail !== undefined) e.detail = s.detail;
    Object.assign(e, extra);
    this.skipped.set(sg.vmid, e);
  }

  /**
   * The candidate targets of an arrival, for every kind of move: online, fully read, not in
   * maintenance, holding none of the arriving guests, and allowed for each of them by the target
   * filter. Caps and anti-affinity are judged per pair (`Sim.evaluate`, `Sim.conflict`).
   */
  candidateTargets(guests: readonly SimGuest[]): SimNode[] {
    return this.sim.nodes.filter((t) => guests.every((sg) => this.mayGo(sg, t)));
  }

  /** The per-pair part of `candidateTargets`, for loops that walk nodes themselves (load balancing). */
  mayGo(sg: SimGuest, t: SimNode): boolean {
    return t.balanced && sg.node !== t.idx && this.allowed(sg, t) === null;
  }

  rollback(sg: SimGuest, t: SimNode): boolean {
    return isRollback(sg, t, this.rc);
  }

  /** The score of an arrival on `t` given the gain (0..1); call before applying. */
  score(a: Arrival, t: SimNode, gain: number): ScoreBreakdown & { confidence: number } {
    const sim = this.sim;
    const first = a.guests[0]!;
    const s = sim.nodes[first.node]!;
    const before = sim.imbalance();
    const ev = sim.evaluate(a, t, this.scratch);
    const room = headroom(ev.worstMemPct, ev.cpuPct, this.th);
    const rsk = arrivalRisk(a);
    const out = a.guests.filter((g) => g.node === first.node);
    return {
      imbalance_before: r2(before),
      imbalance_after: r2(ev.imbalanceAfter),
      improvement: r2(before - ev.imbalanceAfter),
      gain: r2(gain),
      headroom: r2(room),
      risk: r2(rsk),
      gib_moved: r2(a.guests.reduce((x, g) => x + g.gib, 0)),
      target_mem_percent_after: r2(ev.worstMemPct),
      target_cpu_percent_after: r2(ev.cpuPct),
      source_mem_percent_after: r2(sim.memPct(s, -out.reduce((x, g) => x + g.memOut, 0))),
      source_cpu_percent_after: r2(sim.cpuPct(s, -out.reduce((x, g) => x + g.cpuOut, 0))),
      confidence: confidence(gain, room, rsk),
    };
  }

  /**
   * THE way every phase commits a move: score → confidence floor → per-run budget → commit. When a
   * step refuses, each arriving guest is skipped with that step's reason and the outcome says which.
   */
  propose(m: Proposal): Outcome {
    const sc = this.score(m.a, m.t, m.gain);
    if (!m.bypassFloor && sc.confidence < this.minConfidence) {
      const detail = `${sc.confidence} < ${this.minConfidence} (${m.kind} move to ${m.t.name})`;
      for (const sg of m.a.guests) this.skip(sg, { reason: REASON.confidence, detail }, { kind: m.kind, target: m.t.name, confidence: sc.confidence });
      return 'below-confidence';
    }
    if (this.budget < m.a.guests.length) {
      const detail = `limit ${this.config.automated_migrations.rules.max_migrations_per_run}`;
      for (const sg of m.a.guests) this.skip(sg, { reason: REASON.maxPerRun, detail }, { kind: m.kind, target: m.t.name, confidence: sc.confidence });
      return 'budget';
    }
    const reason = m.reason();
    const { confidence: conf, ...score } = sc;
    for (const sg of m.a.guests) {
      this.moves.push({ vmid: sg.vmid, name: sg.g.name, type: sg.g.type, source: this.sim.nodes[sg.node]!.name, target: m.t.name, kind: m.kind, online: sg.running, confidence: conf, reason, score });
      this.skipped.delete(sg.vmid);
    }
    for (const sg of m.a.guests) this.sim.apply(sg, m.t);
    this.budget -= m.a.guests.length;
    return 'committed';
  }

  belowConfidence(sg: SimGuest, kind: MoveKind, t: SimNode, conf: number): void {
    this.skip(sg, { reason: REASON.confidence, detail: `${conf} < ${this.minConfidence} (${kind} move to ${t.name})` }, { kind, target: t.name, confidence: conf });
  }
}

/** Cost and risk of moving an arrival (the largest of its guests' risks, see score.ts risk()). */
export function arrivalRisk(a: Arrival): number {
  let r = 0;
  for (const sg of a.guests) r = Math.max(r, guestRisk(sg));
  return r;
}

export function guestRisk(sg: SimGuest): number {
  return risk({ memGiB: sg.mem / GiB, localDiskGiB: sg.localDisk / GiB, containerRestart: sg.g.type === 'lxc' && sg.running });
}

export function pct(x: number): string {
  return `${Math.round(x)} %`;
}
