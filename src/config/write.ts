import { closeSync, fchownSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../util/errors.js';
import { checkConfig } from './load.js';

/**
 * Writes a config file atomically: the new text goes to a temporary file in the same folder,
 * which is fsync'd, given the old file's mode and owner, and renamed over the old one; then the
 * folder is fsync'd. Refused (nothing written) when the result would not validate.
 */
export function writeConfigAtomic(path: string, raw: Record<string, unknown>, opts: { mustNotExist?: boolean } = {}): void {
  checkConfig(raw, path); // throws ConfigError: nothing is written
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
