// @ts-check
// Which timeframes a call on the chart may ask for with `timeframe=`: those
// the chart's bars tile, coarser than the chart's, as the server's
// `Timeframe::divides` rules (calendar days, weeks and months start at local
// midnight, so a fixed width must tile a day to build them).

/** @typedef {{count: number, unit: 'm' | 'h' | 'd' | 'w' | 'M'}} Parsed */

const FIXED_SECONDS = { m: 60, h: 3600 };
const NOMINAL_SECONDS = { ...FIXED_SECONDS, d: 86_400, w: 604_800, M: 2_629_746 };

/**
 * @param {string} text e.g. `15m`, `1d`, `1M`
 * @returns {Parsed | null}
 */
function parse(text) {
  const match = /^([1-9]\d*)([mhdwM])$/.exec(text);
  return match ? { count: Number(match[1]), unit: /** @type {Parsed['unit']} */ (match[2]) } : null;
}

/** @param {Parsed} tf */
const fixedSeconds = ({ count, unit }) => (unit === 'm' || unit === 'h' ? count * FIXED_SECONDS[unit] : null);

/**
 * Whether every bar of `target` is a whole number of bars of `source`.
 * @param {string} source
 * @param {string} target
 */
export function divides(source, target) {
  const [s, t] = [parse(source), parse(target)];
  if (!s || !t) return false;
  const width = fixedSeconds(s);
  if (width !== null) {
    const targetWidth = fixedSeconds(t);
    return targetWidth !== null ? targetWidth % width === 0 : 86_400 % width === 0;
  }
  if (s.unit === 'd' && t.unit === 'd') return t.count % s.count === 0;
  if (s.unit === 'd' && (t.unit === 'w' || t.unit === 'M')) return s.count === 1;
  return s.unit === t.unit && (s.unit === 'w' || s.unit === 'M');
}

/** A timeframe's nominal length in seconds (a month's average), to order them. */
const nominal = (/** @type {string} */ tf) => {
  const parsed = parse(tf);
  return parsed ? parsed.count * NOMINAL_SECONDS[parsed.unit] : 0;
};

/**
 * The timeframes of `choices` a `chart` timeframe's indicators may be
 * computed on: coarser than it, and built of whole chart bars.
 * @param {string} chart
 * @param {readonly string[]} choices
 */
export function higherTimeframes(chart, choices) {
  return choices.filter((tf) => nominal(tf) > nominal(chart) && divides(chart, tf));
}

/**
 * The timeframes of `choices` a `chart` timeframe's bars are built of
 * (finer, tiling them), the coarsest first: what a replay may step by.
 * @param {string} chart
 * @param {readonly string[]} choices
 */
export function finerTimeframes(chart, choices) {
  return choices.filter((tf) => nominal(tf) < nominal(chart) && divides(tf, chart)).sort((a, b) => nominal(b) - nominal(a));
}

/**
 * A timeframe's width in seconds when it is fixed (minutes, hours); null for
 * the calendar ones (days, weeks, months), whose bars end at local midnights.
 * @param {string} text
 * @returns {number | null}
 */
export function fixedWidth(text) {
  const parsed = parse(text);
  return parsed ? fixedSeconds(parsed) : null;
}
