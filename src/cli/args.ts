import { DateTime } from 'luxon';
import { UsageError } from '../util/errors.js';

/** Flag parsers of the read commands: a bad value is a usage error (exit 2) naming the flag. */

export function positiveInt(flag: string, value: string, opts: { allowZero?: boolean } = {}): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} ${value}: expected a whole number`);
  const n = Number(value);
  if (n > Number.MAX_SAFE_INTEGER || (!opts.allowZero && n === 0)) throw new UsageError(`${flag} ${value}: expected a whole number${opts.allowZero ? '' : ' ≥ 1'}`);
  return n;
}

export function vmidArg(value: string): number {
  const n = positiveInt('--vmid', value);
  if (n < 100 || n > 999_999_999) throw new UsageError(`--vmid ${value}: a Proxmox guest ID is between 100 and 999999999`);
  return n;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: a span back from now (`30m`, `24h`, `7d`, `2w`), or a date or time (`2026-11-01`,
 * `2026-11-01T08:00`, with or without a zone). A date or a time without zone is read in `zone`.
 * Returns epoch milliseconds.
 */
export function parseSince(value: string, now: Date, zone = 'UTC'): number {
  const v = value.trim();
  const span = /^(\d+)\s*([mhdw])$/i.exec(v);
  if (span) return now.getTime() - Number(span[1]) * UNITS[span[2]!.toLowerCase()]!;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v)) {
    const dt = DateTime.fromISO(v.replace(' ', 'T'), { zone, setZone: true });
    if (dt.isValid) return dt.toMillis();
  }
  throw new UsageError(`--since ${value}: expected a span such as 24h, 7d, 30m, 2w, or a date such as 2026-11-01`);
}

/** A comma-separated list of values, each one of `allowed`. */
export function listOf(flag: string, value: string, allowed: readonly string[]): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i));
  if (!items.length || bad.length) {
    throw new UsageError(`${flag} ${value}: expected one or more (comma-separated) of ${allowed.join(', ')}`);
  }
  return items;
}
