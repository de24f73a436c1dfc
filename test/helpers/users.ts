import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BIN, ROOT, type CliResult } from './cli.js';

/** A real, throw-away system user (and its group) for tests that run as root; null when not root. */
export function makeUser(): { name: string; uid: number; gid: number; remove: () => void } | null {
  if (process.geteuid?.() !== 0) return null;
  const name = `pbt${randomBytes(3).toString('hex')}`;
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${name} failed: ${r.stderr}`);
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return {
    name, uid: id('-u'), gid: id('-g'),
    remove: () => { spawnSync('userdel', [name]); spawnSync('groupdel', [name]); },
  };
}

/** Runs the real CLI as `user` through runuser(1), as an admin would. */
export function runCliAs(user: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', user, '--', 'env', ...Object.entries({ PROXBALANCE_POLL_MS: '25', ...env }).map(([k, v]) => `${k}=${v}`), process.execPath, BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
