import { log, redact } from '../log/logger.js';
import type { Delivery, Message, Provider } from './types.js';

/** Each provider gets this long (ms) to accept a message. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The delivery timeout: 10 s. PROXBALANCE_NOTIFY_TIMEOUT_MS shortens it for the test suite only
 * (like PROXBALANCE_POLL_MS); it is not a config key.
 */
export function deliveryTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PROXBALANCE_NOTIFY_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

/** Removes a provider's secrets (and every registered one) from a text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return redact(out);
}

/** One message and the providers it goes to. */
export interface Job {
  message: Message;
  to: ReadonlySet<string>;
}

/**
 * Sends a provider its messages in order, all within one timeout: however many messages a tick
 * has, a hanging provider holds it up at most `timeoutMs`. Never rejects; one delivery per job
 * addressed to this provider.
 */
async function series(p: Provider, jobs: readonly Job[], timeoutMs: number): Promise<Map<Job, Delivery>> {
  const out = new Map<Job, Delivery>();
  const mine = jobs.filter((j) => j.to.has(p.name));
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
      resolve();
    }, timeoutMs);
  });
  const work = (async () => {
    for (const j of mine) {
      if (timedOut) break;
      try {
        await p.send(j.message, ac.signal);
        if (!timedOut) out.set(j, { provider: p.name, ok: true });
      } catch (e) {
        if (!timedOut) out.set(j, { provider: p.name, ok: false, error: scrub((e as Error).message || String(e), p.secrets) });
      }
    }
  })();
  await Promise.race([work, timeout]);
  clearTimeout(timer);
  for (const j of mine) if (!out.has(j)) out.set(j, { provider: p.name, ok: false, error: `no answer within ${timeoutMs / 1000} s (timed out)` });
  return out;
}

/**
 * Sends every job to its providers, all providers at once; one failing or hanging provider does
 * not stop the others. Failures are logged as warnings. Resolves (never rejects) with the
 * deliveries of each job, in the order of the jobs.
 */
export async function deliverAll(providers: readonly Provider[], jobs: readonly Job[], timeoutMs = deliveryTimeoutMs()): Promise<Delivery[][]> {
  const perProvider = await Promise.all(providers.map((p) => series(p, jobs, timeoutMs)));
  return jobs.map((j) => {
    const ds = perProvider.map((m) => m.get(j)).filter((d): d is Delivery => d !== undefined);
    for (const d of ds) {
      if (d.ok) log.debug(`notification ${j.message.event} sent via ${d.provider}`);
      else log.warn(`notification ${j.message.event} (${j.message.title}) could not be sent via ${d.provider}: ${d.error}`);
    }
    return ds;
  });
}

/** Sends one message to every provider. */
export async function deliver(providers: readonly Provider[], m: Message, timeoutMs = deliveryTimeoutMs()): Promise<Delivery[]> {
  const [ds] = await deliverAll(providers, [{ message: m, to: new Set(providers.map((p) => p.name)) }], timeoutMs);
  return ds!;
}
