import type { Priority, Provider, ProvidersConfig } from '../types.js';
import { clip, postJson } from '../http.js';

const COLOR: Record<Priority, number> = { low: 0x6b7280, normal: 0x2563eb, high: 0xf59e0b, emergency: 0xef4444 };

/**
 * Discord webhook: a JSON POST with one embed (title at most 256 characters, description at most
 * 4096). Discord answers 204 No Content.
 */
export function discord(c: ProvidersConfig['discord']): Provider {
  if (!c.webhook_url) throw new Error('discord: webhook_url is empty');
  return {
    name: 'discord',
    secrets: [c.webhook_url],
    async send(m, signal) {
      const embed = { title: clip(m.title, 256), description: clip(m.text, 4096), color: COLOR[m.priority], timestamp: m.timestamp, footer: { text: 'proxbalance' } };
      await postJson(c.webhook_url, { embeds: [embed] }, {}, signal);
    },
  };
}
