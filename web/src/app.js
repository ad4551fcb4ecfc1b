// @ts-check
// Candela's chart page: holds what is on the chart (symbol, timeframe, chart
// type, indicators, compared symbols and their anchor, a backtest run and one
// laid over it), loads it from
// the API, pages older bars in as the user scrolls back, and keeps the link
// and the remembered layout up to date.
import { ApiError, api, culpritEntry, errorPlace } from './api.js';
import { CHART_TYPES, COMPARED_COLORS, PriceChart } from './chart.js';
import { RunCurve } from './equity.js';
import { chartImage, csvText, download, tradesCsvText } from './export.js';
import { BarHistory, barIndex, dataQuery } from './history.js';
import { IndicatorPanel } from './indicators.js';
import { fromLink, instantText, remember, remembered, toLink } from './layout.js';
import { renderLegends } from './legend.js';
import { RunData } from './run-data.js';
import { RunPanel } from './run-panel.js';
import { compareCandidates, runChoices, runSymbol } from './runs.js';
import { installShortcuts, toggleHelp } from './shortcuts.js';
import { SqlConsole } from './sql-console.js';
import { SymbolPicker } from './symbols.js';
import { TradeOverlay, showTradeTip } from './trade-overlay.js';
import { TRADE_STYLES, stepTrade, tradesInRange } from './trades.js';

/**
 * @import { DataResponse, IndicatorResult, IndicatorsResponse, SymbolsResponse, TimeframesResponse } from './api.js'
 * @import { ChartSpec, ChartType, CurvePane, Drawable } from './chart.js'
 * @import { Entry } from './indicators.js'
 * @import { Layout, LinkLayout } from './layout.js'
 * @import { RunDetail, RunSummary, RunsResponse, Trade } from './runs.js'
 * @import { TradeLayer } from './trade-overlay.js'
 */

/**
 * What is on the chart. `symbol` and `timeframe` are null until known.
 * @typedef {object} State
 * @property {string | null} symbol
 * @property {string | null} timeframe
 * @property {ChartType} type
 * @property {import('./api.js').SymbolInfo[]} symbols
 * @property {'dark' | 'light'} theme
 * @property {string[]} compared the symbols compared with the chart (their ids, once the server named them)
 * @property {number | null} anchor the bar they are rebased to, when the user pinned one (its time)
 * @property {string[]} choices the symbol's timeframes on offer
 * @property {string | null} run the backtest run on the chart
 * @property {string | null} vs a second run laid over it
 * @property {RunSummary[]} runs the runs folder, as /api/runs lists it
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

/**
 * What tests and the console reach as `window.candela`.
 * @typedef {object} CandelaHandle
 * @property {PriceChart} chart
 * @property {IndicatorPanel} panel
 * @property {State} state
 * @property {() => Drawable | null} history the history on the chart (a `BarHistory`, or a SQL result)
 * @property {TradeOverlay} trades the runs' trades drawn over the bars
 * @property {RunPanel} runPanel
 * @property {() => RunView | null} run the runs on the chart, once their trades are drawn
 */

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
// The first window. A link may ask for another (`bars=`), up to the API's cap.
const INITIAL_BARS = 5000;
// As many compared symbols as /api/data answers.
const MAX_COMPARED = 8;

/**
 * The page's element `id`, of the kind the page needs (an element missing
 * from index.html is a bug, said at once).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T}
 */
function elementOf(id, kind) {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}
const el = (/** @type {string} */ id) => elementOf(id, HTMLElement);
const link = fromLink();
/** @type {Layout} */
const memory = remembered();
const initialBars = Math.min(Math.max(Number(new URLSearchParams(location.search).get('bars')) || INITIAL_BARS, 100), 1_000_000);
/** @type {State} */
const state = {
  symbol: null, timeframe: null, type: 'candles', symbols: [],
  theme: memory.theme === 'dark' || memory.theme === 'light' ? memory.theme : preferredTheme(),
  compared: [], anchor: null, choices: [], run: null, vs: null, runs: [],
};

const chart = new PriceChart(el('chart'), state.theme);
const panel = new IndicatorPanel(el('indicators'), { onChange: () => loadChart(), onRecolor: redraw });
const picker = new SymbolPicker(elementOf('symbol-search', HTMLInputElement), el('symbol-list'), chooseSymbol);
const sqlConsole = new SqlConsole(el('sql'), { onChart: chartSqlResult });
const runData = new RunData();
const overlay = new TradeOverlay(chart);
chart.addOverlay(overlay);
const runPanel = new RunPanel(el('run'), { onPick: (layer, trade) => goToTrade(layer, trade), onPanes: setRunPanes, onExport: exportTrades });
runPanel.setPanes(runPanes());
// The runs on the chart, once their trades are drawn; the trade gone to last.
/** @type {RunView | null} */
let runView = null;
/** @type {{key: string, run: string, id: number} | null} */
let picked = null;
// Each load of the runs' data outdates the one before.
let runLoads = 0;
// The history on the chart (a BarHistory, or a SQL result); the load and
// the page of older bars in flight.
/** @type {Drawable | null} */
let shown = null;
// What the legend names: the symbol and timeframe, or a SQL result.
/** @type {string | null} */
let title = null;
/** @type {AbortController | null} */
let loading = null;
/** @type {AbortController | null} */
let paging = null;
let inFlight = 0;
// The chart a link (or the remembered layout) opens on, asked for while the
// symbol list is still on its way. Used once, if the chart loaded first is
// that one.
/** @type {{url: string, answer: Promise<DataResponse>} | null} */
let early = null;

// Tests and the console reach the live chart through this handle.
window.candela = { chart, panel, state, history: () => shown, trades: overlay, runPanel, run: () => runView };

