// "Ask for more minutes": a short form in the quota card, shown when minutes are low or gone,
// sent through the edge to central with the license key. The vendor's answer comes back here:
// the panel asks the edge every few seconds while a request waits (an approval also makes the
// edge send the new quota to every page).

import { t, locale, errorText } from "./i18n.js";
import { formatDate } from "./quota.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;
/** An answer stays on the card for a day. */
const ANSWER_SHOWN_MS = 86_400_000;

let latest = null;
let loaded = false;
let loading = false;
let pollTimer = 0;
let lastState = null;

async function load() {
  if (loading) return;
  loading = true;
  try {
    const response = await fetch("/api/license/minutes-request", { cache: "no-store" });
    if (response.ok) latest = (await response.json()).request ?? null;
    loaded = true;
  } catch {
    // The edge is away: the socket's own state says so; try again with the next render.
  } finally {
    loading = false;
  }
  schedule();
  if (lastState) render(lastState);
}

function schedule() {
  clearTimeout(pollTimer);
  pollTimer = 0;
  if (latest?.status === "pending") pollTimer = setTimeout(load, POLL_MS);
}

function recentAnswer(request) {
  return request && request.status !== "pending" && request.decided_at
    && Date.now() - Date.parse(request.decided_at) < ANSWER_SHOWN_MS;
}

function statusText(request) {
  const minutes = (value) => Number(value).toLocaleString(locale());
  switch (request.status) {
    case "pending":
      return t("more.pending", { minutes: minutes(request.minutes), when: formatDate(request.created_at) });
    case "approved":
      return t("more.approved", { minutes: minutes(request.granted_minutes ?? request.minutes) })
        + (request.answer ? ` ${t("more.answer", { answer: request.answer })}` : "");
    default:
      return t("more.declined") + (request.answer ? ` ${t("more.answer", { answer: request.answer })}` : "");
  }
}

/** Draws the panel for the page's state; called with every render. */
export function render(state) {
  lastState = state;
  const panel = $("minutes-request");
  const quota = state.quota;
  if (quota && !loaded && !loading) load();
  const low = quota && (state.warning !== "none" || quota.blocked_by === "minutes_exhausted");
  const pending = latest?.status === "pending";
  panel.hidden = !quota || quota.status === "revoked" || !(low || pending || recentAnswer(latest));
  if (panel.hidden) return;
  const status = $("more-status");
  const shown = latest && (pending || recentAnswer(latest));
  status.hidden = !shown;
  status.textContent = shown ? statusText(latest) : "";
  status.dataset.status = shown ? latest.status : "none";
  // One open request at a time: no form while the vendor has not answered.
  $("more-open").hidden = pending || !$("more-form").hidden;
  if (pending) $("more-form").hidden = true;
}

function showError(text) {
  const box = $("more-error");
  box.textContent = text;
  box.hidden = !text;
}

async function send(event) {
  event.preventDefault();
  const minutes = Number($("more-minutes").value);
  if (!Number.isFinite(minutes) || minutes < 1 || minutes > 100000) {
    showError(t("more.invalid"));
    $("more-minutes").focus();
    return;
  }
  $("more-send").disabled = true;
  showError("");
  try {
    const response = await fetch("/api/license/minutes-request", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ minutes: Math.round(minutes), note: $("more-note").value.slice(0, 500) }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(errorText(body.error?.code, body.error?.message));
      // Already one waiting: show it.
      if (body.error?.code === "minutes_request_pending") load();
      return;
    }
    latest = body.request;
    $("more-form").hidden = true;
    $("more-note").value = "";
    schedule();
    if (lastState) render(lastState);
    $("more-status").focus?.();
  } catch {
    showError(errorText("central_unreachable", ""));
  } finally {
    $("more-send").disabled = false;
  }
}

export function wire() {
  $("more-open").addEventListener("click", () => {
    $("more-form").hidden = false;
    $("more-open").hidden = true;
    showError("");
    $("more-minutes").focus();
  });
  $("more-cancel").addEventListener("click", () => {
    $("more-form").hidden = true;
    $("more-open").hidden = false;
    $("more-open").focus();
  });
  $("more-form").addEventListener("submit", send);
}

// For the browser tests: the request the panel knows.
export function known() {
  return latest;
}
