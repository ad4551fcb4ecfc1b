// @ts-check
// Replay on the page: the chart as it stood at a cursor, stepped bar by bar
// (or by a finer stored timeframe, so a daily candle builds hour by hour),
// played at 1 to 60 steps a second, with the runs as they stood then. A step
// draws from what the page holds (./replay.js): it asks the server only for
// what it lacks, the next page of finer bars and the forming bar's
// indicator values, never for bars it has.
import { api } from './api.js';
import { MIN_WINDOW_BARS, STEPPING_WINDOW_BARS } from './chart.js';
import { BarHistory, dataQuery } from './history.js';
import { instantText } from './layout.js';
import { el, elementOf, isAbort, setStatus, track } from './page.js';
import { Closes, ReplayFrame, formingBar } from './replay.js';
import { finerTimeframes, fixedWidth } from './timeframes.js';

/**
 * @import { Bars, DataResponse } from './api.js'
 * @import { PriceChart } from './chart.js'
 * @import { ChartController } from './chart-controller.js'
 * @import { Errors } from './page.js'
 * @import { RunController } from './run-controller.js'
 * @import { Catalog, View } from './view.js'
 */

// Finer bars are asked for in pages of this many.
const FINER_PAGE = 5000;
// Ask for the next page when fewer held bars than this are left after the cursor.
const FINER_AHEAD = 500;
// The link and the statistics follow a playing replay at most this often (ms).
const SETTLE_MS = 400;
// While playing, the forming bar's indicator values are asked for at most this often (ms).
const FORMING_EVERY_MS = 250;
const DAY = 86_400;
export const MIN_SPEED = 1;
export const MAX_SPEED = 60;

/**
 * The finer bars held for a replay, grown by pages on either side: forward
 * by spans of time that hold a page at most, back by the page before.
 */
class FinerBars {
  /**
   * @param {string} symbol
   * @param {string} timeframe
   * @param {number} until the end of the chart's history: nothing after it is needed
   */
  constructor(symbol, timeframe, until) {
    this.symbol = symbol;
    this.timeframe = timeframe;
    this.until = until;
    this.span = FINER_PAGE * (fixedWidth(timeframe) ?? DAY);
    /** @type {Bars} */
    this.bars = { time: [], open: [], high: [], low: [], close: [], volume: [] };
    this.closes = new Closes(this.bars.time, fixedWidth(timeframe));
    // Where the held bars start and end (Unix seconds): asked for up to there.
    this.start = Infinity;
    this.end = -Infinity;
    // The series has no bars before the first held.
    this.first = false;
    /** @type {Promise<void> | null} */
    this.pending = null;
  }

  get last() {
    return this.end >= this.until;
  }

  /**
   * Holds the finer bars from `start` (Unix seconds), and a page after it.
   * @param {number} start
   * @returns {Promise<void>}
   */
  async from(start) {
    if (start < this.start || start > this.end) {
      this.reset();
      await this.page(start, Math.min(start + this.span, this.until));
      return;
    }
    if (!this.last) await this.page(this.end + 1, Math.min(this.end + this.span, this.until));
  }

  /**
   * Holds the finer bars before `end` too (stepping back).
   * @param {number} end
   */
  async before(end) {
    if (this.first || this.start < end) return;
    await this.page(this.start - this.span, this.start - 1);
  }

  reset() {
    for (const column of Object.values(this.bars)) column.length = 0;
    this.start = Infinity;
    this.end = -Infinity;
    this.first = false;
  }

