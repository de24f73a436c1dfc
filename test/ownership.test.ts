import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E, type E2E } from './helpers/e2e.js';
import { makeUser, runCliAs } from './helpers/users.js';

/**
 * A root shell's manual run must not lock the service (another user) out of its history: what a
 * run creates belongs to the owner of the folder it is created in (docs/operations.md). And
 * doctor, run as root, FAILS when the service user cannot write the history or read the config,
 * printing the command that fixes it. Needs root (CI runs as root) and a real second user.
 */
const NOT_ROOT = 'needs root: creates a throw-away user with useradd and runs the CLI as it with runuser';
let user: ReturnType<typeof makeUser> = null;
let e: E2E;
let state = '';

before(async () => {
  user = makeUser();
  if (!user) return;
  e = await setupE2E({ scenario: 'demo' });
  chmodSync(e.dir, 0o755); // mkdtemp makes it 0700: the service user must pass through it
  state = join(e.dir, 'state');
  mkdirSync(state, { mode: 0o750 });
  chownSync(state, user.uid, user.gid);
  const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
  writeFileSync(e.configPath, JSON.stringify({ ...cfg, history_file: join(state, 'sub', 'history.jsonl') }, null, 2));
  chownSync(e.configPath, 0, user.gid);
  chmodSync(e.configPath, 0o640);
});

after(async () => {
  await e?.cleanup();
  user?.remove();
});

test('a dry run as root creates a history the service user owns, and the service user can go on', async (t) => {
  if (!user) return t.skip(NOT_ROOT);
  const hist = join(state, 'sub', 'history.jsonl');
  const root = await e.run(['run', '--dry-run']);
  assert.equal(root.code, 0, root.stderr);
  for (const p of [join(state, 'sub'), hist]) {
    const st = statSync(p);
    assert.deepEqual([st.uid, st.gid], [user.uid, user.gid], `${p} is owned by ${st.uid}:${st.gid}, not by the folder's owner`);
  }
  const svc = await runCliAs(user.name, ['run', '--dry-run', '--config', e.configPath]);
  assert.equal(svc.code, 0, `the service user's run after root's failed: ${svc.stderr}`);
  const runs = readFileSync(hist, 'utf8').split('\n').filter((l) => l.includes('"type":"run"'));
  assert.equal(runs.length, 2, 'both runs recorded');
});

test('doctor as root FAILS (exit 1) when the service user cannot write the history, and prints the fix', async (t) => {
  if (!user) return t.skip(NOT_ROOT);
  const hist = join(state, 'sub', 'history.jsonl');
  chownSync(hist, 0, 0); // what an older proxbalance's root run left behind
  chmodSync(hist, 0o644);
  try {
    const r = await e.run(['doctor'], { PROXBALANCE_SERVICE_USER: user.name });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`FAIL\\s+history\\s+the service user ${user.name} cannot write ${hist}`));
    assert.ok(r.stdout.includes(`fix: chown ${user.name}:${user.name} ${hist}`), r.stdout);
    assert.doesNotMatch(r.stdout, /all checks passed/);
  } finally {
    chownSync(hist, user.uid, user.gid);
  }
  const fixed = await e.run(['doctor', '--json'], { PROXBALANCE_SERVICE_USER: user.name });
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.equal(JSON.parse(fixed.stdout).checks.find((c: { name: string }) => c.name === 'service user')?.status, 'pass');
});

test('doctor as root FAILS when the service user cannot read the config: chown root:GROUP + chmod 0640', async (t) => {
  if (!user) return t.skip(NOT_ROOT);
  chownSync(e.configPath, 0, 0);
  chmodSync(e.configPath, 0o600);
  try {
    const r = await e.run(['doctor'], { PROXBALANCE_SERVICE_USER: user.name });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`FAIL\\s+config\\s+the service user ${user.name} cannot read the config ${e.configPath}`));
    assert.ok(r.stdout.includes(`fix: chown root:${user.name} ${e.configPath} && chmod 0640 ${e.configPath}`), r.stdout);
  } finally {
    chownSync(e.configPath, 0, user.gid);
    chmodSync(e.configPath, 0o640);
  }
});
