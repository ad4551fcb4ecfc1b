// @ts-check
// Backtest runs as the page uses them: the shapes of the runs API's JSON,
// which runs the pickers offer (a broken run listed, disabled, with why),
// and the statistics card's rows, formatted.

/**
 * A run's statistics, as backtesting.py names them; any may be null (no
 * closed trade, no drawdown yet).
 * @typedef {object} RunStats
 * @property {number | null} return_pct
 * @property {number | null} max_drawdown_pct zero or negative
 * @property {number | null} max_drawdown_duration_s
 * @property {number | null} trades
 * @property {number | null} win_rate_pct
 * @property {number | null} best_trade_pct
 * @property {number | null} worst_trade_pct
 * @property {number | null} avg_trade_pct
 * @property {number | null} profit_factor
 * @property {number | null} expectancy_pct
 * @property {number | null} exposure_time_pct
 * @property {number | null} sharpe_ratio
 * @property {number | null} sortino_ratio
 * @property {number | null} final_equity
 * @property {number | null} net_pnl
 */

/**
 * Where in a run's files a problem is: a CSV file's line, a parquet file's row.
 * @typedef {{line: number} | {row: number}} RunRow
 */

/**
 * Why a run cannot be shown.
 * @typedef {object} RunFailure
 * @property {string} code e.g. `run_invalid`, `run_symbol`, `run_too_large`
 * @property {string} message
 * @property {string} [file]
 * @property {RunRow} [row]
 * @property {string} [column]
 */

/**
 * A run of `/api/runs`: its statistics, or its `error`.
 * @typedef {object} RunSummary
 * @property {string} run the run's id (its folder name)
 * @property {string} name
 * @property {string} [strategy]
 * @property {string[]} symbols `PROVIDER:SYMBOL`s traded
 * @property {RunStats} [stats]
 * @property {RunFailure} [error]
 */

/** @typedef {{runs: RunSummary[]}} RunsResponse */

/**
 * The answer of `/api/runs/{run}`. `start` and `end` bound its equity curve (Unix seconds).
 * @typedef {object} RunDetail
 * @property {string} run
 * @property {string} name
 * @property {string} [strategy]
 * @property {Record<string, unknown>} params
 * @property {number} [starting_cash]
 * @property {string[]} symbols
 * @property {string} timezone
 * @property {string} [notes]
 * @property {number | null} start
 * @property {number | null} end
 * @property {number} trade_count
 * @property {number} open_trades
 * @property {boolean} equity_derived
 * @property {boolean} has_cash
 * @property {RunStats} stats
 */

/**
 * One trade, placed on the bars of a timeframe: `entry_bar` and `exit_bar`
 * are the start times of the candles the entry and the exit fall into (the
 * times /api/data returns). A trade still open has no exit, PnL, return or
 * bars held, and is marked at the last known close (`mark_price`, its bar
 * `mark_bar`), its PnL and return there before costs.
 * @typedef {object} Trade
 * @property {number} id its place in the run, by entry time, from 0
 * @property {string} symbol
 * @property {'long' | 'short'} side
 * @property {number} size
 * @property {number} entry_time
 * @property {number} entry_price
 * @property {number | null} exit_time
 * @property {number | null} exit_price
 * @property {number | null} pnl
 * @property {number | null} return_pct
 * @property {number | null} entry_bar
 * @property {number | null} exit_bar
 * @property {number | null} bars_held
 * @property {number | null} mark_price
 * @property {number | null} mark_bar
 * @property {number | null} unrealized_pnl
 * @property {number | null} unrealized_return_pct
 * @property {number | null} commission
 * @property {number | null} stop_loss
 * @property {number | null} take_profit
 * @property {string | null} tag
 */

/** @typedef {{run: string, timeframe: string | null, trades: Trade[]}} TradesResponse */

/**
 * The answer of `/api/runs/{run}/equity`: one point per candle (its start
 * time), the drawdown in percent below the running peak (zero or negative).
 * @typedef {object} EquityResponse
 * @property {string} run
 * @property {string} timeframe
 * @property {{time: number[], equity: number[], drawdown_pct: number[], cash?: number[]}} equity
 */

/**
 * `message (trades.csv, line 12, column pnl)`: a broken run's reason and place.
 * @param {RunFailure} failure
 * @returns {string}
 */
export function failureText({ message, file, row, column }) {
  const place = [
    file,
    row && ('line' in row ? `line ${row.line}` : `row ${row.row}`),
    column && `column ${column}`,
  ].filter(Boolean);
  return place.length ? `${message} (${place.join(', ')})` : message;
}

/**
 * One option of a run picker.
 * @typedef {{value: string, label: string, disabled: boolean, title: string}} RunChoice
 */

/**
 * The run picker's options: every run, a broken one disabled with its
 * reason as its tooltip.
 * @param {readonly RunSummary[]} runs
 * @returns {RunChoice[]}
 */
export function runChoices(runs) {
  return runs.map((r) => (r.error
    ? { value: r.run, label: `${r.name} (cannot be read)`, disabled: true, title: failureText(r.error) }
    : { value: r.run, label: r.name, disabled: false, title: `${r.run}: ${[r.strategy, r.symbols.join(', ')].filter(Boolean).join(' on ')}` }));
}

/**
 * The runs that can be laid over `primary` on `symbol`: the others that
 * trade it and can be read.
 * @param {readonly RunSummary[]} runs
 * @param {string} primary
 * @param {string} symbol
 * @returns {RunSummary[]}
 */
export function compareCandidates(runs, primary, symbol) {
  return runs.filter((r) => r.run !== primary && !r.error && r.symbols.includes(symbol));
}

