// @ts-check
// The history grows to the left page by page: bars, every indicator
// output and every compared symbol's closes joined in order, the next page asked for just before the first bar,
// the series' start recognised, and a page that does not fit refused whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BarHistory, dataQuery } from '../src/history.js';

/** @import { DataResponse } from '../src/api.js' */

// A page of bars at `times`, each value derived from its time, with an SMA
// (null during its warm-up), an SMA of 5-minute bars with the higher bar
// of each value, a two-output MACD and a compared symbol with no bar every
// third minute.
/**
 * @param {number[]} times
 * @param {{warmUp?: number, indicators?: boolean}} [options]
 * @returns {DataResponse}
 */
function page(times, { warmUp = 0, indicators = true } = {}) {
  const value = (/** @type {number} */ t, /** @type {number} */ k) => t / 60 + k;
  return {
    symbol: 'ALPACA:NFLX',
    timeframe: '1m',
    source: { timeframe: '1m', aggregated: false },
    bars: {
      time: times,
      open: times.map((t) => value(t, 0)),
      high: times.map((t) => value(t, 1)),
      low: times.map((t) => value(t, -1)),
      close: times.map((t) => value(t, 0.5)),
      volume: times.map((t) => (t % 120 === 0 ? null : 1000)),
    },
    indicators: indicators
      ? [
        { id: 'sma', key: 'sma(period=3)', params: { period: 3 }, placement: 'overlay',
          outputs: { sma: times.map((t, i) => (i < warmUp ? null : value(t, 0.25))) } },
        // A call on a higher timeframe: each value's higher bar (of 5 minutes).
        { id: 'sma', key: 'sma(period=2,timeframe=5m)', params: { period: 2 }, placement: 'overlay', timeframe: '5m',
          outputs: { sma: times.map((t) => value(t - (t % 300), 0)) }, from: times.map((t) => t - (t % 300)) },
        { id: 'macd', key: 'macd(fast=12,slow=26,signal=9)', params: { fast: 12, slow: 26, signal: 9 }, placement: 'pane',
          outputs: { macd: times.map((t) => -t), signal: times.map((t) => t * 2) } },
      ]
      : [],
    compare: [{ symbol: 'ALPACA:AAPL', close: times.map((t) => (t % 180 === 0 ? null : value(t, 2))) }],
  };
}

const minutes = (/** @type {number} */ from, /** @type {number} */ count) => Array.from({ length: count }, (_, i) => (from + i) * 60);
const request = { symbol: 'ALPACA:NFLX', timeframe: '1m', indicators: 'sma(period=3),sma(period=2,timeframe=5m),macd(fast=12,slow=26,signal=9)', compare: 'AAPL' };

test('older pages join in front: bars, every indicator output and compared closes, in time order', () => {
  const history = new BarHistory(request, page(minutes(200, 100), { warmUp: 2 }));
  assert.equal(history.length, 100);

  assert.equal(history.prepend(page(minutes(100, 100)), 100), 100);
  assert.equal(history.prepend(page(minutes(0, 100), { warmUp: 2 }), 100), 100);

  // The same as one page of all 300 bars, except where each page began its warm-up.
  const whole = page(minutes(0, 300));
  assert.equal(history.length, 300);
  assert.deepEqual(history.bars, whole.bars);
  const sma = [...whole.indicators[0].outputs.sma];
  sma[0] = sma[1] = sma[200] = sma[201] = null;
  assert.deepEqual(history.indicators[0].outputs.sma, sma);
  assert.deepEqual(history.indicators[1], whole.indicators[1]);
  assert.deepEqual(history.indicators[2].outputs, whole.indicators[2].outputs);
  assert.deepEqual(history.compare, whole.compare);
  assert.equal(history.exhausted, false);
});

test('the next page ends just before the first bar held, and grows with what is held', () => {
  const history = new BarHistory(request, page(minutes(10_000, 5000)));
  const first = history.olderRequest(5000);
  assert.equal(first.limit, 5000);
  const url = new URL(first.url, 'http://candela');
  assert.equal(url.pathname, '/api/data');
  assert.equal(url.searchParams.get('symbol'), 'ALPACA:NFLX');
  assert.equal(url.searchParams.get('timeframe'), '1m');
  assert.equal(url.searchParams.get('indicators'), request.indicators);
  assert.equal(url.searchParams.get('end'), String(10_000 * 60 - 1));
  assert.equal(url.searchParams.get('limit'), '5000');

  // 5k, then as many as are held: 5k, 10k, 20k, …, at most 250k.
  const sizes = [];
  let start = 10_000;
  for (let i = 0; i < 3; i++) {
    const { limit } = history.olderRequest(5000);
    sizes.push(limit);
    start -= limit;
    history.prepend(page(minutes(start, limit), { indicators: true }), limit);
  }
  assert.deepEqual(sizes, [5000, 10_000, 20_000]);
  const huge = new BarHistory(request, page(minutes(0, 300_000), { indicators: false }));
  assert.equal(huge.olderRequest(5000).limit, 250_000);
  // A first page smaller than a link's `bars=` asks for that many.
  assert.equal(new BarHistory(request, page(minutes(0, 10))).olderRequest(5000).limit, 5000);
});

