// @ts-check
// Errors are routed by what the server says they are about (the parameter,
// then the code), never by their words; the indicator entry at fault is the
// one whose call the error names; the SQL console puts the caret where the
// error is.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ApiError, api, culpritEntry, errorPlace } from '../src/api.js';
import { callText } from '../src/calls.js';
import { textRange } from '../src/sql-console.js';

/** @import { ErrorDetail } from '../src/api.js' */

const error = (/** @type {number} */ status, /** @type {ErrorDetail} */ detail) => new ApiError(status, detail);

test('the parameter decides the place, whatever the code and the message say', () => {
  const cases = /** @type {const} */ ([
    ['symbol', 'symbol'],
    ['timeframe', 'timeframe'],
    ['indicators', 'indicators'],
    ['start', 'chart'],
    ['end', 'chart'],
    ['limit', 'chart'],
    ['sql', 'chart'],
    ['format', 'chart'],
    ['q', 'chart'],
    ['run', 'run'],
    ['a-parameter-from-the-future', 'chart'],
  ]);
  for (const [param, place] of cases) {
    // A message that names another control must not move it.
    const message = 'timeframe: indicators: unknown symbol';
    assert.equal(errorPlace(error(400, { code: 'bad_parameter', message, param })), place, param);
  }
  // An indicator error in a SQL query belongs to the query, not the sidebar.
  assert.equal(errorPlace(error(500, { code: 'indicator_failed', message: 'm', param: 'sql', indicator: 'sma(period=20)' })), 'chart');
  assert.equal(errorPlace(error(404, { code: 'unknown_symbol', message: 'm', param: 'timeframe' })), 'timeframe');
});

test('without a parameter, the code decides', () => {
  const cases = /** @type {const} */ ([
    ['unknown_symbol', 'symbol'],
    ['ambiguous_symbol', 'symbol'],
    ['timeframe_not_available', 'timeframe'],
    ['unknown_indicator', 'indicators'],
    ['indicator_refused', 'indicators'],
    ['indicator_failed', 'indicators'],
    ['indicator_limit', 'indicators'],
    ['unknown_run', 'run'],
    ['run_invalid', 'run'],
    ['run_symbol', 'run'],
    ['run_too_large', 'run'],
    ['bad_parameter', 'chart'],
    ['unreadable_data', 'chart'],
    ['io_error', 'chart'],
    ['query_failed', 'chart'],
    ['not_found', 'chart'],
    ['internal', 'chart'],
    ['busy', 'chart'],
    ['unreachable', 'chart'],
    ['indicator_of_the_future', 'chart'],
    ['toString', 'chart'],
  ]);
  for (const [code, place] of cases) {
    assert.equal(errorPlace(error(400, { code, message: 'symbol timeframe indicators' })), place, code);
  }
});

test('what is not an error of the API goes over the chart', () => {
  assert.equal(errorPlace(new Error('timeframe: bad')), 'chart');
  assert.equal(errorPlace(new TypeError('indicators failed')), 'chart');
  assert.equal(errorPlace('unknown_symbol'), 'chart');
});

/** @param {string} id @param {Record<string, number>} params */
const entry = (id, params) => ({ id, params, color: '#000000' });

test('the culprit is the entry whose call the error names', () => {
  const entries = [
    entry('sma', { period: 50 }),
    entry('sma', { period: 20 }),
    entry('bbands', { period: 20, stddev: 2.5 }),
    entry('obv', {}),
  ];
  const named = (/** @type {string} */ indicator, code = 'indicator_failed') =>
    culpritEntry(entries, error(500, { code, message: `${entries.map((e) => callText(e)).join(' ')}`, param: 'indicators', indicator }));
  assert.equal(named('sma(period=20)'), entries[1]);
  assert.equal(named('sma(period=50)'), entries[0]);
  assert.equal(named('bbands(period=20,stddev=2.5)'), entries[2]);
  assert.equal(named('obv'), entries[3]);
  // The server's canonical key may write a value otherwise, or space it.
  assert.equal(named('bbands(period=20.0, stddev=2.50)'), entries[2]);
  assert.equal(named('obv()'), entries[3]);
  // An unknown indicator (a plugin removed meanwhile) is named by its id.
  assert.equal(named('sma', 'unknown_indicator'), entries[0]);
  // Calls that are not on the chart name no entry, whatever the message says.
  assert.equal(named('sma(period=30)'), undefined);
  assert.equal(named('sma(period=20,extra=1)'), undefined);
  assert.equal(named('sma(20)'), undefined);
  assert.equal(named('rsi(period=14)'), undefined);
  assert.equal(named(''), undefined);
  assert.equal(named('sma(period=20'), undefined);
});

test('an error that names no call has no culprit, even if its message quotes one', () => {
  const entries = [entry('sma', { period: 20 })];
  assert.equal(culpritEntry(entries, error(422, { code: 'indicator_refused', message: 'sma(period=20) refused', param: 'indicators' })), undefined);
  assert.equal(culpritEntry(entries, new Error('sma(period=20)')), undefined);
});

