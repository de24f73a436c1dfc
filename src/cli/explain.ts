/**
 * `proxbalance explain VMID`: everything the engine weighs about one guest, whether or not a plan
 * considered it: the rules that apply, its footprint, every node as a target with the figures after
 * the move, and why each node is or is not chosen. Every figure comes from the engine's own
 * functions (makePlanner's simulator and scoring): explain never re-computes the engine's arithmetic.
 */
import { plan as makePlan, makePlanner, IMBALANCE_TARGET, IMBALANCE_TRIGGER, MIN_IMPROVEMENT, REASON } from '../engine/index.js';
import { arrivalFootprint } from '../engine/balance.js';
import { confidence, gainFromImprovement, GiB, headroom, r2 } from '../engine/score.js';
import type { Planner } from '../engine/context.js';
import { newEvaluation, type Arrival, type Sim, type SimGuest, type SimNode } from '../engine/state.js';
import type { ClusterSnapshot, HistoryView, Plan } from '../engine/types.js';
import type { Config } from '../config/load.js';

export interface RuleLine {
  rule: string;
  /** True when the rule keeps the guest where it is (or limits where it may go). */
  applies: boolean;
  detail: string;
}

export interface TargetLine {
  node: string;
  role: 'current node' | 'balanced' | 'maintenance' | 'offline' | 'not fully read';
  cpu_percent_after: number;
  mem_percent_after: number;
  /** Memory with the guest's full configured memory counted (what the caps are checked against). */
  worst_mem_percent_after: number;
  imbalance_after: number;
  /** imbalance_after − the imbalance now: negative is better. */
  imbalance_change: number;
  confidence: number | null;
  chosen: boolean;
  why: string;
}

export interface Explanation {
  at: string;
  vmid: number;
  name: string;
  type: 'qemu' | 'lxc';
  node: string;
  status: string;
  footprint: { cpu_cores: number; mem_gib: number; configured_mem_gib: number; local_disk_gib: number; gib_to_move: number; cpu_percent_of_node: number; mem_percent_of_node: number; points: number };
  rules: RuleLine[];
  /** What this tick's plan does with the guest. */
  verdict: { outcome: 'move' | 'skip' | 'not considered'; reason: string; target?: string };
  cluster: { imbalance: number; trigger: number; target: number; load_balancing_triggered: boolean; hot_nodes: string[]; gates_passed: boolean; gate?: string };
  targets: TargetLine[];
}

const fmtTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Every rule about the guest, applying or not, with the facts behind it. */
function rules(p: Planner, sim: Sim, sg: SimGuest, config: Config): RuleLine[] {
  const g = sg.g;
  const r = config.automated_migrations.rules;
  const src = sim.nodes[sg.node]!;
  const h = p.rc.history.get(g.vmid);
  const lines: RuleLine[] = [
    { rule: 'template', applies: g.template, detail: g.template ? 'templates are never migrated automatically' : 'not a template' },
    { rule: "'ignore' tag", applies: r.respect_ignore_tags && g.tags.includes('ignore'), detail: `${g.tags.includes('ignore') ? 'tagged ignore' : 'not tagged ignore'}; respect_ignore_tags ${r.respect_ignore_tags}` },
    { rule: "whitelist ('auto-migrate-ok' tag)", applies: r.require_auto_migrate_ok_tag && !g.tags.includes('auto-migrate-ok'), detail: `require_auto_migrate_ok_tag ${r.require_auto_migrate_ok_tag}; ${g.tags.includes('auto-migrate-ok') ? 'has' : 'lacks'} the tag` },
    { rule: 'anti-affinity (exclude_* tags)', applies: sg.groups.length > 0, detail: sg.groups.length ? `groups ${sg.groups.join(', ')}: never on a node with another member` : `none${r.respect_exclude_tags ? '' : ' (respect_exclude_tags false)'}` },
    { rule: 'active migration', applies: p.rc.activeTasks.has(g.vmid) || g.lock === 'migrate', detail: p.rc.activeTasks.has(g.vmid) || g.lock === 'migrate' ? 'a migration task runs for it' : 'none running' },
    { rule: 'lock', applies: Boolean(g.lock), detail: g.lock ? `locked (${g.lock})` : 'not locked' },
    { rule: 'local resources', applies: sg.running && Boolean(g.local?.resources.length), detail: g.local ? `${g.local.resources.length ? g.local.resources.join(', ') : 'no PCI/USB device'}; local disks ${r2(g.local.disks_bytes / GiB)} GiB${Object.keys(g.local.not_allowed).length ? `; Proxmox refuses ${Object.entries(g.local.not_allowed).map(([n, w]) => `${n} (${w})`).join(', ')}` : ''}` : 'not known (Proxmox is asked only about planned moves, or by explain live)' },
    { rule: 'HA', applies: g.hastate !== null && p.rc.crsRebalance, detail: g.hastate === null ? 'not HA-managed' : `HA-managed (${g.hastate}); CRS ha-auto-rebalance ${p.rc.crsRebalance ? 'on: left to Proxmox' : 'off'}` },
    haRules(p, g.vmid),
    { rule: 'cooldown', applies: Boolean(h && p.rc.nowMs < h.cooldownUntil), detail: !h ? 'no live migration within 7 days' : `${h.recent.length} move(s) within 7 days (×${h.multiplier}); ${p.rc.nowMs < h.cooldownUntil ? 'until' : 'ended'} ${fmtTime(h.cooldownUntil)}` },
    { rule: 'rollback', applies: Boolean(h && (p.rc.nowMs < h.rollbackUntil || h.leftRecently.size)), detail: !h ? 'left no node within 24 h' : `${p.rc.nowMs < h.rollbackUntil ? `moved back to ${h.returnedTo}, a node it had left: stays put until ${fmtTime(h.rollbackUntil)}; ` : ''}${h.leftRecently.size ? `never back to ${[...h.leftRecently].join(', ')} within 24 h of leaving` : 'left no node within 24 h'}` },
    { rule: 'maintenance', applies: src.maintenance, detail: src.maintenance ? `${src.name} is in ${src.haMaintenance ? 'HA maintenance' : 'maintenance_nodes'}: evacuated (tags, cooldown and confidence bypassed)` : `${src.name} is not in maintenance` },
  ];
  return lines;
}

/** HA rules naming the guest: where HA lets it run, who may not share its node, who moves along. */
function haRules(p: Planner, vmid: number): RuleLine {
  const h = p.rc.ha.guests.get(vmid);
  if (!h) return { rule: 'HA rules', applies: false, detail: 'no HA rule names it' };
  const parts: string[] = [];
  if (h.nodeRule) parts.push(`node affinity '${h.nodeRule.name}'${h.nodeRule.strict ? ' (strict)' : ''}: ${Object.keys(h.nodeRule.nodes).join(', ')}`);
  if (h.negative.length) parts.push(`never beside ${h.negative.map((n) => `${n.vmid} ('${n.rule}')`).join(', ')}`);
  if (h.positive) parts.push(`moves together with ${h.positive.members.filter((m) => m !== vmid).join(', ')} ('${h.positive.rules.join("', '")}')`);
  return { rule: 'HA rules', applies: parts.length > 0, detail: parts.length ? parts.join('; ') : 'HA-managed, no affinity rule' };
}

function role(sim: Sim, sg: SimGuest, t: SimNode): TargetLine['role'] {
  if (t.idx === sg.node) return 'current node';
  if (!t.online) return 'offline';
  if (t.maintenance) return 'maintenance';
  if (!t.complete || !t.balanced) return 'not fully read';
  return 'balanced';
}

