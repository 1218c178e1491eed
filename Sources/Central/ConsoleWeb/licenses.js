// #/licenses (search, filters, create) and #/license/<id> (quota, actions, devices, sessions,
// ledger, audit, 30-day usage). Shapes: Sources/Central/Administration/LicenseView.swift,
// LicenseDraft.swift, LicensePatch.swift; Protocol/QuotaSnapshot.swift; Usage/LedgerEntry.swift.

import { t, fmtNum, localize } from "./i18n.js";
import { api, qs, enc, can } from "./api.js";
import {
  h, tx, clear, dataTable, field, selectEl, facts, when, minutes, seconds, unit, num, code, dash,
  secretBox, confirmDialog, amountDialog, status,
} from "./dom.js";
import {
  report, actionButton, gate, pageHeading, section, licenseLink, statusWord, rememberCustomers,
  sessionColumns, auditColumns, auditTableOptions, daysAgo, dayList,
} from "./common.js";
import { barChart } from "./chart.js";

const filters = { q: "", status: "", plan: "" };
// LicenseStatus (Sources/Protocol/LicenseStatus.swift): active, suspended, revoked. Expiry is
// not a status; the list marks expired licenses beside their status.
const STATUSES = ["active", "suspended", "revoked"];

let plansPromise = null;

/** GET /plans, once per page load (the plans page refreshes it after a save). */
export function loadPlans(force = false) {
  if (!plansPromise || force) {
    plansPromise = api("GET", "/plans").then((body) => body.plans || []);
    plansPromise.catch(() => { plansPromise = null; });
  }
  return plansPromise;
}

const isExpired = (license) => Boolean(license.expires_at) && new Date(license.expires_at).getTime() < Date.now();

function statusCell(license) {
  return [
    statusWord(license.status),
    license.status === "active" && isExpired(license) ? h("span", { class: "badge badge-expired", i18n: "licenses.expired" }) : null,
  ];
}

function expiryCell(license) {
  if (license.expires_at) return when(license.expires_at);
  return license.expiry_from_first_use ? tx("licenses.firstUse") : null;
}

// ---- the list --------------------------------------------------------------------------------