/** @param {unknown} error */
const isAbort = (error) => error instanceof Error && error.name === 'AbortError';

/** @returns {'dark' | 'light'} */
function preferredTheme() {
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/**
 * Every fetch shows the progress bar until the last one ends.
 * @template T
 * @param {Promise<T>} promise
 * @returns {Promise<T>}
 */
async function track(promise) {
  inFlight++;
  el('progress').hidden = false;
  try {
    return await promise;
  } finally {
    if (--inFlight === 0) el('progress').hidden = true;
  }
}

/**
 * @param {string} text
 * @param {boolean} [busy]
 */
function setStatus(text, busy = false) {
  el('status').textContent = text;
  el('status').classList.toggle('loading', busy);
}

/**
 * The field error of a toolbar field.
 * @param {string} field
 * @returns {HTMLElement}
 */
function fieldError(field) {
  const slot = el(field).querySelector('.field-error');
  if (!(slot instanceof HTMLElement)) throw new Error(`#${field} has no .field-error`);
  return slot;
}

/** @type {Record<'symbol' | 'timeframe' | 'compare' | 'run' | 'chart', () => HTMLElement>} */
const slots = {
  symbol: () => fieldError('symbol-field'),
  timeframe: () => fieldError('timeframe-field'),
  compare: () => fieldError('compare-field'),
  run: () => fieldError('run-field'),
  chart: () => el('error'),
};

/**
 * An error appears next to what caused it; the chart on screen stays.
 * @param {unknown} error
 * @param {import('./api.js').ErrorPlace} [place]
 */
function showError(error, place = errorPlace(error)) {
  const message = error instanceof Error ? error.message : String(error);
  if (place === 'indicators') {
    panel.setError(message);
    return;
  }
  const slot = slots[place]();
  slot.textContent = message;
  slot.hidden = false;
}

function clearErrors() {
  for (const slot of Object.values(slots)) {
    slot().textContent = '';
    slot().hidden = true;
  }
}

/**
 * The symbol's timeframes, keeping the current one if it has it, else
 * `wanted`, else its finest stored one; returns why `wanted` was passed over.
 * @param {string | null | undefined} wanted
 * @returns {Promise<string | undefined>}
 */
async function loadTimeframes(wanted) {
  const symbol = state.symbol;
  if (symbol === null) return undefined;
  const { stored, available } = /** @type {TimeframesResponse} */ (await track(api(`/api/timeframes/${encodeURIComponent(symbol)}`)));
  const choices = [...new Set([...STANDARD, ...available])].filter((t) => available.includes(t));
  let problem;
  if (state.timeframe === null || !choices.includes(state.timeframe)) {
    if (wanted && !choices.includes(wanted)) problem = `${symbol} has no timeframe '${wanted}'; it offers ${choices.join(', ')}`;
    state.timeframe = wanted && choices.includes(wanted) ? wanted : stored[0];
  }
  state.choices = choices;
  panel.setTimeframes(state.timeframe, choices);
  el('timeframes').replaceChildren(...choices.map((tf) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = tf;
    button.dataset.timeframe = tf;
    button.setAttribute('role', 'radio');
    if (stored.includes(tf)) {
      button.classList.add('stored');
      button.title = `${tf}: stored`;
    } else {
      button.title = `${tf}: aggregated from ${stored.join(', ')}`;
    }
    button.addEventListener('click', () => chooseTimeframe(tf));
    return button;
  }));
  markChoices();
  return problem;
}

function markChoices() {
  for (const b of el('timeframes').children) {
    if (b instanceof HTMLElement) b.setAttribute('aria-checked', String(b.dataset.timeframe === state.timeframe));
  }
  for (const b of el('chart-types').children) {
    if (b instanceof HTMLElement) b.setAttribute('aria-checked', String(b.dataset.type === state.type));
  }
}

/**
 * The spec of an indicator on the chart; a plugin removed since the catalog
 * was read still draws, from what the response says of it. A call the
 * server places in a pane (an overlay applied to an RSI) is drawn there.
 * @param {IndicatorResult} result
 * @returns {ChartSpec}
 */
function specOf(result) {
  const spec = panel.spec(result.id);
  if (!spec) return { outputs: Object.keys(result.outputs).map((name) => ({ name, placement: result.placement, style: 'line' })) };
  if (result.placement === 'overlay') return spec;
  return { ...spec, outputs: spec.outputs.map((o) => ({ ...o, placement: 'pane' })) };
}

/**
 * @param {Drawable} history
 * @param {string[]} colors one per indicator
 */
function draw(history, colors) {
  chart.pinned = state.anchor;
  const entries = history.indicators.map((r, i) => ({ key: r.key, spec: specOf(r), color: colors[i], steps: r.timeframe !== undefined }));
  chart.show(history, entries, memory.panes ?? {});
  el('chart').dataset.compared = String(history.compare?.length ?? 0);
  markAnchor();
}

function redraw() {
  if (!shown) return;
  draw(shown, panel.active.filter((a) => !a.failed).map((a) => a.color));
  updateLegends();
  saveLayout();
}

// Legends are redrawn at most once a frame, however fast the crosshair moves.
/** @type {number | undefined} */
let crosshairIndex;
let legendsPending = false;
function updateLegends() {
  if (legendsPending) return;
  legendsPending = true;
  requestAnimationFrame(() => {
    legendsPending = false;
    renderLegends(el('legends'), chart, legendTitle(), crosshairIndex);
  });
}

/**
 * What the legend names: the bars on the chart, not the symbol or timeframe
 * just chosen, whose bars may still be on their way.
 * @returns {string}
 */
function legendTitle() {
  if (title !== null) return title;
  return shown instanceof BarHistory ? `${shown.request.symbol} · ${shown.request.timeframe}` : '';
}

