// Candela's chart page: pick a symbol and timeframe, draw candles and volume.
const { createChart, CandlestickSeries, HistogramSeries, CrosshairMode } = LightweightCharts;

const STANDARD = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M'];
const INITIAL_BARS = 5000;

const el = (id) => document.getElementById(id);
const state = { symbol: null, timeframe: null, bars: null };

const chart = createChart(el('chart'), {
  autoSize: true,
  layout: { background: { color: 'transparent' }, textColor: '#c9cfdd', attributionLogo: true },
  grid: { vertLines: { color: 'rgba(255,255,255,0.04)' }, horzLines: { color: 'rgba(255,255,255,0.04)' } },
  crosshair: { mode: CrosshairMode.Normal },
  rightPriceScale: { borderColor: 'rgba(255,255,255,0.12)' },
  timeScale: { borderColor: 'rgba(255,255,255,0.12)', timeVisible: true, secondsVisible: false },
});
const candles = chart.addSeries(CandlestickSeries, {
  upColor: '#26a69a', downColor: '#ef5350', borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350',
});
const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume' });
volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

async function api(path) {
  const response = await fetch(path);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error ? body.error.message : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

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
    button.addEventListener('click', () => { state.timeframe = tf; loadChart(); });
    return button;
  }));
}

function renderLegend(index) {
  const bars = state.bars;
  if (!bars || bars.time.length === 0) { el('legend').replaceChildren(); return; }
  const i = index ?? bars.time.length - 1;
  const change = i > 0 ? (bars.close[i] / bars.close[i - 1] - 1) * 100 : 0;
  const cls = bars.close[i] >= bars.open[i] ? 'up' : 'down';
  const fmt = (v) => (v == null ? '–' : v.toLocaleString(undefined, { maximumFractionDigits: 4 }));
  const parts = [
    ['name', `${state.symbol} · ${state.timeframe}`],
    [cls, `O ${fmt(bars.open[i])}`], [cls, `H ${fmt(bars.high[i])}`],
    [cls, `L ${fmt(bars.low[i])}`], [cls, `C ${fmt(bars.close[i])}`],
    [cls, `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`], ['', `Vol ${fmt(bars.volume[i])}`],
  ];
  el('legend').replaceChildren(...parts.map(([c, text]) => {
    const span = document.createElement('span');
    span.className = c;
    span.textContent = text;
    return span;
  }));
}

async function loadChart() {
  if (!state.symbol) return;
  for (const b of el('timeframes').children) b.setAttribute('aria-checked', String(b.dataset.timeframe === state.timeframe));
  const url = new URL(location.href);
  url.searchParams.set('symbol', state.symbol);
  url.searchParams.set('timeframe', state.timeframe);
  history.replaceState(null, '', url);
  setStatus(`Loading ${state.symbol} ${state.timeframe}…`, true);
  el('load').disabled = true;
  try {
    const query = new URLSearchParams({ symbol: state.symbol, timeframe: state.timeframe, limit: INITIAL_BARS });
    const data = await api(`/api/data?${query}`);
    const bars = data.bars;
    state.bars = bars;
    candles.setData(bars.time.map((time, i) => ({
      time, open: bars.open[i], high: bars.high[i], low: bars.low[i], close: bars.close[i],
    })));
    volume.setData(bars.time.map((time, i) => ({
      time, value: bars.volume[i] ?? 0,
      color: bars.close[i] >= bars.open[i] ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)',
    })));
    chart.timeScale().fitContent();
    el('chart').dataset.bars = String(bars.time.length);
    renderLegend();
    showError('');
    const source = data.source.aggregated ? ` · aggregated from ${data.source.timeframe}` : '';
    setStatus(`${bars.time.length.toLocaleString()} bars${source}`);
  } catch (error) {
    showError(error.message);
    setStatus('');
  } finally {
    el('load').disabled = false;
  }
}

chart.subscribeCrosshairMove((param) => {
  const index = param.logical == null || !state.bars ? undefined : Math.min(Math.max(Math.round(param.logical), 0), state.bars.time.length - 1);
  renderLegend(param.time === undefined ? undefined : index);
});

el('symbol').addEventListener('change', async () => {
  state.symbol = el('symbol').value;
  try { await loadTimeframes(); await loadChart(); } catch (error) { showError(error.message); }
});
el('load').addEventListener('click', loadChart);

(async () => {
  try {
    await loadSymbols();
    if (!state.symbol) { showError('No symbols found in the data folder.'); return; }
    await loadTimeframes();
    await loadChart();
  } catch (error) {
    showError(error.message);
  }
})();
