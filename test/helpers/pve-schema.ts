/**
 * The official Proxmox VE API schema (test/fixtures/pve-api/endpoints/, see test/fixtures/README.md) mapped
 * to JSON Schema for ajv: `optional: 1` → not required, booleans → 0/1 integers (what the real
 * server sends), `additionalProperties: 0` → false, patterns anchored as PVE anchors them;
 * PVE-only keys (format, renderer, typetext, …) dropped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { ROOT } from './cli.js';

export const PVE_API_DIR = join(ROOT, 'test', 'fixtures', 'pve-api');
export const PVE_FIXTURES_DIR = join(ROOT, 'test', 'fixtures', 'pve-captures');

type PveSchema = Record<string, unknown> & { type?: string; properties?: Record<string, PveSchema>; items?: PveSchema };

export function pveToJsonSchema(s: PveSchema | undefined): Record<string, unknown> {
  if (!s || typeof s !== 'object') return {};
  const out: Record<string, unknown> = {};
  const t = s.type;
  if (Array.isArray(s.enum)) out.enum = s.enum;
  switch (t) {
    case 'boolean':
      out.type = 'integer';
      out.enum = [0, 1];
      break;
    case 'integer':
    case 'number':
    case 'string':
    case 'null':
      out.type = t;
      break;
    case 'array':
      out.type = 'array';
      if (s.items) out.items = pveToJsonSchema(s.items);
      break;
    case 'object': {
      out.type = 'object';
      if (s.properties) {
        const props: Record<string, unknown> = {};
        const required: string[] = [];
        for (const [k, v] of Object.entries(s.properties)) {
          props[k] = pveToJsonSchema(v);
          if (!v.optional) required.push(k);
        }
        out.properties = props;
        if (required.length) out.required = required;
      }
      if (s.additionalProperties === 0 || s.additionalProperties === false) out.additionalProperties = false;
      break;
    }
    default:
      break;
  }
  for (const k of ['minimum', 'maximum'] as const) {
    if (s[k] !== undefined && (out.type === 'integer' || out.type === 'number')) out[k] = Number(s[k]);
  }
  if (typeof s.pattern === 'string' && out.type === 'string') out.pattern = `^(?:${s.pattern})$`;
  return out;
}

let index: Record<string, string> | null = null;
export function endpointIndex(): Record<string, string> {
  index ??= JSON.parse(readFileSync(join(PVE_API_DIR, 'endpoints', 'index.json'), 'utf8')) as Record<string, string>;
  return index;
}

export function endpointSchema(key: string): PveSchema {
  const file = endpointIndex()[key];
  if (!file) throw new Error(`no official schema for ${key}`);
  return JSON.parse(readFileSync(join(PVE_API_DIR, 'endpoints', file), 'utf8')) as PveSchema;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const cache = new Map<string, ValidateFunction>();

/** A validator of `data` of the endpoint's answer ("GET /cluster/resources"). */
export function returnsValidator(key: string): ValidateFunction {
  let v = cache.get(key);
  if (!v) {
    v = ajv.compile(pveToJsonSchema(endpointSchema(key).returns as PveSchema));
    cache.set(key, v);
  }
  return v;
}

export function validateReturns(key: string, data: unknown): string[] {
  const v = returnsValidator(key);
  if (v(data)) return [];
  return (v.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

export function readFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(PVE_FIXTURES_DIR, name), 'utf8')) as T;
}
