import type { Config } from '../config/load.js';

/** What the events say; every provider renders the same message its own way. */
export type Priority = 'low' | 'normal' | 'high' | 'emergency';
export type EventName = 'start' | 'complete' | 'failure' | 'halt' | 'resumed' | 'test';

export interface Message {
  event: EventName;
  title: string;
  /** Plain text, lines separated by \n. */
  text: string;
  priority: Priority;
  /** ISO 8601 UTC. */
  timestamp: string;
}

export type ProvidersConfig = Config['automated_migrations']['notifications']['providers'];
export type ProviderName = keyof ProvidersConfig;
export const PROVIDER_NAMES: readonly ProviderName[] = ['webhook', 'email', 'slack', 'discord', 'telegram', 'pushover', 'gotify'];

export interface Provider {
  name: ProviderName;
  /** Values that must never appear in a log line, an error or the history. */
  secrets: string[];
  /** Resolves when the provider accepted the message; rejects with a reason otherwise. */
  send(m: Message, signal: AbortSignal): Promise<void>;
}

export interface Delivery {
  provider: ProviderName;
  ok: boolean;
  error?: string;
}
