// @ts-check
// The chart: bars (candles, OHLC bars, a line or Heikin-Ashi candles) and
// volume on the price pane, overlay indicators on top of them, every other
// indicator in a pane of its own below, and below those a backtest run's
// curves (equity, drawdown), each in its pane. With compared symbols, their
// closes are lines on the price pane, and the price scale reads "% from
// anchor": every series there (the candles, the overlays, the compared
// lines) is rebased to its symbol's close at one shared bar, the first in
// view unless the user pinned one, so an overlay stays on its candles
// (lightweight-charts' own percentage mode rebases each series to its own
// first value). One time axis and one
// crosshair for all panes, as lightweight-charts v5 draws them; panes resize
// by dragging their separators. What is drawn over the bars (a run's trades)
// hears when the window of drawn bars moves and when the bars' series changes.
import {
  BarSeries, BaselineSeries, CandlestickSeries, CrosshairMode, HistogramSeries, LineSeries, LineStyle, LineType, createChart,
  createSeriesMarkers,
} from 'lightweight-charts';
import { heikinAshi } from './heikin-ashi.js';
import { barIndex } from './history.js';

/**
 * @import { IChartApi, IRange, ISeriesApi, ISeriesMarkersPluginApi, SeriesDataItemTypeMap, SeriesType, Time, UTCTimestamp, WhitespaceData } from 'lightweight-charts'
 * @import { Bars, ComparedSeries, IndicatorResult, OutputSpec, ParamSpec } from './api.js'
 * @import { Ohlc } from './heikin-ashi.js'
 */

/**
 * What the chart draws: bars and the values of each indicator, one per bar
 * (a `BarHistory`, or a SQL result shaped like one), and the closes of the
 * compared symbols on the same bars.
 * @typedef {{bars: Bars, indicators: IndicatorResult[], compare?: ComparedSeries[], length: number}} Drawable
 */

/**
 * What the chart needs of an indicator's spec: its outputs, and its
 * parameters (for the legend) when the catalog has it.
 * @typedef {{params?: ParamSpec[], outputs: OutputSpec[]}} ChartSpec
 */

/**
 * An indicator to draw; `steps`: its values hold for a while (a higher
 * timeframe's), so its lines are drawn as steps.
 * @typedef {{key: string, spec: ChartSpec, color: string, steps?: boolean}} ChartEntry
 */

/**
 * A compared symbol as drawn: its line and its colour.
 * @typedef {ComparedSeries & {color: string, line: ISeriesApi<'Line'>}} DrawnCompared
 */

/**
 * The bar every series of the price pane is rebased to (a history index)
 * and, at it, the main symbol's close and each compared symbol's.
 * @typedef {{index: number, main: number | null, compared: (number | null)[]}} Anchor
 */

/**
 * One drawn indicator: the pane it is in, a series and a colour per output.
 * @typedef {object} Drawn
 * @property {string} key
 * @property {number} pane
 * @property {ChartSpec} spec
 * @property {Map<string, ISeriesApi<'Line' | 'Histogram'>>} outputs
 * @property {Map<string, string>} colors
 */

/**
 * A line of values held beside the history's bars, one per bar (null: no
 * point there): a run's equity or drawdown. `area` fills down to zero.
 * @typedef {{name: string, color: string, values: (number | null)[], area?: boolean}} Curve
 */

/**
 * A pane of curves: `key` names it (the remembered pane size), `title` heads
 * its legend, `unit` says how its values read.
 * @typedef {{key: string, title: string, unit: 'money' | 'percent', curves: Curve[]}} CurvePane
 */

/** A drawn pane of curves: its pane index and one series per curve. @typedef {CurvePane & {pane: number, series: ISeriesApi<'Line' | 'Baseline'>[]}} DrawnCurves */

/**
 * What draws over the bars: told of each new series of bars (a new chart
 * type) and of each change of the window of drawn bars.
 * @typedef {{attach: (main: ISeriesApi<SeriesType>) => void, refresh: () => void}} Overlay
 */

/** @typedef {'candles' | 'ohlc' | 'line' | 'heikin-ashi'} ChartType */

/** A point of any series. @typedef {SeriesDataItemTypeMap[SeriesType]} Point */

// Bar times are Unix seconds, which lightweight-charts takes as UTC timestamps.
const utc = (/** @type {number} */ seconds) => /** @type {UTCTimestamp} */ (seconds);

/** @type {readonly {id: ChartType, label: string}[]} */
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

/** @typedef {{text: string, grid: string, border: string, line: string}} Theme */

