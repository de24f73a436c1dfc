import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, runCli, tempDir } from './helpers/cli.js';
import { AWKWARD_NAME, AWKWARD_REASON, NOW, mig, sharedFixture, writeFixture } from './helpers/history-fixture.js';
import { CSV_COLUMNS } from '../src/cli/history-cmd.js';

const fx = sharedFixture();
const cli = fx.cli;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;

/** A small RFC 4180 parser: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const vmids = (stdout: string) => [...stdout.matchAll(/^\S+ \S+ \S+\s+(?:VM|CT) (\d+)/gm)].map((m) => Number(m[1]));

test('history: newest first, guests named VM/CT, damaged lines warned about on stderr, exit 0', async () => {
  const r = await cli('history');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TIME\s+GUEST\s+MOVE\s+STATUS\s+DURATION\s+CONFIDENCE\s+ERROR$/);
  // 8 migrations up to NOW (m9 lies in the future), newest first; folded: one line each.
  assert.deepEqual(vmids(r.stdout), [126, 123, 120, 121, 122, 120, 124, 125]);
  assert.match(r.stdout, /2026-11-25 10:00:00 UTC\s+VM 120 web01\s+pve1 → pve2\s+completed\s+1m 00s\s+82/);
  // The newline in the name is shown escaped: one row per migration.
  assert.match(r.stdout, /CT 121 dns, "primary"\\nsecond line\s+pve2 → pve3\s+failed\s+30s\s+85\s+migration aborted/);
  assert.match(r.stdout, /VM 123 app\s+pve3 → pve2\s+dry run \(not executed\)/);
  assert.match(r.stdout, /VM 122 db01\s+pve1 → pve3\s+timeout\s+2h 00m\s+90/);
  assert.doesNotMatch(r.stdout, /future/);
  assert.doesNotMatch(r.stdout + r.stderr, ANSI, 'no colour when piped');
  assert.match(r.stderr, /history\.jsonl line 3: skipped, not valid JSON/);
  assert.match(r.stderr, /history\.jsonl line \d+: skipped, incomplete last line/);
});

test('history filters: --last, --vmid, --status, --node, --since', async () => {
  const [last, vmid, status, node, since, sinceDate] = await Promise.all([
    cli('history', '--last', '2'),
    cli('history', '--vmid', '120'),
    cli('history', '--status', 'failed,timeout'),
    cli('history', '--node', 'pve3'),
    cli('history', '--since', '24h'),
    cli('history', '--since', '2026-11-23'),
  ]);
  assert.deepEqual(vmids(last.stdout), [126, 123]);
  assert.match(last.stdout, /showing the newest 2 of 8 matching migrations/);
  assert.deepEqual(vmids(vmid.stdout), [120, 120]);
  assert.deepEqual(vmids(status.stdout), [121, 122]);
  assert.deepEqual(vmids(node.stdout), [126, 123, 121, 122, 124]);
  assert.deepEqual(vmids(since.stdout), [126, 123, 120, 121, 122]);
  assert.deepEqual(vmids(sinceDate.stdout), [126, 123, 120, 121, 122, 120]);
  const none = await cli('history', '--vmid', '999');
  assert.equal(none.code, 0);
  assert.equal(none.stdout, 'No migrations match.\n');
});

test('history --json: folded migrations, newest first, every field kept', async () => {
  const r = await cli('history', '--json', '--status', 'failed');
  assert.equal(r.code, 0, r.stderr);
  const ms = JSON.parse(r.stdout);
  assert.equal(ms.length, 1);
  assert.equal(ms[0].name, AWKWARD_NAME);
  assert.equal(ms[0].status, 'failed');
  assert.equal(ms[0].error, 'migration aborted');
  assert.equal(ms[0].started_at, '2026-11-25T09:00:00.000Z');
  const all = JSON.parse((await cli('history', '--json', '--last', '100')).stdout);
  assert.deepEqual(all.map((m: { vmid: number }) => m.vmid), [126, 123, 120, 121, 122, 120, 124, 125]);
});

test('history --csv: exact header, every matching record, awkward names survive a round trip', async () => {
  const r = await cli('history', '--csv');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n')[0], 'timestamp,vmid,name,type,source_node,target_node,confidence,status,duration_s,dry_run,reason');
  const rows = parseCsv(r.stdout);
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  const data = rows.slice(1).map((row) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row[i]])));
  assert.equal(data.length, 8, 'all matching records, not only the last 10');
  const awkward = data.find((d) => d.vmid === '121')!;
  assert.equal(awkward.name, AWKWARD_NAME);
  assert.equal(awkward.reason, AWKWARD_REASON);
  assert.deepEqual(
    { ...data.find((d) => d.vmid === '122') },
    { timestamp: '2026-11-24T20:00:00.000Z', vmid: '122', name: 'db01', type: 'qemu', source_node: 'pve1', target_node: 'pve3', confidence: '90', status: 'timeout', duration_s: '7200', dry_run: 'false', reason: '' },
  );
  assert.equal(data.find((d) => d.vmid === '123')!.dry_run, 'true');
  assert.ok(data.every((d) => Object.keys(d).length === 11 && d.reason !== undefined));

  // --output writes the same bytes to a file; the filters apply.
  const file = join(fx.dir, 'export.csv');
  const o = await cli('history', '--csv', '--vmid', '121', '--output', file);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /wrote 1 migrations to .*export\.csv/);
  const back = parseCsv(readFileSync(file, 'utf8'));
  assert.equal(back.length, 2);
  assert.equal(back[1]![2], AWKWARD_NAME);

  // Nothing matches: the header alone.
  const empty = await cli('history', '--csv', '--vmid', '999');
  assert.equal(empty.stdout.trim(), CSV_COLUMNS.join(','));
});

test('history --runs: ticks newest first, filtered by outcome; CSV and JSON', async () => {
  const [r, j, c] = await Promise.all([cli('history', '--runs'), cli('history', '--runs', '--json', '--status', 'skipped'), cli('history', '--runs', '--csv')]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n').slice(1);
  assert.equal(rows.length, 4);
  assert.match(rows[0]!, /11:50:00 UTC\s+scheduled\s+live\s+skipped\s+0\s+0\s+1s\s+Outside migration window/);
  assert.match(rows[1]!, /11:00:00 UTC\s+manual\s+dry-run\s+success\s+1\s+1\s+3s/);
  assert.match(rows[2]!, /10:00:00 UTC\s+scheduled\s+live\s+success\s+1\s+2\s+1m 05s/);
  const runs = JSON.parse(j.stdout);
  assert.deepEqual(runs.map((x: { run_id: string }) => x.run_id), ['r3']);
  const csv = parseCsv(c.stdout);
  assert.deepEqual(csv[0], ['started_at', 'finished_at', 'trigger', 'mode', 'outcome', 'moves', 'skips', 'duration_s', 'reason']);
  assert.deepEqual(csv[1], ['2026-11-25T11:50:00.000Z', '2026-11-25T11:50:01.000Z', 'scheduled', 'live', 'skipped', '0', '0', '1', 'Outside migration window']);
});

test('history: bad flags are usage errors (exit 2) naming the flag; a missing config too', async () => {
  const cases: [string[], RegExp][] = [
    [['--last', 'ten'], /--last ten: expected a whole number/],
    [['--vmid', '12'], /--vmid 12: a Proxmox guest ID/],
    [['--status', 'done'], /--status done: expected one or more .* of intent, started, unknown, completed/],
    [['--since', 'yesterday'], /--since yesterday: expected a span such as 24h/],
    [['--csv', '--json'], /choose one/],
    [['--output', 'x.txt'], /--output: give --csv or --json too/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli('history', ...args)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i]![1]);
    assert.equal(r.stdout, '');
  });
  const noConfig = await runCli(['history', '--config', join(fx.dir, 'nope.json')]);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /no such config file/);
  const badNow = await runCli(['history', '--config', fx.config], { env: { PROXBALANCE_NOW: 'tomorrow' } });
  assert.equal(badNow.code, 2);
  assert.match(badNow.stderr, /PROXBALANCE_NOW=tomorrow/);
});

test('history on an empty or missing history file says so', async () => {
  const { dir: d2, cleanup: c2 } = tempDir();
  try {
    const { config: cfg } = writeFixture(d2, { records: [], damaged: false });
    const r = await runCli(['history', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^No migrations recorded yet in .*history\.jsonl\.$/m);
    assert.equal(r.stderr, '');
  } finally {
    c2();
  }
});

test('history --csv | head: a reader that goes away ends the command quietly, exit 0', async () => {
  const { dir: d2, cleanup: c2 } = tempDir();
  try {
    const records = Array.from({ length: 3000 }, (_, i) =>
      mig({ migration_id: `b${i}`, vmid: 1000 + i, at: '2026-11-25T10:00:00.000Z', started_at: '2026-11-25T10:00:00.000Z', status: 'completed', reason: 'x'.repeat(100) }));
    const { config: cfg } = writeFixture(d2, { records, damaged: false });
    const child = spawn(process.execPath, [BIN, 'history', '--csv', '--config', cfg], { env: { ...process.env, PROXBALANCE_NOW: NOW }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE/);
  } finally {
    c2();
  }
});
