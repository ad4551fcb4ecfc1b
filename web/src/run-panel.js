// @ts-check
// The run panel beside the chart: the statistics card (each run on the chart
// in a column, with its name, strategy and parameters), whether the equity
// and drawdown panes are shown, and the list of trades, sortable by time,
// PnL, return and duration, a click on one going to it on the chart. The
// list draws only the rows scrolled into view, so that ten thousand trades
// scroll as smoothly as ten.
import { duration, formatStats, paramsText, percent } from './runs.js';
import { outcomeText, sortTrades, utcText } from './trades.js';

/**
 * @import { RunDetail, Trade } from './runs.js'
 * @import { TradeOrder } from './trades.js'
 * @import { TradeLayer } from './trade-overlay.js'
 */

/** A run in the card: its details and its colour. @typedef {{detail: RunDetail, color: string}} CardRun */

// The rows' height in pixels (style.css's .trade-row), and how many are drawn beyond the visible ones.
const ROW = 24;
const SPARE = 8;

/** @type {readonly {order: TradeOrder | null, label: string, title: string}[]} */
const COLUMNS = [
  { order: null, label: '', title: '' },
  { order: 'time', label: 'Entry', title: 'Sort by entry time' },
  { order: 'pnl', label: 'PnL', title: 'Sort by PnL' },
  { order: 'return', label: 'Return', title: 'Sort by return' },
  { order: 'duration', label: 'Held', title: 'Sort by duration' },
];

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function make(tag, className = '', text = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

export class RunPanel {
  /**
   * `onPick(layer, trade)` runs when a trade of the list is clicked,
   * `onPanes(shown)` when the equity or drawdown pane is shown or hidden,
   * `onExport()` when the trades in view are to be saved.
   * @param {HTMLElement} root the panel's markup
   * @param {{onPick: (layer: TradeLayer, trade: Trade) => void, onPanes: (shown: {equity: boolean, drawdown: boolean}) => void, onExport: () => void}} callbacks
   */
  constructor(root, { onPick, onPanes, onExport }) {
    this.root = root;
    this.onPick = onPick;
    /** @type {TradeLayer[]} */
    this.layers = [];
    // The layer listed, its trades in the list's order, the order.
    this.listed = 0;
    /** @type {Trade[]} */
    this.rows = [];
    /** @type {TradeOrder} */
    this.order = 'time';
    /** @type {1 | -1} */
    this.dir = 1;
    /** @type {{key: string, id: number} | null} */
    this.picked = null;
    this.equityBox = this.part('.show-equity', HTMLInputElement);
    this.drawdownBox = this.part('.show-drawdown', HTMLInputElement);
    const panes = () => onPanes({ equity: this.equityBox.checked, drawdown: this.drawdownBox.checked });
    this.equityBox.addEventListener('change', panes);
    this.drawdownBox.addEventListener('change', panes);
    this.part('.export-trades', HTMLButtonElement).addEventListener('click', onExport);
    this.listRun = this.part('.list-run', HTMLSelectElement);
    this.listRun.addEventListener('change', () => this.list(Number(this.listRun.value)));
    this.scroller = this.part('.trade-scroll', HTMLElement);
    this.body = this.part('.trade-rows', HTMLElement);
    this.scroller.addEventListener('scroll', () => this.renderRows());
    new ResizeObserver(() => this.renderRows()).observe(this.scroller);
    this.body.addEventListener('click', (event) => {
      const row = event.target instanceof Element ? event.target.closest('.trade-row') : null;
      if (!(row instanceof HTMLElement)) return;
      const trade = this.rows[Number(row.dataset.index)];
      const layer = this.layers[this.listed];
      if (trade && layer) onPick(layer, trade);
    });
    this.renderHeader();
  }

  /**
   * The element of the panel's markup that `selector` names.
   * @template {HTMLElement} T
   * @param {string} selector
   * @param {new () => T} kind
   * @returns {T}
   */
  part(selector, kind) {
    const node = this.root.querySelector(selector);
    if (!(node instanceof kind)) throw new Error(`the run panel has no ${kind.name} ${selector}`);
    return node;
  }

  /**
   * Shows which panes are on, as the remembered layout has it.
   * @param {{equity: boolean, drawdown: boolean}} shown
   */
  setPanes({ equity, drawdown }) {
    this.equityBox.checked = equity;
    this.drawdownBox.checked = drawdown;
  }

  /**
   * The statistics card: one column per run.
   * @param {CardRun[]} runs
   */
  setCard(runs) {
    const card = this.part('.stats-card', HTMLElement);
    if (!runs.length) {
      card.replaceChildren();
      return;
    }
    const heads = runs.map(({ detail, color }) => {
      const head = make('div', 'run-head');
      head.dataset.run = detail.run;
      const name = make('h3', '', detail.name);
      name.style.borderColor = color;
      const period = detail.start !== null && detail.end !== null ? `${utcText(detail.start).slice(0, 10)} → ${utcText(detail.end).slice(0, 10)}` : '';
      const trades = `${detail.trade_count.toLocaleString('en-US')} trades${detail.open_trades ? ` (${detail.open_trades} open)` : ''}`;
      head.append(
        name,
        make('p', 'run-meta', [detail.strategy, paramsText(detail.params)].filter(Boolean).join(' · ')),
        make('p', 'run-meta', [period, trades, detail.starting_cash != null ? `from ${detail.starting_cash.toLocaleString('en-US')}` : ''].filter(Boolean).join(' · ')),
      );
      if (detail.notes) head.title = detail.notes;
      return head;
    });
    const columns = runs.map(({ detail }) => formatStats(detail.stats));
    // One run: tiles, label over value; several: a table with a column each.
    if (runs.length === 1) {
      const tiles = make('dl', 'stat-tiles');
      tiles.append(...columns[0].map(({ key, label, text, tone }) => {
        const tile = make('div', 'stat');
        tile.dataset.stat = key;
        tile.title = label;
        tile.append(make('dt', '', label), make('dd', tone, text));
        return tile;
      }));
      card.replaceChildren(...heads, tiles);
      return;
    }
    const table = make('table', 'stats');
    const headRow = make('tr');
    headRow.append(make('th'), ...runs.map(({ detail, color }) => {
      const th = make('th', '', detail.run);
      th.title = detail.name;
      th.style.color = color;
      return th;
    }));
    table.createTHead().append(headRow);
    const body = table.createTBody();
    columns[0].forEach((cell, k) => {
      const row = make('tr');
      row.dataset.stat = cell.key;
      row.append(make('th', '', cell.label), ...columns.map((column) => make('td', column[k].tone, column[k].text)));
      body.append(row);
    });
    card.replaceChildren(...heads, table);
  }

  /**
   * The runs whose trades can be listed; the first is listed.
   * @param {TradeLayer[]} layers
   */
  setLayers(layers) {
    const keep = this.layers[this.listed]?.key;
    this.layers = layers;
    this.listRun.replaceChildren(...layers.map((layer, k) => Object.assign(make('option', '', layer.name), { value: String(k) })));
    this.listRun.hidden = layers.length < 2;
    const again = layers.findIndex((l) => l.key === keep);
    this.list(again >= 0 ? again : 0);
  }

  /**
   * Lists layer `k`'s trades.
   * @param {number} k
   */
  list(k) {
    this.listed = Math.min(Math.max(k, 0), Math.max(this.layers.length - 1, 0));
    this.listRun.value = String(this.listed);
    this.sort(this.order, this.dir);
  }

  /** The layer listed, if any. */
  listedLayer() {
    return this.layers[this.listed];
  }

  /**
   * @param {TradeOrder} order
   * @param {1 | -1} dir
   */
  sort(order, dir) {
    this.order = order;
    this.dir = dir;
    this.rows = sortTrades(this.layers[this.listed]?.trades ?? [], order, dir);
    const layer = this.layers[this.listed];
    const closed = this.rows.filter((t) => t.pnl !== null);
    const wins = closed.filter((t) => /** @type {number} */ (t.pnl) > 0).length;
    this.part('.trades-count', HTMLElement).textContent = layer
      ? `${this.rows.length.toLocaleString('en-US')}${closed.length ? ` · ${percent((wins / closed.length) * 100)} won` : ''}`
      : '';
    this.body.style.height = `${this.rows.length * ROW}px`;
    this.renderHeader();
    this.renderRows(true);
  }

  renderHeader() {
    const header = this.part('.trade-header', HTMLElement);
    header.replaceChildren(...COLUMNS.map(({ order, label, title }) => {
      const cell = make('div', 'trade-cell', '');
      cell.setAttribute('role', 'columnheader');
      if (order === null) {
        cell.textContent = label;
        return cell;
      }
      const active = order === this.order;
      cell.setAttribute('aria-sort', active ? (this.dir > 0 ? 'ascending' : 'descending') : 'none');
      const button = make('button', 'sort', `${label}${active ? (this.dir > 0 ? ' ▲' : ' ▼') : ''}`);
      button.type = 'button';
      button.title = title;
      button.dataset.order = order;
      button.addEventListener('click', () => {
        // A new order starts where it is most telling: latest, biggest, longest first.
        this.sort(order, order === this.order ? /** @type {1 | -1} */ (-this.dir) : order === 'time' ? 1 : -1);
      });
      cell.append(button);
      return cell;
    }));
  }

  /**
   * Draws the rows scrolled into view.
   * @param {boolean} [all] the rows changed, not only the scroll
   */
  renderRows(all = false) {
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW) - SPARE);
    const last = Math.min(this.rows.length, Math.ceil((this.scroller.scrollTop + height) / ROW) + SPARE);
    const range = `${first}:${last}`;
    if (!all && range === this.body.dataset.range) return;
    this.body.dataset.range = range;
    const layer = this.layers[this.listed];
    const rows = [];
    for (let i = first; i < last; i++) {
      const trade = this.rows[i];
      const row = make('div', 'trade-row');
      row.setAttribute('role', 'row');
      row.dataset.index = String(i);
      row.dataset.trade = String(trade.id);
      row.style.transform = `translateY(${i * ROW}px)`;
      const picked = this.picked !== null && layer?.key === this.picked.key && trade.id === this.picked.id;
      if (picked) row.setAttribute('aria-selected', 'true');
      const result = trade.pnl ?? trade.unrealized_pnl;
      const outcome = result === null ? '' : result > 0 ? 'up' : 'down';
      const held = trade.exit_time === null ? 'open' : duration(trade.exit_time - trade.entry_time);
      const cells = [
        [trade.side === 'long' ? '▲' : '▼', trade.side],
        [utcText(trade.entry_time), 'time'],
        [outcomeText({ ...trade, return_pct: null, unrealized_return_pct: null }), `num ${outcome}`],
        [(trade.return_pct ?? trade.unrealized_return_pct) === null ? '–' : percent(trade.return_pct ?? trade.unrealized_return_pct ?? 0, true), `num ${outcome}`],
        [held, 'num'],
      ];
      row.title = [`#${trade.id} ${trade.side}`, trade.tag, trade.bars_held !== null && `${trade.bars_held} bars`].filter(Boolean).join(' · ');
      row.append(...cells.map(([text, cls]) => {
        const cell = make('div', `trade-cell ${cls}`, text);
        cell.setAttribute('role', 'gridcell');
        return cell;
      }));
      rows.push(row);
    }
    this.body.replaceChildren(...rows);
  }

  /**
   * Marks trade `id` of layer `key` as the one gone to, and scrolls it into view.
   * @param {string | null} key
   * @param {number | null} id
   */
  pick(key, id) {
    this.picked = key === null || id === null ? null : { key, id };
    if (this.picked && this.layers[this.listed]?.key !== key) {
      const k = this.layers.findIndex((l) => l.key === key);
      if (k >= 0) this.list(k);
    }
    const index = this.picked ? this.rows.findIndex((t) => t.id === id) : -1;
    if (index >= 0) {
      const top = index * ROW;
      const { scrollTop, clientHeight } = this.scroller;
      if (top < scrollTop || top + ROW > scrollTop + clientHeight) this.scroller.scrollTop = Math.max(0, top - clientHeight / 2);
    }
    this.renderRows(true);
  }
}
