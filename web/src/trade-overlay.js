// @ts-check
// A run's trades drawn over the bars with lightweight-charts' own extension
// points: entry and exit markers through `createSeriesMarkers`, and the lines
// from entry to exit and the stop-loss and take-profit levels through a series
// primitive that draws them on the price pane's canvas. Only the trades
// within the window of drawn bars are handed to the chart, anew whenever the
// window moves, so ten thousand trades cost what the few hundred in it do.
// Also the tooltip of the trades under the crosshair.
import { createSeriesMarkers } from 'lightweight-charts';
import { tradeMarkers, tradeSegments, tradeSummary, tradesAt, tradesInRange } from './trades.js';

/**
 * @import { IChartApiBase, IPrimitivePaneRenderer, IPrimitivePaneView, ISeriesApi, ISeriesMarkersPluginApi,
 *   ISeriesPrimitive, Logical, SeriesAttachedParameter, SeriesMarker, SeriesType, Time } from 'lightweight-charts'
 * @import { Drawable, PriceChart } from './chart.js'
 * @import { Trade } from './runs.js'
 * @import { Segment, TradeStyle } from './trades.js'
 */

/** The canvas a primitive draws on (fancy-canvas', as lightweight-charts hands it). @typedef {Parameters<IPrimitivePaneRenderer['draw']>[0]} Target */

/**
 * One run's trades on the chart: `key` prefixes its markers' ids.
 * @typedef {{key: string, name: string, trades: Trade[], style: TradeStyle}} TradeLayer
 */

/** A trade with the layer it belongs to. @typedef {{layer: TradeLayer, trade: Trade}} LayerTrade */

/** The lines and levels of the trades in the window, drawn on the price pane. */
class SegmentsPrimitive {
  /** @param {(price: number) => number | null} drawnPrice a price as the pane draws it (in percent from the anchor, when symbols are compared) */
  constructor(drawnPrice) {
    this.drawnPrice = drawnPrice;
    /** @type {Segment[]} */
    this.segments = [];
    /** @type {string | null} `layer:trade` of the trade picked in the list */
    this.selected = null;
    /** @type {SeriesAttachedParameter<Time, SeriesType> | null} */
    this.params = null;
    /** @type {IPrimitivePaneRenderer} */
    const lines = { draw: (target) => this.draw(target) };
    /** @type {IPrimitivePaneRenderer} */
    const shade = { draw: (target) => this.drawSelection(target) };
    // The picked trade's span behind the bars, the lines over them.
    /** @type {readonly IPrimitivePaneView[]} */
    this.views = [{ zOrder: () => 'bottom', renderer: () => shade }, { zOrder: () => 'normal', renderer: () => lines }];
  }

  /** @param {SeriesAttachedParameter<Time, SeriesType>} params */
  attached(params) {
    this.params = params;
  }

  detached() {
    this.params = null;
  }

  paneViews() {
    return this.views;
  }

  /**
   * @param {Segment[]} segments
   * @param {string | null} selected
   */
  set(segments, selected) {
    this.segments = segments;
    this.selected = selected;
    this.params?.requestUpdate();
  }

  /**
   * The pixel ends of a segment, or null when it is off the pane.
   * @param {Segment} s
   * @param {IChartApiBase<Time>} chart
   * @param {ISeriesApi<SeriesType>} series
   * @param {number} width the pane's width in CSS pixels
   */
  ends(s, chart, series, width) {
    const scale = chart.timeScale();
    const x1 = scale.logicalToCoordinate(/** @type {Logical} */ (s.from));
    const x2 = scale.logicalToCoordinate(/** @type {Logical} */ (s.to));
    if (x1 === null || x2 === null || Math.max(x1, x2) < 0 || Math.min(x1, x2) > width) return null;
    const [from, to] = [this.drawnPrice(s.fromPrice), this.drawnPrice(s.toPrice)];
    if (from === null || to === null) return null;
    const y1 = series.priceToCoordinate(from);
    const y2 = series.priceToCoordinate(to);
    return y1 === null || y2 === null ? null : { x1, x2, y1, y2 };
  }

