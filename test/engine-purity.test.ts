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
