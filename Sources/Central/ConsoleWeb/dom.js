// DOM helpers for the console: element building (never innerHTML), the one table builder,
// dialogs, the error toast, dates, numbers and copying. Everything that shows words goes
// through i18n's localize(), so a language switch re-words the page in place.

import { t, localize, fmtNum, fmtDate } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const SVG_TAGS = new Set(["svg", "g", "rect", "text", "title", "line", "path", "defs", "pattern", "circle", "desc", "tspan"]);

/**
 * h(tag, props, ...children). props: plain attributes; `class`; `text` (textContent);
 * `i18n` / `i18nTitle` / `i18nLabel` (aria-label) / `i18nPlaceholder` with `i18nArgs`;
 * `on<event>` listeners. Children: nodes, strings, numbers, arrays, null.
 */
export function h(tag, props, ...children) {
  const svg = SVG_TAGS.has(tag);
  const el = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  const p = props || {};
  for (const [k, v] of Object.entries(p)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "text") el.textContent = String(v);
    else if (k.startsWith("i18n")) continue;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "style") throw new Error("inline style is not allowed by the CSP");
    else if (k === "value" && !svg) el.value = v;
    else if ((k === "checked" || k === "disabled" || k === "hidden" || k === "selected") && !svg) el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  if (p.i18n || p.i18nTitle || p.i18nLabel || p.i18nPlaceholder) {
    const args = p.i18nArgs;
    localize(el, () => {
      if (p.i18n) el.textContent = t(p.i18n, args);
      if (p.i18nTitle) el.setAttribute("title", t(p.i18nTitle, args));
      if (p.i18nLabel) el.setAttribute("aria-label", t(p.i18nLabel, args));
      if (p.i18nPlaceholder) el.setAttribute("placeholder", t(p.i18nPlaceholder, args));
    });
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export const byId = (id) => document.getElementById(id);

/** A localized text node holder: `tx('key', args)` → <span> re-worded on language change. */
export function tx(key, args, tag = "span") {
  return h(tag, { i18n: key, i18nArgs: args });
}

/** A number in the page's language. */
export function num(value, maxFraction = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return dash();
  const el = h("span", { class: "num" });
  return localize(el, () => { el.textContent = fmtNum(value, maxFraction); });
}

/** `value` in a unit, e.g. unit("unit.seconds", 61.234): "61.234 s" / "61.234 秒". */
export function unit(key, value, maxFraction = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return dash();
  return h("span", { class: "num", i18n: key, i18nArgs: { n: () => fmtNum(value, maxFraction) } });
}

export const seconds = (ms) => (ms === null || ms === undefined ? dash() : unit("unit.seconds", ms / 1000, 3));
export const minutes = (ms) => (ms === null || ms === undefined ? dash() : unit("unit.minutes", ms / 60000, 2));

/** A date in the browser's local time, with the UTC ISO value as its title. */
export function when(iso) {
  if (!iso) return dash();
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", { text: iso });
  const utc = date.toISOString();
  const el = h("time", { datetime: utc, title: utc });
  return localize(el, () => { el.textContent = fmtDate(date); });
}

export const dash = () => h("span", { class: "muted", text: "—" });

/** Yes/no in words. */
export const yesNo = (v) => tx(v ? "common.yes" : "common.no");

/** A monospace value that may wrap anywhere (ids, keys, URLs). */
export const code = (text) => h("code", { class: "wrap", text });

/**
 * The table builder. columns: [{head: i18n key, cell: row => content, num: bool, cls}]; the first
 * column is the row header. opts: key(row) (stable id), attrs(row) (tr attributes), rowClass(row),
 * empty (i18n key), caption (i18n key), id. Returns {wrap, table, fill(rows), rows}.
 * fill() keeps rows whose data did not change (so focus and selection survive auto-refresh) and
 * puts focus back on the same control of a row it rebuilt.
 */
export function dataTable(id, columns, opts = {}) {
  const captionId = `${id}-caption`;
  const table = h("table", { id, class: "data" });
  if (opts.caption) table.append(h("caption", { id: captionId, i18n: opts.caption, i18nArgs: opts.captionArgs }));
  const headRow = h("tr", null, columns.map((c) =>
    h("th", { scope: "col", class: c.num ? "num" : null }, c.head ? tx(c.head) : null)));
  const tbody = h("tbody");
  table.append(h("thead", null, headRow), tbody);
  const wrap = h("div", {
    class: "table-wrap", tabindex: "0", role: "region",
    "aria-labelledby": opts.caption ? captionId : null,
  }, table);
  const key = opts.key || ((row, i) => String(i));
  const state = { wrap, table, tbody, rows: [] };

  function buildRow(row) {
    const attrs = opts.attrs ? opts.attrs(row) : {};
    const tr = h("tr", { ...attrs, class: opts.rowClass ? opts.rowClass(row) : null });
    columns.forEach((c, i) => {
      const content = c.cell(row);
      const cellTag = i === 0 ? "th" : "td";
      const cell = h(cellTag, { scope: i === 0 ? "row" : null, class: [c.num ? "num" : "", c.cls || ""].join(" ").trim() || null });
      if (content === null || content === undefined || content === "") cell.append(dash());
      else if (typeof content === "number") cell.append(num(content));
      else append(cell, [content]);
      tr.append(cell);
    });
    return tr;
  }

  state.fill = (rows) => {
    state.rows = rows;
    const old = new Map();
    for (const tr of [...tbody.children]) if (tr.dataset.key !== undefined) old.set(tr.dataset.key, tr);
    const active = document.activeElement;
    let focusKey = null;
    let focusIndex = -1;
    for (const [k, tr] of old) {
      if (tr.contains(active)) {
        focusKey = k;
        focusIndex = [...tr.querySelectorAll("a, button, input, select, textarea")].indexOf(active);
      }
    }
    const next = [];
    rows.forEach((row, i) => {
      const k = key(row, i);
      const signature = JSON.stringify(row);
      let tr = old.get(k);
      if (!tr || tr.dataset.sig !== signature) {
        tr = buildRow(row);
        tr.dataset.key = k;
        tr.dataset.sig = signature;
      }
      next.push(tr);
    });
    if (!rows.length) {
      next.push(h("tr", { class: "empty" }, h("td", { colspan: String(columns.length) }, tx(opts.empty || "common.none"))));
    }
    tbody.replaceChildren(...next);
    if (focusKey !== null && !tbody.contains(document.activeElement)) {
      const tr = next.find((row) => row.dataset.key === focusKey);
      const controls = tr ? [...tr.querySelectorAll("a, button, input, select, textarea")] : [];
      const target = controls[focusIndex] || controls[0];
      if (target && !target.disabled) target.focus();
    }
  };
  return state;
}

/** A labelled form field: label[for] + control, stacked. */
export function field(labelKey, control, hintKey, hintArgs) {
  const hintId = hintKey ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" },
    h("label", { for: control.id, i18n: labelKey }),
    control,
    hintKey ? h("small", { id: hintId, class: "hint", i18n: hintKey, i18nArgs: hintArgs }) : null);
}

