import type { Upid } from './upid.js';
/** Shapes of the Proxmox VE API answers the client reads (booleans are 0/1 integers). */

export type GuestType = 'qemu' | 'lxc';

/** An entry of GET /cluster/resources. */
export interface ResourceEntry {
  id: string;
  type: 'node' | 'storage' | 'pool' | 'qemu' | 'lxc' | 'openvz' | 'sdn' | 'network' | string;
  node?: string;
  status?: string;
  name?: string;
  vmid?: number;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
  template?: number | boolean;
  tags?: string;
  lock?: string;
  pool?: string;
  hastate?: string;
  storage?: string;
  plugintype?: string;
  shared?: number | boolean;
  content?: string;
  level?: string;
  [k: string]: unknown;
}

/** An entry of GET /cluster/status. */
export interface ClusterStatusEntry {
  type: 'cluster' | 'node';
  id: string;
  name: string;
  nodes?: number;
  quorate?: number | boolean;
  version?: number;
  nodeid?: number;
  online?: number | boolean;
  local?: number | boolean;
  ip?: string;
  level?: string;
}

/** An entry of GET /cluster/tasks. */
export interface ClusterTaskEntry {
  upid: string;
  node: string;
  pid?: number;
  pstart?: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  /** Exit status once finished ("OK", "WARNINGS: 1", error text); some versions say "running". */
  status?: string;
  endtime?: number;
  saved?: string;
}

/** GET /nodes/{node}/tasks/{upid}/status: the UPID's fields, plus the state. */
export interface TaskStatus extends Upid {
  upid: string;
  status: 'running' | 'stopped';
  /** Only once stopped: OK, "WARNINGS: N", or the error text. */
  exitstatus?: string;
}

/** An entry of GET /cluster/ha/status/current. */
export interface HaStatusEntry {
  id: string;
  type: 'quorum' | 'master' | 'lrm' | 'service' | 'fencing';
  node: string;
  status: string;
  quorate?: number;
  sid?: string;
  state?: string;
  crm_state?: string;
  request_state?: string;
  timestamp?: number;
  [k: string]: unknown;
}

/** One point of GET /nodes/{node}/rrddata (fields missing where no data was recorded). */
export interface RrdPoint {
  time: number;
  cpu?: number;
  maxcpu?: number;
  memused?: number;
  memtotal?: number;
  iowait?: number;
  loadavg?: number;
  [k: string]: number | undefined;
}

/** GET /nodes/{node}/qemu/{vmid}/migrate (the LXC variant is normalised to the same shape). */
export interface MigratePreconditionRaw {
  running?: number | boolean;
  allowed_nodes?: string[];
  not_allowed_nodes?: Record<string, { unavailable_storages?: string[]; 'unavailable-resources'?: string[]; 'blocking-ha-resources'?: Array<{ sid: string; cause: string }> }>;
  local_disks?: Array<{ volid: string; size: number; cdrom?: number | boolean; is_unused?: number | boolean }>;
  local_resources?: string[];
  'mapped-resources'?: string[];
  'allowed-nodes'?: string[];
  'not-allowed-nodes'?: Record<string, { 'blocking-ha-resources'?: Array<{ sid: string; cause: string }> }>;
  [k: string]: unknown;
}

/** What the precondition endpoint says about moving a guest, normalised. */
export interface MigratePrecondition {
  running: boolean;
  allowedNodes: string[];
  /** Node → why it is not allowed, in words. */
  notAllowed: Record<string, string>;
  /** Total size of local disks (bytes; cd-roms and unused volumes excluded). */
  localDisksBytes: number;
  hasLocalDisks: boolean;
  /** Local resources that block a live migration (hostpci0, usb0, …). */
  localResources: string[];
  /** False when the server has no precondition endpoint for this guest type (older LXC). */
  known: boolean;
}

/** GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current: the fields the executor re-checks. */
export interface GuestCurrent {
  vmid: number;
  status: string;
  name?: string;
  lock?: string;
  template?: number | boolean;
  cpu?: number;
  cpus?: number;
  mem?: number;
  maxmem?: number;
  ha?: { managed?: number; state?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** GET /version. */
export interface PveVersion {
  version: string;
  release: string;
  repoid: string;
  [k: string]: unknown;
}

/** GET /access/permissions: path → {privilege: 1}. */
export type PermissionMap = Record<string, Record<string, number>>;

/** A guest as the migrate call needs it. */
export interface GuestRef {
  vmid: number;
  type: GuestType;
  node: string;
  status: string;
  hastate?: string | null;
}

export const bool = (v: unknown): boolean => v === 1 || v === true || v === '1';

/** What proxbalance needs on / (see docs/connecting.md). */
export const REQUIRED_PRIVILEGES = ['VM.Audit', 'VM.Migrate', 'Sys.Audit', 'Datastore.Audit'] as const;

/**
 * The privileges of `required` that GET /access/permissions does not grant on `path` (default /):
 * use it to say up front what the token lacks instead of failing mid-run.
 */
export function missingPrivileges(perms: PermissionMap, required: readonly string[] = REQUIRED_PRIVILEGES, path = '/'): string[] {
  const have = perms[path] ?? {};
  return required.filter((p) => !bool(have[p]));
}

/**
 * What "running" means for a task of /cluster/tasks, in one place: it has no end time yet (Proxmox
 * adds endtime, with the exit status, when it ends). The snapshot (a running task's endtime is
 * null), the engine's concurrency gate, the executor's slots and `status` all count by it.
 */
export function taskRunning(t: { endtime?: number | null }): boolean {
  return !(typeof t.endtime === 'number' && t.endtime > 0);
}
