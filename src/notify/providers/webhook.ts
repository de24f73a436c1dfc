import type { Provider, ProvidersConfig } from '../types.js';
import { postJson } from '../http.js';

/** ProxBalance's generic webhook: POST {title, message, priority, timestamp, source} as JSON. */
export function webhook(c: ProvidersConfig['webhook']): Provider {
  if (!c.url) throw new Error('webhook: url is empty');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  return {
    name: 'webhook',
    secrets: [c.url, ...Object.values(headers)],
    async send(m, signal) {
      const body = { title: m.title, message: m.text, priority: m.priority, timestamp: m.timestamp, source: 'proxbalance', event: m.event };
      await postJson(c.url, body, headers, signal);
    },
  };
}
