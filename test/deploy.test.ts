import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, BIN, tempDir } from './helpers/cli.js';

const SERVICE = 'proxmox-balance-automigrate.service';
const TIMER = 'proxmox-balance-automigrate.timer';
const DEPLOY = join(ROOT, 'deploy');
/** The bar: ProxBalance's and ProxLB's own units score 9.2 UNSAFE. */
const MAX_EXPOSURE = 2.0;

/**
 * Runs systemd-analyze. A missing systemd-analyze fails the test instead of skipping it: a
 * hardening check that quietly does not run is worse than none (.ci/run installs systemd).
 */
function analyze(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  if (r.error) {
    assert.fail(`systemd-analyze cannot be run (${(r.error as NodeJS.ErrnoException).code}): install the systemd package (apt-get install systemd; .ci/run does)`);
  }
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `Key=value` lines of a unit file (comments and sections left out); a key may repeat. */
function directives(path: string): Array<[string, string]> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith(';') && !l.startsWith('['))
    .map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()] as [string, string];
    });
}

function value(path: string, key: string): string | undefined {
  return directives(path).findLast(([k]) => k === key)?.[1];
}

test(`systemd-analyze security rates ${SERVICE} at exposure ${MAX_EXPOSURE.toFixed(1)} or lower`, () => {
  const { code, out } = analyze(['security', '--offline=true', join(DEPLOY, SERVICE)]);
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) (\S+)/.exec(out);
  assert.ok(m, `no exposure figure in the output (exit ${code}):\n${out}`);
  const exposure = Number(m[1]);
  assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} ${m[2]} is above ${MAX_EXPOSURE}:\n${out}`);
});

test(`systemd-analyze verify finds nothing to say about ${SERVICE} and ${TIMER}`, () => {
  // verify checks that ExecStart's binary exists and is executable. /usr/bin/proxbalance exists
  // only once the package is installed, so the units are verified as copies in which that one
  // path is replaced by this repository's bin/proxbalance (what the .deb installs there); nothing
  // else is changed, and any output at all, warnings included (an unknown key is only a warning
  // with exit 0), fails the test. test/deb.test.ts checks that the packaged units are these files.
  const { dir, cleanup } = tempDir('proxbalance-units-');
  try {
    const service = readFileSync(join(DEPLOY, SERVICE), 'utf8');
    assert.match(service, /^ExecStart=\/usr\/bin\/proxbalance /m);
    writeFileSync(join(dir, SERVICE), service.replace(/^ExecStart=\/usr\/bin\/proxbalance /m, `ExecStart=${BIN} `));
    copyFileSync(join(DEPLOY, TIMER), join(dir, TIMER));
    const { code, out } = analyze(['verify', join(dir, SERVICE), join(dir, TIMER)]);
    assert.equal(out.trim(), '', `systemd-analyze verify complained (exit ${code}):\n${out}`);
    assert.equal(code, 0);
  } finally {
    cleanup();
  }
});

test('the service is a oneshot tick run by an unprivileged user, with the guide’s names and paths', () => {
  const s = join(DEPLOY, SERVICE);
  assert.equal(value(s, 'Type'), 'oneshot');
  assert.equal(value(s, 'ExecStart'), '/usr/bin/proxbalance run --scheduled');
  assert.equal(value(s, 'StateDirectory'), 'proxbalance');
  const user = value(s, 'User') ?? '';
  assert.ok(user && user !== 'root' && user !== '0', `User=${user} must name an unprivileged user`);
  assert.equal(value(s, 'ProtectSystem'), 'strict', 'only the state directory may be writable');
  assert.equal(value(s, 'ReadWritePaths'), undefined, 'StateDirectory= is the only writable path');
  // V8 aborts under MemoryDenyWriteExecute=yes (see the comment in the unit).
  assert.notEqual(value(s, 'MemoryDenyWriteExecute'), 'yes');
  const families = (value(s, 'RestrictAddressFamilies') ?? '').split(/\s+/);
  for (const f of ['AF_INET', 'AF_INET6']) assert.ok(families.includes(f), `${f} is needed for HTTPS to the API`);
});

test('the timer starts the service every minute, with no catch-up run after downtime', () => {
  const t = join(DEPLOY, TIMER);
  assert.equal(value(t, 'OnCalendar'), 'minutely');
  assert.equal(value(t, 'Unit'), SERVICE);
  assert.equal(value(t, 'Persistent'), 'false');
  assert.equal(value(t, 'WantedBy'), 'timers.target');
});
