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
 * check, then Proxmox HA's rules (src/engine/ha.ts: allowed and preferred nodes, negative partners).
 */
export type TargetFilter = (sg: SimGuest, t: SimNode) => string | null;

export class Planner {
  readonly moves: PlannedMove[] = [];
  readonly skipped = new Map<number, SkippedGuest>();
  readonly notes: string[] = [];
  budget: number;
  private ruleCache = new Map<number, Skip | null>();
  private scratch = newEvaluation();
  /** The target filter: Proxmox's not-allowed nodes, then HA's rules. */
  readonly allowed: TargetFilter;
  /** The last HA refusal per guest (its skip reason when no target is left). */
  private readonly haWhy = new Map<number, Skip>();
  /** Where a guest is in the simulated cluster now. */
  readonly where = (vmid: number): string | undefined => {
    const sg = this.sim.guest(vmid);
    return sg ? this.sim.nodes[sg.node]!.name : undefined;
  };

  constructor(
    readonly sim: Sim,
    readonly config: ProxbalanceConfig,
    readonly rc: RuleContext,
    readonly th: Thresholds,
    filter: TargetFilter = notAllowed,
  ) {
    this.budget = Math.max(0, config.automated_migrations.rules.max_migrations_per_run);
    this.allowed = (sg, t) => filter(sg, t) ?? this.haRefusal(sg, t);
    this.customFilter = filter !== notAllowed;
  }

  private readonly customFilter: boolean;

  /**
   * Can the target filter refuse any balanced node other than its own for one of `guests`? Not for a
   * guest without Proxmox not-allowed nodes and outside HA (most guests), so loops over many
   * targets may skip `mayGo` for such an arrival (it has no side effect for them).
   */
  mayBeRefused(guests: readonly SimGuest[]): boolean {
    if (this.customFilter) return true;
    for (const sg of guests) if (sg.g.local?.not_allowed || this.rc.ha.isHa(sg.vmid)) return true;
    return false;
  }

  get minConfidence(): number {
    return this.config.automated_migrations.rules.min_confidence_score;
  }

  /** Ordinary rules for a guest (cached). */
  rules(sg: SimGuest): Skip | null {
    let r = this.ruleCache.get(sg.vmid);
    if (r === undefined) {
      r = guestRules(sg, this.rc) ?? this.haGuestRule(sg, false) ?? this.noAllowedTarget(sg);
      this.ruleCache.set(sg.vmid, r);
    }
    return r;
  }

  hard(sg: SimGuest): Skip | null {
    return hardRules(sg, this.rc) ?? this.haGuestRule(sg, true) ?? this.noAllowedTarget(sg);
  }

  /**
   * HA, guest-level: its placement unknown; every other node refused by its HA rules (the first
   * refusal, by node order, is the reason); or a positive partner that would come along may not move.
   */
  private haGuestRule(sg: SimGuest, hard: boolean): Skip | null {
    const ha = this.rc.ha;
    if (!ha.isHa(sg.vmid)) return null;
    const unknown = ha.unknown(sg.vmid) ?? ha.busy(sg.vmid);
    if (unknown) return unknown;
    let first: Skip | null = null;
    for (const t of this.sim.nodes) {
      if (!t.balanced || t.idx === sg.node) continue;
      const b = ha.block(sg.vmid, t.name, this.where);
      if (!b) return this.partnersRule(sg, hard);
      first ??= b;
    }
    return first ?? this.partnersRule(sg, hard);
  }

  private partnersRule(sg: SimGuest, hard: boolean): Skip | null {
    const pos = this.rc.ha.guests.get(sg.vmid)?.positive;
    for (const m of pos?.members ?? []) {
      const mg = this.sim.guest(m);
      if (!mg || mg === sg) continue;
      const r = hard ? hardRules(mg, this.rc) : guestRules(mg, this.rc);
      if (r) return { reason: `HA rule '${pos!.rules.join("', '")}' would bring ${mg.g.type === 'lxc' ? 'CT' : 'VM'} ${m} along, which may not move: ${r.reason}`, ...(r.detail ? { detail: r.detail } : {}) };
    }
    return null;
  }

  /** HA's refusal of `t` for `sg` (and what comes along), in words; remembered for the skip reason. */
  private haRefusal(sg: SimGuest, t: SimNode): string | null {
    if (!this.rc.ha.isHa(sg.vmid)) return null;
    const b = this.rc.ha.block(sg.vmid, t.name, this.where);
    if (!b) return null;
    this.haWhy.set(sg.vmid, b);
    return b.detail ? `${b.reason} (${b.detail})` : b.reason;
  }

  /** Why HA refused the last node it refused for `sg`, or null (the skip when no target is left). */
  haReason(sg: SimGuest): Skip | null {
    return this.haWhy.get(sg.vmid) ?? null;
  }

  /**
   * What arrives on a target when `sg` moves: itself, plus (HA positive affinity) every partner,
   * which HA moves along. Partners are normally together; a node already holding one is no
   * candidate (see candidateTargets), which keeps the count on the safe side.
   */
  arrivalOf(sg: SimGuest): Arrival {
    const partners = this.rc.ha.guests.get(sg.vmid)?.positive?.members;
    if (!partners) return this.sim.arrival([sg]); // alone (most guests): nothing to gather
    const along = partners.filter((v) => v !== sg.vmid).map((v) => this.sim.guest(v)).filter((g): g is SimGuest => g !== undefined && !g.moved);
    return this.sim.arrival([sg, ...along]);
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
    return this.sim.nodes.filter((t) => this.mayGoAll(guests, t));
  }

  /** `mayGo` for every guest of an arrival, in order (a plain loop: it runs for every guest × node pair). */
  mayGoAll(guests: readonly SimGuest[], t: SimNode): boolean {
    for (const sg of guests) if (!this.mayGo(sg, t)) return false;
    return true;
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
   * An arrival of several guests is an HA positive group: one move (the first guest, which is asked
   * for) lists the others as `companions` (HA moves them); the budget counts every one.
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
    let reason = m.reason();
    const { confidence: conf, ...score } = sc;
    const [lead, ...along] = m.a.guests as [SimGuest, ...SimGuest[]];
    const companions = along.map((c) => ({ vmid: c.vmid, name: c.g.name, type: c.g.type, source: this.sim.nodes[c.node]!.name }));
    if (along.length) {
      const rules = this.rc.ha.guests.get(lead.vmid)?.positive?.rules ?? [];
      reason += `; HA moves ${companions.map((c) => `${c.type === 'lxc' ? 'CT' : 'VM'} ${c.vmid}`).join(', ')} along (rule '${rules.join("', '")}', positive affinity)`;
    }
    this.moves.push({ vmid: lead.vmid, name: lead.g.name, type: lead.g.type, source: this.sim.nodes[lead.node]!.name, target: m.t.name, kind: m.kind, online: lead.running, confidence: conf, reason, score, ...(companions.length ? { companions } : {}) });
    for (const sg of m.a.guests) this.skipped.delete(sg.vmid);
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
