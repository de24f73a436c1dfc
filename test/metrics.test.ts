import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E } from './helpers/e2e.js';
import { ROOT } from './helpers/cli.js';
import { renderMetrics, reasonLabel } from '../src/metrics/render.js';
import { withDefaults } from '../src/config/validate.js';
import type { Config } from '../src/config/load.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;

/** The value of one sample line, e.g. value(text, 'proxbalance_migrations_total{status="failed"}'). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} in the metrics`);
  return Number(line.slice(series.length + 1));
}

test('metrics_file: rewritten atomically after each tick, readable by others, the same as `proxbalance metrics`, and matching `stats --json`', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  const file = join(e.dir, 'textfile', 'proxbalance.prom');
  try {
    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    writeFileSync(e.configPath, JSON.stringify({ ...cfg, metrics_file: file }), { mode: 0o600 });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(e.dir, 'textfile'));
    assert.equal((await e.run(['run'])).code, 0);
    e.fake.inject({ kind: 'fail-migration', vmid: 104, reason: 'migration aborted' });
    e.fake.inject({ kind: 'fail-migration', vmid: 105, reason: 'migration aborted' });
    e.fake.inject({ kind: 'fail-migration', vmid: 107, reason: 'migration aborted' });
    e.fake.inject({ kind: 'fail-migration', vmid: 103, reason: 'migration aborted' });
    await e.run(['run']);
    const text = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o644, 'node_exporter (another user) can read it');
    assert.deepEqual(readdirSync(join(e.dir, 'textfile')), ['proxbalance.prom'], 'no temporary file left behind');
    const printed = await e.run(['metrics']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, text, '`proxbalance metrics` prints the same text');

    const stats = JSON.parse((await e.run(['stats', '--json'])).stdout);
    const p = stats.last_24h;
    assert.ok(p.completed > 0 && p.failed > 0, 'the history has both');
    assert.equal(value(text, 'proxbalance_migrations_total{status="completed"}'), p.completed);
    assert.equal(value(text, 'proxbalance_migrations_total{status="failed"}'), p.failed);
    assert.equal(value(text, 'proxbalance_migrations_total{status="timeout"}'), p.timeout);
    assert.equal(value(text, 'proxbalance_migrations_total{status="dry_run"}'), p.dry_run);
    assert.equal(value(text, 'proxbalance_migrations_pending'), p.pending);
    assert.equal(value(text, 'proxbalance_migration_duration_seconds_count'), p.completed);
    assert.equal(value(text, 'proxbalance_halted'), 1);
    assert.equal(value(text, 'proxbalance_last_tick_outcome{outcome="failed"}') + value(text, 'proxbalance_last_tick_outcome{outcome="partial"}'), 1);
    assert.equal(value(text, 'proxbalance_automation_enabled'), 1);
    assert.equal(value(text, 'proxbalance_dry_run'), 0);
    assert.ok(value(text, 'proxbalance_last_tick_api_requests') > 0);
    assert.ok(value(text, 'proxbalance_node_memory_usage_ratio{node="pve1"}') > 0);
    assert.ok(value(text, 'proxbalance_node_running_guests{node="pve1"}') > 0);
    assert.ok(value(text, 'proxbalance_last_tick_skipped_guests{reason="Has \'ignore\' tag"}') >= 1);
    for (const name of ['proxbalance_last_tick_timestamp_seconds', 'proxbalance_last_tick_duration_seconds', 'proxbalance_cluster_imbalance', 'proxbalance_last_tick_planned_moves']) {
      assert.match(text, new RegExp(`^# HELP ${name} .+\\n# TYPE ${name} gauge\\n${name} [0-9.]+$`, 'm'));
    }
    if (promtool) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
    }

    // A halted tick reads no cluster: the node figures of the last tick that did stay.
    assert.equal((await e.run(['run'])).code, 0);
    assert.ok(value(readFileSync(file, 'utf8'), 'proxbalance_node_memory_usage_ratio{node="pve1"}') > 0);
    assert.equal((await e.run(['resume'])).code, 0);
    assert.equal(value(readFileSync(file, 'utf8'), 'proxbalance_halted'), 0, 'resume rewrites the file');
  } finally {
    await e.cleanup();
  }
});

test('promtool rejects what breaks the exposition format (the check can fail)', { skip: !promtool && 'promtool not installed' }, () => {
  const bad = spawnSync('promtool', ['check', 'metrics'], { input: '# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n', encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});

test('metrics from a history alone: counters only grow with it, skip reasons lose their per-guest detail', async () => {
  const cfg = withDefaults({ proxmox_host: 'h', proxmox_api_token_id: 'a@pam!b' }) as unknown as Config;
  const empty = await renderMetrics(cfg, [], null);
  assert.match(empty, /^proxbalance_migrations_total\{status="completed"\} 0$/m);
  assert.doesNotMatch(empty, /proxbalance_last_tick_timestamp_seconds /, 'no tick, no last-tick figures');
  assert.equal(reasonLabel('Guest is locked (backup)'), 'Guest is locked');
  assert.equal(reasonLabel('Cluster health check failed (not quorate)'), 'Cluster health check failed');
  assert.equal(reasonLabel("Has 'ignore' tag"), "Has 'ignore' tag");
});

/** The alert rules of docs/monitoring.md: the first ```yaml block that holds `groups:`. */
function docRules(): string {
  const md = readFileSync(join(ROOT, 'docs', 'monitoring.md'), 'utf8');
  const block = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith('groups:'));
  assert.ok(block, 'docs/monitoring.md has the alert rules');
  return block;
}