export async function renderLicenses(view, ctx) {
  view.append(pageHeading("page.licenses"));

  const search = h("input", {
    id: "license-search", type: "search", value: filters.q, autocomplete: "off", maxlength: "200",
    i18nPlaceholder: "licenses.searchPlaceholder",
  });
  const statusSelect = selectEl("license-status-filter",
    [{ value: "", key: "licenses.anyStatus" }, ...STATUSES.map((s) => ({ value: s, key: `status.${s}` }))], filters.status);
  const planSelect = selectEl("license-plan-filter", [{ value: "", key: "licenses.anyPlan" }]);
  const filterForm = h("form", { id: "license-filters", class: "toolbar", role: "search", novalidate: true },
    field("licenses.search", search),
    h("div", { class: "field field-button" },
      h("button", { type: "submit", id: "license-search-go", class: "primary", i18n: "licenses.searchGo" })),
    field("licenses.status", statusSelect),
    field("licenses.plan", planSelect));

  const createOpen = actionButton("licenses.create", "operator", () => toggleCreate(), {
    id: "license-create-open", "aria-expanded": "false", "aria-controls": "license-create",
  });
  const created = h("div", { id: "created-key-area" });
  const createForm = buildCreateForm(ctx, created, () => toggleCreate(false), () => reload());
  createForm.hidden = true;

  function toggleCreate(open = createForm.hidden) {
    createForm.hidden = !open;
    createOpen.setAttribute("aria-expanded", String(open));
    if (open) document.getElementById("create-customer").focus();
    else createOpen.focus();
  }

  const columns = [
    { head: "col.license", cell: (l) => [licenseLink(l.id), h("div", { class: "muted small" }, code(l.key_prefix))] },
    { head: "col.customer", cell: (l) => [h("div", { text: l.customer_name }), l.customer_email ? h("div", { class: "muted small wrap", text: l.customer_email }) : null] },
    { head: "col.plan", cell: (l) => l.plan },
    { head: "col.status", cell: statusCell },
    { head: "licenses.minutesUsed", num: true, cell: (l) => h("span", null, minutes(l.used_ms), " / ", minutes(l.limit_ms)) },
    { head: "col.expires", cell: expiryCell },
    { head: "col.created", cell: (l) => when(l.created_at) },
    { head: "licenses.lastUsed", cell: (l) => when(l.last_used_at) },
  ];
  const table = dataTable("licenses-table", columns, {
    key: (l) => l.id, attrs: (l) => ({ "data-license-id": l.id, "data-status": l.status }),
    caption: "licenses.caption", empty: "licenses.none",
  });
  const more = h("button", { type: "button", id: "licenses-more", hidden: true, i18n: "licenses.more" });
  const count = h("p", { id: "licenses-count", class: "muted", "aria-live": "polite" });

  view.append(
    section(null, filterForm, h("div", { class: "row" }, createOpen)),
    created,
    createForm,
    section(null, count, table.wrap, h("div", { class: "row" }, more)),
  );

  let rows = [];
  let cursor = null;
  let generation = 0;

  async function load(append) {
    const mine = ++generation;
    try {
      const body = await api("GET", `/licenses${qs({ q: filters.q, status: filters.status, plan: filters.plan, limit: 50, cursor: append ? cursor : "" })}`);
      if (!ctx.alive() || mine !== generation) return;
      rememberCustomers(body.licenses);
      rows = append ? rows.concat(body.licenses) : body.licenses;
      cursor = body.next_cursor || null;
      table.fill(rows);
      more.hidden = !cursor;
      clear(count).append(tx(cursor ? "licenses.countMore" : "licenses.count", { n: rows.length }));
    } catch (error) {
      report(error);
    }
  }

  function reload() {
    filters.q = search.value.trim();
    filters.status = statusSelect.value;
    filters.plan = planSelect.value;
    return load(false);
  }

  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  statusSelect.addEventListener("change", reload);
  planSelect.addEventListener("change", reload);
  more.addEventListener("click", () => load(true));

  loadPlans().then((plans) => {
    if (!ctx.alive()) return;
    for (const plan of plans) planSelect.append(h("option", { value: plan.name, text: plan.name }));
    planSelect.value = filters.plan;
    fillPlanChoices(plans);
  }).catch(report);

  await load(false);
}

let fillPlanChoices = () => {};

