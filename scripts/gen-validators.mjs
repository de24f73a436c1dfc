#!/usr/bin/env node
// Compiles the JSON Schemas' validators at build time (Ajv standalone code) into
// src/generated/validate-*.ts, so a run does not compile them on every start (about 40 ms of CPU).
// The Ajv options are those the program used at run time, so the error objects, and the messages
// made from them (config key paths, history record problems), are the same. `--check` exits 1 when
// a generated file is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'src', 'generated');
const check = process.argv.includes('--check');
const schema = (name) => JSON.parse(readFileSync(join(root, 'schemas', `${name}.schema.json`), 'utf8'));

const targets = [
  // config: every problem at once, with the offending data (verbose) for the messages.
  { file: 'validate-config.ts', options: { allErrors: true, strict: false, verbose: true }, schemas: ['config'], exports: (s) => ({ validateConfigSchema: s.config.$id }) },
  // history: the first problem of a record, one validator per record type.
  {
    file: 'validate-history.ts', options: { strict: false, allErrors: false }, schemas: ['history'],
    exports: (s) => Object.fromEntries(['run', 'migration', 'halted', 'resumed', 'notification'].map((t) => [`${t}Record`, `${s.history.$id}#/definitions/${t}`])),
  },
  // snapshot files (plan --snapshot, explain --snapshot): every problem, formats not checked.
  { file: 'validate-snapshot.ts', options: { allErrors: true, strict: false, validateFormats: false }, schemas: ['snapshot'], exports: (s) => ({ validateSnapshotSchema: s.snapshot.$id }) },
];

let stale = 0;
mkdirSync(outDir, { recursive: true });
for (const t of targets) {
  const loaded = Object.fromEntries(t.schemas.map((n) => [n, schema(n)]));
  const ajv = new Ajv({ ...t.options, code: { source: true, esm: true } });
  for (const s of Object.values(loaded)) ajv.addSchema(s);
  // The ESM output still require()s Ajv's small runtime helpers: import them instead.
  const imports = new Map();
  const code = standaloneCode(ajv, t.exports(loaded)).replace(/require\("([^"]+)"\)/g, (_, mod) => {
    if (!imports.has(mod)) imports.set(mod, `runtime${imports.size}`);
    return imports.get(mod);
  });
  const header = [...imports].map(([mod, name]) => `import ${name} from ${JSON.stringify(`${mod}.js`)};\n`).join('');
  const text = `/* Generated from schemas/${t.schemas.map((n) => `${n}.schema.json`).join(', ')} by scripts/gen-validators.mjs (Ajv standalone code): do not edit. Run \`npm run gen\`. */\n// @ts-nocheck\n${header}${code}\n`;
  const target = join(outDir, t.file);
  let current = '';
  try { current = readFileSync(target, 'utf8'); } catch { /* missing */ }
  if (current !== text) {
    if (check) { console.error(`stale: ${target} (run npm run gen)`); stale++; }
    else { writeFileSync(target, text); console.log(`wrote ${target}`); }
  }
}
process.exit(stale ? 1 : 0);
