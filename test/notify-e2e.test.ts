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
