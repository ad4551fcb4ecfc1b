// @ts-check
// The backtest runs on the chart: the run pickers, the trades over the bars,
// the equity and drawdown panes, the run panel, going from trade to trade,
// and the trades' export.
import { RunCurve } from './equity.js';
import { download, tradesCsvText } from './export.js';
import { BarHistory, barIndex } from './history.js';
import { remember } from './layout.js';
import { el, elementOf, track } from './page.js';
import { compareCandidates, runChoices, runSymbol } from './runs.js';
import { showTradeTip } from './trade-overlay.js';
import { tradesAsOf } from './replay.js';
import { TRADE_STYLES, stepTrade, tradesInRange } from './trades.js';
import { onRun } from './view.js';

/**
 * @import { CurvePane, PriceChart } from './chart.js'
 * @import { ChartController } from './chart-controller.js'
 * @import { Layout } from './layout.js'
 * @import { Errors } from './page.js'
 * @import { ReplayFrame } from './replay.js'
 * @import { RunData } from './run-data.js'
 * @import { RunPanel } from './run-panel.js'
 * @import { SymbolPicker } from './symbols.js'
 * @import { RunDetail, RunSummary, Trade } from './runs.js'
 * @import { TradeLayer, TradeOverlay } from './trade-overlay.js'
 * @import { View } from './view.js'
 */

/**
 * The runs on the chart, for the history their trades and curves are placed
 * on: one layer of trades and one curve per run, the first run's first.
 * @typedef {object} RunView
 * @property {BarHistory} history
 * @property {string[]} ids
 * @property {RunDetail[]} details
 * @property {TradeLayer[]} layers
 * @property {RunCurve[]} curves
 */

/** @typedef {{equity: boolean, drawdown: boolean}} RunPanes */

/**
 * The equity pane (every run's curve) and the drawdown pane, as shown.
 * @param {string[]} ids
 * @param {{equity: (number | null)[], drawdown: (number | null)[]}[]} curves one per run
 * @param {RunPanes} shown
 * @returns {CurvePane[]}
 */
export function curvePanes(ids, curves, shown) {
  /** @type {CurvePane[]} */
  const panes = [];
  if (shown.equity) {
    panes.push({ key: 'equity', title: 'Equity', unit: 'money',
      curves: ids.map((id, k) => ({ name: id, color: TRADE_STYLES[k].curve, values: curves[k].equity })) });
  }
  if (shown.drawdown) {
    panes.push({ key: 'drawdown', title: 'Drawdown', unit: 'percent',
      curves: ids.map((id, k) => ({ name: id, color: k === 0 ? '#ef5350' : TRADE_STYLES[k].curve, values: curves[k].drawdown, area: k === 0 })) });
  }
  return panes;
}

/**
 * The run a link (or the remembered layout) names and the symbol it opens
 * on, when it is in the runs folder and can be read.
 * @param {RunSummary[]} runs
 * @param {string | undefined} id
 * @param {string | null} symbol the symbol the link names, if known
 * @returns {{run: RunSummary, symbol: string} | undefined}
 */
export function linkedRun(runs, id, symbol) {
  const run = runs.find((r) => r.run === id);
  const opens = run && !run.error ? runSymbol(run, symbol) : undefined;
  return run && opens ? { run, symbol: opens } : undefined;
}

