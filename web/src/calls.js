// @ts-check
// Indicator calls as the page writes, reads and names them: the text
// /api/data reads (`ema(period=9,source=rsi(period=14),timeframe=1d)`), a
// reader for the server's canonical keys, which nest, and the short name a
// legend or a list shows (`EMA 9 of RSI 14 · 1d · close`).

/** @import { IndicatorSpec } from './api.js' */

/** The bar columns a call may read instead of the close, as docs/indicators.md lists them. */
export const COLUMNS = ['close', 'open', 'high', 'low', 'hl2', 'hlc3', 'ohlc4', 'volume'];

/** @typedef {'close' | 'open' | 'forming'} Align */

/** What `align=` may say, the default first. @type {readonly Align[]} */
export const ALIGNS = ['close', 'open', 'forming'];

/**
 * A call: the indicator, its own parameters (in declared order), and the
 * reserved arguments when given: `source` (a column, or a call's text with
 * `.output` for one of several), `timeframe` and its `align`.
 * @typedef {object} Call
 * @property {string} id
 * @property {Record<string, number>} params
 * @property {string} [source]
 * @property {string} [timeframe]
 * @property {Align} [align]
 */

/**
 * `sma(period=20)`, `sma(period=20,source=hl2,timeframe=1d,align=open)`:
 * named arguments, so that a call reads the same whatever the declared
 * order; a bare id when there are none. The close and `align=close` are the
 * defaults, left unsaid as the server's keys leave them.
 * @param {Call} call
 * @returns {string}
 */
export function callText({ id, params, source, timeframe, align }) {
  const args = Object.entries(params).map(([name, value]) => `${name}=${value}`);
  if (source && source !== 'close') args.push(`source=${source}`);
  if (timeframe) {
    args.push(`timeframe=${timeframe}`);
    if (align && align !== 'close') args.push(`align=${align}`);
  }
  return args.length ? `${id}(${args.join(',')})` : id;
}

/**
 * A call as text writes it: its id, its named arguments (a number, a word,
 * or a nested call) and the output picked (`macd(...).histogram`).
 * @typedef {{id: string, args: Map<string, number | string | Written>, output?: string}} Written
 */

/**
 * Reads a call written with named arguments, nested calls included; null
 * for anything else (positional arguments, unbalanced brackets).
 * @param {string} text
 * @returns {Written | null}
 */
export function parseCall(text) {
  let at = 0;
  const skip = () => { while (text[at] === ' ') at++; };
  const word = () => {
    skip();
    const match = /^[^\s(),=.]+(?:\.\d+)?/.exec(text.slice(at));
    if (!match) return null;
    at += match[0].length;
    return match[0];
  };
  /** @returns {Written | null} */
  const call = () => {
    const id = word();
    if (id === null) return null;
    /** @type {Written} */
    const parsed = { id, args: new Map() };
    skip();
    if (text[at] === '(') {
      at++;
      skip();
      while (text[at] !== ')') {
        const name = word();
        skip();
        if (name === null || text[at] !== '=' || parsed.args.has(name)) return null;
        at++;
        const start = at;
        const value = call();
        if (value === null) return null;
        const number = Number(text.slice(start, at).trim());
        const bare = value.args.size === 0 && !value.output && !text.slice(start, at).includes('(');
        parsed.args.set(name, bare ? (Number.isFinite(number) ? number : value.id) : value);
        skip();
        if (text[at] === ',') at++;
        else if (text[at] !== ')') return null;
        skip();
      }
      at++;
    }
    if (text[at] === '.') {
      at++;
      const output = word();
      if (output === null) return null;
      parsed.output = output;
    }
    return parsed;
  };
  const parsed = call();
  skip();
  return parsed && at === text.length ? parsed : null;
}

/**
 * The text of a written call, as `callText` would write it.
 * @param {Written} written
 * @returns {string}
 */
function writtenText({ id, args, output }) {
  const inner = [...args].map(([name, value]) => `${name}=${typeof value === 'object' ? writtenText(value) : value}`);
  return `${inner.length ? `${id}(${inner.join(',')})` : id}${output ? `.${output}` : ''}`;
}

/**
 * The call a key (or any text written with named arguments) says, its
 * parameters in the order the catalog declares them; null for other text.
 * @param {string} text
 * @param {(id: string) => IndicatorSpec | undefined} [specOf]
 * @returns {Call | null}
 */
export function readCall(text, specOf = () => undefined) {
  const written = parseCall(text);
  if (!written || written.output) return null;
  /** @type {Record<string, number>} */
  const params = {};
  /** @type {Call} */
  const call = { id: written.id, params };
  for (const [name, value] of written.args) {
    if (name === 'source') call.source = typeof value === 'object' ? writtenText(value) : String(value);
    else if (name === 'timeframe') call.timeframe = String(value);
    else if (name === 'align') {
      if (!ALIGNS.includes(/** @type {Align} */ (value))) return null;
      call.align = /** @type {Align} */ (value);
    } else if (typeof value === 'number') params[name] = value;
    else return null;
  }
  const declared = specOf(call.id)?.params.map((p) => p.name).filter((name) => name in params);
  if (declared) call.params = Object.fromEntries(declared.map((name) => [name, params[name]]));
  if (call.timeframe && !call.align) call.align = 'close';
  return call;
}

/**
 * What a legend or a list calls a call: `SMA 20`, `EMA 9 of RSI 14`,
 * `SMA 20 · 1d · close` (the higher timeframe and what a bar may see of it),
 * `SMA 5 of MACD 12, 26, 9 histogram`.
 * @param {Call} call
 * @returns {string}
 */
export function callLabel({ id, params, source, timeframe, align }) {
  const args = Object.values(params).join(', ');
  let label = `${id.toUpperCase()}${args ? ` ${args}` : ''}`;
  if (source && source !== 'close') label += ` of ${sourceLabel(source)}`;
  if (timeframe) label += ` · ${timeframe} · ${align ?? 'close'}`;
  return label;
}

/**
 * `RSI 14` for `rsi(period=14)`, `MACD 12, 26, 9 histogram` for one of its
 * outputs, `HL2` for a column.
 * @param {string} source
 */
export function sourceLabel(source) {
  if (COLUMNS.includes(source)) return source.toUpperCase();
  const written = parseCall(source);
  if (!written) return source;
  const call = readCall(writtenText({ ...written, output: undefined }));
  if (!call) return source;
  return `${callLabel(call)}${written.output ? ` ${written.output}` : ''}`;
}

/**
 * Whether an indicator reads one series (the close, perhaps with times), so
 * that `source=` can stand in for it; one that needs whole bars does not.
 * @param {{inputs?: string[]}} spec
 */
export function takesSource({ inputs = ['close'] }) {
  return inputs.includes('close') && inputs.every((input) => input === 'close' || input === 'time');
}

/**
 * Whether two calls ask for the same thing, however their text writes it
 * (`2` or `2.0`, spaces, the close or `align=close` said or not).
 * @param {Call} a
 * @param {Call} b
 */
export function sameCall(a, b) {
  const keys = Object.keys(a.params);
  return a.id === b.id && keys.length === Object.keys(b.params).length && keys.every((k) => a.params[k] === b.params[k])
    && sourceText(a.source) === sourceText(b.source) && (a.timeframe ?? '') === (b.timeframe ?? '')
    && (a.timeframe ? a.align ?? 'close' : '') === (b.timeframe ? b.align ?? 'close' : '');
}

/** @param {string | undefined} source */
function sourceText(source = 'close') {
  const written = parseCall(source);
  return written ? writtenText(written) : source;
}
