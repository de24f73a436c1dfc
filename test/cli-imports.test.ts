// Commands only present (issue 12): a command file parses its arguments, calls the core and
// presents; it never takes logic from another command. What several commands share lives in the
// presentation module (style.ts), the argument and option helpers, or the core (history/,
// executor/, pve/). main.ts registers the commands and is the one file that imports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';

const CLI = join(ROOT, 'src', 'cli');

test('no command file imports another command file (only main.ts registers them)', () => {
  const files = readdirSync(CLI).filter((f) => f.endsWith('.ts') && f !== 'main.ts');
  const commands = new Set(files.filter((f) => f.endsWith('-cmd.ts')).map((f) => `./${f.replace(/\.ts$/, '.js')}`));
  assert.ok(commands.size >= 10, 'the command files are found');
  const found: string[] = [];
  for (const f of files) {
    const src = readFileSync(join(CLI, f), 'utf8');
    for (const m of src.matchAll(/(?:from|import\()\s*'(\.\/[^']+)'/g)) if (commands.has(m[1]!)) found.push(`${f} imports ${m[1]}`);
  }
  assert.deepEqual(found, []);
});

test('the core never imports a command: outside src/cli only the shared presentation (style.ts) is used', () => {
  const found: string[] = [];
  for (const f of readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]) {
    if (!f.endsWith('.ts') || f.startsWith(`cli/`) || f.startsWith('cli\\')) continue;
    const src = readFileSync(join(ROOT, 'src', f), 'utf8');
    for (const m of src.matchAll(/(?:from|import\()\s*'((?:\.\.\/)+cli\/[^']+)'/g)) if (!m[1]!.endsWith('/cli/style.js')) found.push(`src/${f} imports ${m[1]}`);
  }
  assert.deepEqual(found, []);
});
