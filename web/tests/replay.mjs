// @ts-check
// Replay in headless Chromium against a live server: started by a click on a
// bar, stepped a daily bar at a time and an hour at a time (the daily candle
// building hour by hour), stepped back, played and paused, through the link
// and out again. At every cursor checked, what the chart draws (the bars,
// the forming one, the indicators, a weekly call as it forms) is what
// `/api/data?asof=` answers for that instant, and the run's trades are what
// `/api/runs/{run}/trades?asof=` answers, revealed in order, open ones at
// their running PnL; its statistics card is the run's as of the cursor.
// Screenshots go to artifacts/.
// Usage: node tests/replay.mjs http://127.0.0.1:PORT
import { openBrowser, present } from './browser.mjs';

/**
 * @import { DataResponse } from '../src/api.js'
 * @import { Page } from 'playwright-core'
 * @import { Trade } from '../src/runs.js'
 */

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/replay.mjs http://127.0.0.1:PORT');
const { page, check, screenshot, finish } = await openBrowser(base);
const SYMBOL = 'ALPACA:NFLX';
const RUN = 'nflx-sma-cross';
const CALLS = 'sma(period=5),rsi(period=14),sma(period=3,timeframe=1w,align=forming)';
const SHOWN = 80;

const chartData = (/** @type {Page} */ p, /** @type {string} */ key) => p.evaluate((k) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset[k], key);
const idle = async (/** @type {Page} */ p = page) => {
  await p.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#progress')).hidden && !document.querySelector('#status.loading'));
  await p.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
};
/** The replay's cursor, frame length and whether its last bar is forming. */
const replayState = async (/** @type {Page} */ p = page) => {
  const text = await chartData(p, 'replay');
  if (!text) return null;
  const [cursor, length, forming] = text.split('|');
  return { cursor: Number(cursor), length: Number(length), forming: forming === 'forming' };
};

/**
 * What the chart draws at its end: the last bars and each indicator's last values.
 * @param {Page} p
 */
const drawn = (p) => p.evaluate((shown) => {
  const { chart } = window.candela;
  const last = (/** @type {import('lightweight-charts').ISeriesApi<any>} */ series) => series.data().slice(-shown);
  return {
    bars: last(chart.main).map((b) => [Number(b.time), b.open, b.high, b.low, b.close]),
    indicators: chart.drawn.map((d) => ({ key: d.key, points: Object.fromEntries([...d.outputs].map(([name, series]) => [name, last(series).map((pt) => [Number(pt.time), 'value' in pt ? pt.value : null])])) })),
    curve: chart.curves[0]?.series[0].data().filter((pt) => 'value' in pt).at(-1)?.time,
  };
}, SHOWN);

/** @returns {Promise<DataResponse & {forming?: boolean}>} */
const asOf = async (/** @type {number} */ cursor) =>
  (await page.request.get(`${base}/api/data?symbol=${SYMBOL}&timeframe=1d&indicators=${CALLS}&asof=${cursor}&limit=${SHOWN}`)).json();