test('a page shorter than asked, or empty, is the start of the series', () => {
  const history = new BarHistory(request, page(minutes(100, 10)));
  assert.equal(history.prepend(page(minutes(97, 3)), 10), 3);
  assert.equal(history.exhausted, true);
  assert.equal(history.length, 13);
  assert.equal(history.bars.time[0], 97 * 60);

  const empty = new BarHistory(request, page(minutes(100, 10)));
  assert.equal(empty.prepend(page([]), 10), 0);
  assert.equal(empty.exhausted, true);
  assert.equal(empty.length, 10);
});

test('a page that overlaps, or lacks an indicator, is refused and nothing is joined', () => {
  const history = new BarHistory(request, page(minutes(100, 10)));
  const before = structuredClone({ bars: history.bars, indicators: history.indicators, compare: history.compare });
  assert.throws(() => history.prepend(page(minutes(95, 10)), 10), /overlaps/);

  const lacking = page(minutes(90, 10));
  lacking.indicators.pop();
  assert.throws(() => history.prepend(lacking, 10), /lacks macd\(fast=12,slow=26,signal=9\)/);

  const short = page(minutes(90, 10));
  short.indicators[2].outputs.signal.pop();
  assert.throws(() => history.prepend(short, 10), /lacks macd\(fast=12,slow=26,signal=9\) signal/);

  const uncompared = page(minutes(90, 10));
  uncompared.compare = [];
  assert.throws(() => history.prepend(uncompared, 10), /lacks the closes of ALPACA:AAPL/);

  const unplaced = page(minutes(90, 10));
  delete unplaced.indicators[1].from;
  assert.throws(() => history.prepend(unplaced, 10), /lacks where sma\(period=2,timeframe=5m\)'s values came from/);

  assert.deepEqual({ bars: history.bars, indicators: history.indicators, compare: history.compare }, before);
});

test('dataQuery leaves out what is not asked', () => {
  assert.equal(dataQuery({ symbol: 'A:B', timeframe: '4h', indicators: '', limit: 10 }), '/api/data?symbol=A%3AB&timeframe=4h&limit=10');
  assert.equal(
    dataQuery({ symbol: 'X', timeframe: '1d', indicators: 'sma(period=20)', end: 99, limit: 5 }),
    '/api/data?symbol=X&timeframe=1d&indicators=sma%28period%3D20%29&end=99&limit=5',
  );
  assert.equal(dataQuery({ symbol: 'X', timeframe: '1d', compare: 'AAPL,ALPACA:EXPE', limit: 5 }), '/api/data?symbol=X&timeframe=1d&compare=AAPL%2CALPACA%3AEXPE&limit=5');
});

test('newer bars join at the end in place: the last held bar replaced, the new ones after, compared closes empty there', () => {
  const minutes = (/** @type {number} */ from, /** @type {number} */ n) => Array.from({ length: n }, (_, i) => (from + i) * 60);
  const history = new BarHistory({ ...request, compare: 'ALPACA:EXPE' }, page(minutes(0, 10)));
  const { time, close } = history.bars;
  const sma = history.indicators[0].outputs.sma;
  const newer = page(minutes(9, 4));
  newer.bars.close[0] = 999; // the forming bar, as it now is
  delete newer.compare;
  assert.equal(history.append(newer), 9, 'the first bar that changed');
  assert.equal(history.length, 13);
  assert.equal(history.bars.time, time, 'the same arrays, grown in place');
  assert.equal(history.indicators[0].outputs.sma, sma);
  assert.deepEqual(history.bars.time, minutes(0, 13));
  assert.equal(close[9], 999);
  assert.deepEqual(history.indicators[2].outputs.signal.slice(9), newer.indicators[2].outputs.signal);
  assert.deepEqual(history.indicators[1].from, minutes(0, 13).map((t) => t - (t % 300)), 'the higher bars of the new values too');
  assert.deepEqual(history.compare[0].close.slice(10), [null, null, null]);
  assert.equal(history.compare[0].close.length, 13);
  assert.equal(history.append(page([])), -1, 'nothing new');
  const polled = page(minutes(0, 14));
  assert.equal(history.append(polled, 12 * 60), 12, 'a poll from the origin joins from `since` on');
  assert.equal(history.length, 14);
  assert.deepEqual(history.bars.time, minutes(0, 14));
  const lacking = page(minutes(14, 2));
  lacking.indicators.pop();
  assert.throws(() => history.append(lacking), /lack/);
  assert.equal(history.length, 14, 'a bad answer leaves the history as it was');
});
