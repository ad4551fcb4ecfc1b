// @ts-check
// Candela's chart page: puts the parts together. The view (./view.js) is
// what is on the chart, as the link says it; the controllers change it and
// draw it: the chart and its paging (./chart-controller.js), the runs
// (./run-controller.js), the replay (./replay-controller.js) and live bars
// (./live-controller.js). Here: the toolbar's buttons, the shortcuts, the
// catalog kept fresh, and the start from the link or the remembered layout.
import { ApiError, api, errorPlace } from './api.js';
import { PriceChart } from './chart.js';
import { ChartController } from './chart-controller.js';
import { chartImage, csvText, download } from './export.js';
import { IndicatorPanel } from './indicators.js';
import { fromLink, remember, remembered } from './layout.js';
import { Errors, el, elementOf, track } from './page.js';
import { RunController, linkedRun } from './run-controller.js';
import { RunData } from './run-data.js';
import { RunPanel } from './run-panel.js';
import { ReplayController } from './replay-controller.js';
import { LiveController } from './live-controller.js';
import { compareCandidates, withRunEvent } from './runs.js';
import { installShortcuts, toggleHelp } from './shortcuts.js';
import { SqlConsole } from './sql-console.js';
import { SymbolPicker } from './symbols.js';
import { TradeOverlay } from './trade-overlay.js';
import { emptyView, findSymbol, linkCompared, onSymbol } from './view.js';

/**
 * @import { IndicatorsResponse, SymbolsResponse } from './api.js'
 * @import { Drawable } from './chart.js'
 * @import { Layout } from './layout.js'
 * @import { RunView } from './run-controller.js'
 * @import { RunEvent, RunSummary, RunsResponse } from './runs.js'
 * @import { Catalog, View } from './view.js'
 */

/**
 * What tests and the console reach as `window.candela`.
 * @typedef {object} CandelaHandle
 * @property {PriceChart} chart
 * @property {IndicatorPanel} panel
 * @property {View} view
 * @property {Catalog} catalog
 * @property {() => Drawable | null} history the history on the chart (a `BarHistory`, or a SQL result)
 * @property {TradeOverlay} trades the runs' trades drawn over the bars
 * @property {RunPanel} runPanel
 * @property {() => RunView | null} run the runs on the chart, once their trades are drawn
 * @property {ReplayController} replay
 */

// The first window. A link may ask for another (`bars=`), up to the API's cap.
const INITIAL_BARS = 5000;

const link = fromLink();
/** @type {Layout} */
const memory = remembered();
const initialBars = Math.min(Math.max(Number(new URLSearchParams(location.search).get('bars')) || INITIAL_BARS, 100), 1_000_000);
/** @type {'dark' | 'light'} */
let theme = memory.theme === 'dark' || memory.theme === 'light' ? memory.theme : preferredTheme();
const view = emptyView();
/** @type {Catalog} */
const catalog = { symbols: [], runs: [], timeframes: [] };

const chart = new PriceChart(el('chart'), theme);
const panel = new IndicatorPanel(el('indicators'), { onChange: () => charts.loadChart(), onRecolor: () => charts.redraw() });
const errors = new Errors((message) => panel.setError(message));
const picker = new SymbolPicker(elementOf('symbol-search', HTMLInputElement), el('symbol-list'), chooseSymbol);
const sqlConsole = new SqlConsole(el('sql'), { onChart: (history) => charts.showSqlResult(history) });
const overlay = new TradeOverlay(chart);
chart.addOverlay(overlay);
const runPanel = new RunPanel(el('run'), {
  onPick: (layer, trade) => runs.goToTrade(layer, trade), onPanes: (shown) => runs.setPanes(shown), onExport: () => runs.exportTrades(),
});
const charts = new ChartController({
  view, catalog, chart, panel, memory, errors, initialBars,
  hooks: {
    loading: (symbol, timeframe) => runs.prefetch(symbol, timeframe),
    presented: (history) => runs.presented(history),
    loaded: () => {
      runs.load();
      replay.reattach();
      live.follow();
    },
    paged: (history, added) => runs.paged(history, added),
  },
});
const runData = new RunData();
const runs = new RunController({
  view, runList: () => catalog.runs, chart, charts, overlay, panel: runPanel, data: runData, memory, errors, picker,
  afterLoad: () => replay.rejoin(),
});
const replay = new ReplayController({ view, catalog, chart, charts, runs, errors });
const live = new LiveController({ chart, charts, runs, replay, errors });

// Tests and the console reach the live chart through this handle.
window.candela = { chart, panel, view, catalog, history: () => charts.shown, trades: overlay, runPanel, run: () => runs.shown, replay };

