import { closeSync, fchownSync, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../util/errors.js';
import { checkConfig } from './load.js';

/**
 * Writes a config file atomically: the new text goes to a temporary file in the same folder,
 * which is fsync'd, given the old file's mode and owner, and renamed over the old one; then the
 * folder is fsync'd. Refused (nothing written) when the result would not validate. A symlink
 * (config kept in a repository, /etc/proxbalance/config.json → …) stays a symlink: the file it
 * points to is the one replaced.
 */
export function writeConfigAtomic(linkPath: string, raw: Record<string, unknown>, opts: { mustNotExist?: boolean } = {}): void {
  checkConfig(raw, linkPath); // throws ConfigError: nothing is written
  const path = followLinks(linkPath);
  let mode = 0o600;
  let owner: { uid: number; gid: number } | null = null;
  try {
    const st = statSync(path);
    if (opts.mustNotExist) throw new ConfigError(`${path} exists already; not overwritten`);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const text = `${JSON.stringify(raw, null, 2)}\n`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    if (owner && process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    if (opts.mustNotExist) {
      // link+unlink would be exclusive, but a rename after the check above is enough for a CLI.
      try {
        statSync(path);
        throw new ConfigError(`${path} exists already; not overwritten`);
      } catch (e) {
        if (e instanceof ConfigError) throw e;
      }
    }
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  const dfd = openSync(dir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

/** The file a path names once every symlink is followed (also a link to a file not there yet). */
function followLinks(path: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
    } catch {
      return p;
    }
    p = resolve(dirname(p), readlinkSync(p));
  }
  return p;
}
