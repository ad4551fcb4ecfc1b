// @ts-check
// Where the chart's state lives between visits. The link carries what makes
// the chart (symbol, timeframe, chart type, indicators and their colours,
// the symbols compared with it and the anchor pinned for them, the backtest
// run on it and the one laid over it, a replay's cursor and step), so a reload or a shared
// link shows the same chart; the browser remembers the last layout (the
// same, plus theme, pane sizes and which run panes are shown) for the next visit.

const KEY = 'candela.layout';

/**
 * What a link carries; absent keys are undefined. `indicators` is the calls'
 * text as /api/data reads it, `colors` one `#rrggbb` per indicator.
 * @typedef {object} LinkLayout
 * @property {string} [symbol]
 * @property {string} [timeframe]
 * @property {string} [type]
 * @property {string} [indicators]
 * @property {string[]} [colors]
 * @property {string} [compare] the symbols compared with the chart, comma-separated
 * @property {number} [anchor] the bar they are all rebased to, when pinned (Unix seconds)
 * @property {string} [run] the backtest run on the chart (its id)
 * @property {string} [vs] a second run laid over it
 * @property {number} [replay] the replay's cursor, while replaying (Unix seconds)
 * @property {string} [step] the replay's interval, a finer stored timeframe (absent: chart bars)
 */

/**
 * The remembered layout: the link's, the theme, the pane sizes (stretch
 * factors: `price` and one per indicator key or run pane), and whether the
 * run's equity and drawdown panes are shown.
 * @typedef {LinkLayout & {theme?: 'dark' | 'light', panes?: Record<string, number>, runPanes?: {equity?: boolean, drawdown?: boolean}}} Layout
 */

/** @type {readonly (keyof LinkLayout)[]} */
const LINK_KEYS = ['symbol', 'timeframe', 'type', 'indicators', 'colors', 'compare', 'anchor', 'run', 'vs', 'replay', 'step'];

/**
 * What a link asks for.
 * @param {string} [search] the link's query, `?symbol=…`
 * @returns {LinkLayout}
 */
export function fromLink(search = location.search) {
  const query = new URLSearchParams(search);
  const get = (/** @type {string} */ name) => query.get(name) ?? undefined;
  const colors = get('colors')?.split(',').map((c) => `#${c}`);
  const instant = (/** @type {string} */ name) => {
    const text = get(name);
    const ms = text === undefined ? NaN : Date.parse(text);
    return Number.isFinite(ms) ? ms / 1000 : undefined;
  };
  return {
    symbol: get('symbol'), timeframe: get('timeframe'), type: get('type'), indicators: get('indicators'), colors,
    compare: get('compare'), anchor: instant('anchor'), run: get('run'), vs: get('vs'), replay: instant('replay'), step: get('step'),
  };
}

/**
 * `2024-03-05T14:00:00Z`: how a link writes an instant.
 * @param {number} seconds Unix seconds
 */
export const instantText = (seconds) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

// Characters a query value may hold as they are: links stay readable,
// `indicators=sma(period=20),rsi(period=14)` rather than a wall of escapes.
const readable = (/** @type {string} */ value) =>
  encodeURIComponent(value).replace(/%(3A|28|29|2C|3D)/g, (escape) => decodeURIComponent(escape));

/**
 * The query text (without `?`) of a link to `layout`. Anything else in
 * `search`, the current query (e.g. `bars=`), is kept, after the chart's own keys.
 * @param {LinkLayout} layout
 * @param {string} [search]
 * @returns {string}
 */
export function linkQuery({ symbol, timeframe, type, indicators, colors, compare, anchor, run, vs, replay, step }, search = '') {
  const query = new URLSearchParams(search);
  for (const name of LINK_KEYS) query.delete(name);
  /** @type {[string, string | undefined][]} */
  const pairs = [['symbol', symbol], ['timeframe', timeframe], ['type', type], ['indicators', indicators],
    ['colors', colors?.map((c) => c.replace(/^#/, '')).join(',')], ['compare', compare],
    ['anchor', anchor === undefined ? undefined : instantText(anchor)], ['run', run], ['vs', vs],
    ['replay', replay === undefined ? undefined : instantText(replay)], ['step', replay === undefined ? undefined : step]];
  const own = pairs.flatMap(([k, v]) => (v ? [`${k}=${readable(v)}`] : []));
  return [...own, ...[...query].map(([k, v]) => `${k}=${readable(v)}`)].join('&');
}

/**
 * Puts `layout` into the page's link, without a new history entry.
 * @param {LinkLayout} layout
 */
export function toLink(layout) {
  const text = linkQuery(layout, location.search);
  if (`?${text}` !== location.search) history.replaceState(null, '', `${location.pathname}?${text}${location.hash}`);
}

/**
 * The last layout, or {} when there is none (or storage is unavailable).
 * @returns {Layout}
 */
export function remembered() {
  try {
    const text = localStorage.getItem(KEY);
    /** @type {unknown} */
    const layout = text === null ? null : JSON.parse(text);
    return typeof layout === 'object' && layout !== null && !Array.isArray(layout) ? layout : {};
  } catch {
    return {};
  }
}

/**
 * Merges `changes` into the remembered layout.
 * @param {Layout} changes
 */
export function remember(changes) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...remembered(), ...changes }));
  } catch {
    // Private windows may refuse storage: the link still carries the chart.
  }
}
