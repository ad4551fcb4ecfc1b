// @ts-check
// Backtest runs on the chart, in headless Chromium against a live server
// serving the sample runs (nflx-sma-cross, nflx-sma-cross-fast on
// ALPACA:NFLX, synth-10k on SYNTH:LONG): the run picker and the link, the
// markers against the API's trades for the bars in view and drawn, the
// tooltip of a known trade, the trade list going to a trade (paging older
// bars in), the equity and drawdown legends against the API's curve, the
// statistics card, a second run laid over the first, markers on the candles
// of another timeframe, the CSV of the trades in view, the shortcuts, the
// panes hidden and shown, errors beside the run picker, and ten thousand
// trades over a million bars with the markers bounded by the drawn window.
// Screenshots go to artifacts/.
// Usage: node tests/runs.mjs http://127.0.0.1:PORT
import { readFileSync } from 'node:fs';
import { openBrowser, present } from './browser.mjs';

/** @import { RunDetail, Trade, TradesResponse, EquityResponse, RunsResponse } from '../src/runs.js' */

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/runs.mjs http://127.0.0.1:PORT');
// An unknown and a broken run are asked for on purpose below.
const { page, check, screenshot, finish } = await openBrowser(base, { expectErrors: true });
const api = async (/** @type {string} */ p) => (await page.request.get(base + p)).json();
const NFLX = 'ALPACA:NFLX';
const FAST = 'nflx-sma-cross-fast';
const SMA = 'nflx-sma-cross';
const price = (/** @type {number} */ v) => v.toLocaleString('en-US', { maximumFractionDigits: 4 });
const cents = (/** @type {number} */ v) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signed = (/** @type {number} */ v) => `${v > 0 ? '+' : ''}${cents(v)}`;

/**
 * Waits until the runs `ids` are drawn on `symbol` at `timeframe`, their
 * equity is in and nothing is loading, then a frame more.
 * @param {string[]} ids
 * @param {string} symbol
 * @param {string} timeframe
 */
async function ready(ids, symbol, timeframe) {
  const want = `${ids.join(',')}|${symbol}|${timeframe}`;
  await page.waitForFunction((w) => {
    const chart = /** @type {HTMLElement} */ (document.querySelector('#chart'));
    return chart.dataset.run === w && chart.dataset.equity?.startsWith(`${w}|`)
      && /** @type {HTMLElement} */ (document.querySelector('#progress')).hidden && !document.querySelector('#status.loading');
  }, want, { timeout: 60_000 });
  await page.evaluate(() => new Promise(requestAnimationFrame));
  await page.evaluate(() => new Promise(requestAnimationFrame));
}

// What the chart draws: the bars in view and drawn (history indices and
// times), the markers handed to lightweight-charts, the curves.
const drawn = () => page.evaluate(() => {
  const { chart, trades } = window.candela;
  const history = window.candela.history();
  if (!history) throw new Error('the chart holds no history');
  const view = chart.visibleIndices();
  if (!view) throw new Error('no bars in view');
  const { time } = history.bars;
  const { start, end } = chart.window;
  const times = time.slice(start, end);
  return {
    length: history.length,
    first: time[0],
    view: { from: view.from, to: view.to, first: time[view.from], last: time[view.to], after: time[view.to + 1] ?? null },
    window: { start, end, first: time[start], last: time[end - 1] },
    markers: trades.shownMarkers().map((m) => ({ time: /** @type {number} */ (m.time), id: m.id ?? '' })),
    onBars: trades.shownMarkers().every((m) => times.includes(/** @type {number} */ (m.time))),
    curves: chart.curves.map((c) => ({ key: c.key, lines: c.series.map((s) => s.data().length) })),
    panes: chart.chart.panes().length,
  };
});

/**
 * `trade:entry@time` for every entry and exit of `trades` on a bar from `first` to `last`.
 * @param {Trade[]} trades
 * @param {number} first
 * @param {number} last
 */
