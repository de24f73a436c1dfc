import { readHistory, type HistoryRecord } from '../history/store.js';
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
 * What every read command starts with: the config, the history it names (each damaged line
 * warned about on stderr, the rest still used), the clock, the display zone.
 */
export async function readForCommand(opts: CommonOptions): Promise<ReadContext> {
  const loaded = loadFromOptions(opts);
  const now = cliNow();
  const path = loaded.config.history_file;
  const t0 = performance.now();
  const { records, warnings, lines } = await readHistory(path);
  for (const w of warnings) log.warn(w);
  log.debug(`read ${records.length} records (${lines} lines) from ${path} in ${Math.round(performance.now() - t0)} ms`);
  return { loaded, records, now, zone: loaded.config.automated_migrations.schedule.timezone };
}