  /** @param {Target} target */
  draw(target) {
    const params = this.params;
    if (!params || !this.segments.length) return;
    const { chart, series } = params;
    target.useBitmapCoordinateSpace(({ context, horizontalPixelRatio: h, verticalPixelRatio: v, mediaSize }) => {
      context.save();
      for (const s of this.segments) {
        const at = this.ends(s, chart, series, mediaSize.width);
        if (!at) continue;
        const picked = s.id === this.selected;
        context.strokeStyle = s.color;
        context.lineWidth = Math.max(1, Math.round((picked ? 2.5 : s.kind === 'trade' ? 1.5 : 1.25) * h));
        context.setLineDash(s.dash.map((d) => d * h));
        context.globalAlpha = s.kind === 'trade' || picked ? 1 : 0.75;
        context.beginPath();
        context.moveTo(at.x1 * h, at.y1 * v);
        context.lineTo(at.x2 * h, at.y2 * v);
        context.stroke();
      }
      context.restore();
    });
  }

  // The span of the trade picked in the list, shaded behind the bars.
  /** @param {Target} target */
  drawSelection(target) {
    const params = this.params;
    const picked = this.selected === null ? undefined : this.segments.find((s) => s.id === this.selected && s.kind === 'trade');
    if (!params || !picked) return;
    const scale = params.chart.timeScale();
    // Whole bars only: lightweight-charts places integral logical indices.
    const at = (/** @type {number} */ i) => scale.logicalToCoordinate(/** @type {Logical} */ (i));
    const [a, b, next] = [at(picked.from), at(picked.to), at(picked.from + 1)];
    if (a === null || b === null || next === null) return;
    const half = Math.abs(next - a) / 2;
    const [x1, x2] = [a - half, b + half];
    target.useBitmapCoordinateSpace(({ context, horizontalPixelRatio: h, bitmapSize }) => {
      context.fillStyle = 'rgba(108, 140, 255, 0.16)';
      context.fillRect(Math.round(x1 * h), 0, Math.max(1, Math.round((x2 - x1) * h)), bitmapSize.height);
    });
  }
}

export class TradeOverlay {
  /** @param {PriceChart} chart */
  constructor(chart) {
    this.chart = chart;
    // The layers, for the history whose bars their trades are placed on.
    /** @type {Drawable | null} */
    this.history = null;
    /** @type {TradeLayer[]} */
    this.layers = [];
    /** @type {ISeriesMarkersPluginApi<Time> | null} */
    this.markers = null;
    /** @type {ISeriesPrimitive<Time>} */
    this.primitive = new SegmentsPrimitive((price) => chart.drawnPrice(price));
    this.segments = /** @type {SegmentsPrimitive} */ (this.primitive);
    // Per layer, its trades within the drawn window (what the tooltip looks in).
    /** @type {Trade[][]} */
    this.inWindow = [];
    /** @type {string | null} */
    this.selected = null;
    // What was last handed to the chart, so that a refresh with nothing new costs nothing.
    this.drawnKey = '';
  }

  /**
   * Draws on `main`, the series of bars (a new one with each chart type).
   * @param {ISeriesApi<SeriesType>} main
   */
  attach(main) {
    this.markers = createSeriesMarkers(main, []);
    main.attachPrimitive(this.primitive);
    this.drawnKey = '';
  }

  /**
   * The trades to draw, placed on the bars of `history`; none on any other.
   * @param {Drawable | null} history
   * @param {TradeLayer[]} layers
   */
  setLayers(history, layers) {
    this.history = history;
    this.layers = layers;
    this.drawnKey = '';
    this.refresh();
  }

  /**
   * Marks the trade `id` of layer `key` (its line thicker, its span shaded); null: none.
   * @param {string | null} key
   * @param {number | null} [id]
   */
  select(key, id = null) {
    this.selected = key === null || id === null ? null : `${key}:${id}`;
    this.drawnKey = '';
    this.refresh();
  }

