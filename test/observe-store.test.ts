import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/cli.js';
import { mig } from './helpers/history-fixture.js';
import { readHistory } from '../src/history/store.js';

test('readHistory splits lines across read chunks: multi-byte names stay whole, CRLF is accepted, line numbers hold', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'h.jsonl');
    const name = 'café-😀-ü'.repeat(40); // multi-byte characters land on chunk boundaries somewhere in 3 MiB
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(JSON.stringify(mig({ migration_id: `m${i}`, name, reason: 'x'.repeat(i % 97) })));
    lines[10] = `${lines[10]}\r`; // a CRLF line
    lines[4000] = 'garbage';
    writeFileSync(p, `${lines.join('\n')}\n`);
    const { records, warnings, lines: n } = await readHistory(p);
    assert.equal(n, 6000);
    assert.equal(records.length, 5999);
    assert.ok(records.every((r) => r.type === 'migration' && r.name === name));
    assert.deepEqual(warnings, [`${p} line 4001: skipped, not valid JSON`]);
  } finally {
    cleanup();
  }
});
