// @ts-check
// The indicator sidebar: the catalog from /api/indicators grouped by
// category, a parameter form checked against the declared types and ranges,
// and the list of indicators on the chart, each editable, recolourable and
// removable. Its form also says where a call is computed: on the chart's
// bars or a higher timeframe's (and what each bar may see of those), and on
// which series (a column, or another indicator's output). An indicator the
// server refused stays listed, marked with why.
import { ALIGNS, COLUMNS, callLabel, callText, sameCall, sourceLabel, takesSource } from './calls.js';
import { higherTimeframes } from './timeframes.js';

/** @import { IndicatorSpec, ParamSpec } from './api.js' */
/** @import { Align, Call } from './calls.js' */

/**
 * An indicator on the chart: its call (parameters in declared order, the
 * reserved arguments when given), its colour, and why the server refused
 * it, if it did.
 * @typedef {Call & {color: string, failed?: string}} Entry
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
    // The chart's timeframe and those its calls may be computed on.
    this.timeframe = '';
    /** @type {string[]} */
    this.higher = [];
  }

  /**
   * The chart's timeframe and the symbol's others, for the form's timeframe picker.
   * @param {string} timeframe
   * @param {readonly string[]} choices
   */
  setTimeframes(timeframe, choices) {
    this.timeframe = timeframe;
    this.higher = higherTimeframes(timeframe, choices);
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
   * @param {(Call & {color?: string})[]} list
   */
  setActive(list) {
    this.nextColor = 0;
    this.active = [];
    for (const { id, params, source, timeframe, align, color } of list) {
      // In declared order, as the form and the server's keys write them.
      const declared = this.spec(id)?.params.map((p) => p.name).filter((name) => name in params) ?? Object.keys(params);
      const ordered = Object.fromEntries(declared.map((name) => [name, params[name]]));
      /** @type {Entry} */
      const entry = { id, params: ordered, color: color ?? this.takeColor() };
      if (source) entry.source = source;
      if (timeframe) Object.assign(entry, { timeframe, align: align ?? 'close' });
      this.active.push(entry);
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
    return entries.map((a) => callText(a)).join(',');
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
   * The parameter form for a new indicator, or for editing entry `index`:
   * its parameters, then where it is computed (the chart's timeframe or a
   * higher one, and what each bar may see of it) and on what (a column, or
   * an output of another indicator on the chart).
   * @param {IndicatorSpec} spec
   * @param {number} [index]
   */
  openForm(spec, index) {
    const editing = index !== undefined;
    /** @type {Entry | undefined} */
    const current = editing ? this.active[index] : undefined;
    const fields = spec.params.map((param) => {
      const input = make('input', {
        name: param.name,
        type: 'text',
        inputMode: param.type === 'integer' ? 'numeric' : 'decimal',
        value: String(current?.params[param.name] ?? param.default),
        title: `${param.description ?? ''} (${param.type} from ${param.min} to ${param.max})`.trim(),
      });
      return { param, input, row: make('label', { className: 'param' }, [param.name, input]) };
    });
    /** @type {[string, string][]} */
    const timeframes = [['', `chart (${this.timeframe})`], ...this.higher.map((tf) => /** @type {[string, string]} */ ([tf, tf]))];
    const timeframe = picker('timeframe', 'Timeframe', timeframes, current?.timeframe ?? '',
      'A higher timeframe computes the indicator on its bars, over the whole history, and places each value on the chart bars that may know it');
    const align = picker('align', 'Align', ALIGNS.map((a) => [a, ALIGN_TEXT[a]]), current?.align ?? 'close',
      'close: the newest higher bar complete by the chart bar\'s close; open: complete before it opened; forming: the higher bar so far');
    const sources = takesSource(spec) ? this.sourceChoices(index) : [];
    const source = picker('source', 'Apply to', sources, current?.source ?? 'close',
      'The series the indicator reads: a column of the bars, or an output of an indicator on the chart');
    const placeRows = () => {
      align.row.hidden = timeframe.select.value === '';
    };
    timeframe.select.addEventListener('change', placeRows);
    placeRows();
    timeframe.row.hidden = this.higher.length === 0 && !current?.timeframe;
    source.row.hidden = sources.length === 0;
    const message = make('p', { className: 'form-error', role: 'alert' });
    const submit = make('button', { type: 'submit', className: 'primary', textContent: editing ? 'Apply' : 'Add' });
    const form = make('form', { className: 'param-form' }, [
      make('h4', { textContent: spec.name }),
      make('p', { className: 'hint', textContent: spec.description }),
      ...fields.map((f) => f.row),
      source.row, timeframe.row, align.row,
      message,
      make('div', { className: 'form-actions' }, [
        submit,
        make('button', { type: 'button', textContent: 'Cancel', onclick: () => form.remove() }),
      ]),
    ]);
    form.dataset.indicator = spec.id;
    /** @returns {Call | null} */
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
      if (errors.length) return null;
      /** @type {Call} */
      const call = { id: spec.id, params };
      if (!source.row.hidden && source.select.value !== 'close') call.source = source.select.value;
      if (timeframe.select.value) Object.assign(call, { timeframe: timeframe.select.value, align: /** @type {Align} */ (align.select.value) });
      return call;
    };
    form.addEventListener('input', read);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const call = read();
      if (!call) return;
      if (this.active.some((a, i) => i !== index && sameCall(a, call))) {
        message.textContent = 'This indicator is already on the chart with these parameters.';
        return;
      }
      if (current && index !== undefined) {
        const [before, after] = [callText(current), callText(call)];
        this.active[index] = { ...call, color: current.color };
        // Indicators applied to this one follow it.
        for (const other of this.active) {
          if (other.source === before) other.source = after;
          else if (other.source?.startsWith(`${before}.`)) other.source = after + other.source.slice(before.length);
        }
      } else {
        this.active.push({ ...call, color: this.takeColor() });
      }
      form.remove();
      this.renderActive();
      this.onChange();
    });
    this.root.querySelector('.param-form')?.remove();
    this.part('.editor').append(form);
    read();
    fields[0]?.input.focus();
  }

  /**
   * What a call may be applied to: the bars' columns, then each output of
   * the indicators on the chart (but entry `index`, being edited, and those
   * applied to it, which would make a loop).
   * @param {number} [index]
   * @returns {[string, string][]}
   */
  sourceChoices(index) {
    /** @type {[string, string][]} */
    const choices = COLUMNS.map((c) => [c, c === 'close' ? 'close (the default)' : c]);
    const editedText = index === undefined ? null : callText(this.active[index]);
    for (const [i, entry] of this.active.entries()) {
      const text = callText(entry);
      if (i === index || entry.failed || (editedText !== null && text.includes(editedText))) continue;
      const outputs = this.spec(entry.id)?.outputs ?? [];
      for (const output of outputs) {
        const value = outputs.length > 1 ? `${text}.${output.name}` : text;
        choices.push([value, sourceLabel(value)]);
      }
    }
    return choices;
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
      const swatch = make('input', { type: 'color', className: 'swatch', value: entry.color, title: 'Colour', ariaLabel: `Colour of ${entry.id}` });
      swatch.addEventListener('input', () => { entry.color = swatch.value; this.onRecolor(); });
      const row = make('li', { className: `active-item${entry.failed ? ' failed' : ''}` }, [
        swatch,
        make('span', { className: 'label', textContent: callLabel(entry), title: entry.failed ?? spec?.name ?? entry.id }),
        make('button', { type: 'button', textContent: 'Edit', title: 'Edit parameters', disabled: !spec, onclick: () => spec && this.openForm(spec, index) }),
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

/** @type {Record<Align, string>} */
const ALIGN_TEXT = {
  close: 'close: complete by the bar\'s close',
  open: 'open: complete before the bar opened',
  forming: 'forming: the higher bar so far',
};

/**
 * A labelled select of `choices` ([value, text]), `value` chosen.
 * @param {string} name
 * @param {string} label
 * @param {[string, string][]} choices
 * @param {string} value
 * @param {string} title
 */
function picker(name, label, choices, value, title) {
  const select = make('select', { name, title }, choices.map(([v, text]) => make('option', { value: v, textContent: text })));
  // A value the choices lack (a timeframe the symbol no longer offers) stays choosable.
  if (!choices.some(([v]) => v === value)) select.append(make('option', { value, textContent: value }));
  select.value = value;
  return { select, row: make('label', { className: 'param' }, [label, select]) };
}
