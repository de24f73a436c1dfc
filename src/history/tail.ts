import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { opensMigration, parseLine, resolveDecisions, type DecisionsOf, type HistoryRecord, type ReadResult, type RunRecord } from './store.js';

/**
 * Reading only the end of the history (docs/running.md, "Reading the history"). The file is read
 * backwards in chunks, newest line first, and the read stops at the first record that is
 * - the CONFIRM_OLD-th in a row older than the asked time by more than CLOCK_SLACK_MS, and
 * - behind the newest checkpoint (a run record with `carried`), when one is asked for, and
 * - behind the first record (see opensMigration) of every migration the records read so far name,
 *   and behind the run every decisions_same_as read so far names.
 * The checkpoint's carried records (the halt in force, the migrations without outcome, ...) that
 * lie before the read part are put back in front of it: every view of src/history/views.ts is then
 * the same as over the whole file (test/history-tail.test.ts checks it on random histories).
 * Without a checkpoint (a file an older version wrote), the whole file is read.
 */

const CHUNK = 1 << 20;

/**
 * Records are appended in time order, dated by the clock of the machine. A clock that runs behind
 * for a while (a clock set wrong at boot, then corrected by NTP) leaves a stretch of records dated
 * too early in the middle of the file. The read stops only after CONFIRM_OLD records in a row
 * older than the asked time by more than CLOCK_SLACK_MS: a stretch shorter than that, or a clock
 * less than that far behind, loses nothing. (A clock stepped back, records dated too late, needs
 * nothing: the read goes on past them.)
 */
export const CLOCK_SLACK_MS = 3600_000;
export const CONFIRM_OLD = 64;

export interface TailOptions {
  /** Every record dated at or after this (epoch ms) is read. */
  sinceMs: number;
  /** Read back to the newest checkpoint too, and restore what it carries. */
  checkpoint: boolean;
}

export interface TailResult extends ReadResult {
  /** The whole file was read (no checkpoint, or the asked time is older than the file). */
  whole: boolean;
}

interface Line {
  /** Byte offset of the line's first byte. */
  offset: number;
  text: string;
}

function readFully(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length; ) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('the history shrank while it was read');
    done += n;
  }
}

/** The file's lines from the last to the first (a last line without newline included; an empty one not). */
function* linesBackwards(fd: number, size: number): Generator<Line> {
  let pos = size;
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const chunk = Buffer.allocUnsafe(pos - start);
    readFully(fd, chunk, start);
    const data = carry.length ? Buffer.concat([chunk, carry]) : chunk;
    let end = data.length;
    // Newlines are single bytes that never occur inside a UTF-8 character: splitting bytes is safe.
    for (let nl = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1; nl >= 0; nl = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1) {
      if (!(first && nl + 1 === end)) yield { offset: start + nl + 1, text: data.toString('utf8', nl + 1, end) };
      first = false;
      end = nl;
    }
    carry = Buffer.from(data.subarray(0, end));
    pos = start;
  }
  if (carry.length || !first) yield { offset: 0, text: carry.toString('utf8') };
}

/** 1-based line numbers of byte offsets: newlines counted from the start (only when a line is damaged). */
function lineNumbers(fd: number, offsets: readonly number[]): Map<number, number> {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const out = new Map<number, number>();
  let newlines = 0;
  let i = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; i < sorted.length; pos += CHUNK) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    for (; i < sorted.length && sorted[i]! <= pos + n; i++) {
      const upto = sorted[i]! - pos;
      let k = 0;
      for (let nl = buf.indexOf(0x0a); nl >= 0 && nl < upto; nl = buf.indexOf(0x0a, nl + 1)) k++;
      out.set(sorted[i]!, newlines + k + 1);
    }
    if (i >= sorted.length || n === 0) break;
    for (let nl = buf.indexOf(0x0a); nl >= 0 && nl < n; nl = buf.indexOf(0x0a, nl + 1)) newlines++;
  }
  return out;
}

const recordTime = (r: HistoryRecord): number => Date.parse(r.type === 'run' ? r.started_at : r.at);

/** The state of a backwards read: what it kept, and what it still waits for before it may stop. */
class TailScan {
  /** Newest first. */
  readonly kept: { rec: HistoryRecord; offset: number }[] = [];
  readonly warnings: { offset: number; text: string }[] = [];
  lines = 0;
  checkpoint: RunRecord | null = null;
  private firstLine = true;
  /** Carried records by their text, with how many of each the read part holds before the checkpoint. */
  private carriedText = new Map<string, number>();
  private readonly seenFirst = new Set<string>();
  private readonly waitingFirst = new Set<string>();
  private readonly waitingRuns = new Set<string>();
  /** Records in a row, up to this one, older than the asked time by more than the slack. */
  private oldInARow = 0;

