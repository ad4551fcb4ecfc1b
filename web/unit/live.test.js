// @ts-check
// Live bars' pure parts: when the view is at the latest bars, the stream's
// URL from the last bar held, and a run's curves growing with the bars.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunCurve } from '../src/equity.js';
import { atLatest, streamUrl } from '../src/live-controller.js';

test('the view follows live bars only at the latest bars', () => {
  assert.equal(atLatest(99, 100), true);
  assert.equal(atLatest(96, 100), true, 'a few bars of slack');
  assert.equal(atLatest(90, 100), false, 'scrolled back');
  assert.equal(atLatest(undefined, 100), false, 'nothing in view');
});

test("a stream is asked for from the last bar held, with the chart's indicators", () => {
  assert.equal(streamUrl({ symbol: 'ALPACA:NFLX', timeframe: '1h', indicators: 'sma(period=5)', compare: '' }, 1700000000),
    '/api/stream?symbol=ALPACA%3ANFLX&timeframe=1h&indicators=sma%28period%3D5%29&since=1700000000');
  assert.equal(streamUrl({ symbol: 'S', timeframe: '1m', indicators: '', compare: 'X' }, 5), '/api/stream?symbol=S&timeframe=1m&since=5');
});

test("a run's curve grows with the bars, in place, the new ones empty", () => {
  const curve = new RunCurve(3);
  const equity = curve.equity;
  curve.equity[2] = 10;
  curve.grow(5);
  assert.equal(curve.equity, equity);
  assert.deepEqual(curve.equity, [null, null, 10, null, null]);
  assert.equal(curve.drawdown.length, 5);
});
