// @ts-check
// Browser smoke test: the chart page in headless Chromium against a live server.
// Usage: node tests/smoke.mjs http://127.0.0.1:PORT
import { openBrowser, waitForBars, waitForText } from './browser.mjs';

const base = process.argv[2];
if (!base) throw new Error('usage: node tests/smoke.mjs http://127.0.0.1:PORT');
const { page, check, screenshot, finish } = await openBrowser(base);
try {
  const api = async (/** @type {string} */ p) => (await page.request.get(base + p)).json();
  await page.goto(base + '/?symbol=ALPACA:EXPE&timeframe=15m');
  await waitForBars(page);
  const { symbols } = await api('/api/symbols');
  await page.locator('#symbol-search').focus();
  const options = await page.locator('#symbol-list [role="option"]').count();
  check(options === symbols.length, `symbol picker lists all ${symbols.length} symbols`);
  await page.locator('#symbol-search').press('Escape');
  const shown = Number(await page.locator('#chart').getAttribute('data-bars'));
  const expected = await api('/api/data?symbol=ALPACA:EXPE&timeframe=15m&limit=5000');
  check(shown === expected.bars.time.length, `15m chart holds the API's ${expected.bars.time.length} bars (got ${shown})`);
  check(await page.locator('canvas').count() > 0, 'chart canvases are drawn');
  await screenshot('foundation-expe-15m');

  await page.locator('#timeframes button[data-timeframe="1d"]').click();
  await waitForText(page, '#status', 'aggregated from 1m');
  const daily = await api('/api/data?symbol=ALPACA:EXPE&timeframe=1d&limit=5000');
  await waitForText(page, '#legends', '· 1d');
  const legend = await page.locator('#legends').innerText();
  const last = daily.bars.close.at(-1);
  check(legend.includes('ALPACA:EXPE · 1d'), `legend names symbol and timeframe (${legend.replace(/\n/g, ' ')})`);
  check(legend.includes(`C ${last.toLocaleString('en-US', { maximumFractionDigits: 4 })}`), `legend shows the last close ${last}`);
  check(page.url().includes('timeframe=1d'), 'the URL records the timeframe');
  check(await page.locator('#timeframes button.stored').count() === 1, 'exactly the stored timeframe is marked');

  await page.locator('#symbol-search').fill('NFLX');
  await page.locator('#symbol-list [role="option"][data-symbol="ALPACA:NFLX"]').click();
  await waitForText(page, '#status', 'bars');
  await waitForText(page, '#legends', 'ALPACA:NFLX');
  check(page.url().includes('symbol=ALPACA%3ANFLX') || page.url().includes('symbol=ALPACA:NFLX'), 'switching symbol reloads the chart');
  await screenshot('foundation-nflx');

  await page.setViewportSize({ width: 390, height: 800 });
  await screenshot('foundation-phone');
  check(await page.locator('#chart canvas').first().isVisible(), 'chart visible at phone width');
} finally {
  await finish();
}
