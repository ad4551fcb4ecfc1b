// @ts-check
// The SQL console: an editor with example queries, the result as a table,
// errors as the server words them (the caret put where the server says the
// error is), and "Chart this" when the result has a time column and open,
// high, low and close. The server does the work; this only sends the text
// and draws what comes back.
import { ApiError, api } from './api.js';

/**
 * @import { Bars, IndicatorResult, SqlPosition, SqlResult } from './api.js'
 * @import { Drawable } from './chart.js'
 */

// Rows drawn in the table; the rest are counted, not drawn.
const TABLE_ROWS = 1000;

/** @type {readonly {label: string, sql: string}[]} */
export const EXAMPLES = [
  {
    label: 'Daily bars with RSI',
    sql: "SELECT time, open, high, low, close, volume,\n       rsi(close, 14) OVER (ORDER BY time) AS rsi\nFROM bars('NFLX', '1d')",
  },
  {
    label: '4h bars with SMA 20 and Bollinger bands',
    sql: "SELECT time, open, high, low, close, volume,\n       sma(close, 20) OVER w AS sma20,\n       bbands(close, 20, 2) OVER w AS bands\nFROM bars('EXPE', '4h')\nWINDOW w AS (ORDER BY time)",
  },
  {
    label: 'What is stored',
    sql: 'SELECT provider, symbol, timeframe, count(*) AS bars,\n       min(time) AS first, max(time) AS last\nFROM bars\nGROUP BY provider, symbol, timeframe\nORDER BY provider, symbol, timeframe',
  },
  {
    label: 'Largest daily moves',
    sql: "SELECT time, close, (close - lag(close) OVER (ORDER BY time)) / lag(close) OVER (ORDER BY time) * 100 AS change_pct\nFROM bars('AAPL', '1d')\nORDER BY abs(change_pct) DESC NULLS LAST\nLIMIT 10",
  },
  {
    label: 'RSI at every entry of a backtest run',
    sql: "SELECT t.run, t.side, t.entry_time, t.pnl, t.return_pct, b.rsi\nFROM trades t\nJOIN (SELECT time, rsi(close, 14) OVER (ORDER BY time) AS rsi\n      FROM bars('ALPACA:NFLX', '1h')) b ON b.time = t.entry_time\nWHERE t.run = 'nflx-sma-cross'\nORDER BY t.entry_time",
  },
  {
    label: 'MACD crossings',
    sql: "SELECT time, close, m['macd'] AS macd, m['signal'] AS signal\nFROM (SELECT time, close, macd(close, 12, 26, 9) OVER (ORDER BY time) AS m\n      FROM bars('NFLX', '1h'))\nWHERE m['histogram'] > 0\nLIMIT 20",
  },
];