export class RunController {
  /**
   * @param {object} parts
   * @param {View} parts.view
   * @param {() => RunSummary[]} parts.runList the runs folder now, as /api/runs lists it
   * @param {PriceChart} parts.chart
   * @param {ChartController} parts.charts
   * @param {TradeOverlay} parts.overlay
   * @param {RunPanel} parts.panel
   * @param {RunData} parts.data
   * @param {Layout} parts.memory
   * @param {Errors} parts.errors
   * @param {SymbolPicker} parts.picker
   * @param {() => void} [parts.afterLoad] called once the runs are drawn
   */
  constructor({ view, runList, chart, charts, overlay, panel, data, memory, errors, picker, afterLoad = () => {} }) {
    this.afterLoad = afterLoad;
    this.view = view;
    this.runList = runList;
    this.chart = chart;
    this.charts = charts;
    this.overlay = overlay;
    this.panel = panel;
    this.data = data;
    this.memory = memory;
    this.errors = errors;
    this.picker = picker;
    /** The runs on the chart, once their trades are drawn. @type {RunView | null} */
    this.shown = null;
    /** The trade gone to last. @type {{key: string, run: string, id: number} | null} */
    this.picked = null;
    /**
     * The runs as they stood at a replay's cursor, on its frame: the curves
     * cut with it, and which trades were entered and exited by then.
     * @type {{frame: ReplayFrame, curves: {equity: (number | null)[], drawdown: (number | null)[]}[], entered: string, layers: TradeLayer[]} | null}
     */
    this.replayed = null;
    // Each ask for the statistics as of a cursor outdates the one before.
    this.statsAsked = 0;
    // Each load of the runs' data outdates the one before.
    this.loads = 0;
    panel.setPanes(this.panes());

    chart.chart.subscribeCrosshairMove(({ time, logical, point, paneIndex }) => {
      // The trades at (or across) the bar under the crosshair, on the price pane.
      const tip = el('trade-tip');
      const history = charts.shown;
      const view = this.shown;
      if (time === undefined || logical === undefined || !point || paneIndex !== 0 || !view || view.history !== history || !history) {
        tip.hidden = true;
        return;
      }
      const box = el('chart');
      showTradeTip(tip, overlay.tradesAt(history.bars.time[chart.historyIndex(logical)]), point.x, point.y,
        { width: box.clientWidth, height: box.clientHeight }, view.layers.length > 1);
    });
    el('chart').addEventListener('pointerleave', () => { el('trade-tip').hidden = true; });
    elementOf('run-select', HTMLSelectElement).addEventListener('change', (e) => {
      if (e.target instanceof HTMLSelectElement) this.chooseRun(e.target.value);
    });
    elementOf('vs-select', HTMLSelectElement).addEventListener('change', (e) => {
      if (e.target instanceof HTMLSelectElement) this.chooseVs(e.target.value);
    });
    el('tab-indicators').addEventListener('click', () => this.showSide('indicators'));
    el('tab-run').addEventListener('click', () => this.showSide('run'));
  }

  /** @returns {RunPanes} which run panes are shown */
  panes() {
    return { equity: this.memory.runPanes?.equity ?? true, drawdown: this.memory.runPanes?.drawdown ?? true };
  }

  /** @param {RunPanes} shown */
  setPanes(shown) {
    this.memory.runPanes = shown;
    remember({ runPanes: shown });
    this.panel.setPanes(shown);
    this.drawCurves();
  }

  /** @param {'equity' | 'drawdown'} pane */
  togglePane(pane) {
    if (!this.view.run) return;
    const shown = this.panes();
    this.setPanes({ ...shown, [pane]: !shown[pane] });
  }

  // The run picker lists every run (a broken one disabled, with why); the
  // vs picker the other runs of the symbol on the chart.
  renderPickers() {
    const { view } = this;
    const runs = this.runList();
    const select = elementOf('run-select', HTMLSelectElement);
    const none = Object.assign(document.createElement('option'), { value: '', textContent: runs.length ? 'No run' : 'No runs' });
    select.replaceChildren(none, ...runChoices(runs).map(({ value, label, disabled, title }) =>
      Object.assign(document.createElement('option'), { value, textContent: label, disabled, title })));
    select.value = view.run ?? '';
    select.disabled = runs.length === 0;
    const vs = elementOf('vs-select', HTMLSelectElement);
    const others = view.run && view.symbol ? compareCandidates(runs, view.run, view.symbol) : [];
    vs.replaceChildren(Object.assign(document.createElement('option'), { value: '', textContent: 'vs…' }),
      ...others.map((r) => Object.assign(document.createElement('option'), { value: r.run, textContent: `vs ${r.name}`, title: r.run })));
    vs.value = view.vs ?? '';
    vs.hidden = others.length === 0;
    const tabs = el('side').querySelector('.side-tabs');
    if (tabs instanceof HTMLElement) tabs.hidden = !view.run;
    if (!view.run) this.showSide('indicators');
  }

