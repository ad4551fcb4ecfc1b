// @ts-check
// The indicator sidebar: the catalog from /api/indicators grouped by
// category, a parameter form checked against the declared types and ranges,
// and the list of indicators on the chart, each editable, recolourable and
// removable. An indicator the server refused stays listed, marked with why.
import { callText } from './api.js';

/** @import { IndicatorSpec, ParamSpec } from './api.js' */

/**
 * An indicator on the chart: its call (parameters in declared order), its
 * colour, and why the server refused it, if it did.
 * @typedef {{id: string, params: Record<string, number>, color: string, failed?: string}} Entry
 */

const PALETTE = ['#f5a623', '#6c8cff', '#e056fd', '#00d2d3', '#ff7f50', '#a3cb38', '#fd79a8', '#74b9ff'];

/**
 * An element with properties and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Partial<HTMLElementTagNameMap[K]>} [props]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
const make = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/**
 * The value of one parameter from the text in its box, or the reason it is
 * not acceptable, in the words the server would use.
 * @param {ParamSpec} spec
 * @param {string} text
 * @returns {{value: number} | {error: string}}
 */
export function parseParam(spec, text) {
  const raw = text.trim();
  const range = `from ${spec.min} to ${spec.max}`;
  const kind = spec.type === 'integer' ? 'an integer' : 'a number';
  const value = raw === '' ? NaN : Number(raw);
  if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
    return { error: `${spec.name} must be ${kind} ${range}` };
  }
  if (value < spec.min || value > spec.max) {
    return { error: `${spec.name} = ${raw} is out of range: ${kind} ${range}` };
  }
  return { value };
}

export class IndicatorPanel {
  /**
   * `onChange()` runs whenever the list of indicators changes, `onRecolor()`
   * when only a colour did.
   * @param {HTMLElement} root the sidebar's markup
   * @param {{onChange: () => void, onRecolor: () => void}} callbacks
   */
  constructor(root, { onChange, onRecolor }) {
    this.root = root;
    this.onChange = onChange;
    this.onRecolor = onRecolor;
    /** @type {Map<string, IndicatorSpec>} */
    this.catalog = new Map();
    /** @type {string | undefined} the catalog as last set, to see whether it changed */
    this.catalogText = undefined;
    /** @type {Entry[]} */
    this.active = [];
    this.nextColor = 0;
  }