export class SqlConsole {
  /**
   * `root` holds the console's markup; `onChart(history)` draws a result.
   * @param {HTMLElement} root
   * @param {{onChart: (history: Drawable) => void}} callbacks
   */
  constructor(root, { onChart }) {
    this.root = root;
    this.onChart = onChart;
    this.editor = part(root, 'textarea', HTMLTextAreaElement);
    this.examples = part(root, 'select', HTMLSelectElement);
    this.runButton = part(root, '.run', HTMLButtonElement);
    this.chartButton = part(root, '.chart-this', HTMLButtonElement);
    this.status = part(root, '.sql-status', HTMLElement);
    this.error = part(root, '.sql-error', HTMLElement);
    this.table = part(root, '.sql-result', HTMLElement);
    /** @type {SqlResult | null} */
    this.result = null;
    /** @type {AbortController | null} */
    this.controller = null;
    for (const [i, example] of EXAMPLES.entries()) {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = example.label;
      this.examples.append(option);
    }
    this.editor.value ||= EXAMPLES[0].sql;
    this.examples.addEventListener('change', () => {
      const example = EXAMPLES[Number(this.examples.value)];
      if (example) this.editor.value = example.sql;
      this.examples.value = '';
      this.editor.focus();
    });
    this.runButton.addEventListener('click', () => this.run());
    this.chartButton.addEventListener('click', () => this.chart());
    this.editor.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.run();
      }
    });
  }

  get open() {
    return !this.root.hidden;
  }

  /** @param {boolean} [show] */
  toggle(show = !this.open) {
    this.root.hidden = !show;
    document.getElementById('sql-toggle')?.setAttribute('aria-pressed', String(show));
    if (show) this.editor.focus();
  }

  async run() {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.error.hidden = true;
    this.status.textContent = 'Running…';
    this.runButton.disabled = true;
    const started = performance.now();
    const sql = this.editor.value;
    try {
      const result = /** @type {SqlResult} */ (await api('/api/sql', { signal: controller.signal, body: { sql } }));
      this.result = result;
      this.render(result);
      const rows = result.rows.length.toLocaleString('en-US');
      const cut = result.truncated ? ' · cut at the row limit' : '';
      this.status.textContent = `${rows} row${result.rows.length === 1 ? '' : 's'} · ${Math.round(performance.now() - started)} ms${cut}`;
      this.chartButton.hidden = !chartable(result);
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') return;
      this.result = null;
      this.chartButton.hidden = true;
      this.table.replaceChildren();
      this.status.textContent = '';
      this.error.textContent = error instanceof Error ? error.message : String(error);
      this.error.hidden = false;
      // The caret where the server says the error is, if the text is still the one it read.
      if (error instanceof ApiError && error.position && this.editor.value === sql) {
        const [start, end] = textRange(sql, error.position);
        this.editor.focus();
        this.editor.setSelectionRange(start, end);
      }
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.runButton.disabled = false;
      }
    }
  }

  /** @param {SqlResult} result */
  render({ columns, rows }) {
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement('th');
      th.textContent = column.name;
      th.title = column.type;
      if (column.type === 'number' || column.type === 'integer') th.className = 'num';
      head.append(th);
    }
    const body = table.createTBody();
    for (const row of rows.slice(0, TABLE_ROWS)) {
      const tr = body.insertRow();
      row.forEach((value, i) => {
        const td = tr.insertCell();
        td.textContent = cellText(value);
        if (typeof value === 'number') td.className = 'num';
        if (value === null) td.className = 'null';
        td.dataset.column = columns[i]?.name ?? '';
      });
    }
    /** @type {HTMLElement[]} */
    const parts = [table];
    if (rows.length > TABLE_ROWS) {
      const note = document.createElement('p');
      note.className = 'sql-more';
      note.textContent = `The first ${TABLE_ROWS.toLocaleString('en-US')} of ${rows.length.toLocaleString('en-US')} rows are shown; all of them can be charted.`;
      parts.push(note);
    }
    this.table.replaceChildren(...parts);
  }

  chart() {
    if (this.result && chartable(this.result)) this.onChart(toHistory(this.result));
  }
}

/**
 * The element of `root` that `selector` names, of the kind the console needs.
 * @template {HTMLElement} T
 * @param {HTMLElement} root
 * @param {string} selector
 * @param {new () => T} kind
 * @returns {T}
 */
function part(root, selector, kind) {
  const node = root.querySelector(selector);
  if (!(node instanceof kind)) throw new Error(`the SQL console has no ${selector}`);
  return node;
}

/** @param {unknown} value */
function cellText(value) {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: 6 });
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The place of `position` (line and column counted from 1, the column in
 * characters) in `text` as the editor counts (UTF-16 units): the range of
 * the character there, empty at the end of a line. Clamped to the text.
 * @param {string} text
 * @param {SqlPosition} position
 * @returns {[number, number]}
 */
export function textRange(text, { line, column }) {
  const lines = text.split('\n');
  const row = Math.min(Math.max(line, 1), lines.length) - 1;
  let offset = 0;
  for (let i = 0; i < row; i++) offset += lines[i].length + 1;
  const chars = [...lines[row]];
  const before = chars.slice(0, Math.max(column, 1) - 1).join('').length;
  const at = chars[Math.max(column, 1) - 1] ?? '';
  return [offset + before, offset + before + (at === '\r' ? 0 : at.length)];
}

