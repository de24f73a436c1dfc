import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';
import { startFakePve, type FakePve } from './fake-pve/server.js';
import { assertValidSnapshot } from './helpers/snapshot-schema.js';

const SECRET = '7d0c5e9a-3f21-4b8e-9c77-5ec12e7000aa';
let fake: FakePve;
let other: FakePve;
const tmp = tempDir();

before(async () => {
  fake = await startFakePve({ scenario: 'demo', tokenSecret: SECRET });
  other = await startFakePve({ scenario: 'demo', tokenSecret: SECRET, cert: 'other' });
});
after(async () => {
  await Promise.all([fake.close(), other.close()]);
  tmp.cleanup();
});

let n = 0;
function config(f: FakePve, extra: Record<string, unknown>): string {
  const p = join(tmp.dir, `config-${++n}.json`);
  writeFileSync(p, JSON.stringify({ proxmox_host: f.host, proxmox_port: f.port, proxmox_api_token_id: f.tokenId, ...extra }), { mode: 0o600 });
  return p;
}
const env = { PROXBALANCE_TOKEN_SECRET: SECRET };
function noSecret(...texts: string[]): void {
  for (const t of texts) assert.ok(!t.includes(SECRET), `the secret appears in: ${t.slice(0, 400)}`);
}

test('snapshot --output writes a valid snapshot of the cluster, with no secret anywhere', async () => {
  const out = join(tmp.dir, 'snap.json');
  const r = await runCli(['snapshot', '--config', config(fake, { proxmox_ca_file: fake.caFile }), '--output', out], { env });
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  noSecret(text, r.stdout, r.stderr);
  const snap = JSON.parse(text);
  assertValidSnapshot(snap);
  assert.equal(snap.nodes.length, 3);
  assert.equal(snap.guests.length, 14);
  assert.equal(snap.api.requests, 7 + 3);
  assert.match(r.stderr, /written to/);
});

test('snapshot prints to stdout without --output; the secret may also come from the config file', async () => {
  const r = await runCli(['snapshot', '--config', config(fake, { proxmox_ca_file: fake.caFile, proxmox_api_token_secret: SECRET })]);
  assert.equal(r.code, 0, r.stderr);
  noSecret(r.stdout, r.stderr);
  assertValidSnapshot(JSON.parse(r.stdout));
});

test('a pinned fingerprint connects to a self-signed server', async () => {
  const r = await runCli(['snapshot', '--config', config(other, { proxmox_fingerprint: other.fingerprint })], { env });
  assert.equal(r.code, 0, r.stderr);
  assertValidSnapshot(JSON.parse(r.stdout));
});

test('an untrusted certificate fails with exit 1, naming the options and the presented fingerprint', async () => {
  const r = await runCli(['snapshot', '--config', config(other, {})], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /proxmox_ca_file/);
  assert.match(r.stderr, /proxmox_fingerprint/);
  assert.ok(r.stderr.includes(other.fingerprint), r.stderr);
  assert.equal(r.stdout, '');
  noSecret(r.stderr);
});

test('proxmox_verify_ssl false works and warns', async () => {
  const r = await runCli(['snapshot', '--config', config(other, { proxmox_verify_ssl: false })], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /proxmox_verify_ssl is false/);
  noSecret(r.stdout, r.stderr);
});

test('a refused token: exit 1, says the token ID/secret was refused, never shows the secret', async () => {
  const wrong = `${SECRET}-x`;
  const r = await runCli(['snapshot', '--config', config(fake, { proxmox_ca_file: fake.caFile, proxmox_api_token_secret: wrong }), '-v']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the API token ID\/secret/);
  assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong), r.stderr);
});

test('an unreadable CA file is a config error (exit 2)', async () => {
  const r = await runCli(['snapshot', '--config', config(fake, { proxmox_ca_file: join(tmp.dir, 'missing.pem') })], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /proxmox_ca_file/);
});
