// @ts-check
// The strategy's view in headless Chromium against a live server: an
// indicator on a higher timeframe from the dialog (drawn as steps, named
// with its timeframe and alignment, its values the API's), an indicator of
// an indicator (in its source's pane, following its source when that is
// edited), compared symbols in "% from anchor" with one anchor for the
// candles, their overlays and the compared lines (following the view, or
// pinned by a click, with its marker), a refused compared symbol said next
// to the control, and all of it through the link and the remembered layout.
// Screenshots of each state go to artifacts/.
// Usage: node tests/strategy.mjs http://127.0.0.1:PORT
import { openBrowser, waitForBars } from './browser.mjs';

/** @import { DataResponse } from '../src/api.js' */

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/strategy.mjs http://127.0.0.1:PORT');
// A compared symbol the server cannot build at the chart's timeframe is refused on purpose.
const { page, check, screenshot, finish } = await openBrowser(base, { expectErrors: true });
const NFLX = 'ALPACA:NFLX';
const EXPE = 'ALPACA:EXPE';

/** @returns {Promise<DataResponse>} */
const api = async (/** @type {string} */ query) => (await page.request.get(`${base}/api/data?${query}`)).json();

// Nothing loading, and a frame drawn since (legends and the anchor follow once a frame).
const idle = async () => {
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#progress')).hidden
    && !document.querySelector('#status.loading') && /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.bars !== '0');
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
};
const legendText = () => page.locator('#legends').innerText();
const link = () => new URL(page.url()).searchParams;

/**
 * Opens the form of indicator `id` (or the entry at `edit`), fills it and submits it.
 * @param {string} id
 * @param {{values?: Record<string, number>, selects?: Record<string, string>, edit?: number}} options
 */
async function submitForm(id, { values = {}, selects = {}, edit }) {
  const count = Number(await page.locator('#chart').getAttribute('data-indicators') ?? 0);
  if (edit === undefined) await page.locator(`.catalog-item[data-indicator="${id}"]`).click();
  else await page.locator('.active-item').nth(edit).getByRole('button', { name: 'Edit' }).click();
  for (const [name, value] of Object.entries(values)) await page.locator(`.param-form input[name="${name}"]`).fill(String(value));
  for (const [name, value] of Object.entries(selects)) await page.locator(`.param-form select[name="${name}"]`).selectOption(value);
  await page.locator('.param-form button[type="submit"]').click();
  const expected = edit === undefined ? count + 1 : count;
  await page.waitForFunction((n) => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.indicators === String(n), expected);
  await idle();
}

// Per drawn indicator: its key, pane, and per output its line type and its points.
const drawn = () => page.evaluate(() => window.candela.chart.drawn.map(({ key, pane, outputs }) => ({
  key,
  pane,
  outputs: Object.fromEntries([...outputs].map(([name, series]) => [name, {
    lineType: /** @type {Record<string, unknown>} */ (series.options()).lineType,
    points: series.data().flatMap((p) => ('value' in p && p.value !== undefined ? [/** @type {const} */ ([Number(p.time), p.value])] : [])),
  }])),
})));

