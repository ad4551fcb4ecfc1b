// @ts-check
// Live bars in headless Chromium against a live server following its data
// root: the page at the latest bars follows the stream (badge "live"); new
// bars written with `candela import --append` appear as new candles, with
// their indicator values (the API's) and the legend following; scrolled
// back, the page stops following, and at the latest bars again it catches
// up. A run on the chart whose trades file is rewritten with more trades
// shows them without a reload, and a new run joins the picker (the runs
// stream). Where the stream is refused, the page polls and still follows.
// Prints the time from the new part file's rename to the candle on
// the page, and from a run's rewrite to its trades on the page (figures, not
// assertions). Screenshot: artifacts/live.png.
// Usage: node tests/live.mjs http://127.0.0.1:PORT DATA_ROOT CANDELA_BINARY RUNS_FOLDER
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openBrowser, present } from './browser.mjs';

/** @import { DataResponse } from '../src/api.js' */

const [base, data, candela, runs] = process.argv.slice(2);
if (!base || !data || !candela || !runs) throw new Error('usage: node tests/live.mjs http://127.0.0.1:PORT DATA_ROOT CANDELA_BINARY RUNS_FOLDER');
const { page, check, screenshot, finish } = await openBrowser(base);
const CHART = 'symbol=ALPACA:NFLX&timeframe=1h&indicators=sma(period=5)';

/** @returns {Promise<DataResponse>} */
const api = async (/** @type {string} */ query) => (await page.request.get(`${base}/api/data?${query}`)).json();
const liveState = () => page.locator('#live').getAttribute('data-state');

/**
 * Appends `count` hourly bars after the series' last one, as a writer of live bars does.
 * @param {number} count
 * @returns {Promise<{bars: number[][], written: number}>} the bars and when the command returned (ms)
 */
async function append(count) {
  const last = (await api(`${CHART}&limit=1`)).bars.time[0];
  const bars = Array.from({ length: count }, (_, i) => {
    const t = last + 3600 * (i + 1);
    const close = 300 + ((t / 3600) % 17);
    return [t, close - 1, close + 2, close - 2, close, 1000 + i];
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'candela-live-'));
  const csv = path.join(dir, 'new.csv');
  writeFileSync(csv, `timestamp,open,high,low,close,volume\n${bars.map((b) => b.join(',')).join('\n')}\n`);
  execFileSync(candela, ['--data', data, 'import', csv, '--symbol', 'ALPACA:NFLX', '--timeframe', '1h', '--append'], { stdio: 'pipe' });
  return { bars, written: Date.now() };
}

await page.goto(`${base}/?${CHART}`);
await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#live')).dataset.state === 'live');
check(true, 'at the latest bars, the page follows the stream: the badge says live');
const held = Number(await page.locator('#chart').getAttribute('data-bars'));

// New bars written: new candles, their SMA the API's, the legend on the newest.
const { bars, written } = await append(3);
await page.waitForFunction((t) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.live?.startsWith(`${t}|`), bars[2][0]);
const seen = Date.now();
console.log(`new candle on the page ${seen - written} ms after the part file was renamed into place`);
const drawn = await page.evaluate(() => {
  const { chart } = window.candela;
  const main = chart.main.data().slice(-4).map((b) => [Number(b.time), 'close' in b ? b.close : null]);
  const sma = chart.drawn[0].outputs.get('sma')?.data().slice(-3).map((p) => ('value' in p ? p.value : null)) ?? [];
  return { main, sma, bars: window.candela.history()?.length };
});
check(drawn.bars === held + 3, `the chart holds the 3 new bars (${held} → ${drawn.bars})`);
check(JSON.stringify(drawn.main.slice(-3)) === JSON.stringify(bars.map((b) => [b[0], b[4]])), 'the new candles are the bars written, in order');
// On the window the page's values come from (a rolling sum rounds by where it starts).
const origin = await page.evaluate(() => /** @type {import('../src/history.js').BarHistory} */ (window.candela.history()).origin);
const served = await api(`${CHART}&start=${origin}`);
check(JSON.stringify(drawn.sma) === JSON.stringify(served.indicators[0].outputs.sma.slice(-3)), `the new bars' SMA is the API's: ${drawn.sma.join(', ')}`);
const closeText = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 }).format(bars[2][4]);
await page.waitForFunction((c) => document.querySelector('#legends')?.textContent?.includes(`C ${c}`), closeText);
check(true, 'the legend shows the newest bar');
await screenshot('live');

