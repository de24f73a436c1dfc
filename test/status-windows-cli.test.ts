import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, windowOpen } from '../src/engine/windows.js';
import { plan } from '../src/engine/index.js';
import { runCli, tempDir } from './helpers/cli.js';
import { writeFixture } from './helpers/history-fixture.js';
import { cluster, config, guest, NO_HISTORY, node } from './helpers/engine.js';
import { at, HOUR, MIN, transitions, w, ZONES } from './helpers/windows.js';

test('window clock: `status` (the real CLI) and the engine agree at every tested instant', async () => {
  const migration = [w('Berlin sunday', '02:30', '05:00', ['sunday'], 'Europe/Berlin'), w('NY nights', '23:00', '01:00', ['saturday', 'sunday'], 'America/New_York')];
  const blackout = [w('Berlin repeated hour', '01:15', '02:30', ['sunday'], 'Europe/Berlin'), w('NY early', '01:15', '02:30', ['sunday'], 'America/New_York')];
  const schedule = { timezone: 'UTC', migration_windows: migration, blackout_windows: blackout };
  // Around each of the four DST changes: the day before at noon (every next opening and closing
  // lies across the change), and the instant of each change of that zone's migration windows on the
  // day. Each answer of status names future instants, checked against the engine's clock up to them.
  const instants = new Set<number>();
  for (const [zone, spring, autumn] of ZONES) {
    for (const day of [spring, autumn]) {
      const from = at(`${day}T00:00:00Z`) - 12 * HOUR;
      instants.add(from);
      for (const win of migration.filter((x) => x.timezone === zone)) {
        for (const [t] of transitions(win, from, from + 24 * HOUR)) instants.add(t);
      }
    }
  }
  assert.ok(instants.size >= 10 && instants.size <= 16, `${instants.size} instants`);
  const { dir, cleanup } = tempDir();
  try {
    const { config: cfgPath } = writeFixture(dir, { records: [], damaged: false, config: { automated_migrations: { schedule } } });
    const cfg = config({ automated_migrations: { schedule } });
    const snap = cluster([node('pve1'), node('pve2')], [guest(100, 'pve1', 4)]);
    const list = [...instants].sort((a, b) => a - b);
    const results: Array<{ ms: number; out: string }> = [];
    for (let i = 0; i < list.length; i += 2) {
      const batch = list.slice(i, i + 2);
      const rs = await Promise.all(batch.map((ms) => runCli(['status', '--offline', '--json', '--config', cfgPath], { env: { PROXBALANCE_NOW: new Date(ms).toISOString() } })));
      rs.forEach((r, k) => {
        assert.equal(r.code, 0, r.stderr);
        results.push({ ms: batch[k]!, out: r.stdout });
      });
    }
    for (const { ms, out } of results) {
      const s = JSON.parse(out).windows;
      const p = plan(snap, cfg, NO_HISTORY, ms);
      const gatesOk = p.gates.filter((g) => g.name === 'blackout' || g.name === 'migration_window').every((g) => g.passed);
      const sched = checkSchedule(schedule, ms);
      const label = new Date(ms).toISOString();
      assert.equal(s.allowed_now, gatesOk, `${label}: status says ${s.reason}; engine gates ${JSON.stringify(p.gates.slice(1, 3))}`);
      const states = [...s.migration_windows, ...s.blackout_windows];
      for (const [k, win] of [...migration, ...blackout].entries()) {
        const st = states[k];
        assert.equal(st.open, windowOpen(win, ms, 'UTC').open, `${label} ${win.name}`);
        // Where status says it opens and closes, the engine's clock turns exactly there.
        if (st.next_opens_at) {
          const t = Date.parse(st.next_opens_at);
          assert.deepEqual([windowOpen(win, t - 1, 'UTC').open, windowOpen(win, t, 'UTC').open], [false, true], `${label} ${win.name} opens ${st.next_opens_at}`);
          const closedFrom = st.closes_at ? Date.parse(st.closes_at) : ms;
          for (let x = closedFrom; x < t; x += 5 * MIN) assert.ok(!windowOpen(win, x, 'UTC').open, `${label} ${win.name} closed until ${st.next_opens_at}`);
        }
        if (st.closes_at) {
          const t = Date.parse(st.closes_at);
          assert.deepEqual([windowOpen(win, t - 1, 'UTC').open, windowOpen(win, t, 'UTC').open], [true, false], `${label} ${win.name} closes ${st.closes_at}`);
          for (let x = ms; x < t; x += 5 * MIN) assert.ok(windowOpen(win, x, 'UTC').open, `${label} ${win.name} open until ${st.closes_at}`);
        }
      }
      assert.equal(sched.blackout.active || (sched.migration.defined && !sched.migration.active), !s.allowed_now);
    }
  } finally {
    cleanup();
  }
});
