import type { ErrorObject, ValidateFunction } from 'ajv';
import { validateConfigSchema } from '../generated/validate-config.js';
import { IANAZone } from 'luxon';
import { loadSchema } from '../util/resources.js';
import type { ProxbalanceConfig } from '../generated/config.js';

export type Config = ProxbalanceConfig;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type SchemaNode = {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  $ref?: string;
  default?: Json;
  description?: string;
  enum?: Json[];
  oneOf?: SchemaNode[];
  'x-expected'?: string;
  [k: string]: unknown;
};

export function configSchema(): SchemaNode {
  return loadSchema('config') as SchemaNode;
}

function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  if (node?.$ref?.startsWith('#/definitions/')) {
    const defs = configSchema().definitions as Record<string, SchemaNode>;
    return defs[node.$ref.slice('#/definitions/'.length)];
  }
  return node;
}

/** Returns the schema node describing a dotted key path (e.g. automated_migrations.rules.cooldown_minutes). */
export function schemaAt(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema();
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    node = deref(node);
    if (!node) return undefined;
    if (/^\d+$/.test(part)) node = node.items;
    else node = node.properties?.[part];
  }
  return deref(node);
}

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns a deep copy of `raw` with every missing key that has a schema default filled in. */
export function withDefaults<T>(raw: T): T {
  const fill = (value: Json, node: SchemaNode | undefined): Json => {
    node = deref(node);
    if (!node) return value;
    if (Array.isArray(value)) return value.map((v) => fill(v, node!.items));
    if (!isObject(value) || !node.properties) return value;
    const out: Record<string, Json> = { ...value };
    for (const [key, prop] of Object.entries(node.properties)) {
      if (!(key in out) && prop.default !== undefined) out[key] = structuredClone(prop.default);
      if (key in out) out[key] = fill(out[key]!, prop);
    }
    return out;
  };
  return fill(structuredClone(raw) as Json, configSchema()) as T;
}

function formatPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function getAt(root: unknown, instancePath: string): unknown {
  let cur: unknown = root;
  for (const p of instancePath.split('/').slice(1)) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur;
}

