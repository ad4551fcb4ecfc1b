// @ts-check
// Calls as the page writes, reads and names them: the reserved arguments
// round-trip through the server's canonical keys, nested calls included,
// and the legend's names say what each line is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callLabel, callText, parseCall, readCall, sameCall, sourceLabel, takesSource } from '../src/calls.js';
import { divides, higherTimeframes } from '../src/timeframes.js';

/** @import { Call } from '../src/calls.js' */

test('a call is written with named arguments, the defaults left unsaid', () => {
  assert.equal(callText({ id: 'obv', params: {} }), 'obv');
  assert.equal(callText({ id: 'sma', params: { period: 20 }, source: 'close' }), 'sma(period=20)');
  assert.equal(callText({ id: 'sma', params: { period: 20 }, timeframe: '1d', align: 'close' }), 'sma(period=20,timeframe=1d)');
  assert.equal(callText({ id: 'ema', params: { period: 9 }, source: 'rsi(period=14)', timeframe: '1d', align: 'forming' }),
    'ema(period=9,source=rsi(period=14),timeframe=1d,align=forming)');
});

test("the server's keys read back into the calls that wrote them", () => {
  /** @type {Call[]} */
  const calls = [
    { id: 'sma', params: { period: 20 } },
    { id: 'sma', params: { period: 20 }, timeframe: '1d', align: 'close' },
    { id: 'sma', params: { period: 5 }, source: 'hl2', timeframe: '1w', align: 'open' },
    { id: 'ema', params: { period: 9 }, source: 'rsi(period=14)' },
    { id: 'sma', params: { period: 5 }, source: 'macd(fast=12,slow=26,signal=9).histogram' },
    { id: 'sma', params: { period: 20 }, source: 'ema(period=3,source=rsi(period=14,timeframe=1d))', timeframe: '1w', align: 'close' },
    { id: 'bbands', params: { period: 20, stddev: 2.5 } },
  ];
  for (const call of calls) assert.deepEqual(readCall(callText(call)), call, callText(call));
});

test('text that is not a call with named arguments is not read as one', () => {
  for (const text of ['sma(20)', 'sma(period=20', 'sma(period=20))', 'sma(period=)', 'sma(period=1,period=2)', '', 'sma(period=20,align=later)']) {
    assert.equal(readCall(text), null, text);
  }
  assert.equal(parseCall('macd(fast=12).signal')?.output, 'signal');
});

test('the same call however it is written', () => {
  const a = /** @type {Call} */ (readCall('bbands(period=20, stddev=2.50,timeframe=1d)'));
  assert.ok(sameCall(a, { id: 'bbands', params: { period: 20, stddev: 2.5 }, timeframe: '1d', align: 'close' }));
  assert.ok(!sameCall(a, { id: 'bbands', params: { period: 20, stddev: 2.5 }, timeframe: '1d', align: 'open' }));
  assert.ok(sameCall({ id: 'ema', params: { period: 9 }, source: 'rsi(period=14.0)' }, { id: 'ema', params: { period: 9 }, source: 'rsi(period=14)' }));
  assert.ok(!sameCall({ id: 'ema', params: { period: 9 }, source: 'hl2' }, { id: 'ema', params: { period: 9 } }));
});

test('a legend names what each line is', () => {
  assert.equal(callLabel({ id: 'sma', params: { period: 20 } }), 'SMA 20');
  assert.equal(callLabel({ id: 'sma', params: { period: 20 }, timeframe: '1d', align: 'close' }), 'SMA 20 · 1d · close');
  assert.equal(callLabel({ id: 'ema', params: { period: 9 }, source: 'rsi(period=14)' }), 'EMA 9 of RSI 14');
  assert.equal(callLabel({ id: 'sma', params: { period: 5 }, source: 'macd(fast=12,slow=26,signal=9).histogram' }), 'SMA 5 of MACD 12, 26, 9 histogram');
  assert.equal(callLabel({ id: 'sma', params: { period: 20 }, source: 'rsi(period=14)', timeframe: '1d', align: 'forming' }), 'SMA 20 of RSI 14 · 1d · forming');
  assert.equal(sourceLabel('hl2'), 'HL2');
});

test('only indicators that read one series take a source', () => {
  assert.ok(takesSource({ inputs: ['close'] }));
  assert.ok(takesSource({ inputs: ['time', 'close'] }));
  assert.ok(!takesSource({ inputs: ['high', 'low', 'close'] }));
  assert.ok(!takesSource({ inputs: ['close', 'volume'] }));
  assert.ok(!takesSource({ inputs: ['volume'] }));
});

test("a chart's calls may ask for the coarser timeframes its bars tile", () => {
  const offered = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
  assert.deepEqual(higherTimeframes('1h', offered), ['4h', '1d', '1w', '1M']);
  assert.deepEqual(higherTimeframes('1d', offered), ['1w', '1M']);
  assert.deepEqual(higherTimeframes('1w', offered), []);
  assert.deepEqual(higherTimeframes('1m', ['1m', '90m', '7m', '1d']), ['90m', '7m', '1d']);
  assert.ok(!divides('7m', '1d'), 'a width that does not tile a day builds no day');
  assert.ok(!divides('90m', '4h'));
  assert.ok(!divides('2d', '1w'));
});
