// @ts-check
// A legend at the top of each pane: on the price pane the bar under the
// crosshair (OHLC, change, volume), each compared symbol's close and its
// change from the anchor, and the overlay indicators, on every other
// pane its indicator's outputs or a run's curves (equity, drawdown), each in
// its line's colour. With the crosshair away, the latest bar's values.

import { callLabel } from './calls.js';

/** @import { Drawn, DrawnCompared, DrawnCurves, PriceChart } from './chart.js' */
/** @import { IndicatorResult } from './api.js' */

const price = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

const formatValue = (/** @type {number | null | undefined} */ v) => (v == null ? '–' : price.format(v));

const volumeText = (/** @type {number | null | undefined} */ v) => (v == null ? '–' : compact.format(v));

const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A curve's value as its pane reads: money with cents, or a percentage.
 * @param {number | null | undefined} v
 * @param {'money' | 'percent'} unit
 */
const curveText = (v, unit) => (v == null ? '–' : unit === 'percent' ? `${cents.format(v)}%` : cents.format(v));

/**
 * @param {string} className
 * @param {string} text
 * @param {string} [color]
 */
function span(className, text, color) {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  if (color) node.style.color = color;
  return node;
}

/**
 * The change from `base` to `value`, in percent, signed: `+3.21%`.
 * @param {number | null | undefined} value
 * @param {number | null | undefined} base
 */
function changeText(value, base) {
  if (value == null || base == null || base === 0) return '–%';
  const change = (value / base - 1) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`;
}

/**
 * `SMA 20`, `EMA 9 of RSI 14`, `SMA 20 · 1d · close`: short enough for a
 * phone; the key is the row's title.
 * @param {Drawn} drawn
 * @param {IndicatorResult} result
 * @param {number} i the bar
 */
function indicatorRow({ key, spec, colors }, result, i) {
  const row = document.createElement('div');
  row.className = 'indicator-values';
  row.dataset.key = key;
  row.title = key;
  const names = spec.params?.map((p) => p.name).filter((name) => name in result.params) ?? Object.keys(result.params);
  const params = Object.fromEntries(names.map((name) => [name, result.params[name]]));
  const { id, source, timeframe, align } = result;
  row.append(span('name', result.label ?? callLabel({ id, params, source, timeframe, align }), colors.values().next().value));
  for (const [name, color] of colors) {
    const label = name === result.label ? '' : `${name} `;
    row.append(span('value', `${label}${formatValue(result.outputs[name][i])}`, color));
  }
  return row;
}

/**
 * `AAPL 185.20 +3.21%`: a compared symbol's close at bar `i` and its change
 * from its close at the anchor.
 * @param {DrawnCompared} compared
 * @param {number | null} base its close at the anchor
 * @param {number} i the bar
 */
function comparedRow({ symbol, color, close }, base, i) {
  const row = document.createElement('div');
  row.className = 'compare-values';
  row.dataset.symbol = symbol;
  row.title = `${symbol}: its close, and its change from the anchor`;
  row.append(span('name', symbol.split(':').pop() ?? symbol, color), span('value', formatValue(close[i]), color),
    span('change', changeText(close[i], base), color));
  return row;
}

/**
 * `Equity  nflx-sma-cross 111,906.80  nflx-sma-cross-fast 91,630.03`.
 * @param {DrawnCurves} drawn
 * @param {number} i the bar
 */
function curveRow({ key, title, unit, curves }, i) {
  const row = document.createElement('div');
  row.className = 'curve-values';
  row.dataset.key = key;
  row.append(span('name', title));
  for (const curve of curves) {
    const value = span('value', `${curves.length > 1 ? `${curve.name} ` : ''}${curveText(curve.values[i], unit)}`, curve.color);
    value.dataset.curve = curve.name;
    row.append(value);
  }
  return row;
}

/**
 * `title` names the chart (symbol · timeframe); `index` is the bar under the
 * crosshair, or undefined for the latest.
 * @param {HTMLElement} root
 * @param {PriceChart} chart
 * @param {string} title
 * @param {number} [index]
 */
export function renderLegends(root, chart, title, index) {
  const { history, shown } = chart;
  if (!history || !shown || history.length === 0) {
    root.replaceChildren();
    return;
  }
  const i = index ?? history.length - 1;
  const { open, high, low, close } = shown;
  const closes = history.bars.close;
  const [now, before] = [closes[i], closes[i - 1]];
  const [o, c] = [open[i], close[i]];
  const cls = o != null && c != null && c >= o ? 'up' : 'down';
  const head = document.createElement('div');
  head.className = 'bar-values';
  head.append(
    span('name', title),
    span(cls, `O ${formatValue(open[i])}`), span(cls, `H ${formatValue(high[i])}`),
    span(cls, `L ${formatValue(low[i])}`), span(cls, `C ${formatValue(close[i])}`),
    // The first bar loaded has no bar before it: no change.
    span(cls, i === 0 ? '+0.00%' : changeText(now, before)),
    span('volume', `Vol ${volumeText(history.bars.volume[i])}`),
  );
  /** @type {HTMLElement[][]} */
  const panes = [[head]];
  const anchor = chart.anchor;
  if (anchor) {
    const since = span('change anchor-change', `${changeText(closes[i], anchor.main)} from anchor`);
    since.title = 'The change from the close at the anchor, which every line of this pane starts from';
    head.append(since);
    chart.compared.forEach((compared, k) => panes[0].push(comparedRow(compared, anchor.compared[k], i)));
  }
  chart.drawn.forEach((drawn, k) => {
    (panes[drawn.pane] ??= []).push(indicatorRow(drawn, history.indicators[k], i));
  });
  for (const drawn of chart.curves) (panes[drawn.pane] ??= []).push(curveRow(drawn, i));
  const tops = chart.paneTops();
  root.replaceChildren(...panes.map((rows, pane) => {
    const legend = document.createElement('div');
    legend.className = 'legend';
    legend.dataset.pane = String(pane);
    legend.style.top = `${(tops[pane] ?? 0) + 6}px`;
    legend.append(...rows);
    return legend;
  }));
}
