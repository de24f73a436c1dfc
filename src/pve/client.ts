/**
 * The Proxmox VE API client: undici with keep-alive and bounded concurrency, API-token auth,
 * TLS modes (system CAs, extra CA file, SHA-256 pinning, insecure), timeouts, GET retries with
 * backoff, host failover, typed errors. Never puts the token secret in a message or log line.
 *
 * Imports nothing of ours but types: the caller passes a logger.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type TLSSocket } from 'node:tls';
import { Agent, buildConnector, request, type Connector } from '../util/http.js';
import type { Config } from '../config/load.js';
import { PveApiError, PveError, PveMigrationUnknownError, PveNetworkError, PveTlsError, parsePermissionMessage } from './errors.js';
import { parseUpid } from './upid.js';
import { MIGRATION_TASK_TYPES } from '../engine/rules.js';
import type { TaskLogPage } from './tasklog.js';
import {
  bool,
  type ClusterStatusEntry,
  type ClusterTaskEntry,
  type GuestCurrent,
  type GuestRef,
  type GuestType,
  type HaStatusEntry,
  type MigratePrecondition,
  type MigratePreconditionRaw,
  type PermissionMap,
  type PveVersion,
  type ResourceEntry,
  type RrdPoint,
  type TaskStatus,
} from './types.js';

/** The migration tasks that move a guest: an HA request (hamigrate) only asks the HA manager for one. */
const GUEST_MOVING_TASK_TYPES = [...MIGRATION_TASK_TYPES].filter((t) => t !== 'hamigrate');

export interface PveLogger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

const silent: PveLogger = { info: () => {}, warn: () => {}, debug: () => {} };

export interface PveClientOptions {
  /** Host names or addresses, tried in order when one is unreachable. */
  hosts: string[];
  port?: number;
  /** user@realm!tokenid */
  tokenId: string;
  tokenSecret: string;
  /** false: accept any certificate (warned about). Default true. */
  verifySsl?: boolean;
  /** PEM file of an extra CA to trust (added to the built-in ones). */
  caFile?: string;
  /** PEM text of an extra CA (tests). */
  ca?: string;
  /** The built-in authorities trusted beside caFile: tls.rootCertificates (tests give their own). */
  roots?: readonly string[];
  /** SHA-256 fingerprint (colon hex): accept this certificate alone. */
  fingerprint?: string;
  /** Whole request, connecting included. Default 15 000. */
  timeoutMs?: number;
  /** Connecting (TCP + TLS); past it the next host is tried. Default min(timeoutMs, 5 000). */
  connectTimeoutMs?: number;
  /** Extra attempts of a GET after a network error or 502/503/504. Default 2. */
  retries?: number;
  /** First backoff; doubles each retry. Default 300. */
  backoffMs?: number;
  /** Requests in flight at once. Default 6. */
  maxConcurrency?: number;
  logger?: PveLogger;
  /** The clock (epoch ms) a migrate request's send time is read from (`sentAt`); default Date.now. */
  now?: () => number;
}

/** Client options from the config file's keys (the secret comes from resolveTokenSecret). */
export function clientOptionsFromConfig(config: Config, tokenSecret: string, logger?: PveLogger): PveClientOptions {
  const hosts = Array.isArray(config.proxmox_host) ? config.proxmox_host : [config.proxmox_host];
  const opts: PveClientOptions = {
    hosts,
    port: config.proxmox_port,
    tokenId: config.proxmox_api_token_id,
    tokenSecret,
    verifySsl: config.proxmox_verify_ssl,
    timeoutMs: Math.round(config.proxmox_timeout_seconds * 1000),
  };
  if (config.proxmox_ca_file) opts.caFile = config.proxmox_ca_file;
  if (config.proxmox_fingerprint) opts.fingerprint = config.proxmox_fingerprint;
  if (logger) opts.logger = logger;
  return opts;
}

/** "aa:bb:…" or "AABB…" → "AA:BB:…". */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

const TLS_HELP = (fp: string | null) =>
  `set proxmox_ca_file to a copy of the cluster's /etc/pve/pve-root-ca.pem, or proxmox_fingerprint to ${fp ?? 'the certificate fingerprint'} ` +
  `after checking it on the node (pvenode cert info); proxmox_verify_ssl: false turns every check off (unsafe)`;

