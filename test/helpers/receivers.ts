import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ROOT } from './cli.js';

/**
 * Real receivers on loopback for the notification providers. Each HTTP receiver checks the
 * request the way the provider's public API documents it, answers as that API answers (success
 * or its error shape), and keeps what it accepted. A receiver whose check fails answers with the
 * API's error, so a wrong request shows up as a failed delivery.
 */
export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The parsed body (JSON or form) as the service would read it. */
  fields: Record<string, unknown>;
}

export interface HttpReceiver {
  url: string;
  received: Received[];
  /** Requests that failed the check, with why. */
  rejected: { path: string; why: string }[];
  /** Stop answering (the connection stays open): a hanging service. */
  hang: boolean;
  close(): Promise<void>;
}

type Check = (r: Received) => string | null;
type Answer = { status: number; body: string; type?: string };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8').on('data', (d: string) => (s += d)).on('end', () => resolve(s)).on('error', reject);
  });
}

function parse(req: IncomingMessage, body: string): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  return {};
}

export async function startHttpReceiver(check: Check, ok: (r: Received) => Answer, fail: (why: string) => Answer): Promise<HttpReceiver> {
  const pending = new Set<ServerResponse>();
  const r: HttpReceiver = { url: '', received: [], rejected: [], hang: false, close: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (r.hang) {
      pending.add(res);
      return;
    }
    let rec: Received;
    let why: string | null;
    try {
      rec = { path: req.url ?? '', headers: req.headers, body, fields: parse(req, body) };
      why = req.method !== 'POST' ? `method ${req.method}` : check(rec);
    } catch (e) {
      rec = { path: req.url ?? '', headers: req.headers, body, fields: {} };
      why = `unreadable body: ${(e as Error).message}`;
    }
    const a = why ? fail(why) : ok(rec);
    if (why) r.rejected.push({ path: rec.path, why });
    else r.received.push(rec);
    res.writeHead(a.status, a.status === 204 ? {} : { 'content-type': a.type ?? 'application/json' });
    res.end(a.status === 204 ? undefined : a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = async () => {
    for (const res of pending) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r;
}

const isIso = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && /T.*Z$|[+-]\d\d:\d\d$/.test(v);
const str = (v: unknown) => typeof v === 'string' && v.length > 0;
const json = (v: unknown, status = 200): Answer => ({ status, body: JSON.stringify(v) });

/** The generic webhook: JSON {title, message, priority, timestamp, source} and the configured headers. */
export function webhookReceiver(header: [string, string]): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    if (!String(r.headers['content-type']).startsWith('application/json')) return 'content-type is not application/json';
    if (r.headers[header[0].toLowerCase()] !== header[1]) return `header ${header[0]} missing`;
    const f = r.fields;
    if (!str(f.title) || !str(f.message) || !['low', 'normal', 'high', 'emergency'].includes(String(f.priority)) || !isIso(f.timestamp) || !str(f.source)) return `body lacks title/message/priority/timestamp/source: ${r.body}`;
    return null;
  }, () => json({ received: true }), (why) => json({ error: why }, 400));
}

/** Slack incoming webhook: JSON with text (and attachments); answers 200 "ok", or 400 "invalid_payload". */
export function slackReceiver(): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    const f = r.fields as { text?: unknown; attachments?: Array<Record<string, unknown>>; blocks?: unknown };
    if (!String(r.headers['content-type']).startsWith('application/json')) return 'not JSON';
    if (!str(f.text) && !f.blocks && !f.attachments?.length) return 'no text';
    if (f.attachments && !f.attachments.every((a) => typeof a === 'object' && (str(a.text) || str(a.title) || str(a.fallback)))) return 'attachment without text';
    return null;
  }, () => ({ status: 200, body: 'ok', type: 'text/html' }), () => ({ status: 400, body: 'invalid_payload', type: 'text/html' }));
}

/** Discord webhook: JSON content or embeds (≤ 10; title ≤ 256, description ≤ 4096, integer color, ISO timestamp); 204. */
export function discordReceiver(): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    const f = r.fields as { content?: unknown; embeds?: Array<Record<string, unknown>> };
    if (!str(f.content) && !f.embeds?.length) return 'Cannot send an empty message';
    if (f.embeds && f.embeds.length > 10) return 'too many embeds';
    for (const e of f.embeds ?? []) {
      if (e.title !== undefined && (typeof e.title !== 'string' || e.title.length > 256)) return 'embed title';
      if (e.description !== undefined && (typeof e.description !== 'string' || e.description.length > 4096)) return 'embed description';
      if (e.color !== undefined && !Number.isInteger(e.color)) return 'embed color';
      if (e.timestamp !== undefined && !isIso(e.timestamp)) return 'embed timestamp';
    }
    return null;
  }, () => ({ status: 204, body: '' }), (why) => json({ code: 50006, message: why }, 400));
}