  /**
   * Shows the indicators or the run panel beside the chart.
   * @param {'indicators' | 'run'} which
   */
  showSide(which) {
    el('indicators').hidden = which !== 'indicators';
    el('run').hidden = which !== 'run';
    el('tab-indicators').setAttribute('aria-selected', String(which === 'indicators'));
    el('tab-run').setAttribute('aria-selected', String(which === 'run'));
  }

  /**
   * Puts run `id` on the chart (empty: none): its symbol, the one on the
   * chart if it trades it, else its first, at the timeframe on the chart
   * when the symbol has it, else the symbol's finest.
   * @param {string} id
   */
  async chooseRun(id) {
    this.errors.hide('run');
    const before = this.view.symbol;
    Object.assign(this.view, onRun(this.view, this.runList(), id));
    this.renderPickers();
    if (this.view.run) this.showSide('run');
    if (this.view.symbol !== before && this.view.symbol !== null) {
      this.picker.setCurrent(this.view.symbol);
      await this.charts.openSymbol();
      return;
    }
    this.charts.saveLayout();
    await this.load();
  }

  /** @param {string} id a run of the symbol on the chart, or empty for none */
  async chooseVs(id) {
    this.view.vs = id && id !== this.view.run ? id : null;
    this.renderPickers();
    this.charts.saveLayout();
    await this.load();
  }

  /**
   * Asks for the runs' trades of a chart while its bars are on their way.
   * @param {string} symbol
   * @param {string} timeframe
   */
  prefetch(symbol, timeframe) {
    for (const id of [this.view.run, this.view.vs]) if (id) this.data.trades(id, symbol, timeframe).catch(() => {});
  }

  /**
   * Draws the runs on the chart over its bars: their trades (placed by the
   * server on the candles of the chart's timeframe), their equity and
   * drawdown for the bars loaded, their statistics and the list of trades;
   * then tells `afterLoad` (a replay cuts them at its cursor).
   */
  async load() {
    await this.loadRuns();
    this.afterLoad();
  }

  async loadRuns() {
    const load = ++this.loads;
    const history = this.charts.shown;
    const ids = /** @type {string[]} */ ([this.view.run, this.view.vs].filter(Boolean));
    if (!ids.length || !(history instanceof BarHistory)) {
      this.drop();
      this.panel.setLayers([]);
      this.panel.setCard([]);
      return;
    }
    const { symbol, timeframe } = history.request;
    try {
      const [details, trades] = await Promise.all([
        Promise.all(ids.map((id) => track(this.data.detail(id)))),
        Promise.all(ids.map((id) => track(this.data.trades(id, symbol, timeframe)))),
      ]);
      if (load !== this.loads || history !== this.charts.shown) return;
      this.replayed = null;
      const layers = ids.map((id, k) => ({ key: k === 0 ? 'run' : 'compare', name: id, trades: trades[k], style: TRADE_STYLES[k] }));
      const view = { history, ids, details, layers, curves: ids.map(() => new RunCurve(history.length)) };
      this.shown = view;
      // The trade gone to stays picked while its run stays in its place.
      const { picked } = this;
      if (picked && !layers.some((l) => l.key === picked.key && l.name === picked.run)) {
        this.picked = null;
        delete el('chart').dataset.picked;
      }
      this.overlay.setLayers(history, layers);
      this.overlay.select(this.picked?.key ?? null, this.picked?.id);
      this.panel.setLayers(layers);
      this.panel.pick(this.picked?.key ?? null, this.picked?.id ?? null);
      this.panel.setCard(details.map((detail, k) => ({ detail, color: TRADE_STYLES[k].curve })));
      this.drawCurves();
      el('chart').dataset.run = `${ids.join(',')}|${symbol}|${timeframe}`;
      await this.fillEquity(view, 0, history.length - 1);
    } catch (error) {
      if (load === this.loads) this.errors.show(error);
    }
  }

