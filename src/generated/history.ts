/* Generated from schemas/history.schema.json by scripts/gen-types.mjs: do not edit. Run `npm run gen`. */

/**
 * One line of the history file (JSON lines, append only). Every record carries the format version v and its type. Timestamps are ISO 8601 UTC with Z. A migration has several records with the same migration_id (intent, started, then its outcome); readers fold them into the latest state.
 */
export type HistoryRecord = RunRecord | MigrationRecord | HaltedRecord | ResumedRecord | NotificationRecord;
export type Timestamp = string;

/**
 * One tick: written when it ends (also when it was skipped).
 */
export interface RunRecord {
  v: 1;
  type: "run";
  run_id: string;
  started_at: Timestamp;
  finished_at: Timestamp;
  trigger: "scheduled" | "manual";
  mode: "live" | "dry-run";
  gates: GateRecord[];
  outcome: "no_action" | "success" | "partial" | "failed" | "skipped" | "disabled" | "halted" | "error";
  /**
   * Why the run was skipped, disabled, halted or errored.
   */
  reason?: string;
  decisions: DecisionRecord[];
  /**
   * What the plan wants a person to know beyond the per-guest decisions (a prevented rollback, balancing wanted but impossible).
   */
  notes?: string[];
  /**
   * The run_id of an earlier run whose decisions this run repeated exactly; decisions is then empty in the file and readers take that run's. Keeps steady-state ticks of a large cluster small.
   */
  decisions_same_as?: string;
  /**
   * Each node's CPU and memory use (percent, averaged as the engine saw them, one decimal) before the tick's planned moves and after them as the engine simulated them. Written by ticks that read the cluster; `proxbalance report` draws the last one. Added in proxbalance 0.2.
   */
  node_load?: NodeLoadRecord[];
  /**
   * The earlier records still in force when this run ended, copied as they are in the file: the active halt and its halt notifications, every record of each migration whose outcome is not known yet, failures of runs that died before their halt, and the records with UPIDs that an unfinished intent's lookup must not take. Written on every run (possibly empty) by versions that read only the end of the history: a reader that finds it needs nothing older than the span it looks back over (docs/running.md, "Reading the history").
   */
  carried?: (MigrationRecord | HaltedRecord | NotificationRecord)[];
  /**
   * Figures of the tick (imbalance before/after, moves planned/started/completed, API requests).
   */
  summary?: {
    [k: string]: number | string | null | undefined;
  };
}
export interface GateRecord {
  /**
   * Which run-level check (halted, blackout, window, health, concurrency, …).
   */
  name: string;
  passed: boolean;
  message: string;
}
/**
 * What the tick decided for one guest: a move, or a skip with its reason.
 */
export interface DecisionRecord {
  vmid: number;
  name?: string;
  guest_type?: "qemu" | "lxc";
  action: "move" | "skip";
  reason: string;
  source?: string;
  target?: string;
  kind?: string;
  confidence?: number;
  /**
   * For moves: Dry run, started, completed, failed, … as the tick ended.
   */
  outcome?: string;
}
export interface NodeLoadRecord {
  node: string;
  cpu_before: number;
  mem_before: number;
  cpu_after: number;
  mem_after: number;
}
export interface MigrationRecord {
  v: 1;
  type: "migration";
  at: Timestamp;
  /**
   * The run that wrote this record.
   */
  run_id: string;
  /**
   * Same for every record of one migration.
   */
  migration_id: string;
  vmid: number;
  name: string;
  guest_type: "qemu" | "lxc";
  source: string;
  target: string;
  /**
   * evacuation, anti-affinity, load or distribution.
   */
  kind?: string;
  confidence?: number;
  reason?: string;
  /**
   * intent: written and fsync'd before the migrate request is sent (write-ahead); started: Proxmox answered with its task (upid); unknown: the answer to the request was lost and no task of it was found yet; never_started: no migration ran (Proxmox refused the request, a transient error, or no task was found for an intent); then completed, failed, timeout (left running, outcome looked up later), interrupted (the run stopped following it). Only intent and started/unknown/timeout/interrupted wait for an outcome.
   */
  status:
    "intent" | "started" | "unknown" | "completed" | "failed" | "timeout" | "interrupted" | "never_started" | "dry-run";
  /**
   * When the tick that planned this move started. On the first record of a migration: its intent, or the start of a guest HA moved along (which has no intent of its own).
   */
  planned_at?: string;
  upid?: string | null;
  started_at?: Timestamp;
  finished_at?: Timestamp;
  duration_s?: number;
  transferred_bytes?: number;
  avg_speed_bytes_s?: number;
  /**
   * Proxmox's exit status of the task (OK, WARNINGS: N, error text).
   */
  exitstatus?: string;
  error?: string;
}
/**
 * Automation halted after a failed migration (abort_on_failure); every later tick skips until a resumed record.
 */
export interface HaltedRecord {
  v: 1;
  type: "halted";
  at: Timestamp;
  run_id: string;
  vmid: number;
  guest_type?: "qemu" | "lxc";
  migration_id?: string;
  error: string;
}
/**
 * What was sent to the notification providers for one event, and how each delivery went. Written after the delivery (which never fails a tick). A halt counts as announced to a provider once a record with event halt and its halt_at says ok for it. Added in proxbalance 0.2; older versions skip these lines with a warning.
 */
export interface NotificationRecord {
  v: 1;
  type: "notification";
  at: Timestamp;
  /**
   * The tick that sent it; absent for `resume`.
   */
  run_id?: string;
  event: "start" | "complete" | "failure" | "halt" | "resumed";
  title: string;
  priority?: "low" | "normal" | "high" | "emergency";
  /**
   * For event halt: the at of the halted record announced.
   */
  halt_at?: string;
  deliveries: DeliveryRecord[];
}
export interface DeliveryRecord {
  /**
   * webhook, email, slack, discord, telegram, pushover or gotify.
   */
  provider: string;
  ok: boolean;
  /**
   * Why the delivery failed, secrets removed.
   */
  error?: string;
}
/**
 * `proxbalance resume` lifted a halt.
 */
export interface ResumedRecord {
  v: 1;
  type: "resumed";
  at: Timestamp;
  /**
   * Who resumed (user name), when known.
   */
  by?: string;
}
