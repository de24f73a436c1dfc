import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:tls';
import { readHistory } from '../history/store.js';
import { resolveTokenSecret, type LoadedConfig } from '../config/load.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { missingPrivileges, REQUIRED_PRIVILEGES } from '../pve/types.js';
import { parsePropertyString } from '../pve/snapshot.js';
import { unimplementedWarning } from '../config/secrets.js';
import { schedulerState, TIMER_UNIT } from './scheduler.js';
import { findAccount, SERVICE_USER, serviceAccessProblems } from './service-user.js';
import { PveApiError, PveNetworkError, PveTlsError } from '../pve/errors.js';
import { haChecks } from './ha.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** Reads the certificate a host presents, without trusting it: only to show its fingerprint. */
function presentedFingerprint(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host, timeout: timeoutMs }, () => {
      const fp = socket.getPeerCertificate()?.fingerprint256 ?? null;
      socket.end();
      resolve(fp);
    });
    socket.on('error', () => resolve(null));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(null);
    });
  });
}

function tlsMode(cfg: LoadedConfig['config']): string {
  if (cfg.proxmox_fingerprint) return 'pinned to proxmox_fingerprint';
  if (!cfg.proxmox_verify_ssl) return 'not verified (proxmox_verify_ssl: false)';
  if (cfg.proxmox_ca_file) return `verified against proxmox_ca_file ${cfg.proxmox_ca_file} and the system CAs`;
  return 'verified against the system CAs';
}

/**
 * Run as root, access checks always pass: when the service's user exists, judge for it, not root,
 * whether the history can be written and the config (and secret file) read. A failure here is a
 * FAIL: every tick of the service would fail. PROXBALANCE_SERVICE_USER names another User= than
 * the package's.
 */
function serviceUserChecks(loaded: LoadedConfig): Check[] {
  if (process.geteuid?.() !== 0) return [];
  const who = findAccount(process.env.PROXBALANCE_SERVICE_USER || SERVICE_USER);
  if (!who || who.uid === 0) return [];
  const problems = serviceAccessProblems(loaded.config, loaded.path, who);
  if (!problems.length) {
    return [{ name: 'service user', status: 'pass', message: `${who.name} can write ${loaded.config.history_file} and read ${loaded.path}` }];
  }
  return problems.map(({ name, problem }) => ({ name, status: 'fail', message: problem.message, fix: problem.fix }));
}

/** The timer and the service's last tick, as systemd has them. */
function schedulerCheck(): Check {
  const s = schedulerState();
  if (!s.systemd) return { name: 'scheduler', status: 'warn', message: s.summary };
  const t = s.timer!;
  if (!t.installed || !t.enabled || !t.active) {
    return { name: 'scheduler', status: 'warn', message: s.summary, fix: `after a dry run: systemctl enable --now ${TIMER_UNIT}` };
  }
  const sv = s.service;
  if (sv?.last_exited && sv.result !== 'success') return { name: 'scheduler', status: 'warn', message: s.summary, fix: 'proxbalance logs -n 50 (the failed tick says why)' };
  return { name: 'scheduler', status: 'pass', message: s.summary };
}

/** Every check `proxbalance doctor` makes, in order. A failed prerequisite skips what depends on it. */
/** The checks that need no cluster: config, time zones, secret, history, service user, scheduler. */
async function localChecks(loaded: LoadedConfig): Promise<{ checks: Check[]; secret: string | null }> {
  const cfg = loaded.config;
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  add({ name: 'config', status: 'pass', message: `${loaded.path} is valid` });
  if (loaded.warnings.length) {
    for (const w of loaded.warnings) add({ name: 'config', status: 'warn', message: w });
  }
  if (loaded.ignored.length) add({ name: 'config', status: 'warn', message: unimplementedWarning(loaded.path, loaded.ignored) });
  const sched = cfg.automated_migrations.schedule;
  const windows = [...sched.migration_windows, ...sched.blackout_windows];
  add({ name: 'timezones', status: 'pass', message: `schedule.timezone ${sched.timezone} and ${windows.length} window(s) use valid IANA time zones` });

  let secret: string | null = null;
  try {
    secret = resolveTokenSecret(cfg, loaded.path);
    add({ name: 'token secret', status: 'pass', message: process.env.PROXBALANCE_TOKEN_SECRET ? 'from PROXBALANCE_TOKEN_SECRET' : cfg.proxmox_api_token_secret ? 'from config.json' : `from ${cfg.proxmox_api_token_secret_file}` });
  } catch (e) {
    add({ name: 'token secret', status: 'fail', message: (e as Error).message, fix: 'set proxmox_api_token_secret_file (or PROXBALANCE_TOKEN_SECRET)' });
  }

  // History: the one file proxbalance writes.
  const hist = cfg.history_file;
  try {
    if (existsSync(hist)) {
      accessSync(hist, constants.R_OK | constants.W_OK);
      const r = await readHistory(hist);
      add({ name: 'history', status: r.warnings.length ? 'warn' : 'pass', message: `${hist}: ${r.records.length} record(s) readable${r.warnings.length ? `, ${r.warnings.length} damaged line(s) skipped (${r.warnings[0]})` : ''}, writable` });
    } else {
      let dir = dirname(hist);
      while (!existsSync(dir)) dir = dirname(dir);
      accessSync(dir, constants.W_OK);
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
      add({ name: 'history', status: 'pass', message: `${hist} does not exist yet; ${dir} is writable, so the first run creates it` });
    }
  } catch (e) {
    add({ name: 'history', status: 'fail', message: `${hist}: ${(e as Error).message}`, fix: 'point history_file to a writable place (the service writes /var/lib/proxbalance)' });
  }

  for (const c of serviceUserChecks(loaded)) add(c);
  add(schedulerCheck());

  return { checks, secret };
}