// ---- toast --------------------------------------------------------------------------------

let toastTimer = null;

/** Shows an error in #toast: its message and, in <code>, its code. Hides itself after 8 s. */
export function toast(message, errorCode) {
  const box = byId("toast");
  const text = byId("toast-text");
  clear(text);
  text.append(h("span", { class: "toast-message", text: message }));
  if (errorCode) text.append(" ", h("code", { text: errorCode }));
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 8000);
}

export function hideToast() {
  clearTimeout(toastTimer);
  byId("toast").hidden = true;
}

/** A polite status line for things that worked ("Copied", "Saved"). */
let statusTimer = null;
export function status(key, args) {
  const el = byId("status");
  clear(el);
  el.append(tx(key, args));
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => clear(el), 6000);
}

// ---- dialogs ------------------------------------------------------------------------------

function openDialog(dialog, onOpen) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue);
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", done);
    if (onOpen) onOpen();
    dialog.showModal();
  });
}

/** dialog#confirm: the consequence written out; true on #confirm-yes. */
export async function confirmDialog(titleKey, messageKey, args, yesKey = "common.confirm") {
  const dialog = byId("confirm");
  const answer = await openDialog(dialog, () => {
    setText(byId("confirm-title"), titleKey, args);
    setText(byId("confirm-message"), messageKey, args);
    setText(byId("confirm-yes"), yesKey, args);
    byId("confirm-no").focus();
  });
  return answer === "yes";
}

function setText(el, key, args) {
  clear(el);
  el.append(tx(key, args));
}

/**
 * dialog#action-dialog with input#action-amount: a positive number or null.
 * opts: {titleKey, labelKey, hintKey, args, step, max, integer}
 */
export async function amountDialog(opts) {
  const dialog = byId("action-dialog");
  const input = byId("action-amount");
  const error = byId("action-error");
  const answer = await openDialog(dialog, () => {
    setText(byId("action-title"), opts.titleKey, opts.args);
    setText(byId("action-label"), opts.labelKey, opts.args);
    setText(byId("action-hint"), opts.hintKey || "common.empty", opts.args);
    input.value = "";
    input.step = opts.integer ? "1" : "any";
    input.min = opts.integer ? "1" : "0";
    input.max = opts.max ? String(opts.max) : "";
    error.hidden = true;
    clear(error);
    dialog.dataset.integer = opts.integer ? "1" : "";
    input.focus();
  });
  if (answer !== "ok") return null;
  return Number(input.value);
}

