// The chart: candles and volume on the price pane, overlay indicators on top
// of them, and every other indicator in a pane of its own below (one time
// axis and one crosshair for all panes, as lightweight-charts v5 draws them).
const { createChart, CandlestickSeries, HistogramSeries, LineSeries, LineStyle, CrosshairMode } = LightweightCharts;

const UP = '#26a69a';
const DOWN = '#ef5350';

// Lines of one indicator after its first: the signal of MACD, %D of the
// stochastic. The first output takes the colour the user sees in the list.
const SECONDARY = ['#ff9f43', '#a29bfe', '#55efc4'];

export class PriceChart {
  constructor(container) {
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: '#c9cfdd', attributionLogo: true, panes: { separatorColor: 'rgba(255,255,255,0.12)' } },
      grid: { vertLines: { color: 'rgba(255,255,255,0.04)' }, horzLines: { color: 'rgba(255,255,255,0.04)' } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderColor: 'rgba(255,255,255,0.12)' },
      timeScale: { borderColor: 'rgba(255,255,255,0.12)', timeVisible: true, secondsVisible: false },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume' });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    // One entry per drawn indicator: { key, pane, outputs: Map(name → series) }.
    this.drawn = [];
  }

  setBars(bars) {
    this.candles.setData(bars.time.map((time, i) => ({
      time, open: bars.open[i], high: bars.high[i], low: bars.low[i], close: bars.close[i],
    })));
    this.volume.setData(bars.time.map((time, i) => ({
      time, value: bars.volume[i] ?? 0,
      color: bars.close[i] >= bars.open[i] ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)',
    })));
  }

  // Redraws every indicator: `entries` are { result, spec, color }, where
  // `result` is one indicator of an /api/data response.
  setIndicators(time, entries) {
    for (const { outputs } of this.drawn) for (const series of outputs.values()) this.chart.removeSeries(series);
    this.drawn = [];
    let panes = 1;
    for (const { result, spec, color } of entries) {
      const ownPane = spec.outputs.some((o) => o.placement === 'pane') ? panes++ : 0;
      const outputs = new Map();
      spec.outputs.forEach((output, j) => {
        const pane = output.placement === 'pane' ? ownPane : 0;
        const series = this.addOutput(output, j === 0 ? color : SECONDARY[(j - 1) % SECONDARY.length], pane);
        series.setData(points(time, result.outputs[output.name], output.style));
        outputs.set(output.name, series);
      });
      this.drawn.push({ key: result.key, pane: ownPane, outputs });
    }
    const all = this.chart.panes();
    all[0]?.setStretchFactor(3);
    for (const pane of all.slice(1)) pane.setStretchFactor(1);
  }

  addOutput(output, color, pane) {
    const common = { lastValueVisible: false, priceLineVisible: false, title: '' };
    if (output.style === 'histogram') {
      return this.chart.addSeries(HistogramSeries, { ...common, color }, pane);
    }
    const band = output.style === 'band';
    return this.chart.addSeries(LineSeries, {
      ...common, color, lineWidth: band ? 1 : 2, lineStyle: band ? LineStyle.Dashed : LineStyle.Solid,
    }, pane);
  }

  fit() {
    this.chart.timeScale().fitContent();
  }
}

// Chart points from an output column; a null (warm-up) is a gap, and a
// histogram is coloured by sign, as MACD's is read.
function points(time, values, style) {
  return time.map((t, i) => {
    const value = values[i];
    if (value == null) return { time: t };
    if (style === 'histogram') return { time: t, value, color: value >= 0 ? 'rgba(38,166,154,0.7)' : 'rgba(239,83,80,0.7)' };
    return { time: t, value };
  });
}
