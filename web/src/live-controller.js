// @ts-check
// Live bars on the page: while the chart shows its latest bars (not
// scrolled back, not replaying) it follows `/api/stream`; the last candle
// updates and new ones append, with their indicators, the legend and the
// run's curves following. The browser's EventSource reconnects by itself
// (with the last bar it has); where a stream is refused the page polls.
import { api } from './api.js';
import { BarHistory, dataQuery } from './history.js';
import { el } from './page.js';

/**
 * @import { DataResponse } from './api.js'
 * @import { PriceChart } from './chart.js'
 * @import { ChartController } from './chart-controller.js'
 * @import { Errors } from './page.js'
 * @import { ReplayController } from './replay-controller.js'
 * @import { RunController } from './run-controller.js'
 */

// Where a stream is refused, the latest bars are asked for this often (ms).
export const POLL_MS = 5_000;
// The view is at the latest bars when its last one is within this many of the end.
const LATEST_SLACK = 3;

/**
 * Whether a view ending at history index `to` shows the latest of `length` bars.
 * @param {number | undefined} to
 * @param {number} length
 */
export const atLatest = (to, length) => to !== undefined && to >= length - 1 - LATEST_SLACK;

/**
 * The stream's URL for a chart holding bars up to `since` (Unix seconds),
 * its values computed from `origin`.
 * @param {import('./history.js').DataRequest} request
 * @param {number} since
 * @param {number} [origin]
 */
export function streamUrl({ symbol, timeframe, indicators }, since, origin) {
  const query = new URLSearchParams({ symbol, timeframe });
  if (indicators) query.set('indicators', indicators);
  query.set('since', String(since));
  if (origin !== undefined) query.set('origin', String(origin));
  return `/api/stream?${query}`;
}

export class LiveController {
  /**
   * @param {object} parts
   * @param {PriceChart} parts.chart
   * @param {ChartController} parts.charts
   * @param {RunController} parts.runs
   * @param {ReplayController} parts.replay
   * @param {Errors} parts.errors
   */
  constructor({ chart, charts, runs, replay, errors }) {
    this.chart = chart;
    this.charts = charts;
    this.runs = runs;
    this.replay = replay;
    this.errors = errors;
    /** The history followed. @type {BarHistory | null} */
    this.history = null;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {number | undefined} */
    this.poller = undefined;
    let pending = false;
    chart.chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.follow();
      });
    });
  }

  /** Follows the chart's history while it shows its latest bars; else stops. */
  follow() {
    const history = this.charts.shown;
    const wanted = history instanceof BarHistory && !this.replay.active && this.chart.history === history
      && atLatest(this.chart.visibleIndices()?.to, history.length) ? history : null;
    if (wanted === this.history) return;
    this.stop();
    if (wanted) this.start(wanted);
  }

  /** @param {BarHistory} history */
  start(history) {
    this.history = history;
    const since = history.bars.time.at(-1);
    if (since === undefined) return;
    const source = new EventSource(streamUrl(history.request, since, history.origin));
    this.source = source;
    source.addEventListener('bars', (event) => this.merge(history, JSON.parse(event.data)));
    source.addEventListener('open', () => this.badge('live'));
    source.addEventListener('error', (event) => {
      if (event instanceof MessageEvent && event.data) {
        // The server's own error event: a new file cannot be read.
        this.errors.show(new Error(JSON.parse(event.data).error?.message ?? event.data), 'chart');
        return;
      }
      // Refused (or the server gone for good): poll instead; otherwise the browser reconnects.
      if (source.readyState === EventSource.CLOSED && this.source === source) this.poll(history);
      else this.badge('reconnecting');
    });
  }

  /**
   * Asks for the latest bars every POLL_MS, where a stream is refused.
   * @param {BarHistory} history
   */
  poll(history) {
    this.source?.close();
    this.source = null;
    this.badge('polling');
    const ask = async () => {
      const since = history.bars.time.at(-1);
      if (since === undefined || this.history !== history) return;
      try {
        const answer = /** @type {DataResponse} */ (await api(dataQuery({ ...history.request, compare: '', start: history.origin ?? since, limit: 1_000_000 })));
        this.merge(history, answer, since);
      } catch {
        this.badge('offline');
      }
    };
    this.poller = window.setInterval(ask, POLL_MS);
  }

  stop() {
    this.source?.close();
    this.source = null;
    clearInterval(this.poller);
    this.poller = undefined;
    this.history = null;
    el('live').hidden = true;
  }

  /**
   * Joins newer bars into the history on the chart and draws what changed.
   * @param {BarHistory} history
   * @param {DataResponse} answer
   * @param {number} [since] only its bars from here on
   */
  merge(history, answer, since) {
    if (history !== this.history || history !== this.charts.shown) return;
    const before = history.length;
    const from = history.append(answer, since);
    if (from < 0) return;
    if (this.chart.history === history) this.chart.redrawEnd(from);
    this.runs.grown(history, from);
    this.charts.updateLegends();
    el('chart').dataset.bars = String(history.length);
    el('chart').dataset.live = `${history.bars.time.at(-1)}|${history.length - before}`;
    this.badge(this.source ? 'live' : 'polling');
  }

  /**
   * The badge: how the chart follows, and when it was last updated.
   * @param {'live' | 'polling' | 'reconnecting' | 'offline'} how
   */
  badge(how) {
    const badge = el('live');
    badge.hidden = false;
    badge.dataset.state = how;
    const time = new Date().toISOString().slice(11, 19);
    badge.textContent = how === 'live' || how === 'polling' ? `● ${how} · ${time} UTC` : `● ${how}`;
    badge.title = how === 'polling' ? 'The server refused a stream: the latest bars are asked for every 5 s' : 'The chart follows new bars as they are written';
  }
}
