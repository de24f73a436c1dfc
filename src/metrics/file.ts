import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config/load.js';
import type { HistoryRecord } from '../history/store.js';
import { log } from '../log/logger.js';
import type { TickResult } from '../executor/tick.js';
import { nodeFigures, renderMetrics, type TickFigures } from './render.js';

/**
 * Writes the file atomically: a temporary file in the same folder (a name node_exporter's
 * textfile collector ignores: it reads *.prom only), fsync, rename over. Mode 0644: node_exporter
 * runs as another user.
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The tick-only figures a metrics file holds, read back (`proxbalance metrics` prints the same). */
export function readTickFigures(path: string): TickFigures | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const api = /^proxbalance_last_tick_api_requests (\S+)$/m.exec(text);
  if (!api) return null;
  const nodes = new Map<string, { node: string; cpu: number; memory: number; running: number }>();
  const re = /^proxbalance_node_(cpu_usage_ratio|memory_usage_ratio|running_guests)\{node="((?:[^"\\]|\\.)*)"\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const name = m[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    const n = nodes.get(name) ?? { node: name, cpu: 0, memory: 0, running: 0 };
    const v = Number(m[3]);
    if (m[1] === 'cpu_usage_ratio') n.cpu = v;
    else if (m[1] === 'memory_usage_ratio') n.memory = v;
    else n.running = v;
    nodes.set(name, n);
  }
  return { apiRequests: Number(api[1]), nodes: [...nodes.values()] };
}

/**
 * After a tick (or `resume`, with no tick: null): rewrite metrics_file when set. A tick that did
 * not read the cluster keeps the node figures of the last one that did. Never throws: a metrics
 * file is not worth a failed tick.
 */
export async function updateMetricsFile(cfg: Config, records: readonly HistoryRecord[], tick: Pick<TickResult, 'snapshot' | 'apiRequests'> | null): Promise<void> {
  const path = cfg.metrics_file;
  if (!path) return;
  try {
    const before = readTickFigures(path);
    const nodes = tick?.snapshot ? nodeFigures(tick.snapshot) : before?.nodes ?? [];
    const figures: TickFigures | null = tick ? { apiRequests: tick.apiRequests, nodes } : before;
    writeAtomic(path, await renderMetrics(cfg, records, figures));
  } catch (e) {
    log.warn(`metrics_file ${path}: could not write (${(e as Error).message})`);
  }
}