/**
 * The status line for a history on the chart.
 * @param {Drawable} history
 */
function describe(history) {
  if (!(history instanceof BarHistory)) return `SQL result · ${history.length.toLocaleString('en-US')} bars`;
  const source = history.source.aggregated ? ` · aggregated from ${history.source.timeframe}` : '';
  const all = history.exhausted ? ' · all history' : '';
  return `${history.length.toLocaleString('en-US')} bars${source}${all}`;
}

function saveLayout() {
  const entries = panel.active;
  /** @type {LinkLayout} */
  const layout = {
    symbol: state.symbol ?? undefined, timeframe: state.timeframe ?? undefined, type: state.type,
    indicators: panel.calls(), colors: entries.map((a) => a.color),
    compare: state.compared.join(',') || undefined, anchor: state.compared.length ? state.anchor ?? undefined : undefined,
    run: state.run ?? undefined, vs: state.vs ?? undefined,
  };
  toLink(layout);
  memory.panes = { ...memory.panes, ...chart.stretchFactors() };
  remember({ ...layout, theme: state.theme, panes: memory.panes });
}

/**
 * Loads the chart: the latest bars with the panel's indicators and the
 * compared symbols, or, from a link, with `linkCalls` as its author wrote
 * them (the server's reading of them becomes the panel's list, coloured by
 * `colors`). An indicator the server refuses is marked in the panel, a
 * compared symbol it refuses is dropped with why, and the chart loads
 * without them. `fresh` shows the latest bars; otherwise the user's zoom stays.
 * @param {{fresh?: boolean, linkCalls?: string, colors?: string[]}} [options]
 */
