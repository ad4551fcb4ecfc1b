// @ts-check
// What every browser test shares: Debian's Chromium, headless, with the page
// failing the test on any script error, failed request, request to anywhere
// but the server under test, or anything its Content-Security-Policy blocks. Screenshots go to artifacts/ at the
// repository root (git-ignored). Also what several scripts use: waits on
// the page (whose functions run in the page, so each names the element it
// misses itself) and `present` for what a script needs to go on.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** @import { Page } from 'playwright-core' */
/** @import { Time } from 'lightweight-charts' */

/**
 * A point of a drawn series as the tests read it: a line's or histogram's
 * value, or none (whitespace).
 * @typedef {{time: Time, value?: number}} ValuePoint
 */

const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts');

/**
 * Opens the browser on a new page.
 * @param {string} base the server under test, e.g. `http://127.0.0.1:PORT`
 * @param {{expectErrors?: boolean, signIn?: boolean}} [options] `expectErrors`: the script provokes failing /api/data, /api/sql or /api/runs requests on purpose; `signIn`: the server asks for sign-in, and its 401s are part of the test.
 */
export async function openBrowser(base, { expectErrors = false, signIn = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  /** @type {string[]} */
  const failures = [];
  const check = (/** @type {unknown} */ ok, /** @type {string} */ what) => { if (!ok) failures.push(what); console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  // Anything the server's Content-Security-Policy blocks fails the test.
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation',
    (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`)));
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) failures.push(`console error: ${m.text()}`); });
  page.on('response', (r) => {
    const provoked = (expectErrors && /\/api\/(data|sql|runs)/.test(r.url())) || (signIn && r.status() === 401);
    if (r.status() >= 400 && !provoked) failures.push(`${r.status()} for ${r.url()}`);
  });
  page.on('request', (r) => { if (!r.url().startsWith(base)) failures.push(`contacted ${r.url()}`); });
  return {
    page,
    check,
    screenshot: (/** @type {string} */ name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }),
    finish: async () => {
      await browser.close();
      if (failures.length) {
        console.error(`\n${failures.length} failure(s):\n${failures.join('\n')}`);
        process.exit(1);
      }
    },
  };
}

/**
 * `value`, which the script needs to go on: null or undefined fails it with
 * an Error naming `what`.
 * @template T
 * @param {T} value
 * @param {string} what
 * @returns {NonNullable<T>}
 */
export function present(value, what) {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/**
 * Waits until the chart holds bars.
 * @param {Page} page
 */
export const waitForBars = (page) => page.waitForFunction(() => {
  const chart = document.querySelector('#chart');
  if (!(chart instanceof HTMLElement)) throw new Error('the page has no #chart');
  return chart.dataset.bars !== '0';
});

/**
 * Waits until the chart draws `count` indicators and nothing is loading.
 * @param {Page} page
 * @param {number} count
 */
export const waitForIndicators = (page, count) => page.waitForFunction((n) => {
  const chart = document.querySelector('#chart');
  if (!(chart instanceof HTMLElement)) throw new Error('the page has no #chart');
  return chart.dataset.indicators === String(n) && !document.querySelector('#status.loading');
}, count);

/**
 * Waits until the element `selector` has `text` in its text.
 * @param {Page} page
 * @param {string} selector
 * @param {string} text
 */
export const waitForText = (page, selector, text) => page.waitForFunction(({ selector, text }) => {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element.textContent.includes(text);
}, { selector, text });
