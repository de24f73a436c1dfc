import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync, readdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './helpers/cli.js';
import { locateJsonError } from '../src/util/json-locate.js';
import { checkConfig, resolveTokenSecret } from '../src/config/load.js';
import { allKeyPaths, configSchema } from '../src/config/validate.js';

const SECRET = '0b9c4c4e-5d43-4e8e-9d53-6f1a1c2b3d4e';
const minimal = { proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal', proxmox_api_token_secret: 'test-secret-0000' };

function writeJson(dir: string, name: string, value: unknown, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value, null, 2), { mode });
  chmodSync(p, mode);
  return p;
}

test('defaults are filled for every key that has one', () => {
  const { config } = checkConfig(structuredClone(minimal), 'c.json');
  assert.equal(config.proxmox_port, 8006);
  assert.equal(config.proxmox_verify_ssl, true);
  assert.equal(config.history_file, '/var/lib/proxbalance/history.jsonl');
  assert.deepEqual(config.recommendation_thresholds, { cpu_threshold: 60, mem_threshold: 70, iowait_threshold: 30 });
  const am = config.automated_migrations;
  assert.equal(am.enabled, false);
  assert.equal(am.dry_run, true);
  assert.equal(am.check_interval_minutes, 5);
  assert.deepEqual(am.maintenance_nodes, []);
  assert.deepEqual(am.schedule, { timezone: 'UTC', migration_windows: [], blackout_windows: [] });
  assert.deepEqual(am.rules, {
    min_confidence_score: 75, max_migrations_per_run: 3, max_concurrent_migrations: 1, cooldown_minutes: 30,
    respect_ignore_tags: true, respect_exclude_tags: true, require_auto_migrate_ok_tag: false, migration_timeout_minutes: 120,
  });
  assert.deepEqual(am.safety_checks, {
    check_cluster_health: true, require_quorum: true, max_node_memory_percent: 90, max_node_cpu_percent: 85, abort_on_failure: true,
  });
  assert.deepEqual(config.distribution_balancing, { enabled: false, guest_count_threshold: 2, max_cpu_cores: 2, max_memory_gb: 4 });
});

test('a window gets enabled=true but not a timezone (it falls back to schedule.timezone)', () => {
  const raw = { ...minimal, automated_migrations: { schedule: { migration_windows: [{ name: 'n', days: ['friday'], start_time: '22:00', end_time: '06:00' }] } } };
  const { config } = checkConfig(raw, 'c.json');
  const w = config.automated_migrations.schedule.migration_windows[0]!;
  assert.equal(w.enabled, true);
  assert.equal(w.timezone, undefined);
});

test('every key of the schema has a description, and a default unless it is required', () => {
  const walk = (node: any, path: string) => {
    for (const [k, v] of Object.entries<any>(node.properties ?? {})) {
      const p = path ? `${path}.${k}` : k;
      assert.ok(v.description, `${p} has no description`);
      const required = (node.required ?? []).includes(k) || v['x-default-from'];
      if (!required) assert.ok('default' in v, `${p} has no default`);
      walk(v.$ref ? (configSchema().definitions as any)[v.$ref.split('/').pop()] : v, p);
      if (v.items?.$ref) walk((configSchema().definitions as any)[v.items.$ref.split('/').pop()], `${p}[]`);
    }
  };
  walk(configSchema(), '');
  assert.ok(allKeyPaths().length > 40);
});

test('a ProxBalance config.json with its extra sections loads unchanged', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'config.json');
    copyFileSync(join(ROOT, 'test/fixtures/proxbalance-config.json'), p);
    // Its secret is empty: config validate says so (exit 2); with the secret from the environment it is ready.
    const bare = await runCli(['config', 'validate', '--config', p]);
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, /config\.json: proxmox_api_token_secret is not set/);
    const r = await runCli(['config', 'validate', '--config', p], { env: { PROXBALANCE_TOKEN_SECRET: 'from-env-0000' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
    assert.doesNotMatch(r.stderr, /did you mean/, 'ProxBalance keys are not taken for typos');
    // ProxBalance's keys that proxbalance does not implement: one warning naming them all.
    const warned = r.stderr.split('\n').filter((l) => /does not implement/.test(l));
    assert.equal(warned.length, 1, r.stderr);
    assert.match(warned[0]!, /warn .*\d+ key\(s\) proxbalance does not implement, accepted and ignored .*: collection_interval_minutes.*ai_config/);
  } finally {
    cleanup();
  }
});

