/**
 * A fake Proxmox VE API over real HTTPS (node:https, test certificate from test/fixtures/tls):
 * token check, privilege checks, every endpoint the client uses with the real field types (0/1
 * integers for booleans) and error shapes, migrations as tasks that take time, fault injection and
 * a request log with counts per endpoint. Used by tests, benchmarks and the demo.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ROOT } from '../helpers/cli.js';
import { generateSnapshot, type GenerateOptions } from '../helpers/generate.js';
import { parseUpid } from '../../src/pve/upid.js';
import { FakeState, PveHttpError, isTrue, noise, sidOf, type FakeGuest } from './state.js';
import { loadScenario, type Scenario } from './scenarios.js';

export const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
export const CA_FILE = join(TLS_DIR, 'ca.pem');

export interface FakeToken {
  id: string;
  secret: string;
  /** Privileges on / (propagated). Default: the balancer's four. */
  privileges?: string[];
}

export const BALANCER_PRIVILEGES = ['Sys.Audit', 'VM.Audit', 'VM.Migrate', 'Datastore.Audit'];

export interface FakePveOptions {
  /** Scenario name (file in test/fake-pve/scenarios/), path, or object. */
  scenario?: string | Scenario;
  /** A generated cluster (generateSnapshot) instead of a scenario. */
  generate?: GenerateOptions;
  /** A ready state. */
  state?: FakeState;
  port?: number;
  /** The main token (default proxbalance@pve!balancer with a random secret). */
  tokenId?: string;
  tokenSecret?: string;
  /** More tokens (e.g. one lacking a privilege). */
  tokens?: FakeToken[];
  /** Delay before a 401 (the real server waits about 3 s). Default 20 ms. */
  authFailDelayMs?: number;
  /** Real ms per simulated second of a task. Default 50. */
  msPerSecond?: number;
  clock?: () => number;
  /** Which certificate to present: the CA-signed one (default) or an unrelated self-signed one. */
  cert?: 'server' | 'other';
}

export type Fault =
  | { kind: 'latency'; ms: number; path?: string | RegExp; method?: string }
  | { kind: 'status'; status: number; message?: string; path: string | RegExp; method?: string; times?: number }
  /** Closes the connection without an answer; `after: true` handles the request first (answer lost). */
  | { kind: 'drop'; path: string | RegExp; method?: string; times?: number; after?: boolean }
  | { kind: 'quorum-loss' }
  | { kind: 'node-offline'; node: string; afterMs?: number }
  | { kind: 'fail-migration'; vmid: number; reason?: string }
  /** rrddata of a node answers points without values (no data recorded). */
  | { kind: 'rrd-empty'; node: string }
  /** GET /cluster/tasks shows an ended task as running for this long after its end. */
  | { kind: 'tasks-lag'; ms: number };

export interface RequestRecord {
  method: string;
  path: string;
  /** The query string, with its "?" ("" when none). */
  query: string;
  /** "GET /nodes/{node}/rrddata": the route, as in the official schema's index. */
  endpoint: string;
  status: number;
  at: number;
}

export interface RequestLog {
  log: RequestRecord[];
  /** Requests per endpoint ("GET /cluster/resources": 1). */
  counts: Record<string, number>;
  total(): number;
  /** Most requests being handled at the same time so far. */
  maxInFlight: number;
  /** TLS connections accepted so far (keep-alive reuses them). */
  connections: number;
  /** Requests whose path (or endpoint) matches. */
  count(match: string | RegExp, method?: string): number;
  reset(): void;
}

export interface FakePve {
  url: string;
  host: string;
  port: number;
  tokenId: string;
  tokenSecret: string;
  /** SHA-256 fingerprint of the presented certificate, colon hex upper case. */
  fingerprint: string;
  caFile: string;
  state: FakeState;
  requests: RequestLog;
  /** Adds a fault; returns a function that removes it. */
  inject(f: Fault): () => void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, string>;
  token: { id: string; privileges: Set<string> };
  state: FakeState;
  fake: { fingerprint: string; rrdEmpty: Set<string> };
}

type Handler = (c: Ctx) => unknown;