const near = (/** @type {number} */ a, /** @type {number} */ b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

// The anchor follows the view once a frame after it moved: until it is the first bar in view.
const anchorFollowsView = () => page.waitForFunction(() => {
  const { chart } = window.candela;
  const view = chart.visibleIndices();
  return chart.anchor !== null && view !== null && chart.anchor.index === view.from;
}, undefined, { timeout: 5000 });

try {
  // 1. A higher timeframe from the dialog: picked, drawn as steps, named, in the link.
  await page.goto(`${base}/?symbol=${NFLX}&timeframe=1h`);
  await waitForBars(page);
  await idle();
  await page.locator('.catalog-item[data-indicator="sma"]').click();
  const offered = await page.locator('.param-form select[name="timeframe"] option').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  check(JSON.stringify(offered) === JSON.stringify(['', '4h', '1d', '1w', '1M']), `the timeframe picker offers the chart's and the higher ones the hours tile (${offered})`);
  check(await page.locator('.param-form select[name="align"]').isHidden(), 'the align picker waits for a higher timeframe');
  await page.locator('.param-form select[name="timeframe"]').selectOption('1d');
  check(await page.locator('.param-form select[name="align"]').isVisible(), 'a higher timeframe shows the align picker');
  await page.locator('.param-form').getByRole('button', { name: 'Cancel' }).click();
  await submitForm('sma', { values: { period: 5 }, selects: { timeframe: '1d', align: 'close' } });
  check(link().get('indicators') === 'sma(period=5,timeframe=1d)', `the call with its timeframe is in the link (${link().get('indicators')})`);
  const [daily] = await drawn();
  check(daily.outputs.sma.lineType === 1, 'a higher timeframe\'s values are drawn as steps (LineType.WithSteps)');
  check((await legendText()).includes('SMA 5 · 1d · close'), 'the legend names the timeframe and the alignment');
  check((await page.locator('.active-item .label').first().innerText()) === 'SMA 5 · 1d · close', 'so does the list of indicators');
  const dailyApi = await api(`symbol=${NFLX}&timeframe=1h&indicators=sma(period=5,timeframe=1d)&limit=5000`);
  const wanted = new Map(dailyApi.bars.time.map((t, i) => [t, dailyApi.indicators[0].outputs.sma[i]]));
  console.log('DEBUG', daily.outputs.sma.points.length, dailyApi.bars.time.length, JSON.stringify(daily.outputs.sma.points.filter(([t, v]) => wanted.get(t) !== v).slice(0, 5).map(([t, v]) => [t, v, wanted.get(t)])));
  check(daily.outputs.sma.points.length > 100 && daily.outputs.sma.points.every(([t, v]) => wanted.get(t) === v), 'the steps are the API\'s values, bar for bar');
  const froms = new Set(dailyApi.indicators[0].from?.filter((f) => f !== null));
  check(froms.size > 20 && froms.size < daily.outputs.sma.points.length / 3, `each value holds for the hours of its day (${froms.size} days)`);
  await screenshot('strategy-higher-timeframe');

  // 2. An indicator of an indicator, applied from the dialog; it follows its source.
  await submitForm('rsi', { values: { period: 14 } });
  await page.locator('.catalog-item[data-indicator="ema"]').click();
  const sources = await page.locator('.param-form select[name="source"] option').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  check(['close', 'open', 'hl2', 'volume', 'sma(period=5,timeframe=1d)', 'rsi(period=14)'].every((s) => sources.includes(s)),
    `"apply to" lists the columns and the indicators on the chart (${sources.join(' ')})`);
  await page.locator('.param-form').getByRole('button', { name: 'Cancel' }).click();
  await submitForm('ema', { values: { period: 9 }, selects: { source: 'rsi(period=14)' } });
  check(link().get('indicators') === 'sma(period=5,timeframe=1d),rsi(period=14),ema(period=9,source=rsi(period=14))', `the nested call is in the link (${link().get('indicators')})`);
  check((await legendText()).includes('EMA 9 of RSI 14'), 'the legend says what the EMA is applied to');
  const nested = (await drawn())[2];
  check(nested.pane > 0, 'an EMA of an RSI is drawn in a pane, on the RSI\'s scale, not over the candles');
  const nestedApi = await api(`symbol=${NFLX}&timeframe=1h&indicators=ema(period=9,source=rsi(period=14))&limit=5000`);
  const nestedWanted = new Map(nestedApi.bars.time.map((t, i) => [t, nestedApi.indicators[0].outputs.ema[i]]));
  check(nested.outputs.ema.points.every(([t, v]) => nestedWanted.get(t) === v), 'its values are the API\'s');
  await submitForm('rsi', { values: { period: 10 }, edit: 1 });
  check(link().get('indicators')?.endsWith('rsi(period=10),ema(period=9,source=rsi(period=10))') === true, `editing the RSI carries the EMA along (${link().get('indicators')})`);
  await screenshot('strategy-nested');

  // 3. The link brings it all back, read from the server's answer.
  await page.reload();
  await waitForBars(page);
  await idle();
  const labels = await page.locator('.active-item .label').allInnerTexts();
  check(JSON.stringify(labels) === JSON.stringify(['SMA 5 · 1d · close', 'RSI 10', 'EMA 9 of RSI 10']), `a reload lists the same calls (${labels.join(' | ')})`);
  check((await drawn())[0].outputs.sma.lineType === 1, 'and draws the higher timeframe as steps again');

  // 4. Compared symbols: a refusal next to the control, then "% from anchor".
  await page.locator('#compare-input').fill('AAPL');
  await page.locator('#compare-input').press('Enter');
  await page.waitForFunction(() => !(/** @type {HTMLElement} */ (document.querySelector('#compare-field .field-error')).hidden));
  const refused = await page.locator('#compare-field .field-error').innerText();
  check(refused.startsWith('compare: ALPACA:AAPL:') && refused.includes('1d'), `a symbol stored daily only cannot join an hourly chart, said beside the control ("${refused}")`);
  check(await page.locator('#compare-chips .chip').count() === 0 && link().get('compare') === null, 'and it is not kept');
  await idle();
  await page.locator('#compare-input').fill('EXPE');
  await page.locator('#compare-input').press('Enter');
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.compared === '1');
  await idle();
  check(link().get('compare') === EXPE, `the compared symbol is in the link, by its id (${link().get('compare')})`);
  check(await page.locator(`#compare-chips .chip[data-symbol="${EXPE}"]`).count() === 1, 'a chip shows it');

  // EXPE's bars end in July 2024: the view goes where both symbols trade.
  await page.evaluate(() => {
    const history = window.candela.history();
    if (!history) throw new Error('no history');
    const index = (/** @type {string} */ day) => history.bars.time.findIndex((t) => t >= Date.parse(day) / 1000);
    window.candela.chart.showSpan(index('2024-04-01'), index('2024-05-01'));
  });
  await idle();
  await anchorFollowsView();

  // Every series of the price pane starts from the same bar: the first in view.
  const rebased = () => page.evaluate(() => {
    const { chart } = window.candela;
    const history = window.candela.history();
    if (!history || !chart.anchor) throw new Error('no anchor');
    const { index, main } = chart.anchor;
    const at = (/** @type {import('lightweight-charts').ISeriesApi<import('lightweight-charts').SeriesType>} */ s, /** @type {number} */ time) => {
      const p = s.data().find((q) => q.time === time);
      return p && 'close' in p ? p.close : p && 'value' in p ? p.value : undefined;
    };
    const time = history.bars.time[index];
    const sma = /** @type {import('lightweight-charts').ISeriesApi<'Line'>} */ (chart.drawn[0].outputs.get('sma'));
    // A bar in view where the compared symbol traded, for the overlay and the compared line.
    const view = chart.visibleIndices();
    if (!view) throw new Error('no view');
    const closes = /** @type {(number | null)[]} */ (history.compare?.[0].close);
    let probe = Math.round((view.from + view.to) / 2);
    while (probe < view.to && closes[probe] === null) probe++;
    // The compared symbol's base, found here: its close at the anchor, or its last before.
    let k = index;
    while (k > 0 && closes[k] === null) k--;
    return {
      index, first: view.from, main, time, format: chart.main.options().priceFormat.type,
      candleAtAnchor: at(chart.main, time), comparedAtAnchor: closes[index] === null ? null : at(chart.compared[0].line, time),
      probe, probeTime: history.bars.time[probe], smaAtProbe: at(sma, history.bars.time[probe]), compareBase: closes[k],
      comparedAtProbe: at(chart.compared[0].line, history.bars.time[probe]), comparedClose: closes[probe],
      closeAtAnchor: history.bars.close[index],
    };
  });
  let anchor = await rebased();
  check(anchor.format === 'custom', 'the price scale reads in percent');
  check(anchor.index === anchor.first, `the anchor is the first bar in view (${anchor.index} vs ${anchor.first})`);
  check(anchor.candleAtAnchor !== undefined && near(anchor.candleAtAnchor, 0), `the candles are at 0% at the anchor (${anchor.candleAtAnchor})`);
  check(anchor.comparedAtAnchor === null || (anchor.comparedAtAnchor !== undefined && near(anchor.comparedAtAnchor, 0)), `so is the compared line, where it has a bar (${anchor.comparedAtAnchor})`);
  const smaProbe = wanted.get(anchor.probeTime);
  check(smaProbe != null && anchor.smaAtProbe !== undefined && anchor.closeAtAnchor !== null && near(anchor.smaAtProbe, (smaProbe / anchor.closeAtAnchor - 1) * 100),
    'the SMA is rebased to its candles\' close at the anchor, so it stays on them');
  check(anchor.comparedClose !== null && anchor.compareBase !== null && anchor.comparedAtProbe !== undefined
    && near(anchor.comparedAtProbe, (anchor.comparedClose / anchor.compareBase - 1) * 100),
  `the compared line is its close in percent from its own close at the anchor (${anchor.comparedAtProbe})`);
  // The crosshair on that bar: the legend has the compared symbol's close there and its change.
  const probeX = await page.evaluate((i) => window.candela.chart.chart.timeScale().logicalToCoordinate(
    /** @type {import('lightweight-charts').Logical} */ (i - window.candela.chart.window.start)), anchor.probe);
  const chartBox = await page.locator('#chart').boundingBox();
  if (probeX === null || !chartBox) throw new Error('the probed bar is off the chart');
  await page.mouse.move(chartBox.x + probeX, chartBox.y + 120);
  await idle();
  const legend = (await page.locator('#legends .compare-values').first().innerText()).replace(/\s+/g, ' ');
  const change = anchor.compareBase === null || anchor.comparedClose === null ? '' : (anchor.comparedClose / anchor.compareBase - 1) * 100;
  const changeText = typeof change === 'number' ? `${change >= 0 ? '+' : ''}${change.toFixed(2)}%` : '?';
  check(legend.startsWith('EXPE') && legend.includes(changeText)
    && legend.includes(Number(anchor.comparedClose).toLocaleString('en-US', { maximumFractionDigits: 4 })),
  `under the crosshair the legend shows the compared symbol's close and its change from the anchor ("${legend}", ${changeText})`);
  check((await legendText()).includes('from anchor'), 'and the chart symbol\'s change from the anchor');
  await screenshot('strategy-compare');

  // Scrolling moves the anchor with the view.
  await page.evaluate(() => window.candela.chart.pan(-0.5));
  await page.waitForFunction((before) => {
    const { chart } = window.candela;
    const view = chart.visibleIndices();
    return chart.anchor && view && chart.anchor.index !== before && chart.anchor.index === view.from;
  }, anchor.index);
  anchor = await rebased();
  check(anchor.candleAtAnchor !== undefined && near(anchor.candleAtAnchor, 0), 'after a scroll the anchor is the new first bar in view, at 0%');

  // A click on a bar pins the anchor there: a marker, a chip, the link.
  const box = await page.locator('#chart').boundingBox();
  if (!box) throw new Error('the chart has no box');
  const target = await page.evaluate(() => {
    const { chart } = window.candela;
    const view = chart.visibleIndices();
    if (!view) throw new Error('no view');
    const index = Math.round(view.from + (view.to - view.from) * 0.6);
    const history = window.candela.history();
    const x = chart.chart.timeScale().logicalToCoordinate(/** @type {import('lightweight-charts').Logical} */ (index - chart.window.start));
    return { index, time: history?.bars.time[index], x, y: (chart.chart.panes()[0].getHeight()) / 2 };
  });
  if (target.x === null) throw new Error('the bar to click is off the chart');
  await page.mouse.click(box.x + target.x, box.y + target.y);
  await idle();
  check(link().get('anchor') === new Date(Number(target.time) * 1000).toISOString().replace('.000Z', 'Z'), `the pinned anchor is in the link (${link().get('anchor')})`);
  check(await page.evaluate(() => window.candela.chart.anchorMarker?.markers().length) === 1, 'a marker shows it on its bar');
  check(await page.locator('#compare-chips .chip.anchor').count() === 1, 'a chip says it is pinned');
  anchor = await rebased();
  check(anchor.index === target.index && anchor.candleAtAnchor !== undefined && near(anchor.candleAtAnchor, 0), 'the candles are at 0% at the clicked bar');
  await page.evaluate(() => window.candela.chart.pan(-0.25));
  await idle();
  check((await rebased()).index === target.index, 'a pinned anchor stays where it was pinned when the view moves');
  await screenshot('strategy-anchor');

  // The link and the remembered layout bring the comparison back, anchor and all.
  const shared = page.url();
  await page.goto(shared);
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.compared === '1');
  await idle();
  check((await rebased()).index === target.index, 'the shared link opens with the same pinned anchor');
  await page.goto(`${base}/`);
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.compared === '1');
  await idle();
  check(link().get('compare') === EXPE && link().get('anchor') !== null && link().get('indicators')?.includes('ema(period=9,source=rsi(period=10))') === true,
    `a visit without a link reopens the remembered layout (${page.url()})`);

  // Unpinned, the anchor follows the view again; without compared symbols the scale is prices again.
  await page.locator('#compare-chips .chip.anchor').click();
  await idle();
  await anchorFollowsView();
  check(link().get('anchor') === null, 'unpinning takes the anchor out of the link');
  anchor = await rebased();
  check(anchor.index === anchor.first, 'and the anchor follows the first bar in view again');
  await page.locator(`#compare-chips .chip[data-symbol="${EXPE}"]`).click();
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.compared === '0');
  await idle();
  check(await page.evaluate(() => window.candela.chart.main.options().priceFormat.type) === 'price', 'with nothing compared the scale is prices again');
  check(link().get('compare') === null, 'and the link has no compare=');
} finally {
  await finish();
}
