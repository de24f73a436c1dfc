import type { PveClient } from '../pve/client.js';
import { parseLogLine, summarizeMigrationLog } from '../pve/tasklog.js';
import { runningMigrationTasks } from './port.js';

/** A migration running in the cluster now (ours or anyone's), with what its log says. */
export interface InProgress {
  vmid: number;
  type: 'qemu' | 'lxc';
  source: string;
  /** From the log's "starting migration of VM 120 to node 'pve3'" line; null before it. */
  target: string | null;
  upid: string;
  task_type: string;
  user: string;
  started_at: string;
  elapsed_s: number;
  transferred_bytes: number | null;
  total_bytes: number | null;
  rate_bytes_s: number | null;
  /** Started by the HA resource agent. */
  ha: boolean;
}

/**
 * Migrations running in the cluster, live: one GET /cluster/tasks, then one log read per running
 * migration. An HA move shows as a hamigrate task and then the real qmigrate/vzmigrate: only the
 * real one is listed once it exists.
 */
export async function inProgress(client: Pick<PveClient, 'clusterTasks' | 'taskLog'>, now: Date): Promise<InProgress[]> {
  const running = runningMigrationTasks(await client.clusterTasks());
  const real = new Set(running.filter((t) => t.type !== 'hamigrate').map((t) => t.id));
  const shown = running.filter((t) => t.type !== 'hamigrate' || !real.has(t.id)).sort((a, b) => a.starttime - b.starttime);
  return Promise.all(shown.map(async (t) => {
    const page = await client.taskLog(t.upid, 0, 0);
    const p = summarizeMigrationLog(page.lines);
    let target: string | null = null;
    for (const l of page.lines) {
      const ev = parseLogLine(l.t).event;
      if (ev?.kind === 'starting') target = ev.target;
    }
    if (!target && t.type === 'hamigrate') target = /to node (\S+)/.exec(page.lines.map((l) => l.t).join('\n'))?.[1] ?? null;
    return {
      vmid: Number(t.id),
      type: t.type === 'vzmigrate' ? 'lxc' : 'qemu',
      source: t.node,
      target,
      upid: t.upid,
      task_type: t.type,
      user: t.user,
      started_at: new Date(t.starttime * 1000).toISOString(),
      elapsed_s: Math.max(0, Math.round(now.getTime() / 1000 - t.starttime)),
      transferred_bytes: p.transferred,
      total_bytes: p.total,
      rate_bytes_s: p.rate,
      ha: p.haStarted || t.type === 'hamigrate',
    };
  }));
}
