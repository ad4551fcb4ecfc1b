// Candela's chart page: holds what is on the chart (symbol, timeframe, chart
// type, indicators), loads it from the API, pages older bars in as the user
// scrolls back, and keeps the link and the remembered layout up to date.
import { api, callText, errorPlace } from './api.js';
import { CHART_TYPES, PriceChart } from './chart.js';
import { chartImage, csvText, download } from './export.js';
import { BarHistory, dataQuery } from './history.js';
import { IndicatorPanel } from './indicators.js';
import { fromLink, remember, remembered, toLink } from './layout.js';
import { renderLegends } from './legend.js';
import { installShortcuts, toggleHelp } from './shortcuts.js';
import { SqlConsole } from './sql-console.js';
import { SymbolPicker } from './symbols.js';

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
// The first window. A link may ask for another (`bars=`), up to the API's cap.
const INITIAL_BARS = 5000;

const el = (id) => document.getElementById(id);
const link = fromLink();
const memory = remembered();
const initialBars = Math.min(Math.max(Number(new URLSearchParams(location.search).get('bars')) || INITIAL_BARS, 100), 1_000_000);
const state = { symbol: null, timeframe: null, type: 'candles', symbols: [], theme: memory.theme ?? preferredTheme() };

const chart = new PriceChart(el('chart'), state.theme);
const panel = new IndicatorPanel(el('indicators'), { onChange: () => loadChart(), onRecolor: redraw });
const picker = new SymbolPicker(el('symbol-search'), el('symbol-list'), chooseSymbol);
const sqlConsole = new SqlConsole(el('sql'), { onChart: chartSqlResult });
// The history on the chart; the load and the page of older bars in flight.
let shown = null;
// What the legend names: the symbol and timeframe, or a SQL result.
let title = null;
let loading = null;
let paging = null;
let inFlight = 0;
// The chart a link (or the remembered layout) opens on, asked for while the
// symbol list is still on its way: {url, answer}. Used once, if the chart
// loaded first is that one.
let early = null;

// Tests and the console reach the live chart through this handle.
window.candela = { chart, panel, state, history: () => shown };