/** @type {Record<string, Theme>} */
const THEMES = {
  dark: { text: '#c9cfdd', grid: 'rgba(255,255,255,0.04)', border: 'rgba(255,255,255,0.12)', line: '#6c8cff' },
  light: { text: '#2a3142', grid: 'rgba(20,30,60,0.06)', border: 'rgba(20,30,60,0.16)', line: '#3b5bdb' },
};

// The chart draws a window of the history, not all of it: lightweight-charts
// reprocesses every point of every series whenever data changes, which takes
// seconds at a million bars. The window follows the view, recentred on it
// when the view comes within EDGE_BARS of one of its ends. It holds a few
// views' worth of bars, at least MIN_WINDOW_BARS and at most WINDOW_BARS:
// a small window draws quickly (the first paint, every slide), and it grows
// as the view zooms out.
const WINDOW_BARS = 60_000;
export const MIN_WINDOW_BARS = 10_000;
// A replay steps by lightweight-charts' `update`, whose cost grows with the
// bars each series holds: its window is a few views, at least this many.
export const STEPPING_WINDOW_BARS = 1_000;
const VIEWS_PER_WINDOW = 4;
const EDGE_BARS = 300;
// A change at the end of the history longer than this is drawn anew.
const REDRAW_BARS = 500;
// The height of lightweight-charts' separator between panes (px).
const PANE_SEPARATOR = 1;
// Empty bar slots right of the latest bar when the view shows it.
const LATEST_MARGIN = 3;

// Height shares: the price pane keeps the most room however many oscillators
// join it.
const PRICE_STRETCH = 3;
const PANE_STRETCH = 1;

