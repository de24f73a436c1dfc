import { closeSync, createReadStream, existsSync, fstatSync, fsyncSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import type { ValidateFunction } from 'ajv';
import * as v from '../generated/validate-history.js';
import { redact } from '../log/logger.js';
import type { HistoryRecord, MigrationRecord, RunRecord } from '../generated/history.js';
import { adoptFolderOwner, mkdirAdopting } from '../util/ownership.js';

export type { HistoryRecord, RunRecord, MigrationRecord, HaltedRecord, ResumedRecord, NotificationRecord, GateRecord, DecisionRecord } from '../generated/history.js';

/**
 * The history file: JSON lines, append only. Each record is one write(2) of one whole line to a
 * descriptor opened with O_APPEND, then fsync. Nothing is ever rewritten, truncated or re-ordered.
 */

/** The record validators, compiled at build time from schemas/history.schema.json (scripts/gen-validators.mjs). */
const VALIDATORS: ReadonlyMap<string, ValidateFunction> = new Map(Object.entries({
  run: v.runRecord, migration: v.migrationRecord, halted: v.haltedRecord, resumed: v.resumedRecord, notification: v.notificationRecord,
}) as Array<[string, ValidateFunction]>);

/**
 * The record that opens a migration: its intent (a live move), its dry run, or the start of a guest
 * Proxmox HA moved along with another (no request of ours, so no intent; it carries planned_at).
 * A start without planned_at was written by a version before that, or follows an intent.
 */
export function opensMigration(rec: MigrationRecord): boolean {
  return rec.status === 'intent' || rec.status === 'dry-run' || (rec.status === 'started' && rec.planned_at !== undefined);
}

/** Why a parsed value is not a history record we know, or null when it is one. */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const { type, v } = value as { type?: unknown; v?: unknown };
  if (typeof v === 'number' && v > 1) return `record version ${v} is newer than this proxbalance understands`;
  const validate = typeof type === 'string' ? VALIDATORS.get(type) : undefined;
  if (!validate) return `unknown record type ${JSON.stringify(type)}`;
  if (!validate(value)) {
    const e = validate.errors?.[0];
    return `${e?.instancePath || 'record'} ${e?.message ?? 'is invalid'}`;
  }
  return null;
}

/**
 * Appends one record. Creates the file (mode 0640) and its folder (0750) when missing, owned like
 * the folder they are created in (src/util/ownership.ts). When the file
 * does not end in a newline (a torn write of a crashed process), the new line starts with one,
 * so the torn line stays torn and the new record is whole.
 */
export function appendRecord(path: string, record: HistoryRecord): void {
  const problem = recordProblem(record);
  if (problem) throw new Error(`refusing to write an invalid ${record.type} record to ${path}: ${problem}`);
  // 0750 whatever the umask: the history names guests and nodes.
  mkdirAdopting(dirname(path), 0o750);
  const creating = !existsSync(path);
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
  try {
    if (creating) adoptFolderOwner(fd, path); // a root run by hand does not lock the service out
    let prefix = '';
    const size = fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = openSync(path, 'r');
      try {
        readSync(rfd, last, 0, 1, size - 1);
      } finally {
        closeSync(rfd);
      }
      if (last[0] !== 0x0a) prefix = '\n';
    }
    // The token secret never reaches the disk, whatever carried it (a task log line, an error).
    const line = Buffer.from(`${prefix}${redact(JSON.stringify(record))}\n`, 'utf8');
    const written = writeSync(fd, line);
    if (written !== line.length) throw new Error(`short write to ${path} (${written} of ${line.length} bytes)`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const MAX_DEPTH = 64;

/** How many '{' and '[' a text holds (a cheap bound on its depth, by native search). */
function openers(text: string): number {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0 && n <= MAX_DEPTH; i = text.indexOf('{', i + 1)) n++;
  for (let i = text.indexOf('['); i >= 0 && n <= MAX_DEPTH; i = text.indexOf('[', i + 1)) n++;
  return n;
}

/** The deepest nesting of objects and arrays in a JSON text (brackets inside strings ignored). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** What one line of the history holds. */
export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'not-json' }
  | { kind: 'bad'; problem: string }
  | { kind: 'record'; record: HistoryRecord };

/** One line (without its newline) checked the way every reader checks it. */
export function parseLine(raw: string): ParsedLine {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.trim() === '') return { kind: 'blank' };
  // Our records nest 4 levels deep; thousands (a damaged or hostile line) would overflow the
  // stack of whatever walks the record later (JSON.stringify for --json, the validator).
  if (line.length > 2 * MAX_DEPTH && openers(line) > MAX_DEPTH && nestingDepth(line) > MAX_DEPTH) {
    return { kind: 'bad', problem: `nested deeper than ${MAX_DEPTH} levels` };
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'not-json' };
  }
  const problem = recordProblem(value);
  return problem ? { kind: 'bad', problem } : { kind: 'record', record: value as HistoryRecord };
}

