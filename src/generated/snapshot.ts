/* Generated from schemas/snapshot.schema.json by scripts/gen-types.mjs: do not edit. Run `npm run gen`. */

/**
 * What one tick knows of the cluster, gathered in at most 7 + (online nodes) API requests. Written by `proxbalance snapshot`, read back for a replay. Holds no secret. Where something could not be learned it says so (null, complete=false, an entry in unknowns) instead of inventing numbers.
 */
export interface ClusterSnapshot {
  /**
   * Format version.
   */
  v: 1;
  /**
   * When the snapshot was taken, ISO 8601 UTC.
   */
  taken_at: string;
  /**
   * Where the snapshot came from.
   */
  api: {
    /**
     * The host that answered.
     */
    host: string;
    /**
     * API requests made to build this snapshot.
     */
    requests: number;
    /**
     * Proxmox VE version, when an answer already carried it (none of the snapshot's requests does today, and a sixth request just for it is not made): usually null. `proxbalance doctor` shows the version.
     */
    pve_version?: string | null;
  };
  /**
   * Cluster-wide state from GET /cluster/status.
   */
  cluster: {
    /**
     * Cluster name; null for a standalone node.
     */
    name: string | null;
    /**
     * Whether the cluster is quorate; null when unknown. A standalone node is quorate.
     */
    quorate: boolean | null;
    /**
     * A single node without a cluster.
     */
    standalone: boolean;
  };
  /**
   * Proxmox's own cluster resource scheduler (GET /cluster/options, key crs).
   */
  crs: {
    /**
     * Whether CRS automatically rebalances HA resources (ha-auto-rebalance); null when it could not be read.
     */
    ha_auto_rebalance: boolean | null;
    /**
     * CRS mode for HA (basic, static, dynamic), when set.
     */
    ha_mode?: string | null;
  };
  nodes: SnapshotNode[];
  guests: SnapshotGuest[];
  storages: SnapshotStorage[];
  /**
   * Migration tasks (qmigrate, vzmigrate, hamigrate) from GET /cluster/tasks: running ones and recent finished ones.
   */
  tasks: SnapshotTask[];
  /**
   * What could not be learned, in words (e.g. 'rrddata of pve3: request timed out').
   */
  unknowns: string[];
  ha?: SnapshotHa;
}
export interface SnapshotNode {
  name: string;
  /**
   * online, offline or unknown (as /cluster/resources and /cluster/status report it).
   */
  status: "online" | "offline" | "unknown";
  /**
   * Current CPU use, fraction 0..1 of all cores.
   */
  cpu: number;
  /**
   * Number of cores.
   */
  maxcpu: number;
  /**
   * Memory used now, bytes.
   */
  mem: number;
  /**
   * Memory installed, bytes.
   */
  maxmem: number;
  /**
   * Averages over the last hour from rrddata (timeframe=hour, cf=AVERAGE); null when not read.
   */
  avg: null | {
    /**
     * CPU use, fraction 0..1.
     */
    cpu: number;
    /**
     * Memory used, bytes.
     */
    mem: number;
    /**
     * I/O wait, fraction 0..1.
     */
    iowait: number;
    /**
     * Data points averaged.
     */
    samples: number;
  };
  /**
   * The node's HA LRM state when HA reports one (e.g. 'active', 'maintenance'); null otherwise.
   */
  ha_state: string | null;
  /**
   * False when something about this node could not be read (offline, unknown state, rrddata missing): then it is neither a source of load moves nor a target.
   */
  complete: boolean;
}
export interface SnapshotGuest {
  vmid: number;
  type: "qemu" | "lxc";
  name: string;
  node: string;
  /**
   * running, stopped, paused, unknown, …
   */
  status: string;
  /**
   * CPU use, fraction 0..1 of its own maxcpu.
   */
  cpu: number;
  /**
   * Configured cores.
   */
  maxcpu: number;
  /**
   * Memory used, bytes.
   */
  mem: number;
  /**
   * Configured memory, bytes.
   */
  maxmem: number;
  /**
   * Size of its root/boot disk, bytes.
   */
  maxdisk: number;
  /**
   * Tags, split on ';' (',' and spaces tolerated), lower-cased, without empties.
   */
  tags: string[];
  /**
   * Lock held (migrate, backup, snapshot, …) or null.
   */
  lock: string | null;
  pool: string | null;
  /**
   * HA state when the guest is HA-managed (started, stopped, migrate, …); null when not.
   */
  hastate: string | null;
  template: boolean;
  /**
   * Learned from the migrate precondition endpoint for a planned move (never while gathering): what ties the guest to its node.
   */
  local?: {
    /**
     * Total size of local disks (0 when none).
     */
    disks_bytes: number;
    /**
     * Local resources that prevent a live migration (e.g. hostpci0, usb0).
     */
    resources: string[];
    /**
     * Nodes the guest cannot go to, with why (missing storage, resource, HA rule).
     */
    not_allowed: {
      [k: string]: string | undefined;
    };
  };
}
export interface SnapshotStorage {
  storage: string;
  node: string;
  shared: boolean;
  status: string;
  plugintype: string;
  content: string[];
  disk: number;
  maxdisk: number;
}
export interface SnapshotTask {
  upid: string;
  node: string;
  /**
   * qmigrate, vzmigrate or hamigrate.
   */
  type: string;
  /**
   * The guest's vmid as text (may be empty).
   */
  id: string;
  user: string;
  /**
   * Unix seconds.
   */
  starttime: number;
  /**
   * Exit status once finished (OK, WARNINGS: N, error text); null while running.
   */
  status: string | null;
  /**
   * Unix seconds once finished; null while running.
   */
  endtime: number | null;
}
/**
 * Proxmox HA placement: the HA resources (GET /cluster/ha/resources), the placement rules (PVE 9: GET /cluster/ha/rules; PVE 8: GET /cluster/ha/groups and each resource's group) and the HA services' states (GET /cluster/ha/status/current). Absent in snapshots written before proxbalance read HA rules: then no rule is known.
 */
