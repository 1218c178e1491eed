// The console's words in English and Simplified Chinese, and number and date formatting in the
// chosen language. Static markup uses data-i18n (text), data-i18n-placeholder, data-i18n-title
// and data-i18n-aria-label; script-built elements register a localizer with localize(), and
// setLang() re-runs them all, so switching needs no reload and loses no state.

const STORAGE_KEY = "console-lang";
export const LANGS = ["en", "zh-CN"];

let lang = initialLang();
const localizers = new WeakMap();
const listeners = [];

function initialLang() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(stored)) return stored;
  } catch {
    // storage may be off; fall back to the browser's language
  }
  const wanted = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return /^zh\b/i.test(wanted) ? "zh-CN" : "en";
}

export const getLang = () => lang;

/** t(key, args): the string in the chosen language; `{name}` filled from args (numbers are
 * formatted, functions called at the time of wording). */
export function t(key, args) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (!args) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in args)) return whole;
    const value = args[name];
    if (typeof value === "function") return String(value());
    if (typeof value === "number") return fmtNum(value, 3);
    return String(value ?? "");
  });
}

/** Registers how to word `el` (run now and on every language switch). */
export function localize(el, fn) {
  const list = localizers.get(el);
  if (list) list.push(fn);
  else localizers.set(el, [fn]);
  el.setAttribute("data-l10n", "");
  fn();
  return el;
}

/** Re-words everything under `root`. */
export function relocalize(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [attr, data] of [["placeholder", "i18nPlaceholder"], ["title", "i18nTitle"], ["aria-label", "i18nAriaLabel"]]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
  for (const el of root.querySelectorAll("[data-l10n]")) {
    for (const fn of localizers.get(el) || []) fn();
  }
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered, still switched
  }
  document.documentElement.lang = next;
  relocalize(document);
  for (const fn of listeners) fn(next);
}

const numberFormats = new Map();

/** A number in the chosen language, at most `maxFraction` decimals. */
export function fmtNum(value, maxFraction = 3) {
  const key = `${lang}|${maxFraction}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(lang, { maximumFractionDigits: maxFraction });
    numberFormats.set(key, format);
  }
  return format.format(value);
}

const dateFormats = new Map();

/** A date in the browser's local time zone, in the chosen language. */
export function fmtDate(date) {
  let format = dateFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    dateFormats.set(lang, format);
  }
  return format.format(date);
}

const STRINGS = {
  en: {
    // @@EN@@
  },
  "zh-CN": {
    // @@ZH@@
  },
};