/** Keeps a dialog open on a bad value: says why next to the field and focuses it. */
function refuseField(input, error, messageKey) {
  setText(error, messageKey);
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

/** Validates #action-amount before the dialog closes with "ok". */
export function wireAmountDialog() {
  const dialog = byId("action-dialog");
  const input = byId("action-amount");
  const error = byId("action-error");
  byId("action-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(input.value);
    const integer = dialog.dataset.integer === "1";
    const ok = input.value.trim() !== "" && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
      && (!input.max || value <= Number(input.max));
    if (!ok) {
      refuseField(input, error, integer ? "dialog.needWhole" : "dialog.needPositive");
      return;
    }
    input.removeAttribute("aria-invalid");
    dialog.close("ok");
  });
  byId("action-cancel").addEventListener("click", () => dialog.close("cancel"));
  byId("confirm-no").addEventListener("click", () => byId("confirm").close("no"));
  byId("confirm-yes").addEventListener("click", () => byId("confirm").close("yes"));
}

/**
 * dialog#decision-dialog: approve (with input#approve-minutes) or decline a request for more
 * minutes. Resolves {minutes?, answer} or null.
 */
export async function decisionDialog(approve, askedMinutes, args) {
  const dialog = byId("decision-dialog");
  const minutesInput = byId("approve-minutes");
  const answerInput = byId("decision-answer");
  const error = byId("decision-error");
  const result = await openDialog(dialog, () => {
    setText(byId("decision-title"), approve ? "requests.approveTitle" : "requests.declineTitle", args);
    setText(byId("decision-confirm"), approve ? "requests.approve" : "requests.decline", args);
    byId("approve-minutes-field").hidden = !approve;
    minutesInput.disabled = !approve;
    minutesInput.value = approve ? String(askedMinutes) : "";
    answerInput.value = "";
    error.hidden = true;
    dialog.dataset.approve = approve ? "1" : "";
    (approve ? minutesInput : answerInput).focus();
  });
  if (result !== "ok") return null;
  const answer = answerInput.value.trim();
  const out = {};
  if (approve) out.minutes = Number(minutesInput.value);
  if (answer) out.answer = answer;
  return out;
}

export function wireDecisionDialog() {
  const dialog = byId("decision-dialog");
  const minutesInput = byId("approve-minutes");
  const error = byId("decision-error");
  byId("decision-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (dialog.dataset.approve === "1") {
      const value = Number(minutesInput.value);
      if (minutesInput.value.trim() === "" || !Number.isFinite(value) || value <= 0) {
        refuseField(minutesInput, error, "dialog.needPositive");
        return;
      }
      minutesInput.removeAttribute("aria-invalid");
    }
    dialog.close("ok");
  });
  byId("decision-cancel").addEventListener("click", () => dialog.close("cancel"));
}

// ---- copying -------------------------------------------------------------------------------

/** Copies `text`; without the Clipboard API (plain HTTP), selects `source` for Ctrl+C. */
export async function copyText(text, source) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      status("copy.done");
      return true;
    }
  } catch {
    // fall through to selecting the text
  }
  selectContents(source);
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  status(copied ? "copy.done" : "copy.selected");
  return copied;
}

function selectContents(el) {
  if (!el) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * A secret shown once: a box with the value, a copy button and the "shown only once" sentence.
 * ids: {box, value, copy}.
 */
export function secretBox(ids, titleKey, value, extra) {
  const valueEl = h("code", { id: ids.value, class: "secret-value" }, value);
  return h("div", { id: ids.box, class: "secret", role: "group", "aria-labelledby": `${ids.box}-title` },
    h("h3", { id: `${ids.box}-title`, i18n: titleKey }),
    h("p", null, valueEl),
    h("p", { class: "row" },
      h("button", { type: "button", id: ids.copy, class: "primary", i18n: "copy.button", onclick: () => copyText(value, valueEl) })),
    h("p", { class: "warning", i18n: "copy.onlyOnce" }),
    extra || null);
}

/** select#id from [{value, key (i18n) | text (verbatim)}]. */
export function selectEl(id, options, selected) {
  const select = h("select", { id });
  for (const o of options) {
    select.append(h("option", { value: o.value, ...(o.key ? { i18n: o.key, i18nArgs: o.args } : { text: o.text }) }));
  }
  if (selected !== undefined && selected !== null) select.value = selected;
  return select;
}

/** A description list from [labelKey, content, ddAttrs] rows (null rows are skipped). */
export function facts(rows, attrs) {
  const dl = h("dl", { class: "facts", ...(attrs || {}) });
  for (const row of rows) {
    if (!row) continue;
    const [labelKey, content, ddAttrs] = row;
    dl.append(h("div", { class: "fact" }, h("dt", { i18n: labelKey }), h("dd", ddAttrs || null, content ?? dash())));
  }
  return dl;
}