test('the alert rules in docs/monitoring.md load in promtool and fire when they should', { skip: !promtool && 'promtool not installed' }, async () => {
  const { tempDir } = await import('./helpers/cli.js');
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'rules.yml'), docRules());
    const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 3 rules found/);
    // Unit tests of the rules (annotations left out: promtool compares them word for word).
    writeFileSync(join(dir, 'bare.yml'), docRules().replace(/^( +)annotations:\n(?:\1 +.*\n)+/gm, ''));
    writeFileSync(join(dir, 'tests.yml'), `rule_files: [bare.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'proxbalance_halted{instance="pve1"}'
        values: '0 0 1x30'
      - series: 'proxbalance_check_interval_seconds{instance="pve1"}'
        values: '300x60'
      - series: 'proxbalance_last_tick_timestamp_seconds{instance="pve1"}'
        values: '0x60'
      - series: 'proxbalance_migrations_total{instance="pve1",status="completed"}'
        values: '0 1 2 3 3x40'
      - series: 'proxbalance_migrations_total{instance="pve1",status="failed"}'
        values: '0 0 0 0 2x40'
      - series: 'proxbalance_migrations_total{instance="pve1",status="timeout"}'
        values: '0x44'
    alert_rule_test:
      - eval_time: 1m
        alertname: ProxbalanceHalted
        exp_alerts: []
      - eval_time: 10m
        alertname: ProxbalanceHalted
        exp_alerts:
          - exp_labels: { severity: critical, instance: pve1 }
      - eval_time: 10m
        alertname: ProxbalanceNoTick
        exp_alerts: []
      - eval_time: 30m
        alertname: ProxbalanceNoTick
        exp_alerts:
          - exp_labels: { severity: warning, instance: pve1 }
      - eval_time: 3m
        alertname: ProxbalanceMigrationFailureRate
        exp_alerts: []
      - eval_time: 30m
        alertname: ProxbalanceMigrationFailureRate
        exp_alerts:
          - exp_labels: { severity: warning, instance: pve1 }
`);
    const run = spawnSync('promtool', ['test', 'rules', 'tests.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  } finally {
    cleanup();
  }
});
