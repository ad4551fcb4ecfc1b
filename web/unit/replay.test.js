// @ts-check
// Replay, the pure part: when bars close, the forming bar built of the
// finer bars closed by the cursor, the frame stepped in place equal to one
// built afresh at the same cursor (over several seeds), nothing after the
// cursor reaching it, and a run's trades as of the cursor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Closes, ReplayFrame, formingBar, tradesAsOf } from '../src/replay.js';
import { finerTimeframes, fixedWidth } from '../src/timeframes.js';

/**
 * @import { Bars } from '../src/api.js'
 * @import { Drawable } from '../src/chart.js'
 * @import { Trade } from '../src/runs.js'
 */

const HOUR = 3600;
const DAY = 86_400;

/** A small seeded generator (mulberry32). @param {number} seed */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hourly bars on weekdays, 09:00 to 16:00, from a Monday; a few missing values.
 * @param {() => number} rand
 * @param {number} days
 * @returns {Bars}
 */
function hours(rand, days) {
  /** @type {Bars} */
  const bars = { time: [], open: [], high: [], low: [], close: [], volume: [] };
  let price = 100;
  const monday = 1_704_672_000; // 2024-01-08
  for (let d = 0; d < days; d++) {
    if (d % 7 >= 5) continue;
    for (let h = 9; h < 16; h++) {
      const open = price;
      price *= 1 + (rand() - 0.5) / 50;
      const missing = rand() < 0.02;
      bars.time.push(monday + d * DAY + h * HOUR);
      bars.open.push(missing ? null : open);
      bars.high.push(missing ? null : Math.max(open, price) * 1.01);
      bars.low.push(missing ? null : Math.min(open, price) * 0.99);
      bars.close.push(missing ? null : price);
      bars.volume.push(Math.round(rand() * 1000));
    }
  }
  return bars;
}

/**
 * The daily bars of hourly ones (UTC days), with a "running sum of closes" indicator.
 * @param {Bars} h
 * @returns {Drawable}
 */
function daily(h) {
  /** @type {Bars} */
  const bars = { time: [], open: [], high: [], low: [], close: [], volume: [] };
  h.time.forEach((t, j) => {
    const day = t - (t % DAY);
    if (bars.time.at(-1) !== day) {
      bars.time.push(day);
      for (const k of /** @type {const} */ (['open', 'high', 'low', 'close', 'volume'])) bars[k].push(null);
    }
    const i = bars.time.length - 1;
    const [o, hi, lo, c] = [h.open[j], h.high[j], h.low[j], h.close[j]];
    if (o == null || hi == null || lo == null || c == null) return;
    bars.open[i] ??= o;
    bars.high[i] = Math.max(bars.high[i] ?? -Infinity, hi);
    bars.low[i] = Math.min(bars.low[i] ?? Infinity, lo);
    bars.close[i] = c;
    bars.volume[i] = (bars.volume[i] ?? 0) + (h.volume[j] ?? 0);
  });
  let sum = 0;
  const running = bars.close.map((c) => (sum += c ?? 0));
  return { bars, length: bars.time.length, compare: [{ symbol: 'X:Y', close: bars.close.slice() }],
    indicators: [{ id: 'sum', key: 'sum()', params: {}, placement: 'pane', outputs: { value: running } }] };
}

test('bars close a fixed width after they start, calendar bars when the next one starts', () => {
  const fixed = new Closes([0, HOUR, 3 * HOUR], HOUR);
  assert.deepEqual([0, 1, 2].map((i) => fixed.at(i)), [HOUR, 2 * HOUR, 4 * HOUR]);
  assert.deepEqual([HOUR - 1, HOUR, 2.5 * HOUR, 4 * HOUR].map((c) => fixed.closedBy(c)), [0, 1, 2, 3]);
  assert.equal(fixed.step(HOUR, 1), 2 * HOUR);
  assert.equal(fixed.step(HOUR, -1), null);
  assert.equal(fixed.step(2.5 * HOUR, -1), 2 * HOUR, 'back from inside a bar: the close before');
  assert.equal(fixed.step(4 * HOUR, 1), null, 'nothing after the last close');
  const calendar = new Closes([0, DAY, 4 * DAY], null);
  assert.deepEqual([0, 1, 2].map((i) => calendar.at(i)), [DAY, 4 * DAY, Infinity]);
  assert.equal(calendar.closedBy(3 * DAY), 1);
  assert.equal(calendar.step(5 * DAY, 1), null, 'the last calendar bar never closes');
  assert.equal(fixedWidth('15m'), 900);
  assert.equal(fixedWidth('1d'), null);
  assert.deepEqual(finerTimeframes('1d', ['1m', '5m', '1h', '7m', '1d', '1w']), ['1h', '5m', '1m']);
  assert.deepEqual(finerTimeframes('1w', ['1d', '1h']), ['1d', '1h']);
  assert.deepEqual(finerTimeframes('1m', ['1m']), []);
});

test('the forming bar is built of the finer bars closed by the cursor, the missing ones left out', () => {
  const h = hours(random(1), 3);
  const closes = new Closes(h.time, HOUR);
  const day = h.time[0] - (h.time[0] % DAY);
  assert.equal(formingBar(h, closes, day, day + DAY, h.time[0] + HOUR - 1), null, 'no hour closed yet');
  const two = formingBar(h, closes, day, day + DAY, h.time[1] + HOUR);
  const ohlc = [0, 1].filter((j) => h.close[j] != null);
  assert.deepEqual(two, ohlc.length === 0 ? null : {
    open: h.open[ohlc[0]], close: h.close[ohlc.at(-1) ?? 0], volume: ohlc.reduce((v, j) => v + (h.volume[j] ?? 0), 0),
    high: Math.max(...ohlc.map((j) => h.high[j] ?? -Infinity)), low: Math.min(...ohlc.map((j) => h.low[j] ?? Infinity)),
  });
  // The whole day's hours are the daily bar.
  const d = daily(h);
  const whole = formingBar(h, closes, day, day + DAY, day + DAY);
  assert.deepEqual(whole, { open: d.bars.open[0], high: d.bars.high[0], low: d.bars.low[0], close: d.bars.close[0], volume: d.bars.volume[0] });
});