function buildCreateForm(ctx, created, close, reload) {
  const plan = h("select", { id: "create-plan", required: true });
  const customer = h("input", { id: "create-customer", type: "text", required: true, maxlength: "200", autocomplete: "off" });
  const email = h("input", { id: "create-email", type: "email", maxlength: "254", autocomplete: "off" });
  const minutesInput = h("input", { id: "create-minutes", type: "number", min: "0", step: "any", inputmode: "decimal" });
  const days = h("input", { id: "create-days", type: "number", min: "1", max: "3650", step: "1", inputmode: "numeric" });
  const notes = h("textarea", { id: "create-notes", rows: "2", maxlength: "2000" });
  const submit = gate(h("button", { type: "submit", id: "create-submit", class: "primary", i18n: "licenses.createSubmit" }), "operator");
  let plans = [];

  function showPlanDefaults() {
    const chosen = plans.find((p) => p.name === plan.value);
    minutesInput.placeholder = chosen ? t("licenses.planDefault", { n: String(chosen.minutes) }) : "";
    days.placeholder = chosen ? t("licenses.planDefault", { n: String(chosen.validity_days) }) : "";
    minutesInput.dataset.planMinutes = chosen ? String(chosen.minutes) : "";
  }
  fillPlanChoices = (list) => {
    plans = list;
    clear(plan);
    for (const p of list) plan.append(h("option", { value: p.name, text: p.description ? `${p.name} — ${p.description}` : p.name }));
    if (list.some((p) => p.name === "trial-basic")) plan.value = "trial-basic";
    showPlanDefaults();
  };
  plan.addEventListener("change", showPlanDefaults);

  const form = h("form", { id: "license-create", class: "card form", "aria-labelledby": "license-create-title" },
    h("h2", { id: "license-create-title", i18n: "licenses.createTitle" }),
    h("div", { class: "form-grid" },
      field("licenses.plan", plan),
      field("col.customer", customer),
      field("licenses.email", email, "common.optional"),
      field("licenses.minutes", minutesInput, "licenses.minutesHint"),
      field("licenses.days", days, "licenses.daysHint"),
      field("licenses.notes", notes, "common.optional")),
    h("div", { class: "row" },
      submit,
      h("button", { type: "button", i18n: "common.cancel", onclick: close })));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { plan: plan.value, customer_name: customer.value.trim() };
    if (email.value.trim()) body.customer_email = email.value.trim();
    if (minutesInput.value.trim() !== "") body.minutes = Number(minutesInput.value);
    if (days.value.trim() !== "") body.days = Number(days.value);
    if (notes.value.trim()) body.notes = notes.value;
    submit.disabled = true;
    try {
      const answer = await api("POST", "/licenses", body);
      if (!ctx.alive()) return;
      rememberCustomers([answer.license]);
      clear(created).append(secretBox(
        { box: "created-key", value: "created-key-value", copy: "copy-key" }, "licenses.createdTitle", answer.key,
        h("p", null, h("a", { id: "created-license-link", href: `#/license/${enc(answer.license.id)}`, i18n: "licenses.openCreated",
          i18nArgs: { name: answer.license.customer_name } }))));
      form.reset();
      showPlanDefaults();
      form.hidden = true;
      document.getElementById("license-create-open").setAttribute("aria-expanded", "false");
      document.getElementById("copy-key").focus();
      reload();
    } catch (error) {
      report(error);
    } finally {
      submit.disabled = !can("operator");
    }
  });
  return form;
}

// ---- one license -----------------------------------------------------------------------------