/** Telegram Bot API sendMessage at /bot<token>/sendMessage: chat_id and text (1-4096 characters). */
export function telegramReceiver(token: string, chatId: string): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    if (r.path !== `/bot${token}/sendMessage`) return 'Unauthorized';
    const f = r.fields;
    if (String(f.chat_id) !== chatId) return 'Bad Request: chat not found';
    if (typeof f.text !== 'string' || f.text.length === 0 || f.text.length > 4096) return 'Bad Request: message text is empty or too long';
    if (f.parse_mode !== undefined && !['HTML', 'MarkdownV2', 'Markdown'].includes(String(f.parse_mode))) return 'Bad Request: unsupported parse_mode';
    return null;
  }, (rec) => json({ ok: true, result: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId) || chatId }, text: rec.fields.text } }),
  (why) => json({ ok: false, error_code: why === 'Unauthorized' ? 401 : 400, description: why }, why === 'Unauthorized' ? 401 : 400));
}

/** Pushover /1/messages.json: token, user, message (≤ 1024), title (≤ 250), priority -2..2; 2 needs retry ≥ 30 and expire ≤ 10800. */
export function pushoverReceiver(token: string, user: string): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    if (r.path !== '/1/messages.json') return 'not found';
    const f = r.fields as Record<string, string>;
    if (f.token !== token) return 'application token is invalid';
    if (f.user !== user) return 'user identifier is invalid';
    if (!f.message || f.message.length > 1024) return 'message cannot be blank or longer than 1024 characters';
    if (f.title && f.title.length > 250) return 'title is too long';
    const p = Number(f.priority ?? 0);
    if (!Number.isInteger(p) || p < -2 || p > 2) return 'priority is invalid';
    if (p === 2 && !(Number(f.retry) >= 30 && Number(f.expire) > 0 && Number(f.expire) <= 10800)) return 'retry and expire are required for emergency priority';
    return null;
  }, () => json({ status: 1, request: '647d2300-702c-4b38-8b2f-d56326ae460b' }), (why) => json({ status: 0, errors: [why], request: 'x' }, 400));
}

/** Gotify POST /message with X-Gotify-Key: JSON message (required), title, integer priority. */
export function gotifyReceiver(token: string): Promise<HttpReceiver> {
  return startHttpReceiver((r) => {
    if (r.path !== '/message') return 'not found';
    if (r.headers['x-gotify-key'] !== token) return 'Unauthorized';
    const f = r.fields;
    if (!str(f.message)) return 'Field validation for \'Message\' failed on the \'required\' tag';
    if (f.priority !== undefined && !Number.isInteger(f.priority)) return 'priority must be an integer';
    return null;
  }, (rec) => json({ id: 1, appid: 1, message: rec.fields.message, title: rec.fields.title, priority: rec.fields.priority, date: new Date().toISOString() }),
  (why) => (why === 'Unauthorized'
    ? json({ error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' }, 401)
    : json({ error: 'Bad Request', errorCode: 400, errorDescription: why }, 400)));
}

export interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  /** True when the message came after STARTTLS. */
  secure: boolean;
  raw: string;
}

/** Decodes quoted-printable soft breaks and escapes (enough to read our own messages). */
export function decodeQP(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * An SMTP server (the `smtp-server` package) on loopback with the test certificate: it offers
 * STARTTLS, refuses AUTH and MAIL before it (so a message in clear is refused), checks the login.
 */
export async function startSmtpReceiver(user: string, pass: string): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    key: readFileSync(join(ROOT, 'test/fixtures/tls/server.key')),
    cert: readFileSync(join(ROOT, 'test/fixtures/tls/server.pem')),
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onMailFrom(_addr, session, cb) {
      if (!session.secure) return cb(Object.assign(new Error('Must issue a STARTTLS command first'), { responseCode: 530 }));
      cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), user: session.user as string | undefined, secure: session.secure, raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
