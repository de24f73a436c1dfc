import { readFileSync } from 'node:fs';
import type { Provider, ProvidersConfig } from '../types.js';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function recipients(to: string | string[]): string[] {
  return (Array.isArray(to) ? to : to.split(',')).map((a) => a.trim()).filter(Boolean);
}

/**
 * E-mail over SMTP with nodemailer, plain text and HTML. smtp_tls (default) requires STARTTLS and
 * a certificate that verifies (smtp_ca_file adds a CA); port 465 speaks TLS from the start.
 */
export function email(c: ProvidersConfig['email'], timeoutMs: number): Provider {
  if (!c.smtp_host) throw new Error('email: smtp_host is empty');
  if (!c.from_address) throw new Error('email: from_address is empty');
  const to = recipients(c.to_addresses);
  if (!to.length) throw new Error('email: to_addresses is empty');
  let ca: string | undefined;
  if (c.smtp_ca_file) {
    try {
      ca = readFileSync(c.smtp_ca_file, 'utf8');
    } catch (e) {
      throw new Error(`email: smtp_ca_file: cannot read ${c.smtp_ca_file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const secure = c.smtp_port === 465;
  return {
    name: 'email',
    secrets: [c.smtp_password],
    async send(m, signal) {
      // Loaded when mail is sent, not by every command.
      const { default: nodemailer } = await import('nodemailer');
      const transport = nodemailer.createTransport({
        host: c.smtp_host, port: c.smtp_port, secure, requireTLS: c.smtp_tls && !secure, ignoreTLS: !c.smtp_tls && !secure,
        ...(c.smtp_username ? { auth: { user: c.smtp_username, pass: c.smtp_password } } : {}),
        tls: { ...(ca ? { ca } : {}), servername: c.smtp_host },
        connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
        disableFileAccess: true, disableUrlAccess: true,
      });
      const onAbort = () => transport.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await transport.sendMail({
          from: c.from_address, to, subject: `[proxbalance] ${m.title}`, text: m.text,
          html: `<html><body><h2>${escape(m.title)}</h2><pre style="font-family:monospace;white-space:pre-wrap">${escape(m.text)}</pre><hr><p style="color:#888;font-size:12px">Sent by proxbalance</p></body></html>`,
          ...(m.priority === 'high' || m.priority === 'emergency' ? { priority: 'high' as const } : {}),
        });
      } finally {
        signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  };
}