async function loadChart({ fresh = false, linkCalls, colors } = {}) {
  const { symbol, timeframe } = state;
  if (!symbol || !timeframe) return;
  loading?.abort();
  paging?.abort();
  const controller = new AbortController();
  loading = controller;
  markChoices();
  setStatus(`Loading ${symbol} ${timeframe}…`, true);
  elementOf('load', HTMLButtonElement).disabled = true;
  let entries = panel.active.slice();
  let calls = linkCalls ?? panel.calls(entries);
  prefetchTrades(symbol, timeframe);
  /** @type {{message: string, entry: Entry | undefined} | null} */
  let refusal = null;
  /** @type {string | null} */
  let comparedRefusal = null;
  try {
    let history;
    for (;;) {
      const request = { symbol, timeframe, indicators: calls, compare: state.compared.join(',') };
      try {
        history = new BarHistory(request, await fetchData(dataQuery({ ...request, limit: initialBars }), controller.signal));
        break;
      } catch (error) {
        if (state.compared.length && errorPlace(error) === 'compare' && error instanceof Error) {
          // The symbol the message names (`compare: AAPL: …`), else all of them.
          const culprit = state.compared.find((c) => error.message.startsWith(`compare: ${c}:`));
          state.compared = culprit ? state.compared.filter((c) => c !== culprit) : [];
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
    state.compared = history.compare.map((c) => c.symbol);
    if (!state.compared.length) state.anchor = null;
    clearErrors();
    if (comparedRefusal) showError(new Error(comparedRefusal), 'compare');
    renderCompared();
    panel.setError(refusal?.message ?? '', refusal?.entry);
    present(history, null, entries.map((e) => e.color));
    if (fresh) chart.showLatest();
    markPainted('candela:chart');
    if (state.anchor !== null) loadUntil(history, state.anchor);
    saveLayout();
    setStatus(describe(history));
    loadRun();
  } catch (error) {
    if (isAbort(error)) return;
    showError(error);
    setStatus(shown ? describe(shown) : '');
  } finally {
    if (loading === controller) {
      loading = null;
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
async function fetchData(url, signal) {
  const asked = early?.url === url ? early.answer : null;
  early = null;
  const answer = await (asked ?? track(dataAnswer(url, signal)));
  signal.throwIfAborted();
  return answer;
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
 * Asks for the chart `wanted` names before the symbol list has confirmed it,
 * which would otherwise hold the largest request back by a round trip and
 * the page's start. Only a full id (`PROVIDER:SYMBOL`) can match the request
 * the page then makes.
 * @param {LinkLayout} wanted
 */
function askEarly(wanted) {
  if (!wanted.symbol?.includes(':') || !wanted.timeframe) return;
  const url = dataQuery({ symbol: wanted.symbol, timeframe: wanted.timeframe, indicators: wanted.indicators ?? '', compare: wanted.compare, limit: initialBars });
  const answer = track(dataAnswer(url));
  answer.catch(() => {}); // its error, if any, is reported by the load that uses it
  early = { url, answer };
}

/**
 * Puts `history` on the chart, its legend named `name` (null: the symbol
 * and timeframe).
 * @param {Drawable} history
 * @param {string | null} name
 * @param {string[]} colors one per indicator
 */
function present(history, name, colors) {
  shown = history;
  title = name;
  if (runView && runView.history !== history) dropRun();
  draw(history, colors);
  el('chart').dataset.bars = String(history.length);
  el('chart').dataset.indicators = String(history.indicators.length);
  updateLegends();
}

/**
 * Draws a SQL result (bars and its numeric columns) in place of the chart;
 * loading a symbol brings the chart back.
 * @param {Drawable} history
 */
function chartSqlResult(history) {
  loading?.abort();
  paging?.abort();
  clearErrors();
  present(history, 'SQL result', history.indicators.map((_, i) => SQL_COLORS[i % SQL_COLORS.length]));
  chart.fit();
  setStatus(describe(history));
}

const SQL_COLORS = ['#f5a623', '#e056fd', '#22a6b3', '#badc58', '#ff7979'];

/**
 * A performance mark once the chart has drawn what it was given (its own
 * frame callback runs before this one), for profiling and the UI benchmark.
 * @param {string} name
 */
function markPainted(name) {
  requestAnimationFrame(() => performance.mark(`${name}-painted`));
}

// The page of older bars in flight, for whoever waits for it.
/** @type {Promise<void> | null} */
let olderPage = null;

/**
 * Pages older bars in while the view is near the first one loaded; resolves
 * once the page in flight has joined.
 * @returns {Promise<void>}
 */
function loadOlder() {
  olderPage ??= pageOlder().then((paged) => {
    olderPage = null;
    // Still at the first bar: the next page.
    if (paged && chart.follow()) loadOlder();
  });
  return olderPage;
}

/**
 * Asks for the page of bars before the first loaded and joins it in.
 * @returns {Promise<boolean>} whether a page was asked for and answered (or failed)
 */
async function pageOlder() {
  const history = shown;
  // A SQL result is all there is: nothing older to page in.
  if (paging || loading || !(history instanceof BarHistory) || history.exhausted || history.failed) return false;
  const controller = new AbortController();
  paging = controller;
  el('older').hidden = false;
  try {
    const { url, limit } = history.olderRequest(initialBars);
    performance.mark('candela:older-requested');
    const older = await track(dataAnswer(url, controller.signal));
    if (history !== shown) return false;
    const added = history.prepend(older, limit);
    if (added > 0) {
      crosshairIndex = undefined;
      const view = runView?.history === history ? runView : null;
      for (const curve of view?.curves ?? []) curve.prepend(added);
      chart.extend(added);
      if (view) fillEquity(view, 0, added - 1);
      markPainted('candela:older');
      el('chart').dataset.bars = String(history.length);
      updateLegends();
    }
    setStatus(describe(history));
  } catch (error) {
    if (isAbort(error)) return false;
    history.failed = true;
    showError(error, 'chart');
  } finally {
    if (paging === controller) paging = null;
    el('older').hidden = true;
  }
  return true;
}

/** @param {string} id */
async function chooseSymbol(id) {
  state.symbol = id;
  clearErrors();
  // A run stays on the chart only on a symbol it trades.
  if (state.run && !state.runs.find((r) => r.run === state.run)?.symbols.includes(id)) {
    state.run = null;
    state.vs = null;
  }
  state.compared = state.compared.filter((c) => c !== id);
  if (state.vs && !state.runs.find((r) => r.run === state.vs)?.symbols.includes(id)) state.vs = null;
  renderRunPickers();
  try {
    await loadTimeframes(state.timeframe);
    await loadChart({ fresh: true });
  } catch (error) {
    showError(error);
  }
}

/** @param {string} tf */
function chooseTimeframe(tf) {
  if (!el('timeframes').querySelector(`[data-timeframe="${tf}"]`)) return;
  state.timeframe = tf;
  panel.setTimeframes(tf, state.choices);
  loadChart({ fresh: true });
}

/** @param {string} type one of CHART_TYPES' ids; anything else is ignored */
function chooseType(type) {
  const known = CHART_TYPES.find((t) => t.id === type);
  if (!known) return;
  state.type = known.id;
  chart.setType(known.id);
  markChoices();
  updateLegends();
  if (shown) saveLayout();
}

// Compared symbols: the chips (each removable), the symbols that may join,
// and the anchor pinned by a click on a bar.

function renderCompared() {
  const chips = state.compared.map((id, k) => {
    const chip = Object.assign(document.createElement('button'), {
      type: 'button', className: 'chip', textContent: `${id.split(':').pop()} ✕`, title: `Stop comparing ${id}`,
    });
    chip.dataset.symbol = id;
    chip.style.setProperty('--chip-color', COMPARED_COLORS[k % COMPARED_COLORS.length]);
    chip.addEventListener('click', () => removeCompared(id));
    return chip;
  });
  if (state.anchor !== null && state.compared.length) {
    const anchor = Object.assign(document.createElement('button'), {
      type: 'button', className: 'chip anchor', textContent: `anchor ${instantText(state.anchor).replace('T00:00:00Z', '').replace('T', ' ').replace(/:00Z$/, ' UTC')} ✕`,
      title: 'The bar every line starts from, pinned; unpin it to follow the first bar in view',
    });
    anchor.addEventListener('click', () => pinAnchor(null));
    chips.push(anchor);
  }
  el('compare-chips').replaceChildren(...chips);
  const taken = new Set([state.symbol, ...state.compared]);
  el('compare-options').replaceChildren(...state.symbols.filter((s) => !taken.has(s.id)).map((s) =>
    Object.assign(document.createElement('option'), { value: s.id })));
  const input = elementOf('compare-input', HTMLInputElement);
  input.disabled = state.compared.length >= MAX_COMPARED;
  input.placeholder = input.disabled ? `${MAX_COMPARED} at most` : '+ symbol';
}

/**
 * Adds a symbol to compare (as the symbol list names it, or its bare ticker).
 * @param {string} text
 */
function addCompared(text) {
  const input = elementOf('compare-input', HTMLInputElement);
  const wanted = text.trim();
  if (!wanted) return;
  const found = findSymbol(wanted) ?? findSymbol(wanted.toUpperCase());
  const slot = slots.compare();
  const refuse = (/** @type {string} */ message) => {
    slot.textContent = message;
    slot.hidden = false;
  };
  if (!found) return refuse(`unknown symbol '${wanted}': pick one of the list`);
  if (found.id === state.symbol) return refuse(`${found.id} is the chart's own symbol`);
  if (state.compared.includes(found.id)) return refuse(`${found.id} is already compared`);
  if (state.compared.length >= MAX_COMPARED) return refuse(`at most ${MAX_COMPARED} symbols can be compared`);
  slot.hidden = true;
  input.value = '';
  state.compared = [...state.compared, found.id];
  renderCompared();
  loadChart();
}

/** @param {string} id */
function removeCompared(id) {
  state.compared = state.compared.filter((c) => c !== id);
  if (!state.compared.length) state.anchor = null;
  renderCompared();
  loadChart();
}

// The anchor's bar time on the chart element, for tests and the console.
function markAnchor() {
  el('chart').dataset.anchor = chart.anchor && chart.history ? String(chart.history.bars.time[chart.anchor.index]) : '';
}

/**
 * Pins the anchor at the bar starting at `time`, or lets it follow the first bar in view (null).
 * @param {number | null} time
 */
function pinAnchor(time) {
  state.anchor = time;
  chart.pinAnchor(time);
  markAnchor();
  renderCompared();
  updateLegends();
  saveLayout();
  if (time !== null && shown instanceof BarHistory) loadUntil(shown, time);
}

// Backtest runs: the pickers, the trades over the bars, the equity and
// drawdown panes, the run panel.

/** @returns {{equity: boolean, drawdown: boolean}} which run panes are shown */
function runPanes() {
  return { equity: memory.runPanes?.equity ?? true, drawdown: memory.runPanes?.drawdown ?? true };
}

/** @param {{equity: boolean, drawdown: boolean}} shown */
function setRunPanes(shown) {
  memory.runPanes = shown;
  remember({ runPanes: shown });
  runPanel.setPanes(shown);
  drawCurves();
}

/** @param {'equity' | 'drawdown'} pane */
function toggleRunPane(pane) {
  if (!state.run) return;
  const shown = runPanes();
  setRunPanes({ ...shown, [pane]: !shown[pane] });
}

// The run picker lists every run (a broken one disabled, with why); the
// vs picker the other runs of the symbol on the chart.
function renderRunPickers() {
  const select = elementOf('run-select', HTMLSelectElement);
  const none = Object.assign(document.createElement('option'), { value: '', textContent: state.runs.length ? 'No run' : 'No runs' });
  select.replaceChildren(none, ...runChoices(state.runs).map(({ value, label, disabled, title }) =>
    Object.assign(document.createElement('option'), { value, textContent: label, disabled, title })));
  select.value = state.run ?? '';
  select.disabled = state.runs.length === 0;
  const vs = elementOf('vs-select', HTMLSelectElement);
  const others = state.run && state.symbol ? compareCandidates(state.runs, state.run, state.symbol) : [];
  vs.replaceChildren(Object.assign(document.createElement('option'), { value: '', textContent: 'vs…' }),
    ...others.map((r) => Object.assign(document.createElement('option'), { value: r.run, textContent: `vs ${r.name}`, title: r.run })));
  vs.value = state.vs ?? '';
  vs.hidden = others.length === 0;
  const tabs = el('side').querySelector('.side-tabs');
  if (tabs instanceof HTMLElement) tabs.hidden = !state.run;
  if (!state.run) showSide('indicators');
}

/**
 * Shows the indicators or the run panel beside the chart.
 * @param {'indicators' | 'run'} which
 */
function showSide(which) {
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
async function chooseRun(id) {
  slots.run().hidden = true;
  const run = state.runs.find((r) => r.run === id);
  state.run = run && !run.error ? run.run : null;
  const symbol = run && state.run ? runSymbol(run, state.symbol) : undefined;
  // A compared run stays if it trades the symbol the new run opens on.
  const compared = state.runs.find((r) => r.run === state.vs);
  if (!symbol || state.vs === state.run || !compared?.symbols.includes(symbol)) state.vs = null;
  if (symbol && symbol !== state.symbol) {
    state.symbol = symbol;
    picker.setCurrent(symbol);
    renderRunPickers();
    if (state.run) showSide('run');
    try {
      await loadTimeframes(state.timeframe);
      await loadChart({ fresh: true });
    } catch (error) {
      showError(error);
    }
    return;
  }
  renderRunPickers();
  if (state.run) showSide('run');
  saveLayout();
  await loadRun();
}

/** @param {string} id a run of the symbol on the chart, or empty for none */
async function chooseVs(id) {
  state.vs = id && id !== state.run ? id : null;
  renderRunPickers();
  saveLayout();
  await loadRun();
}

/**
 * Asks for the runs' trades of a chart while its bars are on their way.
 * @param {string} symbol
 * @param {string} timeframe
 */
function prefetchTrades(symbol, timeframe) {
  for (const id of [state.run, state.vs]) if (id) runData.trades(id, symbol, timeframe).catch(() => {});
}

/**
 * Draws the runs on the chart over its bars: their trades (placed by the
 * server on the candles of the chart's timeframe), their equity and drawdown
 * for the bars loaded, their statistics and the list of trades.
 */
async function loadRun() {
  const load = ++runLoads;
  const history = shown;
  const ids = /** @type {string[]} */ ([state.run, state.vs].filter(Boolean));
  if (!ids.length || !(history instanceof BarHistory)) {
    dropRun();
    runPanel.setLayers([]);
    runPanel.setCard([]);
    return;
  }
  const { symbol, timeframe } = history.request;
  try {
    const [details, trades] = await Promise.all([
      Promise.all(ids.map((id) => track(runData.detail(id)))),
      Promise.all(ids.map((id) => track(runData.trades(id, symbol, timeframe)))),
    ]);
    if (load !== runLoads || history !== shown) return;
    const layers = ids.map((id, k) => ({ key: k === 0 ? 'run' : 'compare', name: id, trades: trades[k], style: TRADE_STYLES[k] }));
    const view = { history, ids, details, layers, curves: ids.map(() => new RunCurve(history.length)) };
    runView = view;
    // The trade gone to stays picked while its run stays in its place.
    if (picked && !layers.some((l) => l.key === picked?.key && l.name === picked.run)) {
      picked = null;
      delete el('chart').dataset.picked;
    }
    overlay.setLayers(history, layers);
    overlay.select(picked?.key ?? null, picked?.id);
    runPanel.setLayers(layers);
    runPanel.pick(picked?.key ?? null, picked?.id ?? null);
    runPanel.setCard(details.map((detail, k) => ({ detail, color: TRADE_STYLES[k].curve })));
    drawCurves();
    el('chart').dataset.run = `${ids.join(',')}|${symbol}|${timeframe}`;
    await fillEquity(view, 0, history.length - 1);
  } catch (error) {
    if (load === runLoads) showError(error);
  }
}

/**
 * Fills the runs' curves for history bars `from` to `to` (their stretch as
 * the API samples it on the chart's timeframe), then redraws them.
 * @param {RunView} view
 * @param {number} from
 * @param {number} to
 */
async function fillEquity(view, from, to) {
  const { history } = view;
  const { time } = history.bars;
  const [start, end] = [time[from], time[to]];
  try {
    const answers = await Promise.all(view.ids.map((id) => track(runData.equity(id, history.request.timeframe, start, end))));
    if (view !== runView) return;
    answers.forEach((answer, k) => view.curves[k].fill(history.bars.time, answer.equity));
    chart.refreshCurves();
    updateLegends();
    el('chart').dataset.equity = `${el('chart').dataset.run}|${history.length}`;
  } catch (error) {
    if (view === runView) showError(error);
  }
}

// The equity pane (every run's curve) and the drawdown pane, as shown.
function drawCurves() {
  const view = runView;
  if (!view || view.history !== shown) return;
  const shownPanes = runPanes();
  /** @type {CurvePane[]} */
  const panes = [];
  if (shownPanes.equity) {
    panes.push({ key: 'equity', title: 'Equity', unit: 'money',
      curves: view.ids.map((id, k) => ({ name: id, color: TRADE_STYLES[k].curve, values: view.curves[k].equity })) });
  }
  if (shownPanes.drawdown) {
    panes.push({ key: 'drawdown', title: 'Drawdown', unit: 'percent',
      curves: view.ids.map((id, k) => ({ name: id, color: k === 0 ? '#ef5350' : TRADE_STYLES[k].curve, values: view.curves[k].drawdown, area: k === 0 })) });
  }
  chart.setCurves(view.history, panes, memory.panes ?? {});
  updateLegends();
}

// The runs leave the chart (another history is drawn, or no run is chosen).
function dropRun() {
  runView = null;
  overlay.setLayers(null, []);
  if (shown) chart.setCurves(shown, []);
  el('trade-tip').hidden = true;
  delete el('chart').dataset.run;
  delete el('chart').dataset.equity;
  updateLegends();
}

/**
 * Pages older bars into `history` until the bar at `time` is loaded (or the
 * series begins, or another history is shown).
 * @param {BarHistory} history
 * @param {number} time Unix seconds
 */
async function loadUntil(history, time) {
  while (history === shown && history.bars.time[0] > time && !history.exhausted && !history.failed) {
    const before = history.length;
    await loadOlder();
    if (history.length === before && !olderPage) break;
  }
}

/**
 * Goes to a trade: older bars page in until its entry is loaded, then the
 * chart shows its span with some room either side, marked.
 * @param {TradeLayer} layer
 * @param {Trade} trade
 */
async function goToTrade(layer, trade) {
  const history = shown;
  const entry = trade.entry_bar;
  if (!(history instanceof BarHistory) || entry === null) return;
  picked = { key: layer.key, run: layer.name, id: trade.id };
  overlay.select(layer.key, trade.id);
  runPanel.pick(layer.key, trade.id);
  await loadUntil(history, entry);
  if (history !== shown || picked?.id !== trade.id || picked.key !== layer.key) return;
  const { time } = history.bars;
  const from = barIndex(time, entry);
  if (from < 0 || time[from] !== entry) return;
  const to = trade.exit_bar === null ? time.length - 1 : barIndex(time, trade.exit_bar);
  chart.showSpan(from, to);
  el('chart').dataset.picked = `${layer.key}:${trade.id}`;
}

/**
 * The next (1) or previous (-1) trade of the list, in its order; with none
 * gone to yet, the first to enter after (before) the middle of the view.
 * @param {1 | -1} dir
 */
function stepToTrade(dir) {
  const layer = runPanel.listedLayer();
  if (!layer || !shown) return;
  const view = chart.visibleIndices();
  const centre = view ? shown.bars.time[Math.round((view.from + view.to) / 2)] : undefined;
  const next = stepTrade(runPanel.rows, picked?.key === layer.key ? picked.id : null, dir, centre);
  if (next) goToTrade(layer, next);
}

// Saves the runs' trades open at some bar in view as CSV.
function exportTrades() {
  const range = chart.visibleIndices();
  const view = runView;
  if (!range || !view || view.history !== shown) return;
  const { time } = view.history.bars;
  const rows = view.layers.flatMap((layer) => tradesInRange(layer.trades, time[range.from], time[range.to]).map((trade) => ({ run: layer.name, trade })));
  const name = `${state.symbol}-${state.timeframe}-${view.ids.join('-')}-trades`.replace(/[^\w.-]+/g, '_');
  download(new Blob([tradesCsvText(rows)], { type: 'text/csv' }), `${name}.csv`);
}

function toggleTheme() {
  state.theme = state.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = state.theme;
  chart.setTheme(state.theme);
  remember({ theme: state.theme });
}

const fileName = (/** @type {string} */ ext) => `${state.symbol}-${state.timeframe}`.replace(/[^\w.-]+/g, '_') + `.${ext}`;

function exportPng() {
  if (!shown) return;
  const background = getComputedStyle(document.documentElement).getPropertyValue('--chart-bg').trim();
  chartImage(chart, el('legends'), background).toBlob((blob) => { if (blob) download(blob, fileName('png')); }, 'image/png');
}

function exportCsv() {
  const range = chart.visibleIndices();
  if (!range || !shown) return;
  download(new Blob([csvText(shown, range.from, range.to)], { type: 'text/csv' }), fileName('csv'));
}

el('chart-types').replaceChildren(...CHART_TYPES.map(({ id, label }) => {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.dataset.type = id;
  button.setAttribute('role', 'radio');
  button.addEventListener('click', () => chooseType(id));
  return button;
}));

chart.chart.subscribeCrosshairMove((param) => {
  const { time, logical, point, paneIndex } = param;
  crosshairIndex = time !== undefined && logical !== undefined && shown ? chart.historyIndex(logical) : undefined;
  updateLegends();
  // The trades at (or across) the bar under the crosshair, on the price pane.
  const tip = el('trade-tip');
  if (crosshairIndex === undefined || !point || paneIndex !== 0 || !runView || runView.history !== shown || !shown) {
    tip.hidden = true;
    return;
  }
  const box = el('chart');
  showTradeTip(tip, overlay.tradesAt(shown.bars.time[crosshairIndex]), point.x, point.y,
    { width: box.clientWidth, height: box.clientHeight }, runView.layers.length > 1);
});
el('chart').addEventListener('pointerleave', () => { el('trade-tip').hidden = true; });
// With symbols compared, a click on a bar of the price pane pins the anchor there; on the pinned bar, unpins it.
chart.chart.subscribeClick((param) => {
  if (!shown || !chart.percent() || param.logical === undefined || param.paneIndex !== 0) return;
  const time = shown.bars.time[chart.historyIndex(param.logical)];
  pinAnchor(time === state.anchor ? null : time);
});
chart.chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
  if (chart.follow()) loadOlder();
});
// Legends follow the panes when the window or a pane separator moves.
new ResizeObserver(() => updateLegends()).observe(el('chart'));
el('chart').addEventListener('pointerup', () => { updateLegends(); if (shown) saveLayout(); });

el('load').addEventListener('click', () => loadChart({ fresh: true }));
el('theme').addEventListener('click', toggleTheme);
el('help').addEventListener('click', () => toggleHelp(elementOf('shortcuts', HTMLDialogElement)));
el('export-png').addEventListener('click', exportPng);
el('sql-toggle').addEventListener('click', () => sqlConsole.toggle());
el('export-csv').addEventListener('click', exportCsv);
elementOf('run-select', HTMLSelectElement).addEventListener('change', (e) => {
  if (e.target instanceof HTMLSelectElement) chooseRun(e.target.value);
});
elementOf('vs-select', HTMLSelectElement).addEventListener('change', (e) => {
  if (e.target instanceof HTMLSelectElement) chooseVs(e.target.value);
});
elementOf('compare-input', HTMLInputElement).addEventListener('change', (e) => {
  if (e.target instanceof HTMLInputElement) addCompared(e.target.value);
});
el('tab-indicators').addEventListener('click', () => showSide('indicators'));
el('tab-run').addEventListener('click', () => showSide('run'));

installShortcuts([
  { keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'], label: '1 … 9', help: 'Timeframe: the first to ninth button',
    run: (e) => {
      const button = el('timeframes').children[Number(e.key) - 1];
      if (button instanceof HTMLElement) button.click();
    } },
  { keys: ['c'], help: 'Next chart type (candles, OHLC, line, Heikin-Ashi)',
    run: () => chooseType(CHART_TYPES[(CHART_TYPES.findIndex((t) => t.id === state.type) + 1) % CHART_TYPES.length].id) },
  { keys: ['ArrowLeft', 'ArrowRight'], label: '← / →', help: 'Scroll back / forward in time', run: (e) => chart.pan(e.key === 'ArrowLeft' ? -0.25 : 0.25) },
  { keys: ['+', '=', '-'], label: '+ / −', help: 'Zoom in / out', run: (e) => chart.zoom(e.key === '-' ? 1.5 : 1 / 1.5) },
  { keys: ['f'], help: 'Fit the loaded bars (as many as the chart can show)', run: () => chart.fit() },
  { keys: ['Home', 'End'], label: 'Home / End', help: 'The oldest loaded bars (older ones load) / the latest bars',
    run: (e) => (e.key === 'Home' ? chart.toOldest() : chart.toLatest()) },
  { keys: ['/'], help: 'Search symbols', run: () => el('symbol-search').focus() },
  { keys: ['r'], help: 'Load the chart again', run: () => loadChart({ fresh: true }) },
  { keys: ['t'], help: 'Switch between dark and light', run: toggleTheme },
  { keys: ['p'], help: 'Save the chart as PNG', run: exportPng },
  { keys: ['s'], help: 'Save the shown bars and indicators as CSV', run: exportCsv },
  { keys: ['q'], help: 'Open or close the SQL console (Ctrl+Enter runs)', run: () => sqlConsole.toggle() },
  { keys: [']', '['], label: '] / [', help: 'Backtest run: the next / previous trade of the list', run: (e) => stepToTrade(e.key === ']' ? 1 : -1) },
  { keys: ['e'], help: 'Backtest run: show or hide the equity pane', run: () => toggleRunPane('equity') },
  { keys: ['d'], help: 'Backtest run: show or hide the drawdown pane', run: () => toggleRunPane('drawdown') },
  { keys: ['?'], help: 'Show or hide this help', run: () => toggleHelp(elementOf('shortcuts', HTMLDialogElement)) },
], elementOf('shortcuts', HTMLDialogElement));

// Plugins come and go while the server runs: the catalog follows when the
// user comes back to the page, and every 10 s while the page is visible.
async function refreshCatalog() {
  try {
    panel.setCatalog(/** @type {IndicatorsResponse} */ (await api('/api/indicators')).indicators);
    const { runs } = /** @type {RunsResponse} */ (await api('/api/runs'));
    if (JSON.stringify(runs) !== JSON.stringify(state.runs)) {
      // A run written again while on the chart is drawn again, as it now is.
      const before = state.runs;
      state.runs = runs;
      runData.forget();
      renderRunPickers();
      const changed = (/** @type {string | null} */ id) => id !== null && JSON.stringify(before.find((r) => r.run === id)) !== JSON.stringify(runs.find((r) => r.run === id));
      if (before.length && (changed(state.run) || changed(state.vs))) loadRun();
    }
  } catch {
    // The catalog in hand stays; loading the chart reports a server that is down.
  }
}
window.addEventListener('focus', refreshCatalog);
setInterval(() => { if (document.visibilityState === 'visible') refreshCatalog(); }, 10_000);
window.addEventListener('pagehide', () => { if (shown) saveLayout(); });

/**
 * A link's symbol may be written without its provider (`EXPE`), as the API accepts.
 * @param {string | undefined} wanted
 */
function findSymbol(wanted) {
  if (!wanted) return undefined;
  const exact = state.symbols.find((s) => s.id === wanted);
  const bare = state.symbols.filter((s) => s.symbol === wanted);
  return exact ?? (bare.length === 1 ? bare[0] : undefined);
}

/**
 * The run a link (or the remembered layout) names: its id and the symbol it
 * opens on when it can be shown, else why not, as the API answers for it
 * (an unknown run, a broken one), to be said once the chart is up.
 * @param {string | undefined} id
 * @param {string | null} symbol the symbol the link names, if known
 * @returns {{opened?: {run: RunSummary, symbol: string}, problem?: Promise<unknown>}}
 */
function linkedRun(id, symbol) {
  if (!id) return {};
  const run = state.runs.find((r) => r.run === id);
  const opens = run && !run.error ? runSymbol(run, symbol) : undefined;
  if (run && opens) return { opened: { run, symbol: opens } };
  const problem = runData.detail(id).then(() => new Error(`run '${id}' in the link trades no symbol of the data folder`), (error) => error);
  return { problem };
}

// Opens what the link asks for; a link without a symbol or run reopens the last layout.
(async () => {
  document.documentElement.dataset.theme = state.theme;
  const wanted = link.symbol || link.run ? link : memory;
  askEarly(wanted);
  try {
    // A server without runs still charts; a link without a run does not wait for them.
    const runList = track(api('/api/runs')).then((answer) => /** @type {RunsResponse} */ (answer).runs, () => []);
    const [{ indicators }, { symbols }, runs] = await Promise.all([
      track(api('/api/indicators')).then((answer) => /** @type {IndicatorsResponse} */ (answer)),
      track(api('/api/symbols')).then((answer) => /** @type {SymbolsResponse} */ (answer)),
      wanted.run ? runList : [],
    ]);
    panel.setCatalog(indicators);
    state.symbols = symbols;
    state.runs = runs;
    if (!wanted.run) {
      runList.then((list) => {
        // Unless the user chose meanwhile (a refresh filled the list).
        if (!state.runs.length) state.runs = list;
        renderRunPickers();
      });
    }
    picker.setSymbols(symbols);
    if (!symbols.length) {
      showError(new Error('No symbols in the data folder: add parquet files under <root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/, or run `candela sample-data`.'), 'chart');
      return;
    }
    const found = findSymbol(wanted.symbol);
    const { opened, problem: runProblem } = linkedRun(wanted.run, found?.id ?? null);
    state.symbol = opened?.symbol ?? (found ?? symbols[0]).id;
    if (opened) {
      state.run = opened.run.run;
      const other = state.runs.find((r) => r.run === wanted.vs);
      if (other && compareCandidates(state.runs, state.run, state.symbol).includes(other)) state.vs = other.run;
      showSide('run');
    }
    state.compared = wanted.compare?.split(',').map((c) => c.trim()).filter((c) => c && c !== state.symbol).slice(0, MAX_COMPARED) ?? [];
    state.anchor = state.compared.length ? wanted.anchor ?? null : null;
    renderCompared();
    renderRunPickers();
    picker.setCurrent(state.symbol);
    if (wanted.type) chooseType(wanted.type);
    // The chart loads while the symbol's timeframes do; it loads again only
    // if the link's timeframe turns out not to be on offer.
    const open = () => loadChart({ fresh: true, linkCalls: wanted.indicators ?? '', colors: wanted.colors });
    state.timeframe = wanted.timeframe ?? null;
    const first = state.timeframe ? open() : null;
    const timeframeProblem = await loadTimeframes(wanted.timeframe);
    await (first && !timeframeProblem ? first : open());
    // What the link asked for and could not have, said once the chart is up.
    if (wanted.symbol && !found && !opened) showError(new Error(`unknown symbol '${wanted.symbol}' in the link; showing ${state.symbol}`), 'symbol');
    // The API's error routes itself (beside the run picker); the page's own goes there too.
    if (runProblem) {
      const problem = await runProblem;
      showError(problem, problem instanceof ApiError ? errorPlace(problem) : 'run');
    }
    if (wanted.vs && state.run && state.vs !== wanted.vs) {
      showError(new Error(`vs=${wanted.vs} in the link is not another readable run of ${state.symbol}`), 'run');
    }
    if (timeframeProblem) showError(new Error(timeframeProblem), 'timeframe');
  } catch (error) {
    showError(error);
  }
})();
