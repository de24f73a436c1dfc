import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

/**
 * Replaces the `## <heading>` section of docs/benchmarks.md (up to the next `## `, its `###`
 * subsections included) with `section`, or appends it; returns the file's path. Each benchmark
 * script rewrites its own section this way.
 */
export function writeBenchSection(heading: string, section: string): string {
  const doc = join(ROOT, 'docs', 'benchmarks.md');
  const before = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\nFigures measured by the benchmark scripts; each script rewrites its own section.\n';
  const start = before.search(new RegExp(`^## ${heading}\\s*$`, 'm'));
  let text: string;
  if (start < 0) text = `${before.trimEnd()}\n\n${section}`;
  else {
    const rest = before.slice(start + 1);
    const next = rest.search(/^## /m);
    text = before.slice(0, start) + section + (next < 0 ? '' : `\n${rest.slice(next)}`);
  }
  writeFileSync(doc, text.endsWith('\n') ? text : `${text}\n`);
  return doc;
}
