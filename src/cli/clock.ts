import { UsageError } from '../util/errors.js';

/** An ISO 8601 time that says its zone (Z or ±hh:mm): without one, JavaScript would read local time. */
export const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The CLI's clock. PROXBALANCE_NOW (an ISO 8601 time, e.g. 2026-11-25T12:00:00Z) fixes it: a
 * testing aid, so tests and examples give the same answer every day. Read here only: the core
 * (src/history, src/engine) always gets `now` as an argument.
 */
export function cliNow(env: NodeJS.ProcessEnv = process.env): Date {
  const fixed = env.PROXBALANCE_NOW;
  if (!fixed) return new Date();
  const ms = Date.parse(fixed);
  if (!ISO_WITH_ZONE.test(fixed) || Number.isNaN(ms)) {
    throw new UsageError(`PROXBALANCE_NOW=${fixed}: not an ISO 8601 time with its zone, such as 2026-11-25T12:00:00Z`);
  }
  return new Date(ms);
}
