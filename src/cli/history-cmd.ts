import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import type { RunRecord } from '../history/store.js';
import { MIGRATION_STATUSES, RUN_OUTCOMES, migrationTime, selectMigrations, selectRuns, type HistoryFilter, type MigrationState } from '../history/views.js';
import { guestLabel } from '../util/guest.js';
import { UsageError } from '../util/errors.js';
import { log } from '../log/logger.js';
import { listOf, parseSince, positiveInt, vmidArg } from './args.js';
import { out, withCommon, type CommonOptions } from './common.js';
import { MIGRATIONS_ONLY, readForCommand, type ReadScope } from './read-history.js';
import { cell, formatDuration, formatTime, paint, statusText, table } from './style.js';

/**
 * The CSV columns, in order: the header line is exactly these names joined by commas. `error` came
 * last, after the guide's ten columns, so a sheet reading those by position still works.
 */
export const CSV_COLUMNS = ['timestamp', 'vmid', 'name', 'type', 'source_node', 'target_node', 'confidence', 'status', 'duration_s', 'dry_run', 'reason', 'error'] as const;

/**
 * RFC 4180: CRLF line ends. A text cell a spreadsheet would run as a formula (leading =, +, -, @,
 * tab or CR: a guest name or a Proxmox error can be anything) is prefixed with ' (OWASP's advice),
 * which the spreadsheet shows as text; numbers (a negative one too) are left alone.
 */
export function toCsv(rows: Record<string, unknown>[], columns: readonly string[]): string {
  return stringify(rows, { header: true, columns: [...columns], record_delimiter: 'windows', escape_formulas: true, cast: { boolean: (b) => String(b) } });
}
export const RUN_CSV_COLUMNS = ['started_at', 'finished_at', 'trigger', 'mode', 'outcome', 'moves', 'skips', 'duration_s', 'reason'] as const;
const DEFAULT_LAST = 10;

interface HistoryOptions extends CommonOptions {
  last?: string;
  since?: string;
  vmid?: string;
  status?: string;
  node?: string;
  runs?: boolean;
  json?: boolean;
  csv?: boolean;
  output?: string;
}

export function migrationCsvRow(m: MigrationState): Record<(typeof CSV_COLUMNS)[number], string | number | boolean> {
  return {
    timestamp: migrationTime(m),
    vmid: m.vmid,
    name: m.name,
    type: m.guest_type,
    source_node: m.source,
    target_node: m.target,
    confidence: m.confidence ?? '',
    status: m.status,
    duration_s: m.duration_s ?? '',
    dry_run: m.status === 'dry-run',
    reason: m.reason ?? '',
    error: m.status === 'completed' || m.status === 'dry-run' ? '' : (m.error ?? ''),
  };
}