  constructor(private readonly opts: TailOptions) {}

  /** Takes the next older line; true when nothing older is needed. */
  take(line: Line): boolean {
    this.lines++;
    const last = this.firstLine;
    this.firstLine = false;
    const parsed = parseLine(line.text);
    if (parsed.kind === 'blank') return false;
    if (parsed.kind !== 'record') {
      const why = parsed.kind === 'bad' ? parsed.problem : last ? 'incomplete last line (torn write?)' : 'not valid JSON';
      this.warnings.push({ offset: line.offset, text: `skipped, ${why}` });
      return false;
    }
    const rec = parsed.record;
    if (this.carriedText.size) this.matchCarried(line.text);
    this.kept.push({ rec, offset: line.offset });
    if (rec.type === 'run') this.takeRun(rec);
    else if (rec.type === 'migration') {
      if (opensMigration(rec)) {
        this.seenFirst.add(rec.migration_id);
        this.waitingFirst.delete(rec.migration_id);
      } else if (!this.seenFirst.has(rec.migration_id)) this.waitingFirst.add(rec.migration_id);
    }
    const o = this.opts;
    this.oldInARow = recordTime(rec) < o.sinceMs - CLOCK_SLACK_MS ? this.oldInARow + 1 : 0;
    return this.oldInARow >= CONFIRM_OLD && (!o.checkpoint || this.checkpoint !== null) && this.waitingFirst.size === 0 && this.waitingRuns.size === 0;
  }

  private takeRun(rec: RunRecord): void {
    this.waitingRuns.delete(rec.run_id);
    if (rec.decisions_same_as && rec.decisions.length === 0) this.waitingRuns.add(rec.decisions_same_as);
    if (!this.opts.checkpoint || this.checkpoint || !rec.carried) return;
    this.checkpoint = rec;
    for (const c of rec.carried) {
      const text = JSON.stringify(c);
      this.carriedText.set(text, 0);
      // The checkpoint holds the whole of each migration it carries: its first record is there.
      if (c.type === 'migration' && opensMigration(c)) {
        this.seenFirst.add(c.migration_id);
        this.waitingFirst.delete(c.migration_id);
      }
    }
  }

  /** A line before the checkpoint that is one of its carried records: the copy is not put back. */
  private matchCarried(text: string): void {
    const plain = text.endsWith('\r') ? text.slice(0, -1) : text;
    const n = this.carriedText.get(plain);
    if (n !== undefined) this.carriedText.set(plain, n + 1);
  }

  /** The records in file order: the carried ones the read part does not hold, then the read part. */
  records(): HistoryRecord[] {
    const restored: HistoryRecord[] = [];
    for (const c of this.checkpoint?.carried ?? []) {
      const text = JSON.stringify(c);
      const inRead = this.carriedText.get(text) ?? 0;
      if (inRead > 0) this.carriedText.set(text, inRead - 1);
      else restored.push(c);
    }
    return [...restored, ...this.kept.map((k) => k.rec).reverse()];
  }
}

/**
 * Reads the end of the history that `opts` asks for (see the top of this file). Damaged lines in
 * the part read are skipped with a warning naming their line (counted from the start only when
 * there is one); the file is never modified. A missing file is an empty history.
 */
export function readHistoryTail(path: string, opts: TailOptions): TailResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], warnings: [], lines: 0, whole: true };
    throw e;
  }
  try {
    const scan = new TailScan(opts);
    let whole = true;
    for (const line of linesBackwards(fd, fstatSync(fd).size)) {
      if (scan.take(line)) {
        whole = line.offset === 0;
        break;
      }
    }
    const records = scan.records();
    const runOffsets = new Map(scan.kept.filter((k) => k.rec.type === 'run').map((k) => [k.rec, k.offset] as const));
    const byRun = new Map<string, DecisionsOf>();
    for (const r of records) {
      if (r.type !== 'run') continue;
      const unknown = resolveDecisions(r, byRun);
      if (unknown) scan.warnings.push({ offset: runOffsets.get(r) ?? 0, text: unknown });
    }
    const numbers = scan.warnings.length ? lineNumbers(fd, scan.warnings.map((w) => w.offset)) : new Map<number, number>();
    const warnings = [...scan.warnings].sort((a, b) => a.offset - b.offset).map((w) => `${path} line ${numbers.get(w.offset)}: ${w.text}`);
    return { records, warnings, lines: scan.lines, whole };
  } finally {
    closeSync(fd);
  }
}
