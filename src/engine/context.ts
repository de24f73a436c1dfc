/**
 * The planning context shared by the phases (maintenance, anti-affinity, load, distribution): the
 * simulator, the per-run budget, the moves chosen so far and the skips recorded.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
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

  constructor(
    readonly sim: Sim,
    readonly config: ProxbalanceConfig,
    readonly rc: RuleContext,
    readonly th: Thresholds,
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
    return t.balanced && t.idx !== sg.node && notAllowed(sg, t) === null && this.sim.capOk(sg, t);
  }

  rollback(sg: SimGuest, t: SimNode): boolean {
    return isRollback(sg, t, this.rc);
  }

  /** The score of moving `sg` to `t` given the gain (0..1); call before applying. */
  score(sg: SimGuest, t: SimNode, gain: number): ScoreBreakdown & { confidence: number } {
    const sim = this.sim;
    const s = sim.nodes[sg.node]!;
    const before = sim.imbalance();
    const after = sim.imbalanceAfter(sg, t);
    const memAfter = sim.worstMemPct(t, sg.reserve);
    const cpuAfter = sim.cpuPct(t, sg.cpuCores);
    const room = headroom(memAfter, cpuAfter, this.th);
    const rsk = risk({ memGiB: sg.mem / GiB, localDiskGiB: sg.localDisk / GiB, containerRestart: sg.g.type === 'lxc' && sg.running });
    return {
      imbalance_before: r2(before),
      imbalance_after: r2(after),
      improvement: r2(before - after),
      gain: r2(gain),
      headroom: r2(room),
      risk: r2(rsk),
      gib_moved: r2(sg.gib),
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
    });
    this.skipped.delete(sg.vmid);
    this.sim.apply(sg, t);
    this.budget--;
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