test('each error class names the file, key path and what was expected; exit 2', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...minimal, automated_migrations: { rules: { min_confidence_score: 150 } } }, /c\.json: automated_migrations\.rules\.min_confidence_score must be ≤ 100 \(got 150\)/],
      [{ ...minimal, automated_migrations: { rules: { max_migrations_per_run: 'three' } } }, /automated_migrations\.rules\.max_migrations_per_run must be of type integer \(got "three"\)/],
      [{ ...minimal, automated_migrations: { enabled: 'yes' } }, /automated_migrations\.enabled must be of type boolean/],
      [{ ...minimal, proxmox_port: 0 }, /proxmox_port must be ≥ 1 \(got 0\)/],
      [{ ...minimal, log_level: 'loud' }, /log_level must be one of "error", "warn", "info", "debug" \(got "loud"\)/],
      [{ ...minimal, automated_migrations: { schedule: { blackout_windows: [{ name: 'b', days: ['Monday'], start_time: '08:00', end_time: '18:00' }] } } }, /blackout_windows\[0\]\.days\[0\] must be one of "monday"/],
      [{ ...minimal, automated_migrations: { schedule: { migration_windows: [{ name: 'w', days: ['monday'], start_time: '8:00', end_time: '18:00' }] } } }, /migration_windows\[0\]\.start_time must be a time HH:MM \(24 h\) \(got "8:00"\)/],
      [{ ...minimal, automated_migrations: { schedule: { migration_windows: [{ name: 'w', days: ['monday'], start_time: '08:00', end_time: '08:00' }] } } }, /migration_windows\[0\]: start_time and end_time are both 08:00/],
      [{ ...minimal, automated_migrations: { schedule: { timezone: 'Mars/Olympus' } } }, /schedule\.timezone must be an IANA time zone/],
      [{ ...minimal, automated_migrations: { schedule: { migration_windows: [{ name: 'w', days: ['monday'], start_time: '08:00', end_time: '09:00', timezone: 'Nowhere/City' }] } } }, /migration_windows\[0\]\.timezone must be an IANA time zone/],
      [{ proxmox_api_token_id: 'root@pam!x' }, /proxmox_host is required but missing/],
      [{ ...minimal, proxmox_host: 42 }, /proxmox_host must be a host name or a list of host names \(got 42\)/],
      [{ ...minimal, proxmox_api_token_id: 'root' }, /proxmox_api_token_id must be a token ID written user@realm!tokenname/],
      [{ ...minimal, automated_migrations: { schedule: { migration_windows: [{ name: 'w', start_time: '08:00', end_time: '09:00' }] } } }, /migration_windows\[0\]\.days is required but missing/],
    ];
    for (const [cfg, re] of cases) {
      const p = writeJson(dir, 'c.json', cfg);
      const r = await runCli(['config', 'validate', '--config', p]);
      assert.equal(r.code, 2, `exit 2 for ${JSON.stringify(cfg)}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
  } finally {
    cleanup();
  }
});

test('unparseable JSON names the line and column', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = writeJson(dir, 'c.json', '{\n  "proxmox_host": "a",\n  "proxmox_port": ,\n}\n');
    const r = await runCli(['config', 'validate', '--config', p]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /c\.json: not valid JSON at line 3, column 19/);
    const missing = await runCli(['config', 'validate', '--config', join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: no such config file/);
  } finally {
    cleanup();
  }
});

test('locateJsonError finds the first error of several kinds', () => {
  assert.equal(locateJsonError('{"a": 1}'), null);
  assert.deepEqual(locateJsonError('{"a": 1,}'), { line: 1, column: 9, message: "trailing comma before '}'" });
  assert.equal(locateJsonError('{\n"a": 1\n"b": 2}')?.line, 3);
  assert.match(locateJsonError('{"a": "x')!.message, /not closed/);
  assert.match(locateJsonError('')!.message, /end of file/);
  assert.match(locateJsonError('{"a": tru}')!.message, /unexpected/);
  assert.match(locateJsonError('{} x')!.message, /after the end/);
});

test('a key close to a known one gets "did you mean", at its own level or another', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = writeJson(dir, 'c.json', { ...minimal, 'dry-run': true, automated_migrations: { min_confidence: 80, rules: { cooldown_minute: 5 } } });
    const r = await runCli(['config', 'validate', '--config', p]);
    assert.equal(r.code, 0, 'a warning is not an error');
    assert.match(r.stderr, /unknown key dry-run, ignored; did you mean automated_migrations\.dry_run\?/);
    assert.match(r.stderr, /unknown key automated_migrations\.min_confidence, ignored; did you mean automated_migrations\.rules\.min_confidence_score\?/);
    assert.match(r.stderr, /did you mean automated_migrations\.rules\.cooldown_minutes\?/);
  } finally {
    cleanup();
  }
});

test('show masks the secrets of keys proxbalance ignores (ProxBalance\'s password, AI API keys) but not their other values', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = writeJson(dir, 'c.json', {
      ...minimal,
      proxmox_password: 'hunter2-pw',
      ai_config: { openai: { api_key: 'sk-leaky-key', model: 'gpt-x' } },
      ollama_api_key: 'ollama-leaky',
    }, 0o600);
    for (const args of [['config', 'show'], ['config', 'show', '--json']]) {
      const r = await runCli([...args, '--config', p]);
      assert.equal(r.code, 0, r.stderr);
      for (const s of ['hunter2-pw', 'sk-leaky-key', 'ollama-leaky']) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${s} leaked by ${args.join(' ')}`);
    }
    const shown = JSON.parse((await runCli(['config', 'show', '--json', '--config', p])).stdout);
    assert.equal(shown.proxmox_password, '********');
    assert.equal(shown.ai_config.openai.api_key, '********');
    assert.equal(shown.ai_config.openai.model, 'gpt-x', 'an ignored key that is no secret is shown as it is');
  } finally {
    cleanup();
  }
});

