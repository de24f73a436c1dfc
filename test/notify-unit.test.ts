import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMEOUT_MS, deliver, deliveryTimeoutMs } from '../src/notify/deliver.js';
import { HALT_ATTEMPTS, haltRecipients } from '../src/notify/notifier.js';
import type { HaltedRecord, HistoryRecord } from '../src/history/store.js';
import type { Provider } from '../src/notify/types.js';
import { testMessage } from '../src/notify/events.js';

test('each provider gets 10 s by default; only the test-suite variable shortens it', () => {
  assert.equal(DEFAULT_TIMEOUT_MS, 10_000);
  assert.equal(deliveryTimeoutMs({}), 10_000);
  assert.equal(deliveryTimeoutMs({ PROXBALANCE_NOTIFY_TIMEOUT_MS: 'junk' }), 10_000);
  assert.equal(deliveryTimeoutMs({ PROXBALANCE_NOTIFY_TIMEOUT_MS: '250' }), 250);
});

test('a halt goes to the providers that have not received it, a failing one at most HALT_ATTEMPTS times', () => {
  const halt: HaltedRecord = { v: 1, type: 'halted', at: '2026-11-30T10:00:00Z', run_id: 'r1', vmid: 103, error: 'migration aborted' };
  const note = (ok: Record<string, boolean>, haltAt = halt.at): HistoryRecord => ({
    v: 1, type: 'notification', at: '2026-11-30T10:00:01Z', event: 'halt', title: 't', halt_at: haltAt,
    deliveries: Object.entries(ok).map(([provider, o]) => ({ provider, ok: o, ...(o ? {} : { error: 'x' }) })),
  });
  const names = ['webhook', 'email', 'gotify'] as const;
  assert.deepEqual(haltRecipients([halt], halt, names), [...names]);
  const once = [halt, note({ webhook: true, email: false, gotify: true })];
  assert.deepEqual(haltRecipients(once, halt, names), ['email']);
  const failing = [halt, ...Array.from({ length: HALT_ATTEMPTS }, () => note({ email: false }))];
  assert.deepEqual(haltRecipients(failing, halt, ['email']), [], 'given up after HALT_ATTEMPTS failures');
  assert.deepEqual(haltRecipients([halt, note({ webhook: true }, '2026-01-01T00:00:00Z')], halt, ['webhook']), ['webhook'], 'an earlier halt\'s announcement does not count');
});

test('delivery: secrets are scrubbed from errors; a provider that throws does not stop another', async () => {
  const bad: Provider = { name: 'webhook', secrets: ['tok-123456'], send: async () => { throw new Error('refused for tok-123456'); } };
  const good: Provider = { name: 'gotify', secrets: [], send: async () => undefined };
  const ds = await deliver([bad, good], testMessage(new Date()), 1000);
  assert.deepEqual(ds, [{ provider: 'webhook', ok: false, error: 'refused for ***' }, { provider: 'gotify', ok: true }]);
});
