// @ts-check
// A run's trades on the chart, as pure functions of the trades and the bars
// drawn: which trades fall in a window of bar times, their entry and exit
// markers, the lines from entry to exit and the stop-loss and take-profit
// levels over each trade's span, the trades under the crosshair, the trade
// list's orders, stepping from trade to trade, and what a tooltip says.

import { barIndex } from './history.js';

/** @import { SeriesMarker, Time, UTCTimestamp } from 'lightweight-charts' */
/** @import { Trade } from './runs.js' */
/** @import { Tone } from './runs.js' */

/**
 * How one run's trades are drawn: entry colours by side, exit colours by
 * outcome, the exit marker's shape and the lines' dash (canvas `setLineDash`).
 * @typedef {object} TradeStyle
 * @property {string} long
 * @property {string} short
 * @property {string} win
 * @property {string} loss
 * @property {string} open a trade still open: its line to the latest close
 * @property {'circle' | 'square'} exitShape
 * @property {number[]} dash
 * @property {string} stop
 * @property {string} target
 * @property {string} curve its equity curve (and the run's colour in the card and legends)
 */

/** The first run's style, then a compared run's: other colours, shapes and dashes. @type {readonly TradeStyle[]} */
export const TRADE_STYLES = [
  {
    long: '#26a69a', short: '#ef5350', win: '#26a69a', loss: '#ef5350', open: '#9aa3b8',
    exitShape: 'circle', dash: [6, 4], stop: 'rgba(239,83,80,0.9)', target: 'rgba(38,166,154,0.9)', curve: '#f5c542',
  },
  {
    long: '#4dabf7', short: '#ff922b', win: '#4dabf7', loss: '#ff922b', open: '#c5a3ff',
    exitShape: 'square', dash: [2, 3], stop: 'rgba(255,146,43,0.9)', target: 'rgba(77,171,247,0.9)', curve: '#e056fd',
  },
];

const utc = (/** @type {number} */ seconds) => /** @type {UTCTimestamp} */ (seconds);

/**
 * The trades open at some bar from `first` to `last` (bar times, both
 * included): entered at or before `last`, not exited before `first`. A
 * trade still open reaches every later bar. In the trades' order.
 * @param {readonly Trade[]} trades
 * @param {number} first
 * @param {number} last
 * @returns {Trade[]}
 */
export function tradesInRange(trades, first, last) {
  return trades.filter((t) => t.entry_bar !== null && t.entry_bar <= last && (t.exit_bar ?? Infinity) >= first);
}

/**
 * Whether a closed trade made money; an open one is neither.
 * @param {Trade} trade
 * @returns {boolean | null}
 */
export function won(trade) {
  return trade.pnl === null ? null : trade.pnl > 0;
}

/**
 * The markers of `trades` whose bars lie from `first` to `last`: an entry
 * below the bar for a long (arrow up), above it for a short (arrow down); an
 * exit at its price, coloured by win or loss. Ids are `layer:trade:entry` or
 * `layer:trade:exit`. Sorted by time, as lightweight-charts wants them.
 * @param {readonly Trade[]} trades
 * @param {number} first
 * @param {number} last
 * @param {TradeStyle} style
 * @param {string} layer
 * @returns {SeriesMarker<Time>[]}
 */
export function tradeMarkers(trades, first, last, style, layer) {
  /** @type {SeriesMarker<Time>[]} */
  const markers = [];
  for (const t of trades) {
    if (t.entry_bar !== null && t.entry_bar >= first && t.entry_bar <= last) {
      markers.push(t.side === 'long'
        ? { time: utc(t.entry_bar), position: 'belowBar', shape: 'arrowUp', color: style.long, id: `${layer}:${t.id}:entry` }
        : { time: utc(t.entry_bar), position: 'aboveBar', shape: 'arrowDown', color: style.short, id: `${layer}:${t.id}:entry` });
    }
    if (t.exit_bar !== null && t.exit_price !== null && t.exit_bar >= first && t.exit_bar <= last) {
      markers.push({
        time: utc(t.exit_bar), position: 'atPriceMiddle', price: t.exit_price, shape: style.exitShape,
        color: won(t) ? style.win : style.loss, size: 0.7, id: `${layer}:${t.id}:exit`,
      });
    }
  }
  return markers.sort((a, b) => /** @type {number} */ (a.time) - /** @type {number} */ (b.time));
}

