// @ts-check
// The CSV of the bars in view: a header of the bars' columns and one per
// indicator output, times in UTC, missing values empty, and fields quoted
// exactly when they must be.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvText } from '../src/export.js';

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
