// @ts-check
// Replay, the pure part: the chart as of a cursor (an instant), built from
// the bars the page already holds. The bars closed by the cursor are the
// held ones; the bar the cursor is in is built from the finer bars closed by
// then (so a daily candle builds hour by hour); a run's trades are those
// entered by then, the ones exiting later still open and marked at the last
// known close. Nothing after the cursor reaches what is drawn.

/**
 * @import { Bars, ComparedSeries, IndicatorResult } from './api.js'
 * @import { Drawable } from './chart.js'
 * @import { Trade } from './runs.js'
 */

/** A bar's values. @typedef {{open: number, high: number, low: number, close: number, volume: number}} Ohlcv */

/**
 * When each bar of a series closes: a bar of a fixed width that long after
 * it starts; a calendar bar (a day, a week, a month) when the next one
 * starts, the page knowing no zone's midnights. Steps land on finer bars'
 * closes, where the two rules agree; the last calendar bar never closes.
 */
export class Closes {
  /**
   * @param {readonly number[]} times bar starts, Unix seconds, increasing
   * @param {number | null} width seconds, for a fixed timeframe
   */
  constructor(times, width) {
    this.times = times;
    this.width = width;
  }

  get length() {
    return this.times.length;
  }

  /** @param {number} i */
  at(i) {
    if (this.width !== null) return this.times[i] + this.width;
    return i + 1 < this.times.length ? this.times[i + 1] : Infinity;
  }

  /**
   * How many bars had closed by `cursor`.
   * @param {number} cursor
   */
  closedBy(cursor) {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid) <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The next close after `cursor` (1), or the last one before it (-1); null when there is none.
   * @param {number} cursor
   * @param {1 | -1} dir
   * @returns {number | null}
   */
  step(cursor, dir) {
    const closed = this.closedBy(cursor);
    if (dir === 1) {
      const next = closed < this.length ? this.at(closed) : Infinity;
      return Number.isFinite(next) ? next : null;
    }
    // The last close before the cursor: the last closed bar's, unless the cursor is on it.
    let i = closed - 1;
    if (i >= 0 && this.at(i) === cursor) i--;
    return i >= 0 ? this.at(i) : null;
  }
}

/**
 * The bar from `binStart` to `binEnd` as it stood at `cursor`: built of the
 * finer bars in it that had closed by then; null when none had.
 * @param {Bars} finer
 * @param {Closes} finerCloses
 * @param {number} binStart
 * @param {number} binEnd
 * @param {number} cursor
 * @returns {Ohlcv | null}
 */
export function formingBar(finer, finerCloses, binStart, binEnd, cursor) {
  const { time, open, high, low, close, volume } = finer;
  /** @type {Ohlcv | null} */
  let bar = null;
  let j = lowerBound(time, binStart);
  for (; j < time.length && time[j] < binEnd && finerCloses.at(j) <= cursor; j++) {
    const [o, h, l, c] = [open[j], high[j], low[j], close[j]];
    if (o == null || h == null || l == null || c == null) continue;
    if (bar === null) {
      bar = { open: o, high: h, low: l, close: c, volume: volume[j] ?? 0 };
    } else {
      bar.high = Math.max(bar.high, h);
      bar.low = Math.min(bar.low, l);
      bar.close = c;
      bar.volume += volume[j] ?? 0;
    }
  }
  return bar;
}

/**
 * The first index of `times` at or after `t`.
 * @param {readonly number[]} times
 * @param {number} t
 */
function lowerBound(times, t) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A column of the replayed chart: the held values and the cut drawn, the
 * forming bar's value computed by `forming`.
 * @typedef {{full: readonly (number | null)[], cut: (number | null)[], forming: (bar: Ohlcv) => number | null}} Column
 */

const NONE = () => null;

/**
 * What the chart draws during a replay: the held history's bars closed by
 * the cursor and the forming one, with their indicator values (the forming
 * bar's once the server sent them), the compared closes, and any column
 * held beside the bars (a run's curves). The arrays are its own, changed in
 * place step by step, so a step costs what it changes.
 * @implements {Drawable}
 */
