// @ts-check
// Sign-in in headless Chromium, against a server that asks for it: the chart
// page answers with the sign-in form, which remembers the page; a wrong token
// is refused on the form; the right one lands on the page asked for with an
// HttpOnly, SameSite=Strict session; revoking the token ends the session, and
// the page's next request takes it back to the form, remembering where it was.
// Usage: node tests/signin.mjs URL TOKEN CANDELA TOKENS_DIR
// (CANDELA: the binary, run in TOKENS_DIR to revoke the token named `browser`.)
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { openBrowser, waitForBars, waitForText } from './browser.mjs';

const [base, token, candela, tokensDir] = process.argv.slice(2);
if (!tokensDir) throw new Error('usage: node tests/signin.mjs URL TOKEN CANDELA TOKENS_DIR');
const { page, check, screenshot, finish } = await openBrowser(base, { signIn: true });

/** Submits the form with `value` and waits for the answer to the post. */
async function submit(/** @type {string} */ value) {
  await page.fill('#token', value);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${base}/signin` && r.request().method() === 'POST'),
    page.click('form[action="/signin"] button[type="submit"]'),
  ]);
  return answer;
}

try {
  const wanted = '/?symbol=ALPACA:EXPE&timeframe=15m';
  const first = await page.goto(base + wanted);
  check(first?.status() === 401, `the chart page without a session answers 401 (got ${first?.status()})`);
  check(await page.locator('form[action="/signin"] #token').isVisible(), 'the sign-in form is shown');
  check(await page.locator('input[name="next"]').inputValue() === wanted, 'the form remembers the page asked for');
  await screenshot('signin-form');

  const wrong = await submit('cdl_wrong');
  check(wrong.status() === 401, `a wrong token is refused (got ${wrong.status()})`);
  await waitForText(page, '.sign-in-error', 'not');
  check(await page.locator('input[name="next"]').inputValue() === wanted, 'the refused form still remembers the page');
  check((await page.context().cookies()).length === 0, 'a refused sign-in sets no cookie');

  const right = await submit(token);
  check(right.status() === 303, `the right token signs in (got ${right.status()})`);
  await page.waitForURL((url) => url.pathname === '/' && url.search.includes('symbol=ALPACA'));
  await waitForBars(page);
  const landed = new URL(page.url()).searchParams;
  check(landed.get('symbol') === 'ALPACA:EXPE' && landed.get('timeframe') === '15m', `it lands on the page asked for (${page.url()})`);
  const session = (await page.context().cookies()).find((c) => c.name === 'candela_session');
  check(session?.httpOnly === true, 'the session cookie is HttpOnly');
  check(session?.sameSite === 'Strict', `the session cookie is SameSite=Strict (${session?.sameSite})`);
  const hours = ((session?.expires ?? 0) - Date.now() / 1000) / 3600;
  check(hours > 11.9 && hours <= 12, `the session expires in auth.session_hours (${hours.toFixed(2)} h)`);
  check(!(await page.evaluate(() => document.cookie)).includes('candela_session'), "the page's scripts cannot read the session");
  await screenshot('signin-chart');

  // Revoked: the session ends with its token, within 2 s.
  execFileSync(candela, ['token', 'revoke', 'browser'], { cwd: tokensDir, stdio: 'inherit' });
  const revoked = Date.now();
  let status = 200;
  while (status !== 401 && Date.now() - revoked < 5000) {
    status = (await page.request.get(`${base}/api/symbols`)).status();
    if (status !== 401) await sleep(100);
  }
  check(status === 401 && Date.now() - revoked < 2000, `the session ends within 2 s of revoking its token (${Date.now() - revoked} ms)`);

  await page.locator('#timeframes button[data-timeframe="1h"]').click();
  await page.waitForURL((url) => url.pathname === '/signin');
  const next = new URL(page.url()).searchParams.get('next') ?? '';
  check(next.startsWith('/?symbol=ALPACA'), `the page goes to the sign-in form, remembering where it was (${next})`);
  check(await page.locator('input[name="next"]').inputValue() === next, 'the form carries it on');
  const again = await submit(token);
  check(again.status() === 401, `the revoked token no longer signs in (got ${again.status()})`);
  await screenshot('signin-ended');
} finally {
  await finish();
}
