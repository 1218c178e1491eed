// What several pages share: error reporting, role-gated buttons, license links and status
// words, the customer-name cache, live-session columns and UTC day arithmetic.

import { t, localize } from "./i18n.js";
import { api, ApiError, can, enc } from "./api.js";
import { h, tx, toast, code, when, seconds, confirmDialog, status } from "./dom.js";

/** Every failed call ends here: the server's message and code in #toast. */
export function report(error) {
  if (error && error.handled) return;
  if (error instanceof ApiError) {
    let message = error.message;
    if (error.retryAfter) message += ` ${t("error.retryAfter", { n: error.retryAfter })}`;
    toast(message, error.code);
    return;
  }
  console.error(error);
  toast(t("error.unexpected"), "client_error");
}

/** A button the role may lack: disabled, with a title naming the role it needs. */
export function gate(button, needed) {
  if (!can(needed)) {
    button.disabled = true;
    button.classList.add("gated");
    button.dataset.needs = needed;
    localize(button, () => button.setAttribute("title", t("role.needs", { role: t(`role.${needed}`) })));
  }
  return button;
}

/** An action button: label key, the role it needs, what it does. */
export function actionButton(labelKey, needed, onClick, attrs = {}) {
  const button = h("button", { type: "button", ...attrs, i18n: labelKey, i18nArgs: attrs.i18nArgs, onclick: onClick });
  return gate(button, needed);
}

export function pageHeading(key, args) {
  return h("h1", { id: "page-title", tabindex: "-1", i18n: key, i18nArgs: args });
}

export function section(titleKey, ...children) {
  return h("section", { class: "card" }, titleKey ? h("h2", { i18n: titleKey }) : null, ...children);
}

export const licenseLink = (id) => (id ? h("a", { href: `#/license/${enc(id)}`, class: "wrap" }, code(id)) : null);

/** A status word; the raw value stays in data-status (and colour is never the only cue). */
export function statusWord(value, prefix = "status.") {
  return h("span", { class: `badge badge-${value}`, "data-status": value, i18n: `${prefix}${value}` });
}

// ---- customer names for license ids ----------------------------------------------------------

const customers = new Map();
const pending = new Map();

export function rememberCustomers(licenses) {
  for (const license of licenses) customers.set(license.id, license.customer_name);
}

export const customerOf = (id) => customers.get(id);

/** Fetches the names of licenses not seen yet (once each); resolves when they are known. */
async function loadCustomers(ids) {
  const wanted = [...new Set(ids)].filter((id) => id && !customers.has(id));
  await Promise.all(wanted.map((id) => {
    if (!pending.has(id)) {
      pending.set(id, api("GET", `/licenses/${enc(id)}`)
        .then((license) => customers.set(id, license.customer_name))
        .catch((error) => {
          // A deleted license keeps its history: no name to show, nothing wrong.
          customers.set(id, null);
          if (!(error instanceof ApiError && error.status === 404)) report(error);
        })
        .finally(() => pending.delete(id)));
    }
    return pending.get(id);
  }));
}

/** Rows already shown name some licenses whose customer is not known yet: fetch those names,
 * then show the rows again (if the page is still the one that asked). */
export function showWhenNamed(ids, ctx, show) {
  if (ids.some((id) => customerOf(id) === undefined)) loadCustomers(ids).then(() => { if (ctx.alive()) show(); });
}

// ---- live sessions (the sessions page and a license's page) ---------------------------------

export function sessionColumns(refresh, withLicense = true) {
  const columns = [
    { head: "sessions.id", cell: (s) => code(s.session_id) },
  ];
  if (withLicense) {
    columns.push(
      { head: "col.license", cell: (s) => licenseLink(s.license_id) },
      { head: "col.customer", cell: (s) => s.customer || null },
    );
  }
  columns.push(
    { head: "sessions.instance", cell: (s) => (s.instance ? code(s.instance) : null) },
    { head: "col.started", cell: (s) => when(s.started_at) },
    { head: "sessions.billed", num: true, cell: (s) => seconds(s.billed_ms) },
    { head: "sessions.audio", num: true, cell: (s) => seconds(Math.round(s.seconds * 1000)) },
    { head: "col.provider", cell: (s) => [s.provider, s.demo ? h("span", { class: "badge", i18n: "sessions.demo" }) : null] },
    { head: "sessions.connection", cell: (s) => tx(s.connected === true ? "sessions.connected"
      : s.connected === false ? "sessions.waiting" : "sessions.elsewhere") },
    { head: "col.device", cell: (s) => [code(s.device_fingerprint), " ", h("span", { class: "muted", text: s.client_ip })] },
    { head: "col.actions", cell: (s) => actionButton("sessions.kill", "operator",
      () => killSession(s, refresh), { "data-kill": s.session_id, class: "danger" }) },
  );
  return columns;
}

export async function killSession(s, refresh) {
  const yes = await confirmDialog("sessions.killTitle", "sessions.killMessage",
    { id: s.session_id, license: s.license_id }, "sessions.kill");
  if (!yes) return;
  try {
    await api("DELETE", `/sessions/${enc(s.session_id)}`);
    status("sessions.killed", { id: s.session_id });
  } catch (error) {
    report(error);
  }
  if (refresh) refresh();
}

// ---- UTC days -----------------------------------------------------------------------------

/** `YYYY-MM-DD` of a Date in UTC. */
export const utcDay = (date) => date.toISOString().slice(0, 10);

/** The UTC day `n` days before today. */
export function daysAgo(n) {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() - n);
  return utcDay(date);
}

/** Every UTC day from `from` to `to` inclusive (at most 1,000). */
export function dayList(from, to) {
  const days = [];
  const date = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || Number.isNaN(end.getTime())) return days;
  while (date <= end && days.length < 1000) {
    days.push(utcDay(date));
    date.setUTCDate(date.getUTCDate() + 1);
  }
  return days;
}

// ---- the audit trail (its page and a license's page) ---------------------------------------

export function auditColumns(withLicense = true) {
  const columns = [
    { head: "col.time", cell: (e) => when(e.at) },
    { head: "audit.actor", cell: (e) => e.actor },
    { head: "audit.ip", cell: (e) => (e.ip ? code(e.ip) : null) },
    { head: "audit.action", cell: (e) => code(e.action) },
  ];
  if (withLicense) columns.push({ head: "col.license", cell: (e) => licenseLink(e.license_id) });
  columns.push({ head: "audit.detail", cell: (e) => (e.detail ? h("span", { class: "wrap", text: e.detail }) : null) });
  return columns;
}

export const auditTableOptions = (caption) => ({
  key: (e) => String(e.sequence), attrs: (e) => ({ "data-sequence": String(e.sequence) }), caption, empty: "audit.none",
});