/** @type {readonly ('open' | 'high' | 'low' | 'close')[]} */
const OHLC = ['open', 'high', 'low', 'close'];

/**
 * @param {SqlResult['columns']} columns
 * @param {string} name
 */
function columnIndex(columns, name) {
  return columns.findIndex((c) => c.name.toLowerCase() === name);
}

/**
 * A result can be charted when it has a timestamp column and open, high, low
 * and close.
 * @param {Pick<SqlResult, 'columns'>} result
 */
export function chartable({ columns }) {
  return columns.some((c) => c.type === 'timestamp') && OHLC.every((name) => columnIndex(columns, name) >= 0);
}

const numberOrNull = (/** @type {unknown} */ value) => (typeof value === 'number' ? value : null);
const isRecord = (/** @type {unknown} */ value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The result as the chart draws a history: bars sorted by time (one per
 * instant; a value that is not a number is missing), and every other numeric
 * column, or struct of numbers, as an indicator: on the price pane when its
 * values lie within the bars' range, else in a pane of its own.
 * @param {Pick<SqlResult, 'columns' | 'rows'>} result
 * @returns {Drawable}
 */
export function toHistory({ columns, rows }) {
  const time = columns.findIndex((c) => c.name.toLowerCase() === 'time' && c.type === 'timestamp');
  const timeAt = time >= 0 ? time : columns.findIndex((c) => c.type === 'timestamp');
  /** @type {Map<number, unknown[]>} */
  const byTime = new Map();
  for (const row of rows) {
    const seconds = Date.parse(String(row[timeAt])) / 1000;
    if (Number.isFinite(seconds)) byTime.set(seconds, row);
  }
  const ordered = [...byTime.entries()].sort((a, b) => a[0] - b[0]);
  /**
   * @param {number} index
   * @param {number | null} missing the value when there is no such column
   */
  const column = (index, missing) => ordered.map(([, row]) => (index >= 0 ? numberOrNull(row[index]) : missing));
  const at = { open: columnIndex(columns, 'open'), high: columnIndex(columns, 'high'), low: columnIndex(columns, 'low'),
    close: columnIndex(columns, 'close'), volume: columnIndex(columns, 'volume') };
  /** @type {Bars} */
  const bars = {
    time: ordered.map(([t]) => t),
    open: column(at.open, null), high: column(at.high, null), low: column(at.low, null), close: column(at.close, null),
    volume: column(at.volume, 0),
  };
  // A loop, not Math.min(...values): a million arguments overflow the stack.
  let low = Infinity;
  let high = -Infinity;
  for (const v of bars.low) if (v != null && v < low) low = v;
  for (const v of bars.high) if (v != null && v > high) high = v;
  const used = new Set([timeAt, ...Object.values(at)]);
  /** @type {IndicatorResult[]} */
  const indicators = [];
  columns.forEach((column, index) => {
    if (used.has(index)) return;
    const values = ordered.map(([, row]) => row[index]);
    /** @type {Record<string, (number | null)[]>} */
    let outputs;
    if (column.type === 'number' || column.type === 'integer') {
      outputs = { [column.name]: values.map(numberOrNull) };
    } else if (column.type === 'struct') {
      const first = values.find(isRecord);
      const names = first ? Object.keys(first) : [];
      const fields = names.map((name) => values.map((v) => (isRecord(v) ? /** @type {Record<string, unknown>} */ (v)[name] ?? null : null)));
      if (!names.length || fields.some((f) => f.some((v) => v !== null && typeof v !== 'number'))) return;
      outputs = Object.fromEntries(names.map((name, k) => [name, fields[k].map(numberOrNull)]));
    } else {
      return;
    }
    const all = Object.values(outputs).flat().filter((v) => v != null).sort((a, b) => a - b);
    const median = all[Math.floor(all.length / 2)];
    const placement = median >= low && median <= high ? 'overlay' : 'pane';
    indicators.push({ id: `sql:${column.name}`, label: column.name, key: column.name, params: {}, placement, outputs });
  });
  return { bars, indicators, length: bars.time.length };
}