  /**
   * The finer bars from `start` to `end` (both included) joined to those held.
   * @param {number} start
   * @param {number} end
   */
  page(start, end) {
    this.pending ??= (async () => {
      try {
        const url = dataQuery({ symbol: this.symbol, timeframe: this.timeframe, start, end, limit: FINER_PAGE });
        const got = /** @type {DataResponse} */ (await track(api(url))).bars;
        const columns = /** @type {(keyof Bars)[]} */ (['time', 'open', 'high', 'low', 'close', 'volume']);
        if (start > this.end) {
          for (const c of columns) /** @type {(number | null)[]} */ (this.bars[c]).push(...got[c]);
          this.end = end;
          this.start = Math.min(this.start, start);
        } else {
          const kept = got.time.findIndex((t) => t >= this.start);
          const count = kept < 0 ? got.time.length : kept;
          for (const c of columns) /** @type {(number | null)[]} */ (this.bars[c]).unshift(...got[c].slice(0, count));
          if (count === 0) this.first = true;
          this.start = start;
        }
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }
}

export class ReplayController {
  /**
   * @param {object} parts
   * @param {View} parts.view
   * @param {Catalog} parts.catalog
   * @param {PriceChart} parts.chart
   * @param {ChartController} parts.charts
   * @param {RunController} parts.runs
   * @param {Errors} parts.errors
   */
  constructor({ view, catalog, chart, charts, runs, errors }) {
    this.view = view;
    this.catalog = catalog;
    this.chart = chart;
    this.charts = charts;
    this.runs = runs;
    this.errors = errors;
    /** The frame on the chart while replaying. @type {ReplayFrame | null} */
    this.frame = null;
    /** The full history the frame is cut from. @type {BarHistory | null} */
    this.history = null;
    /** @type {Closes | null} */
    this.closes = null;
    /** @type {FinerBars | null} */
    this.finer = null;
    /** Waiting for a click on a bar, or a date, to start at. */
    this.picking = false;
    this.speed = 5;
    /** @type {number | undefined} */
    this.timer = undefined;
    // The forming values asked for: at most one request in flight.
    /** @type {number | null} */
    this.askedAt = null;
    /** @type {number | undefined} */
    this.askTimer = undefined;
    /** @type {number | undefined} */
    this.settleTimer = undefined;
    this.steps = 0;

    el('replay').addEventListener('click', () => this.toggle());
    el('replay-exit').addEventListener('click', () => this.exit());
    el('replay-back').addEventListener('click', () => this.step(-1, false));
    el('replay-forward').addEventListener('click', () => this.step(1, false));
    el('replay-play').addEventListener('click', () => this.togglePlay());
    const speed = elementOf('replay-speed', HTMLInputElement);
    speed.addEventListener('input', () => this.setSpeed(Number(speed.value)));
    // Once set, the keys step and play again.
    speed.addEventListener('change', () => speed.blur());
    elementOf('replay-step', HTMLSelectElement).addEventListener('change', (e) => {
      if (e.target instanceof HTMLSelectElement) this.setStep(e.target.value || null);
    });
    elementOf('replay-date', HTMLInputElement).addEventListener('change', (e) => {
      if (!(e.target instanceof HTMLInputElement) || !e.target.value) return;
      // The keys step the replay again, rather than the field's digits.
      e.target.blur();
      this.jumpTo(Date.parse(`${e.target.value}Z`) / 1000);
    });
    // While picking, a click on a bar starts the replay at its close.
    chart.chart.subscribeClick((param) => {
      const history = charts.shown;
      if (!this.picking || !(history instanceof BarHistory) || param.logical === undefined) return;
      const i = chart.historyIndex(param.logical);
      const closes = new Closes(history.bars.time, fixedWidth(history.request.timeframe));
      const close = closes.at(i);
      this.start(Number.isFinite(close) ? close : history.bars.time[i]);
    });
  }

  get active() {
    return this.frame !== null;
  }

  // The Replay button and Shift+R: pick where to start, or leave.
  toggle() {
    if (this.active || this.picking) {
      this.exit();
      return;
    }
    if (!(this.charts.shown instanceof BarHistory)) return;
    this.picking = true;
    this.renderBar();
    setStatus('Replay: click a bar, or type a date, to start there');
  }

  /**
   * Starts (or moves) the replay at `cursor` on the chart's history, stepping
   * by `step` (a finer stored timeframe) or by chart bars.
   * @param {number} cursor Unix seconds
   * @param {string | null} [step]
   */
  async start(cursor, step = this.view.replay?.step ?? this.defaultStep()) {
    const history = this.charts.shown;
    if (!(history instanceof BarHistory)) return;
    this.picking = false;
    const { symbol, timeframe } = history.request;
    const steps = finerTimeframes(timeframe, this.storedTimeframes());
    const chosen = step && steps.includes(step) ? step : null;
    await this.charts.loadUntil(history, cursor);
    if (history !== this.charts.shown) return;
    this.history = history;
    this.closes = new Closes(history.bars.time, fixedWidth(timeframe));
    const until = this.closes.at(history.length - 1);
    this.finer = chosen ? new FinerBars(symbol, chosen, Number.isFinite(until) ? until : (history.bars.time.at(-1) ?? cursor) + 31 * DAY) : null;
    this.view.replay = { cursor, step: chosen };
    const frame = new ReplayFrame(history);
    this.frame = frame;
    this.chart.leastWindow = STEPPING_WINDOW_BARS;
    await this.place(cursor);
    if (frame !== this.frame) return;
    this.charts.draw(frame, this.charts.colors());
    this.runs.replayOn(frame);
    this.drawAt(cursor, 0);
    this.chart.showLatest();
    this.renderBar();
    setStatus(`Replay of ${symbol} ${timeframe}${chosen ? `, ${chosen} by ${chosen}` : ''}: → steps, Space plays`);
  }

  /** The stored timeframes of the chart's symbol. */
  storedTimeframes() {
    return this.catalog.symbols.find((s) => s.id === this.view.symbol)?.timeframes ?? [];
  }

  // The coarsest stored timeframe finer than the chart's: a daily candle builds hour by hour.
  defaultStep() {
    const timeframe = this.view.timeframe;
    return timeframe ? finerTimeframes(timeframe, this.storedTimeframes())[0] ?? null : null;
  }

  /**
   * Makes sure the finer bars around `cursor` are held.
   * @param {number} cursor
   */
  async place(cursor) {
    const { finer, history, closes } = this;
    if (!finer || !history || !closes) return;
    const bar = closes.closedBy(cursor);
    const start = history.bars.time[Math.min(bar, history.length - 1)] ?? cursor;
    try {
      await finer.from(Math.min(start, cursor));
      await finer.before(start + 1);
    } catch (error) {
      if (!isAbort(error)) this.errors.show(error);
    }
  }

  /**
   * Moves the frame to `cursor` and draws what changed.
   * @param {number} cursor
   * @param {number | null} [keepAtMost] redraw from here at the latest
   */
  drawAt(cursor, keepAtMost = null) {
    const { frame, closes, finer, history } = this;
    if (!frame || !closes || !history || !this.view.replay) return;
    const closed = closes.closedBy(cursor);
    const start = history.bars.time[closed];
    const forming = finer && start !== undefined ? formingBar(finer.bars, finer.closes, start, closes.at(closed), cursor) : null;
    const keep = Math.min(frame.moveTo(closed, forming), keepAtMost ?? Infinity);
    this.view.replay.cursor = cursor;
    this.chart.redrawEnd(keep);
    this.runs.showAsOf(frame, cursor);
    this.charts.updateLegends();
    this.askFormingValues();
    this.steps++;
    el('chart').dataset.replay = `${cursor}|${frame.length}|${frame.forming ? 'forming' : 'closed'}`;
    elementOf('replay-cursor', HTMLOutputElement).value = `${instantText(cursor).replace('T', ' ').replace('Z', ' UTC')}${frame.forming ? ' · forming' : ''}`;
    const date = elementOf('replay-date', HTMLInputElement);
    if (document.activeElement !== date) date.value = instantText(cursor).slice(0, 16);
    this.settle();
  }

  /**
   * One step forward (1) or back (-1): a chart bar, or with `fine` one
   * replay interval (a bar of the finer timeframe).
   * @param {1 | -1} dir
   * @param {boolean} fine
   * @returns {Promise<boolean>} whether the cursor moved
   */
  async step(dir, fine) {
    const { view, closes } = this;
    if (!this.frame || !closes || !view.replay) return false;
    const cursor = view.replay.cursor;
    const finer = fine ? this.finer : null;
    if (finer) {
      if (dir === 1) {
        const ahead = finer.bars.time.length - finer.closes.closedBy(cursor);
        // The next page is asked for ahead of need; a step past the held bars waits for it.
        if (ahead < FINER_AHEAD && !finer.last && !finer.pending) finer.from(cursor).catch((e) => this.errors.show(e));
        if (ahead === 0 && finer.pending) await finer.pending;
      } else {
        await finer.before(cursor);
      }
    }
    const next = (finer ? finer.closes : closes).step(cursor, dir);
    if (next === null || !this.frame) return false;
    this.drawAt(next);
    return true;
  }

  /**
   * The cursor to an instant (jump to a date).
   * @param {number} cursor Unix seconds
   */
  async jumpTo(cursor) {
    if (!Number.isFinite(cursor)) return;
    if (!this.active) {
      await this.start(cursor);
      return;
    }
    this.pause();
    await this.place(cursor);
    this.drawAt(cursor);
  }

  togglePlay() {
    if (this.timer !== undefined) this.pause();
    else this.play();
  }

  /**
   * Plays at `speed` steps a second, by the clock: each animation frame
   * takes the steps due since the last, so a chart slower to draw than the
   * speed asks still moves at it, a few steps a frame.
   */
  play() {
    if (!this.active || this.timer !== undefined) return;
    const started = performance.now();
    let taken = 0;
    const frame = async () => {
      if (this.timer === undefined) return;
      const due = Math.floor(((performance.now() - started) * this.speed) / 1000) - taken;
      for (let k = 0; k < Math.min(due, MAX_SPEED); k++) {
        taken++;
        if (!(await this.step(1, this.finer !== null))) {
          this.pause();
          return;
        }
      }
      this.timer = requestAnimationFrame(frame);
    };
    this.timer = requestAnimationFrame(frame);
    this.renderBar();
  }

  pause() {
    if (this.timer === undefined) return;
    cancelAnimationFrame(this.timer);
    this.timer = undefined;
    clearTimeout(this.askTimer);
    this.askTimer = undefined;
    this.askFormingValues();
    this.renderBar();
    this.settle(0);
  }

  /** @param {number} speed steps a second */
  setSpeed(speed) {
    this.speed = Math.min(Math.max(Math.round(speed) || MIN_SPEED, MIN_SPEED), MAX_SPEED);
    if (this.timer !== undefined) {
      this.pause();
      this.play();
    }
    this.renderBar();
  }

  /** @param {string | null} step a finer stored timeframe, or null for chart bars */
  async setStep(step) {
    if (!this.view.replay) return;
    await this.start(this.view.replay.cursor, step);
  }

  // Back to the latest bars, as they are.
  exit() {
    this.pause();
    const wasActive = this.active;
    this.picking = false;
    this.frame = null;
    this.history = null;
    this.finer = null;
    this.view.replay = null;
    this.chart.leastWindow = MIN_WINDOW_BARS;
    delete el('chart').dataset.replay;
    this.renderBar();
    if (wasActive) {
      this.charts.redraw();
      this.chart.showLatest();
      this.runs.load();
    }
    setStatus(this.charts.shown ? `${this.charts.shown.length.toLocaleString('en-US')} bars` : '');
  }

  /**
   * The chart loaded again (another symbol, timeframe or indicator): the
   * replay goes on at the same cursor on it.
   */
  async reattach() {
    const replay = this.view.replay;
    if (!replay) return;
    this.frame = null;
    await this.start(replay.cursor, replay.step);
  }

  // The runs were drawn again (chosen, or the runs folder changed): cut at the cursor too.
  rejoin() {
    const { frame, view } = this;
    if (!frame || !view.replay) return;
    this.runs.replayOn(frame);
    this.runs.showAsOf(frame, view.replay.cursor);
    this.runs.statsAsOf(view.replay.cursor);
  }

  /**
   * Asks the server for the forming bar's indicator values as of the
   * cursor: one request at a time; the answer is drawn if the cursor is
   * still there, and the latest cursor asked next.
   */
  askFormingValues() {
    const { frame, history, view } = this;
    if (!frame?.forming || !history || !view.replay || !history.indicators.length || this.askedAt !== null || this.askTimer !== undefined) return;
    const cursor = view.replay.cursor;
    this.askedAt = cursor;
    const { symbol, timeframe, indicators } = history.request;
    const url = `${dataQuery({ symbol, timeframe, indicators, limit: 1 })}&asof=${cursor}`;
    api(url).then((answer) => {
      const { bars, indicators: results } = /** @type {DataResponse} */ (answer);
      if (this.frame !== frame || !frame.forming || this.view.replay?.cursor !== cursor || bars.time[0] !== frame.bars.time.at(-1)) return;
      frame.setFormingValues(new Map(results.map((r) => [r.key, Object.fromEntries(Object.entries(r.outputs).map(([name, values]) => [name, values[0]]))])));
      this.chart.redrawEnd(frame.length - 1);
      this.charts.updateLegends();
      el('chart').dataset.formingValues = String(cursor);
    }, (error) => {
      if (!isAbort(error)) this.errors.show(error);
    }).finally(() => {
      this.askedAt = null;
      if (!this.view.replay || this.view.replay.cursor === cursor) return;
      // Playing, the values follow a few times a second: each answer repaints every pane.
      if (this.timer === undefined) {
        this.askFormingValues();
        return;
      }
      this.askTimer = window.setTimeout(() => {
        this.askTimer = undefined;
        this.askFormingValues();
      }, FORMING_EVERY_MS);
    });
  }

  /**
   * The link and the runs' statistics follow the cursor once it rests (or
   * at most every SETTLE_MS while playing).
   * @param {number} [delay]
   */
  settle(delay = SETTLE_MS) {
    if (this.settleTimer !== undefined && delay > 0) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = window.setTimeout(() => {
      this.settleTimer = undefined;
      if (!this.view.replay) return;
      this.charts.saveLayout();
      this.runs.statsAsOf(this.view.replay.cursor);
    }, delay);
  }

  // The replay bar: shown while picking or replaying, its controls as they stand.
  renderBar() {
    const bar = el('replay-bar');
    bar.hidden = !this.active && !this.picking;
    el('replay').setAttribute('aria-pressed', String(this.active || this.picking));
    const playing = this.timer !== undefined;
    const play = el('replay-play');
    play.textContent = playing ? '❚❚' : '▶';
    play.title = playing ? 'Pause (Space)' : 'Play (Space)';
    play.setAttribute('aria-pressed', String(playing));
    for (const id of ['replay-play', 'replay-back', 'replay-forward', 'replay-step']) {
      elementOf(id, HTMLElement).toggleAttribute('disabled', !this.active);
    }
    const speed = elementOf('replay-speed', HTMLInputElement);
    speed.value = String(this.speed);
    elementOf('replay-speed-text', HTMLOutputElement).value = `${this.speed}/s`;
    const select = elementOf('replay-step', HTMLSelectElement);
    const timeframe = this.view.timeframe;
    const steps = timeframe ? finerTimeframes(timeframe, this.storedTimeframes()) : [];
    select.replaceChildren(Object.assign(document.createElement('option'), { value: '', textContent: `${timeframe ?? 'chart'} bars` }),
      ...steps.map((s) => Object.assign(document.createElement('option'), { value: s, textContent: `${s} steps` })));
    select.value = this.view.replay?.step ?? '';
    if (!this.active) elementOf('replay-cursor', HTMLOutputElement).value = this.picking ? 'click a bar to start' : '';
  }
}
