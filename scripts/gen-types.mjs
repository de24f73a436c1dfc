#!/usr/bin/env node
// Generates src/generated/*.ts from schemas/*.schema.json, so that every config key and history
// record is defined once (in the schema). `--check` exits 1 when a generated file is stale.
// The "effective" types treat every property that has a `default` as present: the loader fills
// defaults before the rest of the program sees the object.
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'schemas');
const outDir = join(root, 'src', 'generated');
const check = process.argv.includes('--check');

function withDefaultsRequired(node) {
  if (Array.isArray(node)) return node.map(withDefaultsRequired);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'default' || k === 'examples') continue; // keep the TS output free of big literals
    out[k] = withDefaultsRequired(v);
  }
  if (node.properties) {
    const req = new Set(node.required ?? []);
    for (const [k, v] of Object.entries(node.properties)) if (v && 'default' in v) req.add(k);
    out.required = [...req];
  }
  return out;
}

let stale = 0;
mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).sort()) {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), 'utf8'));
  const ts = await compile(withDefaultsRequired(schema), schema.title, {
    bannerComment: `/* Generated from schemas/${file} by scripts/gen-types.mjs: do not edit. Run \`npm run gen\`. */`,
    additionalProperties: false,
    strictIndexSignatures: true,
    format: true,
    cwd: schemaDir,
  });
  const target = join(outDir, file.replace('.schema.json', '.ts'));
  let current = '';
  try { current = readFileSync(target, 'utf8'); } catch { /* missing */ }
  if (current !== ts) {
    if (check) { console.error(`stale: ${target} (run npm run gen)`); stale++; }
    else { writeFileSync(target, ts); console.log(`wrote ${target}`); }
  }
}
process.exit(stale ? 1 : 0);
