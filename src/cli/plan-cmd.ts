import { Command } from 'commander';
import { comparePlanners, plan as makePlan } from '../engine/index.js';
import { engineHistoryView } from '../history/views.js';
import { recordsAsOf } from '../history/queries.js';
import { readSnapshotFile } from '../pve/snapshot-file.js';
import { UsageError } from '../util/errors.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand } from './read-history.js';
import { formatPlan, paint } from './style.js';
import { ISO_WITH_ZONE } from './clock.js';
import { formatComparison } from './planner-compare.js';
import { loadHighs, solverFor } from '../solver/highs.js';

/**
 * `proxbalance plan --snapshot FILE`: the decision engine on a saved snapshot, offline. Nothing
 * is sent to any cluster and nothing is written: for bug reports ("why did it move this?") and
 * for trying a config change on yesterday's cluster.
 */
export function planCommand(): Command {
  return withCommon(new Command('plan'))
    .description('replay: plan from a snapshot file (proxbalance snapshot --output FILE) with this config and history; sends and writes nothing')
    .requiredOption('-s, --snapshot <file>', 'snapshot file written by `proxbalance snapshot`')
    .option('--now <time>', "the moment to plan for (ISO 8601; default: the snapshot's taken_at)")
    .option('--json', 'print the plan as JSON')
    .option('--compare', 'run the greedy and the exact (optimal) planner on the snapshot and show them side by side')
    .action(async (opts: CommonOptions & { snapshot: string; now?: string; json?: boolean; compare?: boolean }) => {
      const ctx = await readForCommand(opts);
      const snapshot = readSnapshotFile(opts.snapshot);
      const at = opts.now ?? snapshot.taken_at;
      const nowMs = Date.parse(at);
      if (!ISO_WITH_ZONE.test(at) || Number.isNaN(nowMs)) throw new UsageError(`--now ${at}: not an ISO 8601 time with its zone, such as 2026-11-25T12:00:00Z`);
      const past = recordsAsOf(ctx.records, nowMs);
      const view = engineHistoryView(past, nowMs);
      const c = paint();
      if (opts.compare) {
        const both = comparePlanners(snapshot, ctx.loaded.config, view, nowMs, await loadHighs());
        if (opts.json) return out(JSON.stringify(both, null, 2));
        return out([c.bold(`greedy and optimal planner on ${snapshot.nodes.length} node(s), ${snapshot.guests.length} guest(s) from ${opts.snapshot}, as of ${new Date(nowMs).toISOString()} (replay: nothing is executed or recorded)`), ...formatComparison(both)].join('\n'));
      }
      const p = makePlan(snapshot, ctx.loaded.config, view, nowMs, await solverFor(ctx.loaded.config));
      if (opts.json) return out(JSON.stringify(p, null, 2));
      out([
        c.bold(`plan for ${snapshot.nodes.length} node(s), ${snapshot.guests.length} guest(s) from ${opts.snapshot}, as of ${new Date(nowMs).toISOString()} (replay: nothing is executed or recorded)`),
        ...formatPlan(p, snapshot, () => ''),
      ].join('\n'));
    });
}