// Scrolled back: the page stops following; at the latest bars again, it catches up.
await page.keyboard.press('Home');
await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#live')).hidden);
check(true, 'scrolled back, the page stops following');
const more = await append(2);
await page.waitForTimeout(1500);
const lastHeld = () => page.evaluate(() => window.candela.history()?.bars.time.at(-1));
check(await lastHeld() === bars[2][0], 'bars written meanwhile are not drawn while scrolled back');
await page.keyboard.press('End');
await page.waitForFunction((t) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.live?.startsWith(`${t}|`), more.bars[1][0]);
check(await liveState() === 'live' && await lastHeld() === more.bars[1][0],
  'at the latest bars again, it follows and catches up with what was written meanwhile');

// A backtest writing its run as it goes: the run on the chart shows its new trades.
const hours = (await api(`${CHART}&limit=60`)).bars;
/**
 * The trades file of a run with trades from bar `k` to bar `k + 5` for each `k`.
 * @param {number[]} entries
 */
function tradesCsv(entries) {
  const iso = (/** @type {number} */ k) => new Date(hours.time[k] * 1000).toISOString();
  const rows = entries.map((k) => `ALPACA:NFLX,long,10,${iso(k)},${hours.close[k]},${iso(k + 5)},${hours.close[k + 5]},${10 * (Number(hours.close[k + 5]) - Number(hours.close[k]))}`);
  return `symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl\n${rows.join('\n')}\n`;
}
/** Writes run `name` under a hidden name, then renames it into place. @param {string} name @param {number[]} entries */
function writeRun(name, entries) {
  const staged = path.join(runs, `.${name}.partial`);
  mkdirSync(staged, { recursive: true });
  writeFileSync(path.join(staged, 'trades.csv'), tradesCsv(entries));
  writeFileSync(path.join(staged, 'run.toml'), `name = "${name}"\nstarting_cash = 10000\n`);
  renameSync(staged, path.join(runs, name));
}
/** Rewrites run `name`'s trades file by rename, as a backtest writing as it goes does. @param {string} name @param {number[]} entries */
function rewriteRun(name, entries) {
  const staged = path.join(runs, name, '.trades.csv.partial');
  writeFileSync(staged, tradesCsv(entries));
  renameSync(staged, path.join(runs, name, 'trades.csv'));
}
writeRun('live-run', [5]);
await page.waitForFunction(() => [...document.querySelectorAll('#run-select option')].some((o) => /** @type {HTMLOptionElement} */ (o).value === 'live-run'));
check(true, 'a run written while the page is open joins the picker');
await page.locator('#run-select').selectOption('live-run');
const rows = () => page.locator('#run .trade-row').count();
await page.waitForFunction(() => document.querySelectorAll('#run .trade-row').length === 1);
const rewritten = Date.now();
rewriteRun('live-run', [5, 20, 40]);
await page.waitForFunction(() => document.querySelectorAll('#run .trade-row').length === 3);
console.log(`a run's new trades on the page ${Date.now() - rewritten} ms after its trades file was rewritten`);
const markers = await page.evaluate(() => window.candela.run()?.layers[0].trades.length);
check(await rows() === 3 && markers === 3, 'the run rewritten with more trades shows them, in the list and on the chart, without a reload');

// Where the server refuses a stream (all of http.max_streams taken), the
// page polls for the latest bars instead, and still follows them.
const refused = await present(page.context().browser(), 'the browser').newPage();
await refused.route(/\/api\/stream\?/, (route) => route.fulfill({
  status: 503, contentType: 'application/json', headers: { 'retry-after': '5' },
  body: JSON.stringify({ error: { code: 'too_many_streams', message: '64 streams are open, as many as http.max_streams allows' } }),
}));
await refused.goto(`${base}/?${CHART}`);
await refused.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#live')).dataset.state === 'polling');
check(true, 'a refused stream: the badge says polling');
const polled = await append(1);
await refused.waitForFunction((t) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.live?.startsWith(`${t}|`), polled.bars[0][0], { timeout: 15_000 });
const polledLast = await refused.evaluate(() => ({ time: window.candela.history()?.bars.time.at(-1), close: window.candela.history()?.bars.close.at(-1) }));
check(polledLast.time === polled.bars[0][0] && polledLast.close === polled.bars[0][4], `polling, the page draws the bar written (${Date.now() - polled.written} ms after it, polling every 5 s)`);
await refused.close();

await finish();
