// @ts-check
// The CSV of the bars in view: a header of the bars' columns and one per
// indicator output, times in UTC, missing values empty, and fields quoted
// exactly when they must be. The CSV of a run's trades in view, likewise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvText, tradesCsvText } from '../src/export.js';

/** @import { IndicatorResult } from '../src/api.js' */

/** @type {{bars: import('../src/api.js').Bars, indicators: IndicatorResult[]}} */
const history = {
  bars: {
    time: [1_700_000_000, 1_700_000_060, 1_700_000_120, 1_700_000_180],
    open: [1.5, 2, 3, 4],
    high: [2, 2.5, 3.5, 4.5],
    low: [1, 1.5, null, 3.5],
    close: [1.75, 2.25, 3.25, 4.25],
    volume: [100, null, 300, 400],
  },
  indicators: [
    { id: 'sma', key: 'sma(period=2)', params: { period: 2 }, placement: 'overlay', outputs: { sma: [null, 2, 2.75, 3.75] } },
    {
      id: 'macd', key: 'macd(fast=12,slow=26,signal=9)', params: { fast: 12, slow: 26, signal: 9 }, placement: 'pane',
      outputs: { macd: [0.1, 0.2, 0.3, 0.4], signal: [null, null, -0.5, 1e-7] },
    },
    // A SQL column's name may hold anything.
    { id: 'sql:x', key: 'say "hi", then\nleave', params: {}, placement: 'pane', outputs: { v: [1, 2, 3, 4] } },
  ],
};

test('the header, then one row per bar from `from` to `to` inclusive', () => {
  const lines = csvText({ bars: history.bars, indicators: history.indicators.slice(0, 2) }, 1, 2).split('\n');
  assert.deepEqual(lines, [
    'time,open,high,low,close,volume,sma(period=2).sma,"macd(fast=12,slow=26,signal=9).macd","macd(fast=12,slow=26,signal=9).signal"',
    '2023-11-14T22:14:20.000Z,2,2.5,1.5,2.25,,2,0.2,',
    '2023-11-14T22:15:20.000Z,3,3.5,,3.25,300,2.75,0.3,-0.5',
    '',
  ]);
});

test('a missing value (null) is an empty field, never "null"', () => {
  const [, first] = csvText({ bars: history.bars, indicators: history.indicators.slice(0, 2) }, 0, 0).split('\n');
  assert.equal(first, '2023-11-14T22:13:20.000Z,1.5,2,1,1.75,100,,0.1,');
  assert.doesNotMatch(csvText(history, 0, 3), /null|undefined|NaN/);
});

test('fields with commas, quotes or line breaks are quoted, quotes doubled; others are not', () => {
  const header = csvText(history, 0, -1).trimEnd();
  assert.equal(header, 'time,open,high,low,close,volume,sma(period=2).sma,'
    + '"macd(fast=12,slow=26,signal=9).macd","macd(fast=12,slow=26,signal=9).signal",'
    + '"say ""hi"", then\nleave.v"');
  const cr = csvText({ bars: history.bars, indicators: [{ ...history.indicators[0], key: 'a\rb' }] }, 0, -1);
  assert.match(cr, /,"a\rb\.sma"\n$/);
  // Numbers as JavaScript writes them, exactly.
  assert.match(csvText(history, 3, 3), /,1e-7,4\n$/);
});

test('trades: the run, then every field of the API\'s trade; times in UTC, an open trade\'s exit empty, a tag quoted when it must be', () => {
  /** @type {import('../src/runs.js').Trade} */
  const closed = {
    id: 7, symbol: 'ALPACA:NFLX', side: 'short', size: 100, entry_time: 1_700_000_000, entry_price: 665.1,
    exit_time: 1_700_003_600, exit_price: 647.54, pnl: 1690.368, return_pct: 2.54, entry_bar: 1_699_999_200, exit_bar: 1_700_002_800,
    bars_held: 1, mark_price: null, mark_bar: null, unrealized_pnl: null, unrealized_return_pct: null, commission: 65.632, stop_loss: 685.053, take_profit: null, tag: 'cross "down", fast',
  };
  const open = { ...closed, id: 8, side: /** @type {const} */ ('long'), exit_time: null, exit_price: null, pnl: null, return_pct: null, exit_bar: null, bars_held: null, tag: null };
  const lines = tradesCsvText([{ run: 'nflx-sma-cross', trade: closed }, { run: 'b', trade: open }]).split('\n');
  assert.deepEqual(lines, [
    'run,id,symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl,return_pct,bars_held,entry_bar,exit_bar,commission,stop_loss,take_profit,tag',
    'nflx-sma-cross,7,ALPACA:NFLX,short,100,2023-11-14T22:13:20.000Z,665.1,2023-11-14T23:13:20.000Z,647.54,1690.368,2.54,1,'
      + '2023-11-14T22:00:00.000Z,2023-11-14T23:00:00.000Z,65.632,685.053,,"cross ""down"", fast"',
    'b,8,ALPACA:NFLX,long,100,2023-11-14T22:13:20.000Z,665.1,,,,,,2023-11-14T22:00:00.000Z,,65.632,685.053,,',
    '',
  ]);
  assert.equal(tradesCsvText([]), 'run,id,symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl,return_pct,bars_held,entry_bar,exit_bar,commission,stop_loss,take_profit,tag\n');
});
