// Candela's chart page: pick a symbol and timeframe, add indicators, and the
// server sends bars and indicator values for the latest bars.
import { api, callText } from './api.js';
import { PriceChart } from './chart.js';
import { IndicatorPanel } from './indicators.js';

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
const INITIAL_BARS = 5000;

const el = (id) => document.getElementById(id);
const state = { symbol: null, timeframe: null, bars: null, indicators: [] };
const chart = new PriceChart(el('chart'));
const panel = new IndicatorPanel(el('indicators'), () => loadChart());

// Tests and the console reach the live chart through this handle.
window.candela = { chart, panel };

function setStatus(text, loading = false) {
  el('status').textContent = text;
  el('status').classList.toggle('loading', loading);
}

function showError(message) {
  el('error').textContent = message;
  el('error').hidden = !message;
}

async function loadSymbols() {
  const { symbols } = await api('/api/symbols');
  const select = el('symbol');
  select.replaceChildren(...symbols.map((s) => new Option(`${s.id}  (${s.timeframes.join(', ')})`, s.id)));
  const wanted = new URLSearchParams(location.search).get('symbol');
  state.symbol = symbols.some((s) => s.id === wanted) ? wanted : symbols[0]?.id ?? null;
  if (state.symbol) select.value = state.symbol;
}

async function loadTimeframes() {
  const { stored, available } = await api(`/api/timeframes/${encodeURIComponent(state.symbol)}`);
  const wanted = new URLSearchParams(location.search).get('timeframe');
  const choices = [...new Set([...STANDARD, ...available])].filter((t) => available.includes(t));
  if (!choices.includes(state.timeframe)) state.timeframe = choices.includes(wanted) ? wanted : stored[0];
  el('timeframes').replaceChildren(...choices.map((tf) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = tf;
    button.dataset.timeframe = tf;
    button.setAttribute('role', 'radio');
    button.setAttribute('aria-checked', String(tf === state.timeframe));
    if (stored.includes(tf)) {
      button.classList.add('stored');
      button.title = 'stored';
    } else {
      button.title = `aggregated from ${stored.join(', ')}`;
    }
    button.addEventListener('click', () => { state.timeframe = tf; loadChart({ fit: true }); });
    return button;
  }));
}

const fmt = (v) => (v == null ? '–' : v.toLocaleString(undefined, { maximumFractionDigits: 4 }));

function span(className, text, color) {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  if (color) node.style.color = color;
  return node;
}

function renderLegend(index) {
  const bars = state.bars;
  if (!bars || bars.time.length === 0) { el('legend').replaceChildren(); return; }
  const i = index ?? bars.time.length - 1;
  const change = i > 0 ? (bars.close[i] / bars.close[i - 1] - 1) * 100 : 0;
  const cls = bars.close[i] >= bars.open[i] ? 'up' : 'down';
  const price = document.createElement('div');
  price.append(
    span('name', `${state.symbol} · ${state.timeframe}`),
    span(cls, `O ${fmt(bars.open[i])}`), span(cls, `H ${fmt(bars.high[i])}`),
    span(cls, `L ${fmt(bars.low[i])}`), span(cls, `C ${fmt(bars.close[i])}`),
    span(cls, `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`), span('', `Vol ${fmt(bars.volume[i])}`),
  );
  const rows = state.indicators.map(({ result, color }) => {
    const row = document.createElement('div');
    row.className = 'indicator-values';
    row.append(span('name', result.key, color),
      ...Object.entries(result.outputs).map(([name, values]) => span('', `${name} ${fmt(values[i])}`)));
    return row;
  });
  el('legend').replaceChildren(price, ...rows);
}

function recordInUrl(calls) {
  const url = new URL(location.href);
  url.searchParams.set('symbol', state.symbol);
  url.searchParams.set('timeframe', state.timeframe);
  if (calls) url.searchParams.set('indicators', calls);
  else url.searchParams.delete('indicators');
  history.replaceState(null, '', url);
}

// `calls` overrides the panel's list: a shared link's indicators, in whatever
// form its author wrote them; the server's reading of them becomes the list.
// `fit` shows all loaded bars; otherwise the user's zoom stays.
async function loadChart({ calls, fit = false } = {}) {
  if (!state.symbol) return;
  for (const b of el('timeframes').children) b.setAttribute('aria-checked', String(b.dataset.timeframe === state.timeframe));
  const requested = calls ?? panel.active.map((a) => callText(a.id, a.params)).join(',');
  setStatus(`Loading ${state.symbol} ${state.timeframe}…`, true);
  el('load').disabled = true;
  try {
    const query = new URLSearchParams({ symbol: state.symbol, timeframe: state.timeframe, limit: INITIAL_BARS });
    if (requested) query.set('indicators', requested);
    const data = await api(`/api/data?${query}`);
    if (calls !== undefined) panel.setActive(data.indicators.map((r) => ({ id: r.id, params: r.params })));
    const bars = data.bars;
    state.bars = bars;
    state.indicators = data.indicators.map((result, i) => ({
      result, spec: panel.spec(result.id), color: panel.active[i].color,
    }));
    chart.setBars(bars);
    chart.setIndicators(bars.time, state.indicators);
    if (fit) chart.fit();
    el('chart').dataset.bars = String(bars.time.length);
    el('chart').dataset.indicators = String(data.indicators.length);
    recordInUrl(requested);
    renderLegend();
    showError('');
    const source = data.source.aggregated ? ` · aggregated from ${data.source.timeframe}` : '';
    setStatus(`${bars.time.length.toLocaleString()} bars${source}`);
  } catch (error) {
    if (calls) {
      // A link with indicators the server refuses still opens its chart.
      await loadChart({ calls: '', fit });
      showError(`indicators=${calls}: ${error.message}`);
      return;
    }
    showError(error.message);
    setStatus('');
  } finally {
    el('load').disabled = false;
  }
}

chart.chart.subscribeCrosshairMove((param) => {
  const index = param.logical == null || !state.bars ? undefined : Math.min(Math.max(Math.round(param.logical), 0), state.bars.time.length - 1);
  renderLegend(param.time === undefined ? undefined : index);
});

el('symbol').addEventListener('change', async () => {
  state.symbol = el('symbol').value;
  try { await loadTimeframes(); await loadChart({ fit: true }); } catch (error) { showError(error.message); }
});
el('load').addEventListener('click', () => loadChart({ fit: true }));

// Plugins come and go while the server runs: the catalog follows when the
// user comes back to the page, and every 10 s while the page is visible.
async function refreshCatalog() {
  try {
    panel.setCatalog((await api('/api/indicators')).indicators);
  } catch {
    // The catalog in hand stays; loading the chart reports a server that is down.
  }
}
window.addEventListener('focus', refreshCatalog);
setInterval(() => { if (document.visibilityState === 'visible') refreshCatalog(); }, 10_000);

(async () => {
  try {
    const [{ indicators }] = await Promise.all([api('/api/indicators'), loadSymbols()]);
    panel.setCatalog(indicators);
    if (!state.symbol) { showError('No symbols found in the data folder.'); return; }
    await loadTimeframes();
    await loadChart({ calls: new URLSearchParams(location.search).get('indicators') ?? '', fit: true });
  } catch (error) {
    showError(error.message);
  }
})();
