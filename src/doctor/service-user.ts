import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/load.js';

/** The user the systemd service runs as (deploy/proxmox-balance-automigrate.service, User=). */
export const SERVICE_USER = 'proxbalance';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** Primary group and every group listing the user as a member. */
  groups: Set<number>;
  /** Name of the primary group (what `chown user:group` needs). */
  group: string;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The account `name` from the texts of /etc/passwd and /etc/group; null when it does not exist. */
export function findAccount(name: string, passwd = readText('/etc/passwd'), group = readText('/etc/group')): Account | null {
  const entry = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!entry) return null;
  const [, , uid, gid] = entry.split(':');
  const groups = new Set<number>([Number(gid)]);
  let primary = String(gid);
  for (const line of group.split('\n')) {
    const [gname, , id, members] = line.split(':');
    if (!gname || id === undefined) continue;
    if (Number(id) === Number(gid)) primary = gname;
    if ((members ?? '').split(',').map((m) => m.trim()).includes(name)) groups.add(Number(id));
  }
  return { name, uid: Number(uid), gid: Number(gid), groups, group: primary };
}

/** The bits of `mode` that apply to `who`, shifted to 0..7 (owner, else group, else others). */
function bitsFor(st: { uid: number; gid: number; mode: number }, who: Account): number {
  if (who.uid === 0) return 7;
  if (st.uid === who.uid) return (st.mode >> 6) & 7;
  if (who.groups.has(st.gid)) return (st.mode >> 3) & 7;
  return st.mode & 7;
}

const describe = (path: string) => {
  const st = statSync(path);
  return `owner ${st.uid}:${st.gid}, mode ${(st.mode & 0o777).toString(8)}`;
};

/** The first folder above `path` that `who` cannot pass through (no x bit), or null. */
function blockingFolder(path: string, who: Account): string | null {
  const parts: string[] = [];
  for (let d = dirname(resolve(path)); ; d = dirname(d)) {
    parts.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of parts) if (!(bitsFor(statSync(d), who) & 1)) return d;
  return null;
}

export interface AccessProblem {
  message: string;
  fix: string;
}

/** Can `who` write the history file (or create it: the nearest existing folder)? */
export function historyProblem(hist: string, who: Account): AccessProblem | null {
  let target = resolve(hist);
  while (!existsSync(target)) target = dirname(target);
  const blocked = blockingFolder(target, who);
  if (blocked) return { message: `the service user ${who.name} cannot reach ${hist}: no search (x) permission on ${blocked} (${describe(blocked)})`, fix: `chmod o+x ${blocked}, or point history_file below a folder ${who.name} can reach` };
  if (bitsFor(statSync(target), who) & 2) return null;
  const fix = target === resolve(hist) ? `chown ${who.name}:${who.group} ${hist}` : `chown ${who.name}:${who.group} ${target} && chmod 0750 ${target}`;
  return { message: `the service user ${who.name} cannot write ${target} (${describe(target)}): every tick of the service fails`, fix };
}

/** Can `who` read `file` (the config, or the token secret file)? */
export function readProblem(file: string, what: string, who: Account): AccessProblem | null {
  if (!existsSync(file)) return null;
  const blocked = blockingFolder(file, who);
  if (blocked) return { message: `the service user ${who.name} cannot reach ${what} ${file}: no search (x) permission on ${blocked} (${describe(blocked)})`, fix: `chmod o+x ${blocked}` };
  if (bitsFor(statSync(file), who) & 4) return null;
  return { message: `the service user ${who.name} cannot read ${what} ${file} (${describe(file)}): every tick of the service fails`, fix: `chown root:${who.group} ${file} && chmod 0640 ${file}` };
}

/** Every file the service needs, judged for `who`: the history (write), config and secret file (read). */
export function serviceAccessProblems(cfg: Config, configPath: string, who: Account): { name: string; problem: AccessProblem }[] {
  const out: { name: string; problem: AccessProblem }[] = [];
  const h = historyProblem(cfg.history_file, who);
  if (h) out.push({ name: 'history', problem: h });
  const c = readProblem(configPath, 'the config', who);
  if (c) out.push({ name: 'config', problem: c });
  const secretFile = cfg.proxmox_api_token_secret_file;
  // A relative name is a systemd credential (LoadCredential=): systemd reads it as root.
  if (secretFile && isAbsolute(secretFile)) {
    const s = readProblem(secretFile, 'the token secret file', who);
    if (s) out.push({ name: 'token secret', problem: s });
  }
  return out;
}