function need(c: Ctx, priv: string, path: string): void {
  if (!c.token.privileges.has(priv)) throw new PveHttpError(403, `Permission check failed (${path}, ${priv})`);
}
const b = (v: boolean) => (v ? 1 : 0);
const int = (v: number) => Math.max(0, Math.round(v));

function guestOf(c: Ctx, type: 'qemu' | 'lxc'): FakeGuest {
  const vmid = Number(c.params.vmid);
  const g = c.state.guests.find((x) => x.vmid === vmid && x.type === type);
  if (!g || g.node !== c.params.node) {
    throw new PveHttpError(500, `Configuration file 'nodes/${c.params.node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist`);
  }
  return g;
}

function nodeOnline(c: Ctx): void {
  const n = c.state.node(c.params.node!);
  if (!n) throw new PveHttpError(500, `hostname lookup '${c.params.node}' failed - failed to get address info for: ${c.params.node}: Name or service not known`);
  if (n.status !== 'online') throw new PveHttpError(595, `Connection refused`);
}

function resourceEntries(c: Ctx): unknown[] {
  const s = c.state;
  const type = c.query.get('type');
  const out: unknown[] = [];
  const privs = c.token.privileges;
  if (!type || type === 'node') {
    if (privs.has('Sys.Audit')) {
      for (const n of s.nodes) {
        if (n.status !== 'online') {
          out.push({ id: `node/${n.name}`, type: 'node', node: n.name, status: n.status, level: '' });
          continue;
        }
        out.push({
          id: `node/${n.name}`, type: 'node', node: n.name, status: 'online', cpu: n.cpu, maxcpu: n.maxcpu, mem: int(n.mem), maxmem: int(n.maxmem),
          disk: 9 * 1024 ** 3, maxdisk: 94 * 1024 ** 3, uptime: n.uptime, level: '', 'cgroup-mode': 2,
        });
      }
    }
  }
  if (!type || type === 'vm') {
    if (privs.has('VM.Audit')) {
      for (const g of s.guests) {
        const host = s.node(g.node);
        const reachable = host?.status === 'online';
        const e: Record<string, unknown> = {
          id: `${g.type}/${g.vmid}`, type: g.type, vmid: g.vmid, name: g.name, node: g.node,
          status: reachable ? g.status : 'unknown', maxcpu: g.maxcpu, maxmem: int(g.maxmem), maxdisk: int(g.maxdisk), template: b(g.template),
        };
        if (reachable) {
          Object.assign(e, {
            cpu: g.cpu, mem: int(g.mem), disk: g.type === 'qemu' ? 0 : int(g.maxdisk * 0.3), uptime: g.status === 'running' ? g.uptime : 0,
            netin: g.vmid * 1000, netout: g.vmid * 900, diskread: g.vmid * 5000, diskwrite: g.vmid * 4000,
          });
          if (g.type === 'qemu' && g.status === 'running') e.memhost = int(g.mem);
        }
        if (g.tags.length) e.tags = g.tags.join(';');
        if (g.lock) e.lock = g.lock;
        if (g.pool) e.pool = g.pool;
        if (g.ha) e.hastate = g.hastate ?? 'started';
        out.push(e);
      }
    }
  }
  if (!type || type === 'storage') {
    if (privs.has('Datastore.Audit')) {
      for (const st of s.storages) {
        out.push({
          id: `storage/${st.node}/${st.storage}`, type: 'storage', storage: st.storage, node: st.node, status: s.node(st.node)?.status === 'online' ? st.status : 'unknown',
          plugintype: st.plugintype, shared: b(st.shared), content: st.content.join(','), disk: int(st.disk), maxdisk: int(st.maxdisk),
        });
      }
    }
  }
  return out;
}


