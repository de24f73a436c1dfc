import type { LoadedConfig } from '../config/load.js';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import type { PlannedMove } from '../engine/types.js';
import type { HaltedRecord, HistoryRecord, NotificationRecord, RunRecord } from '../history/store.js';
import { activeHalt } from '../history/views.js';
import { log } from '../log/logger.js';
import { buildProviders, type Built } from './providers/index.js';
import { deliverAll, deliveryTimeoutMs, type Job } from './deliver.js';
import { completeMessage, gateFailureMessage, haltMessage, migrationFailureMessage, resumeCommand, resumedMessage, startMessage } from './events.js';
import type { Delivery, Message, ProviderName } from './types.js';

/** A provider that failed to receive a halt is tried again by the next ticks, this many times in all. */
export const HALT_ATTEMPTS = 3;

type Append = (r: HistoryRecord) => void;

/**
 * The providers that still have to hear of `halt`: those with no successful delivery recorded for
 * it and fewer than HALT_ATTEMPTS failed ones. Derived from the history alone, so a halt is
 * announced once however many ticks find automation halted.
 */
export function haltRecipients(records: readonly HistoryRecord[], halt: HaltedRecord, names: readonly ProviderName[]): ProviderName[] {
  const done = new Set<string>();
  const tries = new Map<string, number>();
  for (const r of records) {
    if (r.type !== 'notification' || r.event !== 'halt' || r.halt_at !== halt.at) continue;
    for (const d of r.deliveries) {
      if (d.ok) done.add(d.provider);
      else tries.set(d.provider, (tries.get(d.provider) ?? 0) + 1);
    }
  }
  return names.filter((n) => !done.has(n) && (tries.get(n) ?? 0) < HALT_ATTEMPTS);
}

function record(m: Message, deliveries: Delivery[], extra: Partial<NotificationRecord>): NotificationRecord {
  return {
    v: 1, type: 'notification', at: new Date().toISOString(), event: m.event as NotificationRecord['event'], title: m.title, priority: m.priority,
    deliveries: deliveries.map((d) => ({ provider: d.provider, ok: d.ok, ...(d.error !== undefined ? { error: d.error } : {}) })), ...extra,
  };
}

/** Why a provider is not sent the rest of a tick's messages (the tick is held up at most once). */
const GAVE_UP = 'not sent: it timed out on this tick\'s start message';

/**
 * Sends the jobs, the broken providers and those given up on counting as failed deliveries, and
 * records each job. Resolves with the providers that timed out.
 */
async function sendAndRecord(built: Built, jobs: Job[], append: Append, extra: (j: Job) => Partial<NotificationRecord>, givenUp: ReadonlySet<string> = new Set()): Promise<Set<string>> {
  const live = built.providers.filter((p) => !givenUp.has(p.name));
  const results = await deliverAll(live, jobs);
  const timedOut = new Set<string>();
  jobs.forEach((j, i) => {
    const failed = [
      ...built.broken.filter((b) => j.to.has(b.provider)).map((b): Delivery => ({ provider: b.provider, ok: false, error: b.error })),
      ...built.providers.filter((p) => givenUp.has(p.name) && j.to.has(p.name)).map((p): Delivery => ({ provider: p.name, ok: false, error: GAVE_UP })),
    ];
    for (const b of failed) log.warn(`notification ${j.message.event} could not be sent via ${b.provider}: ${b.error}`);
    for (const d of results[i]!) if (!d.ok && /timed out/.test(d.error ?? '')) timedOut.add(d.provider);
    const all = [...results[i]!, ...failed];
    if (all.length) append(record(j.message, all, extra(j)));
  });
  return timedOut;
}

/**
 * The tick's notifications. `planned` sends start in the background (it never holds a migration
 * up); `finish`, called once the run record is written, waits for it and sends the rest:
 * complete, failure, and a halt not yet announced. Neither throws.
 */
