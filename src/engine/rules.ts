/**
 * Per-guest filters: each returns the canonical skip reason (docs/decisions.md lists them) or null.
 * Guest-level rules are judged once per guest; the pair-level ones (rollback target, nodes the
 * guest may not go to) when a target is chosen.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import type { HaPlacement } from './ha.js';
import type { SimGuest, SimNode } from './state.js';
import type { HistoryMigration, HistoryView } from './types.js';

export const REASON = {
  ignore: "Has 'ignore' tag",
  whitelist: "Missing 'auto-migrate-ok' tag",
  active: 'Already has active migration',
  locked: (lock: string) => `Guest is locked (${lock})`,
  cooldown: 'Cooldown active',
  rollback: 'Rollback detected',
  confidence: 'Below confidence threshold',
  haRebalance: 'Managed by HA auto-rebalance',
  haMaintenance: 'Managed by HA maintenance mode',
  localResource: (res: string) => `Local resource prevents live migration: ${res}`,
  noAllowedTarget: (detail: string) => `No allowed target: ${detail}`,
  noRoom: 'No target with room',
  template: 'Template',
  maxPerRun: 'Max migrations per run reached',
  halted: 'Automation halted',
  blackout: 'Blackout window active',
  outsideWindow: 'Outside migration window',
  health: 'Cluster health check failed',
  concurrency: 'Max concurrent migrations reached',
} as const;

export interface Skip {
  reason: string;
  detail?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const ROLLBACK_HORIZON_MS = DAY;
export const ESCALATION_HORIZON_MS = 7 * DAY;
export const MIGRATION_TASK_TYPES = new Set(['qmigrate', 'vzmigrate', 'hamigrate']);

/** What the history says about one guest. */
export interface GuestHistory {
  /** Live migrations within 7 days, oldest first (by start). */
  recent: Array<HistoryMigration & { startMs: number; endMs: number }>;
  /** Nodes the guest left within the last 24 h (rollback targets). */
  leftRecently: Set<string>;
  /**
   * A detected rollback (A→B, then back to A within 24 h of leaving it) keeps the guest where it is
   * until 24 h after the return ended (epoch ms; 0 when there was none). `returnedTo` names the node.
   */
  rollbackUntil: number;
  returnedTo?: string;
  /** Cooldown end (epoch ms) and multiplier, when one applies. */
  cooldownUntil: number;
  multiplier: number;
}

/** Epoch ms of an ISO time; NaN when absent or unreadable. */
function ms(iso: string | undefined): number {
  return Date.parse(iso as string);
}

/** Statuses after which the guest may be on the target (so it "left" the source). */
const LEFT = new Set(['completed', 'timeout', 'started']);

/**
 * Indexes the history per guest. Cooldown: the last live migration (any outcome) starts a cooldown
 * of cooldown_minutes × multiplier, counted from its end (its start when it has none); the
 * multiplier is 1 for a single move within 7 days, then 2, 4 and at most 8 for the 2nd, 3rd, 4th+.
 */
export function indexHistory(history: HistoryView, nowMs: number, cooldownMinutes: number): Map<number, GuestHistory> {
  const byVmid = new Map<number, GuestHistory>();
  for (const m of history.migrations) {
    const startMs = ms(m.started_at);
    if (!Number.isFinite(startMs)) continue;
    const end = ms(m.finished_at);
    const endMs = Number.isFinite(end) ? end : startMs;
    if (nowMs - Math.max(startMs, endMs) > ESCALATION_HORIZON_MS) continue;
    let h = byVmid.get(m.vmid);
    if (!h) byVmid.set(m.vmid, (h = { recent: [], leftRecently: new Set(), rollbackUntil: 0, cooldownUntil: 0, multiplier: 1 }));
    h.recent.push({ ...m, startMs, endMs });
  }
  for (const h of byVmid.values()) {
    h.recent.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    const n = h.recent.length;
    h.multiplier = 2 ** Math.min(3, n - 1);
    const last = h.recent[n - 1]!;
    h.cooldownUntil = Math.max(last.endMs, last.startMs) + cooldownMinutes * 60_000 * h.multiplier;
    rollbacks(h, nowMs);
  }
  return byVmid;
}

/**
 * Rollback facts of one guest (its `recent` sorted by start). A move the guest may have made
 * (completed, timed out, or without an outcome) puts its source in `leftRecently` for 24 h from the
 * move's end. A move back to a node the guest had left (that earlier move ended at most 24 h before
 * the return started) is a rollback: the guest stays put until 24 h after the return's end.
 */
