import type { Priority, Provider, ProvidersConfig } from '../types.js';
import { postJson } from '../http.js';

/**
 * Gotify: POST {url}/message with the application token in the X-Gotify-Key header and a JSON body
 * {title, message, priority, extras}. Priorities 0-10; clients alert loudest from 8 up.
 */
export function gotify(c: ProvidersConfig['gotify']): Provider {
  if (!c.url) throw new Error('gotify: url is empty');
  if (!c.app_token) throw new Error('gotify: app_token is empty');
  const base = c.url.replace(/\/+$/, '');
  const level = (p: Priority): number => (p === 'emergency' ? 10 : p === 'high' ? Math.max(8, c.priority) : p === 'low' ? Math.min(2, c.priority) : c.priority);
  return {
    name: 'gotify',
    secrets: [c.app_token],
    async send(m, signal) {
      const body = { title: m.title, message: m.text, priority: level(m.priority), extras: { 'client::display': { contentType: 'text/plain' } } };
      await postJson(`${base}/message`, body, { 'x-gotify-key': c.app_token }, signal);
    },
  };
}