function preferredTheme() {
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

// Every fetch shows the progress bar until the last one ends.
async function track(promise) {
  inFlight++;
  el('progress').hidden = false;
  try {
    return await promise;
  } finally {
    if (--inFlight === 0) el('progress').hidden = true;
  }
}

function setStatus(text, busy = false) {
  el('status').textContent = text;
  el('status').classList.toggle('loading', busy);
}

const slots = {
  symbol: () => el('symbol-field').querySelector('.field-error'),
  timeframe: () => el('timeframe-field').querySelector('.field-error'),
  chart: () => el('error'),
};

// An error appears next to what caused it; the chart on screen stays.
function showError(error, place = errorPlace(error)) {
  if (place === 'indicators') {
    panel.setError(error.message);
    return;
  }
  const slot = slots[place]();
  slot.textContent = error.message;
  slot.hidden = false;
}

function clearErrors() {
  for (const slot of Object.values(slots)) {
    slot().textContent = '';
    slot().hidden = true;
  }
}

// The symbol's timeframes, keeping the current one if it has it, else
// `wanted`, else its finest stored one; returns why `wanted` was passed over.
async function loadTimeframes(wanted) {
  const { stored, available } = await track(api(`/api/timeframes/${encodeURIComponent(state.symbol)}`));
  const choices = [...new Set([...STANDARD, ...available])].filter((t) => available.includes(t));
  let problem;
  if (!choices.includes(state.timeframe)) {
    if (wanted && !choices.includes(wanted)) problem = `${state.symbol} has no timeframe '${wanted}'; it offers ${choices.join(', ')}`;
    state.timeframe = choices.includes(wanted) ? wanted : stored[0];
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
  for (const b of el('timeframes').children) b.setAttribute('aria-checked', String(b.dataset.timeframe === state.timeframe));
  for (const b of el('chart-types').children) b.setAttribute('aria-checked', String(b.dataset.type === state.type));
}

// The spec of an indicator on the chart; a plugin removed since the catalog
// was read still draws, from what the response says of it.
function specOf(result) {
  return panel.spec(result.id) ?? {
    outputs: Object.keys(result.outputs).map((name) => ({ name, placement: result.placement, style: 'line' })),
  };
}

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

function describe(history) {
  const source = history.source.aggregated ? ` · aggregated from ${history.source.timeframe}` : '';
  const all = history.exhausted ? ' · all history' : '';
  return `${history.length.toLocaleString('en-US')} bars${source}${all}`;
}

function saveLayout() {
  const entries = panel.active;
  const layout = {
    symbol: state.symbol, timeframe: state.timeframe, type: state.type,
    indicators: panel.calls(), colors: entries.map((a) => a.color),
  };
  toLink(layout);
  memory.panes = { ...memory.panes, ...chart.stretchFactors() };
  remember({ ...layout, theme: state.theme, panes: memory.panes });
}

// Loads the chart: the latest bars with the panel's indicators, or, from a
// link, with `linkCalls` as its author wrote them (the server's reading of
// them becomes the panel's list). An indicator the server refuses is marked
// in the panel and the chart loads without it. `fresh` shows the latest bars;
// otherwise the user's zoom stays.
async function loadChart({ fresh = false, linkCalls, colors } = {}) {
  if (!state.symbol || !state.timeframe) return;
  loading?.abort();
  paging?.abort();
  const controller = new AbortController();
  loading = controller;
  markChoices();
  setStatus(`Loading ${state.symbol} ${state.timeframe}…`, true);
  el('load').disabled = true;
  let entries = panel.active.slice();
  let calls = linkCalls ?? panel.calls(entries);
  let refusal = null;
  try {
    let history;
    for (;;) {
      const request = { symbol: state.symbol, timeframe: state.timeframe, indicators: calls };
      try {
        history = new BarHistory(request, await fetchData(dataQuery({ ...request, limit: initialBars }), controller.signal));
        break;
      } catch (error) {
        if (!calls || errorPlace(error) !== 'indicators') throw error;
        const culprit = linkCalls === undefined ? entries.find((e) => error.message.includes(callText(e.id, e.params))) : undefined;
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
    if (error.name === 'AbortError') return;
    showError(error);
    setStatus(shown ? describe(shown) : '');
  } finally {
    if (loading === controller) {
      loading = null;
      el('load').disabled = false;
    }
  }
}

// /api/data at `url`, taken from the early request when it asked the same.
async function fetchData(url, signal) {
  const asked = early?.url === url ? early.answer : null;
  early = null;
  const answer = await (asked ?? track(api(url, { signal })));
  signal.throwIfAborted();
  return answer;
}

// Asks for the chart `wanted` names before the symbol list has confirmed it,
// which would otherwise hold the largest request back by a round trip and
// the page's start. Only a full id (`PROVIDER:SYMBOL`) can match the request
// the page then makes.
function askEarly(wanted) {
  if (!wanted.symbol?.includes(':') || !wanted.timeframe) return;
  const url = dataQuery({ symbol: wanted.symbol, timeframe: wanted.timeframe, indicators: wanted.indicators ?? '', limit: initialBars });
  const answer = track(api(url));
  answer.catch(() => {}); // its error, if any, is reported by the load that uses it
  early = { url, answer };
}

// Puts `history` on the chart, its legend named `name` (null: the symbol
// and timeframe).
function present(history, name, colors) {
  shown = history;
  title = name;
  draw(history, colors);
  el('chart').dataset.bars = String(history.length);
  el('chart').dataset.indicators = String(history.indicators.length);
  updateLegends();
}

// Draws a SQL result (bars and its numeric columns) in place of the chart;
// loading a symbol brings the chart back.
function chartSqlResult(history) {
  loading?.abort();
  paging?.abort();
  clearErrors();
  present(history, 'SQL result', history.indicators.map((_, i) => SQL_COLORS[i % SQL_COLORS.length]));
  chart.fit();
  setStatus(`SQL result · ${history.length.toLocaleString('en-US')} bars`);
}

const SQL_COLORS = ['#f5a623', '#e056fd', '#22a6b3', '#badc58', '#ff7979'];

// A performance mark once the chart has drawn what it was given (its own
// frame callback runs before this one), for profiling and the UI benchmark.
function markPainted(name) {
  requestAnimationFrame(() => performance.mark(`${name}-painted`));
}

// Pages older bars in while the view is near the first one loaded.
async function loadOlder() {
  const history = shown;
  if (paging || loading || !history || history.exhausted || history.failed) return;
  const controller = new AbortController();
  paging = controller;
  el('older').hidden = false;
  try {
    const { url, limit } = history.olderRequest(initialBars);
    performance.mark('candela:older-requested');
    const older = await track(api(url, { signal: controller.signal }));
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
    if (error.name === 'AbortError') return;
    history.failed = true;
    showError(error, 'chart');
  } finally {
    if (paging === controller) paging = null;
    el('older').hidden = true;
  }
  if (chart.follow()) loadOlder();
}

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

function chooseTimeframe(tf) {
  if (!el('timeframes').querySelector(`[data-timeframe="${tf}"]`)) return;
  state.timeframe = tf;
  loadChart({ fresh: true });
}

function chooseType(type) {
  state.type = type;
  chart.setType(type);
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

const fileName = (ext) => `${state.symbol}-${state.timeframe}`.replace(/[^\w.-]+/g, '_') + `.${ext}`;

function exportPng() {
  if (!shown) return;
  const background = getComputedStyle(document.documentElement).getPropertyValue('--chart-bg').trim();
  chartImage(chart, el('legends'), background).toBlob((blob) => download(blob, fileName('png')), 'image/png');
}

function exportCsv() {
  const range = chart.visibleIndices();
  if (!range) return;
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
  const inside = param.time !== undefined && param.logical != null && shown;
  crosshairIndex = inside ? chart.historyIndex(param.logical) : undefined;
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
el('help').addEventListener('click', () => toggleHelp(el('shortcuts')));
el('export-png').addEventListener('click', exportPng);
el('sql-toggle').addEventListener('click', () => sqlConsole.toggle());
el('export-csv').addEventListener('click', exportCsv);

installShortcuts([
  { keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'], label: '1 … 9', help: 'Timeframe: the first to ninth button',
    run: (e) => el('timeframes').children[Number(e.key) - 1]?.click() },
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
  { keys: ['?'], help: 'Show or hide this help', run: () => toggleHelp(el('shortcuts')) },
], el('shortcuts'));

// Plugins come and go while the server runs: the catalog follows when the
// user comes back to the page, and every 10 s while the page is visible.
async function refreshCatalog() {
  try {
    panel.setCatalog((await api('/api/indicators')).indicators);
  } catch {
    // The catalog in hand stays; loading the chart reports a server that is down.
  }
}
window.addEventListener('focus', refreshCatalog);
setInterval(() => { if (document.visibilityState === 'visible') refreshCatalog(); }, 10_000);
window.addEventListener('pagehide', () => { if (shown) saveLayout(); });

// A link's symbol may be written without its provider (`EXPE`), as the API accepts.
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
    const [{ indicators }, { symbols }] = await Promise.all([track(api('/api/indicators')), track(api('/api/symbols'))]);
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
    if (CHART_TYPES.some((t) => t.id === wanted.type)) chooseType(wanted.type);
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