/**
 * A straight line on the price pane between two (bar, price) points; bars
 * are logical indices of the drawn window (what lightweight-charts'
 * `logicalToCoordinate` takes).
 * @typedef {object} Segment
 * @property {'trade' | 'stop' | 'target'} kind
 * @property {string} id `layer:trade`
 * @property {number} from
 * @property {number} fromPrice
 * @property {number} to
 * @property {number} toPrice
 * @property {string} color
 * @property {number[]} dash
 */

/**
 * The lines of `trades` over the drawn bars: entry to exit (to the latest
 * close for a trade still open), green or red by the PnL's sign, and its
 * stop-loss and take-profit over its span. `times` are the history's bar
 * times, `start` the first drawn index; a trade whose entry is not loaded
 * is left out (its line would start at an unknown bar).
 * @param {readonly Trade[]} trades
 * @param {readonly number[]} times
 * @param {number} start
 * @param {number | null} lastClose the latest bar's close, where an open trade's line ends
 * @param {TradeStyle} style
 * @param {string} layer
 * @returns {Segment[]}
 */
export function tradeSegments(trades, times, start, lastClose, style, layer) {
  /** @type {Segment[]} */
  const segments = [];
  const lastIndex = times.length - 1;
  for (const t of trades) {
    if (t.entry_bar === null || t.entry_bar < times[0]) continue;
    const from = barIndex(times, t.entry_bar) - start;
    const closed = t.exit_bar !== null && t.exit_price !== null;
    const to = (closed ? barIndex(times, /** @type {number} */ (t.exit_bar)) : lastIndex) - start;
    const id = `${layer}:${t.id}`;
    const endPrice = closed ? /** @type {number} */ (t.exit_price) : lastClose;
    if (endPrice !== null) {
      const color = won(t) === null ? style.open : won(t) ? style.win : style.loss;
      segments.push({ kind: 'trade', id, from, fromPrice: t.entry_price, to, toPrice: endPrice, color, dash: style.dash });
    }
    if (t.stop_loss !== null) segments.push({ kind: 'stop', id, from, fromPrice: t.stop_loss, to, toPrice: t.stop_loss, color: style.stop, dash: [] });
    if (t.take_profit !== null) segments.push({ kind: 'target', id, from, fromPrice: t.take_profit, to, toPrice: t.take_profit, color: style.target, dash: [] });
  }
  return segments;
}

/**
 * The trades a crosshair on bar `time` is about: those entering or
 * exiting there, else those open across it.
 * @param {readonly Trade[]} trades
 * @param {number} time a bar time
 * @returns {Trade[]}
 */
export function tradesAt(trades, time) {
  const ends = trades.filter((t) => t.entry_bar === time || t.exit_bar === time);
  if (ends.length) return ends;
  return trades.filter((t) => t.entry_bar !== null && t.entry_bar < time && (t.exit_bar ?? Infinity) > time);
}

/** @typedef {'time' | 'pnl' | 'return' | 'duration'} TradeOrder */

/**
 * The value a trade list's order sorts by; null (an open trade's PnL,
 * return or duration) sorts last either way.
 * @type {Record<TradeOrder, (t: Trade) => number | null>}
 */
const SORT_KEYS = {
  time: (t) => t.entry_time,
  pnl: (t) => t.pnl,
  return: (t) => t.return_pct,
  duration: (t) => (t.exit_time === null ? null : t.exit_time - t.entry_time),
};

/**
 * `trades` sorted by `order`, ascending (`dir` 1) or descending (-1); ties
 * by entry order, open trades' missing values last.
 * @param {readonly Trade[]} trades
 * @param {TradeOrder} order
 * @param {1 | -1} dir
 * @returns {Trade[]}
 */
