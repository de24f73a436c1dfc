import { summarizeMigrationLog, type MigrationProgress, type TaskLogLine } from '../pve/tasklog.js';
import type { ExecutorPort } from './port.js';

/** How a migration task ended, as far as Proxmox tells. */
export interface TaskOutcome {
  status: 'completed' | 'failed';
  exitstatus: string;
  error: string | null;
  transferredBytes: number | null;
  avgSpeedBytesPerS: number | null;
  durationS: number | null;
}

const GiB = 1024 ** 3;

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "2.0 GiB of 12.6 GiB, 1.1 GiB/s" from a log summary; null when the log has no progress yet. */
export function progressText(p: MigrationProgress): string | null {
  if (p.transferred === null) return null;
  const of = p.total !== null ? ` of ${formatBytes(p.total)}` : '';
  const rate = p.rate !== null ? `, ${formatBytes(p.rate)}/s` : '';
  return `${formatBytes(p.transferred)}${of}${rate}`;
}

/** Reads a task's log incrementally: each call fetches only the lines not yet seen. */
export class LogFollower {
  private lines: TaskLogLine[] = [];
  constructor(private readonly port: ExecutorPort, private readonly upid: string) {}

  async update(): Promise<MigrationProgress> {
    for (let guard = 0; guard < 100; guard++) {
      const page = await this.port.taskLog(this.upid, this.lines.length, 500);
      const fresh = page.lines.filter((l) => l.n > this.lines.length && !(page.total <= 1 && l.t === 'no content'));
      this.lines.push(...fresh);
      if (fresh.length < 500 || this.lines.length >= page.total) break;
    }
    return summarizeMigrationLog(this.lines);
  }

  /** The last line starting with ERROR: (or TASK ERROR:), the most specific reason of a failure. */
  lastError(): string | null {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const t = this.lines[i]!.t.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /, '');
      if (t.startsWith('ERROR: ')) return t.slice(7);
    }
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const t = this.lines[i]!.t;
      if (t.startsWith('TASK ERROR: ')) return t.slice(12);
    }
    return null;
  }
}

/** Outcome of a stopped task, with what its log says about the transfer. */
export async function stoppedOutcome(exitstatus: string, follower: LogFollower): Promise<TaskOutcome> {
  let p: MigrationProgress;
  try {
    p = await follower.update();
  } catch {
    // The log could not be read: the exit status alone still tells the outcome.
    p = summarizeMigrationLog([]);
  }
  const ok = exitstatus === 'OK' || exitstatus.startsWith('WARNINGS');
  return {
    status: ok ? 'completed' : 'failed',
    exitstatus,
    error: ok ? null : (follower.lastError() ?? exitstatus),
    transferredBytes: p.transferred,
    avgSpeedBytesPerS: p.averageRate ?? p.rate,
    durationS: p.durationSeconds,
  };
}