/**
 * The frame at `cursor`, built as the replay builds it.
 * @param {ReplayFrame} frame
 * @param {Bars} h
 * @param {number} cursor
 */
function moveTo(frame, h, cursor) {
  const day = new Closes(frame.full.bars.time, null);
  const closed = day.closedBy(cursor);
  const start = frame.full.bars.time[closed];
  const forming = start === undefined ? null : formingBar(h, new Closes(h.time, HOUR), start, day.at(closed), cursor);
  return frame.moveTo(closed, forming);
}

/** @param {ReplayFrame} frame */
const snapshot = (frame) => JSON.stringify({ bars: frame.bars, indicators: frame.indicators, compare: frame.compare, length: frame.length });

for (const seed of [1, 2, 3, 4, 5]) {
  test(`seed ${seed}: a frame stepped to a cursor is the frame built there, and later bars never reach it`, () => {
    const rand = random(seed);
    const h = hours(rand, 60);
    const full = daily(h);
    const stepped = new ReplayFrame(full);
    const curve = stepped.follow(full.bars.close.map((c) => (c ?? 0) * 2));
    const closes = new Closes(h.time, HOUR);
    let cursor = closes.at(Math.floor(rand() * h.time.length));
    for (let k = 0; k < 200; k++) {
      const r = rand();
      const next = r < 0.4 ? closes.step(cursor, 1) : r < 0.6 ? closes.step(cursor, -1) : r < 0.8
        ? new Closes(full.bars.time, null).step(cursor, r < 0.7 ? 1 : -1)
        : h.time[0] + Math.floor(rand() * ((h.time.at(-1) ?? 0) - h.time[0]));
      if (next === null) continue;
      cursor = next;
      const keep = moveTo(stepped, h, cursor);
      const fresh = new ReplayFrame(full);
      const freshCurve = fresh.follow(full.bars.close.map((c) => (c ?? 0) * 2));
      moveTo(fresh, h, cursor);
      assert.equal(snapshot(stepped), snapshot(fresh), `step ${k}, cursor ${cursor}`);
      assert.deepEqual(curve, freshCurve);
      assert.ok(keep <= stepped.closed);
      // The last bar shown is closed by the cursor, or forming at it; nothing starts after it.
      assert.ok((stepped.bars.time.at(-1) ?? -Infinity) <= cursor);
      if (stepped.forming) assert.equal(stepped.indicators[0].outputs.value.at(-1), null, 'the forming value waits for the server');
      if (stepped.forming) assert.equal(curve.at(-1), null, 'a curve has no value at the forming bar');
      // A changed future: every hour after the cursor different; the frame at the cursor the same.
      const changed = structuredClone(h);
      for (let j = 0; j < changed.time.length; j++) {
        if (closes.at(j) > cursor) for (const c of /** @type {const} */ (['open', 'high', 'low', 'close'])) changed[c][j] = (changed[c][j] ?? 1) * 3;
      }
      const other = new ReplayFrame(daily(changed));
      moveTo(other, changed, cursor);
      const same = JSON.parse(snapshot(stepped));
      const theirs = JSON.parse(snapshot(other));
      // The running sum and the compared closes are the test's own, computed on the whole series: only the bars are compared.
      assert.deepEqual(theirs.bars, same.bars, `a changed future changed the past at ${cursor}`);
    }
  });
}

test('a run\'s trades as of a cursor: entered by then, later exits open and marked, costs unknown', () => {
  /** @type {Trade} */
  const base = {
    id: 0, symbol: 'S', side: 'long', size: 10, entry_time: 100, entry_price: 50, exit_time: 200, exit_price: 55, pnl: 48, return_pct: 9.6,
    entry_bar: 100, exit_bar: 200, bars_held: 1, mark_price: null, mark_bar: null, unrealized_pnl: null, unrealized_return_pct: null,
    commission: 2, stop_loss: null, take_profit: null, tag: null,
  };
  /** @type {Trade[]} */
  const trades = [base, { ...base, id: 1, side: 'short', entry_time: 150, exit_time: 300 }, { ...base, id: 2, entry_time: 250, exit_time: null, exit_price: null, pnl: null, return_pct: null, exit_bar: null, bars_held: null }];
  const at = tradesAsOf(trades, 200, { price: 40, bar: 180 });
  assert.deepEqual(at.map((t) => t.id), [0, 1]);
  assert.equal(at[0], base, 'a trade closed by then is as it is');
  assert.deepEqual([at[1].exit_time, at[1].pnl, at[1].commission, at[1].mark_price, at[1].mark_bar], [null, null, null, 40, 180]);
  assert.equal(at[1].unrealized_pnl, 100, 'short 10 from 50 to 40');
  assert.equal(at[1].unrealized_return_pct, 20);
  const later = tradesAsOf(trades, 260, { price: 60, bar: 250 });
  assert.equal(later[2].commission, 2, 'a trade open in the run keeps what it paid');
  assert.equal(later[2].unrealized_pnl, 100);
  assert.equal(tradesAsOf(trades, 99, null).length, 0);
});