  /**
   * Rebuilt only when it changed, so a refresh never disturbs the user.
   * @param {IndicatorSpec[]} indicators
   */
  setCatalog(indicators) {
    const text = JSON.stringify(indicators);
    if (text === this.catalogText) return;
    this.catalogText = text;
    this.catalog = new Map(indicators.map((spec) => [spec.id, spec]));
    const groups = Map.groupBy(indicators, (spec) => spec.category);
    const sections = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([category, specs]) =>
      make('section', { className: 'category' }, [
        make('h3', { textContent: category }),
        ...specs.map((spec) => this.catalogButton(spec)),
      ]));
    this.part('.catalog').replaceChildren(...sections);
  }

  /**
   * The element of the sidebar's markup that `selector` names.
   * @param {string} selector
   * @returns {HTMLElement}
   */
  part(selector) {
    const node = this.root.querySelector(selector);
    if (!(node instanceof HTMLElement)) throw new Error(`the indicator sidebar has no ${selector}`);
    return node;
  }

  /** @param {IndicatorSpec} spec */
  catalogButton(spec) {
    const button = make('button', {
      type: 'button',
      className: 'catalog-item',
      textContent: spec.name,
      title: spec.description,
      onclick: () => this.openForm(spec),
    });
    button.dataset.indicator = spec.id;
    return button;
  }

  /** @param {string} id */
  spec(id) {
    return this.catalog.get(id);
  }

  /**
   * Replaces the list, e.g. with what the server made of a shared link;
   * entries without a colour get the next one of the palette.
   * @param {{id: string, params: Record<string, number>, color?: string}[]} list
   */
  setActive(list) {
    this.nextColor = 0;
    this.active = [];
    for (const { id, params, color } of list) {
      // In declared order, as the form and the server's keys write them.
      const declared = this.spec(id)?.params.map((p) => p.name).filter((name) => name in params) ?? Object.keys(params);
      const ordered = Object.fromEntries(declared.map((name) => [name, params[name]]));
      this.active.push({ id, params: ordered, color: color ?? this.takeColor() });
    }
    this.renderActive();
  }

  takeColor() {
    const taken = new Set(this.active.map((a) => a.color));
    const free = PALETTE.find((c) => !taken.has(c));
    return free ?? PALETTE[this.nextColor++ % PALETTE.length];
  }

  /**
   * The calls text of the entries, as /api/data reads it.
   * @param {Entry[]} [entries]
   */
  calls(entries = this.active) {
    return entries.map((a) => callText(a.id, a.params)).join(',');
  }

  /**
   * Marks the entry whose call the server refused (all marks are cleared
   * with an empty message) and shows the message above the list.
   * @param {string} message
   * @param {Entry} [entry]
   */
  setError(message, entry) {
    for (const a of this.active) delete a.failed;
    if (entry) entry.failed = message;
    const slot = this.part(':scope > .field-error');
    slot.textContent = message;
    slot.hidden = !message;
    this.renderActive();
  }

  /**
   * The parameter form for a new indicator, or for editing entry `index`.
   * @param {IndicatorSpec} spec
   * @param {number} [index]
   */
  openForm(spec, index) {
    const editing = index !== undefined;
    /** @type {Record<string, number>} */
    const current = editing ? this.active[index].params : {};
    const fields = spec.params.map((param) => {
      const input = make('input', {
        name: param.name,
        type: 'text',
        inputMode: param.type === 'integer' ? 'numeric' : 'decimal',
        value: String(current[param.name] ?? param.default),
        title: `${param.description ?? ''} (${param.type} from ${param.min} to ${param.max})`.trim(),
      });
      return { param, input, row: make('label', { className: 'param' }, [param.name, input]) };
    });
    const message = make('p', { className: 'form-error', role: 'alert' });
    const submit = make('button', { type: 'submit', className: 'primary', textContent: editing ? 'Apply' : 'Add' });
    const form = make('form', { className: 'param-form' }, [
      make('h4', { textContent: spec.name }),
      make('p', { className: 'hint', textContent: spec.description }),
      ...fields.map((f) => f.row),
      message,
      make('div', { className: 'form-actions' }, [
        submit,
        make('button', { type: 'button', textContent: 'Cancel', onclick: () => form.remove() }),
      ]),
    ]);
    form.dataset.indicator = spec.id;
    const read = () => {
      /** @type {Record<string, number>} */
      const params = {};
      const errors = [];
      for (const { param, input } of fields) {
        const parsed = parseParam(param, input.value);
        input.setAttribute('aria-invalid', String('error' in parsed));
        if ('error' in parsed) errors.push(parsed.error);
        else params[param.name] = parsed.value;
      }
      message.textContent = errors.join('; ');
      submit.disabled = errors.length > 0;
      return errors.length ? null : params;
    };
    form.addEventListener('input', read);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const params = read();
      if (!params) return;
      const duplicate = this.active.findIndex((a, i) => i !== index && a.id === spec.id && sameParams(a.params, params));
      if (duplicate >= 0) {
        message.textContent = 'This indicator is already on the chart with these parameters.';
        return;
      }
      if (editing) this.active[index] = { ...this.active[index], params };
      else this.active.push({ id: spec.id, params, color: this.takeColor() });
      form.remove();
      this.renderActive();
      this.onChange();
    });
    this.root.querySelector('.param-form')?.remove();
    this.part('.editor').append(form);
    read();
    fields[0]?.input.focus();
  }

  /** @param {number} index */
  remove(index) {
    this.active.splice(index, 1);
    this.root.querySelector('.param-form')?.remove();
    this.renderActive();
    this.onChange();
  }

  renderActive() {
    const rows = this.active.map((entry, index) => {
      const spec = this.spec(entry.id);
      const label = Object.values(entry.params).join(', ');
      const swatch = make('input', { type: 'color', className: 'swatch', value: entry.color, title: 'Colour', ariaLabel: `Colour of ${entry.id}` });
      swatch.addEventListener('input', () => { entry.color = swatch.value; this.onRecolor(); });
      const row = make('li', { className: `active-item${entry.failed ? ' failed' : ''}` }, [
        swatch,
        make('span', { className: 'label', textContent: `${entry.id.toUpperCase()}${label ? ` ${label}` : ''}`, title: entry.failed ?? spec?.name ?? entry.id }),
        make('button', { type: 'button', textContent: 'Edit', title: 'Edit parameters', disabled: !spec?.params.length, onclick: () => spec && this.openForm(spec, index) }),
        make('button', { type: 'button', textContent: '✕', title: 'Remove', ariaLabel: 'Remove', onclick: () => this.remove(index) }),
      ]);
      row.dataset.indicator = entry.id;
      return row;
    });
    const list = this.part('.active');
    list.replaceChildren(...rows);
    list.hidden = rows.length === 0;
  }
}

/**
 * @param {Record<string, number>} a
 * @param {Record<string, number>} b
 */
function sameParams(a, b) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