export async function renderLicense(view, ctx, id) {
  let heading = pageHeading("license.loading");
  const setHeading = (next) => {
    const hadFocus = document.activeElement === heading;
    heading.replaceWith(next);
    heading = next;
    if (hadFocus) next.focus();
  };
  let stopSessions = () => {};
  const detail = h("section", { id: "license-detail", "aria-labelledby": "page-title" });
  view.append(heading, detail);
  let lastAction = null;

  async function load() {
    let license;
    try {
      license = await api("GET", `/licenses/${enc(id)}`);
    } catch (error) {
      if (!ctx.alive()) return;
      setHeading(pageHeading("license.notFound"));
      clear(detail).append(h("p", null, h("a", { href: "#/licenses", i18n: "license.back" })));
      report(error);
      return;
    }
    if (!ctx.alive()) return;
    rememberCustomers([license]);
    setHeading(h("h1", { id: "page-title", tabindex: "-1", text: license.customer_name }));
    document.title = `${license.customer_name} — ${t("app.title")}`;
    clear(detail).append(...build(license));
    if (lastAction) {
      const again = detail.querySelector(`button[data-action="${lastAction}"]`);
      if (again && !again.disabled) again.focus();
      else heading.focus();
      lastAction = null;
    }
    loadTables(license);
  }

  async function act(action, body) {
    lastAction = action;
    try {
      await api("POST", `/licenses/${enc(id)}/${action}`, body);
      status(`license.done.${action}`);
    } catch (error) {
      report(error);
    }
    await load();
  }

  async function onAction(action, license) {
    const args = { name: license.customer_name, id: license.id };
    switch (action) {
      case "extend": {
        const days = await amountDialog({ titleKey: "license.extendTitle", labelKey: "license.extendLabel", hintKey: "license.extendHint", args, integer: true, max: 3650 });
        if (days) await act("extend", { days });
        return undefined;
      }
      case "topup": {
        const amount = await amountDialog({ titleKey: "license.topupTitle", labelKey: "license.topupLabel", hintKey: "license.topupHint", args, max: 10000000 });
        if (amount) await act("topup", { minutes: amount });
        return undefined;
      }
      case "suspend":
      case "resume":
      case "revoke":
      case "reset-devices":
        if (await confirmDialog(`license.confirm.${action}.title`, `license.confirm.${action}.message`, args, `license.action.${action}`)) {
          await act(action);
        }
        return undefined;
      case "delete":
        if (await confirmDialog("license.confirm.delete.title", "license.confirm.delete.message", args, "license.action.delete")) {
          try {
            await api("DELETE", `/licenses/${enc(id)}`);
            status("license.done.delete", args);
            location.hash = "#/licenses";
          } catch (error) {
            report(error);
          }
        }
        return undefined;
      default:
        return undefined;
    }
  }

  function build(license) {
    const quota = license.quota || {};
    const actions = ["suspend", "resume", "extend", "topup", "reset-devices", "revoke", "delete"].map((action) => {
      const button = actionButton(`license.action.${action}`, "operator", () => onAction(action, license), {
        "data-action": action, class: ["revoke", "delete"].includes(action) ? "danger" : null,
      });
      const impossible = (action === "suspend" && license.status !== "active")
        || (action === "resume" && license.status !== "suspended")
        || (action === "revoke" && license.status === "revoked");
      if (impossible && !button.disabled) {
        button.disabled = true;
        localize(button, () => button.setAttribute("title", t("license.notNow", { status: t(`status.${license.status}`) })));
      }
      return button;
    });

    const chat = quota.chat;
    return [
      h("div", { class: "card" },
        facts([
          ["col.status", [
            h("span", { id: "license-status", "data-status": license.status, class: `badge badge-${license.status}`, i18n: `status.${license.status}` }),
            license.status === "active" && isExpired(license) ? h("span", { class: "badge badge-expired", i18n: "licenses.expired" }) : null,
          ]],
          quota.blocked_by ? ["license.blocked", h("span", { id: "license-blocked", "data-code": quota.blocked_by }, tx(`blocked.${quota.blocked_by}`), " ", code(quota.blocked_by))] : null,
          ["license.id", code(license.id)],
          ["license.keyPrefix", code(license.key_prefix)],
          ["col.plan", license.plan],
          ["licenses.email", license.customer_email || null],
          ["col.provider", license.provider || tx("license.defaultProvider")],
          ["col.created", when(license.created_at)],
          ["license.starts", when(license.starts_at)],
          ["licenses.lastUsed", when(license.last_used_at)],
          ["license.allowlist", license.ip_allowlist && license.ip_allowlist.length ? license.ip_allowlist.map((c) => [code(c), " "]) : tx("license.anyAddress")],
          ["licenses.notes", license.notes ? h("span", { class: "pre", text: license.notes }) : null],
        ])),
      h("section", { id: "license-quota", class: "card", "aria-labelledby": "license-quota-title" },
        h("h2", { id: "license-quota-title", i18n: "license.quota" }),
        facts([
          ["license.minutesUsed", minutes(license.used_ms), { id: "license-minutes-used", "data-minutes": String(license.used_ms / 60000) }],
          ["license.minutesLimit", minutes(license.limit_ms), { id: "license-minutes-limit", "data-minutes": String(license.limit_ms / 60000) }],
          ["license.minutesRemaining", minutes(license.remaining_ms), { id: "license-minutes-remaining", "data-minutes": String(license.remaining_ms / 60000) }],
          ["col.expires", [expiryCell(license), " ", h("span", { class: "muted", i18n: "license.validity", i18nArgs: { n: license.validity_days } })], { id: "license-expiry" }],
          ["license.dailyCap", license.daily_cap_ms === null || license.daily_cap_ms === undefined ? tx("license.noCap")
            : [minutes(license.daily_cap_ms), quota.daily_remaining_seconds !== undefined && quota.daily_remaining_seconds !== null
              ? [" — ", h("span", { i18n: "license.leftToday", i18nArgs: { n: () => fmtNum(quota.daily_remaining_seconds / 60, 2) } })] : null],
          { id: "license-daily-cap" }],
          ["license.sessions", license.session_limit === null || license.session_limit === undefined
            ? h("span", { i18n: "license.sessionsUnlimited", i18nArgs: { used: license.sessions_used } })
            : h("span", { i18n: "license.usedOf", i18nArgs: { used: license.sessions_used, limit: license.session_limit } })],
          ["license.concurrency", h("span", { i18n: "license.usedOf", i18nArgs: { used: quota.concurrent_in_use ?? (license.active_leases || []).length, limit: license.max_concurrent } }), { id: "license-concurrency" }],
          ["license.devices", h("span", { i18n: "license.usedOf", i18nArgs: { used: (license.devices || []).length, limit: license.max_devices } })],
          chat || license.chat ? ["license.chat", chatFacts(chat, license.chat), { id: "license-chat" }] : null,
        ]),
        h("meter", {
          id: "license-meter", min: "0", max: String(Math.max(license.limit_ms, 1)), value: String(Math.min(license.used_ms, Math.max(license.limit_ms, 1))),
          i18nLabel: "license.meter",
        })),
      h("div", { class: "card" },
        h("h2", { i18n: "license.actions" }),
        h("div", { class: "row wrap-row", role: "group", i18nLabel: "license.actions" }, actions)),
      editForm(license, load),
      h("section", { class: "card", "aria-labelledby": "license-usage-title" },
        h("h2", { id: "license-usage-title", i18n: "license.usage30" }),
        h("div", { id: "license-usage-chart-area", class: "chart-wrap" }, tx("common.loading"))),
      h("div", { id: "license-tables" }),
    ];
  }

  function loadTables(license) {
    const area = detail.querySelector("#license-tables");
    const devices = dataTable("license-devices", [
      { head: "license.fingerprint", cell: (d) => code(d.fingerprint) },
      { head: "license.boundAt", cell: (d) => when(d.bound_at) },
      { head: "license.lastSeen", cell: (d) => when(d.last_seen_at) },
    ], { key: (d) => d.fingerprint, caption: "license.devicesCaption", empty: "license.noDevices" });
    devices.fill(license.devices || []);
    const leases = dataTable("license-leases", [
      { head: "license.lease", cell: (l) => code(l.id) },
      { head: "col.device", cell: (l) => code(l.device_fingerprint) },
      { head: "license.holder", cell: (l) => l.holder || null },
      { head: "audit.ip", cell: (l) => code(l.client_ip) },
      { head: "col.started", cell: (l) => when(l.created_at) },
      { head: "license.leaseExpires", cell: (l) => when(l.expires_at) },
    ], { key: (l) => l.id, caption: "license.leasesCaption", empty: "license.noLeases" });
    leases.fill(license.active_leases || []);

    const sessions = dataTable("license-sessions", sessionColumns(() => loadSessions(), false), {
      key: (s) => s.session_id, attrs: (s) => ({ "data-session-id": s.session_id }), caption: "license.sessionsCaption", empty: "sessions.none",
    });
    const ledger = dataTable("license-ledger", [
      { head: "ledger.sequence", num: true, cell: (e) => num(e.sequence, 0) },
      { head: "col.time", cell: (e) => when(e.created_at) },
      { head: "ledger.kind", cell: (e) => h("span", { "data-kind": e.kind }, tx(`ledger.kind.${e.kind}`)) },
      { head: "ledger.amount", num: true, cell: ledgerAmount },
      { head: "ledger.balanceAfter", num: true, cell: (e) => seconds(e.balance_after_ms) },
      { head: "ledger.day", cell: (e) => e.day },
      { head: "ledger.session", cell: (e) => (e.session_id ? code(e.session_id) : null) },
      { head: "ledger.reason", cell: (e) => e.reason || null },
    ], { key: (e) => String(e.sequence), attrs: (e) => ({ "data-sequence": String(e.sequence) }), caption: "license.ledgerCaption", empty: "ledger.none" });
    const ledgerMore = h("button", { type: "button", id: "ledger-more", hidden: true, i18n: "ledger.more" });
    const audit = dataTable("license-audit", auditColumns(false), auditTableOptions("license.auditCaption"));

    area.append(
      section(null, devices.wrap), section(null, leases.wrap), section(null, sessions.wrap),
      section(null, ledger.wrap, h("div", { class: "row" }, ledgerMore)), section(null, audit.wrap));

    async function loadSessions() {
      try {
        const body = await api("GET", "/sessions");
        if (ctx.alive()) sessions.fill(body.sessions.filter((s) => s.license_id === license.id));
      } catch (error) {
        report(error);
      }
    }
    loadSessions();
    stopSessions();
    stopSessions = ctx.every(5000, loadSessions);

    api("GET", `/licenses/${enc(license.id)}/ledger`).then((body) => {
      if (!ctx.alive()) return;
      const entries = (body.entries || []).slice().reverse();
      let shown = 100;
      const show = () => {
        ledger.fill(entries.slice(0, shown));
        ledgerMore.hidden = entries.length <= shown;
      };
      ledgerMore.addEventListener("click", () => { shown += 200; show(); });
      show();
    }).catch(report);

    api("GET", `/audit${qs({ license_id: license.id, limit: 100 })}`).then((body) => {
      if (ctx.alive()) audit.fill(body.entries || []);
    }).catch(report);

    const from = daysAgo(29);
    const to = daysAgo(0);
    api("GET", `/usage${qs({ from, to, license_id: license.id })}`).then((usage) => {
      if (!ctx.alive()) return;
      const days = dayList(from, to);
      const perDay = new Map(days.map((d) => [d, 0]));
      for (const row of usage.rows || []) if (perDay.has(row.day)) perDay.set(row.day, perDay.get(row.day) + row.used_ms);
      const values = days.map((d) => perDay.get(d) / 1000);
      const total = (usage.total_ms ?? values.reduce((a, b) => a + b * 1000, 0)) / 1000;
      const chartArea = detail.querySelector("#license-usage-chart-area");
      clear(chartArea).append(barChart("license-usage-chart", {
        days,
        series: [{ key: "speech", labelKey: "chart.speech", unitKey: "chart.secondsAxis", pattern: "hatch", values, format: (v) => t("unit.seconds", { n: () => fmtNum(v, 3) }) }],
        labelKey: "license.chartLabel",
        labelArgs: { from, to, total: () => fmtNum(total, 3) },
      }));
    }).catch(report);
  }

  await load();
}