  /**
   * Older bars joined the history on the chart: the curves make room and
   * are filled there.
   * @param {BarHistory} history
   * @param {number} added
   */
  paged(history, added) {
    const view = this.shown?.history === history ? this.shown : null;
    if (!view) return;
    for (const curve of view.curves) curve.prepend(added);
    this.fillEquity(view, 0, added - 1);
  }

  /**
   * Newer bars joined the history on the chart from index `from` on (live
   * bars): the curves grow with it and are filled there.
   * @param {BarHistory} history
   * @param {number} from
   */
  grown(history, from) {
    const view = this.shown?.history === history ? this.shown : null;
    if (!view) return;
    for (const curve of view.curves) curve.grow(history.length);
    this.fillEquity(view, from, history.length - 1);
  }

  /**
   * Fills the runs' curves for history bars `from` to `to` (their stretch
   * as the API samples it on the chart's timeframe), then redraws them.
   * @param {RunView} view
   * @param {number} from
   * @param {number} to
   */
  async fillEquity(view, from, to) {
    const { history } = view;
    const { time } = history.bars;
    const [start, end] = [time[from], time[to]];
    try {
      const answers = await Promise.all(view.ids.map((id) => track(this.data.equity(id, history.request.timeframe, start, end))));
      if (view !== this.shown) return;
      answers.forEach((answer, k) => view.curves[k].fill(history.bars.time, answer.equity));
      this.chart.refreshCurves();
      this.charts.updateLegends();
      el('chart').dataset.equity = `${el('chart').dataset.run}|${history.length}`;
    } catch (error) {
      if (view === this.shown) this.errors.show(error);
    }
  }

  drawCurves() {
    const view = this.shown;
    if (!view || view.history !== this.charts.shown) return;
    const { replayed } = this;
    if (replayed) this.chart.setCurves(replayed.frame, curvePanes(view.ids, replayed.curves, this.panes()), this.memory.panes ?? {});
    else this.chart.setCurves(view.history, curvePanes(view.ids, view.curves, this.panes()), this.memory.panes ?? {});
    this.charts.updateLegends();
  }

  /**
   * A replay draws `frame`: the runs' curves follow it, cut at its cursor.
   * @param {ReplayFrame} frame
   */
  replayOn(frame) {
    const view = this.shown;
    if (!view || view.history !== frame.full) {
      this.replayed = null;
      return;
    }
    const curves = view.curves.map((c) => ({ equity: frame.follow(c.equity), drawdown: frame.follow(c.drawdown) }));
    this.replayed = { frame, curves, entered: '', layers: [] };
    this.drawCurves();
  }

  /**
   * The runs as they stood at `cursor`: the trades entered by then, those
   * exiting later open and marked at the frame's last close, in the markers,
   * the list and the tooltips.
   * @param {ReplayFrame} frame
   * @param {number} cursor
   */
  showAsOf(frame, cursor) {
    const view = this.shown;
    const replayed = this.replayed;
    if (!view || replayed?.frame !== frame) return;
    const last = frame.length - 1;
    const close = frame.bars.close[last];
    const mark = last >= 0 && close != null ? { price: close, bar: frame.bars.time[last] } : null;
    const layers = view.layers.map((layer) => ({ ...layer, trades: tradesAsOf(layer.trades, cursor, mark) }));
    const entered = layers.map((l) => `${l.trades.length}/${l.trades.filter((t) => t.exit_time !== null).length}`).join(',');
    replayed.layers = layers;
    if (entered !== replayed.entered) {
      replayed.entered = entered;
      this.overlay.setLayers(frame, layers);
      this.overlay.select(this.picked?.key ?? null, this.picked?.id);
      this.panel.setLayers(layers);
      this.panel.pick(this.picked?.key ?? null, this.picked?.id ?? null);
    }
    el('chart').dataset.replayTrades = entered;
  }

