import type { Priority, Provider, ProvidersConfig } from '../types.js';
import { postJson } from '../http.js';

const COLOR: Record<Priority, string> = { low: '#6B7280', normal: '#2563EB', high: '#F59E0B', emergency: '#EF4444' };

/**
 * Slack incoming webhook: a JSON POST with `text` (what notifications and clients without
 * attachments show) and one coloured attachment. Slack answers 200 with the body "ok".
 */
export function slack(c: ProvidersConfig['slack']): Provider {
  if (!c.webhook_url) throw new Error('slack: webhook_url is empty');
  return {
    name: 'slack',
    secrets: [c.webhook_url],
    async send(m, signal) {
      const body = {
        text: m.title,
        attachments: [{ color: COLOR[m.priority], title: m.title, text: m.text, footer: 'proxbalance', ts: Math.floor(Date.parse(m.timestamp) / 1000) }],
      };
      await postJson(c.webhook_url, body, {}, signal);
    },
  };
}
