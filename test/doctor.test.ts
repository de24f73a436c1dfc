import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/cli.js';
import { findAccount, historyProblem } from '../src/doctor/service-user.js';
import { setupE2E } from './helpers/e2e.js';

interface Check { name: string; status: string; message: string; fix?: string }
const checksOf = (stdout: string): Check[] => JSON.parse(stdout).checks;
const find = (cs: Check[], name: string) => cs.find((c) => c.name === name) ?? cs.find((c) => c.name.startsWith(`${name} `));

test('doctor: a healthy setup passes every check', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const r = await e.run(['doctor', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cs = checksOf(r.stdout);
    for (const name of ['config', 'timezones', 'token secret', 'history', 'host', 'tls', 'token', 'version', 'privileges', 'quorum', 'crs']) {
      assert.equal(find(cs, name)?.status, 'pass', `${name}: ${JSON.stringify(find(cs, name))}`);
    }
    assert.match(find(cs, 'tls')!.message, new RegExp(`proxmox_ca_file .*fingerprint ${e.fake.fingerprint}`));
    const text = await e.run(['doctor']);
    assert.match(text.stdout, /all checks passed/);
    assert.ok(!text.stdout.includes(e.fake.tokenSecret) && !text.stderr.includes(e.fake.tokenSecret));
  } finally {
    await e.cleanup();
  }
});

test('doctor: missing privileges fail with the pveum command; quorum loss and CRS are reported', async () => {
  const e = await setupE2E({ scenario: { ...JSON.parse(readFileSync(new URL('../../test/fake-pve/scenarios/demo.json', import.meta.url), 'utf8')), crs: { ha: 'static', 'ha-auto-rebalance': 1 } }, tokens: [{ id: 'weak@pve!bal', secret: 'weak-secret-0000', privileges: ['VM.Audit', 'Sys.Audit'] }] });
  try {
    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_api_token_id: 'weak@pve!bal', proxmox_api_token_secret: 'weak-secret-0000' }), { mode: 0o600 });
    e.fake.inject({ kind: 'quorum-loss' });
    const r = await e.run(['doctor', '--json']);
    assert.equal(r.code, 1);
    const cs = checksOf(r.stdout);
    const p = find(cs, 'privileges')!;
    assert.equal(p.status, 'fail');
    assert.match(p.message, /lacks VM\.Migrate, Datastore\.Audit on \//);
    assert.match(p.fix!, /pveum role add ProxBalance --privs "VM\.Audit,VM\.Migrate,Sys\.Audit,Datastore\.Audit" && pveum acl modify \/ --tokens 'weak@pve!bal' --roles ProxBalance/);
    assert.equal(find(cs, 'quorum')!.status, 'fail');
    assert.equal(find(cs, 'crs')!.status, 'warn');
    assert.match(find(cs, 'crs')!.message, /two balancers/);
  } finally {
    await e.cleanup();
  }
});

test('doctor: a refused token, an unreachable host and insecure TLS each say what to do', async () => {
  const e = await setupE2E({ scenario: 'small' });
  try {
    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_api_token_secret: 'wrong-secret-1234' }), { mode: 0o600 });
    const bad = await e.run(['doctor', '--json']);
    assert.equal(bad.code, 1);
    const t = find(checksOf(bad.stdout), 'token')!;
    assert.equal(t.status, 'fail');
    assert.ok(!bad.stdout.includes('wrong-secret-1234'), 'the secret is never shown');

    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_host: ['127.0.0.1', e.fake.host], proxmox_port: e.fake.port, proxmox_ca_file: '', proxmox_verify_ssl: false }), { mode: 0o600 });
    const insecure = await e.run(['doctor', '--json']);
    const cs = checksOf(insecure.stdout);
    assert.equal(find(cs, 'tls')!.status, 'warn');
    assert.match(find(cs, 'tls')!.fix!, new RegExp(`proxmox_fingerprint to ${e.fake.fingerprint}`));

    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_port: 1 }), { mode: 0o600 });
    const down = await e.run(['doctor', '--json']);
    assert.equal(down.code, 1);
    const h = find(checksOf(down.stdout), 'host')!;
    assert.equal(h.status, 'fail');
    assert.match(h.message, /not reachable \(ECONNREFUSED\)/);
  } finally {
    await e.cleanup();
  }
});

test('doctor run as root judges the history by the service user, not by root', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const hist = join(dir, 'state', 'history.jsonl');
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'state'), { mode: 0o755 });
    chmodSync(join(dir, 'state'), 0o755);
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nproxbalance:x:64999:64999::/nonexistent:/usr/sbin/nologin\n';
    const group = 'root:x:0:\nproxbalance:x:64999:\n';
    assert.equal(findAccount('proxbalance', 'root:x:0:0::/root:/bin/bash\n', group), null, 'no service user: nothing to say');
    const who = findAccount('proxbalance', passwd, group)!;
    if (process.getuid?.() !== 0) return t.skip('needs root to own the folder as root');
    const p = historyProblem(hist, who)!;
    assert.match(p.message, /service user proxbalance cannot write .*state \(owner 0:0, mode 755\)/);
    assert.equal(p.fix, `chown proxbalance:proxbalance ${join(dir, 'state')} && chmod 0750 ${join(dir, 'state')}`);
    chownSync(join(dir, 'state'), 64999, 64999);
    assert.equal(historyProblem(hist, who), null);
    writeFileSync(hist, '', { mode: 0o644 });
    const f = historyProblem(hist, who)!;
    assert.match(f.message, /cannot write .*history\.jsonl/, 'the file itself, once it exists');
    assert.equal(f.fix, `chown proxbalance:proxbalance ${hist}`);
  } finally {
    cleanup();
  }
});
