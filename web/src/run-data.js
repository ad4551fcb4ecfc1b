// @ts-check
// The runs API as the page asks it: a run's details and its trades on a
// symbol's bars of a timeframe are kept once fetched (a run's trades are a
// few megabytes at most, and the same for every page of bars), its equity
// is asked for by stretches of bars, as the bars themselves are.
import { api } from './api.js';
import { runPath } from './runs.js';

/** @import { EquityResponse, RunDetail, Trade, TradesResponse } from './runs.js' */

// Kept answers, the oldest dropped first: enough for two runs on a few timeframes.
const KEPT = 12;

export class RunData {
  constructor() {
    /** @type {Map<string, Promise<unknown>>} */
    this.kept = new Map();
  }

  /**
   * The answer at `url`, fetched once; a failed one is forgotten, to be asked again.
   * @param {string} url
   * @returns {Promise<unknown>}
   */
  keep(url) {
    const held = this.kept.get(url);
    if (held) return held;
    const answer = api(url);
    answer.catch(() => this.kept.delete(url));
    this.kept.set(url, answer);
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value ?? '');
    return answer;
  }

  // Forgets every answer kept: the runs folder changed.
  forget() {
    this.kept.clear();
  }

  /**
   * @param {string} run
   * @returns {Promise<RunDetail>}
   */
  async detail(run) {
    return /** @type {RunDetail} */ (await this.keep(runPath(run)));
  }

  /**
   * The run as it stood at `cursor` (Unix seconds): asked each time, never kept.
   * @param {string} run
   * @param {number} cursor
   * @returns {Promise<RunDetail>}
   */
  async detailAsOf(run, cursor) {
    return /** @type {RunDetail} */ (await api(runPath(run, '', { asof: cursor })));
  }

  /**
   * The run's trades of `symbol`, placed on its bars of `timeframe`.
   * @param {string} run
   * @param {string} symbol
   * @param {string} timeframe
   * @returns {Promise<Trade[]>}
   */
  async trades(run, symbol, timeframe) {
    return /** @type {TradesResponse} */ (await this.keep(runPath(run, 'trades', { symbol, timeframe }))).trades;
  }

  /**
   * The run's equity on the bars of `timeframe` from `start` to `end` (bar times, included).
   * @param {string} run
   * @param {string} timeframe
   * @param {number} start
   * @param {number} end
   * @param {AbortSignal} [signal]
   * @returns {Promise<EquityResponse>}
   */
  async equity(run, timeframe, start, end, signal) {
    return /** @type {EquityResponse} */ (await api(runPath(run, 'equity', { timeframe, start, end }), { signal }));
  }
}