const expectedMarks = (trades, first, last) => trades.flatMap((t) => [
  ...(t.entry_bar !== null && t.entry_bar >= first && t.entry_bar <= last ? [`${t.id}:entry@${t.entry_bar}`] : []),
  ...(t.exit_bar !== null && t.exit_bar >= first && t.exit_bar <= last ? [`${t.id}:exit@${t.exit_bar}`] : []),
]).sort();

/**
 * The drawn markers of layer `key` on a bar from `first` to `last`, as `trade:kind@time`.
 * @param {{time: number, id: string}[]} markers
 * @param {string} key
 * @param {number} first
 * @param {number} last
 */
const shownMarks = (markers, key, first, last) => markers
  .filter((m) => m.id.startsWith(`${key}:`) && m.time >= first && m.time <= last)
  .map((m) => `${m.id.split(':')[1]}:${m.id.split(':')[2]}@${m.time}`).sort();

/**
 * The API's trades of `run` open at some bar from `first` to `last`
 * (`next`: the bar after the last, whose time bounds the last one's trades).
 * @param {string} run
 * @param {string} symbol
 * @param {string} timeframe
 * @param {number} first
 * @param {number | null} next
 * @returns {Promise<Trade[]>}
 */
async function apiTrades(run, symbol, timeframe, first, next) {
  const end = next === null ? '' : `&end=${next - 1}`;
  /** @type {TradesResponse} */
  const answer = await api(`/api/runs/${run}/trades?symbol=${encodeURIComponent(symbol)}&timeframe=${timeframe}&start=${first}${end}`);
  return answer.trades;
}

/**
 * Markers of `key` equal the API's trades, for the bars in view and for the bars drawn.
 * @param {string} run
 * @param {string} key
 * @param {string} symbol
 * @param {string} timeframe
 * @param {string} what
 * @param {boolean} [someInView] whether trades are known to be in view
 */
async function marksMatch(run, key, symbol, timeframe, what, someInView = true) {
  const d = await drawn();
  const inView = await apiTrades(run, symbol, timeframe, d.view.first, d.view.after);
  const want = expectedMarks(inView, d.view.first, d.view.last);
  const got = shownMarks(d.markers, key, d.view.first, d.view.last);
  check((want.length > 0 || !someInView) && JSON.stringify(got) === JSON.stringify(want),
    `${what}: the ${got.length} ${key} markers in view are the API's ${inView.length} trades' entries and exits in view (${want.length})`);
  const afterWindow = d.window.end < d.length ? (await page.evaluate((i) => window.candela.history()?.bars.time[i] ?? null, d.window.end)) : null;
  const inWindow = await apiTrades(run, symbol, timeframe, d.window.first, afterWindow);
  const wantAll = expectedMarks(inWindow, d.window.first, d.window.last);
  const gotAll = shownMarks(d.markers, key, d.window.first, d.window.last);
  check(JSON.stringify(gotAll) === JSON.stringify(wantAll) && d.onBars,
    `${what}: the ${key} markers drawn are exactly the API's for the ${d.window.end - d.window.start} bars drawn (${gotAll.length}), each on a drawn bar`);
  return { drawn: d, inView };
}

/**
 * Moves the mouse over bar `time` of the price pane, `dy` pixels below its top.
 * @param {number} time
 * @param {number} [dy]
 */
async function hover(time, dy = 160) {
  const box = present(await page.locator('#chart').boundingBox(), 'the chart\'s box');
  const x = present(await page.evaluate((t) => window.candela.chart.chart.timeScale().timeToCoordinate(/** @type {import('lightweight-charts').UTCTimestamp} */ (t)), time), `bar ${time} on screen`);
  await page.mouse.move(box.x + x, box.y + dy);
  await page.waitForTimeout(50);
  await page.evaluate(() => new Promise(requestAnimationFrame));
  await page.evaluate(() => new Promise(requestAnimationFrame));
}