export class TickNotifier {
  private readonly enabled: boolean;
  private built: Built | null = null;
  private starting: Promise<Set<string>> | null = null;
  private readonly pendingRecords: NotificationRecord[] = [];

  constructor(private readonly loaded: LoadedConfig, private readonly runId: string, private readonly now: () => Date = () => new Date()) {
    this.enabled = loaded.config.automated_migrations.notifications.enabled;
  }

  private providers(): Built {
    this.built ??= buildProviders(this.loaded.config, deliveryTimeoutMs());
    return this.built;
  }

  private all(): Set<string> {
    const b = this.providers();
    return new Set([...b.providers.map((p) => p.name), ...b.broken.map((x) => x.provider)]);
  }

  planned(moves: readonly PlannedMove[], dryRun: boolean): void {
    const n = this.loaded.config.automated_migrations.notifications;
    if (!this.enabled || !n.on_start) return;
    const m = startMessage(moves, dryRun, this.now());
    if (!m) return;
    this.starting = sendAndRecord(this.providers(), [{ message: m, to: this.all() }], (r) => this.pendingRecords.push(r as NotificationRecord), () => ({ run_id: this.runId }))
      .catch((e) => {
        log.warn(`notification start: ${(e as Error).message}`);
        return new Set<string>();
      });
  }

  async finish(run: RunRecord | null, records: readonly HistoryRecord[], append: Append): Promise<void> {
    try {
      // A provider that hung on start is not waited for again: a tick is held up 10 s at most.
      const givenUp = (await this.starting) ?? new Set<string>();
      for (const r of this.pendingRecords.splice(0)) append(r);
      if (!this.enabled || !run) return;
      const jobs = this.jobs(run, records);
      if (jobs.length) await sendAndRecord(this.providers(), jobs, append, (j) => this.extra(j, records), givenUp);
    } catch (e) {
      log.warn(`notifications: ${(e as Error).message}`);
    }
  }

  private jobs(run: RunRecord, records: readonly HistoryRecord[]): Job[] {
    const n = this.loaded.config.automated_migrations.notifications;
    const at = this.now();
    const to = this.all();
    const halt = activeHalt(records);
    const haltedHere = halt?.run_id === run.run_id;
    const messages: Message[] = [];
    if (n.on_complete) messages.push(...[completeMessage(run, records, at)].filter((m): m is Message => m !== null));
    if (n.on_failure) {
      const gate = gateFailureMessage(run, records, at);
      if (gate) messages.push(gate);
      const failed = haltedHere ? null : migrationFailureMessage(run, records, at);
      if (failed) messages.push(failed);
    }
    const jobs: Job[] = messages.map((message) => ({ message, to }));
    if (halt) {
      const names = haltRecipients(records, halt, [...to] as ProviderName[]);
      const cmd = resumeCommand(this.loaded.path, DEFAULT_CONFIG_PATH);
      if (names.length) jobs.push({ message: haltMessage(halt, records, cmd, at), to: new Set(names) });
    }
    return jobs;
  }

  private extra(j: Job, records: readonly HistoryRecord[]): Partial<NotificationRecord> {
    const halt = j.message.event === 'halt' ? activeHalt(records) : null;
    return { run_id: this.runId, ...(halt ? { halt_at: halt.at } : {}) };
  }
}

/** `resume`: tells every provider that automation runs again, and records it. Never throws. */
export async function announceResumed(loaded: LoadedConfig, halt: HaltedRecord, by: string | undefined, append: Append): Promise<void> {
  if (!loaded.config.automated_migrations.notifications.enabled) return;
  try {
    const built = buildProviders(loaded.config, deliveryTimeoutMs());
    const to = new Set<string>([...built.providers.map((p) => p.name), ...built.broken.map((b) => b.provider)]);
    await sendAndRecord(built, [{ message: resumedMessage(halt, by, new Date()), to }], append, () => ({}));
  } catch (e) {
    log.warn(`notifications: ${(e as Error).message}`);
  }
}
