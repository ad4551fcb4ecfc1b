// @ts-check
// The chart and its paging: loads what the view names (the symbol's bars at
// its timeframe, the panel's indicators, the compared symbols), pages older
// bars in as the user scrolls back, draws, keeps the legends, the timeframe
// and chart-type buttons, the compared symbols' chips and their anchor, and
// writes the link and the remembered layout.
import { api, culpritEntry, errorPlace } from './api.js';
import { CHART_TYPES, COMPARED_COLORS } from './chart.js';
import { BarHistory, dataQuery } from './history.js';
import { instantText, remember, toLink } from './layout.js';
import { renderLegends } from './legend.js';
import { el, elementOf, isAbort, markPainted, setStatus, track } from './page.js';
import { MAX_COMPARED, comparedSymbol, viewLayout } from './view.js';

/**
 * @import { DataResponse, IndicatorResult, TimeframesResponse } from './api.js'
 * @import { ChartSpec, Drawable, PriceChart } from './chart.js'
 * @import { IndicatorPanel, Entry } from './indicators.js'
 * @import { Layout, LinkLayout } from './layout.js'
 * @import { Errors } from './page.js'
 * @import { Catalog, View } from './view.js'
 */

/**
 * What the other controllers hear of the chart.
 * @typedef {object} ChartHooks
 * @property {(symbol: string, timeframe: string) => void} loading a chart was asked for
 * @property {(history: Drawable) => void} presented a history is on the chart
 * @property {(history: BarHistory) => void} loaded the view's chart is loaded
 * @property {(history: BarHistory, added: number) => void} paged older bars joined `history`
 */

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
const SQL_COLORS = ['#f5a623', '#e056fd', '#22a6b3', '#badc58', '#ff7979'];

/**
 * The timeframes on offer for a symbol, in the standard order, and the one
 * to show: `current` if on offer, else `wanted`, else the finest stored;
 * with why `wanted` was passed over.
 * @param {TimeframesResponse} offered
 * @param {string | null} current
 * @param {string | null | undefined} wanted
 * @param {string} symbol
 * @returns {{choices: string[], timeframe: string, problem?: string}}
 */
export function timeframeChoices({ stored, available }, current, wanted, symbol) {
  const choices = [...new Set([...STANDARD, ...available])].filter((t) => available.includes(t));
  if (current !== null && choices.includes(current)) return { choices, timeframe: current };
  if (wanted && choices.includes(wanted)) return { choices, timeframe: wanted };
  const problem = wanted ? `${symbol} has no timeframe '${wanted}'; it offers ${choices.join(', ')}` : undefined;
  return { choices, timeframe: stored[0], problem };
}

/**
 * The status line for a history on the chart.
 * @param {Drawable} history
 */
export function describe(history) {
  if (!(history instanceof BarHistory)) return `SQL result · ${history.length.toLocaleString('en-US')} bars`;
  const source = history.source.aggregated ? ` · aggregated from ${history.source.timeframe}` : '';
  const all = history.exhausted ? ' · all history' : '';
  return `${history.length.toLocaleString('en-US')} bars${source}${all}`;
}

/** How an anchor's instant reads on its chip: `2024-03-05`, `2024-03-05 14:00 UTC`. */
export const anchorText = (/** @type {number} */ time) =>
  instantText(time).replace('T00:00:00Z', '').replace('T', ' ').replace(/:00Z$/, ' UTC');