/** The routes the fake serves, keyed as in the official schema index ("GET /cluster/resources"). */
export const ROUTES: Record<string, Handler> = {
  'GET /version': (c) => ({ version: c.state.version, release: c.state.version.split('.').slice(0, 2).join('.'), repoid: 'bd5d2a2a8c1e3b71' }),
  'GET /access/permissions': (c) => ({ '/': Object.fromEntries([...c.token.privileges].map((p) => [p, 1])) }),
  'GET /nodes': (c) =>
    c.state.nodes.map((n) =>
      n.status === 'online'
        ? { node: n.name, status: 'online', cpu: n.cpu, maxcpu: n.maxcpu, mem: int(n.mem), maxmem: int(n.maxmem), uptime: n.uptime, level: '', ssl_fingerprint: c.fake.fingerprint, id: `node/${n.name}`, type: 'node', disk: 9 * 1024 ** 3, maxdisk: 94 * 1024 ** 3 }
        : { node: n.name, status: n.status, id: `node/${n.name}`, type: 'node', level: '', ssl_fingerprint: c.fake.fingerprint },
    ),
  'GET /cluster/resources': (c) => {
    const t = c.query.get('type');
    if (t && !['vm', 'storage', 'node', 'sdn', 'pool', 'network'].includes(t)) {
      throw new PveHttpError(400, 'Parameter verification failed.', { type: `value '${t}' does not have a value in the enumeration 'vm, storage, node, sdn, pool, network'` });
    }
    return resourceEntries(c);
  },
  'GET /cluster/status': (c) => {
    need(c, 'Sys.Audit', '/');
    const s = c.state;
    const out: unknown[] = [];
    if (!s.standalone) out.push({ type: 'cluster', id: 'cluster', name: s.clusterName, nodes: s.nodes.length, quorate: b(s.quorate), version: 4 });
    const local = s.nodes.find((n) => n.status === 'online')?.name;
    for (const n of s.nodes) {
      out.push({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: n.nodeid, online: b(n.status === 'online'), local: b(n.name === local), ip: n.ip, level: '' });
    }
    return out;
  },
  'GET /cluster/tasks': (c) =>
    c.state.visibleTasks().map((t) => {
      const e: Record<string, unknown> = { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user };
      // The cluster's list learns of a task's end later than the task's own status (tasks-lag).
      if (t.ended && c.state.now() - t.endMs >= c.state.tasksLagMs) Object.assign(e, { status: t.exitstatus, endtime: Math.floor(t.endMs / 1000) });
      return e;
    }),
  'GET /cluster/ha/status/current': (c) => {
    need(c, 'Sys.Audit', '/');
    const s = c.state;
    const master = s.nodes.find((n) => n.status === 'online')?.name ?? s.nodes[0]?.name ?? 'localhost';
    const ts = Math.floor(s.now() / 1000);
    const out: unknown[] = [{ id: 'quorum', type: 'quorum', node: master, status: s.quorate ? 'OK' : 'No quorum on node', quorate: b(s.quorate) }];
    const ha = s.guests.filter((g) => g.ha);
    if (!ha.length && !s.nodes.some((n) => n.lrm === 'maintenance')) return out;
    out.push({ id: 'master', type: 'master', node: master, status: 'active', timestamp: ts });
    for (const n of s.nodes) {
      // As pve-ha-manager writes it: "<node> (<state>, <watchdog>, <time>)".
      const state = n.status !== 'online' ? 'old timestamp - dead?' : n.lrm === 'maintenance' ? 'maintenance mode' : n.lrm;
      const watchdog = n.status === 'online' && (n.lrm === 'active' || n.lrm === 'maintenance') ? 'watchdog active' : 'watchdog standby';
      const status = `${n.name} (${state}, ${watchdog}, ${new Date(ts * 1000).toUTCString()})`;
      out.push({ id: `lrm:${n.name}`, type: 'lrm', node: n.name, status, timestamp: ts });
    }
    for (const g of ha) {
      const sid = `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`;
      const st = g.hastate ?? 'started';
      out.push({ id: `service:${sid}`, type: 'service', sid, node: g.node, state: st, crm_state: st, request_state: 'started', status: st, max_relocate: 1, max_restart: 1, failback: b(g.failback !== false) });
    }
    return out;
  },
  'GET /cluster/options': (c) => {
    const out: Record<string, unknown> = { console: 'html5', keyboard: 'en-us' };
    if (c.token.privileges.has('Sys.Audit')) {
      out.crs = { ...c.state.crs };
      out.migration = { type: 'secure' };
    }
    return out;
  },
  'GET /cluster/ha/resources': (c) => {
    need(c, 'Sys.Audit', '/');
    // Only the properties that are set are listed, as Proxmox does.
    return c.state.guests.filter((g) => g.ha).map((g) => {
      const e: Record<string, unknown> = { sid: sidOf(g), state: 'started', type: g.type === 'qemu' ? 'vm' : 'ct', digest: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', max_restart: 1, max_relocate: 1 };
      if (c.state.pve8 && g.haGroup) e.group = g.haGroup;
      if (!c.state.pve8 && g.failback === false) e.failback = 0;
      return e;
    });
  },
  'GET /cluster/ha/rules': (c) => {
    // PVE 8 has no HA rules: the path is not implemented there.
    if (c.state.pve8) throw new PveHttpError(501, "Method 'GET /api2/json/cluster/ha/rules' not implemented");
    need(c, 'Sys.Audit', '/');
    return c.state.haRules.map((r, i) => {
      const e: Record<string, unknown> = { rule: r.rule, type: r.type, resources: r.resources.join(','), digest: 'f0e1d2c3b4a5968778695a4b3c2d1e0f12345678', order: i + 1 };
      if (r.type === 'node-affinity') {
        e.nodes = Object.entries(r.nodes ?? {}).map(([n, p]) => (p ? `${n}:${p}` : n)).join(',');
        if (r.strict) e.strict = 1;
      } else e.affinity = r.affinity;
      if (r.disable) e.disable = 1;
      return e;
    });
  },
  'GET /cluster/ha/groups': (c) => {
    need(c, 'Sys.Audit', '/');
    // PVE 9 turned the groups into rules: the list is empty there.
    if (!c.state.pve8) return [];
    return c.state.haGroups.map((g) => ({
      group: g.group, type: 'group', nodes: Object.entries(g.nodes).map(([n, p]) => (p ? `${n}:${p}` : n)).join(','),
      restricted: b(g.restricted === true), nofailback: b(g.nofailback === true), digest: '0123456789abcdef0123456789abcdef01234567',
    }));
  },
  'GET /nodes/{node}/rrddata': (c) => {
    need(c, 'Sys.Audit', `/nodes/${c.params.node}`);
    nodeOnline(c);
    const tf = c.query.get('timeframe');
    if (!tf) throw new PveHttpError(400, 'Parameter verification failed.', { timeframe: 'property is missing and it is not optional' });
    const n = c.state.node(c.params.node!)!;
    const step = 60;
    const last = Math.floor(c.state.now() / 1000 / step) * step;
    const empty = c.fake.rrdEmpty.has(n.name);
    const points: unknown[] = [];
    for (let i = 0; i < 70; i++) {
      const time = last - (69 - i) * step;
      if (empty) {
        points.push({ time });
        continue;
      }
      const k = 1 + 0.1 * noise(n.name, time);
      points.push({
        time, cpu: Math.min(1, n.cpu * k), maxcpu: n.maxcpu, memused: Math.round(n.mem * (1 + 0.02 * noise(n.name + 'm', time))), memtotal: n.maxmem,
        memavailable: Math.max(0, n.maxmem - n.mem), iowait: Math.max(0, n.avg?.iowait ?? 0.01) * k, loadavg: n.cpu * n.maxcpu * k,
        netin: 120000 * k, netout: 110000 * k, rootused: 9 * 1024 ** 3, roottotal: 94 * 1024 ** 3, swapused: 0, swaptotal: 8 * 1024 ** 3,
        pressurecpusome: 0.01, pressureiosome: 0.002, pressurememorysome: 0,
      });
    }
    return points;
  },
  'GET /nodes/{node}/qemu/{vmid}/status/current': (c) => guestCurrent(c, 'qemu'),
  'GET /nodes/{node}/lxc/{vmid}/status/current': (c) => guestCurrent(c, 'lxc'),
  'GET /nodes/{node}/qemu/{vmid}/migrate': (c) => {
    need(c, 'VM.Migrate', `/vms/${c.params.vmid}`);
    const g = guestOf(c, 'qemu');
    const { allowed, notAllowed, blocking } = targets(c, g);
    const na: Record<string, Record<string, unknown>> = {};
    for (const [n, st] of Object.entries(notAllowed)) na[n] = { unavailable_storages: st };
    for (const [n, bl] of Object.entries(blocking)) na[n] = { ...na[n], 'blocking-ha-resources': bl };
    return {
      running: b(g.status === 'running'), 'has-dbus-vmstate': 0,
      allowed_nodes: allowed,
      not_allowed_nodes: na,
      local_disks: g.localDisks > 0 ? [{ volid: `local-lvm:vm-${g.vmid}-disk-0`, size: int(g.localDisks), cdrom: 0, is_unused: 0, drivename: 'scsi0', replicate: 1 }] : [],
      local_resources: g.localResources, 'mapped-resources': [], 'mapped-resource-info': {}, 'dependent-ha-resources': dependent(c, g),
    };
  },
  'GET /nodes/{node}/lxc/{vmid}/migrate': (c) => {
    need(c, 'VM.Migrate', `/vms/${c.params.vmid}`);
    const g = guestOf(c, 'lxc');
    const { allowed, blocking } = targets(c, g);
    const na = Object.fromEntries(Object.entries(blocking).map(([n, bl]) => [n, { 'blocking-ha-resources': bl }]));
    return { running: b(g.status === 'running'), 'allowed-nodes': allowed, 'not-allowed-nodes': na, 'dependent-ha-resources': dependent(c, g) };
  },
  'POST /nodes/{node}/qemu/{vmid}/migrate': (c) => postMigrate(c, 'qemu'),
  'POST /nodes/{node}/lxc/{vmid}/migrate': (c) => postMigrate(c, 'lxc'),
  'GET /nodes/{node}/tasks': (c) => {
    // The node's own task list (proxied to the node: fails while it is offline); tasks it runs.
    need(c, 'Sys.Audit', `/nodes/${c.params.node}`);
    nodeOnline(c);
    const source = c.query.get('source') ?? 'archive';
    const vmid = c.query.get('vmid');
    const since = Number(c.query.get('since') ?? 0);
    const type = c.query.get('typefilter');
    const limit = Number(c.query.get('limit') ?? 50);
    return c.state.visibleTasks()
      .filter((t) => t.node === c.params.node && (source === 'all' || (source === 'active') === !t.ended))
      .filter((t) => (!vmid || t.id === vmid) && t.starttime >= since && (!type || t.type === type))
      .slice(0, limit || undefined)
      .map((t) => {
        const e: Record<string, unknown> = { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user };
        if (t.ended) Object.assign(e, { status: t.exitstatus, endtime: Math.floor(t.endMs / 1000) });
        return e;
      });
  },
  'GET /nodes/{node}/tasks/{upid}/status': (c) => {
    const t = taskOf(c);
    const e: Record<string, unknown> = { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user, status: t.ended ? 'stopped' : 'running' };
    if (t.ended) e.exitstatus = t.exitstatus;
    return e;
  },
  'GET /nodes/{node}/tasks/{upid}/log': (c) => {
    const t = taskOf(c);
    const start = Number(c.query.get('start') ?? 0);
    const limit = Number(c.query.get('limit') ?? 50);
    if (!Number.isInteger(start) || start < 0) throw new PveHttpError(400, 'Parameter verification failed.', { start: `value must have a minimum value of 0` });
    if (!Number.isInteger(limit) || limit < 0) throw new PveHttpError(400, 'Parameter verification failed.', { limit: `value must have a minimum value of 0` });
    let lines = c.state.taskLines(t).map((text, i) => ({ n: i + 1, t: text }));
    if (!lines.length) lines = [{ n: 1, t: 'no content' }];
    const total = lines.length;
    const page = lines.slice(start, limit === 0 ? undefined : start + limit);
    return { __data: page, total };
  },
};

const VM_MIGRATE_PARAMS = new Set(['target', 'online', 'force', 'migration_network', 'migration_type', 'targetstorage', 'bwlimit', 'with-local-disks', 'with-conntrack-state']);
const CT_MIGRATE_PARAMS = new Set(['target', 'online', 'restart', 'timeout', 'bwlimit', 'target-storage']);
const BOOL_PARAMS = new Set(['online', 'force', 'with-local-disks', 'with-conntrack-state', 'restart']);

function postMigrate(c: Ctx, type: 'qemu' | 'lxc'): string {
  need(c, 'VM.Migrate', `/vms/${c.params.vmid}`);
  const allowed = type === 'qemu' ? VM_MIGRATE_PARAMS : CT_MIGRATE_PARAMS;
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.body)) {
    if (!allowed.has(k)) errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
    else if (BOOL_PARAMS.has(k) && !/^(0|1|true|false|yes|no|on|off)$/i.test(v)) errors[k] = `type check ('boolean') failed - got '${v}'`;
  }
  if (Object.keys(errors).length) throw new PveHttpError(400, 'Parameter verification failed.', errors);
  return c.state.startMigration(type, c.params.node!, Number(c.params.vmid), c.body, c.token.id);
}

