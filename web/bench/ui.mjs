// @ts-check
// The chart page's performance in headless Chromium, reported as medians:
//   1. navigation to first chart paint with 50,000 bars (a fresh browser
//      context each run, so the page's files are fetched every time);
//   2. main-thread time per frame while dragging the chart with five
//      indicators, at the default zoom and with 2,000 bars in view;
//   3. a million one-minute bars paged in by scrolling back, then dragged;
//   4. main-thread time per frame while dragging the chart with a backtest
//      run of 10,000 trades (synth-10k) on it, at the default zoom, among
//      its trades, and the same bars without the run;
//   5. a replay's step with five indicators and 5,000 bars in view, and
//      playing at 60 steps a second;
//   6. the bytes of JS and CSS the page ships.
// Needs a server on the sample data plus SYNTH:LONG and the sample runs (see the README).
// Usage: node bench/ui.mjs http://127.0.0.1:PORT [runs] [sections, as 2,5]
import { chromium } from 'playwright-core';
import { gzipSync } from 'node:zlib';

/** @import { Page } from 'playwright-core' */

/**
 * One animation frame as the probe saw it: `end` is null until it is rendered.
 * @typedef {{timestamp: number, start: number, end: number | null}} Frame
 */
/** The page's window, with the frames the probe saw once it is installed. @typedef {Window & {__frames?: Frame[]}} Probed */

const [base, runsArg, sectionsArg] = process.argv.slice(2);
if (!base) throw new Error('usage: node bench/ui.mjs http://127.0.0.1:PORT [runs] [sections, as 2,5]');
const RUNS = Number(runsArg ?? 7);
const sections = new Set((sectionsArg ?? '1,2,3,4,5,6').split(',').map(Number));
/** Whether section `n` of the list above is measured this time. */
const measures = (/** @type {number} */ n) => sections.has(n);
const FIVE = 'sma(period=20),ema(period=50),bbands(period=20,stddev=2),rsi(period=14),macd(fast=12,slow=26,signal=9)';

const median = (/** @type {number[]} */ xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const quantile = (/** @type {number[]} */ xs, /** @type {number} */ q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (/** @type {number} */ x) => `${x.toFixed(1)} ms`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
});

// Times every animation frame's callbacks and the rendering after them: the
// frame's work runs from its first callback to a message posted from it,
// which the event loop delivers once the frame is rendered.
function frameProbe() {
  /** @type {Frame[]} */
  const frames = [];
  const original = window.requestAnimationFrame.bind(window);
  /** @type {Frame | null} */
  let current = null;
  window.requestAnimationFrame = (callback) => original((timestamp) => {
    if (current?.timestamp !== timestamp) {
      /** @type {Frame} */
      const frame = { timestamp, start: performance.now(), end: null };
      current = frame;
      frames.push(frame);
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { frame.end = performance.now(); };
      channel.port2.postMessage(null);
    }
    callback(timestamp);
  });
  /** @type {Probed} */ (window).__frames = frames;
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  await page.addInitScript(frameProbe);
  page.on('pageerror', (e) => { throw e; });
  return { context, page };
}

const painted = (/** @type {Page} */ page, /** @type {string} */ name) => page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 120_000 });

// 1. First paint with 50,000 bars.
const firstPaint = [];
for (let run = 0; measures(1) && run < RUNS; run++) {
  const { context, page } = await newPage();
  await page.goto(`${base}/?symbol=ALPACA:EXPE&timeframe=1m&type=candles&bars=50000`);
  await painted(page, 'candela:chart-painted');
  firstPaint.push(await page.evaluate(() => performance.getEntriesByName('candela:chart-painted')[0].startTime));
  const bars = await page.locator('#chart').getAttribute('data-bars');
  if (bars !== '50000') throw new Error(`expected 50000 bars, the chart holds ${bars}`);
  await context.close();
}
if (measures(1)) console.log(`first chart paint, 50,000 bars:   median ${ms(median(firstPaint))} (min ${ms(Math.min(...firstPaint))}, max ${ms(Math.max(...firstPaint))}, ${RUNS} runs)`);

/**
 * Drags the chart right and left in 4 px steps; returns the frames' work.
 * @param {Page} page
 * @param {number} [steps]
 * @returns {Promise<number[]>}
 */
async function dragFrames(page, steps = 150) {
  const box = await page.locator('#chart').boundingBox();
  if (!box) throw new Error('the chart is not on screen');
  const y = box.y + box.height * 0.3;
  await page.evaluate(() => { /** @type {Probed} */ (window).__frames?.splice(0); });
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  for (let i = 0; i < steps; i++) await page.mouse.move(box.x + box.width * 0.3 + 4 * (i < steps / 2 ? i : steps - i), y);
  await page.mouse.up();
  await page.waitForTimeout(100);
  return page.evaluate(() => (/** @type {Probed} */ (window).__frames ?? []).flatMap((f) => (f.end === null ? [] : [f.end - f.start])));
}

