// @ts-check
// The link: what the chart is written into it and read back, readable and
// exact, keeping whatever else the link holds; compared symbols and their
// anchor, a backtest run and the one laid over it too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromLink, linkQuery } from '../src/layout.js';

/** @import { LinkLayout } from '../src/layout.js' */

/**
 * A link's layout with every key it does not name undefined, as `fromLink` reads it.
 * @param {LinkLayout} named
 * @returns {LinkLayout}
 */
const none = (named) => ({
  symbol: undefined, timeframe: undefined, type: undefined, indicators: undefined, colors: undefined, compare: undefined, anchor: undefined, run: undefined, vs: undefined, replay: undefined, step: undefined, ...named,
});

test('a link round-trips through format and parse', () => {
  /** @type {LinkLayout} */
  const layout = {
    symbol: 'ALPACA:NFLX',
    timeframe: '4h',
    type: 'heikin-ashi',
    indicators: 'sma(period=20,timeframe=1d),ema(period=9,source=rsi(period=14)),macd(fast=12,slow=26,signal=9)',
    colors: ['#f5a623', '#6c8cff', '#123456'],
    compare: 'AAPL,ALPACA:EXPE',
    anchor: 1709647200,
    run: 'nflx-sma-cross',
    vs: 'nflx-sma-cross-fast',
    replay: 1709647200,
    step: '1h',
  };
  const query = linkQuery(layout);
  assert.equal(query, 'symbol=ALPACA:NFLX&timeframe=4h&type=heikin-ashi'
    + '&indicators=sma(period=20,timeframe=1d),ema(period=9,source=rsi(period=14)),macd(fast=12,slow=26,signal=9)'
    + '&colors=f5a623,6c8cff,123456&compare=AAPL,ALPACA:EXPE&anchor=2024-03-05T14:00:00Z&run=nflx-sma-cross&vs=nflx-sma-cross-fast'
    + '&replay=2024-03-05T14:00:00Z&step=1h',
  'calls, ids, colours, the anchor, runs and the replay stay readable');
  assert.deepEqual(fromLink(`?${query}`), layout);
});

test('characters that mean something in a query are escaped, and come back', () => {
  /** @type {LinkLayout} */
  const layout = { symbol: 'ODD:A&B #1+%', timeframe: '1d', type: undefined, indicators: undefined, colors: undefined, compare: undefined, anchor: undefined, run: 'my run #2', vs: undefined, replay: undefined, step: undefined };
  const query = linkQuery(layout);
  assert.equal(query, 'symbol=ODD:A%26B%20%231%2B%25&timeframe=1d&run=my%20run%20%232');
  assert.deepEqual(fromLink(`?${query}`), layout);
});

test("absent keys are left out, and the link's other keys kept after the chart's", () => {
  const query = linkQuery({ symbol: 'EXPE', timeframe: '1h', indicators: '' }, '?bars=50000&symbol=OLD&colors=ffffff&run=old&vs=older&compare=AAPL&anchor=2024-01-01&x=a,b');
  assert.equal(query, 'symbol=EXPE&timeframe=1h&bars=50000&x=a,b', 'a run taken off leaves the link');
  assert.deepEqual(fromLink(`?${query}`), none({ symbol: 'EXPE', timeframe: '1h' }));
});

test('a link names what it has, and nothing else', () => {
  assert.deepEqual(fromLink(''), none({}));
  // Written by hand, with positional arguments and escapes: read as written.
  assert.deepEqual(fromLink('?symbol=ALPACA%3AEXPE&indicators=sma%2820%29%2Crsi'), none({ symbol: 'ALPACA:EXPE', indicators: 'sma(20),rsi' }));
  // An anchor in any form Date reads; one that is no time is left out.
  assert.deepEqual(fromLink('?compare=AAPL&anchor=2024-03-05'), none({ compare: 'AAPL', anchor: 1709596800 }));
  assert.deepEqual(fromLink('?compare=AAPL&anchor=soon'), none({ compare: 'AAPL' }));
  // A run alone: the page opens its symbol.
  assert.deepEqual(fromLink('?run=synth-10k'), none({ run: 'synth-10k' }));
});
