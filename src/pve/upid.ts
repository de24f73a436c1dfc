/**
 * Proxmox task IDs: `UPID:node:PID:PSTART:STARTTIME:type:id:user:` with PID 8 hex digits, PSTART 8
 * or 9 hex digits, STARTTIME 8 hex digits, an id that may be empty, a user that may be a token
 * (`user@realm!tokenid`), and a trailing colon.
 */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Unix seconds. */
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([a-zA-Z0-9][a-zA-Z0-9.-]*):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** Parses a UPID; null when it is not one. */
export function parseUpid(text: string): Upid | null {
  const m = UPID_RE.exec(text.trim());
  if (!m) return null;
  return {
    node: m[1]!,
    pid: parseInt(m[2]!, 16),
    pstart: parseInt(m[3]!, 16),
    starttime: parseInt(m[4]!, 16),
    type: m[5]!,
    id: m[6]!,
    user: m[7]!,
  };
}

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/** Formats a UPID the way Proxmox does (upper-case hex, trailing colon). */
export function formatUpid(u: Upid): string {
  return `UPID:${u.node}:${hex(u.pid, 8)}:${hex(u.pstart, 8)}:${hex(u.starttime, 8)}:${u.type}:${u.id}:${u.user}:`;
}
