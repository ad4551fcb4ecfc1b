// @ts-check
// The page's one state and the rules that change it: its link, the symbol a
// link or the user names, the symbols compared, what a change of symbol or
// of run keeps; and the chart and run controllers' pure parts (the
// timeframes on offer, the status line, the run panes, a link's run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anchorText, describe, timeframeChoices } from '../src/chart-controller.js';
import { RunCurve } from '../src/equity.js';
import { BarHistory } from '../src/history.js';
import { fromLink, linkQuery } from '../src/layout.js';
import { curvePanes, linkedRun } from '../src/run-controller.js';
import { MAX_COMPARED, comparedSymbol, emptyView, findSymbol, linkCompared, onRun, onSymbol, viewLayout } from '../src/view.js';

/**
 * @import { SymbolInfo } from '../src/api.js'
 * @import { RunSummary } from '../src/runs.js'
 */

/** @type {SymbolInfo[]} */
const symbols = /** @type {SymbolInfo[]} */ (['ALPACA:NFLX', 'ALPACA:AAPL', 'YAHOO:AAPL', 'ALPACA:EXPE', ...Array.from({ length: 9 }, (_, i) => `SYNTH:S${i}`)]
  .map((id) => ({ id, provider: id.split(':')[0], symbol: id.split(':')[1] })));

/** @type {RunSummary[]} */
const runs = [
  { run: 'a', name: 'A', symbols: ['ALPACA:NFLX'] },
  { run: 'b', name: 'B', symbols: ['ALPACA:NFLX', 'ALPACA:EXPE'] },
  { run: 'c', name: 'C', symbols: ['ALPACA:EXPE'] },
  { run: 'bad', name: 'bad', symbols: [], error: { code: 'run_invalid', message: 'no' } },
];

test('the view is written into the link and read back whole', () => {
  const view = { ...emptyView(), symbol: 'ALPACA:NFLX', timeframe: '4h', compared: ['ALPACA:EXPE'], anchor: 1709647200, run: 'a', vs: 'b' };
  const layout = viewLayout(view, 'sma(period=20)', ['#f5a623']);
  const back = fromLink(`?${linkQuery(layout)}`);
  assert.deepEqual(back, { ...layout, type: 'candles' });
  // An anchor without compared symbols means nothing: not in the link.
  assert.equal(viewLayout({ ...view, compared: [] }, '', []).anchor, undefined);
  assert.equal(viewLayout(emptyView(), '', []).symbol, undefined);
});

test('a symbol is found by its id, or by a ticker only one provider has', () => {
  assert.equal(findSymbol(symbols, 'ALPACA:AAPL')?.id, 'ALPACA:AAPL');
  assert.equal(findSymbol(symbols, 'EXPE')?.id, 'ALPACA:EXPE');
  assert.equal(findSymbol(symbols, 'AAPL'), undefined, 'two providers have it');
  assert.equal(findSymbol(symbols, undefined), undefined);
  assert.deepEqual(linkCompared(' EXPE, ,ALPACA:NFLX,AAPL', 'ALPACA:NFLX'), ['EXPE', 'AAPL']);
  assert.equal(linkCompared(symbols.map((s) => s.id).join(','), 'X').length, MAX_COMPARED);
  assert.deepEqual(linkCompared(undefined, 'X'), []);
});

test('a symbol joins the compared ones unless it is unknown, the chart\'s own, already there, or one too many', () => {
  const view = { ...emptyView(), symbol: 'ALPACA:NFLX', compared: ['ALPACA:EXPE'] };
  assert.deepEqual(comparedSymbol(view, symbols, ' expe '), { refusal: 'ALPACA:EXPE is already compared' });
  assert.deepEqual(comparedSymbol(view, symbols, 'ALPACA:AAPL'), { id: 'ALPACA:AAPL' });
  assert.deepEqual(comparedSymbol(view, symbols, 'nflx'), { refusal: "ALPACA:NFLX is the chart's own symbol" });
  assert.deepEqual(comparedSymbol(view, symbols, 'AAPL'), { refusal: "unknown symbol 'AAPL': pick one of the list" });
  const full = { ...view, compared: symbols.slice(4, 4 + MAX_COMPARED).map((s) => s.id) };
  assert.deepEqual(comparedSymbol(full, symbols, 'ALPACA:AAPL'), { refusal: `at most ${MAX_COMPARED} symbols can be compared` });
});