// Compared symbols' lines, one colour each.
export const COMPARED_COLORS = ['#ff6b81', '#48dbfb', '#feca57', '#1dd1a1', '#c8d6e5', '#ff9ff3', '#54a0ff', '#a55eea'];
const PRICE_FORMAT = { type: /** @type {const} */ ('price'), precision: 2, minMove: 0.01 };
const PERCENT_FORMAT = {
  type: /** @type {const} */ ('custom'), minMove: 0.01,
  formatter: (/** @type {number} */ v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`,
};

// An equity axis: whole units, grouped (`112,000`).
const money = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** @param {string} name */
const themeNamed = (name) => (Object.hasOwn(THEMES, name) ? THEMES[name] : THEMES.dark);

export class PriceChart {
  /**
   * @param {HTMLElement} container
   * @param {string} theme `dark` or `light`
   */
  constructor(container, theme) {
    this.container = container;
    /** @type {IChartApi} */
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, attributionLogo: true, panes: { enableResize: true } },
      crosshair: { mode: CrosshairMode.Normal },
      // Zoomed out, several bars share a pixel: lightweight-charts merges
      // them (conflation) rather than drawing each, so thousands stay cheap in view.
      timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.1, enableConflation: true },
    });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false,
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    /** @type {ChartType} */
    this.type = 'candles';
    this.theme = themeNamed(theme);
    /** @type {ISeriesMarkersPluginApi<Time> | null} the pinned anchor's marker, on the bars */
    this.anchorMarker = null;
    /** @type {ISeriesApi<SeriesType>} */
    this.main = this.addMain();
    /** @type {DrawnCompared[]} */
    this.compared = [];
    // The anchor's time when the user pinned it; else it follows the view.
    /** @type {number | null} */
    this.pinned = null;
    // In "% from anchor", where the price pane's series are rebased to.
    /** @type {Anchor | null} */
    this.anchor = null;
    let rebasing = false;
    // The anchor follows the first bar in view, at most once a frame.
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
      if (rebasing || !this.percent()) return;
      rebasing = true;
      requestAnimationFrame(() => {
        rebasing = false;
        const history = this.history;
        if (history && this.percent() && !this.sliding && this.anchorIndex() !== this.anchor?.index) this.setPriceData(history);
      });
    });
    // One entry per drawn indicator.
    /** @type {Drawn[]} */
    this.drawn = [];
    /** @type {Drawable | null} */
    this.history = null;
    // The bars as drawn (Heikin-Ashi candles or the history's bars), for the legend.
    /** @type {Ohlc | null} */
    this.shown = null;
    // The history indices drawn, [start, end).
    this.window = { start: 0, end: 0 };
    // The fewest bars the window holds (fewer while a replay steps).
    this.leastWindow = MIN_WINDOW_BARS;
    /**
     * The last point `redrawEnd` gave each series, to skip one that did not change.
     * @type {WeakMap<ISeriesApi<SeriesType>, Point>}
     */
    this.tails = new WeakMap();
    this.sliding = false;
    // The range last set, until the chart has applied it (see viewRange).
    /** @type {IRange<number> | null} */
    this.pendingRange = null;
    // The curve panes asked for, for the history they are held beside, and as drawn.
    /** @type {{history: Drawable | null, panes: CurvePane[], stretch: Record<string, number>}} */
    this.curveSpec = { history: null, panes: [], stretch: {} };
    /** @type {DrawnCurves[]} */
    this.curves = [];
    /** @type {Overlay[]} */
    this.overlays = [];
    this.setTheme(theme);
  }

  /**
   * Draws `overlay` over the bars from now on.
   * @param {Overlay} overlay
   */
  addOverlay(overlay) {
    this.overlays.push(overlay);
    overlay.attach(this.main);
    overlay.refresh();
  }

  /** @param {string} name */
  setTheme(name) {
    const theme = themeNamed(name);
    this.theme = theme;
    this.chart.applyOptions({
      layout: { textColor: theme.text, panes: { separatorColor: theme.border, separatorHoverColor: theme.border } },
      grid: { vertLines: { color: theme.grid }, horzLines: { color: theme.grid } },
      rightPriceScale: { borderColor: theme.border },
      timeScale: { borderColor: theme.border },
    });
    if (this.type === 'line') this.main.applyOptions({ color: theme.line });
  }

  /** @returns {ISeriesApi<SeriesType>} */
  addMain() {
    /** @type {ISeriesApi<SeriesType>} */
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
    series.applyOptions({ priceFormat: this.percent() ? PERCENT_FORMAT : PRICE_FORMAT });
    this.anchorMarker = createSeriesMarkers(series, []);
    return series;
  }

  /** @param {string} type one of CHART_TYPES' ids; anything else is ignored */
  setType(type) {
    const known = CHART_TYPES.find((t) => t.id === type);
    if (!known || known.id === this.type) return;
    this.chart.removeSeries(this.main);
    this.type = known.id;
    this.main = this.addMain();
    if (this.history) this.setPriceData(this.history);
    for (const overlay of this.overlays) {
      overlay.attach(this.main);
      overlay.refresh();
    }
  }

  /**
   * The bars as drawn, kept for the legend (Heikin-Ashi candles are derived
   * from the loaded bars), and the chart points of those in the window; a
   * bar missing a value is a gap.
   * @param {Drawable} history
   * @returns {Point[]}
   */
  mainPoints(history) {
    return this.inWindow(this.mainPoint(history));
  }

  /**
   * The chart point of the bars' series at a history index.
   * @param {Drawable} history
   * @returns {(i: number) => Point}
   */
  mainPoint(history) {
    const { time } = history.bars;
    const shown = this.type === 'heikin-ashi' ? heikinAshi(history.bars) : history.bars;
    this.shown = shown;
    const { open, high, low, close } = shown;
    const drawn = this.rebaser(this.anchor?.main);
    if (this.type === 'line') {
      return (i) => {
        const value = drawn(close[i]);
        return value == null ? { time: utc(time[i]) } : { time: utc(time[i]), value };
      };
    }
    return (i) => {
      const o = drawn(open[i]);
      const h = drawn(high[i]);
      const l = drawn(low[i]);
      const c = drawn(close[i]);
      return o == null || h == null || l == null || c == null
        ? { time: utc(time[i]) }
        : { time: utc(time[i]), open: o, high: h, low: l, close: c };
    };
  }

  // Whether the price pane reads "% from anchor": when symbols are compared.
  percent() {
    return (this.history?.compare?.length ?? 0) > 0;
  }

  /**
   * The anchor's history index: the pinned bar (the first loaded until older
   * bars reach it), else the first bar in view; null without bars.
   * @returns {number | null}
   */
  anchorIndex() {
    const history = this.history;
    if (!history || history.length === 0) return null;
    if (this.pinned !== null) return Math.max(0, barIndex(history.bars.time, this.pinned));
    return this.visibleIndices()?.from ?? this.window.start;
  }

  /**
   * Pins the anchor at the bar starting at `time`, or lets it follow the view (null).
   * @param {number | null} time
   */
  pinAnchor(time) {
    this.pinned = time;
    if (this.history) this.setPriceData(this.history);
  }

  /**
   * How a value of a symbol whose anchor close is `base` is drawn: as it is,
   * or in percent from the anchor.
   * @param {number | null | undefined} base
   * @returns {(value: number | null | undefined) => number | null}
   */
  rebaser(base) {
    if (!this.percent()) return (value) => value ?? null;
    return (value) => (value == null || base == null ? null : (value / base - 1) * 100);
  }

  /**
   * How an indicator's value in `pane` is drawn: rebased with the candles
   * in the price pane, as it is in its own.
   * @param {number} pane
   * @returns {(value: number | null | undefined) => number | null | undefined}
   */
  paneValue(pane) {
    return pane === 0 ? this.rebaser(this.anchor?.main) : (value) => value;
  }

  /**
   * A price of the main symbol as the price pane draws it (trades' levels).
   * @param {number} price
   */
  drawnPrice(price) {
    return this.rebaser(this.anchor?.main)(price);
  }

  /**
   * `point(i)` for every history index `i` in the window.
   * @template T
   * @param {(i: number) => T} point
   * @returns {T[]}
   */
  inWindow(point) {
    const { start, end } = this.window;
    const out = new Array(end - start);
    for (let i = start; i < end; i++) out[i - start] = point(i);
    return out;
  }

  /**
   * Draws a history afresh: `entries` for each of its indicators, in order;
   * `stretch` the remembered pane sizes (`price` and by key).
   * @param {Drawable} history
   * @param {ChartEntry[]} entries
   * @param {Record<string, number>} [stretch]
   */
  show(history, entries, stretch = {}) {
    this.history = history;
    this.window = { start: Math.max(0, history.length - this.windowSize()), end: history.length };
    this.removeCurves();
    for (const { outputs } of this.drawn) for (const series of outputs.values()) this.chart.removeSeries(series);
    for (const { line } of this.compared) this.chart.removeSeries(line);
    this.drawn = [];
    const percent = this.percent();
    this.main.applyOptions({ priceFormat: percent ? PERCENT_FORMAT : PRICE_FORMAT });
    this.compared = (history.compare ?? []).map((series, k) => {
      const color = COMPARED_COLORS[k % COMPARED_COLORS.length];
      const line = this.chart.addSeries(LineSeries, {
        color, lineWidth: 2, lastValueVisible: true, priceLineVisible: false, title: series.symbol.split(':').pop(), priceFormat: PERCENT_FORMAT,
      });
      return { ...series, color, line };
    });
    let panes = 1;
    for (const { key, spec, color, steps = false } of entries) {
      const ownPane = spec.outputs.some((o) => o.placement === 'pane') ? panes++ : 0;
      /** @type {Drawn['outputs']} */
      const outputs = new Map();
      /** @type {Map<string, string>} */
      const colors = new Map();
      let secondary = 0;
      for (const output of spec.outputs) {
        const first = outputs.size === 0;
        const tint = first || output.style === 'band' ? color : SECONDARY[secondary++ % SECONDARY.length];
        const pane = output.placement === 'pane' ? ownPane : 0;
        const series = this.addOutput(output, tint, pane, steps);
        if (percent && pane === 0) series.applyOptions({ priceFormat: PERCENT_FORMAT });
        outputs.set(output.name, series);
        colors.set(output.name, tint);
      }
      this.drawn.push({ key, pane: ownPane, spec, outputs, colors });
    }
    if (this.curveSpec.history === history) this.addCurves();
    else this.curveSpec = { history: null, panes: [], stretch: {} };
    this.setAllData(history);
    const all = this.chart.panes();
    all[0]?.setStretchFactor(stretch.price ?? PRICE_STRETCH);
    for (const { key, pane } of this.drawn) if (pane > 0) all[pane]?.setStretchFactor(stretch[key] ?? PANE_STRETCH);
    this.stretchCurves({ ...this.curveSpec.stretch, ...stretch });
  }

  /**
   * Draws `panes` of curves below the indicators, their values one per bar
   * of `history` (the history on the chart: the next history drawn drops
   * them); an empty list removes them. `stretch`: remembered pane sizes by key.
   * @param {Drawable} history
   * @param {CurvePane[]} panes
   * @param {Record<string, number>} [stretch]
   */
  setCurves(history, panes, stretch = {}) {
    this.curveSpec = { history, panes: panes.filter((p) => p.curves.length > 0), stretch };
    if (this.history !== history) return;
    this.removeCurves();
    this.addCurves();
    this.refreshCurves();
    this.stretchCurves(stretch);
  }

  // Sets the curves' points in the window anew, as after their values changed.
  refreshCurves() {
    this.tails = new WeakMap();
    const history = this.history;
    if (!history) return;
    for (const drawn of this.curves) {
      drawn.curves.forEach((curve, k) => {
        const values = curve.values;
        drawn.series[k].setData(this.inWindow((i) => {
          const value = values[i];
          return value == null ? { time: utc(history.bars.time[i]) } : { time: utc(history.bars.time[i]), value };
        }));
      });
    }
  }

  removeCurves() {
    for (const { series } of this.curves) for (const s of series) this.chart.removeSeries(s);
    this.curves = [];
  }

  // One pane per curve pane asked for, below every indicator's.
  addCurves() {
    let pane = 1 + this.drawn.reduce((most, d) => Math.max(most, d.pane), 0);
    for (const spec of this.curveSpec.panes) {
      const format = {
        type: /** @type {const} */ ('custom'), minMove: 0.01,
        formatter: spec.unit === 'percent' ? (/** @type {number} */ v) => `${v.toFixed(2)}%` : (/** @type {number} */ v) => money.format(v),
      };
      const series = spec.curves.map((curve) => {
        const common = { lastValueVisible: false, priceLineVisible: false, title: '', priceFormat: format };
        /** @type {ISeriesApi<'Line' | 'Baseline'>} */
        const added = curve.area
          ? this.chart.addSeries(BaselineSeries, {
            ...common, baseValue: { type: 'price', price: 0 }, lineWidth: 1,
            bottomLineColor: curve.color, bottomFillColor1: fade(curve.color, 0.05), bottomFillColor2: fade(curve.color, 0.4),
            topLineColor: curve.color, topFillColor1: 'transparent', topFillColor2: 'transparent',
          }, pane)
          : this.chart.addSeries(LineSeries, { ...common, color: curve.color, lineWidth: 2 }, pane);
        return added;
      });
      this.curves.push({ ...spec, pane, series });
      pane++;
    }
  }

  /** @param {Record<string, number>} stretch remembered sizes by pane key */
  stretchCurves(stretch) {
    const all = this.chart.panes();
    for (const { key, pane } of this.curves) all[pane]?.setStretchFactor(stretch[key] ?? PANE_STRETCH);
  }

  /**
   * The pane sizes as the user left them, to be remembered.
   * @returns {Record<string, number>}
   */
  stretchFactors() {
    const all = this.chart.panes();
    /** @type {Record<string, number>} */
    const factors = { price: all[0]?.getStretchFactor() ?? PRICE_STRETCH };
    for (const { key, pane } of this.drawn) if (pane > 0 && all[pane]) factors[key] = all[pane].getStretchFactor();
    for (const { key, pane } of this.curves) if (all[pane]) factors[key] = all[pane].getStretchFactor();
    return factors;
  }

  /**
   * After `added` older bars joined the front of the history: the window
   * keeps the same bars, then follows the view.
   * @param {number} added
   */
  extend(added) {
    this.window = { start: this.window.start + added, end: this.window.end + added };
    if (this.anchor) this.anchor.index += added;
    for (const overlay of this.overlays) overlay.refresh();
    this.follow();
  }

  // Slides the window when the view nears one of its ends. Returns whether
  // the view is at the first loaded bar, so that older ones should load.
  follow() {
    const range = this.viewRange();
    if (!range || !this.history || this.sliding) return false;
    const { start, end } = this.window;
    const nearStart = range.from < EDGE_BARS;
    const nearEnd = range.to > end - start - EDGE_BARS;
    if ((nearStart && start > 0) || (nearEnd && end < this.history.length)) {
      this.slideTo(start + (range.from + range.to) / 2);
      return false;
    }
    return nearStart && start === 0;
  }

  /**
   * How many bars the window should hold for a view of `inView` bars.
   * @param {number} [inView]
   */
  windowSize(inView = this.barsInView()) {
    return Math.min(WINDOW_BARS, Math.max(this.leastWindow, Math.ceil(inView * VIEWS_PER_WINDOW)));
  }

  barsInView() {
    const range = this.viewRange();
    return range ? range.to - range.from : 0;
  }

  /**
   * Recentres a window of `size` bars on history index `centre`, keeping the
   * view on the same bars.
   * @param {number} centre
   * @param {number} [size]
   */
  slideTo(centre, size = this.windowSize()) {
    const history = this.history;
    if (!history) return;
    const length = history.length;
    const start = Math.min(Math.max(Math.round(centre - size / 2), 0), Math.max(0, length - size));
    const end = Math.min(length, start + size);
    if (start === this.window.start && end === this.window.end) return;
    const range = this.viewRange();
    const shift = this.window.start - start;
    const anchor = this.anchorIndex();
    this.sliding = true;
    try {
      this.window = { start, end };
      this.setAllData(history, anchor);
      if (range) this.setViewRange({ from: range.from + shift, to: range.to + shift });
    } finally {
      this.sliding = false;
    }
  }

  /**
   * The logical range in view. lightweight-charts applies a range set just
   * after new data at its next frame and reports the old one until then, so
   * the range set last stands in for it meanwhile.
   * @returns {IRange<number> | null}
   */
  viewRange() {
    return this.pendingRange ?? this.chart.timeScale().getVisibleLogicalRange();
  }

  /** @param {IRange<number>} range */
  setViewRange(range) {
    this.chart.timeScale().setVisibleLogicalRange(range);
    if (!this.pendingRange) requestAnimationFrame(() => { this.pendingRange = null; });
    this.pendingRange = range;
  }

  /**
   * @param {Drawable} history the history drawn
   * @param {number | null} [anchor] the anchor's history index (the view's until the window moved)
   */
  setAllData(history, anchor = this.anchorIndex()) {
    // Emptied first: replacing a long series point by point with different
    // times costs lightweight-charts about twice as much as filling it anew.
    for (const s of this.allSeries()) s.setData([]);
    this.volume.setData(this.inWindow(volumePoint(history.bars)));
    this.setIndicatorData(history, (pane) => pane > 0);
    this.setPriceData(history, anchor);
    this.refreshCurves();
    for (const overlay of this.overlays) overlay.refresh();
  }

  /** Every series drawn: the bars, the volume, the indicators, the compared lines, the curves. */
  allSeries() {
    return [this.main, this.volume, ...this.drawn.flatMap((d) => [...d.outputs.values()]),
      ...this.compared.map((c) => c.line), ...this.curves.flatMap((c) => c.series)];
  }

  /**
   * Draws the history again after it changed at its end only, as a replay
   * steps: its first `keep` bars stay as drawn, the one drawn after them (a
   * forming bar) is replaced and the new ones appended, through
   * lightweight-charts' `update` rather than every point set anew. Anything
   * else draws it all again, ending at the history's end: a bar taken back
   * (`pop` counts a series' values, not its gaps, and a gap written over a
   * point keeps its time on the axis), a change before the window, a long
   * one, or one in "% from anchor" whose anchor moved (every point rebased).
   * @param {number} keep
   */
  redrawEnd(keep) {
    const history = this.history;
    if (!history) return;
    const { start, end } = this.window;
    const length = history.length;
    const grown = length - start > 2 * this.windowSize();
    const rebased = this.percent() && (this.anchor === null || this.anchorIndex() !== this.anchor.index);
    if (keep < start || end - keep > 1 || length < end || length - keep > REDRAW_BARS || grown || rebased) {
      // The window keeps its start while it can, so the view stays on its bars.
      const slid = keep < start || grown;
      this.window = { start: slid ? Math.max(0, length - this.windowSize()) : start, end: length };
      this.setAllData(history);
      return;
    }
    this.window = { start, end: length };
    const { bars, indicators } = history;
    /** @type {[ISeriesApi<SeriesType>, (i: number) => Point][]} */
    const pointers = [[this.main, this.mainPoint(history)], [this.volume, volumePoint(bars)]];
    this.drawn.forEach((drawn, k) => {
      const drawnValue = this.paneValue(drawn.pane);
      for (const output of drawn.spec.outputs) {
        const values = indicators[k].outputs[output.name] ?? [];
        const series = drawn.outputs.get(output.name);
        if (series) pointers.push([series, (i) => point(bars.time[i], drawnValue(values[i]), output.style)]);
      }
    });
    this.compared.forEach((compared, k) => {
      const drawnValue = this.rebaser(this.anchor?.compared[k]);
      pointers.push([compared.line, (i) => point(bars.time[i], drawnValue(compared.close[i]), 'line')]);
    });
    for (const drawn of this.curves) {
      drawn.curves.forEach((curve, k) => pointers.push([drawn.series[k], (i) => point(bars.time[i], curve.values[i], 'line')]));
    }
    // The point at `keep`, if drawn, has the same time: `update` replaces
    // it, unless it is the same (a forming bar's indicators, until the
    // server sends their values): each series changed repaints its pane.
    for (const [series, at] of pointers) {
      for (let i = keep; i < length; i++) {
        const next = at(i);
        if (i === end - 1 && samePoint(this.tails.get(series), next)) continue;
        series.update(next);
        if (i === length - 1) this.tails.set(series, next);
      }
    }
    for (const overlay of this.overlays) overlay.refresh();
  }

  /**
   * Sets the points of the price pane's series (the bars, the overlays and
   * the compared lines) in the window, rebased to the anchor in "% from anchor".
   * @param {Drawable} history
   * @param {number | null} [anchor] the anchor's history index
   */
  setPriceData(history, anchor = this.anchorIndex()) {
    this.tails = new WeakMap();
    const percent = this.percent();
    this.anchor = percent && anchor !== null
      ? { index: anchor, main: closeAt(history.bars.close, anchor), compared: this.compared.map((c) => closeAt(c.close, anchor)) }
      : null;
    this.main.setData(this.mainPoints(history));
    this.setIndicatorData(history, (pane) => pane === 0);
    const { time } = history.bars;
    this.compared.forEach((compared, k) => {
      const drawn = this.rebaser(this.anchor?.compared[k]);
      compared.line.setData(this.inWindow((i) => {
        const value = drawn(compared.close[i]);
        return value == null ? { time: utc(time[i]) } : { time: utc(time[i]), value };
      }));
    });
    const pinned = this.pinned !== null && this.anchor ? time[this.anchor.index] : undefined;
    const inWindow = pinned !== undefined && this.anchor && this.anchor.index >= this.window.start && this.anchor.index < this.window.end;
    this.anchorMarker?.setMarkers(inWindow && pinned !== undefined
      ? [{ time: utc(pinned), position: 'belowBar', shape: 'arrowUp', color: this.theme.line, text: 'anchor' }]
      : []);
  }

  /**
   * Sets the points of the indicators drawn in the panes `which` picks, an
   * overlay's rebased with its candles.
   * @param {Drawable} history
   * @param {(pane: number) => boolean} which
   */
  setIndicatorData(history, which) {
    const { bars, indicators } = history;
    this.drawn.forEach((drawn, k) => {
      if (!which(drawn.pane)) return;
      const drawnValue = this.paneValue(drawn.pane);
      for (const output of drawn.spec.outputs) {
        const values = indicators[k].outputs[output.name] ?? [];
        drawn.outputs.get(output.name)?.setData(this.inWindow((i) => point(bars.time[i], drawnValue(values[i]), output.style)));
      }
    });
  }

  /**
   * A series for one indicator output.
   * @param {OutputSpec} output
   * @param {string} color
   * @param {number} pane
   * @param {boolean} steps the line holds each value until the next (a higher timeframe's)
   * @returns {ISeriesApi<'Line' | 'Histogram'>}
   */
  addOutput(output, color, pane, steps) {
    const common = { lastValueVisible: false, priceLineVisible: false, title: '' };
    if (output.style === 'histogram') {
      return this.chart.addSeries(HistogramSeries, { ...common, color }, pane);
    }
    const band = output.style === 'band';
    return this.chart.addSeries(LineSeries, {
      ...common, color, lineWidth: band ? 1 : 2, lineStyle: band ? LineStyle.Dashed : LineStyle.Solid,
      lineType: steps ? LineType.WithSteps : LineType.Simple,
    }, pane);
  }

  /**
   * The top of each pane, in pixels from the top of the chart's container.
   * @returns {number[]}
   */
  paneTops() {
    // From the panes' heights and the 1 px separators between them, rather
    // than the elements' boxes, which would lay the page out at every step.
    let top = 0;
    return this.chart.panes().map((pane) => {
      const at = top;
      top += pane.getHeight() + PANE_SEPARATOR;
      return at;
    });
  }

  /**
   * History indices of the first and last bar in view.
   * @returns {{from: number, to: number} | null}
   */
  visibleIndices() {
    const range = this.viewRange();
    const { start, end } = this.window;
    if (!range || end <= start) return null;
    const last = end - start - 1;
    const from = Math.min(Math.max(Math.ceil(range.from), 0), last);
    const to = Math.min(Math.max(Math.floor(range.to), 0), last);
    return from <= to ? { from: start + from, to: start + to } : null;
  }

  /**
   * The history index of the bar at a logical position, as the crosshair reports it.
   * @param {number} logical
   */
  historyIndex(logical) {
    const { start, end } = this.window;
    return start + Math.min(Math.max(Math.round(logical), 0), end - start - 1);
  }

  // The latest bars at a comfortable spacing, however many are loaded.
  showLatest() {
    if (!this.history) return;
    if (this.window.end < this.history.length) this.slideTo(this.history.length);
    const length = this.window.end - this.window.start;
    const count = Math.min(Math.max(Math.round((this.container.clientWidth || 800) / 7), 30), length);
    this.setViewRange({ from: length - count, to: length + LATEST_MARGIN });
  }

  // Every loaded bar when they fit, else as many as the chart can draw
  // apart (its minimum bar spacing), ending at the last bar in view.
  fit() {
    const view = this.visibleIndices();
    if (!view || !this.history) return;
    const spacing = this.chart.options().timeScale.minBarSpacing;
    const most = Math.max(1, Math.floor(this.chart.timeScale().width() / spacing));
    const last = this.history.length <= most ? this.history.length - 1 : view.to;
    const first = Math.max(0, last - most + 1);
    this.slideTo((first + last) / 2, this.windowSize(last - first + 1));
    this.setViewRange({ from: first - this.window.start, to: last - this.window.start });
  }

  /**
   * Moves the view by a share of its width: negative is back in time.
   * @param {number} share
   */
  pan(share) {
    const range = this.viewRange();
    if (!range) return;
    const step = (range.to - range.from) * share;
    this.setViewRange({ from: range.from + step, to: range.to + step });
  }

  /**
   * Zooms around the latest bar in view: a factor below 1 shows fewer bars.
   * @param {number} factor
   */
  zoom(factor) {
    const range = this.viewRange();
    if (!range) return;
    const width = Math.max((range.to - range.from) * factor, 10);
    this.setViewRange({ from: range.to - width, to: range.to });
  }

  // The oldest loaded bars; the view reaching them loads older ones.
  toOldest() {
    const range = this.viewRange();
    if (!range) return;
    const width = range.to - range.from;
    if (this.window.start > 0) this.slideTo(0);
    this.setViewRange({ from: 0, to: width });
  }

  /**
   * Shows history indices `from` to `to` (a trade's span) with some room on
   * either side, the window slid to hold them.
   * @param {number} from
   * @param {number} to
   */
  showSpan(from, to) {
    if (!this.history) return;
    const pad = Math.max(Math.ceil((to - from + 1) * 0.5), 15);
    const [first, last] = [from - pad, to + pad];
    this.slideTo((first + last) / 2, this.windowSize(last - first + 1));
    this.setViewRange({ from: first - this.window.start, to: last - this.window.start });
  }

  // The latest bars, at the zoom in use.
  toLatest() {
    const range = this.viewRange();
    if (!range || !this.history) return;
    if (this.window.end < this.history.length) this.slideTo(this.history.length);
    const length = this.window.end - this.window.start;
    this.setViewRange({ from: length - (range.to - range.from) + LATEST_MARGIN, to: length + LATEST_MARGIN });
  }
}

/**
 * `#rrggbb` at `alpha` opacity (any other colour as it is).
 * @param {string} color
 * @param {number} alpha
 */
function fade(color, alpha) {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  const [r, g, b] = [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
}

/**
 * The close a symbol is rebased to at bar `i`: its own, or the last before
 * it when it has none there (another session's symbol), else its first after.
 * @param {readonly (number | null)[]} closes
 * @param {number} i
 * @returns {number | null}
 */
export function closeAt(closes, i) {
  for (let k = Math.min(i, closes.length - 1); k >= 0; k--) if (closes[k] != null) return closes[k];
  for (let k = i + 1; k < closes.length; k++) if (closes[k] != null) return closes[k];
  return null;
}

/**
 * Whether two chart points draw the same.
 * @param {Point | undefined} a
 * @param {Point} b
 */
function samePoint(a, b) {
  if (!a) return false;
  const [x, y] = [/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (a)), /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (b))];
  return ['time', 'value', 'open', 'high', 'low', 'close', 'color'].every((k) => x[k] === y[k]);
}

/**
 * The volume histogram's point at a history index, coloured as its bar.
 * @param {Bars} bars
 * @returns {(i: number) => Point}
 */
function volumePoint(bars) {
  return (i) => ({
    time: utc(bars.time[i]), value: bars.volume[i] ?? 0,
    color: rising(bars.open[i], bars.close[i]) ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)',
  });
}

/**
 * Whether a bar closed at or above its open (a missing value: not).
 * @param {number | null} open
 * @param {number | null} close
 */
function rising(open, close) {
  return open != null && close != null && close >= open;
}

/**
 * The chart point of an output value; a null (warm-up) is a gap, and a
 * histogram is coloured by sign, as MACD's is read.
 * @param {number} time Unix seconds
 * @param {number | null | undefined} value
 * @param {OutputSpec['style']} style
 * @returns {WhitespaceData | SeriesDataItemTypeMap['Histogram']}
 */
function point(time, value, style) {
  if (value == null) return { time: utc(time) };
  if (style === 'histogram') return { time: utc(time), value, color: value >= 0 ? 'rgba(38,166,154,0.7)' : 'rgba(239,83,80,0.7)' };
  return { time: utc(time), value };
}