/** Network error codes that mean the request never reached the server: safe to try another host. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
const RETRY_STATUS = new Set([502, 503, 504]);

class Semaphore {
  private active = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: Record<string, string | number | undefined>;
  /** Retry on network errors / 502 / 503 / 504. Default: true for GET, false otherwise. */
  retry?: boolean;
}

interface Answer<T> {
  data: T;
  total?: number;
}

export interface MigrateOptions {
  /** VM with local disks: adds with-local-disks=1. */
  withLocalDisks?: boolean;
  /** KiB/s. */
  bwlimit?: number;
  /** storage-pair-list, e.g. "local-lvm:ceph". */
  targetStorage?: string;
  /** Container restart-migration shutdown timeout (s). */
  restartTimeout?: number;
}

export interface FindTaskOptions {
  vmid: number;
  /** The node the guest left (the real migration task runs there). */
  node: string;
  /** Unix seconds: only tasks started at or after this (a few seconds of clock skew are allowed). */
  since: number;
  /** Task types to accept. Default: the tasks that move a guest (qmigrate, vzmigrate), not HA's hamigrate requests. */
  types?: string[];
  /** UPIDs to ignore (the hamigrate task itself). */
  exclude?: string[];
}

/**
 * The TLS check of every connection: a pinned fingerprint, else the chain verified against
 * proxmox_ca_file (plus the built-in authorities), else against the built-in authorities alone,
 * or nothing at all when proxmox_verify_ssl is false (warned about).
 *
 * With a CA file the chain is checked against that file alone first, and only a chain it cannot
 * vouch for is checked again against the built-in authorities plus the file: the trust the option
 * has always given, but parsing the ~140 built-in authorities costs 50-70 ms of CPU, which a
 * cluster signed by its own CA (the usual case) no longer pays. A host that needed them is
 * checked against them directly from then on. One TLS context of each kind for all connections:
 * creating one per connection (tls.connect with a `ca` list) had cost a tick 120 ms.
 */
function tlsConnector(opts: PveClientOptions, timeout: number, log: PveLogger): Connector {
  const verify = opts.verifySsl !== false;
  const pin = opts.fingerprint ? normalizeFingerprint(opts.fingerprint) : null;
  // A pinned fingerprint is the stronger check: it holds even with proxmox_verify_ssl false.
  const mode: 'insecure' | 'pin' | 'verify' = pin ? 'pin' : !verify ? 'insecure' : 'verify';
  if (mode === 'insecure') {
    log.warn('proxmox_verify_ssl is false: the API certificate is not checked, so anyone on the path can read the token; set proxmox_ca_file or proxmox_fingerprint instead');
  }
  const extra = extraCa(opts);
  const connector = (ca?: string[]): Connector =>
    buildConnector({
      rejectUnauthorized: false,
      ...(ca ? { secureContext: createSecureContext({ ca }) } : {}),
      timeout,
      // Each new connection is checked in full (no session resumption that would skip the check).
      maxCachedSessions: 0,
    });
  const base = connector(extra === null ? undefined : [extra]);
  let withRoots: Connector | null = null;
  const needsRoots = new Set<string>();
  const whereOf = (o: Parameters<Connector>[0]) => `${o.hostname}:${o.port || opts.port || 8006}`;
  const check = (o: Parameters<Connector>[0], cb: Parameters<Connector>[1], retry: boolean): Parameters<Connector>[1] => (err, socket) => {
    if (err || !socket) return cb(err ?? new Error('no socket'), null);
    if (mode === 'insecure') return cb(null, socket);
    const tls = socket as TLSSocket;
    const raw = tls.getPeerCertificate?.()?.fingerprint256;
    const fp = raw ? normalizeFingerprint(raw) : null;
    const where = whereOf(o);
    if (mode === 'pin') {
      if (fp && fp === pin) return cb(null, socket);
      socket.destroy();
      return cb(
        new PveTlsError(
          `TLS: the certificate of ${where} has SHA-256 fingerprint ${fp ?? '(none)'}, not the one in proxmox_fingerprint (${pin}); ` +
            `if the node's certificate was renewed, check the new one (pvenode cert info) and update proxmox_fingerprint, or use proxmox_ca_file`,
          where,
          fp,
          'FINGERPRINT_MISMATCH',
        ),
        null,
      );
    }
    if (tls.authorized) return cb(null, socket);
    socket.destroy();
    if (retry) {
      needsRoots.add(where);
      withRoots ??= connector([...(opts.roots ?? rootCertificates), extra!]);
      return withRoots(o, check(o, cb, false));
    }
    const reason = String(tls.authorizationError ?? 'UNKNOWN');
    return cb(new PveTlsError(`TLS: the certificate of ${where} is not trusted (${reason}); it presented SHA-256 fingerprint ${fp ?? '(none)'}: ${TLS_HELP(fp)}`, where, fp, reason), null);
  };
  return (o, cb) => {
    if (withRoots && needsRoots.has(whereOf(o))) return withRoots(o, check(o, cb, false));
    return base(o, check(o, cb, mode === 'verify' && extra !== null));
  };
}

