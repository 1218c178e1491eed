// #/sessions (live, every 2 s), #/usage (reports, chart, CSV) and #/requests (requests for more
// minutes, every 5 s). Shapes: Streaming/StreamSession.swift (LiveSessionView),
// Usage/UsageReport.swift, Usage/SessionReconciliation.swift, MinutesRequests/MinutesRequest.swift.

import { t, fmtNum } from "./i18n.js";
import { api, qs, enc } from "./api.js";
import {
  h, tx, clear, dataTable, field, selectEl, when, seconds, unit, num, code, decisionDialog, status, toast,
} from "./dom.js";
import {
  report, actionButton, pageHeading, section, licenseLink, statusWord, customerOf, showWhenNamed,
  sessionColumns, daysAgo, dayList,
} from "./common.js";
import { barChart } from "./chart.js";

// ---- live sessions ---------------------------------------------------------------------------

export async function renderSessions(view, ctx) {
  const count = h("strong", { id: "sessions-count", "data-count": "0" }, num(0, 0));
  const table = dataTable("sessions-table", sessionColumns(() => refresh()), {
    key: (s) => s.session_id, attrs: (s) => ({ "data-session-id": s.session_id, "data-license-id": s.license_id }),
    caption: "sessions.caption", empty: "sessions.none",
  });
  view.append(
    pageHeading("page.sessions"),
    section(null,
      h("p", { class: "lead", "aria-live": "polite" }, count, " ", tx("sessions.liveCount")),
      h("p", { class: "muted small", i18n: "sessions.refreshNote" }),
      table.wrap));

  let latest = [];
  const withNames = (list) => list.map((s) => ({ ...s, customer: customerOf(s.license_id) || null }));
  const show = () => {
    count.dataset.count = String(latest.length);
    clear(count).append(num(latest.length, 0));
    table.fill(withNames(latest));
  };

  async function refresh() {
    try {
      const body = await api("GET", "/sessions");
      if (!ctx.alive()) return;
      latest = body.sessions || [];
      show();
      showWhenNamed(latest.map((s) => s.license_id), ctx, show);
    } catch (error) {
      report(error);
    }
  }
  ctx.every(2000, refresh);
  await refresh();
}

// ---- usage -----------------------------------------------------------------------------------

const usageQuery = { from: null, to: null, license: "", flagged: false };

function csvHref(path, q, flagged) {
  const params = new URLSearchParams();
  params.set("from", q.from);
  params.set("to", q.to);
  if (q.license) params.set("license_id", q.license);
  if (flagged && q.flagged) params.set("flagged", "true");
  params.set("format", "csv");
  return `/v1/admin/${path}?${params.toString()}`;
}