  /**
   * The statistics card as of `cursor`, from the server (the run's
   * statistics over the trades closed by then), and the open trades' PnL in
   * the list at the price they are marked at now.
   * @param {number} cursor
   */
  async statsAsOf(cursor) {
    const view = this.shown;
    const replayed = this.replayed;
    if (!view || !replayed) return;
    this.panel.setLayers(replayed.layers);
    const asked = ++this.statsAsked;
    try {
      const details = await Promise.all(view.ids.map((id) => track(this.data.detailAsOf(id, cursor))));
      if (asked !== this.statsAsked || this.replayed !== replayed) return;
      this.panel.setCard(details.map((detail, k) => ({ detail, color: TRADE_STYLES[k].curve })));
      el('chart').dataset.replayStats = String(cursor);
    } catch (error) {
      if (asked === this.statsAsked) this.errors.show(error);
    }
  }

  /**
   * Another history is on the chart: the runs leave it unless they were
   * placed on this one.
   * @param {import('./chart.js').Drawable} history
   */
  presented(history) {
    if (this.shown && this.shown.history !== history) this.drop();
  }

  // The runs leave the chart (another history is drawn, or no run is chosen).
  drop() {
    this.shown = null;
    this.replayed = null;
    this.overlay.setLayers(null, []);
    if (this.charts.shown) this.chart.setCurves(this.charts.shown, []);
    el('trade-tip').hidden = true;
    delete el('chart').dataset.run;
    delete el('chart').dataset.equity;
    this.charts.updateLegends();
  }

  /**
   * Goes to a trade: older bars page in until its entry is loaded, then the
   * chart shows its span with some room either side, marked.
   * @param {TradeLayer} layer
   * @param {Trade} trade
   */
  async goToTrade(layer, trade) {
    const history = this.charts.shown;
    const entry = trade.entry_bar;
    if (!(history instanceof BarHistory) || entry === null) return;
    this.picked = { key: layer.key, run: layer.name, id: trade.id };
    this.overlay.select(layer.key, trade.id);
    this.panel.pick(layer.key, trade.id);
    await this.charts.loadUntil(history, entry);
    if (history !== this.charts.shown || this.picked?.id !== trade.id || this.picked.key !== layer.key) return;
    const { time } = history.bars;
    const from = barIndex(time, entry);
    if (from < 0 || time[from] !== entry) return;
    const to = trade.exit_bar === null ? time.length - 1 : barIndex(time, trade.exit_bar);
    this.chart.showSpan(from, to);
    el('chart').dataset.picked = `${layer.key}:${trade.id}`;
  }

  /**
   * The next (1) or previous (-1) trade of the list, in its order; with
   * none gone to yet, the first to enter after (before) the middle of the view.
   * @param {1 | -1} dir
   */
  step(dir) {
    const layer = this.panel.listedLayer();
    const history = this.charts.shown;
    if (!layer || !history) return;
    const range = this.chart.visibleIndices();
    const centre = range ? history.bars.time[Math.round((range.from + range.to) / 2)] : undefined;
    const next = stepTrade(this.panel.rows, this.picked?.key === layer.key ? this.picked.id : null, dir, centre);
    if (next) this.goToTrade(layer, next);
  }

  // Saves the runs' trades open at some bar in view as CSV.
  exportTrades() {
    const range = this.chart.visibleIndices();
    const view = this.shown;
    if (!range || !view || view.history !== this.charts.shown) return;
    const { time } = view.history.bars;
    const rows = view.layers.flatMap((layer) => tradesInRange(layer.trades, time[range.from], time[range.to]).map((trade) => ({ run: layer.name, trade })));
    const name = `${this.view.symbol}-${this.view.timeframe}-${view.ids.join('-')}-trades`.replace(/[^\w.-]+/g, '_');
    download(new Blob([tradesCsvText(rows)], { type: 'text/csv' }), `${name}.csv`);
  }
}
