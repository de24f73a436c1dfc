import { Agent, request } from '../util/http.js';

/**
 * One POST of a notification. Resolves with the response body when the status is 2xx; otherwise
 * rejects with the status and the start of the body (what the service says went wrong). Errors
 * name neither the URL nor the headers: they can carry tokens (Telegram's is in the path).
 */
export async function post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  // A connection of its own, closed after the answer: a kept-alive socket would hold the one-shot
  // process open after its work is done.
  const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  let res;
  let text: string;
  try {
    res = await request(dispatcher, url, { method: 'POST', body, headers, signal });
    text = await res.body.text().catch(() => '');
  } catch (e) {
    throw new Error(networkError(e));
  } finally {
    dispatcher.destroy().catch(() => undefined);
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    const said = text.replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new Error(`HTTP ${res.statusCode}${said ? `: ${said}` : ''}`);
  }
  return text;
}

export function postJson(url: string, value: unknown, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  return post(url, JSON.stringify(value), { 'content-type': 'application/json', ...headers }, signal);
}

function networkError(e: unknown): string {
  const err = e as Error & { code?: string; cause?: Error & { code?: string } };
  if (err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED') return 'aborted';
  const cause = err.cause;
  if (cause?.message) return cause.message;
  return err.message || String(e);
}

/** Cuts text to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
