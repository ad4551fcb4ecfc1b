// What every browser test shares: Debian's Chromium, headless, with the page
// failing the test on any script error, failed request or request to
// anywhere but the server under test. Screenshots go to artifacts/ at the
// repository root (git-ignored).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts');

// `expectErrors`: the script provokes failing /api/data or /api/sql requests on purpose.
export async function openBrowser(base, { expectErrors = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) failures.push(`console error: ${m.text()}`); });
  page.on('response', (r) => {
    const provoked = expectErrors && /\/api\/(data|sql)/.test(r.url());
    if (r.status() >= 400 && !provoked) failures.push(`${r.status()} for ${r.url()}`);
  });
  page.on('request', (r) => { if (!r.url().startsWith(base)) failures.push(`contacted ${r.url()}`); });
  return {
    page,
    check,
    screenshot: (name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }),
    finish: async () => {
      await browser.close();
      if (failures.length) {
        console.error(`\n${failures.length} failure(s):\n${failures.join('\n')}`);
        process.exit(1);
      }
    },
  };
}
