import { Command } from 'commander';
import type { DecisionRecord, RunRecord } from '../history/store.js';
import { tickActivity } from '../history/views.js';
import { guestLabel } from '../util/guest.js';
import { positiveInt, vmidArg } from './args.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand } from './read-history.js';
import { cell, formatTime, paint, statusText, table } from './style.js';

const DEFAULT_LAST = 10;

function decisionRow(d: DecisionRecord): string[] {
  const c = paint();
  const guest = cell(guestLabel(d.vmid, d.guest_type, d.name));
  if (d.action === 'move') {
    const what = [`${cell(d.source ?? '?')} → ${cell(d.target ?? '?')}`];
    if (d.confidence !== undefined) what.push(`confidence ${Math.round(d.confidence)}`);
    if (d.kind) what.push(cell(d.kind));
    return [guest, c.green('move'), `${what.join(', ')}: ${cell(d.reason)}${d.outcome ? ` (${cell(d.outcome)})` : ''}`];
  }
  return [guest, c.yellow('skip'), cell(d.reason)];
}

export function renderTick(r: RunRecord, zone: string): string {
  const c = paint();
  const moves = r.decisions.filter((d) => d.action === 'move').length;
  const skips = r.decisions.length - moves;
  const head =
    `${c.bold(formatTime(r.started_at, zone))}  ${r.trigger}, ${r.mode}: ${statusText(r.outcome)}` +
    (r.reason ? ` (${cell(r.reason)})` : '') +
    `, ${moves} move${moves === 1 ? '' : 's'}, ${skips} skip${skips === 1 ? '' : 's'}`;
  const lines = [head];
  for (const g of r.gates) lines.push(`  ${g.passed ? c.green('✓') : c.red('✗')} ${cell(g.name)}: ${cell(g.message)}`);
  if (r.decisions.length) lines.push(table(r.decisions.map(decisionRow)).replace(/^/gm, '    '));
  return lines.join('\n');
}

export function activityCommand(): Command {
  return withCommon(new Command('activity'))
    .description("what recent ticks decided: each tick's gates and every guest's move or skip reason, newest first")
    .option('-n, --last <N>', `the newest N ticks (default ${DEFAULT_LAST})`)
    .option('--vmid <id>', "only this guest's decisions (and ticks stopped by a gate before deciding per guest)")
    .option('--json', 'print JSON (the run records, decisions filtered by --vmid)')
    .action(async (opts: CommonOptions & { last?: string; vmid?: string; json?: boolean }) => {
      const last = opts.last !== undefined ? positiveInt('--last', opts.last) : DEFAULT_LAST;
      const vmid = opts.vmid !== undefined ? vmidArg(opts.vmid) : undefined;
      const ctx = await readForCommand(opts);
      const ticks = tickActivity(ctx.records, { untilMs: ctx.now.getTime(), ...(vmid !== undefined && { vmid }) }).slice(0, last);
      if (opts.json) return out(JSON.stringify(ticks, null, 2));
      if (!ticks.length) {
        return out(vmid !== undefined ? `No recorded tick decided anything about guest ${vmid}: the engine did not consider it (its node was not a source, or balancing was not needed). \`proxbalance explain ${vmid}\` tells why, with every rule and every node as a target.` : `No ticks recorded yet in ${ctx.loaded.config.history_file}.`);
      }
      out(ticks.map((t) => renderTick(t, ctx.zone)).join('\n\n'));
      if (vmid !== undefined && !ticks.some((t) => t.decisions.length)) {
        out(`\nNone of these ticks decided anything about guest ${vmid}. \`proxbalance explain ${vmid}\` tells why, with every rule and every node as a target.`);
      }
    });
}