/** The PEM of proxmox_ca_file (or of `ca`, in tests); null when neither is given. */
function extraCa(opts: PveClientOptions): string | null {
  if (opts.caFile) {
    try {
      return readFileSync(opts.caFile, 'utf8');
    } catch (e) {
      throw new PveError(`proxmox_ca_file ${opts.caFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return opts.ca ?? null;
}

export class PveClient {
  readonly hosts: string[];
  readonly port: number;
  readonly tokenId: string;
  private readonly auth: string;
  private readonly secret: string;
  private readonly agent: Agent;
  private readonly sem: Semaphore;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly log: PveLogger;
  private readonly now: () => number;
  private hostIndex = 0;
  private answered: string | null = null;
  /** HTTP requests sent (attempts, retries included). */
  requestCount = 0;

  constructor(opts: PveClientOptions) {
    if (!opts.hosts.length) throw new PveError('no Proxmox VE host given (proxmox_host)');
    this.hosts = [...opts.hosts];
    this.port = opts.port ?? 8006;
    this.tokenId = opts.tokenId;
    this.secret = opts.tokenSecret;
    this.auth = `PVEAPIToken=${opts.tokenId}=${opts.tokenSecret}`;
    this.log = opts.logger ?? silent;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.retries = opts.retries ?? 2;
    this.backoffMs = opts.backoffMs ?? 300;
    const maxConcurrency = opts.maxConcurrency ?? 6;
    this.sem = new Semaphore(maxConcurrency);

    const connect = tlsConnector(opts, opts.connectTimeoutMs ?? Math.min(this.timeoutMs, 5_000), this.log);
    this.agent = new Agent({ connect, keepAliveTimeout: 30_000, connections: maxConcurrency, pipelining: 1 });
  }

  /** The host that answered last (null before the first answer). */
  get host(): string | null {
    return this.answered;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Removes the secret from a text, whatever produced it. */
  private scrub(text: string): string {
    return this.secret && this.secret.length >= 4 ? text.split(this.secret).join('***') : text;
  }

  // ---------------------------------------------------------------- transport

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    const retry = opts.retry ?? method === 'GET';
    const rounds = retry ? this.retries + 1 : 1;
    let lastErr: unknown = null;
    let tlsErr: PveTlsError | null = null;
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await sleep(this.backoffMs * 2 ** (round - 1));
      for (let i = 0; i < this.hosts.length; i++) {
        const idx = (this.hostIndex + i) % this.hosts.length;
        const host = this.hosts[idx]!;
        try {
          const answer = await this.sem.run(() => this.once<T>(host, method, path, opts));
          this.markAnswered(idx);
          return answer;
        } catch (e) {
          lastErr = e;
          if (e instanceof PveApiError) {
            this.markAnswered(idx);
            if (retry && RETRY_STATUS.has(e.status) && round + 1 < rounds) {
              this.log.debug(`${method} ${path}: ${e.status} from ${host}, retrying`);
              break;
            }
            throw e;
          }
          if (e instanceof PveTlsError) {
            tlsErr ??= e;
            if (i + 1 < this.hosts.length) this.warnOnce(`tls ${host}`, `${host}:${this.port}: TLS certificate not accepted (${e.reason}); trying the next host`);
            continue;
          }
          if (e instanceof PveNetworkError && (!e.maybeReceived || retry)) {
            // Not sent (any request), or sent but safe to repeat (GET): the next host, then the next round.
            if (this.hosts.length > 1) this.warnOnce(`net ${host}`, `${host}:${this.port} unreachable (${e.code}); trying the next host`);
            else this.log.debug(`${method} ${path}: ${e.message}`);
            continue;
          }
          // A POST that may have reached the server: never repeated here.
          throw e;
        }
      }
      // A certificate problem is configuration: waiting will not fix it.
      if (tlsErr) throw tlsErr;
    }
    if (tlsErr) throw tlsErr;
    throw lastErr;
  }

  private readonly warned = new Set<string>();
  /** One warning per host and kind, not one per request. */
  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }

  private markAnswered(idx: number): void {
    this.hostIndex = idx;
    const host = this.hosts[idx]!;
    if (this.answered !== host) {
      if (this.answered !== null || this.hosts.length > 1) this.log.info(`Proxmox VE API: ${host}:${this.port} answered`);
      else this.log.debug(`Proxmox VE API: ${host}:${this.port} answered`);
      this.answered = host;
    }
  }

  private async once<T>(host: string, method: string, path: string, opts: RequestOptions): Promise<Answer<T>> {
    const qs = opts.query ? encodeParams(opts.query) : '';
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const url = `https://${hostPart}:${this.port}/api2/json${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { authorization: this.auth, accept: 'application/json' };
    let body: string | undefined;
    if (opts.body) {
      body = encodeParams(opts.body);
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    this.requestCount++;
    let sent = false;
    try {
      const res = await request(this.agent, url, {
        method: method as 'GET',
        headers,
        body,
        signal: ac.signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      sent = true;
      const text = await res.body.text();
      let json: { data?: unknown; message?: string; errors?: Record<string, string>; total?: number } = {};
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        if (res.statusCode < 400) throw new PveError(`${method} ${path}: ${host} answered ${res.statusCode} with something that is not JSON`);
      }
      if (res.statusCode >= 400) throw this.apiError(host, method, path, res.statusCode, res.statusText ?? '', json);
      const answer: Answer<T> = { data: json.data as T };
      if (typeof json.total === 'number') answer.total = json.total;
      return answer;
    } catch (e) {
      if (e instanceof PveError) throw e;
      const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      if (err?.cause instanceof PveTlsError) throw err.cause;
      const code = timedOut ? 'ETIMEDOUT' : (err.code ?? err.cause?.code ?? err.name ?? 'UNKNOWN');
      const maybeReceived = timedOut ? true : !CONNECT_CODES.has(code) || sent;
      const what = timedOut ? `no answer within ${this.timeoutMs / 1000} s` : this.scrub(err.message ?? String(e));
      throw new PveNetworkError(`${method} ${path} on ${host}:${this.port}: ${what} (${code})`, host, code, maybeReceived);
    } finally {
      clearTimeout(timer);
    }
  }

  private apiError(host: string, method: string, path: string, status: number, statusText: string, json: { message?: string; errors?: Record<string, string> }): PveApiError {
    const pveMessage = this.scrub(String(json.message ?? statusText ?? '').trim() || statusText);
    const errors = json.errors && typeof json.errors === 'object' ? json.errors : null;
    const where = `${method} ${path}`;
    let msg: string;
    switch (status) {
      case 401:
        msg = `${host}:${this.port} refused the API token ID/secret (401 ${pveMessage || 'authentication failure'}): check proxmox_api_token_id (${this.tokenId}) and the token secret, and that the token exists and has not expired`;
        break;
      case 403: {
        const p = parsePermissionMessage(pveMessage);
        msg = p
          ? `permission denied for ${where}: the token needs ${p.privilege} on ${p.path} (${pveMessage}); grant it to the token and, with privilege separation, to its user`
          : `permission denied for ${where} (403 ${pveMessage})`;
        break;
      }
      case 400: {
        const detail = errors ? `: ${Object.entries(errors).map(([k, v]) => `${k}: ${String(v).trim()}`).join('; ')}` : '';
        msg = `${where} rejected by ${host} (400 ${pveMessage})${detail}`;
        break;
      }
      case 501:
        msg = `${where}: not implemented by this Proxmox VE version (${pveMessage})`;
        break;
      default:
        msg = `${where} failed on ${host} (${status}): ${pveMessage}`;
    }
    return new PveApiError(this.scrub(msg), status, method, path, pveMessage, errors, host);
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.call<T>('GET', path, query ? { query } : {})).data;
  }

  // ---------------------------------------------------------------- reads

  version(): Promise<PveVersion> {
    return this.get('/version');
  }

  permissions(path?: string): Promise<PermissionMap> {
    return this.get('/access/permissions', path ? { path } : undefined);
  }

  clusterResources(type?: 'vm' | 'node' | 'storage'): Promise<ResourceEntry[]> {
    return this.get('/cluster/resources', type ? { type } : undefined);
  }

  clusterStatus(): Promise<ClusterStatusEntry[]> {
    return this.get('/cluster/status');
  }

  clusterTasks(): Promise<ClusterTaskEntry[]> {
    return this.get('/cluster/tasks');
  }

  haStatus(): Promise<HaStatusEntry[]> {
    return this.get('/cluster/ha/status/current');
  }

  clusterOptions(): Promise<Record<string, unknown>> {
    return this.get('/cluster/options');
  }

  nodeRrd(node: string, timeframe = 'hour', cf = 'AVERAGE'): Promise<RrdPoint[]> {
    return this.get(`/nodes/${encodeURIComponent(node)}/rrddata`, { timeframe, cf });
  }

  /** Fresh state of one guest (the executor's re-check right before the POST). */
  guestCurrent(type: GuestType, node: string, vmid: number): Promise<GuestCurrent> {
    return this.get(`/nodes/${encodeURIComponent(node)}/${type}/${vmid}/status/current`);
  }

  // ---------------------------------------------------------------- tasks

  taskStatus(upid: string): Promise<TaskStatus> {
    return this.get(`/nodes/${encodeURIComponent(taskNode(upid))}/tasks/${encodeURIComponent(upid)}/status`);
  }

  /** Lines n = start+1 … start+limit (limit 0: all) and the log's total line count. */
  async taskLog(upid: string, start = 0, limit = 50): Promise<TaskLogPage> {
    const a = await this.call<Array<{ n: number; t: string }>>('GET', `/nodes/${encodeURIComponent(taskNode(upid))}/tasks/${encodeURIComponent(upid)}/log`, {
      query: { start, limit },
    });
    const lines = a.data ?? [];
    return { lines, total: a.total ?? (lines.length ? lines[lines.length - 1]!.n : 0) };
  }

  /**
   * Tasks of one node, running and finished (GET /nodes/{node}/tasks with source=all), optionally
   * of one guest and started since a time. Read from the node itself: unlike /cluster/tasks (a
   * list the nodes broadcast now and then), it shows a task the moment it starts.
   */
  nodeTasks(node: string, f: { vmid?: number; since?: number; limit?: number } = {}): Promise<ClusterTaskEntry[]> {
    return this.get(`/nodes/${encodeURIComponent(node)}/tasks`, { source: 'all', vmid: f.vmid, since: f.since, limit: f.limit ?? 100 });
  }

  /**
   * Migration tasks of a guest on its source node started since `since`, oldest first (from the
   * node's own task list). For an HA-managed guest, call it with the default types after the
   * `hamigrate` task to find the real `qmigrate`/`vzmigrate` (started by root@pam); after a lost
   * POST answer or for an intent without an outcome, call it with hamigrate included to learn
   * whether the migration started.
   */
  async findMigrationTasks(f: FindTaskOptions): Promise<ClusterTaskEntry[]> {
    const types = f.types ?? GUEST_MOVING_TASK_TYPES;
    // A few seconds of clock skew between us and the node are allowed.
    const since = Math.max(0, Math.floor(f.since) - 5);
    const tasks = await this.nodeTasks(f.node, { vmid: f.vmid, since });
    return tasks
      .filter((t) => types.includes(t.type) && String(t.id) === String(f.vmid) && t.node === f.node && t.starttime >= since && !(f.exclude ?? []).includes(t.upid))
      .sort((a, b) => a.starttime - b.starttime);
  }

  /**
   * The real qmigrate/vzmigrate task behind an HA `hamigrate` task, or null when the HA manager has
   * not started it yet (poll again). Prefers tasks by root@pam (the HA resource agent).
   */
  async findRealMigrationTask(hamigrateUpid: string, guest: Pick<GuestRef, 'vmid' | 'node'>): Promise<string | null> {
    const u = parseUpid(hamigrateUpid);
    const since = u ? u.starttime : Math.floor(Date.now() / 1000) - 60;
    const found = await this.findMigrationTasks({ vmid: guest.vmid, node: guest.node, since, exclude: [hamigrateUpid] });
    const byHa = found.find((t) => t.user === 'root@pam');
    return (byHa ?? found[0])?.upid ?? null;
  }

  // ---------------------------------------------------------------- migration

  /** What ties a guest to its node, and where it may go (GET …/migrate?target=). */
  async migratePrecondition(guest: Pick<GuestRef, 'vmid' | 'type' | 'node'>, target?: string): Promise<MigratePrecondition> {
    let raw: MigratePreconditionRaw;
    try {
      raw = await this.get(`/nodes/${encodeURIComponent(guest.node)}/${guest.type}/${guest.vmid}/migrate`, target ? { target } : undefined);
    } catch (e) {
      if (guest.type === 'lxc' && e instanceof PveApiError && e.status === 501) {
        return { running: false, allowedNodes: [], notAllowed: {}, localDisksBytes: 0, hasLocalDisks: false, localResources: [], known: false };
      }
      throw e;
    }
    return normalizePrecondition(raw);
  }

  /**
   * Starts a migration; resolves to the task's UPID (a `hamigrate` one for an HA-managed guest:
   * follow findRealMigrationTask). VM: online=1 when running, with-local-disks=1 when asked.
   * Container: restart=1 when running, never online. Never retried: when the answer is lost this
   * throws PveMigrationUnknownError and the caller must look for the task before trying again.
   */
  async migrate(guest: GuestRef, target: string, opts: MigrateOptions = {}): Promise<string> {
    const running = guest.status === 'running';
    const body: Record<string, string | number | undefined> = { target };
    if (guest.type === 'qemu') {
      if (running) body.online = 1;
      if (opts.withLocalDisks) body['with-local-disks'] = 1;
      if (opts.targetStorage) body.targetstorage = opts.targetStorage;
    } else {
      if (running) body.restart = 1;
      if (running && opts.restartTimeout !== undefined) body.timeout = opts.restartTimeout;
      if (opts.targetStorage) body['target-storage'] = opts.targetStorage;
    }
    if (opts.bwlimit !== undefined) body.bwlimit = opts.bwlimit;
    const path = `/nodes/${encodeURIComponent(guest.node)}/${guest.type}/${guest.vmid}/migrate`;
    const sentAt = Math.floor(this.now() / 1000);
    try {
      const upid = (await this.call<string>('POST', path, { body, retry: false })).data;
      this.log.debug(`POST ${path} target=${target}: task ${upid}`);
      return upid;
    } catch (e) {
      if (e instanceof PveNetworkError && e.maybeReceived) {
        throw new PveMigrationUnknownError(
          `migration of ${guest.type === 'qemu' ? 'VM' : 'CT'} ${guest.vmid} from ${guest.node} to ${target}: the answer was lost (${e.code}); it may have started, so it is not retried: look for its task`,
          guest.node,
          guest.vmid,
          target,
          sentAt,
          e,
        );
      }
      throw e;
    }
  }
}

function taskNode(upid: string): string {
  const u = parseUpid(upid);
  if (!u) throw new PveError(`not a task ID (UPID): ${upid}`);
  return u.node;
}

function encodeParams(p: Record<string, string | number | undefined>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined) sp.append(k, String(v));
  return sp.toString();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Normalises the qemu (allowed_nodes) and lxc (allowed-nodes) spellings of the precondition answer. */
export function normalizePrecondition(raw: MigratePreconditionRaw): MigratePrecondition {
  const notAllowedRaw = raw.not_allowed_nodes ?? raw['not-allowed-nodes'] ?? {};
  const notAllowed: Record<string, string> = {};
  for (const [node, why] of Object.entries(notAllowedRaw)) {
    const parts: string[] = [];
    const w = why as Record<string, unknown>;
    const storages = w.unavailable_storages as string[] | undefined;
    if (storages?.length) parts.push(`storage not available: ${storages.join(', ')}`);
    const res = w['unavailable-resources'] as string[] | undefined;
    if (res?.length) parts.push(`resources not available: ${res.join(', ')}`);
    const ha = w['blocking-ha-resources'] as Array<{ sid: string; cause: string }> | undefined;
    if (ha?.length) parts.push(`HA rule: ${ha.map((h) => `${h.sid} (${h.cause})`).join(', ')}`);
    notAllowed[node] = parts.join('; ') || 'not allowed';
  }
  const disks = (raw.local_disks ?? []).filter((d) => !bool(d.cdrom) && !bool(d.is_unused));
  return {
    running: bool(raw.running),
    allowedNodes: raw.allowed_nodes ?? raw['allowed-nodes'] ?? [],
    notAllowed,
    localDisksBytes: disks.reduce((s, d) => s + (Number(d.size) || 0), 0),
    hasLocalDisks: disks.length > 0,
    localResources: [...(raw.local_resources ?? []), ...(raw['mapped-resources'] ?? [])],
    known: true,
  };
}
