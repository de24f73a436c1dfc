import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setupE2E } from './helpers/e2e.js';
import { decodeQP } from './helpers/receivers.js';
import { SECRETS, mailSubjects, startReceivers, titles, type Receivers } from './helpers/notify-setup.js';
import type { HistoryRecord, NotificationRecord } from '../src/history/store.js';

const notes = (rs: HistoryRecord[]) => rs.filter((r): r is NotificationRecord => r.type === 'notification');
const PROVIDERS = ['webhook', 'email', 'slack', 'discord', 'telegram', 'pushover', 'gotify'];

function allTitles(rx: Receivers): Record<string, string[]> {
  const out: Record<string, string[]> = { email: mailSubjects(rx.smtp.mails).map((s) => s.replace(/^\[proxbalance\] /, '')) };
  for (const [name, r] of Object.entries(rx.http)) out[name] = titles(name as keyof Receivers['http'], r);
  return out;
}

test('a failed migration: every provider hears of the halt exactly once across three further ticks; resume is announced; no secret anywhere', async () => {
  const rx = await startReceivers();
  const e = await setupE2E({ scenario: 'demo' }, { notifications: rx.config });
  const outputs: string[] = [];
  try {
    e.fake.inject({ kind: 'fail-migration', vmid: 103, reason: 'migration aborted' });
    const first = await e.run(['run']);
    outputs.push(first.stdout, first.stderr);
    assert.equal(first.code, 1, first.stderr);
    for (let i = 0; i < 3; i++) {
      const r = await e.run(['run']);
      outputs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const r of Object.values(rx.http)) assert.deepEqual(r.rejected, [], 'every request was what the API expects');
    const got = allTitles(rx);
    for (const p of PROVIDERS) {
      const halts = got[p]!.filter((t) => /Automation Halted/.test(t));
      assert.equal(halts.length, 1, `${p}: the halt exactly once, got ${JSON.stringify(got[p])}`);
      assert.match(got[p]![0]!, /Migration Run Started/, `${p}: start first`);
      assert.ok(got[p]!.some((t) => /Migration Run Completed/.test(t)), `${p}: complete`);
      assert.equal(got[p]!.length, 3, `${p}: start, complete, halt and nothing from the halted ticks: ${JSON.stringify(got[p])}`);
    }
    // The halt says what failed and the exact command that resumes.
    const hook = rx.http.webhook.received.find((x) => /Automation Halted/.test(String(x.fields.title)))!;
    assert.equal(hook.fields.priority, 'emergency');
    assert.match(String(hook.fields.message), /VM 103 \(db-2\) from pve1 to pve3/);
    assert.match(String(hook.fields.message), /migration aborted/);
    assert.ok(String(hook.fields.message).includes(`proxbalance resume --config ${e.configPath}`));
    const po = rx.http.pushover.received.find((x) => /Automation Halted/.test(String(x.fields.title)))!.fields;
    assert.deepEqual([po.priority, po.retry, po.expire], ['2', '60', '3600'], 'Pushover emergency: retry 60, expire 3600');
    const complete = rx.http.webhook.received.find((x) => /Completed/.test(String(x.fields.title)))!.fields;
    assert.equal(complete.priority, 'high', 'a run with a failure completes with high priority');
    assert.match(String(complete.message), /Failed: 1/);
    const gotifyHalt = rx.http.gotify.received.find((x) => /Halted/.test(String(x.fields.title)))!.fields;
    assert.equal(gotifyHalt.priority, 10);
    // E-mail went through STARTTLS with the login, as plain text and HTML, to both recipients.
    const mail = rx.smtp.mails.find((m) => /Automation Halted/.test(m.raw))!;
    assert.ok(mail.secure, 'STARTTLS before the message');
    assert.equal(mail.user, 'alerts@example.com');
    assert.deepEqual(mail.to, ['ops@example.com', 'oncall@example.com']);
    assert.match(mail.raw, /multipart\/alternative/);
    assert.match(mail.raw, /text\/plain/);
    assert.match(mail.raw, /text\/html/);
    assert.ok(decodeQP(mail.raw).includes(`proxbalance resume --config ${e.configPath}`));

    // History: one halt notification, every provider ok; the halted ticks recorded nothing more.
    const halts = notes(e.records()).filter((n) => n.event === 'halt');
    assert.equal(halts.length, 1);
    assert.deepEqual(halts[0]!.deliveries.map((d) => d.provider).sort(), [...PROVIDERS].sort());
    assert.ok(halts[0]!.deliveries.every((d) => d.ok));

    const res = await e.run(['resume']);
    outputs.push(res.stdout, res.stderr);
    assert.equal(res.code, 0, res.stderr);
    for (const p of PROVIDERS) assert.equal(allTitles(rx)[p]!.filter((t) => /Automation Resumed/.test(t)).length, 1, `${p}: resume announced`);
    const shown = await e.run(['config', 'show']);
    outputs.push(shown.stdout, shown.stderr);
    const history = readFileSync(e.historyPath, 'utf8');
    for (const [what, s] of Object.entries(SECRETS)) {
      for (const o of outputs) assert.ok(!o.includes(s), `${what} in output`);
      assert.ok(!history.includes(s), `${what} in the history`);
    }
    assert.match(shown.stdout, /smtp_password = "\*\*\*\*\*\*\*\*"/);
  } finally {
    await e.cleanup();
    await rx.close();
  }
});