function rollbacks(h: GuestHistory, nowMs: number): void {
  const earlier: GuestHistory['recent'] = [];
  for (const m of h.recent) {
    if (!LEFT.has(m.status)) continue;
    if (nowMs - m.endMs <= ROLLBACK_HORIZON_MS) h.leftRecently.add(m.source);
    // The latest return (by start) decides.
    if (earlier.some((e) => e.source === m.target && m.startMs - e.endMs <= ROLLBACK_HORIZON_MS)) {
      h.rollbackUntil = m.endMs + ROLLBACK_HORIZON_MS;
      h.returnedTo = m.target;
    }
    earlier.push(m);
  }
}

export interface RuleContext {
  config: ProxbalanceConfig;
  nowMs: number;
  history: Map<number, GuestHistory>;
  /** vmids with a running migration task. */
  activeTasks: Set<number>;
  /** Proxmox CRS rebalances HA guests itself. */
  crsRebalance: boolean;
  /** Proxmox HA placement (rules, failback, affinity). */
  ha: HaPlacement;
}

export function activeMigrationVmids(snap: ClusterSnapshot): Set<number> {
  const out = new Set<number>();
  for (const t of snap.tasks) {
    // A task without a vmid adds NaN or 0, which matches no guest.
    if (t.endtime === null && MIGRATION_TASK_TYPES.has(t.type)) out.add(Number(t.id));
  }
  return out;
}

function fmtTime(msv: number): string {
  return `${new Date(msv).toISOString().slice(0, 19)}Z`;
}

/**
 * Rules that hold even for maintenance evacuations: templates, an active migration, other locks,
 * local resources that pin a running guest.
 */
export function hardRules(sg: SimGuest, ctx: RuleContext): Skip | null {
  const g = sg.g;
  if (g.template) return { reason: REASON.template, detail: 'templates are never migrated automatically' };
  if (ctx.activeTasks.has(g.vmid) || g.lock === 'migrate') return { reason: REASON.active };
  if (g.lock) return { reason: REASON.locked(g.lock) };
  if (sg.running && g.local && g.local.resources.length > 0) return { reason: REASON.localResource(g.local.resources.join(', ')) };
  return null;
}

/** Every rule of an ordinary (non-maintenance) move, in the order they are reported. */
export function guestRules(sg: SimGuest, ctx: RuleContext): Skip | null {
  const g = sg.g;
  const rules = ctx.config.automated_migrations.rules;
  if (g.template) return { reason: REASON.template, detail: 'templates are never migrated automatically' };
  if (rules.respect_ignore_tags && g.tags.includes('ignore')) return { reason: REASON.ignore };
  if (rules.require_auto_migrate_ok_tag && !g.tags.includes('auto-migrate-ok')) return { reason: REASON.whitelist };
  const hard = hardRules(sg, ctx);
  if (hard) return hard;
  if (g.hastate !== null && ctx.crsRebalance) return { reason: REASON.haRebalance, detail: 'Proxmox CRS ha-auto-rebalance is on' };
  const h = ctx.history.get(g.vmid);
  if (h) {
    if (ctx.nowMs < h.rollbackUntil) return { reason: REASON.rollback, detail: `moved back to ${h.returnedTo}, a node it had left within 24 h; stays put until ${fmtTime(h.rollbackUntil)}` };
    if (ctx.nowMs < h.cooldownUntil) {
      const x = h.multiplier > 1 ? ` (×${h.multiplier}: ${h.recent.length} moves within 7 days)` : '';
      return { reason: REASON.cooldown, detail: `until ${fmtTime(h.cooldownUntil)}${x}` };
    }
  }
  return null;
}

/** Pair-level: the node is one the guest may not go to according to Proxmox's precondition check. */
export function notAllowed(sg: SimGuest, t: SimNode): string | null {
  const na = sg.g.local?.not_allowed;
  if (!na) return null;
  const why = na[t.name];
  return why === undefined ? null : why || 'not allowed';
}

/** Pair-level: the guest left `t` within the last 24 h. */
export function isRollback(sg: SimGuest, t: SimNode, ctx: RuleContext): boolean {
  return ctx.history.get(sg.vmid)?.leftRecently.has(t.name) ?? false;
}
