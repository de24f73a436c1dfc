/**
 * Task logs: paging shape and the progress lines of a migration. Sizes use binary units
 * (KiB = 1024 B) as Proxmox prints them, and become bytes.
 */

/** One line of GET /nodes/{node}/tasks/{upid}/log: n is 1-based. */
export interface TaskLogLine {
  n: number;
  t: string;
}

/** A page of a task log: `start` lines skipped, `total` lines in the whole log. */
export interface TaskLogPage {
  lines: TaskLogLine[];
  total: number;
}

const UNITS: Record<string, number> = {
  b: 1,
  byte: 1,
  bytes: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1024 ** 5,
  pib: 1024 ** 5,
};

/** "357.9 MiB" → bytes (binary units; rounded to whole bytes); null when not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) return null;
  const unit = UNITS[(m[2] || 'b').toLowerCase()];
  if (unit === undefined) return null;
  return Math.round(parseFloat(m[1]!) * unit);
}

/** "00:00:18" → 18 (also accepts "1d 02:03:04"? no: PVE prints HH:MM:SS). */
export function parseDuration(text: string): number | null {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

export type MigrationLogEvent =
  | { kind: 'ha-started' }
  | { kind: 'starting'; vmid: number; target: string }
  | { kind: 'progress'; transferred: number; total: number; rate: number }
  | { kind: 'disk'; drive: string; transferred: number; total: number }
  | { kind: 'average'; rate: number; downtimeMs: number | null }
  | { kind: 'completed'; transferred: number }
  | { kind: 'finished'; durationSeconds: number | null }
  | { kind: 'error'; message: string }
  | { kind: 'task-ok' }
  | { kind: 'task-warnings'; count: number }
  | { kind: 'task-error'; message: string };

export interface ParsedLogLine {
  /** "YYYY-MM-DD HH:MM:SS" as printed (node-local time), or null. */
  time: string | null;
  text: string;
  event: MigrationLogEvent | null;
}

const SIZE = String.raw`(\d+(?:\.\d+)?\s*[KMGTP]?i?B)`;
const RE = {
  time: /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (.*)$/,
  progress: new RegExp(String.raw`^migration active, transferred ${SIZE} of ${SIZE} VM-state, ${SIZE}/s`),
  disk: new RegExp(String.raw`^([\w-]+): transferred ${SIZE} of ${SIZE}`),
  average: new RegExp(String.raw`^average migration speed: ${SIZE}/s(?: - downtime (\d+) ms)?`),
  completed: new RegExp(String.raw`^migration completed, transferred ${SIZE} VM-state`),
  finished: /^migration finished successfully \(duration ([\d:]+)\)/,
  starting: /^starting migration of (?:VM|CT) (\d+) to node '([^']+)'/,
  error: /^ERROR: (.*)$/,
  taskError: /^TASK ERROR: (.*)$/,
  taskWarnings: /^TASK WARNINGS: (\d+)/,
};

/** Parses one task log line; `event` is null for lines that carry nothing we follow. */
export function parseLogLine(line: string): ParsedLogLine {
  let time: string | null = null;
  let text = line;
  const t = RE.time.exec(line);
  if (t) {
    time = t[1]!;
    text = t[2]!;
  }
  const ev = (event: MigrationLogEvent | null): ParsedLogLine => ({ time, text, event });
  let m: RegExpExecArray | null;
  if (text === 'task started by HA resource agent') return ev({ kind: 'ha-started' });
  if ((m = RE.progress.exec(text))) return ev({ kind: 'progress', transferred: parseSize(m[1]!)!, total: parseSize(m[2]!)!, rate: parseSize(m[3]!)! });
  if ((m = RE.average.exec(text))) return ev({ kind: 'average', rate: parseSize(m[1]!)!, downtimeMs: m[2] ? Number(m[2]) : null });
  if ((m = RE.completed.exec(text))) return ev({ kind: 'completed', transferred: parseSize(m[1]!)! });
  if ((m = RE.finished.exec(text))) return ev({ kind: 'finished', durationSeconds: parseDuration(m[1]!) });
  if ((m = RE.starting.exec(text))) return ev({ kind: 'starting', vmid: Number(m[1]), target: m[2]! });
  if ((m = RE.taskError.exec(text))) return ev({ kind: 'task-error', message: m[1]! });
  if ((m = RE.taskWarnings.exec(text))) return ev({ kind: 'task-warnings', count: Number(m[1]) });
  if (text === 'TASK OK') return ev({ kind: 'task-ok' });
  if ((m = RE.error.exec(text))) return ev({ kind: 'error', message: m[1]! });
  if ((m = RE.disk.exec(text))) return ev({ kind: 'disk', drive: m[1]!, transferred: parseSize(m[2]!)!, total: parseSize(m[3]!)! });
  return ev(null);
}

/** What a migration log says so far. */
export interface MigrationProgress {
  /** The first line says the HA resource agent started it. */
  haStarted: boolean;
  /** Bytes of VM state transferred / to transfer, from the last progress line. */
  transferred: number | null;
  total: number | null;
  /** Bytes per second of the last progress line. */
  rate: number | null;
  averageRate: number | null;
  downtimeMs: number | null;
  /** "migration finished successfully" seen. */
  finished: boolean;
  durationSeconds: number | null;
  /** First ERROR: line or TASK ERROR text. */
  error: string | null;
  /** TASK OK / TASK WARNINGS / TASK ERROR seen: the log is complete. */
  ended: boolean;
}

export function summarizeMigrationLog(lines: ReadonlyArray<string | TaskLogLine>): MigrationProgress {
  const p: MigrationProgress = {
    haStarted: false, transferred: null, total: null, rate: null, averageRate: null, downtimeMs: null,
    finished: false, durationSeconds: null, error: null, ended: false,
  };
  for (const l of lines) {
    const { event } = parseLogLine(typeof l === 'string' ? l : l.t);
    if (!event) continue;
    switch (event.kind) {
      case 'ha-started': p.haStarted = true; break;
      case 'progress': p.transferred = event.transferred; p.total = event.total; p.rate = event.rate; break;
      case 'completed': p.transferred = event.transferred; break;
      case 'average': p.averageRate = event.rate; p.downtimeMs = event.downtimeMs; break;
      case 'finished': p.finished = true; p.durationSeconds = event.durationSeconds; break;
      case 'error': p.error ??= event.message; break;
      case 'task-error': p.error ??= event.message; p.ended = true; break;
      case 'task-ok': case 'task-warnings': p.ended = true; break;
      default: break;
    }
  }
  return p;
}