  // Hands the chart the markers and lines of the trades within the drawn window.
  refresh() {
    if (!this.markers) return;
    const { history, window } = this.chart;
    const live = history !== null && history === this.history && window.end > window.start;
    const key = live ? `${window.start}:${window.end}:${history.length}:${this.selected}` : '';
    if (key === this.drawnKey && key !== '') return;
    this.drawnKey = key;
    if (!live) {
      this.inWindow = [];
      this.markers.setMarkers([]);
      this.segments.set([], null);
      return;
    }
    const { time, close } = history.bars;
    const [first, last] = [time[window.start], time[window.end - 1]];
    const lastClose = close[history.length - 1] ?? null;
    /** @type {SeriesMarker<Time>[]} */
    const markers = [];
    /** @type {Segment[]} */
    const segments = [];
    this.inWindow = this.layers.map((layer) => {
      const trades = tradesInRange(layer.trades, first, last);
      markers.push(...tradeMarkers(trades, first, last, layer.style, layer.key));
      segments.push(...tradeSegments(trades, time, window.start, lastClose, layer.style, layer.key));
      return trades;
    });
    markers.sort((a, b) => /** @type {number} */ (a.time) - /** @type {number} */ (b.time));
    this.markers.setMarkers(markers);
    this.segments.set(segments, this.selected);
  }

  /** The markers handed to the chart (for tests). */
  shownMarkers() {
    return this.markers?.markers() ?? [];
  }

  /**
   * The trades the crosshair on bar `time` is about, the first run's first.
   * @param {number} time
   * @returns {LayerTrade[]}
   */
  tradesAt(time) {
    return this.layers.flatMap((layer, k) => tradesAt(this.inWindow[k] ?? [], time).slice(0, 3).map((trade) => ({ layer, trade })));
  }
}

/**
 * Fills the tooltip with `items` and puts it beside the crosshair at (`x`,
 * `y`) within `bounds` (the stage's size); no items hide it. The same
 * trades as last time only move it: the crosshair moves every frame of a
 * drag, and rebuilding and measuring the tooltip each time costs the frame.
 * @param {HTMLElement} tip
 * @param {LayerTrade[]} items
 * @param {number} x
 * @param {number} y
 * @param {{width: number, height: number}} bounds
 * @param {boolean} named whether to name each trade's run (two runs on the chart)
 */
export function showTradeTip(tip, items, x, y, bounds, named) {
  if (!items.length) {
    tip.hidden = true;
    return;
  }
  const key = `${named}|${items.map(({ layer, trade }) => `${layer.key}:${trade.id}`).join(',')}`;
  if (tip.hidden || tip.dataset.key !== key) {
    tip.dataset.key = key;
    tip.replaceChildren(...items.map(({ layer, trade }) => tipBlock(layer, trade, named)));
    tip.hidden = false;
    tip.dataset.width = String(tip.offsetWidth);
    tip.dataset.height = String(tip.offsetHeight);
  }
  const [w, h] = [Number(tip.dataset.width), Number(tip.dataset.height)];
  const left = x + 18 + w > bounds.width ? Math.max(4, x - 18 - w) : x + 18;
  const top = Math.min(Math.max(4, y + 18), Math.max(4, bounds.height - h - 4));
  tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
}

/**
 * One trade's part of the tooltip.
 * @param {TradeLayer} layer
 * @param {Trade} trade
 * @param {boolean} named
 */
function tipBlock(layer, trade, named) {
  const { title, tone, rows } = tradeSummary(trade);
  const block = document.createElement('div');
  block.className = 'tip-trade';
  block.dataset.run = layer.key;
  block.dataset.trade = String(trade.id);
  const head = document.createElement('div');
  head.className = `tip-title ${tone}`;
  head.textContent = named ? `${layer.name} · ${title}` : title;
  head.style.borderColor = trade.side === 'long' ? layer.style.long : layer.style.short;
  const list = document.createElement('dl');
  for (const [label, text] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = text;
    if (label === 'PnL') dd.className = tone;
    list.append(dt, dd);
  }
  block.append(head, list);
  return block;
}