test('a secret in a file readable by others is warned about; show masks it everywhere', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = writeJson(dir, 'c.json', { ...minimal, proxmox_api_token_secret: SECRET }, 0o644);
    for (const args of [['config', 'show'], ['config', 'show', '--json'], ['config', 'validate', '--verbose']]) {
      const r = await runCli([...args, '--config', p]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `secret leaked by ${args.join(' ')}`);
    }
    const shown = await runCli(['config', 'show', '--json', '--config', p]);
    assert.equal(JSON.parse(shown.stdout).proxmox_api_token_secret, '********');
    assert.equal(JSON.parse(shown.stdout).automated_migrations.rules.cooldown_minutes, 30);
    const text = await runCli(['config', 'show', '--config', p]);
    assert.match(text.stdout, /automated_migrations\.rules\.cooldown_minutes = 30 {2}\(default\)/);
    assert.match(text.stdout, /proxmox_host = "pve1"\n/);
    assert.match(text.stderr, /readable by everyone \(mode 0644\)/);
    // The advice keeps the service (group proxbalance, see deploy/debian/postinst) able to read it.
    assert.ok(text.stderr.includes(`chown root:proxbalance ${p} && chmod 0640 ${p}`), text.stderr);
    assert.doesNotMatch(text.stderr, /chmod 600/);
    chmodSync(p, 0o600);
    const quiet = await runCli(['config', 'validate', '--config', p]);
    assert.doesNotMatch(quiet.stderr, /readable/);
  } finally {
    cleanup();
  }
});