function runDuration(r: RunRecord): number {
  return (Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000;
}

const moves = (r: RunRecord) => r.decisions.filter((d) => d.action === 'move').length;
const skips = (r: RunRecord) => r.decisions.filter((d) => d.action === 'skip').length;

function migrationTable(ms: MigrationState[], zone: string): string {
  const rows = ms.map((m) => [
    formatTime(migrationTime(m), zone),
    cell(guestLabel(m.vmid, m.guest_type, m.name)),
    `${cell(m.source)} → ${cell(m.target)}`,
    statusText(m.status),
    formatDuration(m.duration_s),
    m.confidence === undefined ? '' : String(Math.round(m.confidence)),
    cell(m.status === 'completed' || m.status === 'dry-run' ? '' : (m.error ?? '')),
  ]);
  return table(rows, ['TIME', 'GUEST', 'MOVE', 'STATUS', 'DURATION', 'CONFIDENCE', 'ERROR']);
}

function runTable(rs: RunRecord[], zone: string): string {
  const rows = rs.map((r) => [
    formatTime(r.started_at, zone),
    r.trigger,
    r.mode,
    statusText(r.outcome),
    String(moves(r)),
    String(skips(r)),
    formatDuration(runDuration(r)),
    cell(r.reason ?? ''),
  ]);
  return table(rows, ['TIME', 'TRIGGER', 'MODE', 'OUTCOME', 'MOVES', 'SKIPS', 'DURATION', 'REASON']);
}

export function historyCommand(): Command {
  return withCommon(new Command('history'))
    .description('recent migrations (the last 10 unless told), newest first; --csv exports every matching one')
    .option('-n, --last <N>', `show the newest N (default ${DEFAULT_LAST}; with --csv: all)`)
    .option('--since <when>', 'only since a span back (24h, 7d, 30m) or a date (2026-11-01)')
    .option('--vmid <id>', 'only this guest')
    .option('--status <list>', `only these statuses (comma-separated): ${MIGRATION_STATUSES.join(', ')}; with --runs: ${RUN_OUTCOMES.join(', ')}`)
    .option('--node <name>', 'only migrations from or to this node')
    .option('--runs', 'list runs (ticks) instead of migrations')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (RFC 4180): every matching record')
    .option('-o, --output <file>', 'write the --csv or --json output to this file instead of stdout')
    .action(async (opts: HistoryOptions) => {
      if (opts.json && opts.csv) throw new UsageError('--json and --csv: choose one');
      if (opts.output && !opts.json && !opts.csv) throw new UsageError('--output: give --csv or --json too');
      // Flags are checked before anything is read.
      const last = opts.last !== undefined ? positiveInt('--last', opts.last) : undefined;
      const vmid = opts.vmid !== undefined ? vmidArg(opts.vmid) : undefined;
      const statuses = opts.status !== undefined ? listOf('--status', opts.status, opts.runs ? RUN_OUTCOMES : MIGRATION_STATUSES) : undefined;
      // --since: only the end of the file (it is appended in time order); else the whole file,
      // holding the migration records alone unless runs are asked for.
      const since = opts.since;
      const scope: ReadScope = since !== undefined ? { tail: (now, zone) => ({ sinceMs: parseSince(since, now, zone), checkpoint: false }) } : opts.runs ? {} : MIGRATIONS_ONLY;
      const ctx = await readForCommand(opts, scope);
      const filter: HistoryFilter = {
        untilMs: ctx.now.getTime(),
        ...(opts.since !== undefined && { sinceMs: parseSince(opts.since, ctx.now, ctx.zone) }),
        ...(vmid !== undefined && { vmid }),
        ...(statuses && { statuses }),
        ...(opts.node !== undefined && { node: opts.node }),
      };
      const limit = last ?? (opts.csv ? Infinity : DEFAULT_LAST);
      const filtered = opts.since !== undefined || vmid !== undefined || statuses !== undefined || opts.node !== undefined;

      const emit = (text: string, count: number, what: string) => {
        if (!opts.output) return out(text);
        try {
          writeFileSync(opts.output, text);
        } catch (e) {
          throw new Error(`cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        out(`wrote ${count} ${what} to ${opts.output}`);
      };

      if (opts.runs) {
        const all = selectRuns(ctx.records, filter);
        const runs = all.slice(0, limit);
        if (opts.json) return emit(JSON.stringify(runs, null, 2), runs.length, 'runs');
        if (opts.csv) {
          const rows = runs.map((r) => ({
            started_at: r.started_at, finished_at: r.finished_at, trigger: r.trigger, mode: r.mode, outcome: r.outcome,
            moves: moves(r), skips: skips(r), duration_s: runDuration(r), reason: r.reason ?? '',
          }));
          return emit(toCsv(rows, RUN_CSV_COLUMNS), runs.length, 'runs');
        }
        if (!runs.length) return out(filtered ? 'No runs match.' : `No runs recorded yet in ${ctx.loaded.config.history_file}.`);
        out(runTable(runs, ctx.zone));
        if (all.length > runs.length) out(paint().dim(`showing the newest ${runs.length} of ${all.length} matching runs (--last N for more)`));
        return;
      }

      const all = selectMigrations(ctx.records, filter);
      const ms = all.slice(0, limit);
      if (vmid !== undefined) log.debug(`history: ${all.length} migrations of ${guestLabel(vmid, all[0]?.guest_type)} match`);
      if (opts.json) return emit(JSON.stringify(ms, null, 2), ms.length, 'migrations');
      if (opts.csv) {
        return emit(toCsv(ms.map(migrationCsvRow), CSV_COLUMNS), ms.length, 'migrations');
      }
      if (!ms.length) return out(filtered ? 'No migrations match.' : `No migrations recorded yet in ${ctx.loaded.config.history_file}.`);
      out(migrationTable(ms, ctx.zone));
      if (all.length > ms.length) out(paint().dim(`showing the newest ${ms.length} of ${all.length} matching migrations (--last N for more, --csv for all)`));
    });
}