try {
  // The run picker lists the runs; choosing one opens its symbol at the
  // timeframe on the chart (NFLX has 1h), draws its trades and its curves.
  await page.goto(`${base}/?symbol=ALPACA:EXPE&timeframe=1h`);
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars !== '0');
  await page.waitForFunction(() => document.querySelectorAll('#run-select option').length > 1);
  /** @type {RunsResponse} */
  const runs = await api('/api/runs');
  const options = await page.locator('#run-select option:not([value=""])').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  check(JSON.stringify(options) === JSON.stringify(runs.runs.map((r) => r.run)), `the run picker lists the API's runs (${options.join(', ')})`);
  await page.locator('#run-select').selectOption(SMA);
  await ready([SMA], NFLX, '1h');
  const link = new URL(page.url()).searchParams;
  check(link.get('run') === SMA && link.get('symbol') === NFLX && link.get('timeframe') === '1h',
    `choosing ${SMA} opens ${NFLX} at the chart's 1h and puts run= in the link (${page.url()})`);
  check(await page.locator('#run').isVisible() && await page.locator('#tab-run').getAttribute('aria-selected') === 'true', 'the run panel opens beside the chart');
  const { drawn: first, inView } = await marksMatch(SMA, 'run', NFLX, '1h', 'NFLX 1h');

  // The lines and levels: a series primitive on the bars' series, one line
  // per trade in the window and its stop-loss and take-profit.
  const segments = await page.evaluate(() => window.candela.trades.segments.segments.map((s) => ({ kind: s.kind, id: s.id })));
  const inWindowTrades = new Set(first.markers.filter((m) => m.id.startsWith('run:')).map((m) => m.id.split(':')[1]));
  check(segments.filter((s) => s.kind === 'trade').length >= inWindowTrades.size - 1 && segments.some((s) => s.kind === 'stop') && segments.some((s) => s.kind === 'target'),
    `the primitive draws ${segments.filter((s) => s.kind === 'trade').length} entry-to-exit lines, ${segments.filter((s) => s.kind === 'stop').length} stop-losses and ${segments.filter((s) => s.kind === 'target').length} take-profits`);

  // The statistics card, as the API has them.
  /** @type {RunDetail} */
  const detail = await api(`/api/runs/${SMA}`);
  const card = await page.locator('#run .stats-card').innerText();
  const ret = `${detail.stats.return_pct !== null && detail.stats.return_pct > 0 ? '+' : ''}${cents(present(detail.stats.return_pct, 'the return'))}%`;
  check(card.includes(detail.name) && card.includes(present(detail.strategy, 'the strategy')) && card.includes('fast=20') && card.includes(ret)
    && card.includes(cents(present(detail.stats.max_drawdown_pct, 'the drawdown'))) && card.includes(String(detail.stats.trades)),
  `the statistics card shows the run's name, strategy, params, return ${ret}, max drawdown and trades`);
  await page.mouse.move(5, 5);
  await screenshot('runs-nflx');

  // A tooltip on a known trade: the first in view with an exit in view.
  const known = present(inView.find((t) => t.exit_bar !== null && t.entry_bar !== null && t.entry_bar >= first.view.first && t.entry_bar <= first.view.last), 'a closed trade entering in view');
  await hover(present(known.entry_bar, 'its entry bar'));
  await page.waitForSelector(`#trade-tip .tip-trade[data-trade="${known.id}"]`, { timeout: 5000 });
  const tip = await page.locator(`#trade-tip .tip-trade[data-trade="${known.id}"]`).innerText();
  const side = known.side === 'long' ? 'Long' : 'Short';
  const pnl = `${signed(present(known.pnl, 'its PnL'))} (${signed(present(known.return_pct, 'its return'))}%)`;
  check(tip.includes(side) && tip.includes(`@ ${price(known.entry_price)}`) && tip.includes(`@ ${price(present(known.exit_price, 'its exit'))}`)
    && tip.includes(pnl) && tip.includes(String(known.bars_held)) && (known.tag === null || tip.includes(known.tag)),
  `hovering trade #${known.id}'s entry shows ${side}, entry ${known.entry_price}, exit ${known.exit_price}, PnL ${pnl}, bars held (${tip.replace(/\s+/g, ' ')})`);
  await screenshot('runs-tooltip');
  // Within its span, away from its ends, the tooltip is the same trade's.
  if (known.bars_held !== null && known.bars_held > 2) {
    const middle = await page.evaluate(({ entry, held }) => {
      const history = window.candela.history();
      if (!history) throw new Error('no history');
      const i = history.bars.time.indexOf(entry);
      return history.bars.time[i + Math.floor(held / 2)];
    }, { entry: present(known.entry_bar, 'entry'), held: known.bars_held });
    await hover(middle);
    check(await page.locator(`#trade-tip .tip-trade[data-trade="${known.id}"]`).count() === 1, `within trade #${known.id}'s span its tooltip shows`);
  }

  // The equity and drawdown legends follow the crosshair, with the API's values.
  const barTime = await page.evaluate(() => {
    const history = window.candela.history();
    const view = window.candela.chart.visibleIndices();
    if (!history || !view) throw new Error('no bars in view');
    return history.bars.time[view.from + Math.round((view.to - view.from) * 0.6)];
  });
  await hover(barTime, 120);
  /** @type {EquityResponse} */
  const curve = await api(`/api/runs/${SMA}/equity?timeframe=1h&start=${barTime}&end=${barTime}`);
  const equityText = await page.locator(`#legends [data-key="equity"] [data-curve="${SMA}"]`).innerText();
  const drawdownText = await page.locator(`#legends [data-key="drawdown"] [data-curve="${SMA}"]`).innerText();
  check(curve.equity.time[0] === barTime && equityText === cents(curve.equity.equity[0]) && drawdownText === `${cents(curve.equity.drawdown_pct[0])}%`,
    `at the hovered bar ${new Date(barTime * 1000).toISOString()} the equity legend reads the API's ${curve.equity.equity[0]} (${equityText}) and drawdown ${curve.equity.drawdown_pct[0]} (${drawdownText})`);
  await page.mouse.move(5, 5);

  // The trade list: sorting by PnL puts the best first; back by time, the
  // oldest trade, older than the bars loaded, is paged in and shown.
  await page.locator('#run .trade-header button[data-order="pnl"]').click();
  const best = await page.locator('#run .trade-row').first().getAttribute('data-trade');
  /** @type {Trade[]} */
  const all = (/** @type {TradesResponse} */ (await api(`/api/runs/${SMA}/trades?symbol=${NFLX}&timeframe=1h`))).trades;
  const byPnl = all.filter((t) => t.pnl !== null).sort((a, b) => /** @type {number} */ (b.pnl) - /** @type {number} */ (a.pnl));
  check(best === String(byPnl[0].id), `sorted by PnL the list starts with the best trade #${byPnl[0].id} (got #${best})`);
  await page.locator('#run .trade-header button[data-order="duration"]').click();
  const longest = all.filter((t) => t.exit_time !== null).sort((a, b) => (/** @type {number} */ (b.exit_time) - b.entry_time) - (/** @type {number} */ (a.exit_time) - a.entry_time))[0];
  check(await page.locator('#run .trade-row').first().getAttribute('data-trade') === String(longest.id), `sorted by duration the longest trade #${longest.id} comes first`);
  await page.locator('#run .trade-header button[data-order="return"]').click();
  const byReturn = all.filter((t) => t.return_pct !== null).sort((a, b) => /** @type {number} */ (b.return_pct) - /** @type {number} */ (a.return_pct));
  check(await page.locator('#run .trade-row').first().getAttribute('data-trade') === String(byReturn[0].id), `sorted by return the best return #${byReturn[0].id} comes first`);
  await page.locator('#run .trade-header button[data-order="time"]').click();
  check(await page.locator('#run .trade-row').first().getAttribute('data-trade') === '0', 'sorted by time the first trade comes first');
  const oldest = all[0];
  check(present(oldest.entry_bar, 'the first entry') < first.first, `trade #0 (${new Date(present(oldest.entry_bar, 'entry') * 1000).toISOString()}) is older than the bars loaded`);
  await page.locator('#run .trade-row[data-trade="0"]').click();
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.picked === 'run:0', null, { timeout: 60_000 });
  await ready([SMA], NFLX, '1h');
  const afterClick = await drawn();
  check(afterClick.length > first.length && afterClick.view.first <= present(oldest.entry_bar, 'entry') && present(oldest.exit_bar, 'exit') <= afterClick.view.last,
    `clicking trade #0 pages older bars in (${first.length} → ${afterClick.length}) and shows its span (${afterClick.view.first}–${afterClick.view.last})`);
  await marksMatch(SMA, 'run', NFLX, '1h', 'after older bars paged in');
  check(await page.locator('#run .trade-row[aria-selected="true"]').getAttribute('data-trade') === '0', 'the trade is marked in the list');
  await screenshot('runs-trade-picked');

  // Keys step through the list: ] the next trade, [ back.
  await page.keyboard.press(']');
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.picked === 'run:1');
  await page.evaluate(() => new Promise(requestAnimationFrame));
  const stepped = await drawn();
  check(stepped.view.first <= present(all[1].entry_bar, 'entry') && present(all[1].exit_bar, 'exit') <= stepped.view.last, '] goes to the next trade (#1) and shows it');
  await page.keyboard.press('[');
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.picked === 'run:0');
  check(true, '[ goes back to #0');
  await page.keyboard.press('?');
  const help = await page.locator('#shortcuts dl').innerText();
  check(help.includes('] / [') && help.includes('next / previous trade'), 'the help overlay lists the trade keys');
  await page.keyboard.press('Escape');

  // A second run of the same symbol laid over the first.
  const compareOptions = await page.locator('#vs-select option:not([value=""])').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  check(JSON.stringify(compareOptions) === JSON.stringify([FAST]), `the compare picker lists the other run of NFLX (${compareOptions})`);
  await page.keyboard.press('End');
  await page.locator('#vs-select').selectOption(FAST);
  await ready([SMA, FAST], NFLX, '1h');
  check(new URL(page.url()).searchParams.get('vs') === FAST, 'vs= is in the link');
  await marksMatch(SMA, 'run', NFLX, '1h', 'compared');
  const { drawn: both } = await marksMatch(FAST, 'compare', NFLX, '1h', 'compared');
  const shapes = await page.evaluate(() => {
    const markers = window.candela.trades.shownMarkers();
    const exits = (/** @type {string} */ k) => new Set(markers.filter((m) => m.id?.startsWith(`${k}:`) && m.id.endsWith(':exit')).map((m) => `${m.shape} ${m.color}`));
    return { run: [...exits('run')], compare: [...exits('compare')] };
  });
  check(shapes.run.every((s) => !shapes.compare.includes(s)), `the compared run's exits look different (${shapes.run.join(', ')} vs ${shapes.compare.join(', ')})`);
  const equityPane = both.curves.find((c) => c.key === 'equity');
  check(equityPane?.lines.length === 2 && equityPane.lines.every((n) => n > 0), `the equity pane draws two curves (${equityPane?.lines})`);
  const columns = await page.locator('#run .stats-card thead th').allInnerTexts();
  check(columns.includes(SMA) && columns.includes(FAST), `the statistics card has a column per run (${columns.join(' | ')})`);
  await page.mouse.move(5, 5);
  await screenshot('runs-compare');

  // The trades in view as CSV: both runs', as the API has them.
  const csvView = await drawn();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#run .export-trades').click()]);
  const rows = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  const wantRows = (await apiTrades(SMA, NFLX, '1h', csvView.view.first, csvView.view.after)).length
    + (await apiTrades(FAST, NFLX, '1h', csvView.view.first, csvView.view.after)).length;
  check(rows[0].startsWith('run,id,symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl,return_pct') && rows.length - 1 === wantRows,
    `the CSV of trades in view holds the API's ${wantRows} trades of both runs (${csv.suggestedFilename()}, ${rows.length - 1} rows)`);

  // The layout is remembered: a plain visit brings both runs back.
  await page.goto(`${base}/`);
  await ready([SMA, FAST], NFLX, '1h');
  check(await page.locator('#run-select').inputValue() === SMA && await page.locator('#vs-select').inputValue() === FAST, 'a visit without a link reopens the runs');

  // Another timeframe: trades and equity fetched again, on its candles.
  await page.locator('#timeframes button[data-timeframe="4h"]').click();
  await ready([SMA, FAST], NFLX, '4h');
  const fourHour = await marksMatch(SMA, 'run', NFLX, '4h', 'NFLX 4h');
  await marksMatch(FAST, 'compare', NFLX, '4h', 'NFLX 4h');
  const on4h = await page.evaluate(() => {
    const times = new Set(window.candela.history()?.bars.time ?? []);
    return window.candela.trades.shownMarkers().every((m) => times.has(/** @type {number} */ (m.time)));
  });
  check(on4h && fourHour.drawn.onBars, 'at 4h every marker is on a 4h candle of the chart');

  // The panes can be hidden, by the panel and by keys.
  const panesBefore = (await drawn()).panes;
  await page.locator('#run .show-equity').uncheck();
  let hidden = await drawn();
  check(hidden.panes === panesBefore - 1 && !hidden.curves.some((c) => c.key === 'equity') && await page.locator('#legends [data-key="equity"]').count() === 0, 'unchecking Equity removes its pane and legend');
  await page.keyboard.press('d');
  hidden = await drawn();
  check(hidden.panes === panesBefore - 2 && hidden.curves.length === 0, 'D hides the drawdown pane');
  await page.keyboard.press('e');
  await page.keyboard.press('d');
  await page.evaluate(() => new Promise(requestAnimationFrame));
  check((await drawn()).panes === panesBefore && await page.locator('#run .show-equity').isChecked(), 'E and D bring them back');

  // Choosing the 10,000-trade run from the picker at 4h opens SYNTH:LONG at 4h (it has it, aggregated).
  await page.locator('#run-select').selectOption('synth-10k');
  await ready(['synth-10k'], 'SYNTH:LONG', '4h');
  check(new URL(page.url()).searchParams.get('vs') === null, 'a run of another symbol drops the run laid over it');
  check(true, 'choosing synth-10k on 4h opens SYNTH:LONG at 4h');

  // 10,000 trades over a million one-minute bars: the markers handed to the
  // chart are the drawn window's, as the window slides back.
  // Its last trade ends days before the bars do: the latest bars show none.
  await page.goto(`${base}/?run=synth-10k&timeframe=1m`);
  await ready(['synth-10k'], 'SYNTH:LONG', '1m');
  const latest = await marksMatch('synth-10k', 'run', 'SYNTH:LONG', '1m', 'synth-10k 1m, latest bars', false);
  check(latest.drawn.markers.length <= 2 * (latest.drawn.window.end - latest.drawn.window.start) / 30, `${latest.drawn.markers.length} markers for the ${latest.drawn.window.end - latest.drawn.window.start} latest bars, of 10,000 trades`);
  // [ goes to the last trade before the view, paging it in.
  await page.keyboard.press('[');
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.picked === 'run:9999', null, { timeout: 60_000 });
  await ready(['synth-10k'], 'SYNTH:LONG', '1m');
  const synth = await marksMatch('synth-10k', 'run', 'SYNTH:LONG', '1m', 'synth-10k 1m, at its last trade');
  check(synth.drawn.markers.length > 0 && synth.drawn.markers.length < 2 * (synth.drawn.window.end - synth.drawn.window.start) / 30,
    `${synth.drawn.markers.length} markers for the ${synth.drawn.window.end - synth.drawn.window.start} bars drawn, of 10,000 trades`);
  await page.mouse.move(5, 5);
  await screenshot('runs-synth-10k');
  for (let i = 0; i < 3; i++) {
    const n = Number(await page.locator('#chart').getAttribute('data-bars'));
    await page.keyboard.press('Home');
    await page.waitForFunction((k) => Number(/** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars) > k, n, { timeout: 60_000 });
    await ready(['synth-10k'], 'SYNTH:LONG', '1m');
  }
  const paged = await marksMatch('synth-10k', 'run', 'SYNTH:LONG', '1m', 'synth-10k after paging back');
  const bound = paged.drawn.markers.length;
  check(paged.drawn.length >= 40_000 && bound <= 2 * (paged.drawn.window.end - paged.drawn.window.start) / 30,
    `with ${paged.drawn.length} bars held the chart has ${bound} markers, for the ${paged.drawn.window.end - paged.drawn.window.start} bars drawn`);
  const eqShown = await page.evaluate(() => {
    const { chart } = window.candela;
    const series = chart.curves[0]?.series[0];
    return { points: series?.data().length ?? 0, window: chart.window.end - chart.window.start };
  });
  check(eqShown.points > 0 && eqShown.points <= eqShown.window, `the equity pane draws the window's points only (${eqShown.points} for ${eqShown.window} bars)`);

  // Errors beside the run picker: an unknown run in the link, a broken run.
  await page.goto(`${base}/?run=nope`);
  await page.waitForFunction(() => !/** @type {HTMLElement} */ (document.querySelector('#run-field .field-error')).hidden);
  const unknown = await page.locator('#run-field .field-error').innerText();
  check(unknown.includes("no run 'nope'"), `an unknown run in the link is reported beside the run picker ("${unknown}")`);
  check(await page.locator('#chart').getAttribute('data-bars') !== '0', 'and the chart still shows');
  await page.route('**/api/runs', async (route) => {
    const answer = await (await route.fetch()).json();
    answer.runs.push({ run: 'broken', name: 'broken', symbols: [], error: { code: 'run_invalid', message: 'pnl is not a number', file: 'trades.csv', row: { line: 7 }, column: 'pnl' } });
    await route.fulfill({ json: answer });
  });
  // The runs stream refused (as past http.max_streams): the page keeps the list it asked for.
  await page.route('**/api/runs/stream', (route) => route.fulfill({
    status: 503, json: { error: { code: 'too_many_streams', message: 'streams are full' } },
  }));
  await page.route('**/api/runs/broken', (route) => route.fulfill({
    status: 422, json: { error: { code: 'run_invalid', message: "run 'broken': trades.csv line 7, column pnl: not a number", param: 'run', run: 'broken' } },
  }));
  await page.goto(`${base}/?run=broken`);
  await page.waitForFunction(() => !/** @type {HTMLElement} */ (document.querySelector('#run-field .field-error')).hidden);
  const broken = page.locator('#run-select option[value="broken"]');
  check(await broken.isDisabled() && (await broken.getAttribute('title') ?? '').includes('pnl is not a number (trades.csv, line 7, column pnl)'),
    `a broken run is listed disabled, its error its tooltip ("${await broken.getAttribute('title')}")`);
  const brokenError = await page.locator('#run-field .field-error').innerText();
  check(brokenError.includes('trades.csv line 7'), `a broken run in the link shows the API's error beside the run picker ("${brokenError}")`);
  await screenshot('runs-error');
} catch (error) {
  check(false, `unexpected: ${error instanceof Error ? error.stack : error}`);
} finally {
  await finish();
}
