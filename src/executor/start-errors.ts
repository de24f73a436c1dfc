import { PveApiError, PveError, PveMigrationUnknownError, PveNetworkError, PveTlsError } from '../pve/errors.js';

/**
 * What an error of the migrate POST means for the run (docs/running.md lists them):
 * - refused: Proxmox refused the request before starting anything (a 4xx, a 501, or a 500 whose
 *   message is one of the refusals the migrate handlers raise before they fork the task: no
 *   quorum, target offline, guest locked, …). Nothing ran: a skip with its reason, no halt.
 * - transient: a server or connection error before anything started (502/503/504, another 500,
 *   connection refused, TLS): nothing ran; the move is planned again next tick. No halt.
 * - unknown: the request was sent and its answer lost: the migration may run. Recorded as
 *   unknown, looked up by a later tick, never re-sent blindly. No halt.
 * Only a migration task that ran and failed halts automation (abort_on_failure).
 */
export type StartErrorKind = 'refused' | 'transient' | 'unknown';

/** Messages of the migrate handlers (qemu-server, pve-container, HA) that refuse before any task starts. */
const REFUSALS: readonly RegExp[] = [
  /no quorum/i,
  /no such cluster node/i,
  /is not online/i,
  /does not exist/i,
  /is locked/i,
  /can't migrate/i,
  /cannot migrate/i,
  /not allowed/i,
  /is a template/i,
  /error state/i,
  /not available on (?:node|target)/i,
  /already (?:running|migrating|in progress)/i,
  /target is local node/i,
];

export function startErrorKind(e: unknown): StartErrorKind | null {
  if (e instanceof PveMigrationUnknownError) return 'unknown';
  if (e instanceof PveApiError) {
    if (e.status >= 400 && e.status < 500) return 'refused';
    if (e.status === 501) return 'refused';
    if (e.status === 500 && REFUSALS.some((r) => r.test(e.pveMessage))) return 'refused';
    return 'transient';
  }
  if (e instanceof PveNetworkError || e instanceof PveTlsError) return 'transient';
  if (e instanceof PveError) return 'transient';
  return null;
}
