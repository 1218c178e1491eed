// The page's DOM: everything shown is drawn here from the state (reducer.js), plus the level
// meter, the transcript panes and the screen-reader announcements.

import { t, locale, language, translateDocument, errorText, languageName } from "./i18n.js";
import * as Q from "./quota.js";
import { Transcript, Pane } from "./transcript.js";
import { LIVE_LINKS, isLive } from "./reducer.js";
import * as minutesRequest from "./minutes-request.js";

export const $ = (id) => document.getElementById(id);

export const ui = {
  form: $("controls-form"),
  source: $("source-language"),
  target: $("target-language"),
  device: $("device"),
  start: $("start"),
  stop: $("stop"),
  stateLine: $("state-line"),
};

export const transcript = new Transcript(
  {
    transcript: new Pane($("transcript-lines"), $("transcript-scroll"), $("transcript-jump")),
    translation: new Pane($("translation-lines"), $("translation-scroll"), $("translation-jump")),
  },
  announce,
);

// MARK: Choices

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

export function fillLanguages(state) {
  const languages = state.catalog.languages;
  // While a session runs, the selects show its languages.
  const running = isLive(state) && state.chosen.source;
  const wanted = running ? state.chosen.source : state.wanted.source;
  ui.source.replaceChildren(...languages.map((entry) => option(entry.source, languageName(entry.source))));
  if (languages.some((entry) => entry.source === wanted)) ui.source.value = wanted;
  fillTargets(state, running ? state.chosen.target ?? "" : state.wanted.target);
}

export function fillTargets(state, wanted) {
  const entry = state.catalog.languages.find((item) => item.source === ui.source.value);
  const options = (entry?.targets ?? []).map((code) => option(code, languageName(code)));
  if (entry?.transcription) options.push(option("", t("controls.noTarget")));
  ui.target.replaceChildren(...options);
  const values = [...ui.target.options].map((element) => element.value);
  if (wanted != null && values.includes(wanted)) ui.target.value = wanted;
  else if (values.length > 0) ui.target.value = values[0];
  if (!isLive(state) && !state.pending) transcript.setTranslationOn(Boolean(ui.target.value));
}

function browserAudioAvailable(state) {
  return state.status?.browser_audio_available === true;
}

/** The edge probes its configured ALSA device, and every status it sends says how that went. */
function edgeHasNoDevice(state) {
  return state.status?.alsa_available === false;
}

export function fillDevices(state) {
  const wanted = state.wanted.device;
  const options = [option("", t("controls.deviceDefault"))];
  for (const device of state.devices) {
    const label = device.description && device.description !== device.name ? `${device.name} — ${device.description}` : device.name;
    options.push(option(device.name, label));
  }
  if (browserAudioAvailable(state)) options.push(option("browser", t("controls.deviceBrowser")));
  ui.device.replaceChildren(...options);
  const values = options.map((element) => element.value);
  ui.device.value = wanted != null && values.includes(wanted) ? wanted : "";
  render(state);
}

