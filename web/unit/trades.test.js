// @ts-check
// A run's trades on the chart: which fall in a window of bar times, their
// markers (long and short, win and loss, each run its own look), the lines
// and levels in the window's logical bars, the trades under the crosshair,
// the list's orders, stepping from trade to trade, and the tooltip's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barIndex } from '../src/history.js';
import {
  TRADE_STYLES, outcomeText, sortTrades, stepTrade, tradeMarkers, tradeSegments, tradeSummary, tradesAt, tradesInRange, utcText,
} from '../src/trades.js';

/** @import { Trade } from '../src/runs.js' */

const H = 3600;
// Hourly bars from T0: bar k starts at T0 + k hours.
const T0 = 1_700_000_000 - (1_700_000_000 % H);
const times = Array.from({ length: 40 }, (_, k) => T0 + k * H);

/**
 * A trade entering in bar `entry` and leaving in bar `exit` (null: open).
 * @param {number} id
 * @param {number} entry
 * @param {number | null} exit
 * @param {Partial<Trade>} [more]
 * @returns {Trade}
 */
function trade(id, entry, exit, more = {}) {
  const closed = exit !== null;
  return {
    id, symbol: 'ALPACA:NFLX', side: 'long', size: 100,
    entry_time: times[entry] + 60, entry_price: 100, exit_time: closed ? times[exit] + 120 : null, exit_price: closed ? 110 : null,
    pnl: closed ? 1000 : null, return_pct: closed ? 10 : null,
    entry_bar: times[entry], exit_bar: closed ? times[exit] : null, bars_held: closed ? exit - entry : null,
    mark_price: null, mark_bar: null, unrealized_pnl: null, unrealized_return_pct: null,
    commission: 1.5, stop_loss: 95, take_profit: 115, tag: null, ...more,
  };
}

const trades = [
  trade(0, 1, 4),
  trade(1, 4, 9, { side: 'short', pnl: -250, return_pct: -2.5, exit_price: 102.5, stop_loss: null }),
  trade(2, 12, 30, { take_profit: null }),
  trade(3, 31, 33, { pnl: 0, return_pct: 0 }),
  trade(4, 36, null),
];

test('the bar holding a time: the last starting at or before it', () => {
  assert.equal(barIndex(times, times[0]), 0);
  assert.equal(barIndex(times, times[5] + 1799), 5);
  assert.equal(barIndex(times, times[0] - 1), -1, 'before the first bar');
  assert.equal(barIndex(times, times[39] + 10 * H), 39, 'after the last: the last');
  assert.equal(barIndex([], 5), -1);
});

test('the trades of a window: open at some bar of it, an open trade reaching every later bar', () => {
  const ids = (/** @type {Trade[]} */ ts) => ts.map((t) => t.id);
  assert.deepEqual(ids(tradesInRange(trades, times[5], times[11])), [1], 'trade 1 spans it; 0 exited before');
  assert.deepEqual(ids(tradesInRange(trades, times[4], times[4])), [0, 1], 'one exits and one enters in the same bar');
  assert.deepEqual(ids(tradesInRange(trades, times[15], times[20])), [2], 'entered before, exits after');
  assert.deepEqual(ids(tradesInRange(trades, times[38], times[39])), [4], 'the open trade');
  assert.deepEqual(ids(tradesInRange(trades, times[10], times[11])), [], 'between trades');
  assert.deepEqual(ids(tradesInRange([{ ...trades[0], entry_bar: null }], times[0], times[39])), [], 'a trade on no bar is not drawn');
});

test('markers: long entries below the bar pointing up, shorts above pointing down, exits at their price by outcome', () => {
  const style = TRADE_STYLES[0];
  const markers = tradeMarkers(trades.slice(0, 2), times[0], times[39], style, 'run');
  assert.deepEqual(markers.map((m) => m.id), ['run:0:entry', 'run:0:exit', 'run:1:entry', 'run:1:exit']);
  assert.deepEqual(markers[0], { time: times[1], position: 'belowBar', shape: 'arrowUp', color: style.long, id: 'run:0:entry' });
  assert.deepEqual(markers[2], { time: times[4], position: 'aboveBar', shape: 'arrowDown', color: style.short, id: 'run:1:entry' });
  assert.equal(markers[1].position, 'atPriceMiddle');
  assert.equal(markers[1].price, 110);
  assert.equal(markers[1].color, style.win);
  assert.equal(markers[3].color, style.loss);
  assert.deepEqual(markers.map((m) => m.time), [...markers.map((m) => m.time)].sort(), 'sorted by time');
  // Only the ends inside the window; an open trade has no exit.
  const cut = tradeMarkers(trades, times[5], times[37], style, 'run');
  assert.deepEqual(cut.map((m) => m.id), ['run:1:exit', 'run:2:entry', 'run:2:exit', 'run:3:entry', 'run:3:exit', 'run:4:entry']);
  assert.equal(cut.find((m) => m.id === 'run:3:exit')?.color, style.loss, 'a trade that made nothing did not win');
  // A compared run looks different.
  const other = tradeMarkers(trades.slice(0, 1), times[0], times[39], TRADE_STYLES[1], 'compare');
  assert.equal(other[1].shape, 'square');
  assert.notEqual(other[0].color, markers[0].color);
  assert.equal(other[0].id, 'compare:0:entry');
});