function guestCurrent(c: Ctx, type: 'qemu' | 'lxc'): unknown {
  need(c, 'VM.Audit', `/vms/${c.params.vmid}`);
  nodeOnline(c);
  const g = guestOf(c, type);
  const running = g.status === 'running';
  const e: Record<string, unknown> = {
    vmid: g.vmid, name: g.name, status: running ? 'running' : 'stopped', cpus: g.maxcpu, cpu: running ? g.cpu : 0, mem: int(g.mem), maxmem: int(g.maxmem),
    maxdisk: int(g.maxdisk), uptime: running ? g.uptime : 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0,
    ha: g.ha ? { managed: 1, state: g.hastate ?? 'started', group: '' } : { managed: 0 },
  };
  if (type === 'qemu') Object.assign(e, { qmpstatus: running ? 'running' : 'stopped', agent: 1, 'running-machine': 'pc-i440fx-9.2+pve1', 'running-qemu': '9.2.0' });
  if (type === 'lxc') Object.assign(e, { type: 'lxc', disk: int(g.maxdisk * 0.3), maxswap: 512 * 1024 ** 2, swap: 0 });
  if (g.tags.length) e.tags = g.tags.join(';');
  if (g.lock) e.lock = g.lock;
  if (g.template) e.template = 1;
  if (running) e.pid = 10000 + g.vmid;
  return e;
}

