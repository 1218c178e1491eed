// #/keys, #/plans, #/webhooks, #/operators, #/audit and #/instances. Shapes:
// HTTP/ProviderKeyController.swift + Providers/Keys/ProviderKeyVault.swift (ProviderKeyView),
// Licenses/Plan.swift, Webhooks/WebhookController.swift + WebhookEndpoint.swift,
// Console/OperatorController.swift + OperatorAccount.swift, Administration/AuditEntry.swift,
// Store/InstanceStore.swift + HTTP/AdminController.swift (InstanceView).

import { t } from "./i18n.js";
import { api, qs, enc } from "./api.js";
import {
  h, tx, clear, dataTable, field, selectEl, when, seconds, unit, num, code, yesNo, secretBox, confirmDialog, status, toast,
} from "./dom.js";
import { report, actionButton, gate, pageHeading, section, statusWord, auditColumns, auditTableOptions } from "./common.js";
import { loadPlans } from "./licenses.js";

// ---- provider keys ---------------------------------------------------------------------------

const KNOWN_PROVIDERS = ["dashscope", "deepgram", "openai", "translation"];

export async function renderKeys(view, ctx) {
  const provider = h("input", { id: "key-provider", type: "text", required: true, maxlength: "32", list: "key-providers", autocomplete: "off" });
  const providers = h("datalist", { id: "key-providers" });
  const secret = h("input", { id: "key-secret", type: "password", required: true, minlength: "8", maxlength: "512", autocomplete: "off" });
  const label = h("input", { id: "key-label", type: "text", maxlength: "100", autocomplete: "off" });
  const submit = gate(h("button", { type: "submit", id: "key-submit", class: "primary", i18n: "keys.add" }), "admin");
  const form = h("form", { id: "key-create", class: "form" },
    h("h2", { i18n: "keys.addTitle" }),
    h("div", { class: "form-grid" },
      field("col.provider", provider, "keys.providerHint"), providers,
      field("keys.secret", secret, "keys.secretHint"),
      field("keys.label", label, "common.optional")),
    h("div", { class: "row" }, submit));

  const act = async (key, action) => {
    if (action === "delete") {
      const yes = await confirmDialog("keys.deleteTitle", "keys.deleteMessage", { key: `${key.provider} ${key.masked}` }, "keys.delete");
      if (!yes) return;
    }
    try {
      if (action === "delete") await api("DELETE", `/provider-keys/${enc(key.id)}`);
      else await api("POST", `/provider-keys/${enc(key.id)}/${action}`);
      status(`keys.done.${action}`);
    } catch (error) {
      report(error);
    }
    await refresh();
  };

  const table = dataTable("keys-table", [
    { head: "keys.key", cell: (k) => [code(k.masked), h("div", { class: "muted small" }, code(k.id))] },
    { head: "col.provider", cell: (k) => k.provider },
    { head: "keys.label", cell: (k) => k.label || null },
    { head: "keys.source", cell: (k) => tx(`keys.source.${k.source}`) },
    { head: "keys.health", cell: (k) => [statusWord(k.status, "keys.status."),
      k.cooling_until ? h("div", { class: "small" }, h("span", { class: "badge badge-cooling", i18n: "keys.cooling" }), " ", when(k.cooling_until)) : null] },
    { head: "keys.inUse", num: true, cell: (k) => (k.max_tasks === undefined || k.max_tasks === null
      ? h("span", { i18n: "license.usedNoLimit", i18nArgs: { used: k.in_use } })
      : h("span", { i18n: "license.usedOf", i18nArgs: { used: k.in_use, limit: k.max_tasks } })) },
    { head: "keys.tasks", num: true, cell: (k) => num(k.usage.tasks, 0) },
    { head: "keys.audio", num: true, cell: (k) => seconds(k.usage.audio_ms) },
    { head: "keys.failures", cell: (k) => h("span", { i18n: "keys.failureCounts", i18nArgs: { auth: k.usage.auth_failures, rate: k.usage.rate_limited, other: k.usage.other_failures } }) },
    { head: "keys.lastUsed", cell: (k) => when(k.usage.last_used_at) },
    { head: "keys.lastError", cell: (k) => (k.usage.last_error ? [h("div", { class: "wrap", text: k.usage.last_error }), h("div", { class: "small" }, when(k.usage.last_error_at))] : null) },
    { head: "col.actions", cell: (k) => h("div", { class: "row" },
      k.status === "active"
        ? actionButton("keys.disable", "admin", () => act(k, "disable"), { "data-key-action": "disable" })
        : actionButton("keys.enable", "admin", () => act(k, "enable"), { "data-key-action": "enable" }),
      actionButton("keys.delete", "admin", () => act(k, "delete"), { "data-key-delete": k.id, class: "danger" })) },
  ], { key: (k) => k.id, attrs: (k) => ({ "data-key-id": k.id, "data-status": k.status }), caption: "keys.caption", empty: "keys.none" });

  view.append(pageHeading("page.keys"), section(null, table.wrap), h("div", { class: "card" }, form));

  async function refresh() {
    try {
      const body = await api("GET", "/provider-keys");
      if (!ctx.alive()) return;
      const keys = body.keys || [];
      table.fill(keys);
      clear(providers);
      for (const name of new Set([...KNOWN_PROVIDERS, ...keys.map((k) => k.provider)])) providers.append(h("option", { value: name }));
    } catch (error) {
      report(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { provider: provider.value.trim(), key: secret.value.trim() };
    if (label.value.trim()) body.label = label.value.trim();
    try {
      await api("POST", "/provider-keys", body);
      form.reset();
      status("keys.done.add");
      await refresh();
    } catch (error) {
      report(error);
    }
  });
  ctx.every(10000, refresh);
  await refresh();
}

// ---- plans -----------------------------------------------------------------------------------

export async function renderPlans(view, ctx) {
  const inputs = {
    name: h("input", { id: "plan-name", type: "text", required: true, maxlength: "64", autocomplete: "off" }),
    validity_days: h("input", { id: "plan-days", type: "number", required: true, min: "0", max: "3650", step: "1" }),
    minutes: h("input", { id: "plan-minutes", type: "number", required: true, min: "0", step: "any" }),
    session_limit: h("input", { id: "plan-sessions", type: "number", min: "0", step: "1" }),
    max_concurrent: h("input", { id: "plan-concurrent", type: "number", required: true, min: "0", step: "1" }),
    max_devices: h("input", { id: "plan-devices", type: "number", required: true, min: "0", step: "1" }),
    daily_minutes: h("input", { id: "plan-daily", type: "number", min: "0", step: "any" }),
    provider: h("input", { id: "plan-provider", type: "text", maxlength: "32", autocomplete: "off" }),
    description: h("textarea", { id: "plan-description", rows: "2", maxlength: "500" }),
    chat: h("textarea", { id: "plan-chat", rows: "3", class: "mono", spellcheck: "false" }),
  };
  const submit = gate(h("button", { type: "submit", id: "plan-submit", class: "primary", i18n: "plans.save" }), "admin");
  const form = h("form", { id: "plan-form", class: "form" },
    h("h2", { id: "plan-form-title", i18n: "plans.formTitle" }),
    h("p", { class: "muted small", i18n: "plans.formNote" }),
    h("div", { class: "form-grid" },
      field("plans.name", inputs.name, "plans.nameHint"),
      field("plans.days", inputs.validity_days),
      field("plans.minutes", inputs.minutes),
      field("plans.sessions", inputs.session_limit, "license.emptyUnlimited"),
      field("plans.concurrent", inputs.max_concurrent),
      field("plans.devices", inputs.max_devices),
      field("plans.daily", inputs.daily_minutes, "license.emptyNoCap"),
      field("col.provider", inputs.provider, "plans.providerHint"),
      field("plans.description", inputs.description),
      field("plans.chat", inputs.chat, "plans.chatHint")),
    h("div", { class: "row" }, submit, h("button", { type: "reset", i18n: "plans.clear" })));

  const edit = (plan) => {
    inputs.name.value = plan.name;
    inputs.validity_days.value = String(plan.validity_days);
    inputs.minutes.value = String(plan.minutes);
    inputs.session_limit.value = plan.session_limit ?? "";
    inputs.max_concurrent.value = String(plan.max_concurrent);
    inputs.max_devices.value = String(plan.max_devices);
    inputs.daily_minutes.value = plan.daily_minutes ?? "";
    inputs.provider.value = plan.provider || "";
    inputs.description.value = plan.description || "";
    inputs.chat.value = plan.chat ? JSON.stringify(plan.chat, null, 2) : "";
    inputs.name.focus();
  };

  const optional = (value) => (value === undefined || value === null ? tx("plans.none") : null);
  const table = dataTable("plans-table", [
    { head: "plans.name", cell: (p) => [code(p.name), p.description ? h("div", { class: "muted small", text: p.description }) : null] },
    { head: "plans.minutes", num: true, cell: (p) => unit("unit.minutes", p.minutes, 2) },
    { head: "plans.days", num: true, cell: (p) => num(p.validity_days, 0) },
    { head: "plans.sessions", num: true, cell: (p) => optional(p.session_limit) || num(p.session_limit, 0) },
    { head: "plans.concurrent", num: true, cell: (p) => num(p.max_concurrent, 0) },
    { head: "plans.devices", num: true, cell: (p) => num(p.max_devices, 0) },
    { head: "plans.daily", num: true, cell: (p) => optional(p.daily_minutes) || unit("unit.minutes", p.daily_minutes, 2) },
    { head: "col.provider", cell: (p) => p.provider || tx("license.defaultProvider") },
    { head: "plans.chat", cell: (p) => [yesNo(Boolean(p.chat)), p.chat ? h("div", { class: "muted small", text: Object.keys(p.chat.models || {}).join(", ") }) : null] },
    { head: "col.actions", cell: (p) => actionButton("plans.edit", "admin", () => edit(p), { "data-edit-plan": p.name }) },
  ], { key: (p) => p.name, attrs: (p) => ({ "data-plan": p.name }), caption: "plans.caption", empty: "plans.empty" });

  view.append(pageHeading("page.plans"), section(null, table.wrap), h("div", { class: "card" }, form));

  async function refresh(force) {
    try {
      const plans = await loadPlans(force);
      if (ctx.alive()) table.fill(plans);
    } catch (error) {
      report(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      validity_days: Number(inputs.validity_days.value),
      minutes: Number(inputs.minutes.value),
      max_concurrent: Number(inputs.max_concurrent.value),
      max_devices: Number(inputs.max_devices.value),
      description: inputs.description.value,
    };
    if (inputs.session_limit.value.trim() !== "") body.session_limit = Number(inputs.session_limit.value);
    if (inputs.daily_minutes.value.trim() !== "") body.daily_minutes = Number(inputs.daily_minutes.value);
    if (inputs.provider.value.trim()) body.provider = inputs.provider.value.trim();
    if (inputs.chat.value.trim()) {
      try {
        body.chat = JSON.parse(inputs.chat.value);
      } catch {
        toast(t("plans.badChat"), "malformed_json");
        inputs.chat.focus();
        return;
      }
    }
    try {
      await api("PUT", `/plans/${enc(inputs.name.value.trim())}`, body);
      status("plans.saved", { name: inputs.name.value.trim() });
      await refresh(true);
    } catch (error) {
      report(error);
    }
  });
  await refresh(true);
}

// ---- webhooks --------------------------------------------------------------------------------

export async function renderWebhooks(view, ctx) {
  const url = h("input", { id: "webhook-url", type: "url", required: true, maxlength: "2000", autocomplete: "off", placeholder: "https://" });
  const description = h("input", { id: "webhook-description", type: "text", maxlength: "200", autocomplete: "off" });
  const events = h("fieldset", { id: "webhook-events", class: "checks" }, h("legend", { i18n: "webhooks.events" }));
  const submit = gate(h("button", { type: "submit", id: "webhook-submit", class: "primary", i18n: "webhooks.create" }), "admin");
  const secretArea = h("div", { id: "webhook-secret-area" });
  const form = h("form", { id: "webhook-create", class: "form" },
    h("h2", { i18n: "webhooks.createTitle" }),
    h("div", { class: "form-grid" }, field("webhooks.url", url), field("webhooks.description", description, "common.optional")),
    events,
    h("div", { class: "row" }, submit));

  const endpointFilter = selectEl("deliveries-endpoint", [{ value: "", key: "webhooks.allEndpoints" }]);
  let endpoints = [];
  let eventTypesShown = false;

  const toggle = async (endpoint) => {
    try {
      await api("PATCH", `/webhooks/${enc(endpoint.id)}`, { enabled: !endpoint.enabled });
      status(endpoint.enabled ? "webhooks.disabledDone" : "webhooks.enabledDone");
    } catch (error) {
      report(error);
    }
    await refresh();
  };
  const remove = async (endpoint) => {
    if (!(await confirmDialog("webhooks.deleteTitle", "webhooks.deleteMessage", { url: endpoint.url }, "webhooks.delete"))) return;
    try {
      await api("DELETE", `/webhooks/${enc(endpoint.id)}`);
      status("webhooks.deletedDone");
    } catch (error) {
      report(error);
    }
    await refresh();
  };
  const redeliver = async (delivery) => {
    try {
      await api("POST", `/webhooks/deliveries/${enc(delivery.id)}/redeliver`);
      status("webhooks.redeliverDone");
    } catch (error) {
      report(error);
    }
    await refresh();
  };

  const table = dataTable("webhooks-table", [
    { head: "webhooks.url", cell: (e) => [code(e.url), e.description ? h("div", { class: "muted small", text: e.description }) : null, h("div", { class: "muted small" }, code(e.id))] },
    { head: "webhooks.events", cell: (e) => h("ul", { class: "plain small" }, e.events.map((type) => h("li", null, code(type)))) },
    { head: "webhooks.enabled", cell: (e) => statusWord(e.enabled ? "enabled" : "disabled", "webhooks.state.") },
    { head: "col.created", cell: (e) => when(e.created_at) },
    { head: "col.actions", cell: (e) => h("div", { class: "row" },
      actionButton(e.enabled ? "webhooks.disable" : "webhooks.enable", "admin", () => toggle(e), { "data-toggle": e.id }),
      actionButton("webhooks.delete", "admin", () => remove(e), { "data-delete": e.id, class: "danger" })) },
  ], { key: (e) => e.id, attrs: (e) => ({ "data-endpoint-id": e.id, "data-enabled": String(e.enabled) }), caption: "webhooks.caption", empty: "webhooks.none" });

  const deliveries = dataTable("deliveries-table", [
    { head: "webhooks.eventType", cell: (d) => code(d.event_type) },
    { head: "webhooks.eventId", cell: (d) => code(d.event_id) },
    { head: "webhooks.endpoint", cell: (d) => {
      const endpoint = endpoints.find((e) => e.id === d.endpoint_id);
      return [code(d.endpoint_id), endpoint ? h("div", { class: "muted small wrap", text: endpoint.url }) : null];
    } },
    { head: "col.status", cell: (d) => statusWord(d.status, "webhooks.delivery.") },
    { head: "webhooks.attempts", num: true, cell: (d) => num(d.attempts, 0) },
    { head: "webhooks.last", cell: (d) => [d.last_status ? code(String(d.last_status)) : null,
      d.last_error ? h("div", { class: "wrap small", text: d.last_error }) : null, d.last_attempt_at ? h("div", { class: "small" }, when(d.last_attempt_at)) : null] },
    { head: "webhooks.nextAttempt", cell: (d) => when(d.next_attempt_at) },
    { head: "webhooks.deliveredAt", cell: (d) => when(d.delivered_at) },
    { head: "col.actions", cell: (d) => actionButton("webhooks.redeliver", "admin", () => redeliver(d), { "data-redeliver": d.id }) },
  ], { key: (d) => d.id, attrs: (d) => ({ "data-delivery-id": d.id, "data-status": d.status }), caption: "webhooks.deliveriesCaption", empty: "webhooks.noDeliveries" });

  view.append(
    pageHeading("page.webhooks"),
    secretArea,
    h("div", { class: "card" }, form),
    section(null, table.wrap),
    section(null, h("div", { class: "toolbar" }, field("webhooks.endpointFilter", endpointFilter)),
      h("p", { class: "muted small", i18n: "requests.refreshNote" }), deliveries.wrap));

  async function refresh() {
    try {
      const [list, log] = await Promise.all([
        api("GET", "/webhooks"),
        api("GET", `/webhooks/deliveries${qs({ endpoint_id: endpointFilter.value, limit: 100 })}`),
      ]);
      if (!ctx.alive()) return;
      endpoints = list.endpoints || [];
      if (!eventTypesShown) {
        eventTypesShown = true;
        for (const type of list.event_types || []) {
          const id = `webhook-event-${type.replace(/[^a-z0-9]/gi, "-")}`;
          events.append(h("div", { class: "check" },
            h("input", { type: "checkbox", name: "webhook-event", value: type, id }),
            h("label", { for: id }, code(type), " ", h("span", { class: "muted", i18n: `event.${type}` }))));
        }
      }
      // Rebuilt only when the endpoints change, so an open or focused select is left alone.
      const signature = JSON.stringify(endpoints.map((e) => [e.id, e.url]));
      if (signature !== endpointFilter.dataset.sig) {
        endpointFilter.dataset.sig = signature;
        const chosen = endpointFilter.value;
        clear(endpointFilter).append(h("option", { value: "", i18n: "webhooks.allEndpoints" }),
          ...endpoints.map((e) => h("option", { value: e.id, text: e.url })));
        endpointFilter.value = endpoints.some((e) => e.id === chosen) ? chosen : "";
      }
      table.fill(endpoints);
      deliveries.fill(log.deliveries || []);
    } catch (error) {
      report(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...events.querySelectorAll('input[name="webhook-event"]:checked')].map((i) => i.value);
    if (!chosen.length) {
      toast(t("webhooks.pickEvent"), "missing_field");
      const first = events.querySelector("input");
      if (first) first.focus();
      return;
    }
    const body = { url: url.value.trim(), events: chosen };
    if (description.value.trim()) body.description = description.value.trim();
    try {
      const created = await api("POST", "/webhooks", body);
      if (!ctx.alive()) return;
      clear(secretArea).append(secretBox({ box: "webhook-secret", value: "webhook-secret-value", copy: "webhook-secret-copy" },
        "webhooks.secretTitle", created.secret, h("p", { class: "muted small", i18n: "webhooks.secretNote", i18nArgs: { url: created.endpoint.url } })));
      form.reset();
      document.getElementById("webhook-secret-copy").focus();
      await refresh();
    } catch (error) {
      report(error);
    }
  });
  endpointFilter.addEventListener("change", refresh);
  ctx.every(5000, refresh);
  await refresh();
}

// ---- operators -------------------------------------------------------------------------------

export async function renderOperators(view, ctx) {
  const name = h("input", { id: "operator-name", type: "text", required: true, maxlength: "64", pattern: "[A-Za-z0-9.@_\\-]+", autocomplete: "off" });
  const role = selectEl("operator-role", ["viewer", "operator", "admin"].map((r) => ({ value: r, key: `role.${r}` })), "operator");
  const submit = gate(h("button", { type: "submit", id: "operator-submit", class: "primary", i18n: "operators.create" }), "admin");
  const tokenArea = h("div", { id: "operator-token-area" });
  const form = h("form", { id: "operator-create", class: "form" },
    h("h2", { i18n: "operators.createTitle" }),
    h("div", { class: "form-grid" }, field("operators.name", name, "operators.nameHint"), field("operators.role", role, "operators.roleHint")),
    h("div", { class: "row" }, submit));

  const disable = async (account) => {
    if (!(await confirmDialog("operators.disableTitle", "operators.disableMessage", { name: account.name }, "operators.disable"))) return;
    try {
      await api("DELETE", `/operators/${enc(account.name)}`);
      status("operators.disabledDone", { name: account.name });
    } catch (error) {
      report(error);
    }
    await refresh();
  };

  const table = dataTable("operators-table", [
    { head: "operators.name", cell: (o) => code(o.name) },
    { head: "operators.role", cell: (o) => tx(`role.${o.role}`) },
    { head: "col.created", cell: (o) => when(o.created_at) },
    { head: "operators.createdBy", cell: (o) => o.created_by },
    { head: "col.status", cell: (o) => (o.disabled_at
      ? [statusWord("disabled", "operators.state."), " ", when(o.disabled_at)] : statusWord("active", "operators.state.")) },
    { head: "col.actions", cell: (o) => (o.disabled_at ? null
      : actionButton("operators.disable", "admin", () => disable(o), { "data-disable": o.name, class: "danger" })) },
  ], { key: (o) => o.name, attrs: (o) => ({ "data-operator": o.name }), caption: "operators.caption", empty: "operators.none" });

  view.append(pageHeading("page.operators"), tokenArea, h("div", { class: "card" }, form), section(null, table.wrap));

  async function refresh() {
    try {
      const body = await api("GET", "/operators");
      if (ctx.alive()) table.fill(body.operators || []);
    } catch (error) {
      report(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("POST", "/operators", { name: name.value.trim(), role: role.value });
      if (!ctx.alive()) return;
      clear(tokenArea).append(secretBox({ box: "operator-token", value: "operator-token-value", copy: "operator-token-copy" },
        "operators.tokenTitle", created.token,
        h("p", { class: "muted small", i18n: "operators.tokenNote", i18nArgs: { name: created.operator.name, role: () => t(`role.${created.operator.role}`) } })));
      form.reset();
      role.value = "operator";
      document.getElementById("operator-token-copy").focus();
      await refresh();
    } catch (error) {
      report(error);
    }
  });
  await refresh();
}

// ---- audit -----------------------------------------------------------------------------------

const PAGE = 100;

export async function renderAudit(view, ctx) {
  const license = h("input", { id: "audit-license", type: "text", maxlength: "200", autocomplete: "off", i18nPlaceholder: "usage.licensePlaceholder" });
  const form = h("form", { id: "audit-filter", class: "toolbar", novalidate: true },
    field("usage.license", license, "common.optional"),
    h("div", { class: "field field-button" }, h("button", { type: "submit", id: "audit-apply", class: "primary", i18n: "usage.apply" })));
  const table = dataTable("audit-table", auditColumns(true), auditTableOptions("audit.caption"));
  const older = h("button", { type: "button", id: "audit-older", hidden: true, i18n: "audit.older" });
  view.append(pageHeading("page.audit"), section(null, form, table.wrap, h("div", { class: "row" }, older)));

  let entries = [];
  async function load(more) {
    const before = more && entries.length ? entries[entries.length - 1].sequence : "";
    try {
      const body = await api("GET", `/audit${qs({ license_id: license.value.trim(), limit: PAGE, before })}`);
      if (!ctx.alive()) return;
      const page = body.entries || [];
      entries = more ? entries.concat(page) : page;
      table.fill(entries);
      older.hidden = page.length < PAGE;
    } catch (error) {
      report(error);
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  older.addEventListener("click", () => load(true));
  await load(false);
}

// ---- instances -------------------------------------------------------------------------------

export async function renderInstances(view, ctx) {
  const table = dataTable("instances-table", [
    { head: "instances.id", cell: (i) => code(i.id) },
    { head: "col.started", cell: (i) => when(i.started_at) },
    { head: "instances.heartbeat", cell: (i) => when(i.heartbeat_at) },
    { head: "instances.live", num: true, cell: (i) => num(i.live_sessions, 0) },
    { head: "instances.lapsed", cell: (i) => (i.lapsed ? h("span", { class: "badge badge-lapsed", i18n: "instances.lapsedYes" }) : tx("common.no")) },
    { head: "instances.current", cell: (i) => (i.current ? h("span", { class: "badge badge-current", i18n: "instances.currentYes" }) : tx("common.no")) },
  ], {
    key: (i) => i.id, attrs: (i) => ({ "data-instance-id": i.id, "data-lapsed": String(i.lapsed), "data-current": String(i.current) }),
    caption: "instances.caption", empty: "instances.none",
  });
  view.append(pageHeading("page.instances"), section(null, h("p", { class: "muted small", i18n: "instances.note" }), table.wrap));
  async function refresh() {
    try {
      const body = await api("GET", "/instances");
      if (ctx.alive()) table.fill(body.instances || []);
    } catch (error) {
      report(error);
    }
  }
  ctx.every(5000, refresh);
  await refresh();
}