test('a new symbol keeps the runs that trade it and stops comparing itself', () => {
  const view = { ...emptyView(), symbol: 'ALPACA:NFLX', compared: ['ALPACA:EXPE', 'ALPACA:AAPL'], run: 'b', vs: 'a' };
  assert.deepEqual(onSymbol(view, runs, 'ALPACA:EXPE'), { symbol: 'ALPACA:EXPE', compared: ['ALPACA:AAPL'], run: 'b', vs: null });
  assert.deepEqual(onSymbol(view, runs, 'ALPACA:AAPL'), { symbol: 'ALPACA:AAPL', compared: ['ALPACA:EXPE'], run: null, vs: null });
  assert.deepEqual(onSymbol({ ...view, run: 'a', vs: 'b' }, runs, 'ALPACA:NFLX').vs, 'b');
});

test('a run opens on the chart\'s symbol if it trades it, else its first; the run laid over it stays only on a shared symbol', () => {
  const view = { ...emptyView(), symbol: 'ALPACA:NFLX', run: 'a', vs: 'b' };
  assert.deepEqual(onRun(view, runs, 'b'), { run: 'b', vs: null, symbol: 'ALPACA:NFLX' }, 'not laid over itself');
  assert.deepEqual(onRun({ ...view, vs: 'a' }, runs, 'b'), { run: 'b', vs: 'a', symbol: 'ALPACA:NFLX' });
  assert.deepEqual(onRun(view, runs, 'c'), { run: 'c', vs: 'b', symbol: 'ALPACA:EXPE' });
  assert.deepEqual(onRun(view, runs, 'bad'), { run: null, vs: null });
  assert.deepEqual(onRun(view, runs, ''), { run: null, vs: null });
  assert.deepEqual(linkedRun(runs, 'c', 'ALPACA:NFLX'), { run: runs[2], symbol: 'ALPACA:EXPE' });
  assert.equal(linkedRun(runs, 'bad', null), undefined);
  assert.equal(linkedRun(runs, 'gone', null), undefined);
});

test('the timeframes on offer keep the current one, else the asked one, else the finest stored, saying why', () => {
  const offered = { symbol: 'S', stored: ['1m', '1d'], available: ['1d', '2h', '1m', '1h', '3d'] };
  assert.deepEqual(timeframeChoices(offered, '1h', '1d', 'S'), { choices: ['1m', '1h', '1d', '2h', '3d'], timeframe: '1h' });
  assert.equal(timeframeChoices(offered, '4h', '1d', 'S').timeframe, '1d');
  assert.deepEqual(timeframeChoices(offered, null, '4h', 'S'), {
    choices: ['1m', '1h', '1d', '2h', '3d'], timeframe: '1m', problem: "S has no timeframe '4h'; it offers 1m, 1h, 1d, 2h, 3d",
  });
  assert.equal(timeframeChoices(offered, null, undefined, 'S').problem, undefined);
});

test('the status line says how many bars, from where, and whether the series begins there', () => {
  const bars = { time: [1, 2, 3], open: [1, 1, 1], high: [1, 1, 1], low: [1, 1, 1], close: [1, 1, 1], volume: [1, 1, 1] };
  const history = new BarHistory({ symbol: 'S', timeframe: '4h', indicators: '', compare: '' },
    { symbol: 'S', timeframe: '4h', source: { timeframe: '1h', aggregated: true }, bars, indicators: [] });
  assert.equal(describe(history), '3 bars · aggregated from 1h');
  history.exhausted = true;
  assert.equal(describe(history), '3 bars · aggregated from 1h · all history');
  assert.equal(describe({ length: 1234, bars, indicators: [] }), 'SQL result · 1,234 bars');
  assert.equal(anchorText(1709596800), '2024-03-05');
  assert.equal(anchorText(1709647200), '2024-03-05 14:00 UTC');
});

test('the run panes hold each run\'s curve, the first run\'s drawdown as an area', () => {
  const curves = [new RunCurve(2), new RunCurve(2)];
  const both = curvePanes(['a', 'b'], curves, { equity: true, drawdown: true });
  assert.deepEqual(both.map((p) => [p.key, p.curves.map((c) => c.name)]), [['equity', ['a', 'b']], ['drawdown', ['a', 'b']]]);
  assert.equal(both[1].curves[0].area, true);
  assert.equal(both[1].curves[1].area, false);
  assert.equal(both[0].curves[1].values, curves[1].equity);
  assert.deepEqual(curvePanes(['a'], curves, { equity: false, drawdown: true }).map((p) => p.key), ['drawdown']);
  assert.deepEqual(curvePanes(['a'], curves, { equity: false, drawdown: false }), []);
});