test('segments: entry to exit by PnL, stop-loss and take-profit over the span, in the window\'s logical bars', () => {
  const style = TRADE_STYLES[0];
  const start = 2;
  const segments = tradeSegments(trades, times, start, 120, style, 'run');
  const of = (/** @type {number} */ id) => segments.filter((s) => s.id === `run:${id}`);
  assert.deepEqual(of(0), [
    { kind: 'trade', id: 'run:0', from: -1, fromPrice: 100, to: 2, toPrice: 110, color: style.win, dash: style.dash },
    { kind: 'stop', id: 'run:0', from: -1, fromPrice: 95, to: 2, toPrice: 95, color: style.stop, dash: [] },
    { kind: 'target', id: 'run:0', from: -1, fromPrice: 115, to: 2, toPrice: 115, color: style.target, dash: [] },
  ]);
  assert.deepEqual(of(1).map((s) => [s.kind, s.color]), [['trade', style.loss], ['target', style.target]], 'no stop-loss, no segment');
  const open = of(4);
  assert.deepEqual([open[0].from, open[0].to, open[0].toPrice, open[0].color], [34, 37, 120, style.open], 'an open trade runs to the latest close');
  assert.equal(tradeSegments(trades.slice(4), times, 0, null, style, 'run').filter((s) => s.kind === 'trade').length, 0, 'no latest close, no open line');
  // A trade entering before the bars loaded is left out.
  assert.deepEqual(tradeSegments(trades.slice(0, 1), times.slice(2), 0, 120, style, 'run'), []);
});

test('the trades under the crosshair: those entering or exiting there, else those across it', () => {
  assert.deepEqual(tradesAt(trades, times[4]).map((t) => t.id), [0, 1]);
  assert.deepEqual(tradesAt(trades, times[20]).map((t) => t.id), [2]);
  assert.deepEqual(tradesAt(trades, times[39]).map((t) => t.id), [4], 'an open trade is across every later bar');
  assert.deepEqual(tradesAt(trades, times[10]), []);
});

test('the list sorts by time, PnL, return and duration; open trades last either way', () => {
  const ids = (/** @type {Trade[]} */ ts) => ts.map((t) => t.id);
  assert.deepEqual(ids(sortTrades(trades, 'time', -1)), [4, 3, 2, 1, 0]);
  assert.deepEqual(ids(sortTrades(trades, 'pnl', -1)), [0, 2, 3, 1, 4], 'ties by entry');
  assert.deepEqual(ids(sortTrades(trades, 'pnl', 1)), [1, 3, 0, 2, 4]);
  assert.deepEqual(ids(sortTrades(trades, 'return', 1)), [1, 3, 0, 2, 4]);
  assert.deepEqual(ids(sortTrades(trades, 'duration', -1)), [2, 1, 0, 3, 4]);
  assert.deepEqual(ids(trades), [0, 1, 2, 3, 4], 'the trades themselves keep their order');
});

test('stepping: along the list from the current trade, else from the middle of the view by time', () => {
  const byPnl = sortTrades(trades, 'pnl', -1);
  assert.equal(stepTrade(byPnl, 2, 1)?.id, 3, 'next in the list\'s order');
  assert.equal(stepTrade(byPnl, 2, -1)?.id, 0);
  assert.equal(stepTrade(byPnl, 4, 1)?.id, 4, 'stays at the end');
  assert.equal(stepTrade(byPnl, 0, -1)?.id, 0, 'and at the start');
  assert.equal(stepTrade(byPnl, null, 1, times[10])?.id, 2, 'no current trade: the first entering after the centre');
  assert.equal(stepTrade(byPnl, null, -1, times[10])?.id, 1, 'or the last before it');
  assert.equal(stepTrade(byPnl, null, 1, times[39])?.id, 0, 'none after: the list\'s first');
  assert.equal(stepTrade(byPnl, 99, -1)?.id, 4, 'a trade not listed: the list\'s last');
  assert.equal(stepTrade([], null, 1), undefined);
});

test('what a tooltip says', () => {
  const summary = tradeSummary(trades[1]);
  assert.equal(summary.title, 'Short 100 · #1');
  assert.equal(summary.tone, 'down');
  assert.deepEqual(summary.rows, [
    ['Entry', `${utcText(trades[1].entry_time)} @ 100`],
    ['Exit', `${utcText(/** @type {number} */ (trades[1].exit_time))} @ 102.5`],
    ['PnL', '-250.00 (-2.50%)'],
    ['Bars held', '5'],
    ['Take-profit', '115'],
    ['Commission', '1.50'],
  ]);
  const open = tradeSummary({ ...trades[4], tag: 'cross up', size: 1234.5 });
  assert.equal(open.title, 'Long 1,234.5 · #4 · cross up');
  assert.deepEqual(open.rows.slice(1, 4), [['Exit', 'still open'], ['PnL', 'open'], ['Bars held', '–']]);
  assert.equal(open.tone, '');
  assert.equal(utcText(1_704_205_800), '2024-01-02 14:30');
  assert.equal(outcomeText({ ...trades[0], pnl: 1234.567, return_pct: 0.1234 }), '+1,234.57 (+0.12%)');
  assert.equal(outcomeText({ ...trades[0], return_pct: null }), '+1,000.00');
  assert.equal(outcomeText({ ...trades[0], pnl: null, return_pct: null }), 'open');
  assert.equal(outcomeText({ ...trades[0], pnl: null, return_pct: null, unrealized_pnl: -12, unrealized_return_pct: -0.1 }), 'open -12.00 (-0.10%)');
});
