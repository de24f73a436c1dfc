import type { HistoryRecord } from './store.js';
import { guestRef } from '../util/guest.js';

/**
 * The history as it was known at a moment: what happened after it is not known then (no later
 * cooldown, halt or move). For replaying a plan at a past time (`plan --now`).
 */
export function recordsAsOf(records: readonly HistoryRecord[], atMs: number): HistoryRecord[] {
  return records.filter((r) => Date.parse(r.type === 'run' ? r.started_at : r.at) <= atMs);
}

/** What a halt tells the admin, in the log, the run record and `resume`. Records without a guest type are VMs (older files). */
export function haltMessage(h: { vmid: number; at: string; guest_type?: string; error: string }): string {
  return `Automation halted after failed migration of ${guestRef(h.vmid, h.guest_type ?? 'qemu')} at ${h.at}; run \`proxbalance resume\``;
}