export interface SnapshotHa {
  /**
   * Where the placement rules came from: 'rules' (PVE 9 HA rules), 'groups' (PVE 8 HA groups, turned into node-affinity rules here), 'none' (no HA resource, or PVE 8 without groups).
   */
  source: "rules" | "groups" | "none";
  /**
   * False when a read the HA placement needs failed (see unknowns): then no HA guest is moved.
   */
  complete: boolean;
  resources: SnapshotHaResource[];
  /**
   * The rules as Proxmox lists them (disabled ones included); PVE 8 groups appear as node-affinity rules named 'group:<name>' (restricted = strict; nofailback is carried by the resources' failback).
   */
  rules: SnapshotHaRule[];
  /**
   * Whether GET /cluster/ha/status/current was read (the services' states, for the recovery check).
   */
  status_known: boolean;
  /**
   * HA service states from GET /cluster/ha/status/current (empty when not read).
   */
  services: {
    sid: string;
    node: string;
    /**
     * started, stopped, migrate, relocate, fence, recovery, error, freeze, …
     */
    state: string;
  }[];
}
export interface SnapshotHaResource {
  /**
   * vm:100, ct:101.
   */
  sid: string;
  vmid: number;
  /**
   * Requested state (started, stopped, ignored, disabled, …).
   */
  state: string;
  /**
   * HA moves the guest back to a preferred node (PVE 9 'failback', default on; PVE 8: its group's nofailback=0).
   */
  failback: boolean;
  /**
   * PVE 8 HA group, or null.
   */
  group: string | null;
}
export interface SnapshotHaRule {
  /**
   * The rule's name ('group:<name>' for a PVE 8 group).
   */
  rule: string;
  type: "node-affinity" | "resource-affinity";
  /**
   * The sids the rule is about (for a group: the resources naming it).
   */
  resources: string[];
  disabled: boolean;
  /**
   * node-affinity: node → priority (higher is preferred; default 0).
   */
  nodes?: {
    [k: string]: number | undefined;
  };
  /**
   * node-affinity: only the listed nodes are allowed.
   */
  strict?: boolean;
  /**
   * resource-affinity: keep together (positive) or apart (negative).
   */
  affinity?: "positive" | "negative";
}
