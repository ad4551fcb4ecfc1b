// @ts-check
// The SQL console in headless Chromium against a live server: open it, run
// an example, read the table, see a refusal worded by the server, and chart
// a result with its indicator columns.
// Usage: node tests/sql.mjs http://127.0.0.1:PORT
import { openBrowser, present, waitForBars, waitForText } from './browser.mjs';

/** @import { SymbolsResponse } from '../src/api.js' */

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/sql.mjs http://127.0.0.1:PORT');
// The refusal step answers 400 on purpose.
const { page, check, screenshot, finish } = await openBrowser(base, { expectErrors: true });
try {
  await page.goto(base + '/?symbol=ALPACA:EXPE&timeframe=1h');
  await waitForBars(page);
  check(await page.locator('#sql').isHidden(), 'the console starts closed');
  await page.keyboard.press('q');
  check(await page.locator('#sql').isVisible(), 'Q opens the console');
  check(await page.locator('#sql textarea').evaluate((e) => e === document.activeElement), 'the editor takes the focus');

  const run = async (/** @type {string} */ sql) => {
    await page.locator('#sql textarea').fill(sql);
    await page.locator('#sql textarea').press('Control+Enter');
    await page.waitForFunction(() => !/** @type {HTMLButtonElement} */ (document.querySelector('#sql .run')).disabled
      && !/** @type {HTMLElement} */ (document.querySelector('#sql .sql-status')).textContent.startsWith('Running'));
  };

  // An example: what is stored, one row per series.
  await page.locator('#sql select').selectOption({ label: 'What is stored' });
  check((await page.locator('#sql textarea').inputValue()).includes('GROUP BY provider, symbol, timeframe'), 'an example fills the editor');
  await page.locator('#sql .run').click();
  await page.waitForFunction(() => document.querySelectorAll('#sql .sql-result tbody tr').length > 0);
  /** @type {SymbolsResponse} */
  const { symbols } = await (await page.request.get(base + '/api/symbols')).json();
  const series = symbols.reduce((n, s) => n + s.timeframes.length, 0);
  const rows = await page.locator('#sql .sql-result tbody tr').count();
  check(rows === series, `the table has a row per stored series (${rows} of ${series})`);
  const headers = await page.locator('#sql .sql-result th').allInnerTexts();
  check(headers.join(',') === 'provider,symbol,timeframe,bars,first,last', `the table's columns are the query's (${headers})`);
  check((await page.locator('#sql .sql-status').innerText()).includes(`${series} rows`), 'the status counts the rows');
  check(await page.locator('#sql .chart-this').isHidden(), 'no Chart this without OHLC columns');

  // A refusal, as the server words it.
  await run('DROP TABLE bars');
  const refusal = await page.locator('#sql .sql-error').innerText();
  check(refusal.includes('read-only'), `a refused statement says why (${refusal})`);
  check(await page.locator('#sql .sql-result tbody tr').count() === 0, 'no stale table under an error');
  await run('SELECT nope FROM bars');
  check((await page.locator('#sql .sql-error').innerText()).includes('nope'), 'a bad column is named');

  // Chart this: bars with an overlay and an oscillator.
  await run("SELECT time, open, high, low, close, volume, sma(close, 20) OVER w AS sma20, rsi(close, 14) OVER w AS rsi14 FROM bars('EXPE', '4h') WINDOW w AS (ORDER BY time)");
  check(await page.locator('#sql .sql-error').isHidden(), 'the query runs');
  check(await page.locator('#sql .chart-this').isVisible(), 'Chart this is offered for OHLC results');
  await page.locator('#sql .chart-this').click();
  await waitForText(page, '#legends', 'SQL result');
  const expected = await (await page.request.get(base + '/api/data?symbol=EXPE&timeframe=4h&indicators=sma(20),rsi(14)')).json();
  const bars = Number(await page.locator('#chart').getAttribute('data-bars'));
  check(bars === expected.bars.time.length, `the chart holds the result's ${expected.bars.time.length} bars (got ${bars})`);
  const drawn = await page.evaluate(() => window.candela.chart.drawn.map(({ key, pane, outputs }) => ({
    key, pane, points: [...outputs.values()][0].data().flatMap((p) => ('value' in p && p.value !== undefined ? [/** @type {const} */ ([p.time, p.value])] : [])),
  })));
  const sma = drawn.find((d) => d.key === 'sma20');
  const rsi = drawn.find((d) => d.key === 'rsi14');
  check(sma?.pane === 0 && rsi?.pane === 1, `the SMA overlays the price, the RSI has a pane (${drawn.map((d) => `${d.key}:${d.pane}`)})`);
  const apiSma = expected.indicators[0].outputs.sma;
  const smaPoints = present(sma, 'the chart\'s sma20').points;
  const same = smaPoints.every(([t, v]) => Math.abs(v - apiSma[expected.bars.time.indexOf(t)]) < 1e-9);
  check(same && smaPoints.length === apiSma.filter((/** @type {number | null} */ v) => v !== null).length, 'the charted SMA is the API\'s');
  const legend = await page.locator('#legends').innerText();
  check(legend.includes('sma20') && legend.includes('rsi14'), `legends name the columns (${legend.replace(/\n/g, ' ')})`);
  await screenshot('sql-console');

  await page.locator('#symbol-search').fill('NFLX');
  await page.locator('#symbol-list [role="option"][data-symbol="ALPACA:NFLX"]').click();
  await waitForText(page, '#legends', 'ALPACA:NFLX');
  check(true, 'choosing a symbol brings the chart back');
  await page.keyboard.press('Escape');
  await page.locator('#sql-toggle').click();
  check(await page.locator('#sql').isHidden(), 'the SQL button closes the console');
} finally {
  await finish();
}
