// @ts-check
// The page's one state: what is on the chart, as the link says it (the
// symbol, timeframe, chart type, compared symbols and their anchor, the
// runs). The indicators are the indicator panel's. Every change of the
// chart goes through this object, and the link is written from it; the
// rules that change it are the pure functions below, unit-tested.
import { runSymbol } from './runs.js';

/**
 * @import { SymbolInfo } from './api.js'
 * @import { ChartType } from './chart.js'
 * @import { LinkLayout } from './layout.js'
 * @import { RunSummary } from './runs.js'
 */

/**
 * What is on the chart. `symbol` and `timeframe` are null until known.
 * @typedef {object} View
 * @property {string | null} symbol
 * @property {string | null} timeframe
 * @property {ChartType} type
 * @property {string[]} compared the symbols compared with the chart (their ids, once the server named them)
 * @property {number | null} anchor the bar they are rebased to, when the user pinned one (its time)
 * @property {string | null} run the backtest run on the chart
 * @property {string | null} vs a second run laid over it
 * @property {Replay | null} replay the chart as it stood at an instant, while replaying
 */

/**
 * A replay's place: its cursor (Unix seconds) and what a step moves it by
 * (a finer stored timeframe; null: one chart bar).
 * @typedef {{cursor: number, step: string | null}} Replay
 */

/**
 * What the server offers.
 * @typedef {object} Catalog
 * @property {SymbolInfo[]} symbols
 * @property {RunSummary[]} runs the runs folder, as /api/runs lists it
 * @property {string[]} timeframes the chart symbol's timeframes on offer
 */

// As many compared symbols as /api/data answers.
export const MAX_COMPARED = 8;

/** @returns {View} */
export function emptyView() {
  return { symbol: null, timeframe: null, type: 'candles', compared: [], anchor: null, run: null, vs: null, replay: null };
}

/**
 * The link of `view` with the indicators' calls and colours.
 * @param {View} view
 * @param {string} indicators
 * @param {string[]} colors
 * @returns {LinkLayout}
 */
export function viewLayout(view, indicators, colors) {
  return {
    symbol: view.symbol ?? undefined, timeframe: view.timeframe ?? undefined, type: view.type, indicators, colors,
    compare: view.compared.join(',') || undefined, anchor: view.compared.length ? view.anchor ?? undefined : undefined,
    run: view.run ?? undefined, vs: view.vs ?? undefined,
    replay: view.replay?.cursor, step: view.replay?.step ?? undefined,
  };
}

/**
 * The symbol `wanted` names: its id, or its bare ticker when only one
 * provider has it (a link may write `EXPE`, as the API accepts).
 * @param {SymbolInfo[]} symbols
 * @param {string | undefined} wanted
 * @returns {SymbolInfo | undefined}
 */
export function findSymbol(symbols, wanted) {
  if (!wanted) return undefined;
  const exact = symbols.find((s) => s.id === wanted);
  const bare = symbols.filter((s) => s.symbol === wanted);
  return exact ?? (bare.length === 1 ? bare[0] : undefined);
}

/**
 * The symbols a link's `compare=` asks for, but the chart's own, at most as many as can be.
 * @param {string | undefined} compare
 * @param {string} symbol
 * @returns {string[]}
 */
export function linkCompared(compare, symbol) {
  return compare?.split(',').map((c) => c.trim()).filter((c) => c && c !== symbol).slice(0, MAX_COMPARED) ?? [];
}

/**
 * The symbol to compare that the user typed (an id, or a bare ticker in any
 * case), or why it cannot join.
 * @param {View} view
 * @param {SymbolInfo[]} symbols
 * @param {string} text
 * @returns {{id: string} | {refusal: string}}
 */
export function comparedSymbol(view, symbols, text) {
  const wanted = text.trim();
  const found = findSymbol(symbols, wanted) ?? findSymbol(symbols, wanted.toUpperCase());
  if (!found) return { refusal: `unknown symbol '${wanted}': pick one of the list` };
  if (found.id === view.symbol) return { refusal: `${found.id} is the chart's own symbol` };
  if (view.compared.includes(found.id)) return { refusal: `${found.id} is already compared` };
  if (view.compared.length >= MAX_COMPARED) return { refusal: `at most ${MAX_COMPARED} symbols can be compared` };
  return { id: found.id };
}

/**
 * What changes when the chart moves to symbol `id`: the runs stay only if
 * they trade it, and it is no longer compared with itself.
 * @param {View} view
 * @param {RunSummary[]} runs
 * @param {string} id
 * @returns {Partial<View>}
 */
export function onSymbol(view, runs, id) {
  const trades = (/** @type {string | null} */ run) => run !== null && !!runs.find((r) => r.run === run)?.symbols.includes(id);
  const run = trades(view.run) ? view.run : null;
  return { symbol: id, compared: view.compared.filter((c) => c !== id), run, vs: run && trades(view.vs) ? view.vs : null };
}

/**
 * What changes when run `id` is chosen (empty or broken: none): the symbol
 * it opens on (the chart's if it trades it, else its first), and the run
 * laid over it only if that one trades the symbol too.
 * @param {View} view
 * @param {RunSummary[]} runs
 * @param {string} id
 * @returns {Partial<View>}
 */
export function onRun(view, runs, id) {
  const chosen = runs.find((r) => r.run === id);
  const run = chosen && !chosen.error ? chosen.run : null;
  const symbol = chosen && run ? runSymbol(chosen, view.symbol) : undefined;
  const laid = runs.find((r) => r.run === view.vs);
  const vs = symbol && view.vs !== run && laid?.symbols.includes(symbol) ? view.vs : null;
  return symbol ? { run, vs, symbol } : { run, vs };
}