/** Everything that follows the interface language. */
export function retranslate(state) {
  translateDocument();
  for (const button of document.querySelectorAll(".lang-toggle button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language()));
  }
  fillLanguages(state);
  fillDevices(state);
  transcript.render();
  render(state);
}

// MARK: Rendering

export function render(state) {
  const status = state.status ?? { link: "idle", audio: "idle" };
  const live = LIVE_LINKS.has(status.link);
  document.body.dataset.link = status.link;
  document.body.dataset.audio = status.audio;
  document.body.dataset.page = state.socketOpen ? "connected" : "disconnected";

  // Header.
  const central = $("central-state");
  const centralChip = $("chip-central");
  let centralKey = "central.checking";
  let centralTone = "neutral";
  if (status.link === "streaming") [centralKey, centralTone] = ["central.streaming", "good"];
  else if (status.link === "connecting") [centralKey, centralTone] = ["central.connecting", "neutral"];
  else if (status.link === "reconnecting") [centralKey, centralTone] = ["central.reconnecting", "warn"];
  else if (state.centralReachable === true) [centralKey, centralTone] = ["central.ready", "good"];
  else if (state.centralReachable === false) [centralKey, centralTone] = ["central.unreachable", "bad"];
  central.textContent = t(centralKey);
  central.dataset.state = centralKey.split(".")[1];
  centralChip.dataset.tone = centralTone;

  const license = Q.licenseState(state.quota, state.warning);
  $("license-state").textContent = state.quota ? t(`license.${license}`) : "—";
  $("license-state").dataset.state = license;
  $("chip-license").dataset.tone = license === "active" ? "good" : license === "unknown" ? "neutral" : license === "not_started" ? "warn" : "bad";
  const offline = !state.socketOpen && (state.socketEverOpened || state.loadGraceOver);
  $("chip-page").hidden = !offline;
  $("demo-badge").hidden = !state.provider?.demo;

  renderQuota(state);
  minutesRequest.render(state);
  renderWarning(state);
  renderAlert(state);

  // Controls.
  const busy = Boolean(state.pending);
  const canStart = state.socketOpen && !live && !busy && ui.source.options.length > 0;
  ui.start.disabled = !canStart;
  ui.stop.disabled = !(live || state.micActive) || state.pending === "stopping" || state.pending === "mic";
  for (const select of [ui.source, ui.target, ui.device]) select.disabled = live || busy;
  const offer = browserAudioAvailable(state) && edgeHasNoDevice(state) && ui.device.value !== "browser" && !live && !busy;
  $("browser-mic-offer").hidden = !offer;
  $("browser-mic-active").hidden = !state.micActive;

  let stateKey = "state.ready";
  if (offline) stateKey = "state.pageOffline";
  else if (state.pending === "mic") stateKey = "state.micStarting";
  else if (state.pending === "starting" || state.pending === "confirming") stateKey = "state.starting";
  else if (state.pending === "stopping") stateKey = "state.stopping";
  else if (status.link === "connecting") stateKey = "state.connecting";
  else if (status.link === "streaming" && status.audio_source === "browser" && !state.micActive) stateKey = "state.browserOrphan";
  else if (status.link === "streaming") stateKey = status.audio === "reopening" ? "state.micReopening" : "state.streaming";
  else if (status.link === "reconnecting") stateKey = "state.reconnecting";
  else if (status.link === "stopped" && state.abnormalStop) stateKey = "state.stopped";
  const stateText = t(stateKey);
  if (ui.stateLine.textContent !== stateText) ui.stateLine.textContent = stateText;
  ui.stateLine.dataset.state = stateKey.split(".")[1];
}

export function renderQuota(state) {
  const quota = state.quota;
  const card = $("quota");
  $("quota-unavailable").hidden = Boolean(quota) || state.centralReachable === null;
  // Before the first answer the card keeps its shape (dashes); after a failed one it only says so.
  $("quota-body").hidden = !quota && state.centralReachable !== null;
  if (!quota) return;
  const remaining = Math.max(0, quota.seconds_remaining);
  const minutes = $("minutes-remaining");
  minutes.textContent = Q.duration(remaining);
  minutes.dataset.seconds = String(remaining);
  $("minutes-total").textContent = t("quota.of", { total: Q.limit(quota.seconds_limit) });
  const percent = quota.seconds_limit > 0 ? Math.max(0, Math.min(100, (remaining / quota.seconds_limit) * 100)) : 0;
  $("minutes-bar-fill").style.width = `${percent}%`;
  const bar = $("minutes-bar");
  bar.setAttribute("aria-valuenow", percent.toFixed(0));
  bar.setAttribute("aria-valuetext", `${Q.duration(remaining)} ${t("quota.of", { total: Q.limit(quota.seconds_limit) })}`);
  card.dataset.warning = state.warning;
  if (!card.dataset.painted) requestAnimationFrame(() => requestAnimationFrame(() => { card.dataset.painted = "true"; }));

  const daily = $("daily-remaining");
  daily.hidden = quota.daily_limit_seconds == null;
  if (quota.daily_limit_seconds != null) {
    daily.textContent = t("quota.daily", {
      remaining: Q.duration(quota.daily_remaining_seconds ?? 0), total: Q.limit(quota.daily_limit_seconds),
    });
  }
  $("sessions-left").textContent = quota.sessions_limit == null
    ? t("quota.unlimited")
    : t("quota.sessionsValue", { remaining: quota.sessions_remaining ?? 0, total: quota.sessions_limit });
  const expiry = Q.untilExpiry(quota);
  const expires = $("expires-in");
  expires.textContent = expiry ? expiry.text : t("quota.firstUse");
  if (quota.expires_at) expires.title = t("quota.expiresAt", { date: Q.formatDate(quota.expires_at) });
  else expires.removeAttribute("title");
  $("concurrency").textContent = t("quota.concurrencyValue", { used: quota.concurrent_in_use, limit: quota.concurrent_limit });
  renderChatQuota(quota.chat);
}

/** The license's chat allowance (central's `chat` in the quota); hidden when it has none. */
function renderChatQuota(chat) {
  const section = $("chat-quota");
  section.hidden = !chat;
  if (!chat) return;
  const count = (value) => Number(value ?? 0).toLocaleString(locale());
  const usedOf = (used, limit) => limit == null ? count(used) : t("chat.usedOf", { used: count(used), limit: count(limit) });
  $("chat-requests").textContent = usedOf(chat.requests_today, chat.requests_per_day);
  $("chat-tokens-today").textContent = usedOf(chat.tokens_today, chat.tokens_per_day);
  $("chat-tokens-total").textContent = usedOf(chat.tokens_used, chat.tokens_total);
  $("chat-models").textContent = (chat.models ?? []).join(", ") || "—";
  const resets = t("chat.resets", { date: Q.formatDate(chat.resets_at, chat.time_zone), zone: chat.time_zone });
  $("chat-resets").textContent = chat.requests_per_minute == null
    ? resets
    : `${resets} ${t("chat.perMinute", { limit: count(chat.requests_per_minute) })}`;
}

function renderWarning(state) {
  const box = $("warning");
  // A license that cannot stream for a reason other than its balance (expired, not started,
  // suspended, revoked, no sessions left) says why, before anybody presses Start.
  const blocked = state.quota?.blocked_by;
  if (blocked && !state.error && !["minutes_exhausted", "daily_limit_reached"].includes(blocked)) {
    box.hidden = false;
    box.dataset.level = "exhausted";
    const text = errorText(blocked);
    if (box.textContent !== text) box.textContent = text;
    return;
  }
  const level = state.quota ? state.warning : "none";
  // The alert already says it when central stopped or refused for the same reason.
  const said = level === "exhausted" && ["minutes_exhausted", "daily_limit_reached"].includes(state.error?.code);
  box.hidden = level === "none" || !level || said;
  box.dataset.level = level;
  if (box.hidden) return;
  const text = t(`warning.${level}`, { remaining: Q.duration(state.quota ? Q.remainingSeconds(state.quota) : 0) });
  if (box.textContent !== text) box.textContent = text;
}

function renderAlert(state) {
  const alert = $("alert");
  alert.hidden = !state.error;
  if (!state.error) return;
  alert.dataset.code = state.error.code;
  const text = errorText(state.error.code, state.error.message);
  if ($("alert-text").textContent !== text) $("alert-text").textContent = text;
  $("alert-code").textContent = t("error.code", { code: state.error.code });
}

// MARK: Level meter

const SILENT = { rms_dbfs: -120, peak_dbfs: -120 };
let levelTimer = 0;

function drawLevel(level) {
  const rms = Math.max(-60, Math.min(0, level.rms_dbfs ?? -120));
  const peak = Math.max(-60, Math.min(0, level.peak_dbfs ?? -120));
  $("level-fill").style.width = `${((rms + 60) / 60) * 100}%`;
  $("level-peak").style.left = `${((peak + 60) / 60) * 100}%`;
  const meter = $("level");
  meter.setAttribute("aria-valuenow", rms.toFixed(0));
  meter.setAttribute("aria-valuetext", rms <= -60 ? t("controls.levelSilent") : t("controls.levelValue", { db: rms.toFixed(0) }));
  meter.dataset.active = String(rms > -60);
}

/** A reading from the edge; the meter falls back to silent when readings stop coming. */
export function showLevel(level) {
  if (!level) return;
  drawLevel(level);
  clearTimeout(levelTimer);
  levelTimer = setTimeout(() => drawLevel(SILENT), 1500);
}

export function silenceLevel() {
  clearTimeout(levelTimer);
  drawLevel(SILENT);
}

// MARK: Announcements and notes

function announce(kind, text) {
  const announcer = $("announcer");
  const line = document.createElement("p");
  line.textContent = t(kind === "transcript" ? "panes.announceTranscript" : "panes.announceTranslation", { text });
  announcer.append(line);
  while (announcer.childElementCount > 4) announcer.firstElementChild.remove();
}

let noteTimer = 0;

/** A short-lived message beside the transcript's toolbar. */
export function note(key) {
  const element = $("toolbar-note");
  element.textContent = t(key);
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => { element.textContent = ""; }, 4000);
}
