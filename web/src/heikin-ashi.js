// @ts-check
// Heikin-Ashi candles: a way of drawing bars, not an indicator. Close is the
// bar's average price; open is the midpoint of the previous candle's open and
// close (the first candle's own open and close). The dependence on earlier
// candles halves with every bar, so after older bars are paged in and this is
// run again, the candles at the seam agree with a whole-series computation.
// A bar missing a value has no candle, and the next candle opens from the
// last one there is.

/**
 * Open, high, low and close columns; a missing value is `null`.
 * @typedef {{open: (number | null)[], high: (number | null)[], low: (number | null)[], close: (number | null)[]}} Ohlc
 */

/**
 * @param {Ohlc} bars
 * @returns {Ohlc}
 */
export function heikinAshi({ open, high, low, close }) {
  const n = close.length;
  /** @type {Ohlc} */
  const ha = { open: new Array(n), high: new Array(n), low: new Array(n), close: new Array(n) };
  // The last candle drawn: its open and close (NaN before the first).
  let lastOpen = NaN;
  let lastClose = NaN;
  for (let i = 0; i < n; i++) {
    const bo = open[i];
    const bh = high[i];
    const bl = low[i];
    const bc = close[i];
    if (bo == null || bh == null || bl == null || bc == null) {
      ha.open[i] = ha.high[i] = ha.low[i] = ha.close[i] = null;
      continue;
    }
    const c = (bo + bh + bl + bc) / 4;
    const o = Number.isNaN(lastOpen) ? (bo + bc) / 2 : (lastOpen + lastClose) / 2;
    ha.open[i] = o;
    ha.close[i] = c;
    ha.high[i] = Math.max(bh, o, c);
    ha.low[i] = Math.min(bl, o, c);
    lastOpen = o;
    lastClose = c;
  }
  return ha;
}
