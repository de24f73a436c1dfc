import { PveClient, type PveClientOptions, type PveLogger } from '../../src/pve/client.js';
import type { FakePve } from '../fake-pve/server.js';

/** A logger that keeps lines, to assert on them (and on the absence of the secret). */
export function memoryLogger(): PveLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
  };
}

/** A client for the fake, trusting its CA unless told otherwise; fast retries. */
export function clientFor(fake: FakePve, over: Partial<PveClientOptions> = {}): PveClient {
  return new PveClient({
    hosts: [fake.host],
    port: fake.port,
    tokenId: fake.tokenId,
    tokenSecret: fake.tokenSecret,
    caFile: fake.caFile,
    timeoutMs: 5000,
    backoffMs: 10,
    ...over,
  });
}

/** Collects every string in a value (error fields included) to look for a secret. */
export function allText(e: unknown): string {
  if (e instanceof Error) return `${e.name} ${e.message} ${e.stack ?? ''} ${JSON.stringify({ ...e })}`;
  return typeof e === 'string' ? e : JSON.stringify(e);
}
