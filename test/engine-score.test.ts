import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clamp01, confidence, gainFromImprovement, headroom, imbalanceFrom, nodeLoad, overload, r2, risk } from '../src/engine/score.js';

// The formulas of src/engine/score.ts, value by value, as docs/decisions.md (sections 6-7 and the
// worked example) states them. Plan-level tests only see whether a confidence clears the floor;
// these pin the arithmetic itself (they kill the mutants StrykerJS found surviving there).

const th = { cpu: 60, mem: 70, iowait: 20 };

test('score: the imbalance number of the worked example, and of a cluster with no node taking part', () => {
  const loads = [nodeLoad(13, 90), nodeLoad(3, 22), nodeLoad(3, 32)];
  assert.deepEqual(loads, [51.5, 12.5, 17.5]);
  const sum = loads.reduce((a, b) => a + b, 0);
  const sumSq = loads.reduce((a, b) => a + b * b, 0);
  const pen = overload(13, 90, th) + overload(3, 22, th) + overload(3, 32, th);
  assert.equal(pen, 20);
  assert.equal(r2(imbalanceFrom(3, sum, sumSq, pen)), 37.33);
  // No node takes part (all in maintenance, offline or unread): the penalty alone, never NaN.
  assert.equal(imbalanceFrom(0, 0, 0, 0), 0);
  assert.equal(imbalanceFrom(0, 0, 0, 7.5), 7.5);
  // Rounding noise in the running sums never makes the variance negative (no NaN from the root).
  assert.equal(imbalanceFrom(2, 100, 4999.999999, 1), 1);
});

test('score: risk grows with memory in use (32 GiB = full), local disk (100 GiB = full) and a container restart', () => {
  assert.equal(r2(risk({ memGiB: 8, localDiskGiB: 0, containerRestart: false })), 0.1, 'worked example: 0.4 × 8/32');
  assert.equal(r2(risk({ memGiB: 0, localDiskGiB: 50, containerRestart: false })), 0.15, '0.3 × 50/100');
  assert.equal(r2(risk({ memGiB: 0, localDiskGiB: 0, containerRestart: true })), 0.3);
  assert.equal(r2(risk({ memGiB: 16, localDiskGiB: 20, containerRestart: true })), 0.56, '0.2 + 0.06 + 0.3');
  assert.equal(risk({ memGiB: 0, localDiskGiB: 0, containerRestart: false }), 0);
  assert.equal(r2(risk({ memGiB: 320, localDiskGiB: 0, containerRestart: false })), 0.4, 'size is capped at 1');
  assert.equal(r2(risk({ memGiB: 0, localDiskGiB: 1000, containerRestart: false })), 0.3, 'disk is capped at 1');
  assert.equal(risk({ memGiB: 64, localDiskGiB: 500, containerRestart: true }), 1);
});

test('score: headroom is the nearer of the two thresholds, over 20 points, clamped to 0..1', () => {
  assert.equal(headroom(30, 4, th), 1, 'worked example: min(40, 56) / 20, clamped');
  assert.equal(headroom(60, 4, th), 0.5, 'memory binds: 10 points');
  assert.equal(headroom(10, 55, th), 0.25, 'CPU binds: 5 points');
  assert.equal(headroom(50, 50, th), 0.5, 'CPU binds: 10 points');
  assert.equal(headroom(75, 0, th), 0, 'over the memory threshold');
  assert.equal(headroom(0, 61, th), 0, 'over the CPU threshold');
});

test('score: a load move\'s gain is its improvement over one point, or over the guest\'s footprint when smaller (never under 0.25)', () => {
  assert.equal(gainFromImprovement(0.5), 0.5);
  assert.equal(gainFromImprovement(11.3, 9), 1, 'worked example');
  assert.equal(gainFromImprovement(0.3, 0.5), 0.6, 'small guest: judged by its footprint');
  assert.equal(gainFromImprovement(0.3, 0.6), 0.5);
  assert.equal(gainFromImprovement(0.1, 0.05), 0.4, 'a footprint under the minimum improvement counts as 0.25');
  assert.equal(gainFromImprovement(0.5, 30), 0.5, 'big guest: one point is full gain');
  assert.equal(gainFromImprovement(-1, 0.5), 0);
});

test('score: confidence weighs gain 0.4, headroom 0.3 and (1 − risk) 0.3, each clamped to 0..1', () => {
  assert.equal(confidence(1, 1, 0.1), 97, 'worked example');
  assert.equal(confidence(0.5, 1, 0.1), 77);
  assert.equal(confidence(1, 0.5, 0.1), 82);
  assert.equal(confidence(1, 1, 0.5), 85);
  assert.equal(confidence(0.3, 1, 0), 72, 'a marginal load move of a big guest: 12 + 30 + 30');
  assert.equal(confidence(0, 0, 1), 0);
  assert.equal(confidence(2, -1, 3), 40, 'out-of-range inputs are clamped');
  assert.equal(confidence(-1, 2, -1), 60);
  assert.deepEqual([clamp01(-0.5), clamp01(0), clamp01(0.25), clamp01(1), clamp01(1.5)], [0, 0, 0.25, 1, 1]);
});

test('score: r2 rounds to two decimals', () => {
  assert.deepEqual([r2(37.326), r2(0.125), r2(-1.004), r2(2)], [37.33, 0.13, -1, 2]);
});