/**
 * @param {string} label
 * @param {number[]} frames
 */
function report(label, frames) {
  console.log(`${label} median ${ms(median(frames))}, p95 ${ms(quantile(frames, 0.95))}, max ${ms(Math.max(...frames))} (${frames.length} frames)`);
}

// 2. Panning with five indicators.
if (measures(2)) {
  const { context, page } = await newPage();
  await page.goto(`${base}/?symbol=ALPACA:EXPE&timeframe=1m&type=candles&indicators=${FIVE}`);
  await painted(page, 'candela:chart-painted');
  await page.waitForTimeout(300);
  report('pan, 5 indicators, default zoom:  ', await dragFrames(page));
  await page.evaluate(() => {
    const n = window.candela.history()?.bars.time.length ?? 0;
    window.candela.chart.chart.timeScale().setVisibleLogicalRange({ from: n - 2000, to: n });
  });
  await page.waitForTimeout(300);
  report('pan, 5 indicators, 2,000 in view: ', await dragFrames(page));
  await context.close();
}

// 3. A million bars: page them all in by scrolling back, then pan.
if (measures(3)) {
  const { context, page } = await newPage();
  await page.goto(`${base}/?symbol=SYNTH:LONG&timeframe=1m&type=candles&indicators=${FIVE}`);
  await painted(page, 'candela:chart-painted');
  const pages = [];
  for (;;) {
    const before = Number(await page.locator('#chart').getAttribute('data-bars'));
    const exhausted = await page.evaluate(() => {
      const history = window.candela.history();
      return !history || !('exhausted' in history) || history.exhausted === true;
    });
    if (exhausted) break;
    await page.evaluate(() => performance.clearMarks('candela:older-painted'));
    await page.keyboard.press('Home');
    await painted(page, 'candela:older-painted');
    const time = await page.evaluate(() => performance.getEntriesByName('candela:older-painted')[0].startTime
      - (performance.getEntriesByName('candela:older-requested').at(-1)?.startTime ?? NaN));
    const after = Number(await page.locator('#chart').getAttribute('data-bars'));
    pages.push({ added: after - before, total: after, time });
    await page.waitForFunction(() => /** @type {HTMLElement | null} */ (document.querySelector('#progress'))?.hidden);
  }
  for (const p of pages) console.log(`  page of ${p.added.toLocaleString('en-US')} older bars (${p.total.toLocaleString('en-US')} held): ${ms(p.time)} from request to paint`);
  await page.keyboard.press('End');
  await page.waitForTimeout(300);
  report(`pan, ${(await page.locator('#chart').getAttribute('data-bars'))} bars held:`, await dragFrames(page));
  await context.close();
}

// 4. A backtest run of 10,000 trades over the million bars: the page opens
// it at its latest bars (after its last trade), goes to its last trade ([,
// paging it in), then shows the default zoom (as a fresh chart does) around
// it and the chart is dragged; then the same view with the run taken off.
if (measures(4)) {
  const { context, page } = await newPage();
  await page.goto(`${base}/?run=synth-10k&timeframe=1m&type=candles`);
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.equity?.startsWith('synth-10k|'), null, { timeout: 120_000 });
  await page.keyboard.press('[');
  await page.waitForFunction(() => /** @type {HTMLElement} */ (document.querySelector('#chart')).dataset.picked !== undefined, null, { timeout: 120_000 });
  await page.waitForFunction(() => /** @type {HTMLElement | null} */ (document.querySelector('#progress'))?.hidden);
  const defaultZoom = () => page.evaluate(() => {
    const { chart } = window.candela;
    const view = chart.visibleIndices();
    if (!view) throw new Error('no bars in view');
    // As showLatest spaces a fresh chart's bars.
    const count = Math.min(Math.max(Math.round(chart.container.clientWidth / 7), 30), chart.window.end - chart.window.start);
    const centre = (view.from + view.to) / 2 - chart.window.start;
    chart.setViewRange({ from: centre - count / 2, to: centre + count / 2 });
  });
  await defaultZoom();
  await page.waitForTimeout(300);
  const shown = await page.evaluate(() => ({ markers: window.candela.trades.shownMarkers().length, drawn: window.candela.chart.window.end - window.candela.chart.window.start }));
  report(`pan, synth-10k run (${shown.markers} markers, ${shown.drawn.toLocaleString('en-US')} bars drawn):`, await dragFrames(page));
  await page.locator('#run-select').selectOption('');
  await page.waitForFunction(() => window.candela.trades.shownMarkers().length === 0);
  await page.waitForTimeout(300);
  report('pan, same bars without the run:   ', await dragFrames(page));
  await context.close();
}

