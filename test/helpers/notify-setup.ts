import { join } from 'node:path';
import { ROOT } from './cli.js';
import { discordReceiver, gotifyReceiver, pushoverReceiver, slackReceiver, startSmtpReceiver, telegramReceiver, webhookReceiver, type HttpReceiver, type Mail } from './receivers.js';

/** Made-up secrets, each recognisable, checked never to appear in any output or record. */
export const SECRETS = {
  webhookHeader: 'Bearer whk-s3cr3t-7f1e',
  slackPath: '/services/T000/B000/slackS3cretXYZ',
  discordPath: '/api/webhooks/123/discordS3cretABC',
  telegramToken: '123456:TgS3cretTokenQQQ',
  pushoverToken: 'poAppTokenS3cret111',
  pushoverUser: 'poUserKeyS3cret222',
  gotifyToken: 'GotifyAppS3cret333',
  smtpPassword: 'SmtpPassS3cret444',
} as const;

export interface Receivers {
  http: Record<'webhook' | 'slack' | 'discord' | 'telegram' | 'pushover' | 'gotify', HttpReceiver>;
  smtp: { port: number; mails: Mail[]; close(): Promise<void> };
  /** automated_migrations.notifications pointing at all of them, every provider enabled. */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startReceivers(): Promise<Receivers> {
  const http = {
    webhook: await webhookReceiver(['Authorization', SECRETS.webhookHeader]),
    slack: await slackReceiver(),
    discord: await discordReceiver(),
    telegram: await telegramReceiver(SECRETS.telegramToken, '-100123'),
    pushover: await pushoverReceiver(SECRETS.pushoverToken, SECRETS.pushoverUser),
    gotify: await gotifyReceiver(SECRETS.gotifyToken),
  };
  const smtp = await startSmtpReceiver('alerts@example.com', SECRETS.smtpPassword);
  const config = {
    enabled: true,
    providers: {
      webhook: { enabled: true, url: `${http.webhook.url}/hook`, headers: { Authorization: SECRETS.webhookHeader } },
      email: {
        enabled: true, smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_username: 'alerts@example.com', smtp_password: SECRETS.smtpPassword,
        smtp_tls: true, smtp_ca_file: join(ROOT, 'test/fixtures/tls/ca.pem'), from_address: 'proxbalance@example.com', to_addresses: ['ops@example.com', 'oncall@example.com'],
      },
      slack: { enabled: true, webhook_url: `${http.slack.url}${SECRETS.slackPath}` },
      discord: { enabled: true, webhook_url: `${http.discord.url}${SECRETS.discordPath}` },
      telegram: { enabled: true, bot_token: SECRETS.telegramToken, chat_id: '-100123', api_url: http.telegram.url },
      pushover: { enabled: true, api_token: SECRETS.pushoverToken, user_key: SECRETS.pushoverUser, api_url: http.pushover.url },
      gotify: { enabled: true, url: http.gotify.url, app_token: SECRETS.gotifyToken },
    },
  };
  return {
    http, smtp, config,
    close: async () => {
      await Promise.all([...Object.values(http).map((r) => r.close()), smtp.close()]);
    },
  };
}

/** The title of each message a receiver accepted, in order (each API carries it its own way). */
export function titles(name: keyof Receivers['http'], r: HttpReceiver): string[] {
  return r.received.map((x) => {
    const f = x.fields as Record<string, any>;
    switch (name) {
      case 'webhook': case 'gotify': case 'pushover': return String(f.title);
      case 'slack': return String(f.attachments[0].title);
      case 'discord': return String(f.embeds[0].title);
      case 'telegram': return String(f.text).split('\n')[0]!.replace(/<\/?b>/g, '');
    }
  });
}

export function mailSubjects(mails: Mail[]): string[] {
  return mails.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? '');
}
