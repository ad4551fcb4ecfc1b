// @ts-check
// What every controller of the page shares: its elements, the progress bar
// while anything is fetched, the status line, and the error slots beside
// each field.
import { errorPlace } from './api.js';

/** @import { ErrorPlace } from './api.js' */

/**
 * The page's element `id`, of the kind the page needs (an element missing
 * from index.html is a bug, said at once).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T}
 */
export function elementOf(id, kind) {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}

/** @param {string} id */
export const el = (id) => elementOf(id, HTMLElement);

/** @param {unknown} error */
export const isAbort = (error) => error instanceof Error && error.name === 'AbortError';

let inFlight = 0;

/**
 * Every fetch shows the progress bar until the last one ends.
 * @template T
 * @param {Promise<T>} promise
 * @returns {Promise<T>}
 */
export async function track(promise) {
  inFlight++;
  el('progress').hidden = false;
  try {
    return await promise;
  } finally {
    if (--inFlight === 0) el('progress').hidden = true;
  }
}

/**
 * @param {string} text
 * @param {boolean} [busy]
 */
export function setStatus(text, busy = false) {
  el('status').textContent = text;
  el('status').classList.toggle('loading', busy);
}

/**
 * A performance mark once the chart has drawn what it was given (its own
 * frame callback runs before this one), for profiling and the UI benchmark.
 * @param {string} name
 */
export function markPainted(name) {
  requestAnimationFrame(() => performance.mark(`${name}-painted`));
}

/**
 * The field error of a toolbar field.
 * @param {string} field
 * @returns {HTMLElement}
 */
function fieldError(field) {
  const slot = el(field).querySelector('.field-error');
  if (!(slot instanceof HTMLElement)) throw new Error(`#${field} has no .field-error`);
  return slot;
}

/** @typedef {Exclude<ErrorPlace, 'indicators'>} SlotPlace */

/** @type {Record<SlotPlace, () => HTMLElement>} */
const SLOTS = {
  symbol: () => fieldError('symbol-field'),
  timeframe: () => fieldError('timeframe-field'),
  compare: () => fieldError('compare-field'),
  run: () => fieldError('run-field'),
  chart: () => el('error'),
};

/**
 * Errors appear next to what caused them; the chart on screen stays. The
 * indicators' go to the indicator panel.
 */
export class Errors {
  /** @param {(message: string) => void} toIndicators */
  constructor(toIndicators) {
    this.toIndicators = toIndicators;
  }

  /**
   * @param {unknown} error
   * @param {ErrorPlace} [place]
   */
  show(error, place = errorPlace(error)) {
    const message = error instanceof Error ? error.message : String(error);
    if (place === 'indicators') {
      this.toIndicators(message);
      return;
    }
    const slot = SLOTS[place]();
    slot.textContent = message;
    slot.hidden = false;
  }

  /** @param {SlotPlace} place */
  hide(place) {
    SLOTS[place]().hidden = true;
  }

  clear() {
    for (const slot of Object.values(SLOTS)) {
      slot().textContent = '';
      slot().hidden = true;
    }
  }
}