function targets(c: Ctx, g: FakeGuest): { allowed: string[]; notAllowed: Record<string, string[]>; blocking: Record<string, Array<{ sid: string; cause: string }>> } {
  const allowed: string[] = [];
  const notAllowed: Record<string, string[]> = {};
  const blocking: Record<string, Array<{ sid: string; cause: string }>> = {};
  for (const n of c.state.nodes) {
    if (n.name === g.node || n.status !== 'online') continue;
    const missing = g.unavailableOn[n.name];
    // HA refuses a move onto a node hosting a negative-affinity partner.
    const bl = g.ha ? c.state.haBlocking(g, n.name) : [];
    if (bl.length) blocking[n.name] = bl.map((x) => ({ sid: sidOf(x), cause: 'resource-affinity' }));
    if (missing?.length) notAllowed[n.name] = missing;
    else if (!bl.length) allowed.push(n.name);
  }
  return { allowed, notAllowed, blocking };
}

/** The precondition's dependent-ha-resources: positive partners HA moves along. */
function dependent(c: Ctx, g: FakeGuest): string[] {
  return g.ha ? c.state.haPartners(g, 'positive').map(sidOf) : [];
}

function taskOf(c: Ctx) {
  const upid = c.params.upid!;
  const u = parseUpid(upid);
  if (!u) throw new PveHttpError(400, 'Parameter verification failed.', { upid: 'unable to parse worker upid' });
  if (u.node !== c.params.node) throw new PveHttpError(400, `wrong node ${c.params.node} for task of node ${u.node}`);
  const t = c.state.task(upid);
  if (!t) throw new PveHttpError(500, `unable to open file '/var/log/pve/tasks/${u.pstart.toString(16).slice(-1).toUpperCase()}/${upid}' - No such file or directory`);
  return t;
}

