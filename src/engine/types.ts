/**
 * Types of the decision engine: its inputs besides the snapshot and config (`HistoryView`, `Now`)
 * and its output (`Plan`). The engine is pure: everything it knows arrives as an argument, and a
 * `Plan` is plain JSON-serialisable data.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import type { PlannerInfo } from './optimal/types.js';

export type { ProxbalanceConfig, ClusterSnapshot };

/**
 * The moment the plan is made for: a `Date` or epoch milliseconds (both accepted; the engine never
 * reads the clock). Windows, cooldowns and the rollback horizon are judged against it.
 */
export type Now = Date | number;

/** Outcome of one live migration as the history file records it. */
export type MigrationStatus = 'started' | 'completed' | 'failed' | 'timeout' | 'interrupted';

/**
 * One live migration from the history file (dry runs are never included: they moved nothing, so
 * they neither start a cooldown nor count as a ping-pong leg).
 */
export interface HistoryMigration {
  vmid: number;
  /** Node the guest was on when the migration started. */
  source: string;
  /** Node it was sent to. */
  target: string;
  /**
   * `started` = no outcome recorded yet (still running, or the process died); `completed` = the
   * guest is on `target`; `failed`/`interrupted` = it stayed on `source`; `timeout` = not known yet
   * (it may be on `target`: counted as moved, docs/decisions.md §11).
   */
  status: MigrationStatus;
  /** ISO 8601 timestamp (any offset; compared as instants, never as strings). */
  started_at: string;
  /** ISO 8601 timestamp of the outcome, when there is one. */
  finished_at?: string;
}

/**
 * The minimal read-only view of the history file the engine needs. Built by `src/history` from
 * history.jsonl; the engine never reads files. Only recent entries matter: the engine looks back
 * 7 days (cooldown escalation) and 24 hours (rollback detection); older entries are ignored, so the
 * builder may pass just the last 7 days.
 */
export interface HistoryView {
  /**
   * Non-null when automation is halted after a failed migration (abort_on_failure) and not yet
   * resumed: then the plan has no moves.
   */
  readonly halted: { readonly vmid: number | null; readonly at: string; readonly error: string } | null;
  /** Live migrations, any order. */
  readonly migrations: readonly HistoryMigration[];
}

/** Names of the run-level gates, in the order they are evaluated. */
export type GateName = 'halted' | 'blackout' | 'migration_window' | 'cluster_health' | 'concurrency';

/** One run-level check. Every gate is always evaluated and reported, passed or not. */
export interface Gate {
  name: GateName;
  passed: boolean;
  /** What was found, in words (e.g. "Blackout window 'Business Hours' is active (Europe/Berlin 09:12 Wed)"). */
  message: string;
}

export type MoveKind = 'evacuation' | 'anti-affinity' | 'load' | 'distribution';

/**
 * How a move's confidence was reached (see docs/decisions.md for the formula):
 * confidence = round(100 × (0.40·gain + 0.30·headroom + 0.30·(1 − risk))).
 */
export interface ScoreBreakdown {
  /** Cluster imbalance number (see `Plan.summary`) just before and just after this move. */
  imbalance_before: number;
  imbalance_after: number;
  /** imbalance_before − imbalance_after (points). */
  improvement: number;
  /** 0..1: how much the move achieves (load: improvement / min(1 point, the guest's memory % + CPU % on its source), capped; other kinds: 1, the move fixes what it is for). */
  gain: number;
  /** 0..1: room left on the target after the move, below the hot thresholds (20 points = 1). */
  headroom: number;
  /** 0..1: cost and risk of the migration (size, local disks, container restart). */
  risk: number;
  /** GiB that travel: the guest's memory in use (running) plus its local disks. */
  gib_moved: number;
  /** Target after the move, percent: memory counting the guest's full configured memory, CPU. */
  target_mem_percent_after: number;
  target_cpu_percent_after: number;
  /** Source after the move, percent. */
  source_mem_percent_after: number;
  source_cpu_percent_after: number;
}

