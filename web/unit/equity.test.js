// @ts-check
// A run's equity held beside the bars on the chart: one value per bar, each
// point at the bar holding it, older bars joining at the front.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunCurve } from '../src/equity.js';

test('equity beside the bars: each point at its bar, older bars joining with none until their stretch arrives', () => {
  const times = [100, 200, 300, 400, 500];
  const curve = new RunCurve(times.length);
  const held = curve.equity;
  // The curve starts at the second bar; two points in the last bar: the later wins.
  const filled = curve.fill(times, { time: [200, 300, 500, 550], equity: [1, 2, 3, 4], drawdown_pct: [0, -1, -2, -3] });
  assert.equal(filled, 3);
  assert.deepEqual(curve.equity, [null, 1, 2, null, 4]);
  assert.deepEqual(curve.drawdown, [null, 0, -1, null, -3]);
  // Two older bars: the values move along, in the same array (the chart holds it).
  curve.prepend(2);
  assert.equal(curve.equity, held);
  assert.deepEqual(curve.equity, [null, null, null, 1, 2, null, 4]);
  const longer = [0, 50, ...times];
  assert.equal(curve.fill(longer, { time: [0, 50], equity: [7, 8], drawdown_pct: [0, 0] }), 2);
  assert.deepEqual(curve.equity, [7, 8, null, 1, 2, null, 4]);
  assert.equal(curve.length, 7);
  // Points before the first bar held are left out.
  assert.equal(new RunCurve(2).fill([10, 20], { time: [1, 5, 10], equity: [1, 2, 3], drawdown_pct: [0, 0, 0] }), 1);
});