test('preset and set write atomically, keep unknown keys, key order and mode', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'config.json');
    copyFileSync(join(ROOT, 'test/fixtures/proxbalance-config.json'), p);
    chmodSync(p, 0o640);
    const before = JSON.parse(readFileSync(p, 'utf8'));
    const r = await runCli(['config', 'preset', 'aggressive', '--config', p]);
    assert.equal(r.code, 0, r.stderr);
    const after = JSON.parse(readFileSync(p, 'utf8'));
    assert.deepEqual(after.automated_migrations.rules, { ...before.automated_migrations.rules, min_confidence_score: 60, max_migrations_per_run: 5, cooldown_minutes: 15 });
    assert.deepEqual(Object.keys(after), Object.keys(before), 'top-level keys and their order kept');
    assert.deepEqual(after.ai_config, before.ai_config, 'unknown sections kept');
    assert.deepEqual(after.automated_migrations.notifications, before.automated_migrations.notifications);
    assert.equal(after.recommendation_thresholds._comment_thresholds, before.recommendation_thresholds._comment_thresholds);
    assert.equal(statSync(p).mode & 0o777, 0o640, 'mode kept');
    assert.equal(after.proxmox_port, 8006);
    assert.ok(!('history_file' in after), 'defaults are not written into the file');

    for (const [name, c, m, cd] of [['conservative', 85, 1, 60], ['balanced', 75, 3, 30]] as const) {
      assert.equal((await runCli(['config', 'preset', name, '--config', p])).code, 0);
      const rules = JSON.parse(readFileSync(p, 'utf8')).automated_migrations.rules;
      assert.deepEqual([rules.min_confidence_score, rules.max_migrations_per_run, rules.cooldown_minutes], [c, m, cd]);
    }
    assert.equal((await runCli(['config', 'preset', 'wild', '--config', p])).code, 2);

    const s1 = await runCli(['config', 'set', 'automated_migrations.rules.cooldown_minutes', '45', '--config', p]);
    assert.equal(s1.code, 0, s1.stderr);
    const s2 = await runCli(['config', 'set', 'automated_migrations.maintenance_nodes', '["pve2"]', '--config', p]);
    assert.equal(s2.code, 0, s2.stderr);
    const s3 = await runCli(['config', 'set', 'automated_migrations.schedule.timezone', 'Europe/Berlin', '--config', p]);
    assert.equal(s3.code, 0, s3.stderr);
    const s4 = await runCli(['config', 'set', 'automated_migrations.schedule.migration_windows[0].start_time', '23:00', '--config', p]);
    assert.equal(s4.code, 0, s4.stderr);
    const cfg = JSON.parse(readFileSync(p, 'utf8'));
    assert.equal(cfg.automated_migrations.rules.cooldown_minutes, 45);
    assert.deepEqual(cfg.automated_migrations.maintenance_nodes, ['pve2']);
    assert.equal(cfg.automated_migrations.schedule.timezone, 'Europe/Berlin');
    assert.equal(cfg.automated_migrations.schedule.migration_windows[0].start_time, '23:00');

    const textBefore = readFileSync(p, 'utf8');
    const bad = await runCli(['config', 'set', 'automated_migrations.rules.min_confidence_score', '150', '--config', p]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /min_confidence_score must be ≤ 100 \(got 150\)/);
    const unknown = await runCli(['config', 'set', 'automated_migrations.rules.bogus', '1', '--config', p]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown key automated_migrations\.rules\.bogus/);
    assert.equal(readFileSync(p, 'utf8'), textBefore, 'a refused write leaves the file as it was');
    assert.deepEqual(readdirSync(dir), ['config.json'], 'no temporary file left behind');
  } finally {
    cleanup();
  }
});

test('config init writes a valid, described example and never overwrites', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'config.json');
    const r = await runCli(['config', 'init', '--config', p]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(p, 'utf8'));
    assert.equal(cfg.automated_migrations.rules.min_confidence_score, 75);
    assert.match(cfg.automated_migrations.rules._comment_min_confidence_score, /confidence/);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    // The example is valid but not ready: a placeholder host and no secret, each named by key.
    const v = await runCli(['config', 'validate', '--config', p]);
    assert.equal(v.code, 2, v.stderr);
    assert.match(v.stderr, /proxmox_host is "pve1\.example\.com", a placeholder/);
    assert.match(v.stderr, /proxmox_api_token_secret is not set/);
    assert.doesNotMatch(v.stdout, /valid/);
    const again = await runCli(['config', 'init', '--config', p]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists already/);
  } finally {
    cleanup();
  }
});

