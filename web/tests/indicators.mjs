// @ts-check
// Indicators on the chart, in headless Chromium against a live server: add
// SMA, RSI and MACD from the sidebar, check the panes and that they hold the
// API's values, then edit, add a second SMA, remove, and reload.
// Usage: node tests/indicators.mjs http://127.0.0.1:PORT
import { openBrowser, waitForBars, waitForIndicators } from './browser.mjs';

/** @import { DataResponse, IndicatorsResponse } from '../src/api.js' */

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/indicators.mjs http://127.0.0.1:PORT');
// The last step provokes a 400 on purpose.
const { page, check, screenshot, finish } = await openBrowser(base, { expectErrors: true });
const QUERY = 'symbol=ALPACA:NFLX&timeframe=1h';

// What the page drew: per indicator its key, pane and each output's points.
const drawn = () => page.evaluate(() => window.candela.chart.drawn.map(({ key, pane, outputs }) => ({
  key,
  pane,
  outputs: Object.fromEntries([...outputs].map(([name, series]) => [name, {
    pane: series.getPane().paneIndex(),
    points: series.data().flatMap((p) => ('value' in p && p.value !== undefined ? [/** @type {const} */ ([p.time, p.value])] : [])),
  }])),
})));
const paneCount = () => page.evaluate(() => window.candela.chart.chart.panes().length);

/**
 * Adds indicator `id` from the sidebar, with `values` for its parameters.
 * @param {string} id
 * @param {Record<string, number>} [values]
 */
async function add(id, values = {}) {
  await page.locator(`.catalog-item[data-indicator="${id}"]`).click();
  for (const [name, value] of Object.entries(values)) await page.locator(`.param-form input[name="${name}"]`).fill(String(value));
  await page.locator('.param-form button[type="submit"]').click();
}

try {
  await page.goto(`${base}/?${QUERY}`);
  await waitForBars(page);
  /** @type {IndicatorsResponse} */
  const { indicators: catalog } = await (await page.request.get(`${base}/api/indicators`)).json();
  const categories = new Set(catalog.map((i) => i.category));
  check(await page.locator('.catalog .category').count() === categories.size, `the sidebar groups the catalog into its ${categories.size} categories`);
  check(await page.locator('.catalog-item').count() === catalog.length, `the sidebar lists all ${catalog.length} indicators`);

  // The form refuses what the server would refuse, and says why.
  await page.locator('.catalog-item[data-indicator="sma"]').click();
  await page.locator('.param-form input[name="period"]').fill('1');
  const refusal = await page.locator('.param-form .form-error').innerText();
  check(refusal.includes('from 2 to 100000'), `period 1 is refused with the allowed range ("${refusal}")`);
  check(await page.locator('.param-form button[type="submit"]').isDisabled(), 'the form cannot be submitted while invalid');
  await page.locator('.param-form input[name="period"]').fill('2.5');
  check((await page.locator('.param-form .form-error').innerText()).includes('integer'), 'a fractional period is refused');
  await page.locator('.param-form input[name="period"]').fill('20');
  await page.locator('.param-form button[type="submit"]').click();
  await waitForIndicators(page, 1);
  await add('rsi');
  await waitForIndicators(page, 2);
  await add('macd');
  await waitForIndicators(page, 3);

  const calls = 'sma(period=20),rsi(period=14),macd(fast=12,slow=26,signal=9)';
  /** @type {DataResponse} */
  const expected = await (await page.request.get(`${base}/api/data?${QUERY}&limit=5000&indicators=${calls}`)).json();
  const shown = await drawn();
  check(await paneCount() === 3, `price, RSI and MACD panes (${await paneCount()} panes)`);
  check(shown.map((d) => d.key).join(',') === calls, `the chart draws ${calls} (got ${shown.map((d) => d.key)})`);
  /** @type {Record<string, number>} */
  const wantPane = { sma: 0, rsi: 1, macd: 2 };
  for (const result of expected.indicators) {
    const mine = shown.find((d) => d.key === result.key);
    for (const [name, values] of Object.entries(result.outputs)) {
      const points = expected.bars.time.map((t, i) => [t, values[i]]).filter(([, v]) => v !== null);
      const got = mine?.outputs[name];
      const same = got && got.points.length === points.length && got.points.every(([t, v], i) => t === points[i][0] && v === points[i][1]);
      check(same, `${result.key} ${name}: the chart holds the API's ${points.length} values`);
      check(got?.pane === wantPane[result.id], `${result.key} ${name} is in pane ${wantPane[result.id]} (got ${got?.pane})`);
    }
  }
  await page.evaluate(() => new Promise(requestAnimationFrame)); // legends follow a frame later
  const legend = await page.locator('#legends').innerText();
  check(legend.includes('RSI 14') && legend.includes('MACD 12, 26, 9') && legend.includes('histogram'), 'the legend lists the indicators and their outputs');
  await screenshot('indicators-sma-rsi-macd');

  // Edit SMA to 50, add a second SMA of 20: two instances side by side.
  await page.locator('.active-item[data-indicator="sma"] button', { hasText: 'Edit' }).click();
  await page.locator('.param-form input[name="period"]').fill('50');
  await page.locator('.param-form button[type="submit"]', { hasText: 'Apply' }).click();
  await page.waitForFunction(() => location.search.includes('sma%28period%3D50%29') || location.search.includes('sma(period=50)'));
  await waitForIndicators(page, 3);
  await add('sma', { period: 20 });
  await waitForIndicators(page, 4);
  const smas = (await drawn()).filter((d) => d.key.startsWith('sma(')).map((d) => d.key);
  check(smas.join(',') === 'sma(period=50),sma(period=20)', `two SMAs coexist (${smas})`);
  await add('sma', { period: 20 });
  check((await page.locator('.param-form .form-error').innerText()).includes('already'), 'the same SMA twice is refused');
  await page.locator('.param-form button', { hasText: 'Cancel' }).click();

  // Remove RSI: its pane goes, MACD's stays.
  await page.locator('.active-item[data-indicator="rsi"] button[aria-label="Remove"]').click();
  await waitForIndicators(page, 3);
  check(await paneCount() === 2, `removing RSI removes its pane (${await paneCount()} panes)`);
  check(!(await drawn()).some((d) => d.key.startsWith('rsi')), 'RSI is no longer drawn');
  await screenshot('indicators-edited');

  // The URL carries the indicators: a reload restores them.
  await page.reload();
  await waitForIndicators(page, 3);
  const restored = (await drawn()).map((d) => d.key).join(',');
  check(restored === 'sma(period=50),macd(fast=12,slow=26,signal=9),sma(period=20)', `a reload restores the indicators (${restored})`);
  check(await page.locator('.active-item').count() === 3, 'the sidebar lists the restored indicators');

  // A link with an indicator the server refuses still opens the chart and says why.
  await page.goto(`${base}/?${QUERY}&indicators=sma(0)`);
  await page.waitForFunction(() => !/** @type {HTMLElement} */ (document.querySelector('#indicators > .field-error')).hidden);
  const error = await page.locator('#indicators > .field-error').innerText();
  check(error.includes('sma(0)') && error.includes('period'), `a bad indicator in the link is named in the error ("${error}")`);
  check(await page.locator('#chart').getAttribute('data-bars') !== '0', 'the chart still shows the bars');
} finally {
  await finish();
}
