// @ts-check
// Backtest runs as the page shows them: the pickers' options (a broken run
// disabled, with its reason and place), the runs a compare picker offers,
// the symbol a run opens on, the statistics card's words, the runs API's URLs,
// the list kept by the runs stream's events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareCandidates, duration, failureText, formatStats, money, paramsText, percent, runChoices, runPath, runSymbol,
  withRunEvent,
} from '../src/runs.js';

/** @import { RunStats, RunSummary } from '../src/runs.js' */

/** @type {RunStats} */
const stats = {
  return_pct: 11.884426224755073, max_drawdown_pct: -24.922181434887015, max_drawdown_duration_s: 81619200,
  trades: 263, win_rate_pct: 39.163498098859314, best_trade_pct: 6.173721717715869, worst_trade_pct: -3.351488633120895,
  avg_trade_pct: 0.1592384777903577, profit_factor: 1.153360109151764, expectancy_pct: 0.22582512582593833,
  exposure_time_pct: 54.99634116594845, sharpe_ratio: 0.2975254805050621, sortino_ratio: null,
  final_equity: 111906.80311000002, net_pnl: -10977.803110000023,
};

/** @type {RunSummary[]} */
const runs = [
  { run: 'a', name: 'SMA cross', strategy: 'SmaCross', symbols: ['ALPACA:NFLX'], stats },
  { run: 'b', name: 'Fast cross', symbols: ['ALPACA:NFLX', 'ALPACA:AAPL'], stats },
  { run: 'bad', name: 'bad', symbols: [], error: { code: 'run_invalid', message: 'pnl: not a number', file: 'trades.csv', row: { line: 12 }, column: 'pnl' } },
  { run: 'c', name: 'Other', symbols: ['SYNTH:LONG'], stats },
];

test('a broken run is offered disabled, its reason and place its tooltip', () => {
  const choices = runChoices(runs);
  assert.deepEqual(choices.map((c) => [c.value, c.disabled]), [['a', false], ['b', false], ['bad', true], ['c', false]]);
  assert.equal(choices[2].title, 'pnl: not a number (trades.csv, line 12, column pnl)');
  assert.equal(choices[2].label, 'bad (cannot be read)');
  assert.equal(choices[0].title, 'a: SmaCross on ALPACA:NFLX');
  assert.equal(failureText({ code: 'run_invalid', message: 'm', file: 'equity.parquet', row: { row: 3 } }), 'm (equity.parquet, row 3)');
  assert.equal(failureText({ code: 'run_too_large', message: 'too large' }), 'too large');
});

test('compare offers the other readable runs of the symbol; a run opens on the symbol shown if it trades it', () => {
  assert.deepEqual(compareCandidates(runs, 'a', 'ALPACA:NFLX').map((r) => r.run), ['b']);
  assert.deepEqual(compareCandidates(runs, 'b', 'ALPACA:AAPL').map((r) => r.run), []);
  assert.equal(runSymbol(runs[1], 'ALPACA:AAPL'), 'ALPACA:AAPL');
  assert.equal(runSymbol(runs[1], 'SYNTH:LONG'), 'ALPACA:NFLX', 'else its first');
  assert.equal(runSymbol(runs[1], null), 'ALPACA:NFLX');
  assert.equal(runSymbol(runs[2], null), undefined);
});

test('the statistics card: every statistic in order, formatted, with its tone; a missing one a dash', () => {
  const cells = formatStats(stats);
  const text = Object.fromEntries(cells.map((c) => [c.key, [c.text, c.tone]]));
  assert.equal(cells.length, 15);
  assert.equal(cells[0].key, 'return_pct');
  assert.deepEqual(text.return_pct, ['+11.88%', 'up']);
  assert.deepEqual(text.net_pnl, ['-10,977.80', 'down']);
  assert.deepEqual(text.final_equity, ['111,906.80', '']);
  assert.deepEqual(text.max_drawdown_pct, ['-24.92%', 'down']);
  assert.deepEqual(text.max_drawdown_duration_s, ['944 d 16 h', '']);
  assert.deepEqual(text.trades, ['263', '']);
  assert.deepEqual(text.win_rate_pct, ['39.16%', '']);
  assert.deepEqual(text.profit_factor, ['1.15', 'up']);
  assert.deepEqual(text.sortino_ratio, ['–', ''], 'a statistic the run has not');
  assert.deepEqual(formatStats({ ...stats, profit_factor: Infinity }).find((c) => c.key === 'profit_factor')?.text, '–');
});

test('durations, money, percentages and parameters', () => {
  assert.equal(duration(0), '0 s');
  assert.equal(duration(42), '42 s');
  assert.equal(duration(60 * 42), '42 m');
  assert.equal(duration(5 * 3600 + 20 * 60 + 5), '5 h 20 m');
  assert.equal(duration(3 * 86_400), '3 d');
  assert.equal(duration(81619200), '944 d 16 h');
  assert.equal(money(1234.5), '1,234.50');
  assert.equal(money(1234.5, true), '+1,234.50');
  assert.equal(money(-3, true), '-3.00');
  assert.equal(percent(0, true), '0.00%');
  assert.equal(paramsText({ fast: 20, slow: 50, kind: 'ema', grid: [1, 2] }), 'fast=20, slow=50, kind=ema, grid=[1,2]');
  assert.equal(paramsText({}), '–');
});

test('the runs API\'s URLs', () => {
  assert.equal(runPath('nflx-sma-cross'), '/api/runs/nflx-sma-cross');
  assert.equal(runPath('a b/c', 'trades', { symbol: 'ALPACA:NFLX', timeframe: '1h', start: undefined, end: '' }),
    '/api/runs/a%20b%2Fc/trades?symbol=ALPACA%3ANFLX&timeframe=1h');
  assert.equal(runPath('x', 'equity', { timeframe: '4h', start: 10, end: 20 }), '/api/runs/x/equity?timeframe=4h&start=10&end=20');
});

test('the runs stream\'s events keep the list as /api/runs would answer it', () => {
  const names = (/** @type {RunSummary[]} */ list) => list.map((r) => `${r.run}:${r.name}`);
  const added = withRunEvent(runs, { run: 'ba', change: 'added', summary: { run: 'ba', name: 'New', symbols: [], stats } });
  assert.deepEqual(names(added), ['a:SMA cross', 'b:Fast cross', 'ba:New', 'bad:bad', 'c:Other'], 'in its place by name');
  const last = withRunEvent(runs, { run: 'z', change: 'added', summary: { run: 'z', name: 'Z', symbols: [], stats } });
  assert.equal(names(last).at(-1), 'z:Z');
  const changed = withRunEvent(runs, { run: 'b', change: 'changed', summary: { ...runs[1], name: 'Faster' } });
  assert.deepEqual(names(changed), ['a:SMA cross', 'b:Faster', 'bad:bad', 'c:Other'], 'replaced where it was');
  const broken = withRunEvent(runs, { run: 'a', change: 'broken', summary: { run: 'a', name: 'a', symbols: [], error: { code: 'run_invalid', message: 'm' } } });
  assert.ok(broken[0].error && broken.length === runs.length);
  assert.deepEqual(names(withRunEvent(runs, { run: 'bad', change: 'removed' })), ['a:SMA cross', 'b:Fast cross', 'c:Other']);
  assert.deepEqual(withRunEvent(runs, { run: 'nope', change: 'removed' }), runs, 'an unknown run removed changes nothing');
  assert.equal(runs.length, 4, 'the list given is left as it was');
});