const COMPILED = Object.keys(ROUTES).map((key) => {
  const [method, pattern] = key.split(' ') as [string, string];
  const names: string[] = [];
  const re = new RegExp(`^${pattern.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
  return { key, method, re, names };
});

function matchRoute(method: string, path: string): { key: string; params: Record<string, string> } | null {
  for (const r of COMPILED) {
    if (r.method !== method) continue;
    const m = r.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
    return { key: r.key, params };
  }
  return null;
}

function sendJson(res: ServerResponse, status: number, statusMessage: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, statusMessage.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200), {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    server: 'pve-api-daemon/3.0',
    'cache-control': 'max-age=0',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, errors?: Record<string, string>): void {
  const body: Record<string, unknown> = { data: null, message: `${message}\n` };
  if (errors) body.errors = Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, `${v}\n`]));
  sendJson(res, status, message.split('\n')[0]!, body);
}

function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      if (!text) return resolve({});
      if ((req.headers['content-type'] ?? '').includes('json')) {
        try {
          const j = JSON.parse(text) as Record<string, unknown>;
          return resolve(Object.fromEntries(Object.entries(j).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)])));
        } catch {
          return resolve({});
        }
      }
      resolve(Object.fromEntries(new URLSearchParams(text)));
    });
    req.on('error', () => resolve({}));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function matches(f: { path?: string | RegExp; method?: string }, method: string, path: string, endpoint: string): boolean {
  if (f.method && f.method !== method) return false;
  if (f.path === undefined) return true;
  if (f.path instanceof RegExp) return f.path.test(path);
  return f.path === path || f.path === endpoint || f.path === `${method} ${path}`;
}

function buildState(opts: FakePveOptions): FakeState {
  const so = { ...(opts.msPerSecond !== undefined ? { msPerSecond: opts.msPerSecond } : {}), ...(opts.clock ? { clock: opts.clock } : {}) };
  if (opts.state) return opts.state;
  if (opts.generate) return FakeState.fromSnapshot(generateSnapshot(opts.generate), so);
  return loadScenario(opts.scenario ?? 'demo', so);
}

/** The connection keys of a config.json for this fake (TLS verified with its CA file). */
export function connectionConfig(fake: Pick<FakePve, 'host' | 'port' | 'tokenId' | 'tokenSecret' | 'caFile'>) {
  return {
    proxmox_host: fake.host,
    proxmox_port: fake.port,
    proxmox_api_token_id: fake.tokenId,
    proxmox_api_token_secret: fake.tokenSecret,
    proxmox_ca_file: fake.caFile,
  };
}

export async function startFakePve(opts: FakePveOptions = {}): Promise<FakePve> {
  const state = buildState(opts);
  const tokenId = opts.tokenId ?? 'proxbalance@pve!balancer';
  const tokenSecret = opts.tokenSecret ?? crypto.randomUUID();
  const tokens = new Map<string, { secret: string; privileges: Set<string> }>();
  tokens.set(tokenId, { secret: tokenSecret, privileges: new Set(BALANCER_PRIVILEGES) });
  for (const t of opts.tokens ?? []) tokens.set(t.id, { secret: t.secret, privileges: new Set(t.privileges ?? BALANCER_PRIVILEGES) });
  const certName = opts.cert ?? 'server';
  const cert = readFileSync(join(TLS_DIR, `${certName}.pem`));
  const key = readFileSync(join(TLS_DIR, `${certName}.key`));
  const fingerprint = new X509Certificate(cert).fingerprint256.toUpperCase();
  const authDelay = opts.authFailDelayMs ?? 20;
  let faults: Array<Fault & { left?: number }> = [];
  const rrdEmpty = new Set<string>();
  const fakeInfo = { fingerprint, rrdEmpty };

  const log: RequestRecord[] = [];
  const counts: Record<string, number> = {};
  let inFlight = 0;
  const requests: RequestLog = {
    log,
    counts,
    maxInFlight: 0,
    connections: 0,
    total: () => log.length,
    count: (m, method) => log.filter((r) => (!method || r.method === method) && (m instanceof RegExp ? m.test(r.path) : r.path === m || r.endpoint === m)).length,
    reset: () => {
      log.length = 0;
      requests.maxInFlight = 0;
      requests.connections = 0;
      for (const k of Object.keys(counts)) delete counts[k];
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const prefix = '/api2/json';
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || '/' : url.pathname;
    const route = url.pathname.startsWith(prefix) ? matchRoute(method, path) : null;
    const endpoint = route?.key ?? `${method} ${path}`;
    const record = (status: number) => {
      log.push({ method, path, query: url.search, endpoint, status, at: Date.now() });
      counts[endpoint] = (counts[endpoint] ?? 0) + 1;
    };
    const body = method === 'POST' || method === 'PUT' ? await readBody(req) : {};

    for (const f of faults) if (f.kind === 'latency' && matches(f, method, path, endpoint)) await sleep(f.ms);
    const take = (kind: 'status' | 'drop') => {
      const f = faults.find((x) => x.kind === kind && matches(x as { path: string }, method, path, endpoint) && (x.left === undefined || x.left > 0));
      if (f && f.left !== undefined) f.left--;
      return f;
    };
    const drop = take('drop') as Extract<Fault, { kind: 'drop' }> | undefined;
    if (drop && !drop.after) {
      record(0);
      req.socket.destroy();
      return;
    }
    const injected = take('status') as Extract<Fault, { kind: 'status' }> | undefined;

    // Authentication (the real server waits before a 401).
    const auth = req.headers.authorization ?? '';
    const m = /^PVEAPIToken=(.+)$/i.exec(auth);
    let token: Ctx['token'] | null = null;
    if (m) {
      const rest = m[1]!;
      const cut = rest.lastIndexOf('=');
      const id = cut > 0 ? rest.slice(0, cut) : '';
      const t = tokens.get(id);
      if (t && t.secret === rest.slice(cut + 1)) token = { id, privileges: t.privileges };
    }
    if (!token) {
      await sleep(authDelay);
      record(401);
      sendJson(res, 401, m ? 'authentication failure' : 'No ticket', { data: null, message: m ? 'authentication failure\n' : 'No ticket\n' });
      return;
    }
    if (injected) {
      record(injected.status);
      sendError(res, injected.status, injected.message ?? (injected.status === 503 ? 'Service Unavailable' : injected.status === 502 ? 'Bad Gateway' : 'Internal Server Error'));
      return;
    }
    if (!route) {
      record(501);
      sendError(res, 501, `Method '${method} ${prefix}${path}' not implemented`);
      return;
    }
    state.advance();
    try {
      const out = ROUTES[route.key]!({ params: route.params, query: url.searchParams, body, token, state, fake: fakeInfo });
      state.advance();
      if (drop?.after) {
        record(0);
        req.socket.destroy();
        return;
      }
      record(200);
      if (out && typeof out === 'object' && '__data' in out) {
        const o = out as { __data: unknown; total: number };
        sendJson(res, 200, 'OK', { data: o.__data, total: o.total });
      } else sendJson(res, 200, 'OK', { data: out });
    } catch (e) {
      if (e instanceof PveHttpError) {
        if (drop?.after) {
          record(0);
          req.socket.destroy();
          return;
        }
        record(e.status);
        sendError(res, e.status, e.message, e.errors);
        return;
      }
      record(500);
      sendError(res, 500, `fake server bug: ${(e as Error).message}`);
    }
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    inFlight++;
    requests.maxInFlight = Math.max(requests.maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) inFlight--;
      done = true;
    };
    res.on('close', finish);
    handle(req, res).catch((e) => {
      try {
        sendError(res, 500, String(e));
      } catch {
        /* socket gone */
      }
    });
  });
  server.on('secureConnection', () => requests.connections++);
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const inject = (f: Fault): (() => void) => {
    switch (f.kind) {
      case 'quorum-loss':
        state.quorate = false;
        return () => (state.quorate = true);
      case 'node-offline':
        if (f.afterMs) state.at(state.now() + f.afterMs, () => state.setNodeOffline(f.node));
        else state.setNodeOffline(f.node);
        return () => state.setNodeOffline(f.node, false);
      case 'fail-migration':
        state.failMigrations.set(f.vmid, f.reason ?? 'migration aborted by the fake');
        return () => state.failMigrations.delete(f.vmid);
      case 'tasks-lag':
        state.tasksLagMs = f.ms;
        return () => (state.tasksLagMs = 0);
      case 'rrd-empty':
        rrdEmpty.add(f.node);
        return () => rrdEmpty.delete(f.node);
      default: {
        const entry = { ...f, ...('times' in f && f.times !== undefined ? { left: f.times } : {}) };
        faults.push(entry);
        return () => (faults = faults.filter((x) => x !== entry));
      }
    }
  };

  return {
    url: `https://127.0.0.1:${port}/api2/json`,
    host: '127.0.0.1',
    port,
    tokenId,
    tokenSecret,
    fingerprint,
    caFile: CA_FILE,
    state,
    requests,
    inject,
    clearFaults: () => {
      faults = [];
      rrdEmpty.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { isTrue };
