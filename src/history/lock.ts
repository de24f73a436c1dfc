import { createHash } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';

/**
 * The run lock: two ticks never run at once (the timer and a person at the shell), and `resume`
 * never writes beside a running tick. The lock is a listening socket in Linux's abstract unix
 * namespace, named after the history file: binding is atomic, and the kernel frees the name the
 * moment its process dies (kill -9, OOM, power loss), so there is no stale lock to recover, no
 * pid to mistake for a live one after a reboot, and no file whose permissions could hide it.
 * Whoever finds it taken asks the holder for its pid, to name it in the message.
 */
export class LockBusyError extends Error {
  constructor(readonly path: string, readonly pid: number | null) {
    super(`another proxbalance run (${pid ? `pid ${pid}` : 'pid unknown'}) holds the lock of ${path}; try again when it ends`);
    this.name = 'LockBusyError';
  }
}

export interface RunLock {
  path: string;
  release(): Promise<void>;
}

/** The abstract socket name for a history file (the same for every spelling of its path). */
export function lockName(historyPath: string): string {
  return `\0proxbalance-run-${createHash('sha256').update(resolve(historyPath)).digest('hex').slice(0, 40)}`;
}

function holderPid(name: string): Promise<number | null> {
  return new Promise((done) => {
    let data = '';
    const sock = connect({ path: name });
    const timer = setTimeout(() => { sock.destroy(); done(null); }, 1000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', () => { clearTimeout(timer); done(null); });
    sock.on('close', () => {
      clearTimeout(timer);
      const pid = Number.parseInt(data, 10);
      done(Number.isFinite(pid) ? pid : null);
    });
  });
}

/**
 * Who holds the lock of `historyPath` now (a tick in progress), and since when; null when free.
 * For `status` and `doctor`: asking never takes the lock.
 */
export async function lockHolder(historyPath: string): Promise<{ pid: number | null; since: string | null } | null> {
  const name = lockName(historyPath);
  const reply = await new Promise<string | null>((done) => {
    let data = '';
    const sock = connect({ path: name });
    const timer = setTimeout(() => { sock.destroy(); done(data); }, 1000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', () => { clearTimeout(timer); done(null); });
    sock.on('close', () => { clearTimeout(timer); done(data); });
  });
  if (reply === null) return null;
  const [pid, since] = reply.trim().split(/\s+/);
  const n = Number.parseInt(pid ?? '', 10);
  return { pid: Number.isFinite(n) ? n : null, since: since && !Number.isNaN(Date.parse(since)) ? since : null };
}

export async function acquireLock(historyPath: string): Promise<RunLock> {
  const name = lockName(historyPath);
  // The reply to whoever asks: "pid since" (holderPid reads the pid, lockHolder both).
  const since = new Date().toISOString();
  const server = createServer((sock) => sock.end(`${process.pid} ${since}\n`));
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen({ path: name }, () => ok());
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LockBusyError(historyPath, await holderPid(name));
    throw e;
  }
  server.unref();
  let released: Promise<void> | null = null;
  return {
    path: historyPath,
    release() {
      released ??= new Promise<void>((ok) => server.close(() => ok()));
      return released;
    },
  };
}