/** Why `t` is not a target for `sg`, checked in the order the load phase checks (null: it qualifies). */
function targetProblem(p: Planner, sim: Sim, sg: SimGuest, a: Arrival, t: SimNode, improvement: number, conf: number): string | null {
  const s = sim.nodes[sg.node]!;
  const caps = sim.caps;
  const ev = sim.evaluate(a, t, newEvaluation());
  if (!t.balanced) return `not a target: ${role(sim, sg, t)}`;
  if (!sim.hasRoom(t)) return `no room: already at or above the caps (max_node_memory_percent ${caps.mem}, max_node_cpu_percent ${caps.cpu})`;
  if (confidence(1, headroom(sim.worstMemPct(t), sim.cpuPct(t), p.th), 0) < p.minConfidence) return `too close to the thresholds: no move there can reach min_confidence_score ${p.minConfidence}`;
  if (sim.load(t) >= sim.load(s)) return `not less loaded than ${s.name} (load ${r2(sim.load(t))} vs ${r2(sim.load(s))})`;
  const refused = a.guests.map((g) => p.allowed(g, t)).find((x) => x !== null);
  if (refused) return `not allowed: ${refused}`;
  if (sim.conflict(sg, t)) return `anti-affinity: another ${sim.conflict(sg, t)} guest is there`;
  if (!ev.capOk) {
    return ev.worstMemPct > caps.mem + 1e-9 ? `worst-case memory would reach ${r2(ev.worstMemPct)} %, above max_node_memory_percent ${caps.mem}` : `CPU would reach ${r2(ev.worstCpuPct)} %, above max_node_cpu_percent ${caps.cpu}`;
  }
  if (improvement < MIN_IMPROVEMENT) return `would change the imbalance by ${r2(-improvement) > 0 ? '+' : ''}${r2(-improvement)}; a move must lower it by at least ${MIN_IMPROVEMENT}`;
  if (p.rollback(sg, t)) return `${REASON.rollback}: it left ${t.name} within 24 h`;
  if (conf < p.minConfidence) return `${REASON.confidence}: confidence ${conf} < min_confidence_score ${p.minConfidence}`;
  return null;
}

function targetLine(p: Planner, sim: Sim, sg: SimGuest, t: SimNode, planned: Plan['moves'][number] | undefined, verdict: Explanation['verdict']): TargetLine {
  const s = sim.nodes[sg.node]!;
  const here = t.idx === sg.node;
  const a = p.arrivalOf(sg);
  const ev = sim.evaluate(a, t, newEvaluation());
  const before = sim.imbalance();
  const improvement = before - ev.imbalanceAfter;
  const conf = here ? null : p.score(a, t, gainFromImprovement(improvement, arrivalFootprint(a, s))).confidence;
  const chosen = planned?.target === t.name;
  const problem = here ? null : targetProblem(p, sim, sg, a, t, improvement, conf!);
  const blocked = !planned && verdict.outcome === 'skip' && verdict.target === t.name;
  const why = here ? 'where it runs now'
    : chosen ? `chosen (${planned!.kind}): ${planned!.reason}`
      : blocked ? `the plan's pick, not moved: ${verdict.reason}`
        : problem ?? (verdict.outcome === 'move' ? `could take it; ${verdict.target} is the plan's pick` : `could take it, but the guest stays: ${verdict.reason}`);
  return {
    node: t.name, role: role(sim, sg, t),
    cpu_percent_after: r2(here ? sim.cpuPct(t) : ev.cpuPct),
    mem_percent_after: r2(here ? sim.memPct(t) : ev.memPct),
    worst_mem_percent_after: r2(here ? sim.worstMemPct(t) : ev.worstMemPct),
    imbalance_after: r2(here ? before : ev.imbalanceAfter),
    imbalance_change: here ? 0 : r2(ev.imbalanceAfter - before),
    confidence: conf, chosen, why,
  };
}

