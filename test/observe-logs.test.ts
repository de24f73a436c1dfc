import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, runCli } from './helpers/cli.js';
import { NOW, sharedFixture, writeFixture } from './helpers/history-fixture.js';
import { colorWanted } from '../src/cli/style.js';
import { guestLabel, guestPattern, guestRef } from '../src/util/guest.js';

const fx = sharedFixture();

const UNIT = 'proxmox-balance-automigrate.service';
const unitInstalledHere = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'].some((d) =>
  existsSync(join(d, UNIT)),
);

/** A PATH holding only a fake journalctl (a shell script), or nothing at all. */
function fakePath(name: string, script: string | null): string {
  const bin = join(fx.dir, name);
  mkdirSync(bin, { recursive: true });
  if (script !== null) {
    writeFileSync(join(bin, 'journalctl'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'journalctl'), 0o755);
  }
  return bin;
}

test('guests are named VM 120 / CT 121 everywhere; the filter does not confuse 120 with 1200', () => {
  assert.equal(guestRef(120, 'qemu'), 'VM 120');
  assert.equal(guestRef(121, 'lxc'), 'CT 121');
  assert.equal(guestLabel(120, 'qemu', 'web01'), 'VM 120 web01');
  const p = guestPattern(120);
  assert.ok(p.test('VM 120: 2.0 GiB of 12.6 GiB') && p.test('skip CT 120: Cooldown active'));
  assert.ok(!p.test('VM 1200 moved') && !p.test('VM 12 moved') && !p.test('SVM 120'));
});

