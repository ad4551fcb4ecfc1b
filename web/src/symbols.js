// @ts-check
// The symbol picker: a search box over the stored symbols. Typing filters by
// any part of the id (provider or ticker); arrows move, Enter or a click
// chooses, Escape puts back the symbol on the chart.

/** @import { SymbolInfo } from './api.js' */

export class SymbolPicker {
  /**
   * `onChoose(id)` runs when the user picks a symbol other than the current one.
   * @param {HTMLInputElement} input the search box
   * @param {HTMLElement} list the listbox under it
   * @param {(id: string) => void} onChoose
   */
  constructor(input, list, onChoose) {
    this.input = input;
    this.list = list;
    this.onChoose = onChoose;
    /** @type {SymbolInfo[]} */
    this.symbols = [];
    /** @type {string | null} */
    this.current = null;
    /** @type {SymbolInfo[]} */
    this.matches = [];
    this.highlighted = 0;
    input.addEventListener('focus', () => { input.select(); this.open(''); });
    input.addEventListener('input', () => this.open(input.value));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 120));
    input.addEventListener('keydown', (event) => this.onKey(event));
    list.addEventListener('mousedown', (event) => {
      const item = event.target instanceof Element ? event.target.closest('[role="option"]') : null;
      if (!(item instanceof HTMLElement) || item.dataset.symbol === undefined) return;
      event.preventDefault();
      this.choose(item.dataset.symbol);
    });
  }

  /** @param {SymbolInfo[]} symbols */
  setSymbols(symbols) {
    this.symbols = symbols;
  }

  /**
   * Shows `id` as the chart's symbol without choosing it.
   * @param {string | null} id
   */
  setCurrent(id) {
    this.current = id;
    this.input.value = id ?? '';
  }

  /**
   * Lists the symbols whose id holds `text`.
   * @param {string} text
   */
  open(text) {
    const needle = text.trim().toLowerCase();
    this.matches = this.symbols.filter((s) => s.id.toLowerCase().includes(needle));
    this.highlighted = Math.max(this.matches.findIndex((s) => s.id === this.current), 0);
    this.render();
  }

  render() {
    this.list.replaceChildren(...(this.matches.length ? this.matches.map((s, i) => {
      const item = document.createElement('li');
      item.setAttribute('role', 'option');
      item.id = `symbol-option-${i}`;
      item.dataset.symbol = s.id;
      item.setAttribute('aria-selected', String(i === this.highlighted));
      const name = document.createElement('span');
      name.textContent = s.id;
      const stored = document.createElement('small');
      stored.textContent = s.timeframes.join(' ');
      item.append(name, stored);
      return item;
    }) : [Object.assign(document.createElement('li'), { className: 'empty', textContent: 'No symbol matches' })]));
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    const active = this.list.children[this.highlighted];
    if (active instanceof HTMLElement && active.id) {
      this.input.setAttribute('aria-activedescendant', active.id);
      active.scrollIntoView({ block: 'nearest' });
    }
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    if (document.activeElement !== this.input) this.input.value = this.current ?? '';
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (this.list.hidden) this.open(this.input.value);
      const n = this.matches.length;
      if (n) this.highlighted = (this.highlighted + (event.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const match = this.matches[this.highlighted];
      if (match) this.choose(match.id);
    } else if (event.key === 'Escape') {
      this.input.value = this.current ?? '';
      this.input.blur();
    }
  }

  /** @param {string} id */
  choose(id) {
    const changed = id !== this.current;
    this.setCurrent(id);
    this.input.blur();
    this.close();
    if (changed) this.onChoose(id);
  }
}