/** @returns {'dark' | 'light'} */
function preferredTheme() {
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** @param {string} id */
function chooseSymbol(id) {
  Object.assign(view, onSymbol(view, catalog.runs, id));
  errors.clear();
  runs.renderPickers();
  charts.openSymbol();
}

function toggleTheme() {
  theme = theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = theme;
  chart.setTheme(theme);
  remember({ theme });
}

const fileName = (/** @type {string} */ ext) => `${view.symbol}-${view.timeframe}`.replace(/[^\w.-]+/g, '_') + `.${ext}`;

function exportPng() {
  if (!charts.shown) return;
  const background = getComputedStyle(document.documentElement).getPropertyValue('--chart-bg').trim();
  chartImage(chart, el('legends'), background).toBlob((blob) => { if (blob) download(blob, fileName('png')); }, 'image/png');
}

function exportCsv() {
  const range = chart.visibleIndices();
  if (!range || !charts.shown) return;
  download(new Blob([csvText(charts.shown, range.from, range.to)], { type: 'text/csv' }), fileName('csv'));
}

el('load').addEventListener('click', () => charts.loadChart({ fresh: true }));
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
  { keys: ['c'], help: 'Next chart type (candles, OHLC, line, Heikin-Ashi)', run: () => charts.nextType() },
  { keys: ['ArrowLeft', 'ArrowRight'], label: '← / →', help: 'Scroll back / forward in time; replaying, step a bar (Shift: one replay interval)',
    run: (e) => {
      const dir = e.key === 'ArrowLeft' ? -1 : 1;
      if (replay.active) replay.step(dir, e.shiftKey);
      else chart.pan(dir * 0.25);
    } },
  { keys: ['R'], label: 'Shift+R', help: 'Replay: start (click a bar or type a date), or back to the latest bars', run: () => replay.toggle() },
  { keys: [' '], label: 'Space', help: 'Replay: play or pause', run: () => replay.togglePlay() },
  { keys: ['Escape'], label: 'Esc', help: 'Leave the replay', run: () => { if (replay.active || replay.picking) replay.exit(); } },
  { keys: ['+', '=', '-'], label: '+ / −', help: 'Zoom in / out', run: (e) => chart.zoom(e.key === '-' ? 1.5 : 1 / 1.5) },
  { keys: ['f'], help: 'Fit the loaded bars (as many as the chart can show)', run: () => chart.fit() },
  { keys: ['Home', 'End'], label: 'Home / End', help: 'The oldest loaded bars (older ones load) / the latest bars',
    run: (e) => (e.key === 'Home' ? chart.toOldest() : chart.toLatest()) },
  { keys: ['/'], help: 'Search symbols', run: () => el('symbol-search').focus() },
  { keys: ['r'], help: 'Load the chart again', run: () => charts.loadChart({ fresh: true }) },
  { keys: ['t'], help: 'Switch between dark and light', run: toggleTheme },
  { keys: ['p'], help: 'Save the chart as PNG', run: exportPng },
  { keys: ['s'], help: 'Save the shown bars and indicators as CSV', run: exportCsv },
  { keys: ['q'], help: 'Open or close the SQL console (Ctrl+Enter runs)', run: () => sqlConsole.toggle() },
  { keys: [']', '['], label: '] / [', help: 'Backtest run: the next / previous trade of the list', run: (e) => runs.step(e.key === ']' ? 1 : -1) },
  { keys: ['e'], help: 'Backtest run: show or hide the equity pane', run: () => runs.togglePane('equity') },
  { keys: ['d'], help: 'Backtest run: show or hide the drawdown pane', run: () => runs.togglePane('drawdown') },
  { keys: ['?'], help: 'Show or hide this help', run: () => toggleHelp(elementOf('shortcuts', HTMLDialogElement)) },
], elementOf('shortcuts', HTMLDialogElement));

// Plugins come and go while the server runs: the catalog follows when the
// user comes back to the page, and every 10 s while the page is visible.
async function refreshCatalog() {
  try {
    panel.setCatalog(/** @type {IndicatorsResponse} */ (await api('/api/indicators')).indicators);
    if (!runStream || runStream.readyState === EventSource.CLOSED) {
      showRuns(/** @type {RunsResponse} */ (await api('/api/runs')).runs);
    }
  } catch {
    // The catalog in hand stays; loading the chart reports a server that is down.
  }
}
window.addEventListener('focus', refreshCatalog);
setInterval(() => { if (document.visibilityState === 'visible') refreshCatalog(); }, 10_000);

/**
 * The runs folder as it now is: the pickers, and a run on the chart that
 * was written again drawn again, as it now is (more trades, as a backtest
 * running live writes them).
 * @param {RunSummary[]} listed
 */