// 5. Replay with five indicators and 5,000 bars in view (SYNTH:LONG's 5m
// bars, built from its minutes): each step's script and the frame drawn
// after it, stepping a minute forward (the 5m candle forming, and closing
// every fifth step), a 5m bar forward, and a minute back; then playing at
// 60 steps a second, the steps made and the frames' work.
if (measures(5)) {
  const { context, page } = await newPage();
  await page.goto(`${base}/?symbol=SYNTH:LONG&timeframe=5m&type=candles&bars=6000&indicators=${FIVE}`);
  await painted(page, 'candela:chart-painted');
  await page.waitForFunction(() => /** @type {HTMLElement | null} */ (document.querySelector('#progress'))?.hidden);
  await page.evaluate(async () => {
    const history = /** @type {import('../src/history.js').BarHistory} */ (window.candela.history());
    await window.candela.replay.start(history.bars.time[5500], '1m');
  });
  await page.waitForTimeout(500);
  const steps = (/** @type {number} */ count, /** @type {1 | -1} */ dir, /** @type {boolean} */ fine) => page.evaluate(async ({ count, dir, fine }) => {
    const { replay } = window.candela;
    const frames = /** @type {Probed} */ (window).__frames ?? [];
    const rendered = (/** @type {number} */ from) => new Promise((done) => {
      const wait = () => (frames.length > from && frames[from].end !== null ? done(frames[from]) : setTimeout(wait, 1));
      wait();
    });
    /** @type {number[]} */
    const out = [];
    for (let k = 0; k < count; k++) {
      const before = frames.length;
      const t0 = performance.now();
      await replay.step(dir, fine);
      const script = performance.now() - t0;
      const frame = /** @type {{start: number, end: number}} */ (await rendered(before));
      out.push(script + (frame.end - frame.start));
    }
    return out;
  }, { count, dir, fine });
  const play = () => page.evaluate(async () => {
    const { replay } = window.candela;
    const frames = /** @type {Probed} */ (window).__frames ?? [];
    replay.setSpeed(60);
    const [first, steps0, t0] = [frames.length, replay.steps, performance.now()];
    replay.play();
    await new Promise((done) => setTimeout(done, 5000));
    replay.pause();
    const seconds = (performance.now() - t0) / 1000;
    return { rate: (replay.steps - steps0) / seconds, frames: frames.slice(first).flatMap((f) => (f.end === null ? [] : [f.end - f.start])) };
  });
  // At the default zoom, then zoomed out to 5,000 bars in view.
  for (const zoom of ['default zoom', '5,000 bars in view']) {
    if (zoom !== 'default zoom') {
      await page.evaluate(async () => {
        for (let k = 0; k < 5; k++) {
          const view = window.candela.chart.visibleIndices();
          if (view) window.candela.chart.zoom(5000 / (view.to - view.from + 1));
          await new Promise((done) => setTimeout(done, 100));
        }
      });
    }
    await page.waitForTimeout(300);
    const { inView, held } = await page.evaluate(() => {
      const { chart } = window.candela;
      const view = chart.visibleIndices();
      return { inView: view ? view.to - view.from + 1 : 0, held: chart.window.end - chart.window.start };
    });
    console.log(`replay, ${zoom}: ${inView.toLocaleString('en-US')} bars in view, ${held.toLocaleString('en-US')} drawn`);
    report('  step, 1m (the 5m bar forming):   ', await steps(200, 1, true));
    report('  step, one 5m bar:                ', await steps(100, 1, false));
    report('  step back, 1m:                   ', await steps(50, -1, true));
    const played = await play();
    report(`  playing at 60/s: ${played.rate.toFixed(1)} steps/s;`, played.frames);
  }
  await context.close();
}

// 6. What the page ships.
if (measures(6)) {
  const { context, page } = await newPage();
  await page.goto(`${base}/`);
  await painted(page, 'candela:chart-painted');
  const files = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name)
    .concat(location.href).filter((n) => /\.(m?js|css)$/.test(new URL(n).pathname)));
  let raw = 0;
  let gz = 0;
  for (const file of files) {
    const body = await (await page.request.get(file)).body();
    raw += body.length;
    gz += gzipSync(body).length;
    console.log(`  ${new URL(file).pathname}: ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body).length / 1024).toFixed(1)} KiB gzipped)`);
  }
  console.log(`JS and CSS shipped: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped, in ${files.length} files`);
  await context.close();
}
await browser.close();
