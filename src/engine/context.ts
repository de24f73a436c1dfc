/**
 * The planning context shared by the phases (maintenance, anti-affinity, load, distribution): the
 * simulator, the per-run budget, the moves chosen so far and the skips recorded.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import { groupCapOk, groupImbalanceAfter } from './ha.js';
import { guestRules, hardRules, isRollback, notAllowed, REASON, type RuleContext, type Skip } from './rules.js';
import { confidence, GiB, headroom, r2, risk, type Thresholds } from './score.js';
import type { Sim, SimGuest, SimNode } from './state.js';
import type { MoveKind, PlannedMove, ScoreBreakdown, SkippedGuest } from './types.js';

export class Planner {
  readonly moves: PlannedMove[] = [];
  readonly skipped = new Map<number, SkippedGuest>();
  readonly notes: string[] = [];
  budget: number;
  private ruleCache = new Map<number, Skip | null>();
  private readonly byVmid: Map<number, SimGuest>;
  /** The last HA reason a target was refused for, per guest (the skip reason when no target is left). */
  private readonly haWhy = new Map<number, Skip>();
  /** Where a guest is in the simulated cluster now. */
  readonly where = (vmid: number): string | undefined => {
    const sg = this.byVmid.get(vmid);
    return sg ? this.sim.nodes[sg.node]!.name : undefined;
  };

  constructor(
    readonly sim: Sim,
    readonly config: ProxbalanceConfig,
    readonly rc: RuleContext,
    readonly th: Thresholds,
  ) {
    this.budget = Math.max(0, config.automated_migrations.rules.max_migrations_per_run);
    this.byVmid = new Map(sim.guests.map((g) => [g.vmid, g]));
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
   * refusal, by node name, is the reason); or a positive partner that would come along may not move.
   */
  private haGuestRule(sg: SimGuest, hard: boolean): Skip | null {
    const ha = this.rc.ha;
    if (!ha.isHa(sg.vmid)) return null;
    const unknown = ha.unknown(sg.vmid);
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
      const mg = this.byVmid.get(m);
      if (!mg || mg === sg) continue;
      const r = hard ? hardRules(mg, this.rc) : guestRules(mg, this.rc);
      if (r) return { reason: `HA rule '${pos!.rules.join("', '")}' would bring ${mg.g.type === 'lxc' ? 'CT' : 'VM'} ${m} along, which may not move: ${r.reason}`, ...(r.detail ? { detail: r.detail } : {}) };
    }
    return null;
  }

  /** Whether HA lets `sg` (and what comes along) go to `t`; remembers the refusal for the skip reason. */
  haOk(sg: SimGuest, t: SimNode): boolean {
    if (!this.rc.ha.isHa(sg.vmid)) return true;
    const b = this.rc.ha.block(sg.vmid, t.name, this.where);
    if (b) this.haWhy.set(sg.vmid, b);
    return b === null;
  }

  /** Why HA refused the last target it refused for `sg` (for the skip when no target is left). */
  haReason(sg: SimGuest): Skip | null {
    return this.haWhy.get(sg.vmid) ?? null;
  }

  /** The guests HA moves along to `t` with `sg` (positive affinity). */
  comovers(sg: SimGuest, t: SimNode): SimGuest[] {
    return this.rc.ha.comovers(sg.vmid, t.name, this.where).map((v) => this.byVmid.get(v)!);
  }

  /** Migrations a move of `sg` to `t` costs from the per-run budget (itself and what comes along). */
  cost(sg: SimGuest, t: SimNode): number {
    return 1 + this.comovers(sg, t).length;
  }

  /** Proxmox's precondition check rules out every node that could take the guest. */
  private noAllowedTarget(sg: SimGuest): Skip | null {
    const na = sg.g.local?.not_allowed;
    if (!na) return null;
    const others = this.sim.nodes.filter((n) => n.balanced && n.idx !== sg.node);
    if (!others.length || others.some((n) => notAllowed(sg, n) === null)) return null;
    return { reason: REASON.noAllowedTarget(others.map((n) => `${n.name}: ${notAllowed(sg, n)}`).join('; ')) };
  }

  /** Records a skip (the first reason for a guest wins; a guest that moves is never listed). */
  skip(sg: SimGuest, s: Skip, extra: Partial<SkippedGuest> = {}): void {
    if (this.skipped.has(sg.vmid) || sg.moved) return;
    const e: SkippedGuest = { vmid: sg.vmid, name: sg.g.name, node: this.sim.nodes[sg.node]!.name, reason: s.reason };
    if (s.detail !== undefined) e.detail = s.detail;
    Object.assign(e, extra);
    this.skipped.set(sg.vmid, e);
  }

  /** Target rules common to all kinds: online, fully read, not in maintenance, not the source, Proxmox allows it, caps hold. */
  targetOk(sg: SimGuest, t: SimNode): boolean {
    if (!t.balanced || t.idx === sg.node || notAllowed(sg, t) !== null || !this.haOk(sg, t)) return false;
    const along = this.comovers(sg, t);
    return along.length ? groupCapOk(this.sim, [sg, ...along], t) : this.sim.capOk(sg, t);
  }

  rollback(sg: SimGuest, t: SimNode): boolean {
    return isRollback(sg, t, this.rc);
  }

  /** The score of moving `sg` to `t` given the gain (0..1); call before applying. */
  score(sg: SimGuest, t: SimNode, gain: number): ScoreBreakdown & { confidence: number } {
    const sim = this.sim;
    const s = sim.nodes[sg.node]!;
    const before = sim.imbalance();
    // HA's positive partners arrive too: the target's figures count all of them.
    const group = [sg, ...this.comovers(sg, t)];
    const sumOf = (f: (g: SimGuest) => number) => group.reduce((s, g) => s + f(g), 0);
    const after = group.length > 1 ? groupImbalanceAfter(sim, group, t) : sim.imbalanceAfter(sg, t);
    const memAfter = sim.worstMemPct(t, sumOf((g) => g.reserve));
    const cpuAfter = sim.cpuPct(t, sumOf((g) => g.cpuCores));
    const room = headroom(memAfter, cpuAfter, this.th);
    const rsk = risk({ memGiB: sumOf((g) => g.mem) / GiB, localDiskGiB: sumOf((g) => g.localDisk) / GiB, containerRestart: sg.g.type === 'lxc' && sg.running });
    return {
      imbalance_before: r2(before),
      imbalance_after: r2(after),
      improvement: r2(before - after),
      gain: r2(gain),
      headroom: r2(room),
      risk: r2(rsk),
      gib_moved: r2(sumOf((g) => g.gib)),
      target_mem_percent_after: r2(memAfter),
      target_cpu_percent_after: r2(cpuAfter),
      source_mem_percent_after: r2(sim.memPct(s, -sg.memOut)),
      source_cpu_percent_after: r2(sim.cpuPct(s, -sg.cpuOut)),
      confidence: confidence(gain, room, rsk),
    };
  }

  /** Records and applies a move. */
  commit(sg: SimGuest, t: SimNode, kind: MoveKind, sc: ScoreBreakdown & { confidence: number }, reason: string): void {
    const s = this.sim.nodes[sg.node]!;
    const { confidence: conf, ...score } = sc;
    const along = this.comovers(sg, t);
    const companions = along.map((c) => ({ vmid: c.vmid, name: c.g.name, type: c.g.type, source: this.sim.nodes[c.node]!.name }));
    const pos = this.rc.ha.guests.get(sg.vmid)?.positive;
    if (along.length) reason += `; HA moves ${companions.map((c) => `${c.type === 'lxc' ? 'CT' : 'VM'} ${c.vmid}`).join(', ')} along (rule '${pos!.rules.join("', '")}', positive affinity)`;
    this.moves.push({
      vmid: sg.vmid,
      name: sg.g.name,
      type: sg.g.type,
      source: s.name,
      target: t.name,
      kind,
      online: sg.running,
      confidence: conf,
      reason,
      score,
      ...(companions.length ? { companions } : {}),
    });
    this.skipped.delete(sg.vmid);
    this.sim.apply(sg, t);
    for (const c of along) {
      this.skipped.delete(c.vmid);
      this.sim.apply(c, t);
    }
    this.budget -= 1 + along.length;
  }

  maxPerRun(sg: SimGuest, kind: MoveKind, t: SimNode, conf: number): void {
    this.skip(sg, { reason: REASON.maxPerRun, detail: `limit ${this.config.automated_migrations.rules.max_migrations_per_run}` }, { kind, target: t.name, confidence: conf });
  }

  belowConfidence(sg: SimGuest, kind: MoveKind, t: SimNode, conf: number): void {
    this.skip(sg, { reason: REASON.confidence, detail: `${conf} < ${this.minConfidence} (${kind} move to ${t.name})` }, { kind, target: t.name, confidence: conf });
  }
}

export function pct(x: number): string {
  return `${Math.round(x)} %`;
}