test('PROXBALANCE_CONFIG names the file when --config is absent', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = writeJson(dir, 'env.json', minimal);
    const r = await runCli(['config', 'validate'], { env: { PROXBALANCE_CONFIG: p } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /env\.json: valid/);
  } finally {
    cleanup();
  }
});

test('token secret: environment beats config beats file; a missing one is a config error', () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = checkConfig({ ...minimal, proxmox_api_token_secret: undefined }, 'c.json').config;
    writeFileSync(join(dir, 'token'), `${SECRET}\n`);
    assert.equal(resolveTokenSecret({ ...base, proxmox_api_token_secret_file: 'token' }, 'c.json', { CREDENTIALS_DIRECTORY: dir }), SECRET);
    assert.equal(resolveTokenSecret({ ...base, proxmox_api_token_secret: 'abc' }, 'c.json', { PROXBALANCE_TOKEN_SECRET: 'env' }), 'env');
    assert.equal(resolveTokenSecret({ ...base, proxmox_api_token_secret: 'abc' }, 'c.json', {}), 'abc');
    assert.throws(() => resolveTokenSecret(base, 'c.json', {}), /no API token secret/);
    assert.throws(() => resolveTokenSecret({ ...base, proxmox_api_token_secret_file: join(dir, 'none') }, 'c.json', {}), /cannot read/);
  } finally {
    cleanup();
  }
});

test('usage errors exit 2, help and version exit 0', async () => {
  assert.equal((await runCli(['--help'])).code, 0);
  const v = await runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  assert.equal((await runCli(['no-such-command'])).code, 2);
  assert.equal((await runCli(['config', 'validate', '--no-such-flag'])).code, 2);
  assert.equal((await runCli(['config', 'set', 'onlykey'])).code, 2);
});

test('config validate: ready to run means a readable secret and no placeholder host (exit 2, key path)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const secretFile = join(dir, 'token');
    writeFileSync(secretFile, 'file-secret-0000\n', { mode: 0o600 });
    const base = { proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal' };
    const cases: Array<[unknown, RegExp | null]> = [
      [base, /c\.json: proxmox_api_token_secret is not set: set proxmox_api_token_secret, proxmox_api_token_secret_file, or the PROXBALANCE_TOKEN_SECRET/],
      [{ ...base, proxmox_api_token_secret_file: join(dir, 'missing') }, new RegExp(`c\\.json: proxmox_api_token_secret_file: cannot read ${join(dir, 'missing')} \\(ENOENT\\)`)],
      [{ ...base, proxmox_api_token_secret_file: dir }, /c\.json: proxmox_api_token_secret_file: cannot read .* \(EISDIR\)/],
      [{ ...base, proxmox_host: 'pve.example.com', proxmox_api_token_secret: 'x-0000' }, /c\.json: proxmox_host is "pve\.example\.com", a placeholder/],
      [{ ...base, proxmox_host: ['10.0.0.1', 'node2.example'], proxmox_api_token_secret: 'x-0000' }, /c\.json: proxmox_host\[1\] is "node2\.example", a placeholder/],
      [{ ...base, proxmox_api_token_secret_file: secretFile }, null],
      // A relative name is a systemd credential, only there inside the service: not judged here.
      [{ ...base, proxmox_api_token_secret_file: 'token' }, null],
    ];
    for (const [cfg, re] of cases) {
      const p = writeJson(dir, 'c.json', cfg);
      const r = await runCli(['config', 'validate', '--config', p]);
      if (re === null) {
        assert.equal(r.code, 0, `${JSON.stringify(cfg)}: ${r.stderr}`);
        continue;
      }
      assert.equal(r.code, 2, `${JSON.stringify(cfg)} should not be ready: ${r.stdout}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /file-secret-0000/);
    }
  } finally {
    cleanup();
  }
});