export async function renderUsage(view, ctx) {
  if (!usageQuery.from) {
    usageQuery.from = daysAgo(6);
    usageQuery.to = daysAgo(0);
  }
  const from = h("input", { id: "usage-from", type: "date", required: true, value: usageQuery.from });
  const to = h("input", { id: "usage-to", type: "date", required: true, value: usageQuery.to });
  const license = h("input", { id: "usage-license", type: "text", autocomplete: "off", maxlength: "200", value: usageQuery.license, i18nPlaceholder: "usage.licensePlaceholder" });
  const flagged = h("input", { id: "usage-flagged", type: "checkbox", checked: usageQuery.flagged });
  const apply = h("button", { type: "submit", id: "usage-apply", class: "primary", i18n: "usage.apply" });
  const form = h("form", { id: "usage-form", class: "toolbar", novalidate: true },
    field("usage.from", from), field("usage.to", to), field("usage.license", license, "common.optional"),
    h("div", { class: "field field-check" }, flagged, h("label", { for: "usage-flagged", i18n: "usage.flaggedOnly" })),
    h("div", { class: "field field-button" }, apply));

  const csv = h("a", { id: "usage-csv", class: "button", download: "usage.csv", i18n: "usage.csvLink" });
  const sessionsCsv = h("a", { id: "sessions-csv", class: "button", download: "sessions.csv", i18n: "usage.sessionsCsv" });
  const totals = h("div", { id: "usage-totals", class: "totals", "aria-live": "polite" });
  const chartArea = h("div", { class: "chart-wrap", id: "usage-chart-area" });

  const days = dataTable("usage-days", [
    { head: "usage.day", cell: (d) => d.day },
    { head: "usage.billedSeconds", num: true, cell: (d) => seconds(d.used_ms) },
    { head: "usage.sessionsStarted", num: true, cell: (d) => num(d.sessions_started, 0) },
    { head: "usage.chatRequests", num: true, cell: (d) => num(d.chat_requests, 0) },
    { head: "usage.chatInput", num: true, cell: (d) => num(d.chat_input_tokens, 0) },
    { head: "usage.chatOutput", num: true, cell: (d) => num(d.chat_output_tokens, 0) },
  ], { key: (d) => d.day, attrs: (d) => ({ "data-day": d.day, "data-seconds": String(d.used_ms / 1000) }), caption: "usage.daysCaption", empty: "usage.noRows" });

  const licenses = dataTable("usage-licenses", [
    { head: "col.license", cell: (l) => licenseLink(l.license_id) },
    { head: "col.customer", cell: (l) => l.customer_name || null },
    { head: "usage.billedSeconds", num: true, cell: (l) => seconds(l.used_ms) },
    { head: "usage.sessionsStarted", num: true, cell: (l) => num(l.sessions_started, 0) },
    { head: "usage.chatRequests", num: true, cell: (l) => num(l.chat_requests, 0) },
    { head: "usage.chatTokens", num: true, cell: (l) => num(l.chat_input_tokens + l.chat_output_tokens, 0) },
  ], { key: (l) => l.license_id, attrs: (l) => ({ "data-license-id": l.license_id, "data-seconds": String(l.used_ms / 1000) }), caption: "usage.licensesCaption", empty: "usage.noRows" });

  const optionalSeconds = (ms) => (ms === undefined || ms === null ? null : seconds(ms));
  const sessions = dataTable("usage-sessions", [
    { head: "sessions.id", cell: (s) => code(s.session_id) },
    { head: "col.license", cell: (s) => licenseLink(s.license_id) },
    { head: "col.provider", cell: (s) => s.provider },
    { head: "col.started", cell: (s) => when(s.started_at) },
    { head: "usage.ended", cell: (s) => (s.ended_at ? when(s.ended_at) : tx("usage.stillLive")) },
    { head: "usage.stopReason", cell: (s) => (s.stop_reason ? code(s.stop_reason) : null) },
    { head: "usage.edge", num: true, cell: (s) => optionalSeconds(s.edge_sent_ms) },
    { head: "usage.billed", num: true, cell: (s) => seconds(s.billed_ms) },
    { head: "usage.providerAudio", num: true, cell: (s) => optionalSeconds(s.provider_audio_ms) },
    { head: "usage.providerReported", num: true, cell: (s) => (s.provider_reported_ms !== undefined && s.provider_reported_ms !== null
      ? seconds(s.provider_reported_ms)
      : s.provider_reported_tokens !== undefined && s.provider_reported_tokens !== null ? unit("unit.tokens", s.provider_reported_tokens, 0) : null) },
    { head: "usage.flags", cell: (s) => (s.flags && s.flags.length
      ? h("span", { class: "flag-marker" }, h("span", { "aria-hidden": "true", text: "⚠ " }), tx("usage.flagged"), ": ",
        s.flags.map((f, i) => [i ? ", " : "", h("span", { "data-flag": f, i18n: `flag.${f}` })]))
      : tx("usage.ok")) },
  ], {
    key: (s) => s.session_id,
    attrs: (s) => ({ "data-session-id": s.session_id, "data-flagged": s.flags && s.flags.length ? "true" : "false" }),
    rowClass: (s) => (s.flags && s.flags.length ? "flagged" : null),
    caption: "usage.sessionsCaption", empty: "usage.noSessions",
  });
  const threshold = h("p", { class: "muted small", id: "usage-threshold" });

  view.append(
    pageHeading("page.usage"),
    section(null, form, h("div", { class: "row wrap-row" }, csv, sessionsCsv)),
    section("usage.summary", totals, chartArea),
    section(null, days.wrap),
    section(null, licenses.wrap),
    section(null, threshold, sessions.wrap));

  async function load() {
    if (!from.value || !to.value || from.value > to.value) {
      toast(t("usage.badRange"), "invalid_range");
      from.focus();
      return;
    }
    usageQuery.from = from.value;
    usageQuery.to = to.value;
    usageQuery.license = license.value.trim();
    usageQuery.flagged = flagged.checked;
    const q = { ...usageQuery };
    csv.href = csvHref("usage", q, false);
    sessionsCsv.href = csvHref("usage/sessions", q, true);
    const base = { from: q.from, to: q.to, license_id: q.license };
    const [usage, accounts] = await Promise.all([
      api("GET", `/usage${qs(base)}`).catch((error) => { report(error); return null; }),
      api("GET", `/usage/sessions${qs({ ...base, flagged: q.flagged ? "true" : "" })}`).catch((error) => { report(error); return null; }),
    ]);
    if (!ctx.alive()) return;
    if (usage) showUsage(usage, q);
    if (accounts) {
      sessions.fill(accounts.sessions || []);
      clear(threshold).append(tx("usage.thresholdNote", { n: () => fmtNum(accounts.threshold_ms / 1000, 3) }));
    }
  }

  function showUsage(usage, q) {
    const rows = usage.rows || [];
    // The report's own total (exact milliseconds); the rows' sum if an older central omits it.
    const totalMs = typeof usage.total_ms === "number" ? usage.total_ms : rows.reduce((sum, r) => sum + r.used_ms, 0);
    const totalSeconds = typeof usage.total_seconds === "number" ? usage.total_seconds : totalMs / 1000;
    const dayMap = new Map(dayList(q.from, q.to).map((d) => [d, { day: d, used_ms: 0, sessions_started: 0, chat_requests: 0, chat_input_tokens: 0, chat_output_tokens: 0 }]));
    const licenseMap = new Map();
    for (const row of rows) {
      if (!dayMap.has(row.day)) dayMap.set(row.day, { day: row.day, used_ms: 0, sessions_started: 0, chat_requests: 0, chat_input_tokens: 0, chat_output_tokens: 0 });
      if (!licenseMap.has(row.license_id)) {
        licenseMap.set(row.license_id, { license_id: row.license_id, customer_name: row.customer_name, used_ms: 0, sessions_started: 0, chat_requests: 0, chat_input_tokens: 0, chat_output_tokens: 0 });
      }
      for (const target of [dayMap.get(row.day), licenseMap.get(row.license_id)]) {
        target.used_ms += row.used_ms;
        target.sessions_started += row.sessions_started;
        target.chat_requests += row.chat_requests || 0;
        target.chat_input_tokens += row.chat_input_tokens || 0;
        target.chat_output_tokens += row.chat_output_tokens || 0;
      }
    }
    const dayRows = [...dayMap.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
    const tokens = dayRows.reduce((sum, d) => sum + d.chat_input_tokens + d.chat_output_tokens, 0);
    const requests = dayRows.reduce((sum, d) => sum + d.chat_requests, 0);

    clear(totals).append(
      h("div", { class: "total" }, h("span", { class: "total-label", i18n: "usage.totalBilled" }),
        h("strong", { id: "usage-total-seconds", "data-seconds": String(totalSeconds) },
          unit("unit.seconds", totalSeconds, 3), " ", h("span", { class: "muted" }, "(", unit("unit.minutes", totalMs / 60000, 2), ")"))),
      h("div", { class: "total" }, h("span", { class: "total-label", i18n: "usage.totalChatTokens" }),
        h("strong", { id: "usage-total-tokens", "data-tokens": String(tokens) }, num(tokens, 0))),
      h("div", { class: "total" }, h("span", { class: "total-label", i18n: "usage.totalChatRequests" }),
        h("strong", { id: "usage-total-requests" }, num(requests, 0))));

    clear(chartArea).append(barChart("usage-chart", {
      days: dayRows.map((d) => d.day),
      series: [
        { key: "speech", labelKey: "chart.speech", unitKey: "chart.secondsAxis", pattern: "hatch", values: dayRows.map((d) => d.used_ms / 1000), format: (v) => t("unit.seconds", { n: () => fmtNum(v, 3) }) },
        { key: "chat", labelKey: "chart.chat", unitKey: "chart.tokensAxis", pattern: "dots", values: dayRows.map((d) => d.chat_input_tokens + d.chat_output_tokens), format: (v) => t("unit.tokens", { n: () => fmtNum(v, 0) }) },
      ],
      labelKey: "usage.chartLabel",
      labelArgs: { from: q.from, to: q.to, seconds: () => fmtNum(totalSeconds, 3), tokens: () => fmtNum(tokens, 0) },
    }));
    days.fill(dayRows);
    licenses.fill([...licenseMap.values()].sort((a, b) => b.used_ms - a.used_ms));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
}

// ---- requests for more minutes ---------------------------------------------------------------

let requestsStatus = "pending";

export async function renderRequests(view, ctx) {
  const select = selectEl("requests-status", [
    { value: "pending", key: "requests.pending" }, { value: "approved", key: "requests.approved" },
    { value: "declined", key: "requests.declined" }, { value: "", key: "requests.all" },
  ], requestsStatus);

  const decide = async (request, approve) => {
    const args = { minutes: request.minutes, license: request.license_id, customer: customerOf(request.license_id) || request.license_id };
    const decision = await decisionDialog(approve, request.minutes, args);
    if (!decision) return;
    try {
      await api("POST", `/minutes-requests/${enc(request.id)}/${approve ? "approve" : "decline"}`, decision);
      status(approve ? "requests.approvedDone" : "requests.declinedDone", args);
    } catch (error) {
      report(error);
    }
    await refresh();
    ctx.refreshBadge();
  };

  const table = dataTable("requests-table", [
    { head: "col.created", cell: (r) => when(r.created_at) },
    { head: "col.license", cell: (r) => licenseLink(r.license_id) },
    { head: "col.customer", cell: (r) => r.customer || null },
    { head: "requests.minutes", num: true, cell: (r) => unit("unit.minutes", r.minutes, 2) },
    { head: "requests.note", cell: (r) => (r.note ? h("span", { class: "pre", text: r.note }) : null) },
    { head: "col.status", cell: (r) => statusWord(r.status, "requests.") },
    { head: "requests.decision", cell: decisionCell },
    { head: "col.actions", cell: (r) => (r.status === "pending" ? h("div", { class: "row" },
      actionButton("requests.approve", "operator", () => decide(r, true), { "data-approve": r.id, class: "primary" }),
      actionButton("requests.decline", "operator", () => decide(r, false), { "data-decline": r.id })) : null) },
  ], {
    key: (r) => r.id, attrs: (r) => ({ "data-request-id": r.id, "data-status": r.status }),
    caption: "requests.caption", empty: "requests.none",
  });

  view.append(
    pageHeading("page.requests"),
    section(null, h("div", { class: "toolbar" }, field("requests.show", select)),
      h("p", { class: "muted small", i18n: "requests.refreshNote" }), table.wrap));

  let latest = [];
  const show = () => table.fill(latest.map((r) => ({ ...r, customer: customerOf(r.license_id) || null })));

  async function refresh() {
    try {
      const body = await api("GET", `/minutes-requests${qs({ status: requestsStatus, limit: 200 })}`);
      if (!ctx.alive()) return;
      latest = body.requests || [];
      show();
      showWhenNamed(latest.map((r) => r.license_id), ctx, show);
    } catch (error) {
      report(error);
    }
  }
  select.addEventListener("change", () => {
    requestsStatus = select.value;
    refresh();
  });
  ctx.every(5000, refresh);
  await refresh();
}

function decisionCell(r) {
  if (r.status === "pending") return null;
  return h("div", { class: "decision" },
    r.status === "approved" && r.granted_minutes !== undefined && r.granted_minutes !== null
      ? h("div", { i18n: "requests.granted", i18nArgs: { n: () => fmtNum(r.granted_minutes, 2) } }) : null,
    r.answer ? h("div", { class: "pre", text: r.answer }) : null,
    h("div", { class: "muted small" }, r.decided_by ? h("span", { i18n: "requests.by", i18nArgs: { name: r.decided_by } }) : null, " ", when(r.decided_at)));
}