const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

/**
 * Makes fetch answer `body` with `status`.
 * @param {number} status
 * @param {string} body
 */
function answer(status, body) {
  globalThis.fetch = async () => new Response(body, { status, statusText: 'Status', headers: { 'Content-Type': 'application/json' } });
}

test('an error answer becomes an ApiError with its code, message, parameter, indicator and position', async () => {
  answer(400, JSON.stringify({ error: { code: 'bad_parameter', message: 'indicators: sma(period=0): period is out of range', param: 'indicators', indicator: 'sma(period=0)' } }));
  await assert.rejects(api('/api/data?symbol=X'), (e) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual({ status: e.status, code: e.code, message: e.message, param: e.param, indicator: e.indicator, position: e.position },
      { status: 400, code: 'bad_parameter', message: 'indicators: sma(period=0): period is out of range', param: 'indicators', indicator: 'sma(period=0)', position: undefined });
    return true;
  });
  answer(400, JSON.stringify({ error: { code: 'sql_invalid', message: 'Expected: an expression, found: EOF', param: 'sql', position: { line: 2, column: 8 } } }));
  await assert.rejects(api('/api/sql', { body: { sql: 'SELECT\n  1 + ' } }), (e) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.code, e.param, e.position], ['sql_invalid', 'sql', { line: 2, column: 8 }]);
    return true;
  });
});

test("a run's error keeps the run it is about, and goes beside the run picker", async () => {
  answer(422, JSON.stringify({ error: { code: 'run_invalid', message: "run 'x': trades.csv line 3: pnl is not a number", param: 'run', run: 'x', place: { file: 'trades.csv' } } }));
  await assert.rejects(api('/api/runs/x'), (e) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.status, e.code, e.param, e.run], [422, 'run_invalid', 'run', 'x']);
    assert.equal(errorPlace(e), 'run');
    return true;
  });
  // A trade query's symbol the run does not trade is the symbol's fault.
  assert.equal(errorPlace(error(404, { code: 'not_found', message: "run 'x' has no trades of ALPACA:AAPL", param: 'symbol' })), 'symbol');
});

test('an answer that is not an error body still says what happened', async () => {
  answer(502, '<html>Bad Gateway</html>');
  await assert.rejects(api('/api/symbols'), { name: 'ApiError', status: 502, code: 'http_error', message: '502 Status', param: undefined });
  // Fields of the wrong type are left out rather than trusted.
  answer(400, JSON.stringify({ error: { code: 7, message: 'm', param: ['symbol'], indicator: null, position: { line: '1', column: 2 } } }));
  await assert.rejects(api('/api/data'), (e) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.code, e.message, e.param, e.indicator, e.position], ['http_error', 'm', undefined, undefined, undefined]);
    assert.equal(errorPlace(e), 'chart');
    return true;
  });
  globalThis.fetch = async () => { throw new TypeError('fetch failed'); };
  await assert.rejects(api('/api/symbols'), { name: 'ApiError', status: 0, code: 'unreachable' });
});

test('a good answer is the JSON sent; a POST sends its body as JSON', async () => {
  /** @type {RequestInit | undefined} */
  let sent;
  globalThis.fetch = async (_url, init) => {
    sent = init;
    return new Response('{"rows":[[1]]}', { status: 200 });
  };
  assert.deepEqual(await api('/api/sql', { body: { sql: 'SELECT 1' } }), { rows: [[1]] });
  assert.equal(sent?.method, 'POST');
  assert.equal(sent?.body, '{"sql":"SELECT 1"}');
});

test("the SQL caret: the error's line and column, in the editor's UTF-16 units", () => {
  const sql = 'SELECT time,\n       nope\nFROM bars';
  assert.deepEqual(textRange(sql, { line: 1, column: 1 }), [0, 1]);
  assert.deepEqual(textRange(sql, { line: 2, column: 8 }), [20, 21]);
  assert.equal(sql.slice(...textRange(sql, { line: 2, column: 8 })), 'n');
  assert.equal(sql.slice(...textRange(sql, { line: 3, column: 6 })), 'b');
  // Columns count characters: an emoji is one column and two UTF-16 units.
  const wide = "SELECT '📈' AS x, nope";
  const [start, end] = textRange(wide, { line: 1, column: 18 });
  assert.equal(wide.slice(start, end), 'n');
  // After the end of a line: the caret at its end. A line beyond the text: the last line.
  assert.deepEqual(textRange(sql, { line: 1, column: 40 }), [12, 12]);
  assert.deepEqual(textRange(sql, { line: 9, column: 1 }), [sql.indexOf('FROM'), sql.indexOf('FROM') + 1]);
  // A CRLF line ends before its CR.
  assert.deepEqual(textRange('SELECT\r\nx', { line: 1, column: 7 }), [6, 6]);
});
