/**
 * Finds where a JSON text stops being valid, as line and column (1-based), because JSON.parse's
 * messages differ between Node versions and often give no position.
 */
export interface JsonProblem {
  line: number;
  column: number;
  message: string;
}

/**
 * Where a JSON text stops being valid, or with `duplicates`, also where an object repeats a key
 * (JSON.parse keeps the last silently: a second "dry_run" would win without a word).
 */
export function locateJsonError(text: string, opts: { duplicates?: boolean } = {}): JsonProblem | null {
  let i = 0;
  const fail = (message: string): never => {
    throw Object.assign(new Error(message), { at: i });
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const describe = () => (i >= text.length ? 'end of file' : `'${text[i]}'`);
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe()}`);
  };
  const str = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i++; fail('bad \\u escape in string'); }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else { i++; fail('bad escape in string'); }
        continue;
      }
      if (c < ' ') fail('control character (e.g. a line break) inside a string');
      i++;
    }
    fail('string not closed');
  };
  const num = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === '-' || m[0] === '') fail(`unexpected ${describe()}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      const keys = new Set<string>();
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? "trailing comma before '}'" : `expected a quoted key, found ${describe()}`);
        const keyAt = i;
        str();
        if (opts.duplicates) {
          const key = JSON.parse(text.slice(keyAt, i)) as string;
          if (keys.has(key)) { i = keyAt; fail(`duplicate key ${JSON.stringify(key)} (JSON keeps only the last one)`); }
          keys.add(key);
        }
        ws();
        if (text[i] !== ':') fail(`expected ':' after key, found ${describe()}`);
        i++;
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`expected ',' or '}', found ${describe()}`);
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        ws();
        if (text[i] === ']') fail("trailing comma before ']'");
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`expected ',' or ']', found ${describe()}`);
      }
    }
    if (c === '"') return str();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    fail(`unexpected ${describe()}`);
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return null;
  } catch (e) {
    const at = (e as { at: number }).at;
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return { line, column, message: (e as Error).message };
  }
}
