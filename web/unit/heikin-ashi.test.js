// @ts-check
// Heikin-Ashi candles against values worked out by hand from the definition:
// close = (O + H + L + C) / 4; open = (previous open + previous close) / 2,
// the first candle's (O + C) / 2; high = max(H, open, close); low = min(L, open, close).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heikinAshi } from '../src/heikin-ashi.js';

test('candles follow the definition, bar by bar', () => {
  const bars = {
    open: [10, 11, 13, 12],
    high: [12, 14, 13.5, 12.5],
    low: [9, 10, 11, 8],
    close: [11, 13, 12, 9],
  };
  // Bar 0: close (10+12+9+11)/4 = 10.5, open (10+11)/2 = 10.5, high max(12, 10.5, 10.5) = 12, low 9.
  // Bar 1: close (11+14+10+13)/4 = 12, open (10.5+10.5)/2 = 10.5, high 14, low 10.
  // Bar 2: close (13+13.5+11+12)/4 = 12.375, open (10.5+12)/2 = 11.25, high 13.5, low 11.
  // Bar 3: close (12+12.5+8+9)/4 = 10.375, open (11.25+12.375)/2 = 11.8125,
  //        high max(12.5, 11.8125, 10.375) = 12.5, low 8.
  assert.deepEqual(heikinAshi(bars), {
    open: [10.5, 10.5, 11.25, 11.8125],
    high: [12, 14, 13.5, 12.5],
    low: [9, 10, 11, 8],
    close: [10.5, 12, 12.375, 10.375],
  });
});

test('the candle body stretches high and low when it lies outside the bar', () => {
  // A gap up: bar 1 trades at 20..21, but its candle opens at the midpoint of
  // candle 0, (1 + 1.5) / 2 = 1.25, below the bar's low.
  const ha = heikinAshi({ open: [1, 20], high: [2, 21], low: [0.5, 20], close: [2, 21] });
  // Candle 0: close (1+2+0.5+2)/4 = 1.375, open (1+2)/2 = 1.5.
  assert.equal(ha.open[1], (1.5 + 1.375) / 2);
  assert.equal(ha.close[1], (20 + 21 + 20 + 21) / 4);
  assert.equal(ha.low[1], ha.open[1], 'the low reaches down to the open');
  assert.equal(ha.high[1], 21);
});

test('a bar missing a value has no candle, and the next opens from the last candle', () => {
  const ha = heikinAshi({ open: [10, null, 12], high: [12, 13, 13], low: [9, 10, 11], close: [11, 12, 12] });
  assert.deepEqual([ha.open[1], ha.high[1], ha.low[1], ha.close[1]], [null, null, null, null]);
  // Candle 0: open 10.5, close 10.5; candle 2 opens at their midpoint, 10.5.
  assert.equal(ha.open[2], 10.5);
  assert.equal(ha.close[2], (12 + 13 + 11 + 12) / 4);
});

test('paging older bars in leaves the candles at the seam as a whole-series run', () => {
  // The open's dependence on the past halves every bar: after 60 bars, the
  // candles computed from a late start agree with the whole series' to rounding.
  const n = 200;
  const close = Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 7));
  const open = close.map((c, i) => (i ? close[i - 1] : c));
  const high = close.map((c, i) => Math.max(c, open[i]) + 1);
  const low = close.map((c, i) => Math.min(c, open[i]) - 1);
  const whole = heikinAshi({ open, high, low, close });
  const late = heikinAshi({ open: open.slice(100), high: high.slice(100), low: low.slice(100), close: close.slice(100) });
  for (let i = 60; i < 100; i++) {
    assert.ok(Math.abs(/** @type {number} */ (late.open[i]) - /** @type {number} */ (whole.open[100 + i])) < 1e-12, `bar ${i}`);
  }
});
