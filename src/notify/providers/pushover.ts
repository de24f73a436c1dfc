import type { Priority, Provider, ProvidersConfig } from '../types.js';
import { clip, post } from '../http.js';

/**
 * Pushover Message API: POST {api_url}/1/messages.json, form-encoded: token, user, message (at most
 * 1024 characters), title (at most 250), priority, sound, device, timestamp. Emergency priority (2)
 * needs retry (≥ 30 s) and expire (≤ 10800 s): 60 and 3600, as ProxBalance sends. The API answers
 * {"status": 1, …}; errors come with a 4xx status and "errors".
 */
export function pushover(c: ProvidersConfig['pushover']): Provider {
  if (!c.api_token) throw new Error('pushover: api_token is empty');
  if (!c.user_key) throw new Error('pushover: user_key is empty');
  const base = c.api_url.replace(/\/+$/, '');
  const level = (p: Priority): number => (p === 'emergency' ? 2 : p === 'high' ? Math.max(1, c.priority) : p === 'low' ? Math.min(-1, c.priority) : c.priority);
  return {
    name: 'pushover',
    secrets: [c.api_token, c.user_key],
    async send(m, signal) {
      const priority = level(m.priority);
      const form = new URLSearchParams({
        token: c.api_token, user: c.user_key, title: clip(m.title, 250), message: clip(m.text, 1024),
        priority: String(priority), timestamp: String(Math.floor(Date.parse(m.timestamp) / 1000)),
      });
      if (c.sound) form.set('sound', c.sound);
      if (c.device) form.set('device', c.device);
      if (priority === 2) {
        form.set('retry', '60');
        form.set('expire', '3600');
      }
      const answer = await post(`${base}/1/messages.json`, form.toString(), { 'content-type': 'application/x-www-form-urlencoded' }, signal);
      let parsed: { status?: number; errors?: string[] } = {};
      try { parsed = JSON.parse(answer); } catch { /* checked below */ }
      if (parsed.status !== 1) throw new Error(`Pushover did not accept the message${parsed.errors?.length ? `: ${parsed.errors.join('; ')}` : ''}`);
    },
  };
}