export async function runDoctor(loaded: LoadedConfig): Promise<Check[]> {
  const cfg = loaded.config;
  const { checks, secret } = await localChecks(loaded);
  const add = (c: Check) => checks.push(c);
  if (!secret) return checks;
  const hosts = Array.isArray(cfg.proxmox_host) ? cfg.proxmox_host : [cfg.proxmox_host];
  let working: PveClient | null = null;
  for (const host of hosts) {
    const client = new PveClient({ ...clientOptionsFromConfig({ ...cfg, proxmox_host: host }, secret), retries: 0 });
    try {
      const v = await client.version();
      const fp = await presentedFingerprint(host, cfg.proxmox_port, 5000);
      add({ name: `host ${host}`, status: 'pass', message: `reachable on port ${cfg.proxmox_port}, Proxmox VE ${v.version}` });
      const checked = cfg.proxmox_verify_ssl || Boolean(cfg.proxmox_fingerprint);
      add({ name: `tls ${host}`, status: checked ? 'pass' : 'warn', message: `${tlsMode(cfg)}; presented SHA-256 fingerprint ${fp ?? '(unknown)'}`, ...(checked ? {} : { fix: `set proxmox_fingerprint to ${fp} (after checking it with pvenode cert info) and proxmox_verify_ssl to true` }) });
      add({ name: 'token', status: 'pass', message: `${cfg.proxmox_api_token_id} accepted by ${host}` });
      const major = Number(v.version.split('.')[0]);
      add({ name: 'version', status: major >= 8 ? 'pass' : 'warn', message: `Proxmox VE ${v.version} (release ${v.release})`, ...(major >= 8 ? {} : { fix: 'proxbalance is tested against Proxmox VE 8 and 9' }) });
      if (!working) working = client;
      else await client.close();
    } catch (e) {
      await client.close();
      if (e instanceof PveTlsError) {
        add({ name: `tls ${host}`, status: 'fail', message: e.message, fix: `proxmox_ca_file, or proxmox_fingerprint ${e.fingerprint ?? ''}`.trim() });
      } else if (e instanceof PveApiError && e.status === 401) {
        add({ name: 'token', status: 'fail', message: e.message, fix: `check proxmox_api_token_id and the secret; create one with: pveum user token add ${cfg.proxmox_api_token_id.replace('!', ' ')} --privsep 1` });
      } else if (e instanceof PveNetworkError) {
        add({ name: `host ${host}`, status: 'fail', message: `${host}:${cfg.proxmox_port} not reachable (${e.code})`, fix: 'check proxmox_host, proxmox_port and the network/firewall' });
      } else {
        add({ name: `host ${host}`, status: 'fail', message: (e as Error).message });
      }
    }
  }
  if (!working) return checks;
  try {
    try {
      const missing = missingPrivileges(await working.permissions('/'));
      const tokenId = cfg.proxmox_api_token_id;
      add(missing.length
        ? {
          name: 'privileges', status: 'fail', message: `${tokenId} lacks ${missing.join(', ')} on /`,
          fix: `pveum role add ProxBalance --privs "${REQUIRED_PRIVILEGES.join(',')}" && pveum acl modify / --tokens '${tokenId}' --roles ProxBalance` +
            ` (a privilege-separated token also needs the same on its user: pveum acl modify / --users '${tokenId.split('!')[0]}' --roles ProxBalance)`,
        }
        : { name: 'privileges', status: 'pass', message: `${REQUIRED_PRIVILEGES.join(', ')} on /` });
    } catch (e) {
      add({ name: 'privileges', status: 'fail', message: `cannot read /access/permissions: ${(e as Error).message}` });
    }
    try {
      const status = await working.clusterStatus();
      const cluster = status.find((s) => s.type === 'cluster');
      const nodes = status.filter((s) => s.type === 'node');
      const online = nodes.filter((n) => n.online === 1 || n.online === true).length;
      const quorate = cluster ? cluster.quorate === 1 || cluster.quorate === true : true;
      add({ name: 'quorum', status: quorate ? 'pass' : 'fail', message: cluster ? `cluster ${cluster.name}: ${quorate ? 'quorate' : 'NOT quorate'}, ${online} of ${nodes.length} node(s) online` : 'standalone node', ...(quorate ? {} : { fix: 'no migration runs without quorum (require_quorum); check pvecm status' }) });
    } catch (e) {
      add({ name: 'quorum', status: 'fail', message: `cannot read /cluster/status: ${(e as Error).message}` });
    }
    try {
      const opts = await working.clusterOptions();
      const crs = parsePropertyString(opts.crs);
      const on = ['1', 'true'].includes(String(crs['ha-auto-rebalance'] ?? '0'));
      add(on
        ? { name: 'crs', status: 'warn', message: `Proxmox CRS auto-rebalance is on (ha=${crs.ha ?? 'basic'}): two balancers; proxbalance leaves every HA-managed guest to it and balances the rest`, fix: 'turn one off (Datacenter → Options → Cluster Resource Scheduling) to keep HA guests from ping-ponging' }
        : { name: 'crs', status: 'pass', message: 'Proxmox CRS auto-rebalance is off: proxbalance is the only balancer' });
    } catch (e) {
      add({ name: 'crs', status: 'warn', message: `cannot read /cluster/options: ${(e as Error).message}` });
    }
    for (const c of await haChecks(working)) add(c);
  } finally {
    await working.close();
  }
  return checks;
}