function ledgerAmount(entry) {
  if (entry.quantity !== undefined && entry.quantity !== null) {
    return unit(entry.kind === "chat_request" ? "unit.requests" : "unit.tokens", entry.quantity, 0);
  }
  return seconds(entry.amount_ms);
}

function chatFacts(snapshot, allowance) {
  if (!snapshot) {
    return h("span", null, tx("license.chatModels"), " ", Object.keys(allowance.models || {}).join(", "));
  }
  const limit = (used, max) => (max === null || max === undefined
    ? h("span", { i18n: "license.usedNoLimit", i18nArgs: { used } })
    : h("span", { i18n: "license.usedOf", i18nArgs: { used, limit: max } }));
  return h("ul", { class: "plain" },
    h("li", null, tx("license.chatRequestsToday"), " ", limit(snapshot.requests_today, snapshot.requests_per_day)),
    h("li", null, tx("license.chatTokensToday"), " ", limit(snapshot.tokens_today, snapshot.tokens_per_day)),
    h("li", null, tx("license.chatTokensTotal"), " ", limit(snapshot.tokens_used, snapshot.tokens_total)),
    snapshot.requests_per_minute ? h("li", { i18n: "license.chatPerMinute", i18nArgs: { n: snapshot.requests_per_minute } }) : null,
    h("li", null, tx("license.chatModels"), " ", (snapshot.models || []).join(", ") || dash()),
    h("li", { class: "muted" }, h("span", { i18n: "license.chatResets", i18nArgs: { zone: snapshot.time_zone } }), " ", when(snapshot.resets_at)));
}