/** Why the plan neither moved nor skipped the guest: the first phase condition it did not meet. */
function notConsidered(p: Planner, sim: Sim, sg: SimGuest, result: Plan): string {
  const s = sim.nodes[sg.node]!;
  const rule = p.rules(sg);
  if (rule) return `${rule.reason}${rule.detail ? ` (${rule.detail})` : ''}`;
  if (!sg.running) return 'not running: load balancing moves running guests only (maintenance evacuates stopped ones too)';
  if (!s.balanced) return `its node ${s.name} is not balanced (${s.online ? 'maintenance or not fully read' : 'offline'})`;
  const sum = result.summary;
  if (!sum.load_balancing_triggered) return `load balancing not needed: no node is hot and the imbalance ${sum.imbalance_before} is at or below the trigger ${IMBALANCE_TRIGGER}`;
  const hot = sum.hot_nodes_before;
  if (hot.length && !hot.includes(s.name)) return `${s.name} is not hot; moves are taken from the hot node(s) ${hot.join(', ')}`;
  if (!hot.length && sim.load(s) <= sim.meanLoad()) return `${s.name} is not above the cluster's mean load (${r2(sim.load(s))} vs ${r2(sim.meanLoad())})`;
  const limit = p.config.automated_migrations.rules.max_migrations_per_run;
  if (result.moves.length >= limit) return `the run's budget (max_migrations_per_run ${limit}) went to ${result.moves.map((m) => m.vmid).join(', ')} first (ranked by improvement per GiB moved)`;
  if (result.moves.length) return `other moves (${result.moves.map((m) => m.vmid).join(', ')}) brought the cluster to its target first (no hot node, imbalance ≤ ${IMBALANCE_TARGET}) or ranked higher`;
  return 'no target qualifies (see each node below)';
}

/** The explanation of `vmid` for this snapshot, config, history and moment; null when it is not in the snapshot. */
export function explainGuest(snapshot: ClusterSnapshot, config: Config, history: HistoryView, nowMs: number, vmid: number): Explanation | null {
  const { sim, planner: p } = makePlanner(snapshot, config, history, nowMs);
  const sg = sim.guests.find((x) => x.vmid === vmid);
  if (!sg) return null;
  const result = makePlan(snapshot, config, history, nowMs);
  const move = result.moves.find((m) => m.vmid === vmid);
  const skip = result.skipped.find((x) => x.vmid === vmid);
  const verdict: Explanation['verdict'] = move ? { outcome: 'move', reason: move.reason, target: move.target }
    : skip ? { outcome: 'skip', reason: `${skip.reason}${skip.detail ? ` (${skip.detail})` : ''}`, ...(skip.target ? { target: skip.target } : {}) }
      : { outcome: 'not considered', reason: notConsidered(p, sim, sg, result) };
  const s = sim.nodes[sg.node]!;
  const failed = result.gates.find((gt) => !gt.passed);
  return {
    at: new Date(nowMs).toISOString(), vmid, name: sg.g.name, type: sg.g.type, node: s.name, status: sg.g.status,
    footprint: {
      cpu_cores: r2(sg.cpuCores), mem_gib: r2(sg.mem / GiB), configured_mem_gib: r2(sg.reserve / GiB), local_disk_gib: r2(sg.localDisk / GiB), gib_to_move: r2(sg.gib),
      cpu_percent_of_node: r2(sim.cpuPct(s) - sim.cpuPct(s, -sg.cpuOut)), mem_percent_of_node: r2(sim.memPct(s) - sim.memPct(s, -sg.memOut)), points: r2(arrivalFootprint(p.arrivalOf(sg), s)),
    },
    rules: rules(p, sim, sg, config),
    verdict,
    cluster: {
      imbalance: result.summary.imbalance_before, trigger: IMBALANCE_TRIGGER, target: IMBALANCE_TARGET, load_balancing_triggered: result.summary.load_balancing_triggered,
      hot_nodes: result.summary.hot_nodes_before, gates_passed: result.allowed, ...(failed ? { gate: `${failed.name}: ${failed.message}` } : {}),
    },
    targets: sim.nodes.map((t) => targetLine(p, sim, sg, t, move, verdict)),
  };
}
