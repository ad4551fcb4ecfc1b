// @ts-check
// A WASM plugin dropped into the running server's plugin folder reaches the
// sidebar without a reload, and draws on the chart like a built-in.
// Usage: node tests/plugins.mjs http://127.0.0.1:PORT PLUGIN_DIR HMA_WASM
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { openBrowser, waitForBars, waitForIndicators } from './browser.mjs';

/** @import { DataResponse } from '../src/api.js' */
/** @import { ValuePoint } from './browser.mjs' */

const [base, pluginDir, hmaWasm] = process.argv.slice(2);
if (!hmaWasm) throw new Error('usage: node tests/plugins.mjs http://127.0.0.1:PORT PLUGIN_DIR HMA_WASM');
const { page, check, screenshot, finish } = await openBrowser(base);
const hmaItem = page.locator('.catalog-item[data-indicator="hma"]');

try {
  await page.goto(`${base}/?symbol=ALPACA:NFLX&timeframe=4h`);
  await waitForBars(page);
  check(await hmaItem.count() === 0, 'before the drop, the sidebar has no Hull Moving Average');

  copyFileSync(hmaWasm, path.join(pluginDir, 'hma.wasm'));
  // The page refreshes its catalog when it regains focus (and every 10 s).
  const start = Date.now();
  while (await hmaItem.count() === 0 && Date.now() - start < 30_000) {
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.waitForTimeout(200);
  }
  check(await hmaItem.count() === 1, `the dropped plugin appears in the sidebar (${Date.now() - start} ms)`);
  const category = await hmaItem.evaluate((item) => {
    const heading = item.closest('.category')?.querySelector('h3');
    if (!heading) throw new Error('the item is not in a .category with an h3');
    return heading.textContent;
  });
  check(category === 'Trend', `it is filed under its category, Trend (got ${category})`);

  await hmaItem.click();
  await page.locator('.param-form input[name="period"]').fill('30');
  await page.locator('.param-form button[type="submit"]').click();
  await waitForIndicators(page, 1);
  const drawn = await page.evaluate(() => window.candela.chart.drawn.map(({ key, pane, outputs }) => {
    const hma = outputs.get('hma');
    if (!hma) throw new Error(`${key} has no output hma`);
    return { key, pane, points: hma.data().filter((/** @type {ValuePoint} */ p) => p.value !== undefined).length };
  }));
  check(drawn.length === 1 && drawn[0].key === 'hma(period=30)', `the chart draws hma(period=30) (got ${JSON.stringify(drawn)})`);
  check(drawn[0]?.pane === 0 && drawn[0].points > 100, 'as an overlay on the price pane, with values');
  /** @type {DataResponse} */
  const api = await (await page.request.get(`${base}/api/data?symbol=ALPACA:NFLX&timeframe=4h&indicators=hma(30)`)).json();
  const served = api.indicators[0].outputs.hma.filter((v) => v !== null).length;
  check(drawn[0]?.points === served, `it draws every value the API serves (${served})`);
  check(new URL(page.url()).searchParams.get('indicators') === 'hma(period=30)', 'the link keeps the plugin indicator');
  await screenshot('plugins-hma');
} catch (error) {
  check(false, `unexpected: ${error instanceof Error ? error.message : error}`);
} finally {
  await finish();
}
