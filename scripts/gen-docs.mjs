#!/usr/bin/env node
// Generates docs/configuration.md from schemas/config.schema.json, so the reference never drifts
// from the schema. `--check` exits 1 when the file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'config.schema.json'), 'utf8'));
const target = join(root, 'docs', 'configuration.md');

const deref = (n) => (n?.$ref ? schema.definitions[n.$ref.split('/').pop()] : n);
const typeOf = (n) => {
  n = deref(n);
  if (n.oneOf) return n.oneOf.map(typeOf).join(' or ');
  if (n.enum) return n.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (n.type === 'array') return `list of ${typeOf(n.items)}`;
  if (n.title === 'TimeWindow') return 'window';
  return n.type ?? 'any';
};
const range = (n) => {
  const parts = [];
  if (n.minimum !== undefined) parts.push(`≥ ${n.minimum}`);
  if (n.exclusiveMinimum !== undefined) parts.push(`> ${n.exclusiveMinimum}`);
  if (n.maximum !== undefined) parts.push(`≤ ${n.maximum}`);
  return parts.join(', ');
};
const dflt = (k, n, required) => {
  if (n['x-default-from']) return `\`${n['x-default-from']}\``;
  if (required) return '*required*';
  if (n.default === undefined) return '';
  if (typeof n.default === 'object' && !Array.isArray(n.default)) return '';
  return `\`${JSON.stringify(n.default)}\``;
};

const lines = [
  '# Configuration reference',
  '',
  '<!-- Generated from schemas/config.schema.json by scripts/gen-docs.mjs: do not edit; run `npm run gen`. -->',
  '',
  schema.description,
  '',
  'The file is `/opt/proxmox-balance-manager/config.json` unless `--config PATH` or the environment',
  'variable `PROXBALANCE_CONFIG` names another. `PROXBALANCE_TOKEN_SECRET` in the environment overrides',
  'the token secret. Check a file with `proxbalance config validate`; see every effective value with',
  '`proxbalance config show`; change one with `proxbalance config set KEY VALUE`. `config show` masks',
  'every secret: the token secret, the keys marked as secrets below, and any ignored key whose name says',
  'secret (`proxmox_password`, an AI `api_key`, anything with password, secret, token or key in its name).',
  '',
];

function section(node, prefix, title) {
  node = deref(node);
  const rows = [];
  const nested = [];
  for (const [k, v0] of Object.entries(node.properties ?? {})) {
    const v = deref(v0);
    const path = prefix ? `${prefix}.${k}` : k;
    if (v.type === 'object' && v.properties) {
      nested.push([v, path]);
      continue;
    }
    const required = (node.required ?? []).includes(k);
    rows.push(`| \`${path}\` | ${typeOf(v0)} | ${dflt(k, v, required)} | ${range(v)} | ${v.description.replace(/\|/g, '\\|')} |`);
    if (v.type === 'array' && deref(v.items)?.properties) nested.push([v.items, `${path}[]`]);
  }
  lines.push(`## ${title}`, '');
  if (node.description) lines.push(node.description, '');
  if (rows.length) lines.push('| key | type | default | range | meaning |', '|---|---|---|---|---|', ...rows, '');
  for (const [n, p] of nested) section(n, p, `\`${p}\``);
}
section({ ...schema, description: undefined }, '', 'Top level');

const text = `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
let current = '';
try { current = readFileSync(target, 'utf8'); } catch { /* missing */ }
if (process.argv.includes('--check')) {
  if (current !== text) { console.error(`stale: ${target} (run npm run gen)`); process.exit(1); }
} else if (current !== text) {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