/** Which run physically holds the decisions a run repeats (decisions_same_as), as read. */
const holders = new WeakMap<RunRecord, { run_id: string; started_at: string }>();

/** The run whose line holds `run`'s decisions: itself unless it names another with decisions_same_as. */
export function decisionsHolder(run: RunRecord): { run_id: string; started_at: string } {
  return holders.get(run) ?? { run_id: run.run_id, started_at: run.started_at };
}

/** Remembers that `run` repeats the decisions of `holder` (a writer that just wrote it so). */
export function setDecisionsHolder(run: RunRecord, holder: { run_id: string; started_at: string }): void {
  holders.set(run, holder);
}

/**
 * A run whose decisions repeat an earlier run's names it instead of repeating them (see
 * schemas/history.schema.json): readers see the decisions either way. `byRun` holds the runs read
 * so far; returns the warning when the named run is not among them.
 */
export function resolveDecisions(rec: RunRecord, byRun: Map<string, DecisionsOf>): string | null {
  let problem: string | null = null;
  if (rec.decisions_same_as && rec.decisions.length === 0) {
    const same = byRun.get(rec.decisions_same_as);
    if (same) {
      rec.decisions = same.decisions;
      holders.set(rec, same.holder);
    } else problem = `decisions_same_as ${rec.decisions_same_as} names no earlier run; its decisions are unknown`;
  }
  byRun.set(rec.run_id, { decisions: rec.decisions, holder: decisionsHolder(rec) });
  return problem;
}

/** The decisions of a run read earlier, and the run whose line holds them. */
export interface DecisionsOf {
  decisions: RunRecord['decisions'];
  holder: { run_id: string; started_at: string };
}

export interface ReadResult {
  records: HistoryRecord[];
  /** One per skipped line, naming the file and line number. */
  warnings: string[];
  /** Lines read, valid or not. */
  lines: number;
}

/**
 * Reads the whole history, streaming. A garbage line or a torn last line is skipped with a
 * warning naming its line number; the file is never modified. A missing file is an empty history.
 * `only` keeps the records of those types alone (the others are still checked, not held): a
 * command that needs the migrations does not hold a year of run records.
 */
export async function readHistory(path: string, opts: { only?: ReadonlySet<HistoryRecord['type']> } = {}): Promise<ReadResult> {
  const records: HistoryRecord[] = [];
  const warnings: string[] = [];
  let lineNo = 0;
  let stream;
  try {
    const fd = openSync(path, 'r');
    stream = createReadStream('', { fd, encoding: 'utf8', highWaterMark: 1 << 20 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records, warnings, lines: 0 };
    throw e;
  }
  let pendingTorn: { line: number; reason: string } | null = null;
  const decisionsByRun = new Map<string, DecisionsOf>();
  const take = (raw: string) => {
    lineNo++;
    if (pendingTorn) {
      warnings.push(`${path} line ${pendingTorn.line}: skipped, ${pendingTorn.reason}`);
      pendingTorn = null;
    }
    const parsed = parseLine(raw);
    if (parsed.kind === 'blank') return;
    if (parsed.kind === 'not-json') {
      pendingTorn = { line: lineNo, reason: 'not valid JSON' };
      return;
    }
    if (parsed.kind === 'bad') {
      warnings.push(`${path} line ${lineNo}: skipped, ${parsed.problem}`);
      return;
    }
    const rec = parsed.record;
    if (opts.only && !opts.only.has(rec.type)) return;
    if (rec.type === 'run') {
      const unknown = resolveDecisions(rec, decisionsByRun);
      if (unknown) warnings.push(`${path} line ${lineNo}: ${unknown}`);
    }
    records.push(rec);
  };
  // Split on newlines by hand: node:readline costs about as much as parsing the JSON
  // (benchmark in docs/benchmarks.md). The decoder of the stream keeps UTF-8 characters whole.
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = rest + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      take(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  if (rest !== '') take(rest);
  // An unparseable last line is what a crash in the middle of a write leaves behind.
  const torn = pendingTorn as { line: number } | null; // assigned inside take(): TypeScript cannot see it
  if (torn) warnings.push(`${path} line ${torn.line}: skipped, incomplete last line (torn write?)`);
  return { records, warnings, lines: lineNo };
}
