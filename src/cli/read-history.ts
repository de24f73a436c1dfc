import { readHistory, type HistoryRecord } from '../history/store.js';
import { readHistoryTail } from '../history/tail.js';
import type { LoadedConfig } from '../config/load.js';
import { log } from '../log/logger.js';
import { loadFromOptions, type CommonOptions } from './common.js';
import { cliNow } from './clock.js';

export interface ReadContext {
  loaded: LoadedConfig;
  records: HistoryRecord[];
  now: Date;
  /** Zone of the times shown to people: automated_migrations.schedule.timezone. */
  zone: string;
}

/**
 * How much of the history a command needs (docs/running.md, "Reading the history"). Without a
 * scope, the whole file. `tail`: the end of the file, back to `sinceMs` (epoch ms, from the clock
 * and the display zone), and with `checkpoint` the older records still in force (halt, migrations
 * without outcome). `only`: keep just these record types of a whole read.
 */
export interface ReadScope {
  tail?: (now: Date, zone: string) => { sinceMs: number; checkpoint: boolean } | null;
  only?: ReadonlySet<HistoryRecord['type']>;
}

/**
 * What every read command starts with: the config, the history it names (each damaged line
 * warned about on stderr, the rest still used), the clock, the display zone.
 */
export async function readForCommand(opts: CommonOptions, scope: ReadScope = {}): Promise<ReadContext> {
  const loaded = loadFromOptions(opts);
  const now = cliNow();
  const zone = loaded.config.automated_migrations.schedule.timezone;
  const path = loaded.config.history_file;
  const t0 = performance.now();
  const tail = scope.tail?.(now, zone) ?? null;
  const { records, warnings, lines } = tail ? readHistoryTail(path, tail) : await readHistory(path, scope.only ? { only: scope.only } : {});
  for (const w of warnings) log.warn(w);
  log.debug(`read ${records.length} records (${lines} lines${tail ? ' from the end' : ''}) from ${path} in ${Math.round(performance.now() - t0)} ms`);
  return { loaded, records, now, zone };
}

const DAY_MS = 24 * 3600_000;

/**
 * `status`: the last tick, the next check (check_interval_minutes is at most a day), and what
 * the last run record carries (the halt, the migrations without outcome).
 */
export const STATUS_SCOPE: ReadScope = { tail: (now) => ({ sinceMs: now.getTime() - DAY_MS, checkpoint: true }) };

/** `stats`: the last 7 days, and the 7 calendar days of the chart (a DST day longer by an hour). */
export const STATS_SCOPE: ReadScope = { tail: (now) => ({ sinceMs: now.getTime() - 8 * DAY_MS, checkpoint: false }) };

/** Whole reads of the migrations alone (history, history --csv): no run record is held. */
export const MIGRATIONS_ONLY: ReadScope = { only: new Set(['migration']) };
