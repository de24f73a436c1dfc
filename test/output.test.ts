import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { BIN, ROOT } from './helpers/cli.js';
import { setupE2E, type E2E } from './helpers/e2e.js';

/**
 * What a person sees: a manual run on a terminal prints its table without the info lines that
 * say each decision a second time; errors say what failed and what to check; a dry run in a
 * blackout still shows what it would do; status --watch off a terminal warns once.
 */
let e: E2E;
before(async () => {
  e = await setupE2E({ scenario: 'demo' });
});
after(async () => e?.cleanup());

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

/** Runs the CLI on a pseudo-terminal (script(1)), as a person at a shell would. */
function onTerminal(args: string[]): Promise<string> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PROXBALANCE_POLL_MS: '25' } });
    let outText = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (outText += d));
    child.on('error', reject);
    child.on('close', () => resolve(strip(outText)));
  });
}

test('a manual run on a terminal prints the table once, with log lines only at warn and above', async (t) => {
  if (spawnSync('script', ['--version']).error) return t.skip('script(1) not installed (util-linux)');
  chmodSync(e.configPath, 0o644); // a warning worth showing: the secret is readable by everyone
  try {
    const tty = await onTerminal(['run', '--dry-run', '--config', e.configPath]);
    assert.match(tty, /^Plan: \d+ move\(s\)/m, tty);
    assert.match(tty, /^Not moved: /m);
    assert.match(tty, /\bwarn\s+.*readable by everyone/, 'warnings still show');
    assert.doesNotMatch(tty, /\binfo\s/, `no info lines on a terminal:\n${tty}`);
    assert.equal((tty.match(/Has 'ignore' tag/g) ?? []).length, 1, 'each decision said once');
    // Piped (the timer's journal, a script): the info lines stay, on stderr.
    const piped = await e.run(['run', '--dry-run']);
    assert.match(piped.stderr, /info\s+VM 106 \(legacy\): skipped: Has 'ignore' tag/);
  } finally {
    chmodSync(e.configPath, 0o600);
  }
});

test('errors say what failed and what to check, without "error error"', async () => {
  const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
  writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_port: 1, proxmox_timeout_seconds: 5 }), { mode: 0o600 });
  try {
    const refused = await e.run(['run', '--dry-run']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ECONNREFUSED.*: check proxmox_host, proxmox_port \(8006 unless changed\) and any firewall/);
    assert.doesNotMatch(refused.stderr, /error\s+error/);
    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_ca_file: undefined }), { mode: 0o600 });
    const tls = await e.run(['run', '--dry-run']);
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /run `proxbalance doctor` to see the certificate presented/);
    assert.doesNotMatch(tls.stderr, /error\s+error/);
  } finally {
    writeFileSync(e.configPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
  }
});

test('run --dry-run inside a blackout still shows what it would do (docs/decisions.md)', async () => {
  const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
  const all = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  writeFileSync(e.configPath, JSON.stringify({
    ...cfg, automated_migrations: { ...cfg.automated_migrations, schedule: { blackout_windows: [{ name: 'Freeze', days: all, start_time: '00:00', end_time: '23:59' }, { name: 'Freeze2', days: all, start_time: '23:59', end_time: '00:00' }] } },
  }), { mode: 0o600 });
  try {
    const r = await e.run(['run', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Blackout window active/);
    assert.match(r.stdout, /^ {2}Blackout window active.*: VM \d+ → pve\d/m, `the would-be moves, with their targets:\n${r.stdout}`);
    const live = await e.run(['run']);
    assert.equal(live.code, 0, live.stderr);
    assert.doesNotMatch(live.stdout, /→ pve/, 'a real run in a blackout asks nothing and plans nothing');
  } finally {
    writeFileSync(e.configPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
  }
});

test('status --watch off a terminal warns about the config once, not every frame', async () => {
  chmodSync(e.configPath, 0o644);
  try {
    const w = spawn(process.execPath, [BIN, 'status', '--offline', '--watch', '1', '--config', e.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    w.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    w.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    for (let i = 0; i < 200 && (stdout.match(/^Automation/gm) ?? []).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    w.kill('SIGINT');
    await new Promise((r) => w.on('close', r));
    assert.ok((stdout.match(/^Automation/gm) ?? []).length >= 3, 'three frames');
    assert.equal((stderr.match(/readable by everyone/g) ?? []).length, 1, stderr);
  } finally {
    chmodSync(e.configPath, 0o600);
  }
});
