import { UsageError } from '../util/errors.js';
import { configSchema, schemaAt, withDefaults } from './validate.js';

/** The guide's presets: confidence / max migrations per run / cooldown. */
export const PRESETS = {
  conservative: { min_confidence_score: 85, max_migrations_per_run: 1, cooldown_minutes: 60 },
  balanced: { min_confidence_score: 75, max_migrations_per_run: 3, cooldown_minutes: 30 },
  aggressive: { min_confidence_score: 60, max_migrations_per_run: 5, cooldown_minutes: 15 },
} as const;
export type PresetName = keyof typeof PRESETS;

type Obj = Record<string, unknown>;

function child(obj: Obj, key: string): Obj {
  const cur = obj[key];
  if (cur === undefined) {
    const made: Obj = {};
    obj[key] = made;
    return made;
  }
  if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) {
    throw new UsageError(`${key} is not an object in the config file`);
  }
  return cur as Obj;
}

/** Applies a preset to the raw config, in place; other keys and their order are kept. */
export function applyPreset(raw: Obj, name: string): void {
  const preset = PRESETS[name as PresetName];
  if (!preset) throw new UsageError(`unknown preset "${name}": use one of ${Object.keys(PRESETS).join(', ')}`);
  const rules = child(child(raw, 'automated_migrations'), 'rules');
  Object.assign(rules, preset);
}

/**
 * Parses VALUE for `config set KEY VALUE` by the key's type in the schema: numbers, booleans,
 * lists and objects as JSON; strings as given (quotes optional).
 */
export function parseValue(key: string, text: string): unknown {
  const node = schemaAt(key);
  if (!node) {
    throw new UsageError(`unknown key ${key} (see \`proxbalance config show\` for the keys)`);
  }
  const types = new Set<string>([node.type ?? []].flat() as string[]);
  for (const alt of (node.oneOf ?? []) as { type?: string }[]) if (alt.type) types.add(alt.type);
  const wantsString = types.has('string');
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'string' || !wantsString || types.size > 1) return parsed;
    return text;
  } catch {
    if (wantsString) return text;
    throw new UsageError(`${key}: cannot read ${JSON.stringify(text)} as ${[...types].join(' or ')}`);
  }
}

/** Sets a dotted key (a.b.c, list items as a.b[0] or a.b.0) in the raw config, in place. */
export function setKey(raw: Obj, key: string, value: unknown): void {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  let cur: Obj = raw;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur[part])) cur = cur[part] as unknown as Obj;
    else if (Array.isArray(cur)) {
      const item = (cur as unknown as unknown[])[Number(part)];
      if (typeof item !== 'object' || item === null) throw new UsageError(`${key}: no item ${part}`);
      cur = item as Obj;
    } else cur = child(cur, part);
  }
  cur[parts[parts.length - 1]!] = value;
}

/**
 * The example that `config init` writes: every default of the schema, each key preceded by a
 * `_comment_<key>` holding its description (JSON has no comments; ProxBalance uses the same
 * convention, and jq still reads the file).
 */
export function exampleConfig(): Obj {
  const schema = configSchema();
  const build = (node: typeof schema, value: Obj): Obj => {
    const out: Obj = {};
    if (node.description && node === schema) out._comment = `${node.description} Keys starting with _ are comments.`;
    for (const [key, prop] of Object.entries(node.properties ?? {})) {
      if (prop.description) out[`_comment_${key}`] = prop.description;
      const v = value[key];
      out[key] = prop.properties && typeof v === 'object' && v !== null && !Array.isArray(v) ? build(prop, v as Obj) : v;
    }
    return out;
  };
  const seed: Obj = { proxmox_host: 'pve1.example.com', proxmox_api_token_id: 'proxbalance@pve!balancer' };
  return build(schema, withDefaults(seed));
}