const close = (/** @type {number | null | undefined} */ a, /** @type {number | null | undefined} */ b) =>
  (a == null && b == null) || (a != null && b != null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

/**
 * Whether the chart at the replay's cursor draws what the server answers as of it.
 * @param {string} when
 */
async function sameAsServer(when) {
  const state = present(await replayState(), 'the replay state');
  if (state.forming) await page.waitForFunction((c) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.formingValues === String(c), state.cursor);
  await idle();
  const [chart, answer] = await Promise.all([drawn(page), asOf(state.cursor)]);
  const { bars } = answer;
  const expected = bars.time.map((t, i) => [t, bars.open[i], bars.high[i], bars.low[i], bars.close[i]]);
  const barsMatch = chart.bars.length === expected.length && chart.bars.every((b, i) => b.every((v, k) => close(/** @type {number} */ (v), /** @type {number} */ (expected[i][k]))));
  check(barsMatch, `${when}: the last ${SHOWN} bars drawn are /api/data?asof=${state.cursor}'s (${state.forming ? 'the last forming' : 'all closed'})`);
  check(Boolean(answer.forming) === state.forming || !state.forming, `${when}: the server says the last bar is ${answer.forming ? 'forming' : 'closed'} too`);
  const differences = answer.indicators.flatMap((result, k) => Object.entries(result.outputs).flatMap(([name, values]) => {
    const points = new Map(chart.indicators[k].points[name].map(([t, v]) => [t, v]));
    return bars.time.flatMap((t, i) => (close(points.get(t) ?? null, values[i]) ? [] : [`${result.key}.${name} at ${t}: ${points.get(t)} drawn, ${values[i]} served`]));
  }));
  check(differences.length === 0, `${when}: every indicator's values drawn, the weekly call's as it forms, are the server's as of the cursor${differences.length ? ` (${differences.length} differ: ${differences.slice(0, 3).join('; ')})` : ''}`);
  check(chart.curve === undefined || Number(chart.curve) <= (state.forming ? bars.time.at(-2) ?? 0 : bars.time.at(-1) ?? 0),
    `${when}: the equity curve stops at the last closed bar`);
  return state;
}

/**
 * Whether the run's trades on the page at the cursor are the server's as of it.
 * @param {number} cursor
 * @param {string} when
 */
async function tradesAsServer(cursor, when) {
  const [page_, server] = await Promise.all([
    page.evaluate(() => window.candela.replay.runs.replayed?.layers[0]?.trades ?? []),
    page.request.get(`${base}/api/runs/${RUN}/trades?timeframe=1d&asof=${cursor}`).then((r) => r.json()),
  ]);
  /** @type {Trade[]} */
  const expected = server.trades;
  const same = page_.length === expected.length && page_.every((t, i) => t.id === expected[i].id && t.exit_time === expected[i].exit_time
    && close(t.pnl, expected[i].pnl) && close(t.unrealized_pnl, expected[i].unrealized_pnl) && close(t.mark_price, expected[i].mark_price));
  check(same, `${when}: the ${page_.length} trades on the page (${page_.filter((t) => t.exit_time === null).length} open, marked) are the server's as of the cursor`);
  return page_.length;
}

await page.goto(`${base}/?symbol=${SYMBOL}&timeframe=1d&indicators=${CALLS}&run=${RUN}`);
await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.equity);
await idle();
const allBars = Number(await chartData(page, 'bars'));
const allTrades = await page.evaluate(() => window.candela.runPanel.rows.length);

// Shift+R, then a click on a bar: the replay starts at its close.
await page.keyboard.press('Shift+R');
check(await page.locator('#replay-bar').isVisible(), 'Shift+R shows the replay bar, waiting for a bar or a date');
const target = await page.evaluate(() => {
  const { chart } = window.candela;
  const history = /** @type {import('../src/history.js').BarHistory} */ (window.candela.history());
  const view = chart.visibleIndices();
  if (!view) throw new Error('no bars in view');
  const i = Math.round((view.from + view.to) / 2);
  const x = chart.chart.timeScale().timeToCoordinate(/** @type {import('lightweight-charts').UTCTimestamp} */ (history.bars.time[i]));
  if (x === null) throw new Error('the bar to click is not on screen');
  const box = /** @type {HTMLElement} */ (document.querySelector('#chart')).getBoundingClientRect();
  return { x: box.left + x, y: box.top + 200, i, next: history.bars.time[i + 1] };
});
await page.mouse.click(target.x, target.y);
await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.replay);
await idle();
let state = present(await replayState(), 'replay state');
check(state.cursor === target.next && state.length === target.i + 1 && !state.forming,
  `a click on a bar starts there: the cursor at its close (${state.cursor}), ${state.length} bars drawn, none forming`);
await screenshot('replay-start');
await sameAsServer('at the start');

// → steps a daily bar; the trades are revealed in order.
let entered = await tradesAsServer(state.cursor, 'at the start');
let inOrder = true;
for (let k = 0; k < 25; k++) {
  await page.keyboard.press('ArrowRight');
  const next = present(await replayState(), 'replay state');
  inOrder &&= next.length === state.length + 1 && next.cursor > state.cursor;
  state = next;
  const now = await tradesAsServer(state.cursor, `bar step ${k + 1}`);
  inOrder &&= now >= entered;
  entered = now;
}
check(inOrder, '→ steps one daily bar at a time, and trades only join, in order');
await sameAsServer('after 25 bar steps');
await page.waitForFunction((c) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.replayStats === String(c), state.cursor);
const stats = await page.locator('.stats-card [data-stat="trades"] dd').innerText();
const detail = await (await page.request.get(`${base}/api/runs/${RUN}?asof=${state.cursor}`)).json();
check(stats === String(detail.stats.trades), `the statistics card is the run's as of the cursor: ${stats} trades closed (the server: ${detail.stats.trades})`);

// Shift+→ steps an hour: the daily candle builds hour by hour, then closes.
const closedOf = (/** @type {{length: number, forming: boolean}} */ s) => s.length - (s.forming ? 1 : 0);
const day = closedOf(state);
let built = 0;
for (let k = 0; k < 40 && closedOf(present(await replayState(), 'state')) === day; k++) {
  await page.keyboard.press('Shift+ArrowRight');
  state = present(await replayState(), 'replay state');
  if (state.forming) built++;
  if (k === 2) {
    await sameAsServer('three hours into a day');
    await screenshot('replay-forming');
    await tradesAsServer(state.cursor, 'three hours into a day');
  }
}
check(built >= 3, `Shift+→ builds the day's candle hour by hour (${built} hourly steps while forming)`);
await sameAsServer('after the hourly steps');

