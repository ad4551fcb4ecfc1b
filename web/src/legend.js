// @ts-check
// A legend at the top of each pane: on the price pane the bar under the
// crosshair (OHLC, change, volume) and the overlay indicators, on every other
// pane its indicator's outputs or a run's curves (equity, drawdown), each in
// its line's colour. With the crosshair away, the latest bar's values.

/** @import { Drawn, DrawnCurves, PriceChart } from './chart.js' */
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
 * `SMA 20`, `MACD 12, 26, 9`: short enough for a phone; the key is the row's title.
 * @param {Drawn} drawn
 * @param {IndicatorResult} result
 * @param {number} i the bar
 */
function indicatorRow({ key, spec, colors }, result, i) {
  const row = document.createElement('div');
  row.className = 'indicator-values';
  row.dataset.key = key;
  row.title = key;
  const args = (spec.params?.map((p) => result.params[p.name]) ?? Object.values(result.params)).join(', ');
  row.append(span('name', result.label ?? `${result.id.toUpperCase()}${args ? ` ${args}` : ''}`, colors.values().next().value));
  for (const [name, color] of colors) {
    const label = name === result.label ? '' : `${name} `;
    row.append(span('value', `${label}${formatValue(result.outputs[name][i])}`, color));
  }
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
  const change = i === 0 ? 0 : now != null && before != null ? (now / before - 1) * 100 : null;
  const [o, c] = [open[i], close[i]];
  const cls = o != null && c != null && c >= o ? 'up' : 'down';
  const head = document.createElement('div');
  head.className = 'bar-values';
  head.append(
    span('name', title),
    span(cls, `O ${formatValue(open[i])}`), span(cls, `H ${formatValue(high[i])}`),
    span(cls, `L ${formatValue(low[i])}`), span(cls, `C ${formatValue(close[i])}`),
    span(cls, change == null ? '–%' : `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`),
    span('volume', `Vol ${volumeText(history.bars.volume[i])}`),
  );
  /** @type {HTMLElement[][]} */
  const panes = [[head]];
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
