// The SQL console: an editor with example queries, the result as a table,
// errors as the server words them, and "Chart this" when the result has a
// time column and open, high, low and close. The server does the work; this
// only sends the text and draws what comes back.
import { api } from './api.js';

// Rows drawn in the table; the rest are counted, not drawn.
const TABLE_ROWS = 1000;

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
    label: 'MACD crossings',
    sql: "SELECT time, close, m['macd'] AS macd, m['signal'] AS signal\nFROM (SELECT time, close, macd(close, 12, 26, 9) OVER (ORDER BY time) AS m\n      FROM bars('NFLX', '1h'))\nWHERE m['histogram'] > 0\nLIMIT 20",
  },
];

export class SqlConsole {
  // `root` holds the console's markup; `onChart(history)` draws a result.
  constructor(root, { onChart }) {
    this.root = root;
    this.onChart = onChart;
    this.editor = root.querySelector('textarea');
    this.examples = root.querySelector('select');
    this.runButton = root.querySelector('.run');
    this.chartButton = root.querySelector('.chart-this');
    this.status = root.querySelector('.sql-status');
    this.error = root.querySelector('.sql-error');
    this.table = root.querySelector('.sql-result');
    this.result = null;
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
    try {
      const result = await api('/api/sql', { signal: controller.signal, body: { sql: this.editor.value } });
      this.result = result;
      this.render(result);
      const rows = result.rows.length.toLocaleString('en-US');
      const cut = result.truncated ? ' · cut at the row limit' : '';
      this.status.textContent = `${rows} row${result.rows.length === 1 ? '' : 's'} · ${Math.round(performance.now() - started)} ms${cut}`;
      this.chartButton.hidden = !chartable(result);
    } catch (error) {
      if (error.name === 'AbortError') return;
      this.result = null;
      this.chartButton.hidden = true;
      this.table.replaceChildren();
      this.status.textContent = '';
      this.error.textContent = error.message;
      this.error.hidden = false;
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.runButton.disabled = false;
      }
    }
  }

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
        td.dataset.column = columns[i].name;
      });
    }
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

function cellText(value) {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: 6 });
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const OHLC = ['open', 'high', 'low', 'close'];

function columnIndex(columns, name) {
  return columns.findIndex((c) => c.name.toLowerCase() === name);
}

// A result can be charted when it has a timestamp column and open, high, low
// and close.
export function chartable({ columns }) {
  return columns.some((c) => c.type === 'timestamp') && OHLC.every((name) => columnIndex(columns, name) >= 0);
}

// The result as the chart draws a history: bars sorted by time (one per
// instant), and every other numeric column, or struct of numbers, as an
// indicator: on the price pane when its values lie within the bars' range,
// else in a pane of its own.
export function toHistory({ columns, rows }) {
  const time = columns.findIndex((c) => c.name.toLowerCase() === 'time' && c.type === 'timestamp');
  const timeAt = time >= 0 ? time : columns.findIndex((c) => c.type === 'timestamp');
  const at = Object.fromEntries(['volume', ...OHLC].map((name) => [name, columnIndex(columns, name)]));
  const byTime = new Map();
  for (const row of rows) {
    const seconds = Date.parse(row[timeAt]) / 1000;
    if (Number.isFinite(seconds)) byTime.set(seconds, row);
  }
  const ordered = [...byTime.entries()].sort((a, b) => a[0] - b[0]);
  const bars = { time: ordered.map(([t]) => t) };
  for (const [name, index] of Object.entries(at)) {
    bars[name] = ordered.map(([, row]) => (index >= 0 ? row[index] : 0));
  }
  const low = Math.min(...bars.low.filter((v) => v != null));
  const high = Math.max(...bars.high.filter((v) => v != null));
  const used = new Set([timeAt, ...Object.values(at)]);
  const indicators = [];
  columns.forEach((column, index) => {
    if (used.has(index)) return;
    const values = ordered.map(([, row]) => row[index]);
    let outputs;
    if (column.type === 'number' || column.type === 'integer') {
      outputs = { [column.name]: values };
    } else if (column.type === 'struct') {
      const names = Object.keys(values.find((v) => v && typeof v === 'object') ?? {});
      outputs = Object.fromEntries(names.map((name) => [name, values.map((v) => v?.[name] ?? null)]));
      if (!names.length || names.some((name) => outputs[name].some((v) => v !== null && typeof v !== 'number'))) return;
    } else {
      return;
    }
    const all = Object.values(outputs).flat().filter((v) => v != null).sort((a, b) => a - b);
    const median = all[Math.floor(all.length / 2)];
    const placement = median >= low && median <= high ? 'overlay' : 'pane';
    indicators.push({ id: `sql:${column.name}`, label: column.name, key: column.name, params: {}, placement, outputs });
  });
  return { bars, indicators, source: { aggregated: false }, exhausted: true, failed: false, length: bars.time.length };
}