/** One planned migration. `Plan.moves` is ordered: the executor starts them in this order. */
export interface PlannedMove {
  vmid: number;
  name: string;
  type: 'qemu' | 'lxc';
  source: string;
  target: string;
  kind: MoveKind;
  /** true: live (online) migration of a running guest; false: offline migration (stopped guest). A running container is moved with a restart. */
  online: boolean;
  /** 0-100, see ScoreBreakdown. Evacuations are planned whatever their confidence. */
  confidence: number;
  /** One sentence a person understands, e.g. "pve1 is at 91 % memory (threshold 70 %); pve3 has room: 48 % → 56 %". */
  reason: string;
  score: ScoreBreakdown;
  /**
   * Guests Proxmox HA moves along to the same target (positive resource affinity): not migrated by
   * proxbalance, but counted in the target's caps, the score and the per-run budget, and followed
   * and recorded by the executor.
   */
  companions?: Array<{ vmid: number; name: string; type: 'qemu' | 'lxc'; source: string }>;
}

/** A guest that was considered and not moved. */
export interface SkippedGuest {
  vmid: number;
  name: string;
  /** Node it is on. */
  node: string;
  /**
   * The canonical reason (stable strings, see docs/decisions.md): "Has 'ignore' tag",
   * "Missing 'auto-migrate-ok' tag", "Already has active migration", "Guest is locked (backup)"
   * (the lock's name in the parentheses), "Cooldown active", "Rollback detected",
   * "Below confidence threshold", "Managed by HA auto-rebalance", "Managed by HA maintenance mode",
   * "Local resource prevents live migration: hostpci0", "No allowed target: …", "No target with room",
   * "Template", "Max migrations per run reached", the HA ones ("HA placement unknown",
   * "HA rule 'db-pin' prefers pve1 (failback on)", "HA negative affinity with VM 101 on pve3", …;
   * see docs/decisions.md section 10), and the gates' "Automation halted",
   * "Blackout window active", "Outside migration window", "Cluster health check failed",
   * "Max concurrent migrations reached".
   */
  reason: string;
  /** Extra facts: the confidence value, the cooldown end, the gate's detail… */
  detail?: string;
  /** When the guest was blocked on its way to a particular move (e.g. by a gate or a threshold). */
  kind?: MoveKind;
  target?: string;
  confidence?: number;
}

/** A node's figures as the engine sees them (averages when the snapshot has them). */
export interface NodeLoad {
  name: string;
  /** Role in this plan: balanced = source/target of load moves; maintenance = evacuated; excluded = offline/incomplete. */
  role: 'balanced' | 'maintenance' | 'excluded';
  cpu_percent: number;
  mem_percent: number;
  iowait_percent: number;
  /** (cpu % + mem %) / 2 */
  load: number;
  /** Above a recommendation threshold (cpu, mem or iowait). */
  hot: boolean;
  running_guests: number;
}

export interface PlanSummary {
  /**
   * Cluster imbalance number, in points: standard deviation of node loads (percentage points) over
   * balanced nodes plus every point a node sits above the CPU or memory threshold.
   */
  imbalance_before: number;
  /** After all planned moves (simulated). */
  imbalance_after: number;
  /** Load balancing starts when a node is hot or imbalance > trigger, and stops under target. */
  imbalance_trigger: number;
  imbalance_target: number;
  /** Whether load balancing was triggered this tick. */
  load_balancing_triggered: boolean;
  hot_nodes_before: string[];
  hot_nodes_after: string[];
  /** Migration tasks running in the cluster now, and how many more the concurrency limit allows. */
  running_migrations: number;
  free_migration_slots: number;
  /** GiB the planned moves transfer. */
  gib_moved: number;
  nodes_before: NodeLoad[];
  nodes_after: NodeLoad[];
}

/** The engine's output: what to do this tick and why. */
export interface Plan {
  /** `now` as ISO 8601 UTC. */
  at: string;
  /** Every gate, in evaluation order. */
  gates: Gate[];
  /** True when every gate passed (when false, `moves` is empty and the would-be moves are in `skipped` with the gate's reason). */
  allowed: boolean;
  moves: PlannedMove[];
  skipped: SkippedGuest[];
  /** Which planner decided (greedy or the exact one), whether its plan is proven optimal, the solve time. */
  planner: PlannerInfo;
  summary: PlanSummary;
  /** Notable events worth a log line (e.g. a rollback that was prevented). */
  notes: string[];
}
