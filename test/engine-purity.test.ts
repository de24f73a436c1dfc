import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';
import { plan } from '../src/engine/index.js';
import { config, hotCluster, NO_HISTORY, NOW } from './helpers/engine.js';

const ENGINE = join(ROOT, 'src', 'engine');

test('purity: src/engine imports no I/O, no other layer, and reads no clock or randomness', () => {
  for (const f of readdirSync(ENGINE).filter((x) => x.endsWith('.ts'))) {
    const src = readFileSync(join(ENGINE, f), 'utf8');
    const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const i of imports) {
      assert.ok(i === 'luxon' || i.startsWith('./') || i.startsWith('../generated/'), `${f} imports ${i}`);
    }
    assert.doesNotMatch(src, /Date\.now\(|new Date\(\)|Math\.random|performance\.now|process\./, f);
    assert.doesNotMatch(src, /DateTime\.(now|local)\(/, f);
  }
});

test('purity: a plan is plain JSON data', () => {
  const p = plan(hotCluster(), config(), NO_HISTORY, NOW);
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});

test('purity: src/engine/optimal reads no clock and does no I/O; HiGHS is loaded and run outside the engine (src/solver)', () => {
  const dir = join(ENGINE, 'optimal');
  const files = readdirSync(dir).filter((x) => x.endsWith('.ts'));
  assert.ok(files.includes('model.ts'), files.join(' '));
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/from '([^']+)'/g)) assert.ok(m[1]!.startsWith('./') || m[1]!.startsWith('../'), `${f} imports ${m[1]}`);
    assert.doesNotMatch(src, /Date\.now\(|new Date\(\)|Math\.random|performance\.now|process\.|import\(|worker_threads/, f);
  }
  // A greedy plan does not load the WebAssembly: the engine imports the solver shell nowhere.
  for (const f of readdirSync(ENGINE, { recursive: true }) as string[]) {
    if (f.endsWith('.ts')) assert.doesNotMatch(readFileSync(join(ENGINE, f), 'utf8'), /from '[^']*solver\//, f);
  }
});
