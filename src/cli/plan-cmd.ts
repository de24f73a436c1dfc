import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Ajv } from 'ajv';
import { plan as makePlan } from '../engine/index.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { engineHistoryView } from '../history/views.js';
import { loadSchema } from '../util/resources.js';
import { UsageError } from '../util/errors.js';
import { locateJsonError } from '../util/json-locate.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand } from './read-history.js';
import { formatPlan } from './run-cmd.js';
import { paint } from './style.js';
import { ISO_WITH_ZONE } from './clock.js';
import { comparePlans, formatComparison } from './planner-compare.js';
import { solverFor } from '../engine/optimal/solver.js';

/** Reads and checks a snapshot file written by `proxbalance snapshot`. */
export function readSnapshotFile(path: string): ClusterSnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read the snapshot (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const at = locateJsonError(text);
    throw new UsageError(`${path}: not valid JSON${at ? ` at line ${at.line}, column ${at.column}: ${at.message}` : ''}`);
  }
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(loadSchema('snapshot'));
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)'} ${e.message}`);
    throw new UsageError(`${path}: not a proxbalance snapshot (schemas/snapshot.schema.json): ${problems.join('; ')}`);
  }
  return value as ClusterSnapshot;
}

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
      // What happened after that moment is not known then: no later cooldown, halt or move.
      const past = ctx.records.filter((r) => Date.parse(r.type === 'run' ? r.started_at : r.at) <= nowMs);
      const view = engineHistoryView(past, nowMs);
      const c = paint();
      if (opts.compare) {
        const both = await comparePlans(snapshot, ctx.loaded.config, view, nowMs);
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
