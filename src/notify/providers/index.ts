import type { Config } from '../../config/load.js';
import { registerSecret } from '../../log/logger.js';
import { PROVIDER_NAMES, type Provider, type ProviderName } from '../types.js';
import { webhook } from './webhook.js';
import { email } from './email.js';
import { slack } from './slack.js';
import { discord } from './discord.js';
import { telegram } from './telegram.js';
import { pushover } from './pushover.js';
import { gotify } from './gotify.js';

export interface Built {
  providers: Provider[];
  /** Providers whose settings are unusable (an empty URL, an unreadable CA file). */
  broken: { provider: ProviderName; error: string }[];
}

/**
 * The providers to send to: every enabled one, or the named ones (`notify test PROVIDER` tries a
 * provider before it is enabled). Every secret is registered with the logger, which masks it.
 */
export function buildProviders(cfg: Config, timeoutMs: number, only?: readonly ProviderName[]): Built {
  const pc = cfg.automated_migrations.notifications.providers;
  const out: Built = { providers: [], broken: [] };
  for (const name of PROVIDER_NAMES) {
    if (only ? !only.includes(name) : !pc[name].enabled) continue;
    try {
      const p = make(name, cfg, timeoutMs);
      for (const s of p.secrets) registerSecret(s);
      out.providers.push(p);
    } catch (e) {
      out.broken.push({ provider: name, error: (e as Error).message });
    }
  }
  return out;
}

function make(name: ProviderName, cfg: Config, timeoutMs: number): Provider {
  const pc = cfg.automated_migrations.notifications.providers;
  switch (name) {
    case 'webhook': return webhook(pc.webhook);
    case 'email': return email(pc.email, timeoutMs);
    case 'slack': return slack(pc.slack);
    case 'discord': return discord(pc.discord);
    case 'telegram': return telegram(pc.telegram);
    case 'pushover': return pushover(pc.pushover);
    case 'gotify': return gotify(pc.gotify);
  }
}
