// @ts-check
// The HTTP API, as the UI uses it, and the shapes of its JSON. Errors carry
// the server's stable code, its message (what was wrong and how to fix it),
// and what they are about: the request parameter, the indicator call, the
// place in an SQL query. The page routes them by those, never by the words.
import { callText, readCall, sameCall } from './calls.js';

/** @import { Call } from './calls.js' */

/**
 * The `error` member of every error answer.
 * @typedef {object} ErrorDetail
 * @property {string} code e.g. `bad_parameter`, `unknown_symbol`, `timeframe_not_available`,
 *   `unknown_indicator`, `indicator_refused`, `indicator_failed`, `indicator_limit`, `sql_invalid`, `busy`,
 *   `unknown_run`, `run_invalid`, `run_symbol`, `run_too_large`
 * @property {string} message
 * @property {string} [param] the request parameter at fault: `symbol`, `timeframe`, `indicators`,
 *   `start`, `end`, `limit`, `compare`, `format`, `q`, `sql` or `run`
 * @property {string} [indicator] the one indicator call at fault, as the request wrote it (an
 *   unknown indicator: its id), or its canonical key (`sma(period=20)`) when it failed computing
 * @property {SqlPosition} [position] where in an SQL query, when the server knows
 * @property {string} [run] the backtest run at fault (its id), when its files are
 */

/** @typedef {{error: ErrorDetail}} ErrorBody */

/** A place in an SQL query, both counted from 1. @typedef {{line: number, column: number}} SqlPosition */

/**
 * Bars as parallel columns: `time` in Unix seconds, a missing value `null`.
 * @typedef {object} Bars
 * @property {number[]} time
 * @property {(number | null)[]} open
 * @property {(number | null)[]} high
 * @property {(number | null)[]} low
 * @property {(number | null)[]} close
 * @property {(number | null)[]} volume
 */

/** @typedef {'overlay' | 'pane'} Placement */

/**
 * One indicator call's outputs in an `/api/data` answer, one value per bar
 * (`null` during the warm-up).
 * @typedef {object} IndicatorResult
 * @property {string} id
 * @property {string} key the canonical call, e.g. `sma(period=20)`
 * @property {Record<string, number>} params
 * @property {Placement} placement
 * @property {Record<string, (number | null)[]>} outputs
 * @property {string} [source] `source=` as the key writes it, when not the close
 * @property {string} [timeframe] a higher timeframe the values come from
 * @property {import('./calls.js').Align} [align] what each bar may see of it
 * @property {(number | null)[]} [from] per bar, the start of the higher bar its values came from
 * @property {string} [label] what the legend calls it (SQL columns only)
 */

/**
 * A compared symbol's closes on the chart's bar times (`null`: no bar there).
 * @typedef {{symbol: string, close: (number | null)[]}} ComparedSeries
 */

/**
 * The answer of `/api/data`.
 * @typedef {object} DataResponse
 * @property {string} symbol
 * @property {string} timeframe
 * @property {{timeframe: string, aggregated: boolean}} source the stored timeframe the bars come from
 * @property {Bars} bars
 * @property {IndicatorResult[]} indicators
 * @property {ComparedSeries[]} [compare] with `compare=`, one per compared symbol, in the order asked
 */

/**
 * One declared parameter of an indicator.
 * @typedef {object} ParamSpec
 * @property {string} name
 * @property {'integer' | 'number'} type
 * @property {number} default
 * @property {number} min
 * @property {number} max
 * @property {string} [description]
 */

/** @typedef {{name: string, placement: Placement, style: 'line' | 'histogram' | 'band'}} OutputSpec */

/**
 * An indicator as `/api/indicators` lists it.
 * @typedef {object} IndicatorSpec
 * @property {string} id
 * @property {string} name
 * @property {string} category
 * @property {string} description
 * @property {string} [origin]
 * @property {Placement} [placement]
 * @property {ParamSpec[]} params
 * @property {OutputSpec[]} outputs
 * @property {string[]} [inputs]
 */

/** @typedef {{indicators: IndicatorSpec[]}} IndicatorsResponse */

/** @typedef {{id: string, provider: string, symbol: string, timeframes: string[]}} SymbolInfo */
/** @typedef {{symbols: SymbolInfo[]}} SymbolsResponse */

/** @typedef {{symbol: string, stored: string[], available: string[]}} TimeframesResponse */

