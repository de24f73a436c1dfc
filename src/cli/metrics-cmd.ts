import { Command } from 'commander';
import { renderMetrics } from '../metrics/render.js';
import { readTickFigures } from '../metrics/file.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand } from './read-history.js';

export function metricsCommand(): Command {
  return withCommon(new Command('metrics'))
    .description('print the Prometheus metrics (the text metrics_file holds): from the history and config, plus the cluster figures the last tick wrote to metrics_file')
    .action(async (opts: CommonOptions) => {
      const ctx = await readForCommand(opts);
      const file = ctx.loaded.config.metrics_file;
      out(await renderMetrics(ctx.loaded.config, ctx.records, file ? readTickFigures(file) : null));
    });
}
