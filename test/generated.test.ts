import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';

// The schemas are the source of truth: the TypeScript types, the validators and docs/configuration.md are
// generated from them, and a stale copy fails here.
for (const script of ['gen-types.mjs', 'gen-validators.mjs', 'gen-docs.mjs']) {
  test(`${script} output is up to date with schemas/`, () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', script), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stderr}\nrun: npm run gen`);
  });
}