export class ChartController {
  /**
   * @param {object} parts
   * @param {View} parts.view
   * @param {Catalog} parts.catalog
   * @param {PriceChart} parts.chart
   * @param {IndicatorPanel} parts.panel
   * @param {Layout} parts.memory the remembered layout
   * @param {Errors} parts.errors
   * @param {number} parts.initialBars the first window's bars
   * @param {ChartHooks} parts.hooks
   */
  constructor({ view, catalog, chart, panel, memory, errors, initialBars, hooks }) {
    this.view = view;
    this.catalog = catalog;
    this.chart = chart;
    this.panel = panel;
    this.memory = memory;
    this.errors = errors;
    this.initialBars = initialBars;
    this.hooks = hooks;
    /** The history on the chart (a BarHistory, or a SQL result). @type {Drawable | null} */
    this.shown = null;
    /** What the legend names: null for the symbol and timeframe. @type {string | null} */
    this.title = null;
    /** @type {AbortController | null} */
    this.loading = null;
    /** @type {AbortController | null} */
    this.paging = null;
    /** The page of older bars in flight, for whoever waits for it. @type {Promise<void> | null} */
    this.olderPage = null;
    /**
     * The chart a link opens on, asked for while the symbol list is still on
     * its way; used once, if the chart loaded first is that one.
     * @type {{url: string, answer: Promise<DataResponse>} | null}
     */
    this.early = null;
    /** The bar under the crosshair. @type {number | undefined} */
    this.crosshairIndex = undefined;
    this.legendsPending = false;

    el('chart-types').replaceChildren(...CHART_TYPES.map(({ id, label }) => {
      const button = radio(label, () => this.chooseType(id));
      button.dataset.type = id;
      return button;
    }));
    chart.chart.subscribeCrosshairMove(({ time, logical }) => {
      this.crosshairIndex = time !== undefined && logical !== undefined && this.shown ? chart.historyIndex(logical) : undefined;
      this.updateLegends();
    });
    // With symbols compared, a click on a bar of the price pane pins the anchor there; on the pinned bar, unpins it.
    chart.chart.subscribeClick((param) => {
      if (!this.shown || !chart.percent() || param.logical === undefined || param.paneIndex !== 0) return;
      const time = this.shown.bars.time[chart.historyIndex(param.logical)];
      this.pinAnchor(time === view.anchor ? null : time);
    });
    // The window follows the view once a frame, after the change: a range
    // set by the page (a zoom key) reports itself from inside the setting
    // call, and a slide from there would be undone by the range then applied.
    let following = false;
    chart.chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
      if (following) return;
      following = true;
      requestAnimationFrame(() => {
        following = false;
        if (chart.follow()) this.loadOlder();
      });
    });
    // Legends follow the panes when the window or a pane separator moves.
    new ResizeObserver(() => this.updateLegends()).observe(el('chart'));
    el('chart').addEventListener('pointerup', () => { this.updateLegends(); if (this.shown) this.saveLayout(); });
    elementOf('compare-input', HTMLInputElement).addEventListener('change', (e) => {
      if (e.target instanceof HTMLInputElement) this.addCompared(e.target.value);
    });
  }

  /**
   * The symbol's timeframes, keeping the current one if it has it, else
   * `wanted`, else its finest stored one; returns why `wanted` was passed over.
   * @param {string | null | undefined} wanted
   * @returns {Promise<string | undefined>}
   */
  async loadTimeframes(wanted) {
    const { symbol } = this.view;
    if (symbol === null) return undefined;
    const offered = /** @type {TimeframesResponse} */ (await track(api(`/api/timeframes/${encodeURIComponent(symbol)}`)));
    const { choices, timeframe, problem } = timeframeChoices(offered, this.view.timeframe, wanted, symbol);
    this.view.timeframe = timeframe;
    this.catalog.timeframes = choices;
    this.panel.setTimeframes(timeframe, choices);
    el('timeframes').replaceChildren(...choices.map((tf) => {
      const button = radio(tf, () => this.chooseTimeframe(tf));
      button.dataset.timeframe = tf;
      const stored = offered.stored.includes(tf);
      button.classList.toggle('stored', stored);
      button.title = stored ? `${tf}: stored` : `${tf}: aggregated from ${offered.stored.join(', ')}`;
      return button;
    }));
    this.markChoices();
    return problem;
  }

  /** Loads the view's symbol afresh: its timeframes, then its latest bars. */
  async openSymbol() {
    try {
      await this.loadTimeframes(this.view.timeframe);
      await this.loadChart({ fresh: true });
    } catch (error) {
      this.errors.show(error);
    }
  }

  markChoices() {
    for (const b of el('timeframes').children) {
      if (b instanceof HTMLElement) b.setAttribute('aria-checked', String(b.dataset.timeframe === this.view.timeframe));
    }
    for (const b of el('chart-types').children) {
      if (b instanceof HTMLElement) b.setAttribute('aria-checked', String(b.dataset.type === this.view.type));
    }
  }

  /** @param {string} tf */
  chooseTimeframe(tf) {
    if (!this.catalog.timeframes.includes(tf)) return;
    this.view.timeframe = tf;
    this.panel.setTimeframes(tf, this.catalog.timeframes);
    this.loadChart({ fresh: true });
  }

  /** @param {string} type one of CHART_TYPES' ids; anything else is ignored */
  chooseType(type) {
    const known = CHART_TYPES.find((t) => t.id === type);
    if (!known) return;
    this.view.type = known.id;
    this.chart.setType(known.id);
    this.markChoices();
    this.updateLegends();
    if (this.shown) this.saveLayout();
  }

  nextType() {
    this.chooseType(CHART_TYPES[(CHART_TYPES.findIndex((t) => t.id === this.view.type) + 1) % CHART_TYPES.length].id);
  }

  /**
   * The spec of an indicator on the chart; a plugin removed since the
   * catalog was read still draws, from what the response says of it. A call
   * the server places in a pane (an overlay applied to an RSI) is drawn there.
   * @param {IndicatorResult} result
   * @returns {ChartSpec}
   */
  specOf(result) {
    const spec = this.panel.spec(result.id);
    if (!spec) return { outputs: Object.keys(result.outputs).map((name) => ({ name, placement: result.placement, style: 'line' })) };
    if (result.placement === 'overlay') return spec;
    return { ...spec, outputs: spec.outputs.map((o) => ({ ...o, placement: 'pane' })) };
  }

  /**
   * @param {Drawable} history
   * @param {string[]} colors one per indicator
   */
  draw(history, colors) {
    this.chart.pinned = this.view.anchor;
    const entries = history.indicators.map((r, i) => ({ key: r.key, spec: this.specOf(r), color: colors[i], steps: r.timeframe !== undefined }));
    this.chart.show(history, entries, this.memory.panes ?? {});
    el('chart').dataset.compared = String(history.compare?.length ?? 0);
    this.markAnchor();
  }

  /** The colours of the indicators drawn, one each. */
  colors() {
    return this.panel.active.filter((a) => !a.failed).map((a) => a.color);
  }

  redraw() {
    if (!this.shown) return;
    this.draw(this.shown, this.colors());
    this.updateLegends();
    this.saveLayout();
  }

  // Legends are redrawn at most once a frame, however fast the crosshair moves.
  updateLegends() {
    if (this.legendsPending) return;
    this.legendsPending = true;
    requestAnimationFrame(() => {
      this.legendsPending = false;
      renderLegends(el('legends'), this.chart, this.legendTitle(), this.crosshairIndex);
    });
  }

  /**
   * What the legend names: the bars on the chart, not the symbol or
   * timeframe just chosen, whose bars may still be on their way.
   * @returns {string}
   */
  legendTitle() {
    if (this.title !== null) return this.title;
    const { shown } = this;
    return shown instanceof BarHistory ? `${shown.request.symbol} · ${shown.request.timeframe}` : '';
  }

  /** The link and the remembered layout, from the view and the panel. */
  saveLayout() {
    /** @type {LinkLayout} */
    const layout = viewLayout(this.view, this.panel.calls(), this.panel.active.map((a) => a.color));
    toLink(layout);
    this.memory.panes = { ...this.memory.panes, ...this.chart.stretchFactors() };
    remember({ ...layout, panes: this.memory.panes });
  }

  /**
   * Loads the chart: the latest bars with the panel's indicators and the
   * compared symbols, or, from a link, with `linkCalls` as its author wrote
   * them (the server's reading of them becomes the panel's list, coloured
   * by `colors`). An indicator the server refuses is marked in the panel, a
   * compared symbol it refuses is dropped with why, and the chart loads
   * without them. `fresh` shows the latest bars; otherwise the user's zoom stays.
   * @param {{fresh?: boolean, linkCalls?: string, colors?: string[]}} [options]
   */
  async loadChart({ fresh = false, linkCalls, colors } = {}) {
    const { view, panel } = this;
    const { symbol, timeframe } = view;
    if (!symbol || !timeframe) return;
    this.loading?.abort();
    this.paging?.abort();
    const controller = new AbortController();
    this.loading = controller;
    this.markChoices();
    setStatus(`Loading ${symbol} ${timeframe}…`, true);
    elementOf('load', HTMLButtonElement).disabled = true;
    let entries = panel.active.slice();
    let calls = linkCalls ?? panel.calls(entries);
    this.hooks.loading(symbol, timeframe);
    /** @type {{message: string, entry: Entry | undefined} | null} */
    let refusal = null;
    /** @type {string | null} */
    let comparedRefusal = null;
    try {
      let history;
      for (;;) {
        const request = { symbol, timeframe, indicators: calls, compare: view.compared.join(',') };
        try {
          history = new BarHistory(request, await this.fetchData(dataQuery({ ...request, limit: this.initialBars }), controller.signal));
          break;
        } catch (error) {
          if (view.compared.length && errorPlace(error) === 'compare' && error instanceof Error) {
            // The symbol the message names (`compare: AAPL: …`), else all of them.
            const culprit = view.compared.find((c) => error.message.startsWith(`compare: ${c}:`));
            view.compared = culprit ? view.compared.filter((c) => c !== culprit) : [];
            comparedRefusal = error.message;
            continue;
          }
          if (!calls || errorPlace(error) !== 'indicators' || !(error instanceof Error)) throw error;
          // The entry the server names; a link's calls are the author's text, not entries.
          const culprit = linkCalls === undefined ? culpritEntry(entries, error) : undefined;
          refusal = { message: linkCalls === undefined ? error.message : `indicators=${linkCalls}: ${error.message}`, entry: culprit };
          entries = culprit ? entries.filter((e) => e !== culprit) : [];
          linkCalls = undefined;
          calls = panel.calls(entries);
        }
      }
      if (linkCalls !== undefined && refusal === null) {
        panel.setActive(history.indicators.map((r, i) => ({ ...r, color: colors?.[i] })));
        entries = panel.active;
      }
      // As the server names them (`ALPACA:AAPL` for `AAPL`).
      view.compared = history.compare.map((c) => c.symbol);
      if (!view.compared.length) view.anchor = null;
      this.errors.clear();
      if (comparedRefusal) this.errors.show(new Error(comparedRefusal), 'compare');
      this.renderCompared();
      panel.setError(refusal?.message ?? '', refusal?.entry);
      this.present(history, null, entries.map((e) => e.color));
      if (fresh) this.chart.showLatest();
      markPainted('candela:chart');
      if (view.anchor !== null) this.loadUntil(history, view.anchor);
      this.saveLayout();
      setStatus(describe(history));
      this.hooks.loaded(history);
    } catch (error) {
      if (isAbort(error)) return;
      this.errors.show(error);
      setStatus(this.shown ? describe(this.shown) : '');
    } finally {
      if (this.loading === controller) {
        this.loading = null;
        elementOf('load', HTMLButtonElement).disabled = false;
      }
    }
  }

  /**
   * /api/data at `url`, taken from the early request when it asked the same.
   * @param {string} url
   * @param {AbortSignal} signal
   * @returns {Promise<DataResponse>}
   */
  async fetchData(url, signal) {
    const asked = this.early?.url === url ? this.early.answer : null;
    this.early = null;
    const answer = await (asked ?? track(dataAnswer(url, signal)));
    signal.throwIfAborted();
    return answer;
  }

  /**
   * Asks for the chart `wanted` names before the symbol list has confirmed
   * it, which would otherwise hold the largest request back by a round trip
   * and the page's start. Only a full id (`PROVIDER:SYMBOL`) can match the
   * request the page then makes.
   * @param {LinkLayout} wanted
   */
  askEarly(wanted) {
    if (!wanted.symbol?.includes(':') || !wanted.timeframe) return;
    const url = dataQuery({ symbol: wanted.symbol, timeframe: wanted.timeframe, indicators: wanted.indicators ?? '', compare: wanted.compare, limit: this.initialBars });
    const answer = track(dataAnswer(url));
    answer.catch(() => {}); // its error, if any, is reported by the load that uses it
    this.early = { url, answer };
  }

  /**
   * Puts `history` on the chart, its legend named `name` (null: the symbol
   * and timeframe).
   * @param {Drawable} history
   * @param {string | null} name
   * @param {string[]} colors one per indicator
   */
  present(history, name, colors) {
    this.shown = history;
    this.title = name;
    this.hooks.presented(history);
    this.draw(history, colors);
    el('chart').dataset.bars = String(history.length);
    el('chart').dataset.indicators = String(history.indicators.length);
    this.updateLegends();
  }

  /**
   * Draws a SQL result (bars and its numeric columns) in place of the
   * chart; loading a symbol brings the chart back.
   * @param {Drawable} history
   */
  showSqlResult(history) {
    this.loading?.abort();
    this.paging?.abort();
    this.errors.clear();
    this.present(history, 'SQL result', history.indicators.map((_, i) => SQL_COLORS[i % SQL_COLORS.length]));
    this.chart.fit();
    setStatus(describe(history));
  }

  /**
   * Pages older bars in while the view is near the first one loaded;
   * resolves once the page in flight has joined.
   * @returns {Promise<void>}
   */
  loadOlder() {
    this.olderPage ??= this.pageOlder().then((paged) => {
      this.olderPage = null;
      // Still at the first bar: the next page.
      if (paged && this.chart.follow()) this.loadOlder();
    });
    return this.olderPage;
  }

  /**
   * Asks for the page of bars before the first loaded and joins it in.
   * @returns {Promise<boolean>} whether a page was asked for and answered (or failed)
   */
  async pageOlder() {
    const history = this.shown;
    // A SQL result is all there is: nothing older to page in; a replay draws only what it holds.
    if (this.paging || this.loading || !(history instanceof BarHistory) || this.chart.history !== history || history.exhausted || history.failed) return false;
    const controller = new AbortController();
    this.paging = controller;
    el('older').hidden = false;
    try {
      const { url, limit } = history.olderRequest(this.initialBars);
      performance.mark('candela:older-requested');
      const older = await track(dataAnswer(url, controller.signal));
      if (history !== this.shown) return false;
      const added = history.prepend(older, limit);
      if (added > 0) {
        this.crosshairIndex = undefined;
        this.hooks.paged(history, added);
        this.chart.extend(added);
        markPainted('candela:older');
        el('chart').dataset.bars = String(history.length);
        this.updateLegends();
      }
      setStatus(describe(history));
    } catch (error) {
      if (isAbort(error)) return false;
      history.failed = true;
      this.errors.show(error, 'chart');
    } finally {
      if (this.paging === controller) this.paging = null;
      el('older').hidden = true;
    }
    return true;
  }

  /**
   * Pages older bars into `history` until the bar at `time` is loaded (or
   * the series begins, or another history is shown).
   * @param {BarHistory} history
   * @param {number} time Unix seconds
   */
  async loadUntil(history, time) {
    while (history === this.shown && history.bars.time[0] > time && !history.exhausted && !history.failed) {
      const before = history.length;
      await this.loadOlder();
      if (history.length === before && !this.olderPage) break;
    }
  }

  // Compared symbols: the chips (each removable), the symbols that may
  // join, and the anchor pinned by a click on a bar.
  renderCompared() {
    const { view } = this;
    const chips = view.compared.map((id, k) => {
      const chip = Object.assign(document.createElement('button'), {
        type: 'button', className: 'chip', textContent: `${id.split(':').pop()} ✕`, title: `Stop comparing ${id}`,
      });
      chip.dataset.symbol = id;
      chip.style.setProperty('--chip-color', COMPARED_COLORS[k % COMPARED_COLORS.length]);
      chip.addEventListener('click', () => this.removeCompared(id));
      return chip;
    });
    if (view.anchor !== null && view.compared.length) {
      const anchor = Object.assign(document.createElement('button'), {
        type: 'button', className: 'chip anchor', textContent: `anchor ${anchorText(view.anchor)} ✕`,
        title: 'The bar every line starts from, pinned; unpin it to follow the first bar in view',
      });
      anchor.addEventListener('click', () => this.pinAnchor(null));
      chips.push(anchor);
    }
    el('compare-chips').replaceChildren(...chips);
    const taken = new Set([view.symbol, ...view.compared]);
    el('compare-options').replaceChildren(...this.catalog.symbols.filter((s) => !taken.has(s.id)).map((s) =>
      Object.assign(document.createElement('option'), { value: s.id })));
    const input = elementOf('compare-input', HTMLInputElement);
    input.disabled = view.compared.length >= MAX_COMPARED;
    input.placeholder = input.disabled ? `${MAX_COMPARED} at most` : '+ symbol';
  }

  /**
   * Adds a symbol to compare (as the symbol list names it, or its bare ticker).
   * @param {string} text
   */
  addCompared(text) {
    if (!text.trim()) return;
    const found = comparedSymbol(this.view, this.catalog.symbols, text);
    if ('refusal' in found) {
      this.errors.show(new Error(found.refusal), 'compare');
      return;
    }
    this.errors.hide('compare');
    elementOf('compare-input', HTMLInputElement).value = '';
    this.view.compared = [...this.view.compared, found.id];
    this.renderCompared();
    this.loadChart();
  }

  /** @param {string} id */
  removeCompared(id) {
    this.view.compared = this.view.compared.filter((c) => c !== id);
    if (!this.view.compared.length) this.view.anchor = null;
    this.renderCompared();
    this.loadChart();
  }

  // The anchor's bar time on the chart element, for tests and the console.
  markAnchor() {
    const { chart } = this;
    el('chart').dataset.anchor = chart.anchor && chart.history ? String(chart.history.bars.time[chart.anchor.index]) : '';
  }

  /**
   * Pins the anchor at the bar starting at `time`, or lets it follow the
   * first bar in view (null).
   * @param {number | null} time
   */
  pinAnchor(time) {
    this.view.anchor = time;
    this.chart.pinAnchor(time);
    this.markAnchor();
    this.renderCompared();
    this.updateLegends();
    this.saveLayout();
    if (time !== null && this.shown instanceof BarHistory) this.loadUntil(this.shown, time);
  }
}

/**
 * The answer of /api/data at `url`.
 * @param {string} url
 * @param {AbortSignal} [signal]
 */
async function dataAnswer(url, signal) {
  return /** @type {DataResponse} */ (await api(url, { signal }));
}

/**
 * A button of a radio group of the toolbar.
 * @param {string} label
 * @param {() => void} onClick
 */
function radio(label, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.setAttribute('role', 'radio');
  button.addEventListener('click', onClick);
  return button;
}