/**
 * The JSON answer of `/api/sql`: timestamps are ISO 8601 text, structs objects.
 * @typedef {object} SqlResult
 * @property {{name: string, type: string}[]} columns
 * @property {unknown[][]} rows
 * @property {boolean} truncated
 */

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server does not answer
   * @param {ErrorDetail} detail
   */
  constructor(status, { code, message, param, indicator, position, run }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** @type {string | undefined} */
    this.param = param;
    /** @type {string | undefined} */
    this.indicator = indicator;
    /** @type {SqlPosition | undefined} */
    this.position = position;
    /** @type {string | undefined} */
    this.run = run;
  }
}

// The error detail of an answer, or what can be said without one (a proxy's
// HTML page, an empty body).
/**
 * @param {unknown} answer
 * @param {Response} response
 * @returns {ErrorDetail}
 */
function errorDetail(answer, response) {
  const fallback = { code: 'http_error', message: `${response.status} ${response.statusText}` };
  if (typeof answer !== 'object' || answer === null || !('error' in answer)) return fallback;
  const detail = /** @type {Partial<ErrorDetail> | null} */ (answer.error);
  if (typeof detail !== 'object' || detail === null) return fallback;
  const text = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : undefined);
  const position = detail.position;
  return {
    code: text(detail.code) ?? fallback.code,
    message: text(detail.message) ?? fallback.message,
    param: text(detail.param),
    indicator: text(detail.indicator),
    position: Number.isInteger(position?.line) && Number.isInteger(position?.column) ? position : undefined,
    run: text(detail.run),
  };
}

/**
 * GETs `path`, or POSTs `body` to it as JSON. The answer is what the server
 * sent; callers say which shape they asked for.
 * @param {string} path
 * @param {{signal?: AbortSignal, body?: unknown}} [options]
 * @returns {Promise<unknown>}
 */
export async function api(path, { signal, body } = {}) {
  /** @type {RequestInit} */
  const request = body === undefined
    ? { signal }
    : { signal, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(path, request);
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'unreachable', message: 'The Candela server does not answer; is it still running?' });
  }
  /** @type {unknown} */
  const answer = await response.json().catch(() => ({}));
  // The session ended (its hours passed, or its token was revoked): sign in again, back here after.
  if (response.status === 401 && typeof location !== 'undefined') {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) throw new ApiError(response.status, errorDetail(answer, response));
  return answer;
}

/** @typedef {'symbol' | 'timeframe' | 'indicators' | 'compare' | 'run' | 'chart'} ErrorPlace */

/** @type {Record<string, ErrorPlace>} */
const PLACE_OF_PARAM = { symbol: 'symbol', timeframe: 'timeframe', indicators: 'indicators', compare: 'compare', run: 'run' };

/** @type {Record<string, ErrorPlace>} */
const PLACE_OF_CODE = {
  unknown_symbol: 'symbol',
  ambiguous_symbol: 'symbol',
  timeframe_not_available: 'timeframe',
  unknown_indicator: 'indicators',
  indicator_refused: 'indicators',
  indicator_failed: 'indicators',
  indicator_limit: 'indicators',
  unknown_run: 'run',
  run_invalid: 'run',
  run_symbol: 'run',
  run_too_large: 'run',
};

/**
 * Which control an error is about, so that it is shown next to it: the
 * parameter the server names, else what its code is about, else the chart.
 * @param {unknown} error
 * @returns {ErrorPlace}
 */
export function errorPlace(error) {
  if (!(error instanceof ApiError)) return 'chart';
  if (error.param !== undefined) return Object.hasOwn(PLACE_OF_PARAM, error.param) ? PLACE_OF_PARAM[error.param] : 'chart';
  return Object.hasOwn(PLACE_OF_CODE, error.code) ? PLACE_OF_CODE[error.code] : 'chart';
}

/**
 * The entry an indicator error is about: the one whose call the error names
 * (`error.indicator`), as the page wrote it or as the server's canonical key
 * writes it (the same names and values, `2` or `2.0`); for an unknown
 * indicator, named by its bare id, the first entry with that id. Undefined
 * when the error names no call or none of these.
 * @template {Call} Entry
 * @param {readonly Entry[]} entries
 * @param {unknown} error
 * @returns {Entry | undefined}
 */
export function culpritEntry(entries, error) {
  if (!(error instanceof ApiError) || error.indicator === undefined) return undefined;
  const named = error.indicator;
  const exact = entries.find((e) => callText(e) === named);
  if (exact) return exact;
  const call = readCall(named);
  if (!call) return undefined;
  if (!named.includes('(')) return entries.find((e) => e.id === call.id);
  return entries.find((e) => sameCall(e, call));
}
