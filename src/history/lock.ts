import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The run lock: two ticks never run at once (the timer and a person at the shell). The lock is a
 * file beside the history holding the owner's pid, created atomically with link(2). A lock whose
 * process is gone (kill -9, power loss) is taken over.
 */
export class LockBusyError extends Error {
  constructor(readonly path: string, readonly pid: number) {
    super(`another proxbalance run (pid ${pid}) holds the lock ${path}; try again when it ends`);
    this.name = 'LockBusyError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isFinite(pid) ? pid : null;
  } catch {
    return null;
  }
}

export interface RunLock {
  path: string;
  /** Set when a lock of a dead process was taken over. */
  recoveredFrom: number | null;
  release(): void;
}

export function acquireLock(path: string): RunLock {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o640 });
  let recoveredFrom: number | null = null;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = ownerOf(path);
        if (pid !== null && pid !== process.pid && alive(pid)) throw new LockBusyError(path, pid);
        // Stale (or unreadable: a crash between create and write). Remove it only if it still
        // names the same owner, then try again.
        if (ownerOf(path) === pid) {
          try { unlinkSync(path); } catch { /* someone else removed it */ }
        }
        recoveredFrom = pid;
        if (attempt === 2) throw new LockBusyError(path, pid ?? 0);
      }
    }
  } finally {
    try { unlinkSync(tmp); } catch { /* gone */ }
  }
  let released = false;
  return {
    path,
    recoveredFrom,
    release() {
      if (released) return;
      released = true;
      if (ownerOf(path) === process.pid) {
        try { unlinkSync(path); } catch { /* gone */ }
      }
    },
  };
}
