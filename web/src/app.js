// @ts-check
// Candela's chart page: holds what is on the chart (symbol, timeframe, chart
// type, indicators), loads it from the API, pages older bars in as the user
// scrolls back, and keeps the link and the remembered layout up to date.
import { api, culpritEntry, errorPlace } from './api.js';
import { CHART_TYPES, PriceChart } from './chart.js';
import { chartImage, csvText, download } from './export.js';
import { BarHistory, dataQuery } from './history.js';
import { IndicatorPanel } from './indicators.js';
import { fromLink, remember, remembered, toLink } from './layout.js';
import { renderLegends } from './legend.js';
import { installShortcuts, toggleHelp } from './shortcuts.js';
import { SqlConsole } from './sql-console.js';
import { SymbolPicker } from './symbols.js';

/**
 * @import { DataResponse, IndicatorResult, IndicatorsResponse, SymbolsResponse, TimeframesResponse } from './api.js'
 * @import { ChartSpec, ChartType, Drawable } from './chart.js'
 * @import { Entry } from './indicators.js'
 * @import { Layout, LinkLayout } from './layout.js'
 */

/**
 * What is on the chart. `symbol` and `timeframe` are null until known.
 * @typedef {object} State
 * @property {string | null} symbol
 * @property {string | null} timeframe
 * @property {ChartType} type
 * @property {import('./api.js').SymbolInfo[]} symbols
 * @property {'dark' | 'light'} theme
 */

/**
 * What tests and the console reach as `window.candela`.
 * @typedef {object} CandelaHandle
 * @property {PriceChart} chart
 * @property {IndicatorPanel} panel
 * @property {State} state
 * @property {() => Drawable | null} history the history on the chart (a `BarHistory`, or a SQL result)
 */

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
// The first window. A link may ask for another (`bars=`), up to the API's cap.
const INITIAL_BARS = 5000;

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
};

const chart = new PriceChart(el('chart'), state.theme);
const panel = new IndicatorPanel(el('indicators'), { onChange: () => loadChart(), onRecolor: redraw });
const picker = new SymbolPicker(elementOf('symbol-search', HTMLInputElement), el('symbol-list'), chooseSymbol);
const sqlConsole = new SqlConsole(el('sql'), { onChart: chartSqlResult });
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
window.candela = { chart, panel, state, history: () => shown };

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

/** @type {Record<'symbol' | 'timeframe' | 'chart', () => HTMLElement>} */
const slots = {
  symbol: () => fieldError('symbol-field'),
  timeframe: () => fieldError('timeframe-field'),
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
 * was read still draws, from what the response says of it.
 * @param {IndicatorResult} result
 * @returns {ChartSpec}
 */
function specOf(result) {
  return panel.spec(result.id) ?? {
    outputs: Object.keys(result.outputs).map((name) => ({ name, placement: result.placement, style: 'line' })),
  };
}

/**
 * @param {Drawable} history
 * @param {string[]} colors one per indicator
 */
function draw(history, colors) {
  chart.show(history, history.indicators.map((r, i) => ({ key: r.key, spec: specOf(r), color: colors[i] })), memory.panes ?? {});
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
    renderLegends(el('legends'), chart, title ?? `${state.symbol} · ${state.timeframe}`, crosshairIndex);
  });
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
  };
  toLink(layout);
  memory.panes = { ...memory.panes, ...chart.stretchFactors() };
  remember({ ...layout, theme: state.theme, panes: memory.panes });
}

/**
 * Loads the chart: the latest bars with the panel's indicators, or, from a
 * link, with `linkCalls` as its author wrote them (the server's reading of
 * them becomes the panel's list, coloured by `colors`). An indicator the
 * server refuses is marked in the panel and the chart loads without it.
 * `fresh` shows the latest bars; otherwise the user's zoom stays.
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
  /** @type {{message: string, entry: Entry | undefined} | null} */
  let refusal = null;
  try {
    let history;
    for (;;) {
      const request = { symbol, timeframe, indicators: calls };
      try {
        history = new BarHistory(request, await fetchData(dataQuery({ ...request, limit: initialBars }), controller.signal));
        break;
      } catch (error) {
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
      panel.setActive(history.indicators.map((r, i) => ({ id: r.id, params: r.params, color: colors?.[i] })));
      entries = panel.active;
    }
    clearErrors();
    panel.setError(refusal?.message ?? '', refusal?.entry);
    present(history, null, entries.map((e) => e.color));
    if (fresh) chart.showLatest();
    markPainted('candela:chart');
    saveLayout();
    setStatus(describe(history));
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
  const url = dataQuery({ symbol: wanted.symbol, timeframe: wanted.timeframe, indicators: wanted.indicators ?? '', limit: initialBars });
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

// Pages older bars in while the view is near the first one loaded.
async function loadOlder() {
  const history = shown;
  // A SQL result is all there is: nothing older to page in.
  if (paging || loading || !(history instanceof BarHistory) || history.exhausted || history.failed) return;
  const controller = new AbortController();
  paging = controller;
  el('older').hidden = false;
  try {
    const { url, limit } = history.olderRequest(initialBars);
    performance.mark('candela:older-requested');
    const older = await track(dataAnswer(url, controller.signal));
    if (history !== shown) return;
    const added = history.prepend(older, limit);
    if (added > 0) {
      crosshairIndex = undefined;
      chart.extend(added);
      markPainted('candela:older');
      el('chart').dataset.bars = String(history.length);
      updateLegends();
    }
    setStatus(describe(history));
  } catch (error) {
    if (isAbort(error)) return;
    history.failed = true;
    showError(error, 'chart');
  } finally {
    if (paging === controller) paging = null;
    el('older').hidden = true;
  }
  if (chart.follow()) loadOlder();
}

/** @param {string} id */
async function chooseSymbol(id) {
  state.symbol = id;
  clearErrors();
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
  const { time, logical } = param;
  crosshairIndex = time !== undefined && logical !== undefined && shown ? chart.historyIndex(logical) : undefined;
  updateLegends();
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
  { keys: ['?'], help: 'Show or hide this help', run: () => toggleHelp(elementOf('shortcuts', HTMLDialogElement)) },
], elementOf('shortcuts', HTMLDialogElement));

// Plugins come and go while the server runs: the catalog follows when the
// user comes back to the page, and every 10 s while the page is visible.
async function refreshCatalog() {
  try {
    panel.setCatalog(/** @type {IndicatorsResponse} */ (await api('/api/indicators')).indicators);
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

// Opens what the link asks for; a link without a symbol reopens the last layout.
(async () => {
  document.documentElement.dataset.theme = state.theme;
  const wanted = link.symbol ? link : memory;
  askEarly(wanted);
  try {
    const [{ indicators }, { symbols }] = await Promise.all([
      track(api('/api/indicators')).then((answer) => /** @type {IndicatorsResponse} */ (answer)),
      track(api('/api/symbols')).then((answer) => /** @type {SymbolsResponse} */ (answer)),
    ]);
    panel.setCatalog(indicators);
    state.symbols = symbols;
    picker.setSymbols(symbols);
    if (!symbols.length) {
      showError(new Error('No symbols in the data folder: add parquet files under <root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/, or run `candela sample-data`.'), 'chart');
      return;
    }
    const found = findSymbol(wanted.symbol);
    state.symbol = (found ?? symbols[0]).id;
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
    if (wanted.symbol && !found) showError(new Error(`unknown symbol '${wanted.symbol}' in the link; showing ${state.symbol}`), 'symbol');
    if (timeframeProblem) showError(new Error(timeframeProblem), 'timeframe');
  } catch (error) {
    showError(error);
  }
})();
