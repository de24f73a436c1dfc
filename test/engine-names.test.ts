import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { byName } from '../src/engine/names.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

test('natural order: digit runs by value, a hyphen before digits before letters, case ignored first', () => {
  const sorted = ['pve-a', 'pve1', 'pve2', 'pve10', 'pve10a', 'pve10-b', 'pveA', 'pveb', 'Pvec', 'x'].sort(byName);
  assert.deepEqual(sorted, ['pve-a', 'pve1', 'pve2', 'pve10', 'pve10-b', 'pve10a', 'pveA', 'pveb', 'Pvec', 'x']);
  assert.ok(byName('node007', 'node8') < 0 && byName('node8', 'node007') > 0, 'leading zeros: by value');
  assert.ok(byName('node007', 'node7') < 0 && byName('node7', 'node007') > 0, 'equal values: by the text');
  assert.ok(byName('pve', 'PVE1') < 0 && byName('PVE1', 'pve') > 0, 'a prefix first, whatever its case');
  assert.equal(byName('pve3', 'pve3'), 0);
  assert.ok(byName('A', 'a') < 0 && byName('a', 'A') > 0, 'names differing in case only: by the text');
});

test("the same order as localeCompare(…, { numeric: true }) for host names", () => {
  // Lower-case letters, digits and hyphens, numbers without leading zeros (as Proxmox names nodes).
  const name = fc.stringMatching(/^[a-c-]{0,3}(?:[1-9][0-9]{0,2}[a-c-]{1,2}){0,2}[0-9]{0,2}$/).filter((s) => s.length > 0 && !/(^|\D)0\d/.test(s));
  fc.assert(
    fc.property(name, name, (a, b) => {
      assert.equal(Math.sign(byName(a, b)), Math.sign(a.localeCompare(b, undefined, { numeric: true })), `${a} vs ${b}`);
    }),
    { numRuns: RUNS, seed: 20261201 },
  );
});
