import { existsSync, fchownSync, lchownSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Ownership of what a run creates (docs/operations.md, "Running by hand as root"): a file or folder
 * that proxbalance creates belongs to the owner of the folder it is created in. A root shell's
 * `proxbalance run --dry-run` in the service's /var/lib/proxbalance (owned by proxbalance) thus
 * makes a history file the service can go on appending to, instead of one only root can write.
 * Only root can give a file away, and only root needs to: for anyone else the creator already is
 * the owner the next run will be.
 */
function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/** Creates `dir` and its missing ancestors, each owned like the folder it is created in. */
export function mkdirAdopting(dir: string, mode = 0o777): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  mkdirSync(dir, { recursive: true, mode });
  if (!isRoot()) return;
  for (const d of missing) {
    const parent = statSync(dirname(d));
    lchownSync(d, parent.uid, parent.gid);
  }
}

/** Gives the file open as `fd`, just created at `path`, to the owner of its folder (when root). */
export function adoptFolderOwner(fd: number, path: string): void {
  if (!isRoot()) return;
  const parent = statSync(dirname(resolve(path)));
  if (parent.uid !== 0 || parent.gid !== 0) fchownSync(fd, parent.uid, parent.gid);
}
