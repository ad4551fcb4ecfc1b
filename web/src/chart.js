// The chart: bars (candles, OHLC bars, a line or Heikin-Ashi candles) and
// volume on the price pane, overlay indicators on top of them, and every
// other indicator in a pane of its own below. One time axis and one crosshair
// for all panes, as lightweight-charts v5 draws them; panes resize by
// dragging their separators.
import { heikinAshi } from './heikin-ashi.js';

const {
  createChart, CandlestickSeries, BarSeries, HistogramSeries, LineSeries, LineStyle, CrosshairMode,
} = LightweightCharts;

export const CHART_TYPES = [
  { id: 'candles', label: 'Candles' },
  { id: 'ohlc', label: 'OHLC' },
  { id: 'line', label: 'Line' },
  { id: 'heikin-ashi', label: 'Heikin-Ashi' },
];

const UP = '#26a69a';
const DOWN = '#ef5350';

// Lines of one indicator after its first: the signal of MACD, %D of the
// stochastic. The first output takes the colour the user chose; bands share it.
const SECONDARY = ['#ff9f43', '#a29bfe', '#55efc4'];

const THEMES = {
  dark: { text: '#c9cfdd', grid: 'rgba(255,255,255,0.04)', border: 'rgba(255,255,255,0.12)', line: '#6c8cff' },
  light: { text: '#2a3142', grid: 'rgba(20,30,60,0.06)', border: 'rgba(20,30,60,0.16)', line: '#3b5bdb' },
};

// Height shares: the price pane keeps the most room however many oscillators
// join it.
const PRICE_STRETCH = 3;
const PANE_STRETCH = 1;