// ← and Shift+← step back.
const before = present(await replayState(), 'state');
await page.keyboard.press('Shift+ArrowLeft');
const back = present(await replayState(), 'state');
check(back.cursor < before.cursor, `Shift+← steps an hour back (${before.cursor} → ${back.cursor})`);
await page.keyboard.press('ArrowLeft');
await page.keyboard.press('ArrowLeft');
state = await sameAsServer('after stepping back');
await tradesAsServer(state.cursor, 'after stepping back');
check(state.cursor < back.cursor && !state.forming, '← steps back to the close of a daily bar');

// Space plays, at the speed set; Space pauses.
await page.locator('#replay-speed').fill('30');
await page.locator('#replay-speed').dispatchEvent('change');
const started = state.cursor;
await page.keyboard.press('Space');
await page.waitForTimeout(1200);
await page.keyboard.press('Space');
await idle();
state = present(await replayState(), 'state');
const playing = await page.locator('#replay-play').getAttribute('aria-pressed');
check(state.cursor > started && playing === 'false', `Space plays (the cursor went from ${started} to ${state.cursor}) and pauses`);
await sameAsServer('after playing');
await tradesAsServer(state.cursor, 'after playing');
await screenshot('replay-trades');

// The link holds the cursor and the step: a shared link opens there.
await page.waitForFunction(() => new URL(location.href).searchParams.has('replay'));
await page.waitForTimeout(600);
const url = page.url();
const link = new URL(url).searchParams;
check(link.get('step') === '1h' && link.get('replay') === new Date(state.cursor * 1000).toISOString().replace('.000Z', 'Z'),
  `the link says replay=${link.get('replay')}&step=${link.get('step')}`);
const other = await present(page.context().browser(), 'the browser').newPage();
await other.goto(url);
await other.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.replay);
await idle(other);
const opened = present(await replayState(other), 'the shared replay');
check(opened.cursor === state.cursor && opened.length === state.length && opened.forming === state.forming,
  'the shared link opens the replay at the same cursor, with the same bars');
check(await other.locator('#replay-step').inputValue() === '1h', 'and the same replay interval');
await other.close();

// Exit: back to the latest bars, the whole run.
await page.locator('#replay-exit').click();
await page.waitForFunction((n) => !(/** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.replay)
  && window.candela.chart.history?.length === n, allBars);
await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.equity);
await idle();
check(!new URL(page.url()).searchParams.has('replay'), 'Exit leaves the replay: the link has no cursor');
check(await page.evaluate(() => window.candela.runPanel.rows.length) === allTrades, `and the run's ${allTrades} trades are all listed again`);
check(!(await page.locator('#replay-bar').isVisible()), 'and the replay bar is gone');

// With a symbol compared (the price pane in "% from anchor"), a step that
// leaves the anchor where it is updates the ends of the lines rather than
// drawing every point again, and draws what drawing them all would.
const compared = await present(page.context().browser(), 'the browser').newPage();
await compared.goto(`${base}/?symbol=${SYMBOL}&timeframe=1d&indicators=sma(period=5)&compare=ALPACA:AAPL`);
await idle(compared);
const incremental = await compared.evaluate(async () => {
  const { chart, replay } = window.candela;
  const history = /** @type {import('../src/history.js').BarHistory} */ (window.candela.history());
  await replay.start(history.bars.time[history.length - 40], '1h');
  // The first step opens the next day (the anchor follows the view there).
  await replay.step(1, true);
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const tails = () => JSON.stringify([chart.main, chart.compared[0].line, ...chart.drawn[0].outputs.values()].map((s) => s.data().slice(-3)));
  let redrawn = 0;
  const setAllData = chart.setAllData.bind(chart);
  chart.setAllData = (...args) => { redrawn++; return setAllData(...args); };
  let steps = 0;
  // Forming steps: an hour of that day at a time, until its candle closes.
  while (steps < 6 && await replay.step(1, true) && window.candela.replay.frame?.forming) steps++;
  const updated = tails();
  chart.setAllData = setAllData;
  const frame = chart.history;
  if (frame) chart.setAllData(frame);
  return { steps, redrawn, same: updated === tails() };
});
check(incremental.steps >= 3 && incremental.redrawn === 0 && incremental.same,
  `with a symbol compared, ${incremental.steps} steps of a forming day update the lines' ends (${incremental.redrawn} full redraws), as drawing them all does`);
await compared.close();

await finish();
