// Heikin-Ashi candles: a way of drawing bars, not an indicator. Close is the
// bar's average price; open is the midpoint of the previous candle's open and
// close (the first candle's own open and close). The dependence on earlier
// candles halves with every bar, so after older bars are paged in and this is
// run again, the candles at the seam agree with a whole-series computation.
export function heikinAshi({ open, high, low, close }) {
  const n = close.length;
  const ha = { open: new Array(n), high: new Array(n), low: new Array(n), close: new Array(n) };
  for (let i = 0; i < n; i++) {
    const c = (open[i] + high[i] + low[i] + close[i]) / 4;
    const o = i === 0 ? (open[0] + close[0]) / 2 : (ha.open[i - 1] + ha.close[i - 1]) / 2;
    ha.open[i] = o;
    ha.close[i] = c;
    ha.high[i] = Math.max(high[i], o, c);
    ha.low[i] = Math.min(low[i], o, c);
  }
  return ha;
}