function showRuns(listed) {
  if (JSON.stringify(listed) === JSON.stringify(catalog.runs)) return;
  const before = catalog.runs;
  catalog.runs = listed;
  runData.forget();
  runs.renderPickers();
  const changed = (/** @type {string | null} */ id) => id !== null && JSON.stringify(before.find((r) => r.run === id)) !== JSON.stringify(listed.find((r) => r.run === id));
  if (before.length && (changed(view.run) || changed(view.vs))) runs.load();
}

// The runs as they change, pushed; where the stream is refused, the poll above.
/** @type {EventSource | null} */
let runStream = null;
function followRuns() {
  runStream = new EventSource('/api/runs/stream');
  runStream.addEventListener('runs', (event) => showRuns(/** @type {RunsResponse} */ (JSON.parse(event.data)).runs));
  runStream.addEventListener('run', (event) => showRuns(withRunEvent(catalog.runs, /** @type {RunEvent} */ (JSON.parse(event.data)))));
}
window.addEventListener('pagehide', () => { if (charts.shown) charts.saveLayout(); });

/**
 * Why the run a link names cannot be shown, as the API answers for it (an
 * unknown run, a broken one), to be said once the chart is up.
 * @param {string} id
 * @returns {Promise<unknown>}
 */
function runProblem(id) {
  return runData.detail(id).then(() => new Error(`run '${id}' in the link trades no symbol of the data folder`), (error) => error);
}

// Opens what the link asks for; a link without a symbol or run reopens the last layout.
(async () => {
  document.documentElement.dataset.theme = theme;
  const wanted = link.symbol || link.run ? link : memory;
  charts.askEarly(wanted);
  try {
    // A server without runs still charts; a link without a run does not wait for them.
    const runList = track(api('/api/runs')).then((answer) => /** @type {RunsResponse} */ (answer).runs, () => []);
    const [{ indicators }, { symbols }, listed] = await Promise.all([
      track(api('/api/indicators')).then((answer) => /** @type {IndicatorsResponse} */ (answer)),
      track(api('/api/symbols')).then((answer) => /** @type {SymbolsResponse} */ (answer)),
      wanted.run ? runList : [],
    ]);
    panel.setCatalog(indicators);
    catalog.symbols = symbols;
    catalog.runs = listed;
    followRuns();
    if (!wanted.run) {
      runList.then((list) => {
        // Unless the user chose meanwhile (a refresh filled the list).
        if (!catalog.runs.length) catalog.runs = list;
        runs.renderPickers();
      });
    }
    picker.setSymbols(symbols);
    if (!symbols.length) {
      errors.show(new Error('No symbols in the data folder: add parquet files under <root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/, or run `candela sample-data`.'), 'chart');
      return;
    }
    const found = findSymbol(symbols, wanted.symbol);
    const opened = linkedRun(catalog.runs, wanted.run, found?.id ?? null);
    const problem = wanted.run && !opened ? runProblem(wanted.run) : null;
    view.symbol = opened?.symbol ?? (found ?? symbols[0]).id;
    if (opened) {
      view.run = opened.run.run;
      const other = catalog.runs.find((r) => r.run === wanted.vs);
      if (other && compareCandidates(catalog.runs, view.run, view.symbol).includes(other)) view.vs = other.run;
      runs.showSide('run');
    }
    view.compared = linkCompared(wanted.compare, view.symbol);
    view.anchor = view.compared.length ? wanted.anchor ?? null : null;
    charts.renderCompared();
    runs.renderPickers();
    picker.setCurrent(view.symbol);
    if (wanted.type) charts.chooseType(wanted.type);
    // The chart loads while the symbol's timeframes do; it loads again only
    // if the link's timeframe turns out not to be on offer.
    const open = () => charts.loadChart({ fresh: true, linkCalls: wanted.indicators ?? '', colors: wanted.colors });
    view.timeframe = wanted.timeframe ?? null;
    const first = view.timeframe ? open() : null;
    const timeframeProblem = await charts.loadTimeframes(wanted.timeframe);
    await (first && !timeframeProblem ? first : open());
    // What the link asked for and could not have, said once the chart is up.
    if (wanted.symbol && !found && !opened) errors.show(new Error(`unknown symbol '${wanted.symbol}' in the link; showing ${view.symbol}`), 'symbol');
    // The API's error routes itself (beside the run picker); the page's own goes there too.
    if (problem) {
      const reason = await problem;
      errors.show(reason, reason instanceof ApiError ? errorPlace(reason) : 'run');
    }
    if (wanted.vs && view.run && view.vs !== wanted.vs) {
      errors.show(new Error(`vs=${wanted.vs} in the link is not another readable run of ${view.symbol}`), 'run');
    }
    if (timeframeProblem) errors.show(new Error(timeframeProblem), 'timeframe');
    if (link.replay !== undefined && !replay.active) await replay.start(link.replay, link.step ?? null);
  } catch (error) {
    errors.show(error);
  }
})();