/**
 * One run's change, as `/api/runs/stream` tells it.
 * @typedef {{run: string, change: 'added' | 'changed' | 'broken' | 'removed', summary?: RunSummary}} RunEvent
 */

/**
 * The list of runs after `event`, in the server's order (by folder name).
 * @param {readonly RunSummary[]} runs
 * @param {RunEvent} event
 * @returns {RunSummary[]}
 */
export function withRunEvent(runs, { run, summary }) {
  const others = runs.filter((r) => r.run !== run);
  if (!summary) return others;
  const at = others.findIndex((r) => r.run > run);
  return at < 0 ? [...others, summary] : [...others.slice(0, at), summary, ...others.slice(at)];
}

/**
 * The symbol a run opens on: the one on the chart when it trades it, else its first.
 * @param {RunSummary} run
 * @param {string | null} current
 * @returns {string | undefined}
 */
export function runSymbol(run, current) {
  return current !== null && run.symbols.includes(current) ? current : run.symbols[0];
}

const fixed2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * Money with cents: `111,906.80`; `signed` writes `+` before a gain.
 * @param {number} value
 * @param {boolean} [signed]
 */
export function money(value, signed = false) {
  return `${signed && value > 0 ? '+' : ''}${fixed2.format(value)}`;
}

/**
 * A percentage with two decimals: `-24.92%`; `signed` writes `+` before a gain.
 * @param {number} value
 * @param {boolean} [signed]
 */
export function percent(value, signed = false) {
  return `${signed && value > 0 ? '+' : ''}${fixed2.format(value)}%`;
}

/**
 * A length of time, its two largest units: `944 d 12 h`, `5 h 20 m`, `42 m`, `30 s`.
 * @param {number} seconds
 * @returns {string}
 */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const units = /** @type {const} */ ([['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]]);
  const first = units.findIndex(([, size]) => s >= size);
  if (first < 0) return '0 s';
  const [name, size] = units[first];
  const whole = Math.floor(s / size);
  const next = units[first + 1];
  const rest = next ? Math.floor((s - whole * size) / next[1]) : 0;
  return rest && next ? `${whole} ${name} ${rest} ${next[0]}` : `${whole} ${name}`;
}

/** @typedef {'up' | 'down' | ''} Tone */

/**
 * How a statistic reads: its text, and whether it is good or bad news.
 * @typedef {{key: keyof RunStats, label: string, format: (value: number) => string, tone?: (value: number) => Tone}} StatRow
 */

const sign = (/** @type {number} */ v) => /** @type {Tone} */ (v > 0 ? 'up' : v < 0 ? 'down' : '');

/** @type {readonly StatRow[]} */
export const STAT_ROWS = [
  { key: 'return_pct', label: 'Return', format: (v) => percent(v, true), tone: sign },
  { key: 'net_pnl', label: 'Net PnL', format: (v) => money(v, true), tone: sign },
  { key: 'final_equity', label: 'Final equity', format: (v) => money(v) },
  { key: 'max_drawdown_pct', label: 'Max drawdown', format: (v) => percent(v), tone: (v) => (v < 0 ? 'down' : '') },
  { key: 'max_drawdown_duration_s', label: 'Longest drawdown', format: duration },
  { key: 'trades', label: 'Trades', format: (v) => integer.format(v) },
  { key: 'win_rate_pct', label: 'Win rate', format: (v) => percent(v) },
  { key: 'best_trade_pct', label: 'Best trade', format: (v) => percent(v, true), tone: sign },
  { key: 'worst_trade_pct', label: 'Worst trade', format: (v) => percent(v, true), tone: sign },
  { key: 'avg_trade_pct', label: 'Avg. trade', format: (v) => percent(v, true), tone: sign },
  { key: 'profit_factor', label: 'Profit factor', format: (v) => fixed2.format(v), tone: (v) => (v > 1 ? 'up' : v < 1 ? 'down' : '') },
  { key: 'expectancy_pct', label: 'Expectancy', format: (v) => percent(v, true), tone: sign },
  { key: 'exposure_time_pct', label: 'Exposure time', format: (v) => percent(v) },
  { key: 'sharpe_ratio', label: 'Sharpe ratio', format: (v) => fixed2.format(v), tone: sign },
  { key: 'sortino_ratio', label: 'Sortino ratio', format: (v) => fixed2.format(v), tone: sign },
];

/**
 * One formatted statistic: `–` when the run has no value for it.
 * @typedef {{key: keyof RunStats, label: string, text: string, tone: Tone}} StatCell
 */

/**
 * The statistics card's rows for `stats`, in the card's order.
 * @param {RunStats} stats
 * @returns {StatCell[]}
 */
export function formatStats(stats) {
  return STAT_ROWS.map(({ key, label, format, tone }) => {
    const value = stats[key];
    return value == null || !Number.isFinite(value)
      ? { key, label, text: '–', tone: '' }
      : { key, label, text: format(value), tone: tone?.(value) ?? '' };
  });
}

/**
 * A run's parameters as one line: `fast=20, slow=50`; `–` without any.
 * @param {Record<string, unknown>} params
 * @returns {string}
 */
export function paramsText(params) {
  const pairs = Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return pairs.length ? pairs.join(', ') : '–';
}

/**
 * The URL of a run's resource: `/api/runs/{run}`, or its `trades` or
 * `equity` with the query's non-empty values.
 * @param {string} run
 * @param {'' | 'trades' | 'equity'} [part]
 * @param {Record<string, string | number | undefined>} [query]
 * @returns {string}
 */
export function runPath(run, part = '', query = {}) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return `/api/runs/${encodeURIComponent(run)}${part ? `/${part}` : ''}${text ? `?${text}` : ''}`;
}
