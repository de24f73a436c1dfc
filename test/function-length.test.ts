// House rule: no function in src/ is longer than 80 lines (src/generated is generated code and exempt).
// Counted with the TypeScript parser, from the line a function starts to the line it ends, both included,
// for every kind of function (declarations, methods, constructors, accessors, arrows, function expressions);
// an outer function's count includes the functions nested in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './helpers/cli.js';

const MAX_FUNCTION_LINES = 80;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p !== join(ROOT, 'src', 'generated')) out.push(...tsFiles(p));
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.FunctionLikeDeclaration;
  if (named.name) return named.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText(sf);
  }
  return '(anonymous)';
}

/** Every function in one source text longer than `max` lines, as "file:line name (n lines)". */
function longFunctions(file: string, text: string, max = MAX_FUNCTION_LINES): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) found.push(`${file}:${start + 1} ${functionName(node, sf)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

test(`house rule: no function in src/ (outside src/generated) is over ${MAX_FUNCTION_LINES} lines`, () => {
  const over = tsFiles(join(ROOT, 'src')).flatMap((f) => longFunctions(relative(ROOT, f), readFileSync(f, 'utf8')));
  assert.deepEqual(over, [], `functions over ${MAX_FUNCTION_LINES} lines:\n${over.join('\n')}`);
});

test('the length check counts what it should: a long arrow, a long method and a nested function are found', () => {
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const text = [
    `export function ok() {\n${body(78)}\n}`, // 80 lines: allowed
    `export function outer() {\n${body(79)}\n}`, // 81 lines
    `const arrow = () => {\n${body(80)}\n};`,
    `class K {\n  m() {\n${body(81)}\n  }\n}`,
  ].join('\n');
  assert.deepEqual(
    longFunctions('x.ts', text).map((s) => s.replace(/^x\.ts:\d+ /, '')),
    ['outer (81 lines)', 'arrow (82 lines)', 'm (83 lines)'],
  );
});