test('a hanging receiver: the tick goes on and records the timeout; a failing provider does not stop the others', async () => {
  const rx = await startReceivers();
  rx.http.webhook.hang = true;
  const cfg = structuredClone(rx.config) as { providers: Record<string, Record<string, unknown>> };
  cfg.providers.gotify!.app_token = 'WrongGotifyToken999';
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true, notifications: cfg });
  try {
    const r = await e.run(['run'], { PROXBALANCE_NOTIFY_TIMEOUT_MS: '5000' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dry-run → success/);
    assert.match(r.stderr, /could not be sent via webhook: no answer within 5 s \(timed out\)/);
    assert.match(r.stderr, /could not be sent via gotify: HTTP 401/);
    const recs = notes(e.records());
    assert.deepEqual(recs.map((n) => n.event), ['start', 'complete']);
    for (const n of recs) {
      const by = Object.fromEntries(n.deliveries.map((d) => [d.provider, d]));
      assert.equal(by.webhook!.ok, false);
      assert.match(by.webhook!.error!, /timed out/);
      assert.equal(by.gotify!.ok, false);
      assert.match(by.gotify!.error!, /HTTP 401: .*valid access token/);
      for (const p of ['email', 'slack', 'discord', 'telegram', 'pushover']) assert.equal(by[p]!.ok, true, `${p} delivered: ${by[p]!.error}`);
    }
    assert.match(recs[1]!.deliveries.find((d) => d.provider === 'webhook')!.error!, /timed out on this tick's start message/, 'a hung provider holds the tick up once, not once a message');
    assert.ok(!readFileSync(e.historyPath, 'utf8').includes('WrongGotifyToken999'));
    // Dry runs say so in every title.
    for (const t of allTitles(rx).slack!) assert.match(t, /\[DRY RUN\]$/);
    assert.equal(rx.http.slack.received.length, 2, 'start and complete');
  } finally {
    await e.cleanup();
    await rx.close();
  }
});