function describeError(e: ErrorObject, data: unknown): string | null {
  const path = formatPath(e.instancePath);
  const got = getAt(data, e.instancePath);
  const where = path || '(top level)';
  const parentSchema = e.parentSchema as SchemaNode | undefined;
  const expected = parentSchema?.['x-expected'];
  switch (e.keyword) {
    case 'required':
      return `${path ? `${path}.` : ''}${(e.params as { missingProperty: string }).missingProperty} is required but missing`;
    case 'type':
      return `${where} must be ${expected ?? `of type ${(e.params as { type: string }).type}`} (got ${show(got)})`;
    case 'minimum':
      return `${where} must be ≥ ${(e.params as { limit: number }).limit} (got ${show(got)})`;
    case 'maximum':
      return `${where} must be ≤ ${(e.params as { limit: number }).limit} (got ${show(got)})`;
    case 'exclusiveMinimum':
      return `${where} must be > ${(e.params as { limit: number }).limit} (got ${show(got)})`;
    case 'exclusiveMaximum':
      return `${where} must be < ${(e.params as { limit: number }).limit} (got ${show(got)})`;
    case 'enum':
      return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(show).join(', ')} (got ${show(got)})`;
    case 'pattern':
      return `${where} must be ${expected ?? `text matching ${(e.params as { pattern: string }).pattern}`} (got ${show(got)})`;
    case 'minLength':
      return `${where} must not be empty`;
    case 'minItems':
      return `${where} must have at least ${(e.params as { limit: number }).limit} item(s)`;
    case 'uniqueItems':
      return `${where} must not repeat an item (got ${show(got)})`;
    case 'oneOf':
      return `${where} must be ${expected ?? 'one of the allowed forms'} (got ${show(got)})`;
    case 'const':
      return `${where} must be ${show((e.params as { allowedValue: unknown }).allowedValue)} (got ${show(got)})`;
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}


/** Checks a config (defaults already filled). Returns the problems, empty when valid. */
export function validateConfig(cfg: unknown): string[] {
  // Compiled at build time from schemas/config.schema.json (scripts/gen-validators.mjs).
  const validate = validateConfigSchema as ValidateFunction;
  const problems: string[] = [];
  if (!validate(cfg)) {
    const errors = validate.errors ?? [];
    // A failing oneOf also reports each branch's failure: keep the oneOf line alone.
    const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
    for (const e of errors) {
      if (e.keyword !== 'oneOf' && [...oneOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) continue;
      const msg = describeError(e, cfg);
      if (msg && !problems.includes(msg)) problems.push(msg);
    }
    if (problems.length) return problems;
  }
  // What a JSON Schema cannot say.
  const c = cfg as Config;
  const hosts = Array.isArray(c.proxmox_host) ? c.proxmox_host : [c.proxmox_host];
  hosts.forEach((h, i) => {
    const at = Array.isArray(c.proxmox_host) ? `proxmox_host[${i}]` : 'proxmox_host';
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(h) || /[/?#@\s]/.test(h)) {
      problems.push(`${at} must be a host name or address only, without scheme, path or port (got ${show(h)}); the port is proxmox_port`);
    }
  });
  const sched = c.automated_migrations.schedule;
  if (!validZone(sched.timezone)) {
    problems.push(`automated_migrations.schedule.timezone must be an IANA time zone such as "Europe/Berlin" (got ${show(sched.timezone)})`);
  }
  for (const list of ['migration_windows', 'blackout_windows'] as const) {
    sched[list].forEach((w, i) => {
      const at = `automated_migrations.schedule.${list}[${i}]`;
      if (w.start_time === w.end_time) {
        problems.push(`${at}: start_time and end_time are both ${w.start_time}; a window needs a length (use 00:00 to 23:59 for a whole day)`);
      }
      if (w.timezone !== undefined && !validZone(w.timezone)) {
        problems.push(`${at}.timezone must be an IANA time zone such as "America/New_York" (got ${show(w.timezone)})`);
      }
    });
  }
  return problems;
}

/** UTC (the default) needs no look-up: asking ICU costs a run 20 ms of CPU to load its zone data. */
function validZone(zone: string): boolean {
  return zone === 'UTC' || IANAZone.isValidZone(zone);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function closeTo(unknown: string, known: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[-\s.]/g, '_');
  const u = norm(unknown);
  const k = norm(known);
  if (u === k) return true;
  if (u.length >= 6 && (k.startsWith(u) || u.startsWith(k))) return true;
  return editDistance(u, k) <= Math.max(1, Math.floor(Math.min(u.length, k.length) / 6));
}

let keyPaths: string[] | null = null;

/** Every key path of the schema (list items as [0]), in schema order. */
export function allKeyPaths(): string[] {
  if (keyPaths) return keyPaths;
  const paths: string[] = [];
  const walk = (node: SchemaNode | undefined, prefix: string) => {
    node = deref(node);
    if (!node) return;
    if (node.items) walk(node.items, `${prefix}[0]`);
    for (const [k, v] of Object.entries(node.properties ?? {})) {
      const p = prefix ? `${prefix}.${k}` : k;
      paths.push(p);
      walk(v, p);
    }
  };
  walk(configSchema(), '');
  keyPaths = paths;
  return paths;
}

export interface UnknownKey {
  path: string;
  suggestion: string | null;
}

/**
 * Keys the schema does not know, each with the known key it is close to (a likely typo), if any.
 * Keys starting with '_' are comments and not reported.
 */
export function unknownKeys(raw: unknown): UnknownKey[] {
  const out: UnknownKey[] = [];
  const walk = (value: unknown, node: SchemaNode | undefined, path: string) => {
    node = deref(node);
    if (!node) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, node!.items, `${path}[${i}]`));
      return;
    }
    if (!isObject(value) || !node.properties) return;
    const known = Object.keys(node.properties);
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      if (key in node.properties) walk(value[key], node.properties[key], child);
      else if (!key.startsWith('_')) {
        const candidates = known.filter((k) => !(k in value) && closeTo(key, k));
        let suggestion = candidates.length ? (path ? `${path}.${candidates[0]}` : candidates[0]!) : null;
        // A known key at another level (dry_run at the top instead of under automated_migrations).
        suggestion ??= allKeyPaths().find((p) => closeTo(key, p.slice(p.lastIndexOf('.') + 1))) ?? null;
        out.push({ path: child, suggestion });
      }
    }
  };
  walk(raw, configSchema(), '');
  return out;
}
