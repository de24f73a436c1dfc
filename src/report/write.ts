import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadedConfig } from '../config/load.js';
import type { HistoryRecord } from '../history/store.js';
import { readHistoryTail } from '../history/tail.js';
import { log, redact } from '../log/logger.js';
import { writeAtomic } from '../metrics/file.js';
import { buildReportData } from './data.js';
import { renderReport, type Assets } from './page.js';

/** The span the report covers unless told otherwise (`--since`), and what report_file always covers. */
export const DEFAULT_SINCE_MS = 7 * 86_400_000;

let assets: Assets | null = null;

/** uPlot's script and stylesheet, read from the installed package (a runtime dependency), once. */
export function chartAssets(): Assets {
  if (!assets) {
    const require = createRequire(import.meta.url);
    assets = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return assets;
}

export interface ReportOptions {
  records: readonly HistoryRecord[];
  loaded: LoadedConfig;
  now: Date;
  sinceMs: number;
}

/** The whole page for this history, config and moment; the token secret never in it, whatever carried it. */
export function reportHtml({ records, loaded, now, sinceMs }: ReportOptions): string {
  const config = loaded.config;
  const data = buildReportData({
    records, config, now, sinceMs, zone: config.automated_migrations.schedule.timezone,
    paths: { config: loaded.path, history: config.history_file },
  });
  return redact(renderReport(data, chartAssets()));
}

/** What report_file covers: the 7 days and their calendar days (the oldest day starts before now - 7 d). */
export const REPORT_LOOKBACK_MS = 8 * 86_400_000;

/**
 * After a tick's outcome record (or a resume): rewrite report_file when set, from the end of the
 * history back REPORT_LOOKBACK_MS and what the last run record carries (the halt, migrations
 * without outcome). Written atomically: a temporary file in the same folder, then rename. Never
 * throws: a report is not worth a failed tick.
 */
export function updateReportFile(loaded: LoadedConfig, now: Date): void {
  const path = loaded.config.report_file;
  if (!path) return;
  try {
    const { records } = readHistoryTail(loaded.config.history_file, { sinceMs: now.getTime() - REPORT_LOOKBACK_MS, checkpoint: true });
    writeAtomic(path, reportHtml({ records, loaded, now, sinceMs: now.getTime() - DEFAULT_SINCE_MS }));
    log.debug(`report_file ${path} written`);
  } catch (e) {
    log.warn(`report_file ${path}: could not write (${(e as Error).message})`);
  }
}
