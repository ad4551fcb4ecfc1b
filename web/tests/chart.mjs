// @ts-check
// The charting experience end to end, in headless Chromium against a live
// server: symbol search, timeframes, the four chart types, SMA, Bollinger
// Bands, RSI and MACD in their panes with legends that match /api/data,
// paging older bars in with exact values at the seams (also over a million
// bars), the link and the remembered layout, errors next to their cause,
// themes, keyboard shortcuts and PNG/CSV export. Screenshots of each state
// go to artifacts/.
// Usage: node tests/chart.mjs http://127.0.0.1:PORT LONG_SYMBOL
import { readFileSync } from 'node:fs';
import { openBrowser, present } from './browser.mjs';

/** @import { CandlestickData, ISeriesApi, SeriesType } from 'lightweight-charts' */
/** @import { IndicatorResult } from '../src/api.js' */
/** @import { ValuePoint } from './browser.mjs' */

const [base, longSymbol] = process.argv.slice(2);
if (!longSymbol) throw new Error('usage: node tests/chart.mjs http://127.0.0.1:PORT LONG_SYMBOL');
// Errors are provoked on purpose below.
const { page, check, screenshot, finish } = await openBrowser(base, { expectErrors: true });
const api = async (/** @type {string} */ p) => (await page.request.get(base + p)).json();
const fmt = (/** @type {number} */ v) => v.toLocaleString('en-US', { maximumFractionDigits: 4 });

// Nothing loading, and a frame drawn since (legends update once a frame).
const idle = async () => {
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#progress')).hidden
    && !document.querySelector('#status.loading') && /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars !== '0');
  await page.evaluate(() => new Promise(requestAnimationFrame));
};
const legendOf = (/** @type {number} */ pane) => page.locator(`#legends .legend[data-pane="${pane}"]`).innerText();
// The page's history: bars and indicator outputs as loaded (and paged in).
const held = () => page.evaluate(() => {
  const h = window.candela.history();
  if (!h) throw new Error('the chart holds no history');
  return { bars: h.bars, indicators: h.indicators, exhausted: 'exhausted' in h ? h.exhausted : undefined };
});
// What the chart draws, per series: pane, type and the values at each time.
const drawn = () => page.evaluate(() => {
  const { chart } = window.candela;
  const series = (/** @type {ISeriesApi<SeriesType>} */ s) => ({ pane: s.getPane().paneIndex(), type: s.seriesType(), points: s.data() });
  return {
    main: series(chart.main),
    panes: chart.chart.panes().length,
    indicators: chart.drawn.map(({ key, pane, outputs }) => ({
      key, pane, outputs: Object.fromEntries([...outputs].map(([name, s]) => [name, series(s)])),
    })),
  };
});

/**
 * Adds indicator `id` from the sidebar, with `values` for its parameters,
 * and waits until it is drawn.
 * @param {string} id
 * @param {Record<string, number>} [values]
 */
async function add(id, values = {}) {
  await page.locator(`.catalog-item[data-indicator="${id}"]`).click();
  for (const [name, value] of Object.entries(values)) await page.locator(`.param-form input[name="${name}"]`).fill(String(value));
  const count = Number(await page.locator('#chart').getAttribute('data-indicators') ?? 0);
  await page.locator('.param-form button[type="submit"]').click();
  await page.waitForFunction((n) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.indicators === String(n), count + 1);
  await idle();
}

/**
 * Equal values, a null in the API being a gap (no value) on the chart.
 * The chart keeps the values only (lightweight-charts drops whitespace points).
 * @param {readonly ValuePoint[]} points
 * @param {number[]} times
 * @param {(number | null)[]} values
 */
const sameSeries = (points, times, values) => {
  const want = times.map((time, i) => ({ time, value: values[i] })).filter((p) => p.value !== null);
  return points.length === want.length && points.every((p, i) => p.time === want[i].time && p.value === want[i].value);
};
// Two runs of a running sum that start at different bars round differently
// in the last bits: a page's values equal one long request's to 1e-12.
const close = (/** @type {number | null} */ a, /** @type {number | null} */ b) => a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)));
const closeAll = (/** @type {(number | null)[]} */ a, /** @type {(number | null)[]} */ b) => a.length === b.length && a.every((v, i) => close(v, b[i]));

