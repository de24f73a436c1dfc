import type { Priority, Provider, ProvidersConfig } from '../types.js';
import { clip, postJson } from '../http.js';

const PREFIX: Record<Priority, string> = { low: '', normal: '', high: '⚠️ ', emergency: '🚨 ' };
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Telegram Bot API sendMessage: POST {api_url}/bot<token>/sendMessage with a JSON body, HTML parse
 * mode (bold title). Text is at most 4096 characters. The API answers {"ok": true, …}, or
 * {"ok": false, "description": …} with a 4xx status.
 */
export function telegram(c: ProvidersConfig['telegram']): Provider {
  if (!c.bot_token) throw new Error('telegram: bot_token is empty');
  if (c.chat_id === '') throw new Error('telegram: chat_id is empty');
  const base = c.api_url.replace(/\/+$/, '');
  return {
    name: 'telegram',
    secrets: [c.bot_token],
    async send(m, signal) {
      const text = clip(`<b>${escape(PREFIX[m.priority] + m.title)}</b>\n\n${escape(m.text)}`, 4096);
      const body = { chat_id: c.chat_id, text, parse_mode: 'HTML', link_preview_options: { is_disabled: true } };
      const answer = await postJson(`${base}/bot${c.bot_token}/sendMessage`, body, {}, signal);
      let parsed: { ok?: boolean; description?: string } = {};
      try { parsed = JSON.parse(answer); } catch { /* checked below */ }
      if (parsed.ok !== true) throw new Error(`Telegram did not accept the message${parsed.description ? `: ${parsed.description}` : ''}`);
    },
  };
}
