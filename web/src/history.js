// @ts-check
// The bars, indicator values and compared symbols' closes the page holds: a window of the series that
// opens on the latest bars and grows to the left a page at a time. The server
// computes every page's indicators with all the history they need, so pages
// join exactly at their seams and the page never recomputes anything.

/** @typedef {import('./api.js').Bars} Bars */
/** @typedef {import('./api.js').DataResponse} DataResponse */
/** @typedef {import('./api.js').IndicatorResult} IndicatorResult */

/**
 * What `/api/data` is asked for a chart: `indicators` is the calls' text,
 * `compare` the compared symbols, comma-separated (empty: none).
 * @typedef {{symbol: string, timeframe: string, indicators: string, compare: string}} DataRequest
 */

/** @type {readonly ('open' | 'high' | 'low' | 'close' | 'volume')[]} */
const VALUE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'];

// Pages grow with what is loaded (5k, 5k, 10k, 20k…), so a million bars take
// a few dozen requests, and no single one is too large to parse quickly.
const LARGEST_PAGE = 250_000;

export class BarHistory {
  /**
   * @param {DataRequest} request what /api/data was asked
   * @param {DataResponse} response its answer
   */
  constructor(request, response) {
    this.request = request;
    this.source = response.source;
    this.bars = response.bars;
    this.indicators = response.indicators;
    // Where the first answer's values were computed from: newer values are
    // asked for on the same window, so that a bar sent again is the same
    // to the last bit (a rolling sum's rounding follows where it started).
    /** @type {number | undefined} */
    this.origin = response.bars.time[0];
    /** @type {import('./api.js').ComparedSeries[]} */
    this.compare = response.compare ?? [];
    // The series begins here; or loading older bars failed (not retried
    // until the chart loads again).
    this.exhausted = false;
    this.failed = false;
  }

  get length() {
    return this.bars.time.length;
  }

  /**
   * The page of bars just before the first one held: its URL and size.
   * @param {number} initialBars the size of the first page
   * @returns {{url: string, limit: number}}
   */
  olderRequest(initialBars) {
    const limit = Math.min(Math.max(this.length, initialBars), LARGEST_PAGE);
    return { url: dataQuery({ ...this.request, end: this.bars.time[0] - 1, limit }), limit };
  }

  /**
   * Joins an older page in front; returns how many bars it added. A page
   * shorter than asked, or empty, means the series begins here.
   * @param {DataResponse} older
   * @param {number} asked the limit it was asked with
   * @returns {number}
   */
  prepend(older, asked) {
    const count = older.bars.time.length;
    if (count < asked) this.exhausted = true;
    if (count === 0) return 0;
    if (older.bars.time[count - 1] >= this.bars.time[0]) {
      throw new Error('the server sent an older page that overlaps the bars already shown');
    }
    // Checked before anything is joined, so that a bad page leaves the history as it was.
    this.indicators.forEach((mine, i) => {
      const theirs = older.indicators[i];
      if (theirs?.key !== mine.key) throw new Error(`the older page lacks ${mine.key}`);
      for (const name of Object.keys(mine.outputs)) {
        if (theirs.outputs[name]?.length !== count) throw new Error(`the older page lacks ${mine.key} ${name}`);
      }
      if (mine.from && theirs.from?.length !== count) throw new Error(`the older page lacks where ${mine.key}'s values came from`);
    });
    this.compare.forEach((mine, i) => {
      const theirs = older.compare?.[i];
      if (theirs?.symbol !== mine.symbol || theirs.close.length !== count) throw new Error(`the older page lacks the closes of ${mine.symbol}`);
    });
    const { bars } = this;
    bars.time = older.bars.time.concat(bars.time);
    for (const column of VALUE_COLUMNS) bars[column] = older.bars[column].concat(bars[column]);
    this.indicators.forEach((mine, i) => {
      const theirs = older.indicators[i];
      for (const name of Object.keys(mine.outputs)) mine.outputs[name] = theirs.outputs[name].concat(mine.outputs[name]);
      if (mine.from && theirs.from) mine.from = theirs.from.concat(mine.from);
    });
    this.compare.forEach((mine, i) => {
      mine.close = (older.compare?.[i].close ?? []).concat(mine.close);
    });
    return count;
  }

  /**
   * Joins newer bars at the end (a live stream's answer): the held bars
   * from its first one on are replaced by its bars (the last held may have
   * been forming), in place. Returns the index of the first bar that
   * changed; -1 when it holds none. Compared symbols get no closes there.
   * Bars of `newer` before `since` (a poll's answer from the origin on) are
   * left out.
   * @param {DataResponse} newer
   * @param {number} [since] Unix seconds
   * @returns {number}
   */
  append(newer, since = -Infinity) {
    const skip = barIndex(newer.bars.time, since - 1) + 1;
    const total = newer.bars.time.length;
    const count = total - skip;
    if (count <= 0) return -1;
    this.indicators.forEach((mine, i) => {
      const theirs = newer.indicators[i];
      if (theirs?.key !== mine.key) throw new Error(`the newer bars lack ${mine.key}`);
      for (const name of Object.keys(mine.outputs)) {
        if (theirs.outputs[name]?.length !== total) throw new Error(`the newer bars lack ${mine.key} ${name}`);
      }
    });
    const at = barIndex(this.bars.time, newer.bars.time[skip] - 1) + 1;
    const join = (/** @type {(number | null)[]} */ mine, /** @type {readonly (number | null)[]} */ theirs) => {
      mine.length = at;
      for (let i = skip; i < total; i++) mine.push(theirs[i]);
    };
    const { bars } = this;
    join(bars.time, newer.bars.time);
    for (const column of VALUE_COLUMNS) join(bars[column], newer.bars[column]);
    this.indicators.forEach((mine, i) => {
      const theirs = newer.indicators[i];
      for (const name of Object.keys(mine.outputs)) join(mine.outputs[name], theirs.outputs[name]);
      if (mine.from && theirs.from) join(mine.from, theirs.from);
    });
    for (const mine of this.compare) join(mine.close, new Array(total).fill(null));
    return at;
  }
}

/**
 * `/api/data?…` for a request; `indicators` and `compare` are left out when empty.
 * @param {{symbol: string, timeframe: string, indicators?: string, compare?: string, start?: number, end?: number, limit: number}} request
 * @returns {string}
 */
export function dataQuery({ symbol, timeframe, indicators, compare, start, end, limit }) {
  const query = new URLSearchParams({ symbol, timeframe });
  if (indicators) query.set('indicators', indicators);
  if (compare) query.set('compare', compare);
  if (start !== undefined) query.set('start', String(start));
  if (end !== undefined) query.set('end', String(end));
  query.set('limit', String(limit));
  return `/api/data?${query}`;
}

/**
 * The index of the bar holding time `t` (the last one starting at or
 * before it), or -1 when `t` is before the first bar.
 * @param {readonly number[]} times bar start times, increasing
 * @param {number} t
 * @returns {number}
 */
export function barIndex(times, t) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