test('logs: a clear message and exit 1 when journalctl is absent', async () => {
  const r = await runCli(['logs'], { env: { PATH: fakePath('empty-bin', null) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /journalctl not found: this machine has no systemd journal/);
  assert.equal(r.stdout, '');
});

test('logs: runs journalctl on the service unit and filters to the guest asked for', async () => {
  const bin = fakePath('fake-bin', 'echo "args: $*"\necho "VM 120: 2.0 GiB of 12.6 GiB, 1.1 GiB/s, elapsed 0:45"\necho "CT 1200 skip: Cooldown active"\necho "CT 120 skip: Cooldown active"\necho "tick done"');
  const [all, one] = await Promise.all([
    runCli(['logs', '-n', '20'], { env: { PATH: bin } }),
    runCli(['logs', '--vmid', '120'], { env: { PATH: bin } }),
  ]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.split('\n')[0], `args: -u ${UNIT} -n 20 -o cat --no-pager -q`);
  assert.equal(all.stdout.split('\n').length, 6);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, 'VM 120: 2.0 GiB of 12.6 GiB, 1.1 GiB/s, elapsed 0:45\nCT 120 skip: Cooldown active\n');
  const jbin = fakePath('fake-json-bin', `echo '{"MESSAGE":"VM 120: completed","PRIORITY":"6","ARGS":"'"$*"'"}'\necho '{"MESSAGE":"VM 121: completed","PRIORITY":"6"}'`);
  const json = await runCli(['logs', '--json', '--vmid', '120'], { env: { PATH: jbin } });
  assert.equal(json.code, 0, json.stderr);
  const entries = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(entries.length, 1);
  assert.equal(entries[0].MESSAGE, 'VM 120: completed');
  assert.match(entries[0].ARGS, /-o json/);
  const bad = await runCli(['logs', '-n', 'all'], { env: { PATH: bin } });
  assert.equal(bad.code, 2);
});

test('logs: a failing journalctl and an absent unit give exit 1 with a message', async () => {
  const failing = await runCli(['logs'], { env: { PATH: fakePath('failing-bin', 'echo "Failed to open journal: permission denied" >&2\nexit 1') } });
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /journalctl failed \(exit 1\): Failed to open journal: permission denied/);
  if (unitInstalledHere) return; // the rest describes a machine without the service
  const silent = fakePath('silent-bin', 'exit 0');
  const [empty, follow] = await Promise.all([runCli(['logs'], { env: { PATH: silent } }), runCli(['logs', '-f'], { env: { PATH: silent } })]);
  assert.equal(empty.code, 1);
  // No journald (this machine, CI's): said as such, not as an empty journal ("no entries yet", exit 0).
  if (!existsSync('/run/systemd/journal')) {
    assert.match(empty.stderr, /no journald on this machine \(\/run\/systemd\/journal does not exist\): nothing records the service's log here/);
    assert.doesNotMatch(empty.stderr, /no entries yet|has the timer run/);
  } else assert.match(empty.stderr, new RegExp(`${UNIT} is not installed on this machine .* its journal is empty`));
  assert.equal(follow.code, 1);
  assert.match(follow.stderr, /is not installed on this machine .*nothing to follow/);
});

test('under systemd (JOURNAL_STREAM) every log line carries its syslog priority and no timestamp; guests named VM 120', async () => {
  const r = await runCli(['history', '--vmid', '120', '--verbose', '--config', fx.config], { env: { JOURNAL_STREAM: '8:12345', PROXBALANCE_NOW: NOW } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length >= 3);
  for (const l of lines) assert.match(l, /^<[3467]>/, l);
  assert.ok(lines.every((l) => !/^<\d>\d{2}:\d{2}:\d{2}/.test(l)), 'the journal adds the time itself');
  assert.ok(lines.includes(`<4>${join(fx.dir, 'history.jsonl')} line 3: skipped, not valid JSON`));
  assert.ok(lines.some((l) => /^<7>read \d+ records/.test(l)));
  assert.ok(lines.includes('<7>history: 2 migrations of VM 120 match'));
  // An error: <3>; every line of a multi-line message keeps the prefix.
  writeFileSync(join(fx.dir, 'bad.json'), JSON.stringify({ proxmox_port: 'x', automated_migrations: { check_interval_minutes: 0 } }), { mode: 0o600 });
  const e = await runCli(['status', '--config', join(fx.dir, 'bad.json')], { env: { JOURNAL_STREAM: '8:12345' } });
  assert.equal(e.code, 2);
  const elines = e.stderr.trimEnd().split('\n');
  assert.ok(elines.length >= 2, e.stderr);
  for (const l of elines) assert.match(l, /^<3>/, l);
});

test('log level: log_level in config, --verbose and --quiet override it; --log-format json', async () => {
  const { config: debugCfg } = writeFixture(join(fx.dir, 'dbg'), { config: { log_level: 'debug' } });
  const { config: warnCfg } = writeFixture(join(fx.dir, 'wrn'), { config: { log_level: 'error' } });
  const env = { PROXBALANCE_NOW: NOW };
  const [debug, quiet, errorOnly, verbose, json] = await Promise.all([
    runCli(['stats', '--config', debugCfg], { env }),
    runCli(['stats', '--config', debugCfg, '--quiet'], { env }),
    runCli(['stats', '--config', warnCfg], { env }),
    runCli(['stats', '--config', warnCfg, '--verbose'], { env }),
    runCli(['stats', '--config', fx.config, '--log-format', 'json'], { env }),
  ]);
  assert.match(debug.stderr, /debug read \d+ records/);
  assert.doesNotMatch(quiet.stderr, /read \d+ records/);
  assert.match(quiet.stderr, /warn {2}.*line 3: skipped/);
  assert.equal(errorOnly.stderr, '', 'log_level error hides the warnings');
  assert.match(verbose.stderr, /debug read \d+ records/);
  const entries = json.stderr.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.ok(entries.length >= 2);
  assert.ok(entries.every((x) => x.level === 'warn' && typeof x.time === 'string' && /skipped/.test(x.message)));
  for (const r of [debug, quiet, errorOnly, verbose, json]) assert.equal(r.code, 0);
});

test('the token secret never reaches a log line', async () => {
  const secret = '0b9c4c4e-5d43-4e8e-9d53-6f1a1c2b3d4e';
  const sub = join(fx.dir, secret);
  const { config: cfg } = writeFixture(sub, { config: { proxmox_api_token_secret: secret } });
  const r = await runCli(['history', '--config', cfg, '--verbose'], { env: { PROXBALANCE_NOW: NOW } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\*\*\*\/history\.jsonl line 3: skipped/);
  assert.ok(!r.stderr.includes(secret));
});

test('colour: only on a terminal, never with NO_COLOR or TERM=dumb', () => {
  assert.equal(colorWanted({ isTTY: true }, {}), true);
  assert.equal(colorWanted({ isTTY: false }, {}), false);
  assert.equal(colorWanted({}, {}), false);
  assert.equal(colorWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorWanted({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
  assert.equal(colorWanted({ isTTY: true }, { TERM: 'dumb' }), false);
});

test('colour on a real terminal, none with NO_COLOR (through script(1) when the machine has it)', async (t) => {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.error) return t.skip('script(1) not installed');
  const run = (noColor: boolean) => {
    const env: Record<string, string | undefined> = { ...process.env, PROXBALANCE_NOW: NOW, TERM: 'xterm' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    if (noColor) env.NO_COLOR = '1';
    const cmd = [process.execPath, BIN, 'history', '--last', '1', '--config', fx.config].map((a) => `'${a}'`).join(' ');
    return spawnSync('script', ['-qec', cmd, '/dev/null'], { env, encoding: 'utf8' });
  };
  const tty = run(false);
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /\x1b\[1mTIME/, 'bold header on a terminal');
  const plain = run(true);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /TIME/);
  assert.doesNotMatch(plain.stdout, /\x1b\[/);
});