test('notify test: exits 0 when the provider accepts, 1 with the provider\'s error when it does not', async () => {
  const rx = await startReceivers();
  const cfg = structuredClone(rx.config) as { providers: Record<string, Record<string, unknown>> };
  cfg.providers.telegram!.bot_token = '999:WrongTelegramToken';
  cfg.providers.discord!.enabled = false;
  const e = await setupE2E({ scenario: 'demo' }, { notifications: cfg });
  try {
    const ok = await e.run(['notify', 'test', 'gotify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^gotify: sent$/m);
    assert.equal(rx.http.gotify.received.length, 1);
    assert.equal(rx.http.webhook.received.length, 0, 'only the named provider');
    const off = await e.run(['notify', 'test', 'discord']);
    assert.equal(off.code, 0, 'a provider is tried before it is enabled');
    assert.equal(rx.http.discord.received.length, 1);
    const tg = await e.run(['notify', 'test', 'telegram']);
    assert.equal(tg.code, 1);
    assert.match(tg.stdout, /telegram: failed: HTTP 401: .*Unauthorized/);
    assert.ok(!tg.stdout.includes('WrongTelegramToken') && !tg.stderr.includes('WrongTelegramToken'), 'the token is not in the error');
    const all = await e.run(['notify', 'test']);
    assert.equal(all.code, 1, 'one failing provider fails the test');
    for (const p of ['webhook', 'email', 'slack', 'pushover', 'gotify']) assert.match(all.stdout, new RegExp(`^${p}: sent$`, 'm'));
    assert.doesNotMatch(all.stdout, /discord/, 'disabled providers are not part of a test of all');
    assert.equal(rx.smtp.mails.length, 1);
    assert.equal((await e.run(['notify', 'test', 'carrier-pigeon'])).code, 2);
    // Without smtp_tls the message would go in clear: the receiver refuses it, the test says why.
    const set = await e.run(['config', 'set', 'automated_migrations.notifications.providers.email.smtp_tls', 'false']);
    assert.equal(set.code, 0, set.stderr);
    const clear = await e.run(['notify', 'test', 'email']);
    assert.equal(clear.code, 1);
    assert.match(clear.stdout, /email: failed: .*STARTTLS/);
    const secret = await e.run(['config', 'set', 'automated_migrations.notifications.providers.gotify.app_token', 'NewGotifyS3cret']);
    assert.equal(secret.code, 0, secret.stderr);
    assert.match(secret.stdout, /app_token = \*{8}$/m);
    assert.ok(!secret.stdout.includes('NewGotifyS3cret'));
    const bad = await e.run(['config', 'set', 'automated_migrations.notifications.providers.pushover.priority', '3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /automated_migrations\.notifications\.providers\.pushover\.priority must be ≤ 2 \(got 3\)/);
    assert.equal(notes(e.records()).length, 0, 'tests are not recorded');
  } finally {
    await e.cleanup();
    await rx.close();
  }
});

test('no message for ticks that decide nothing; a health gate that holds moves back is a failure', async () => {
  const rx = await startReceivers();
  const e = await setupE2E({ scenario: 'demo' }, { notifications: rx.config });
  try {
    e.fake.inject({ kind: 'quorum-loss' });
    const held = await e.run(['run']);
    assert.equal(held.code, 0, held.stderr);
    const hook = rx.http.webhook.received.map((x) => x.fields);
    assert.equal(hook.length, 1);
    assert.equal(hook[0]!.title, 'Migration Safety Check Failed');
    assert.equal(hook[0]!.priority, 'high');
    assert.match(String(hook[0]!.message), /not quorate/);
    assert.match(String(hook[0]!.message), /Moves held back: [1-9]/);
    assert.equal((await e.run(['run'])).code, 0);
    assert.equal(rx.http.webhook.received.length, 1, 'said once, not by every tick while the gate blocks');
    e.fake.clearFaults();
    e.fake.state.quorate = true;
    const moved = await e.run(['run']);
    assert.equal(moved.code, 0, moved.stderr);
    const before = rx.http.webhook.received.length;
    assert.equal(before, 3, `start and complete: ${JSON.stringify(rx.http.webhook.received.map((x) => x.fields.title))} ${moved.stdout}`);
    // Ticks that plan no move say nothing (here: no move reaches the confidence floor).
    const idle = await setupE2E({ scenario: 'demo' }, { notifications: rx.config, rules: { min_confidence_score: 100 } });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await idle.run(['run'])).code, 0);
      assert.ok(idle.records().filter((r) => r.type === 'run').every((r) => r.type === 'run' && r.outcome === 'no_action'));
      assert.equal(rx.http.webhook.received.length, before);
    } finally {
      await idle.cleanup();
    }
    const off = await setupE2E({ scenario: 'demo' }, { notifications: { ...rx.config, on_start: false, on_complete: false } });
    try {
      assert.equal((await off.run(['run'])).code, 0);
      assert.equal(rx.http.webhook.received.length, before, `on_start and on_complete false: nothing ${JSON.stringify(rx.http.webhook.received.map((x) => x.fields.title))}`);
    } finally {
      await off.cleanup();
    }
  } finally {
    await e.cleanup();
    await rx.close();
  }
});