try {
  // Symbol search: typing filters, Enter chooses.
  await page.goto(`${base}/`);
  await idle();
  await page.locator('#symbol-search').click();
  await page.locator('#symbol-search').fill('nfl');
  const options = await page.locator('#symbol-list [role="option"]').allInnerTexts();
  check(options.length === 1 && options[0].startsWith('ALPACA:NFLX'), `searching "nfl" leaves NFLX alone (${options.join(' | ')})`);
  await page.locator('#symbol-search').press('Enter');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('symbol') === 'ALPACA:NFLX');
  await idle();
  await page.locator('#timeframes button[data-timeframe="4h"]').click();
  await page.waitForFunction(() => new URLSearchParams(location.search).get('timeframe') === '4h');
  await idle();
  const stored = await page.locator('#timeframes button.stored').allInnerTexts();
  check(stored.length === 1 && stored[0] === '1h', `only the stored 1h is marked as stored (${stored})`);
  check(await page.locator('#status').innerText().then((s) => s.includes('aggregated from 1h')), 'the status says 4h is aggregated from 1h');

  // SMA, Bollinger Bands, RSI and MACD: overlays on the price pane, the
  // oscillators in panes of their own, every value as the API serves it.
  await add('sma', { period: 20 });
  await add('bbands');
  await add('rsi');
  await add('macd');
  const calls = 'sma(period=20),bbands(period=20,stddev=2),rsi(period=14),macd(fast=12,slow=26,signal=9)';
  const data = await api(`/api/data?symbol=ALPACA:NFLX&timeframe=4h&limit=5000&indicators=${calls}`);
  let chart = await drawn();
  check(chart.panes === 3, `price, RSI and MACD panes (got ${chart.panes})`);
  /** @type {Record<string, number>} */
  const wantPane = { sma: 0, bbands: 0, rsi: 1, macd: 2 };
  for (const result of data.indicators) {
    const mine = chart.indicators.find((d) => d.key === result.key);
    for (const [name, values] of Object.entries(result.outputs)) {
      const series = mine?.outputs[name];
      check(series && sameSeries(series.points, data.bars.time, values), `${result.key} ${name}: the chart holds the API's values`);
      check(series?.pane === wantPane[result.id], `${result.key} ${name} is in pane ${wantPane[result.id]} (got ${series?.pane})`);
    }
  }
  const last = data.bars.time.length - 1;
  const priceLegend = await legendOf(0);
  check(priceLegend.includes(`C ${fmt(data.bars.close[last])}`), `away from the chart, the price legend shows the last close ${data.bars.close[last]}`);
  check(priceLegend.includes(`upper ${fmt(data.indicators[1].outputs.upper[last])}`), 'and the last upper band');
  check((await legendOf(1)).includes(`rsi ${fmt(data.indicators[2].outputs.rsi[last])}`), 'the RSI pane has its own legend with the last RSI');
  check((await legendOf(2)).includes(`signal ${fmt(data.indicators[3].outputs.signal[last])}`), 'the MACD pane has its own legend with the last signal');
  const colors = await page.evaluate(() => [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('#legends .legend .name'))].map((n) => n.style.color));
  check(colors.filter(Boolean).length === 4, 'each indicator name in the legends carries its colour');
  await screenshot('chart-nflx-4h-indicators');

  // The crosshair over a bar: every legend shows that bar's values.
  const box = present(await page.locator('#chart').boundingBox(), 'the chart\'s box');
  await page.mouse.move(box.x + box.width * 0.5, box.y + 80);
  await page.waitForTimeout(100);
  const hovered = await page.evaluate(() => window.candela.chart.chart.timeScale().coordinateToLogical(
    /** @type {HTMLElement} */ (document.querySelector('#chart')).getBoundingClientRect().width * 0.5));
  const at = Math.round(present(hovered, 'the bar under the crosshair'));
  const hoverLegend = await legendOf(0);
  check(hoverLegend.includes(`O ${fmt(data.bars.open[at])}`) && hoverLegend.includes(`C ${fmt(data.bars.close[at])}`),
    `under the crosshair the legend shows bar ${at}'s open and close`);
  const change = ((data.bars.close[at] / data.bars.close[at - 1] - 1) * 100).toFixed(2);
  check(hoverLegend.includes(`${change}%`), `and its change from the bar before (${change}%)`);
  check((await legendOf(2)).includes(`macd ${fmt(data.indicators[3].outputs.macd[at])}`), 'the MACD legend follows the crosshair');
  await screenshot('chart-crosshair');
  await page.mouse.move(box.x + box.width + 20, box.y - 20);

  // Chart types: OHLC bars, a line of closes, Heikin-Ashi candles.
  for (const [type, seriesType] of [['ohlc', 'Bar'], ['line', 'Line'], ['heikin-ashi', 'Candlestick'], ['candles', 'Candlestick']]) {
    await page.locator(`#chart-types button[data-type="${type}"]`).click();
    chart = await drawn();
    check(chart.main.type === seriesType && chart.main.points.length === data.bars.time.length, `chart type ${type} draws ${seriesType} series of every bar`);
    check(new URL(page.url()).searchParams.get('type') === type, `the link records type=${type}`);
    if (type === 'heikin-ashi') {
      // Heikin-Ashi draws candles.
      const [p, q] = /** @type {CandlestickData[]} */ (chart.main.points.slice(-2));
      const haClose = (data.bars.open[last] + data.bars.high[last] + data.bars.low[last] + data.bars.close[last]) / 4;
      check(Math.abs(q.close - haClose) < 1e-9 && Math.abs(q.open - (p.open + p.close) / 2) < 1e-9, 'Heikin-Ashi: close is the bar average, open the previous midpoint');
      await screenshot('chart-heikin-ashi');
    }
  }

  // The link restores everything, colours included; so does a plain visit
  // (the remembered layout).
  await page.locator('.active-item[data-indicator="rsi"] input[type="color"]').evaluate((/** @type {HTMLInputElement} */ input) => {
    input.value = '#123456';
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.locator('#chart-types button[data-type="ohlc"]').click();
  const link = new URL(page.url());
  check(link.searchParams.get('indicators') === calls, `the link carries the indicators (${link.searchParams.get('indicators')})`);
  check(link.searchParams.get('colors')?.split(',')[2] === '123456', 'and their colours');
  const restoredOk = async (/** @type {string} */ what) => {
    await idle();
    chart = await drawn();
    const keys = chart.indicators.map((d) => d.key).join(',');
    const rsiColor = await page.evaluate(() => window.candela.chart.drawn[2].colors.get('rsi'));
    check(keys === calls && chart.main.type === 'Bar' && rsiColor === '#123456'
      && await page.locator('#symbol-search').inputValue() === 'ALPACA:NFLX'
      && await page.locator('#timeframes button[aria-checked="true"]').innerText() === '4h',
    `${what} restores symbol, timeframe, chart type, indicators and colours (${keys}, ${chart.main.type}, ${rsiColor})`);
  };
  await page.reload();
  await restoredOk('a reload');
  await page.goto(`${base}/`);
  await restoredOk('a visit without a link');
  check(page.url().includes('indicators=sma(period=20),bbands'), 'the remembered layout is written back into the link');
  await page.locator('#chart-types button[data-type="candles"]').click();

  // Scrolling back pages older bars in; the indicators are exact at the seams.
  await page.locator('#timeframes button[data-timeframe="1h"]').click();
  await idle();
  const before = Number(await page.locator('#chart').getAttribute('data-bars'));
  await page.keyboard.press('Home');
  await page.waitForFunction((n) => Number(/** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars) > n, before);
  await idle();
  let mine = await held();
  const whole = await api(`/api/data?symbol=ALPACA:NFLX&timeframe=1h&limit=${mine.bars.time.length}&indicators=${calls}`);
  const seam = mine.bars.time.length - before;
  check(mine.bars.time.length > before, `Home scrolls to the oldest bar and older bars load (${before} → ${mine.bars.time.length})`);
  const equalAll = (/** @type {unknown[]} */ a, /** @type {unknown[]} */ b) => a.length === b.length && a.every((v, i) => v === b[i]);
  check(equalAll(mine.bars.time, whole.bars.time) && equalAll(mine.bars.close, whole.bars.close), 'the joined bars equal one request for all of them');
  const seamOk = whole.indicators.every((/** @type {IndicatorResult} */ r, /** @type {number} */ k) => Object.entries(r.outputs).every(([name, values]) => closeAll(mine.indicators[k].outputs[name], values)));
  check(seamOk, `every indicator output equals the whole-range values, across the seam at bar ${seam}`);
  const gaps = mine.indicators.flatMap((r) => Object.values(r.outputs).map((v) => v.slice(seam - 50, seam + 50).filter((x) => x === null).length));
  check(gaps.every((n) => n === 0), 'no indicator has a gap (a warm-up) at the seam');
  chart = await drawn();
  check(chart.indicators[3].outputs.macd.points.length === whole.indicators[3].outputs.macd.filter((/** @type {number | null} */ v) => v !== null).length, 'the MACD pane draws the joined values');
  await screenshot('chart-paged-older');

  // A long history: a million one-minute bars, paged in as the user scrolls.
  await page.goto(`${base}/?symbol=${longSymbol}&timeframe=1m&indicators=sma(period=50),rsi(period=14)`);
  await idle();
  const pages = [];
  for (let i = 0; i < 4; i++) {
    const n = Number(await page.locator('#chart').getAttribute('data-bars'));
    await page.keyboard.press('Home');
    await page.waitForFunction((k) => Number(/** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars) > k, n);
    await idle();
    pages.push(Number(await page.locator('#chart').getAttribute('data-bars')));
  }
  check(pages[pages.length - 1] >= 80_000, `four scrolls back page in ${pages.join(' → ')} bars, pages growing with the history`);
  mine = await held();
  const longWhole = await api(`/api/data?symbol=${longSymbol}&timeframe=1m&limit=${mine.bars.time.length}&indicators=sma(period=50),rsi(period=14)`);
  check(closeAll(mine.indicators[1].outputs.rsi, longWhole.indicators[1].outputs.rsi) && closeAll(mine.indicators[0].outputs.sma, longWhole.indicators[0].outputs.sma),
    `SMA and RSI over ${mine.bars.time.length} paged bars equal one request's`);
  // The chart draws a window of the held bars around the view, so that a
  // page of older bars costs the same however many are held.
  const windowed = await page.evaluate(() => {
    const { chart } = window.candela;
    const { start, end } = chart.window;
    const main = chart.main.data();
    const rsiSeries = chart.drawn[1].outputs.get('rsi');
    if (!rsiSeries) throw new Error(`${chart.drawn[1].key} has no output rsi`);
    /** @type {readonly ValuePoint[]} */
    const rsi = rsiSeries.data();
    const view = chart.visibleIndices();
    return { start, end, drawn: main.length, first: main[0].time, last: main[main.length - 1].time, rsiLast: rsi[rsi.length - 1], view };
  });
  check(mine.bars.time.length > 60_000 && windowed.drawn === 10_000 && windowed.drawn === windowed.end - windowed.start,
    `with ${mine.bars.time.length} bars held the chart draws a window of ${windowed.drawn} at the default zoom (history ${windowed.start}–${windowed.end})`);
  check(windowed.first === mine.bars.time[windowed.start] && windowed.last === mine.bars.time[windowed.end - 1]
    && windowed.rsiLast.time === mine.bars.time[windowed.end - 1] && windowed.rsiLast.value === mine.indicators[1].outputs.rsi[windowed.end - 1],
    'the drawn window holds exactly the held bars and indicator values at its indices');
  const lastPage = pages[pages.length - 1] - pages[pages.length - 2];
  check(windowed.view && windowed.view.from >= windowed.start && windowed.view.to < windowed.end && Math.abs(windowed.view.from - lastPage) <= 3,
    `the view stays on the bars it showed, now bar ${windowed.view?.from} after ${lastPage} older ones joined, inside the slid window`);
  // The legend under the crosshair reads the bar under it, inside the window.
  const area = present(await page.locator('#chart').boundingBox(), 'the chart\'s box');
  await page.mouse.move(area.x + area.width * 0.5, area.y + area.height * 0.3);
  await idle();
  const underCrosshair = await page.evaluate(() => {
    const { chart } = window.candela;
    const view = chart.visibleIndices();
    return { view, legend: /** @type {HTMLElement} */ (document.querySelector('#legends .legend[data-pane="0"]')).innerText };
  });
  const crosshairView = present(underCrosshair.view, 'the bars in view');
  const inView = mine.bars.close.slice(crosshairView.from, crosshairView.to + 1).map((c) => present(c, 'a close in view').toFixed(2));
  const legendClose = /C\s*([0-9.]+)/.exec(underCrosshair.legend)?.[1];
  check(legendClose !== undefined && inView.includes(legendClose), `the legend under the crosshair shows a close of a bar in view (${legendClose})`);
  // Fitting zooms out as far as the chart draws bars apart, inside a window
  // that holds several such views.
  await page.keyboard.press('f');
  await idle();
  const fitted = await page.evaluate(() => {
    const { chart } = window.candela;
    const most = Math.floor(chart.chart.timeScale().width() / chart.chart.options().timeScale.minBarSpacing);
    return { drawn: chart.main.data().length, window: chart.window, view: chart.visibleIndices(), most };
  });
  const fittedView = present(fitted.view, 'the bars in view after F');
  const fittedBars = fittedView.to - fittedView.from + 1;
  check(fittedBars >= fitted.most - 2 && fitted.drawn > fittedBars * 3 && fittedView.from > fitted.window.start && fittedView.to < fitted.window.end,
    `F shows ${fittedBars} bars (at most ${fitted.most} fit), inside a window of ${fitted.drawn}`);
  await page.keyboard.press('End');
  await idle();
  const latest = await page.evaluate(() => {
    const { chart } = window.candela;
    const main = chart.main.data();
    return { window: chart.window, last: main[main.length - 1].time };
  });
  check(latest.window.end === mine.bars.time.length && latest.last === mine.bars.time.at(-1), 'End slides the window back to the latest bar');
  // Replaying, the window is small: zoomed far out by keys, it grows
  // under the view, which stays on the cursor's bar.
  await page.goto(`${base}/?symbol=${longSymbol}&timeframe=5m&bars=6000`);
  await idle();
  const replayed = await page.evaluate(async () => {
    const history = /** @type {import('../src/history.js').BarHistory} */ (window.candela.history());
    await window.candela.replay.start(history.bars.time[5_500], null);
    return window.candela.chart.history?.length ?? 0;
  });
  await idle();
  for (let k = 0; k < 8; k++) {
    await page.keyboard.press('-');
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  }
  await idle();
  const zoomed = await page.evaluate(() => ({ view: window.candela.chart.visibleIndices(), window: window.candela.chart.window }));
  const zoomedView = present(zoomed.view, 'the bars in view, replaying');
  check(zoomedView.to === replayed - 1 && zoomedView.to - zoomedView.from > 2_000 && zoomed.window.end - zoomed.window.start > 1_000,
    `replaying, zoomed out by keys to ${zoomedView.to - zoomedView.from + 1} bars in view, the window grew to ${zoomed.window.end - zoomed.window.start} bars and the view stays on the cursor's bar`);
  await page.evaluate(() => window.candela.replay.exit());
  await idle();
  await screenshot('chart-long-history');

  // Errors appear next to their cause, and the chart stays.
  await page.goto(`${base}/?symbol=NOPE&timeframe=1h`);
  await idle();
  const symbolError = await page.locator('#symbol-field .field-error').innerText();
  check(symbolError.includes("unknown symbol 'NOPE'"), `an unknown symbol in a link is reported beside the symbol box ("${symbolError}")`);
  await page.goto(`${base}/?symbol=ALPACA:AAPL&timeframe=1m`);
  await idle();
  const tfError = await page.locator('#timeframe-field .field-error').innerText();
  check(tfError.includes("no timeframe '1m'"), `a timeframe finer than the stored one is reported beside the timeframes ("${tfError}")`);
  await page.goto(`${base}/?symbol=ALPACA:NFLX&timeframe=1h&indicators=sma(0)`);
  await idle();
  const linkError = await page.locator('#indicators > .field-error').innerText();
  check(linkError.includes('sma(0)') && linkError.includes('period'), `a refused indicator in a link is reported in the indicator panel ("${linkError}")`);
  check(await page.locator('#chart').getAttribute('data-bars') !== '0', 'and the chart still shows the bars');
  await screenshot('chart-error-indicator');
  // A server-side failure while the chart is up: the message, and the old chart stays.
  await page.route('**/api/data?*', (route) => route.fulfill({
    status: 500, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'unreadable_data', message: 'cannot read data/ALPACA/NFLX/1h/nflx_1h.parquet: corrupt footer' } }),
  }));
  await page.locator('#load').click();
  await page.waitForFunction(() => !/** @type {HTMLElement} */ (document.querySelector('#error')).hidden);
  check((await page.locator('#error').innerText()).includes('corrupt footer'), 'a failing load shows the server\'s message over the chart');
  check(await page.locator('#chart').getAttribute('data-bars') !== '0' && await page.locator('#chart canvas').count() > 0, 'and the previous chart stays drawn');
  await screenshot('chart-error-server');
  await page.unroute('**/api/data?*');

  // Every fetch shows that it is loading.
  await page.route('**/api/data?*', async (route) => { await new Promise((r) => setTimeout(r, 600)); await route.continue(); });
  await page.locator('#load').click();
  await page.waitForTimeout(200);
  check(await page.locator('#progress').isVisible() && await page.locator('#status.loading').count() === 1, 'while a load is in flight, the progress bar and status spinner show');
  await screenshot('chart-loading');
  await idle();
  check(await page.locator('#error').isHidden(), 'a successful load clears the error');
  await page.unroute('**/api/data?*');

  // Themes: the page and the chart switch, and the choice is remembered.
  const themeOf = () => page.evaluate(() => ({
    page: document.documentElement.dataset.theme,
    text: window.candela.chart.chart.options().layout.textColor,
  }));
  const first = await themeOf();
  await page.locator('#theme').click();
  const second = await themeOf();
  check(first.page !== second.page && first.text !== second.text, `the theme button switches page and chart (${first.page} → ${second.page})`);
  await page.waitForTimeout(300); // the buttons' colour transition
  await screenshot(`chart-theme-${second.page}`);
  await page.reload();
  await idle();
  check((await themeOf()).page === second.page, 'the theme survives a reload');
  await page.keyboard.press('t');
  check((await themeOf()).page === first.page, 'T switches it back');

  // Keyboard: timeframes, chart type, help overlay.
  await page.goto(`${base}/?symbol=ALPACA:NFLX&timeframe=1h&type=candles&indicators=${calls}`);
  await idle();
  await page.keyboard.press('3');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('timeframe') === '1d');
  await idle();
  check(true, 'key 3 picks the third timeframe (1d)');
  await page.keyboard.press('c');
  // The link follows once the chart of the new timeframe is in (it may still be loading).
  const typed = await page.waitForFunction(() => new URLSearchParams(location.search).get('type') === 'ohlc', null, { timeout: 5_000 })
    .then(() => true, () => false);
  check(typed, `C moves from candles to the next chart type, OHLC (${page.url()})`);
  await page.keyboard.press('?');
  check(await page.locator('#shortcuts').isVisible(), '? opens the shortcut overlay');
  check((await page.locator('#shortcuts dl').innerText()).includes('Switch between dark and light'), 'which lists the shortcuts');
  await screenshot('chart-shortcuts');
  await page.keyboard.press('Escape');
  check(await page.locator('#shortcuts').isHidden(), 'Escape closes it');

  // Export: a PNG of the chart with its legends, a CSV of the bars in view.
  const [png] = await Promise.all([page.waitForEvent('download'), page.locator('#export-png').click()]);
  const image = readFileSync(await png.path());
  check(png.suggestedFilename() === 'ALPACA_NFLX-1d.png' && image.subarray(1, 4).toString() === 'PNG' && image.length > 10_000,
    `PNG export: ${png.suggestedFilename()}, ${image.length} bytes`);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('s')]);
  const rows = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  const header = rows[0].split(',');
  const daily = await api(`/api/data?symbol=ALPACA:NFLX&timeframe=1d&limit=5000&indicators=${calls}`);
  const visible = present(await page.evaluate(() => window.candela.chart.visibleIndices()), 'the bars in view');
  const lastRow = rows[rows.length - 1].split(',');
  check(header.slice(0, 6).join(',') === 'time,open,high,low,close,volume' && header.includes('rsi(period=14).rsi') && rows[0].includes('"macd(fast=12,slow=26,signal=9).signal"'),
    `CSV header: bars, then one column per indicator output (${header.length} columns)`);
  check(rows.length - 1 === visible.to - visible.from + 1, `the CSV holds the ${visible.to - visible.from + 1} bars in view`);
  check(lastRow[0] === new Date(daily.bars.time[visible.to] * 1000).toISOString() && Number(lastRow[4]) === daily.bars.close[visible.to],
    'its last row is the last bar in view, with the API\'s close');

  // A phone's width: the chart still fills the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const phone = await page.locator('#chart').boundingBox();
  check(phone && phone.width > 340 && phone.height > 300, `at phone width the chart is ${Math.round(phone?.width ?? NaN)} × ${Math.round(phone?.height ?? NaN)} px`);
  await screenshot('chart-phone');
} catch (error) {
  check(false, `unexpected: ${error instanceof Error ? error.stack : error}`);
} finally {
  await finish();
}
