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
  /** Whether the last 24 h already contain a return to a node it had left (A→B→A). */
  pingPong: boolean;
  /** Cooldown end (epoch ms) and multiplier, when one applies. */
  cooldownUntil: number;
  multiplier: number;
}

function ms(iso: string | undefined): number {
  if (!iso) return NaN;
  return Date.parse(iso);
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
    if (!h) byVmid.set(m.vmid, (h = { recent: [], leftRecently: new Set(), pingPong: false, cooldownUntil: 0, multiplier: 1 }));
    h.recent.push({ ...m, startMs, endMs });
  }
  for (const h of byVmid.values()) {
    h.recent.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    const n = h.recent.length;
    h.multiplier = n <= 1 ? 1 : 2 ** Math.min(3, n - 1);
    const last = h.recent[n - 1]!;
    h.cooldownUntil = Math.max(last.endMs, last.startMs) + cooldownMinutes * 60_000 * h.multiplier;
    const left: string[] = [];
    for (const m of h.recent) {
      if (nowMs - m.endMs > ROLLBACK_HORIZON_MS || !LEFT.has(m.status)) continue;
      if (left.includes(m.target)) h.pingPong = true;
      left.push(m.source);
      h.leftRecently.add(m.source);
    }
  }
  return byVmid;
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
    if (t.endtime !== null || !MIGRATION_TASK_TYPES.has(t.type)) continue;
    const id = Number(t.id);
    if (t.id !== '' && Number.isInteger(id)) out.add(id);
  }
  return out;
}

function fmtTime(msv: number): string {
  return new Date(msv).toISOString().replace(/\.\d{3}Z$/, 'Z');
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
    if (h.pingPong) return { reason: REASON.rollback, detail: 'moved back to a node it had left within 24 h; on cooldown for 24 h' };
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
