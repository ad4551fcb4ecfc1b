// @ts-check
// Saving what is on screen: the chart as a PNG with its legends drawn in, the
// bars in view with every indicator output as CSV, and a run's trades in
// view as CSV.

/** @import { PriceChart } from './chart.js' */
/** @import { Bars, IndicatorResult } from './api.js' */
/** @import { Trade } from './runs.js' */

/**
 * The chart's panes as one image, legends included, on the page's background.
 * @param {PriceChart} chart
 * @param {HTMLElement} legends the legends' container
 * @param {string} background a CSS colour
 * @returns {HTMLCanvasElement}
 */
export function chartImage(chart, legends, background) {
  const shot = chart.chart.takeScreenshot(true);
  const scale = shot.width / chart.container.clientWidth;
  const canvas = document.createElement('canvas');
  canvas.width = shot.width;
  canvas.height = shot.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(shot, 0, 0);
  const origin = chart.container.getBoundingClientRect();
  ctx.textBaseline = 'top';
  for (const node of legends.querySelectorAll('.legend span')) {
    const box = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    ctx.font = `${style.fontWeight} ${parseFloat(style.fontSize) * scale}px ${style.fontFamily}`;
    ctx.fillStyle = style.color;
    ctx.fillText(node.textContent ?? '', (box.left - origin.left) * scale, (box.top - origin.top) * scale);
  }
  return canvas;
}

/** @param {string | number | null | undefined} value */
const cell = (value) => {
  if (value == null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * Bars `from`..=`to` of a history: time in UTC (ISO 8601), OHLCV, then one
 * column per indicator output, named `key.output`. A missing value (`null`)
 * is an empty field; a field holding a comma, quote or line break is quoted.
 * @param {{bars: Bars, indicators: IndicatorResult[]}} history
 * @param {number} from
 * @param {number} to
 * @returns {string}
 */
export function csvText(history, from, to) {
  const { bars, indicators } = history;
  const outputs = indicators.flatMap((r) => Object.entries(r.outputs).map(([name, values]) => /** @type {const} */ ([`${r.key}.${name}`, values])));
  const header = ['time', 'open', 'high', 'low', 'close', 'volume', ...outputs.map(([name]) => name)];
  const lines = [header.map(cell).join(',')];
  for (let i = from; i <= to; i++) {
    const row = [new Date(bars.time[i] * 1000).toISOString(), bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]];
    for (const [, values] of outputs) row.push(values[i]);
    lines.push(row.map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

const iso = (/** @type {number | null} */ seconds) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

/** @type {readonly (keyof Trade)[]} */
const TRADE_COLUMNS = ['id', 'symbol', 'side', 'size', 'entry_time', 'entry_price', 'exit_time', 'exit_price', 'pnl', 'return_pct',
  'bars_held', 'entry_bar', 'exit_bar', 'commission', 'stop_loss', 'take_profit', 'tag'];
const TIME_COLUMNS = new Set(['entry_time', 'exit_time', 'entry_bar', 'exit_bar']);

/**
 * Trades as CSV, one row each, led by the run they belong to: every field
 * of the API's trade, times in UTC (ISO 8601), a missing value (an open
 * trade's exit) empty.
 * @param {readonly {run: string, trade: Trade}[]} rows
 * @returns {string}
 */
export function tradesCsvText(rows) {
  const lines = [['run', ...TRADE_COLUMNS].map(cell).join(',')];
  for (const { run, trade } of rows) {
    const fields = TRADE_COLUMNS.map((name) => {
      const value = trade[name];
      return TIME_COLUMNS.has(name) && typeof value === 'number' ? iso(value) : value;
    });
    lines.push([run, ...fields].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Saves `blob` as a file named `filename`, as the browser downloads.
 * @param {Blob} blob
 * @param {string} filename
 */
export function download(blob, filename) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
