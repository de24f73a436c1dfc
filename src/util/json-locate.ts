// Finds where a JSON text stops being valid, as line and column (1-based), because JSON.parse's
// messages differ between Node versions and often give no position.

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
  const s = new Scanner(text, opts.duplicates ?? false);
  try {
    if (text.charCodeAt(0) === 0xfeff) s.i = 1;
    s.value();
    s.ws();
    if (s.i < text.length) s.fail(`unexpected ${s.describe()} after the end of the JSON value`);
    return null;
  } catch (e) {
    const at = (e as { at: number }).at;
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return { line, column, message: (e as Error).message };
  }
}

/** A strict JSON reader that only checks: it throws the first problem with its offset (`at`). */
class Scanner {
  i = 0;
  constructor(private readonly text: string, private readonly duplicates: boolean) {}

  fail(message: string): never {
    throw Object.assign(new Error(message), { at: this.i });
  }

  ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  describe(): string {
    return this.i >= this.text.length ? 'end of file' : `'${this.text[this.i]}'`;
  }

  value(): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.str();
    if (c === 't') return this.literal('true');
    if (c === 'f') return this.literal('false');
    if (c === 'n') return this.literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.num();
    this.fail(`unexpected ${this.describe()}`);
  }

  private object(): void {
    const { text } = this;
    this.i++; this.ws();
    if (text[this.i] === '}') { this.i++; return; }
    const keys = new Set<string>();
    for (;;) {
      this.ws();
      if (text[this.i] !== '"') this.fail(text[this.i] === '}' ? "trailing comma before '}'" : `expected a quoted key, found ${this.describe()}`);
      const keyAt = this.i;
      this.str();
      if (this.duplicates) {
        const key = JSON.parse(text.slice(keyAt, this.i)) as string;
        if (keys.has(key)) { this.i = keyAt; this.fail(`duplicate key ${JSON.stringify(key)} (JSON keeps only the last one)`); }
        keys.add(key);
      }
      this.ws();
      if (text[this.i] !== ':') this.fail(`expected ':' after key, found ${this.describe()}`);
      this.i++;
      this.value(); this.ws();
      if (text[this.i] === ',') { this.i++; continue; }
      if (text[this.i] === '}') { this.i++; return; }
      this.fail(`expected ',' or '}', found ${this.describe()}`);
    }
  }

  private array(): void {
    const { text } = this;
    this.i++; this.ws();
    if (text[this.i] === ']') { this.i++; return; }
    for (;;) {
      this.ws();
      if (text[this.i] === ']') this.fail("trailing comma before ']'");
      this.value(); this.ws();
      if (text[this.i] === ',') { this.i++; continue; }
      if (text[this.i] === ']') { this.i++; return; }
      this.fail(`expected ',' or ']', found ${this.describe()}`);
    }
  }

  private literal(word: string): void {
    if (this.text.startsWith(word, this.i)) this.i += word.length;
    else this.fail(`unexpected ${this.describe()}`);
  }

  private str(): void {
    const { text } = this;
    this.i++; // opening quote
    while (this.i < text.length) {
      const c = text[this.i]!;
      if (c === '"') { this.i++; return; }
      if (c === '\\') {
        const e = text[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) { this.i++; this.fail('bad \\u escape in string'); }
          this.i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.i += 2;
        else { this.i++; this.fail('bad escape in string'); }
        continue;
      }
      if (c < ' ') this.fail('control character (e.g. a line break) inside a string');
      this.i++;
    }
    this.fail('string not closed');
  }

  private num(): void {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i));
    if (!m || m[0] === '-' || m[0] === '') this.fail(`unexpected ${this.describe()}`);
    this.i += m![0].length;
  }
}