export class ReplayFrame {
  /** @param {Drawable} full */
  constructor(full) {
    this.full = full;
    /** @type {Column[]} */
    this.columns = [];
    this.closed = 0;
    /** @type {Ohlcv | null} */
    this.forming = null;
    /** @type {(values: readonly (number | null)[], forming?: (bar: Ohlcv) => number | null) => (number | null)[]} */
    const column = (values, forming = NONE) => this.follow(values, forming);
    const { bars } = full;
    /** @type {Bars} */
    this.bars = {
      time: [], open: column(bars.open, (b) => b.open), high: column(bars.high, (b) => b.high),
      low: column(bars.low, (b) => b.low), close: column(bars.close, (b) => b.close), volume: column(bars.volume, (b) => b.volume),
    };
    /** @type {IndicatorResult[]} */
    this.indicators = full.indicators.map((result) => ({
      ...result,
      outputs: Object.fromEntries(Object.entries(result.outputs).map(([name, values]) => [name, column(values)])),
      ...(result.from ? { from: column(result.from) } : {}),
    }));
    /** @type {ComparedSeries[]} */
    this.compare = (full.compare ?? []).map((c) => ({ symbol: c.symbol, close: column(c.close) }));
  }

  get length() {
    return this.bars.time.length;
  }

  /**
   * A column that follows the frame: its values cut where the frame is.
   * @param {readonly (number | null)[]} full
   * @param {(bar: Ohlcv) => number | null} [forming]
   * @returns {(number | null)[]}
   */
  follow(full, forming = NONE) {
    /** @type {(number | null)[]} */
    const cut = full.slice(0, this.closed);
    if (this.forming) cut.push(forming(this.forming));
    this.columns.push({ full, cut, forming });
    return cut;
  }

  /**
   * Shows `closed` held bars and the forming one after them, if any.
   * Returns how many leading bars are drawn as before.
   * @param {number} closed
   * @param {Ohlcv | null} forming
   * @returns {number}
   */
  moveTo(closed, forming) {
    const keep = Math.min(this.closed, closed);
    const { time } = this.full.bars;
    const times = this.bars.time;
    times.length = keep;
    for (let i = keep; i < closed; i++) times.push(time[i]);
    const withForming = forming !== null && closed < time.length;
    if (withForming) times.push(time[closed]);
    for (const { full, cut, forming: value } of this.columns) {
      cut.length = keep;
      for (let i = keep; i < closed; i++) cut.push(full[i] ?? null);
      if (withForming && forming) cut.push(value(forming));
    }
    this.closed = closed;
    this.forming = withForming ? forming : null;
    return keep;
  }

  /**
   * The forming bar's indicator values, as the server computed them as of
   * the cursor (`outputs` by indicator key, one value each).
   * @param {Map<string, Record<string, number | null>>} byKey
   */
  setFormingValues(byKey) {
    if (!this.forming) return;
    const at = this.length - 1;
    for (const result of this.indicators) {
      const values = byKey.get(result.key);
      for (const [name, cut] of Object.entries(result.outputs)) cut[at] = values?.[name] ?? null;
    }
  }
}

/**
 * A run's trades as they stood at `cursor`: those entered by then; those
 * exiting later open, without exit, PnL or costs, marked at `mark` (the
 * last known close and its bar) as `/api/runs/{run}/trades?asof=` marks them.
 * @param {readonly Trade[]} trades by entry time
 * @param {number} cursor
 * @param {{price: number, bar: number} | null} mark
 * @returns {Trade[]}
 */
export function tradesAsOf(trades, cursor, mark) {
  /** @type {Trade[]} */
  const out = [];
  for (const trade of trades) {
    if (trade.entry_time > cursor) continue;
    if (trade.exit_time !== null && trade.exit_time <= cursor) {
      out.push(trade);
      continue;
    }
    const open = { ...trade, exit_time: null, exit_price: null, exit_bar: null, pnl: null, return_pct: null, bars_held: null };
    if (trade.exit_time !== null) open.commission = null;
    const pnl = mark === null ? null : (trade.side === 'long' ? 1 : -1) * trade.size * (mark.price - trade.entry_price);
    out.push({
      ...open, mark_price: mark?.price ?? null, mark_bar: mark?.bar ?? null, unrealized_pnl: pnl,
      unrealized_return_pct: pnl === null ? null : (pnl / (trade.size * Math.abs(trade.entry_price))) * 100,
    });
  }
  return out;
}

/**
 * The replay interval's label: `1h` steps, or chart bars.
 * @param {string | null} step
 */
export const stepLabel = (step) => (step ? `${step} steps` : 'bar steps');