export function sortTrades(trades, order, dir) {
  const key = SORT_KEYS[order];
  return [...trades].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x === null || y === null) return x === y ? a.id - b.id : x === null ? 1 : -1;
    return (x - y) * dir || a.id - b.id;
  });
}

/**
 * The trade to go to from `current` (an id) in `list`'s order: the next
 * (`dir` 1) or previous (-1), staying at the ends. Without a current trade,
 * the first to enter after `centre` (or the last before it), by time,
 * whatever the list's order; without a centre, the list's first or last.
 * @param {readonly Trade[]} list
 * @param {number | null} current
 * @param {1 | -1} dir
 * @param {number} [centre] a time, e.g. the middle of the view
 * @returns {Trade | undefined}
 */
export function stepTrade(list, current, dir, centre) {
  if (!list.length) return undefined;
  const at = current === null ? -1 : list.findIndex((t) => t.id === current);
  if (at >= 0) return list[Math.min(Math.max(at + dir, 0), list.length - 1)];
  if (centre !== undefined) {
    /** @type {Trade | undefined} */
    let best;
    for (const t of list) {
      const after = dir > 0 ? t.entry_time > centre : t.entry_time < centre;
      if (after && (!best || (dir > 0 ? t.entry_time < best.entry_time : t.entry_time > best.entry_time))) best = t;
    }
    if (best) return best;
  }
  return dir > 0 ? list[0] : list[list.length - 1];
}

const priceFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });
const fixed2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A price as the legends write it: `647.54`, `1,234.5`.
 * @param {number} value
 */
export const priceText = (value) => priceFormat.format(value);

/**
 * A time as the chart's axis reads it (UTC): `2024-01-02 14:30`.
 * @param {number} seconds
 */
export const utcText = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');

/**
 * A trade's PnL and return: `+151.14 (+0.23%)`; for a trade still open,
 * `open`, with its PnL at the price it is marked at when known: `open −12.00 (−0.10%)`.
 * @param {Trade} trade
 * @returns {string}
 */
export function outcomeText({ pnl, return_pct: ret, unrealized_pnl: running, unrealized_return_pct: runningRet }) {
  const signed = (/** @type {number} */ v) => `${v > 0 ? '+' : ''}${fixed2.format(v)}`;
  const text = (/** @type {number} */ v, /** @type {number | null} */ r) => (r === null ? signed(v) : `${signed(v)} (${signed(r)}%)`);
  if (pnl === null) return running === null ? 'open' : `open ${text(running, runningRet)}`;
  return text(pnl, ret);
}

/**
 * What a tooltip says of a trade: a title (`Long 100 · #12 · cross up`),
 * then rows of label, text and tone.
 * @param {Trade} trade
 * @returns {{title: string, tone: Tone, rows: [string, string][]}}
 */
export function tradeSummary(trade) {
  const side = trade.side === 'long' ? 'Long' : 'Short';
  const title = [`${side} ${priceText(trade.size)}`, `#${trade.id}`, trade.tag].filter(Boolean).join(' · ');
  /** @type {[string, string][]} */
  const rows = [
    ['Entry', `${utcText(trade.entry_time)} @ ${priceText(trade.entry_price)}`],
    ['Exit', trade.exit_time === null || trade.exit_price === null ? 'still open' : `${utcText(trade.exit_time)} @ ${priceText(trade.exit_price)}`],
    ['PnL', outcomeText(trade)],
    ['Bars held', trade.bars_held === null ? '–' : String(trade.bars_held)],
  ];
  if (trade.stop_loss !== null) rows.push(['Stop-loss', priceText(trade.stop_loss)]);
  if (trade.take_profit !== null) rows.push(['Take-profit', priceText(trade.take_profit)]);
  if (trade.commission !== null) rows.push(['Commission', fixed2.format(trade.commission)]);
  const outcome = won(trade);
  return { title, tone: outcome === null ? '' : outcome ? 'up' : 'down', rows };
}