export class PriceChart {
  constructor(container, theme) {
    this.container = container;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, attributionLogo: true, panes: { enableResize: true } },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false,
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.type = 'candles';
    this.theme = THEMES[theme] ?? THEMES.dark;
    this.main = this.addMain();
    // One entry per drawn indicator: { key, pane, outputs: Map(name → series), colors: Map(name → colour) }.
    this.drawn = [];
    this.history = null;
    this.setTheme(theme);
  }

  setTheme(name) {
    const theme = THEMES[name] ?? THEMES.dark;
    this.theme = theme;
    this.chart.applyOptions({
      layout: { textColor: theme.text, panes: { separatorColor: theme.border, separatorHoverColor: theme.border } },
      grid: { vertLines: { color: theme.grid }, horzLines: { color: theme.grid } },
      rightPriceScale: { borderColor: theme.border },
      timeScale: { borderColor: theme.border },
    });
    if (this.type === 'line') this.main.applyOptions({ color: theme.line });
  }

  addMain() {
    const series = this.type === 'line'
      ? this.chart.addSeries(LineSeries, { color: this.theme.line, lineWidth: 2 })
      : this.type === 'ohlc'
        ? this.chart.addSeries(BarSeries, { upColor: UP, downColor: DOWN, thinBars: false })
        : this.chart.addSeries(CandlestickSeries, {
          upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
        });
    // Volume at the back, then the bars, then the indicators drawn over them.
    this.volume.setSeriesOrder(0);
    series.setSeriesOrder(1);
    return series;
  }

  setType(type) {
    if (!CHART_TYPES.some((t) => t.id === type) || type === this.type) return;
    this.chart.removeSeries(this.main);
    this.type = type;
    this.main = this.addMain();
    if (this.history) this.main.setData(this.mainPoints());
  }

  // The bars as drawn, kept for the legend: Heikin-Ashi candles are derived
  // from the loaded bars.
  mainPoints() {
    const { time } = this.history.bars;
    this.shown = this.type === 'heikin-ashi' ? heikinAshi(this.history.bars) : this.history.bars;
    const { open, high, low, close } = this.shown;
    if (this.type === 'line') return time.map((t, i) => ({ time: t, value: close[i] }));
    return time.map((t, i) => ({ time: t, open: open[i], high: high[i], low: low[i], close: close[i] }));
  }

  // Draws a history afresh: `entries` are { key, spec, color } for each of
  // its indicators, in order; `stretch` the remembered pane sizes by key.
  show(history, entries, stretch = {}) {
    this.history = history;
    for (const { outputs } of this.drawn) for (const series of outputs.values()) this.chart.removeSeries(series);
    this.drawn = [];
    let panes = 1;
    for (const { key, spec, color } of entries) {
      const ownPane = spec.outputs.some((o) => o.placement === 'pane') ? panes++ : 0;
      const outputs = new Map();
      const colors = new Map();
      let secondary = 0;
      for (const output of spec.outputs) {
        const first = outputs.size === 0;
        const tint = first || output.style === 'band' ? color : SECONDARY[secondary++ % SECONDARY.length];
        outputs.set(output.name, this.addOutput(output, tint, output.placement === 'pane' ? ownPane : 0));
        colors.set(output.name, tint);
      }
      this.drawn.push({ key, pane: ownPane, spec, outputs, colors });
    }
    this.setAllData();
    const all = this.chart.panes();
    all[0]?.setStretchFactor(stretch.price ?? PRICE_STRETCH);
    for (const { key, pane } of this.drawn) if (pane > 0) all[pane]?.setStretchFactor(stretch[key] ?? PANE_STRETCH);
  }

  // The pane sizes as the user left them, to be remembered.
  stretchFactors() {
    const all = this.chart.panes();
    const factors = { price: all[0]?.getStretchFactor() ?? PRICE_STRETCH };
    for (const { key, pane } of this.drawn) if (pane > 0 && all[pane]) factors[key] = all[pane].getStretchFactor();
    return factors;
  }

  // After older bars joined the history: the same series, longer. The view
  // stays where it was, anchored to the latest bar.
  extend() {
    this.setAllData();
  }

  setAllData() {
    const { bars, indicators } = this.history;
    this.main.setData(this.mainPoints());
    this.volume.setData(bars.time.map((time, i) => ({
      time, value: bars.volume[i] ?? 0,
      color: bars.close[i] >= bars.open[i] ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)',
    })));
    this.drawn.forEach((drawn, i) => {
      for (const output of drawn.spec.outputs) {
        drawn.outputs.get(output.name).setData(points(bars.time, indicators[i].outputs[output.name], output.style));
      }
    });
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

  // The top of each pane, in pixels from the top of the chart's container.
  paneTops() {
    const origin = this.container.getBoundingClientRect().top;
    return this.chart.panes().map((pane) => (pane.getHTMLElement()?.getBoundingClientRect().top ?? origin) - origin);
  }

  // Indices of the first and last bar in view.
  visibleIndices() {
    const range = this.chart.timeScale().getVisibleLogicalRange();
    const last = (this.history?.length ?? 0) - 1;
    if (!range || last < 0) return null;
    const from = Math.min(Math.max(Math.ceil(range.from), 0), last);
    const to = Math.min(Math.max(Math.floor(range.to), 0), last);
    return from <= to ? { from, to } : null;
  }

  fit() {
    this.chart.timeScale().fitContent();
  }

  // Moves the view by a share of its width: negative is back in time.
  pan(share) {
    const scale = this.chart.timeScale();
    const range = scale.getVisibleLogicalRange();
    if (!range) return;
    const step = (range.to - range.from) * share;
    scale.setVisibleLogicalRange({ from: range.from + step, to: range.to + step });
  }

  // Zooms around the latest bar in view: a factor below 1 shows fewer bars.
  zoom(factor) {
    const scale = this.chart.timeScale();
    const range = scale.getVisibleLogicalRange();
    if (!range) return;
    const width = Math.max((range.to - range.from) * factor, 10);
    scale.setVisibleLogicalRange({ from: range.to - width, to: range.to });
  }

  toOldest() {
    const scale = this.chart.timeScale();
    const range = scale.getVisibleLogicalRange();
    if (range) scale.setVisibleLogicalRange({ from: 0, to: range.to - range.from });
  }

  toLatest() {
    this.chart.timeScale().scrollToRealTime();
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
