import { Command } from 'commander';
import { explainGuest, type Explanation } from './explain.js';
import { engineHistoryView } from '../history/views.js';
import { resolveTokenSecret } from '../config/load.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { takeSnapshot } from '../pve/snapshot.js';
import { log, registerSecret } from '../log/logger.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { guestRef } from '../util/guest.js';
import { EXIT_FAILURE } from '../util/errors.js';
import { readSnapshotFile } from '../pve/snapshot-file.js';
import { vmidArg } from './args.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { readForCommand, type ReadContext } from './read-history.js';
import { cell, paint, table } from './style.js';

/**
 * Reads the cluster now, and asks Proxmox's migrate precondition about each guest explained (one
 * request per guest): what ties it to its node (PCI devices, local disks, refused nodes) is not in
 * the cluster-wide answers. The tick asks the same before it moves a guest.
 */
async function liveSnapshot(ctx: ReadContext, vmids: number[]): Promise<ClusterSnapshot> {
  const secret = resolveTokenSecret(ctx.loaded.config, ctx.loaded.path);
  registerSecret(secret);
  const client = new PveClient(clientOptionsFromConfig(ctx.loaded.config, secret, log));
  try {
    const snap = await takeSnapshot(client);
    for (const vmid of vmids) {
      const g = snap.guests.find((x) => x.vmid === vmid);
      if (!g) continue;
      try {
        const pre = await client.migratePrecondition({ vmid, type: g.type, node: g.node });
        if (pre.known) g.local = { disks_bytes: pre.localDisksBytes, resources: g.type === 'qemu' ? pre.localResources : [], not_allowed: pre.notAllowed };
      } catch (e) {
        log.warn(`${guestRef(vmid, g.type)}: migrate precondition check failed (${(e as Error).message}); local resources not known`);
      }
    }
    return snap;
  } finally {
    await client.close();
  }
}

export function renderExplanation(x: Explanation): string {
  const c = paint();
  const v = x.verdict;
  const f = x.footprint;
  const lines = [
    c.bold(`${guestRef(x.vmid, x.type)} ${cell(x.name)} on ${cell(x.node)} (${x.status}), as of ${x.at}`),
    `  Verdict: ${v.outcome === 'move' ? c.green(`move to ${v.target}`) : v.outcome === 'skip' ? c.yellow('skip') : c.gray('not considered')}: ${cell(v.reason)}`,
    `  Footprint: ${f.cpu_cores} CPU cores, ${f.mem_gib} GiB memory in use (${f.configured_mem_gib} GiB configured), ${f.local_disk_gib} GiB local disk, ${f.gib_to_move} GiB to move; ` +
      `${f.cpu_percent_of_node} % CPU and ${f.mem_percent_of_node} % memory of ${cell(x.node)}`,
    `  Cluster: imbalance ${x.cluster.imbalance} (balancing starts above ${x.cluster.trigger} or with a hot node, stops at ${x.cluster.target}); ` +
      `hot: ${x.cluster.hot_nodes.join(', ') || 'none'}; load balancing ${x.cluster.load_balancing_triggered ? 'triggered' : 'not triggered'}${x.cluster.gate ? `; gate ${cell(x.cluster.gate)}` : ''}`,
    '', c.bold('Rules'),
    ...x.rules.map((r) => `  ${r.applies ? c.red('applies') : c.green('no     ')}  ${r.rule}: ${cell(r.detail)}`),
    '', c.bold('Targets: figures after moving it there, against the cluster as it is now (before any other move of this plan); confidence as the load phase scores it'),
  ];
  const rows = x.targets.map((t) => [
    t.chosen ? c.green(`→ ${cell(t.node)}`) : `  ${cell(t.node)}`, `${t.cpu_percent_after} %`, `${t.mem_percent_after} %`, `${t.worst_mem_percent_after} %`,
    t.imbalance_change > 0 ? `+${t.imbalance_change}` : String(t.imbalance_change), t.confidence === null ? '-' : String(t.confidence), cell(t.why),
  ]);
  lines.push(table(rows, ['  node', 'CPU', 'memory', 'worst-case mem', 'imbalance Δ', 'confidence', 'why']).replace(/^/gm, '  '));
  return lines.join('\n');
}

export function explainCommand(): Command {
  return withCommon(new Command('explain'))
    .description('why a guest moves or stays: every rule that applies, its footprint, and every node as a target with the figures after the move')
    .argument('<vmid...>', 'guest ID(s)')
    .option('-s, --snapshot <file>', 'explain against a snapshot file (proxbalance snapshot --output FILE), offline')
    .option('--json', 'print JSON (one object, or an array for several guests)')
    .action(async (ids: string[], opts: CommonOptions & { snapshot?: string; json?: boolean }) => {
      const vmids = ids.map((id) => vmidArg(id));
      const ctx = await readForCommand(opts);
      const snapshot = opts.snapshot ? readSnapshotFile(opts.snapshot) : await liveSnapshot(ctx, vmids);
      const nowMs = opts.snapshot ? Date.parse(snapshot.taken_at) : ctx.now.getTime();
      const past = ctx.records.filter((r) => Date.parse(r.type === 'run' ? r.started_at : r.at) <= nowMs);
      const history = engineHistoryView(past, nowMs);
      const found: Explanation[] = [];
      for (const vmid of vmids) {
        const x = explainGuest(snapshot, ctx.loaded.config, history, nowMs, vmid);
        if (x) found.push(x);
        else {
          log.error(`explain: guest ${vmid} is not in the cluster${opts.snapshot ? ` of ${opts.snapshot}` : ''} (or its node is not listed)`);
          process.exitCode = EXIT_FAILURE;
        }
      }
      if (opts.json) out(JSON.stringify(vmids.length === 1 ? found[0] ?? null : found, null, 2));
      else if (found.length) out(found.map(renderExplanation).join('\n\n'));
    });
}
