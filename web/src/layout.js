// Where the chart's state lives between visits. The link carries what makes
// the chart (symbol, timeframe, chart type, indicators and their colours), so
// a reload or a shared link shows the same chart; the browser remembers the
// last layout (the same, plus theme and pane sizes) for the next visit.

const KEY = 'candela.layout';

// What a link asks for; absent keys are undefined.
export function fromLink(search = location.search) {
  const query = new URLSearchParams(search);
  const get = (name) => query.get(name) ?? undefined;
  const colors = get('colors')?.split(',').map((c) => `#${c}`);
  return { symbol: get('symbol'), timeframe: get('timeframe'), type: get('type'), indicators: get('indicators'), colors };
}

// Characters a query value may hold as they are: links stay readable,
// `indicators=sma(period=20),rsi(period=14)` rather than a wall of escapes.
const readable = (value) => encodeURIComponent(value).replace(/%(3A|28|29|2C|3D)/g, (escape) => decodeURIComponent(escape));

export function toLink({ symbol, timeframe, type, indicators, colors }) {
  const query = new URLSearchParams(location.search);
  for (const name of ['symbol', 'timeframe', 'type', 'indicators', 'colors']) query.delete(name);
  const pairs = [['symbol', symbol], ['timeframe', timeframe], ['type', type], ['indicators', indicators],
    ['colors', colors?.map((c) => c.replace(/^#/, '')).join(',')]];
  // Anything else in the link (e.g. `bars=`) is kept, after the chart's own keys.
  const text = [...pairs.filter(([, v]) => v).map(([k, v]) => `${k}=${readable(v)}`), ...[...query].map(([k, v]) => `${k}=${readable(v)}`)].join('&');
  if (`?${text}` !== location.search) history.replaceState(null, '', `${location.pathname}?${text}${location.hash}`);
}

// The last layout, or {} when there is none (or storage is unavailable).
export function remembered() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) ?? {};
  } catch {
    return {};
  }
}

export function remember(changes) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...remembered(), ...changes }));
  } catch {
    // Private windows may refuse storage: the link still carries the chart.
  }
}
