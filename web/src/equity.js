// @ts-check
// A run's equity and drawdown held beside the bars on the chart: one value
// per loaded bar (null where the curve has no point), so that the chart
// draws the same window of them as of the bars, and the legend reads the
// bar under the crosshair. Older bars join at the front with no value until
// their stretch of the curve arrives.

import { barIndex } from './history.js';

/** @import { EquityResponse } from './runs.js' */

export class RunCurve {
  /** @param {number} length the bars held */
  constructor(length) {
    /** @type {(number | null)[]} */
    this.equity = new Array(length).fill(null);
    /** @type {(number | null)[]} */
    this.drawdown = new Array(length).fill(null);
  }

  /**
   * The history now holds `length` bars, the newest without a value yet: in
   * place, as `prepend`.
   * @param {number} length
   */
  grow(length) {
    while (this.equity.length < length) this.equity.push(null);
    while (this.drawdown.length < length) this.drawdown.push(null);
    this.equity.length = length;
    this.drawdown.length = length;
  }

  get length() {
    return this.equity.length;
  }

  /**
   * `count` older bars joined the front of the history. In place: whoever
   * holds the arrays (the chart) sees the values at their new places.
   * @param {number} count
   */
  prepend(count) {
    for (const values of [this.equity, this.drawdown]) {
      const n = values.length;
      values.length = n + count;
      values.copyWithin(count, 0, n);
      values.fill(null, 0, count);
    }
  }

  /**
   * Puts a stretch of the curve at its bars: each point at the bar holding
   * its time (the API samples the curve on the same candles, so each is a
   * bar's own time), the later point winning in a bar. Points before the
   * first bar held are left out. Returns how many bars got a value.
   * @param {readonly number[]} times the bar times held, increasing
   * @param {EquityResponse['equity']} points times increasing
   * @returns {number}
   */
  fill(times, points) {
    let filled = 0;
    let last = -1;
    let bar = points.time.length ? barIndex(times, points.time[0]) : -1;
    for (let k = 0; k < points.time.length; k++) {
      const t = points.time[k];
      while (bar + 1 < times.length && times[bar + 1] <= t) bar++;
      if (bar < 0) continue;
      this.equity[bar] = points.equity[k];
      this.drawdown[bar] = points.drawdown_pct[k];
      if (bar !== last) filled++;
      last = bar;
    }
    return filled;
  }
}