/** PATCH form: only the fields that changed are sent; an emptied optional limit sends null. */
function editForm(license, reload) {
  const inputs = {
    customer_name: h("input", { id: "edit-customer", type: "text", maxlength: "200", required: true, value: license.customer_name }),
    customer_email: h("input", { id: "edit-email", type: "email", maxlength: "254", value: license.customer_email || "" }),
    notes: h("textarea", { id: "edit-notes", rows: "3", maxlength: "2000" }),
    concurrent: h("input", { id: "edit-concurrent", type: "number", min: "0", step: "1", value: String(license.max_concurrent) }),
    devices: h("input", { id: "edit-devices", type: "number", min: "0", step: "1", value: String(license.max_devices) }),
    sessions: h("input", { id: "edit-sessions", type: "number", min: "0", step: "1", value: license.session_limit ?? "" }),
    daily_minutes: h("input", { id: "edit-daily", type: "number", min: "0", step: "any", value: license.daily_cap_ms ? String(license.daily_cap_ms / 60000) : "" }),
  };
  inputs.notes.value = license.notes || "";
  const submit = gate(h("button", { type: "submit", id: "edit-submit", class: "primary", i18n: "common.save" }), "operator");
  const form = h("form", { id: "license-edit", class: "form" },
    h("div", { class: "form-grid" },
      field("col.customer", inputs.customer_name),
      field("licenses.email", inputs.customer_email, "license.emptyClears"),
      field("license.concurrency", inputs.concurrent),
      field("license.devices", inputs.devices),
      field("license.sessions", inputs.sessions, "license.emptyUnlimited"),
      field("license.dailyCapMinutes", inputs.daily_minutes, "license.emptyNoCap"),
      field("licenses.notes", inputs.notes)),
    h("div", { class: "row" }, submit));
  const original = {
    customer_name: license.customer_name, customer_email: license.customer_email || "", notes: license.notes || "",
    concurrent: String(license.max_concurrent), devices: String(license.max_devices), sessions: String(license.session_limit ?? ""),
    daily_minutes: license.daily_cap_ms ? String(license.daily_cap_ms / 60000) : "",
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const patch = {};
    for (const [name, input] of Object.entries(inputs)) {
      const value = name === "notes" ? input.value : input.value.trim();
      if (value === original[name]) continue;
      if (["concurrent", "devices"].includes(name)) patch[name] = Number(value);
      else if (["sessions", "daily_minutes"].includes(name)) patch[name] = value === "" ? null : Number(value);
      else if (name === "customer_email") patch[name] = value === "" ? null : value;
      else patch[name] = value;
    }
    if (!Object.keys(patch).length) {
      status("license.nothingChanged");
      return;
    }
    try {
      await api("PATCH", `/licenses/${enc(license.id)}`, patch);
      status("license.saved");
      await reload();
    } catch (error) {
      report(error);
    }
  });
  return h("details", { class: "card", id: "license-edit-box" }, h("summary", { i18n: "license.edit" }), form);
}
