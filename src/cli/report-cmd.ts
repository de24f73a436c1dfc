import { Command } from 'commander';
import { log } from '../log/logger.js';
import { writeAtomic } from '../metrics/file.js';
import { REPORT_LOOKBACK_MS, reportHtml } from '../report/write.js';
import { parseSince } from './args.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand } from './read-history.js';

const DAY_MS = 86_400_000;

/** `proxbalance report [--output FILE] [--since 7d]`: the dashboard as one self-contained HTML page. */
export function reportCommand(): Command {
  return withCommon(new Command('report'))
    .description('write the dashboard (status, statistics, charts, recent migrations, activity) as one self-contained HTML page')
    .option('-o, --output <file>', 'write to FILE (atomically) instead of stdout')
    .option('--since <when>', 'what the charts and tables cover: a span back (7d, 24h, 2w) or a date (2026-11-01)', '7d')
    .action(async (opts: CommonOptions & { output?: string; since: string }) => {
      // The end of the history back to --since (and the 7 days of the statistics, and the start of
      // the oldest calendar day), with what the last run record carries: the halt, unfinished migrations.
      let sinceMs = 0;
      const ctx = await readForCommand(opts, {
        tail: (now, zone) => {
          sinceMs = parseSince(opts.since, now, zone);
          return { sinceMs: Math.min(sinceMs - DAY_MS, now.getTime() - REPORT_LOOKBACK_MS), checkpoint: true };
        },
      });
      const t0 = performance.now();
      const html = reportHtml({ records: ctx.records, loaded: ctx.loaded, now: ctx.now, sinceMs });
      if (!opts.output) return out(html);
      writeAtomic(opts.output, html);
      log.info(`report written to ${opts.output} (${Math.round(html.length / 1024)} KiB, ${Math.round(performance.now() - t0)} ms)`);
    });
}
