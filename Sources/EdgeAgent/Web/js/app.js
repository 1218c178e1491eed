// The edge's local page: quota, controls, live transcript and translation. It talks only to
// the edge agent that serves it (same origin): the /api endpoints and the /ws event stream.

import { t, language, setLanguage, translateDocument, errorText, languageName } from "./i18n.js";
import * as Q from "./quota.js";
import { Transcript, Pane } from "./transcript.js";
import { BrowserMicrophone } from "./browser-mic.js";

const $ = (id) => document.getElementById(id);

/** Used when the edge does not offer GET /api/languages (older edges). */
const FALLBACK_CATALOG = {
  provider: null,
  languages: [
    { source: "zh", targets: ["en"], transcription: true },
    { source: "en", targets: ["zh"], transcription: true },
  ],
};

const LIVE_LINKS = new Set(["connecting", "streaming", "reconnecting"]);
const STORE = { source: "speech-edge.source", target: "speech-edge.target", device: "speech-edge.device" };
/** Binary audio waiting in the socket beyond this is dropped rather than queued without end. */
const MAX_BUFFERED_BYTES = 64 * 1024;

const app = {
  status: null,
  quota: null,
  warning: "none",
  centralReachable: null,
  provider: null,
  catalog: FALLBACK_CATALOG,
  devices: [],
  socket: null,
  socketOpen: false,
  socketEverOpened: false,
  loadGraceOver: false,
  reconnectDelay: 500,
  pending: null, // "mic" | "starting" | "stopping" | null
  mic: null,
  error: null,
  session: null,
  chosen: { source: null, target: null, device: null },
  // What the user picked last (remembered across visits); kept while the lists reload.
  wanted: { source: storedChoice("source"), target: storedChoice("target"), device: storedChoice("device") },
  levelTimer: 0,
  // Counts /ws state events: an HTTP answer's status snapshot is older than any state event
  // that arrived while the request was under way, and must not overwrite it.
  stateEvents: 0,
};

const ui = {
  form: $("controls-form"),
  source: $("source-language"),
  target: $("target-language"),
  device: $("device"),
  start: $("start"),
  stop: $("stop"),
  stateLine: $("state-line"),
};

const transcript = new Transcript(
  {
    transcript: new Pane($("transcript-lines"), $("transcript-scroll"), $("transcript-jump")),
    translation: new Pane($("translation-lines"), $("translation-scroll"), $("translation-jump")),
  },
  announce,
);

// MARK: Loading

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw await responseError(response);
  return response.json();
}

async function responseError(response) {
  let code = `http_${response.status}`;
  let message = response.statusText;
  try {
    const body = await response.json();
    if (body?.error?.code) ({ code, message } = body.error);
  } catch { /* not JSON */ }
  const error = new Error(message);
  error.code = code;
  return error;
}

async function loadLanguages() {
  try {
    const catalog = await getJSON("/api/languages");
    if (Array.isArray(catalog?.languages) && catalog.languages.length > 0) app.catalog = catalog;
    if (catalog?.provider) app.provider = catalog.provider;
    app.catalogPending = false;
  } catch (error) {
    app.catalog = FALLBACK_CATALOG;
    // An edge without the endpoint keeps the built-in pairs; otherwise ask again once central answers.
    app.catalogPending = !(error.code === "http_404" || error.code === "not_found");
  }
  fillLanguages();
  render();
}

async function loadDevices() {
  try {
    const answer = await getJSON("/api/devices");
    app.devices = Array.isArray(answer?.devices) ? answer.devices : [];
  } catch {
    app.devices = [];
  }
  fillDevices();
}

async function loadStatus() {
  const seen = app.stateEvents;
  try {
    const status = await getJSON("/api/status");
    if (app.stateEvents === seen) applyStatus(status);
  } catch { /* the socket brings it */ }
}

async function refreshQuota() {
  try {
    app.quota = settled(await getJSON("/api/license/quota"));
    app.warning = Q.warningLevel(app.quota);
    app.centralReachable = true;
    app.quotaProblem = null;
    if (app.error?.code === "central_unreachable") clearError();
    if (app.catalogPending) {
      app.catalogPending = false;
      loadLanguages();
    }
  } catch (error) {
    const unreachable = error.code === "central_unreachable" || error.code === "http_502";
    if (unreachable) app.centralReachable = false;
    else if (error.code && !error.code.startsWith("http_")) app.centralReachable = true;
    // Say it once per kind of problem: a dismissed message does not come back with every retry.
    const known = unreachable || (error.code && !error.code.startsWith("http_"));
    if (known && app.quotaProblem !== error.code && !isLive()) showError(error.code, error.message);
    if (known) app.quotaProblem = error.code;
  }
  render();
}

// MARK: The event stream

function connectSocket() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  app.socket = socket;
  socket.addEventListener("open", () => {
    const reconnected = app.socketEverOpened;
    app.socketOpen = true;
    app.socketEverOpened = true;
    app.reconnectDelay = 500;
    if (app.error?.code === "page_offline") clearError();
    if (reconnected) {
      // The edge may have restarted: take everything afresh.
      loadDevices();
      refreshQuota();
    }
    render();
  });
  socket.addEventListener("message", (message) => {
    if (typeof message.data !== "string") return;
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    handleEvent(event);
  });
  socket.addEventListener("close", () => {
    if (app.socket !== socket) return;
    app.socketOpen = false;
    render();
    setTimeout(connectSocket, app.reconnectDelay);
    app.reconnectDelay = Math.min(app.reconnectDelay * 2, 8000);
  });
}

function handleEvent(event) {
  switch (event.type) {
    case "state":
      app.stateEvents += 1;
      applyStatus(event.status);
      break;
    case "quota":
      if (event.quota?.quota) {
        app.quota = event.quota.quota;
        app.warning = event.quota.warning ?? Q.warningLevel(app.quota);
        if (event.quota.provider) app.provider = event.quota.provider;
        app.centralReachable = true;
        render();
      }
      break;
    case "transcript":
    case "translation":
      if (event.result) {
        if (!transcript.current && app.status?.session_id) beginSession(app.status.session_id);
        transcript.add(event.type, event.result);
      }
      break;
    case "level":
      if (isLive() || app.mic) showLevel(event.level);
      break;
    case "error":
      // Audio still in flight when a browser-microphone session ends is refused harmlessly.
      if (event.code === "browser_audio_not_expected" && (!app.mic?.sending || app.pending === "stopping")) break;
      showError(event.code, event.message);
      break;
  }
}

function applyStatus(status) {
  if (!status) return;
  const previous = app.status;
  app.status = status;
  if (status.demo != null) app.provider = { ...(app.provider ?? { name: "demo" }), demo: status.demo };
  if (status.link === "streaming" && status.session_id && status.session_id !== app.session) beginSession(status.session_id);
  if (LIVE_LINKS.has(status.link)) app.centralReachable = true;

  const wasLive = previous && LIVE_LINKS.has(previous.link);
  if (status.link === "stopped" && (wasLive || !previous)) {
    app.abnormalStop = Boolean(wasLive && status.stop_reason && status.stop_reason !== "client_stop");
    if (app.abnormalStop && app.error?.code !== status.stop_reason) showError(status.stop_reason, "");
    if (app.quota) {
      const quota = settled(app.quota);
      if (quota !== app.quota) {
        app.quota = quota;
        app.warning = Q.warningLevel(quota);
      }
    }
    if (wasLive) setTimeout(refreshQuota, 1500);
  }
  if (wasLive && !LIVE_LINKS.has(status.link)) {
    clearTimeout(app.levelTimer);
    drawLevel(SILENT);
  }
  if (!LIVE_LINKS.has(status.link) && app.mic && app.pending !== "starting") closeMic();
  // The edge's microphone cannot be opened during a session: say so if it lasts (the status
  // carries the idle-time probe for a moment after Start).
  if (edgeMicMissing(status) && !app.noDeviceTimer) {
    app.noDeviceTimer = setTimeout(() => {
      app.noDeviceTimer = 0;
      if (edgeMicMissing(app.status) && app.error?.code !== "no_device") showError("no_device", app.status.audio_message);
    }, 2000);
  }
  if (previous?.browser_audio_available !== status.browser_audio_available) fillDevices();
  render();
}

/**
 * The edge keeps central's last push, which comes a moment before central stops a session for
 * running out: while the edge says the last session ended for that reason, a last fraction of
 * a second is shown as what it is, nothing left.
 */
function settled(quota) {
  const status = app.status;
  if (status?.link !== "stopped") return quota;
  if (status.stop_reason === "minutes_exhausted" && quota.seconds_remaining > 0 && quota.seconds_remaining < 1) {
    return { ...quota, seconds_remaining: 0, seconds_used: quota.seconds_limit };
  }
  if (status.stop_reason === "daily_limit_reached" && quota.daily_remaining_seconds > 0 && quota.daily_remaining_seconds < 1) {
    return { ...quota, daily_remaining_seconds: 0 };
  }
  return quota;
}

function beginSession(id) {
  app.session = id;
  const source = app.chosen.source ?? ui.source.value;
  const target = app.chosen.source ? app.chosen.target : (ui.target.value || null);
  transcript.beginSession(id, source, target);
}

function edgeMicMissing(status) {
  return LIVE_LINKS.has(status?.link) && status.audio === "no_device" && Boolean(status.audio_message)
    && status.audio_source !== "browser" && !app.mic && app.chosen.device !== "browser";
}

function isLive() {
  return LIVE_LINKS.has(app.status?.link);
}

// MARK: Start and stop

async function start(event) {
  event?.preventDefault();
  if (ui.start.disabled) return;
  clearError();
  app.abnormalStop = false;
  const source = ui.source.value;
  const target = ui.target.value || null;
  const device = ui.device.value;
  const body = { source_language: source, target_language: target };
  let mic = null;
  if (device === "browser") {
    app.pending = "mic";
    render();
    mic = new BrowserMicrophone(sendAudio);
    try {
      await mic.open();
    } catch (error) {
      app.pending = null;
      showError(error.code ?? "mic_unavailable", error.message);
      render();
      return;
    }
    body.device = "browser";
  } else if (device) {
    body.device = device;
  }
  app.pending = "starting";
  app.chosen = { source, target, device };
  render();
  const seen = app.stateEvents;
  try {
    const response = await fetch("/api/translation/start", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (!response.ok) {
      const error = await responseError(response);
      await mic?.close();
      mic = null;
      showError(error.code, error.message);
      if (error.code === "already_streaming") loadStatus();
      // The device went away since the list was read: offer the current list.
      if (error.code === "invalid_device") loadDevices();
      return;
    }
    const status = await response.json();
    if (mic) {
      app.mic = mic;
      mic.sending = true;
      mic = null;
    }
    app.pending = null;
    if (app.stateEvents === seen) applyStatus(status);
  } catch (error) {
    await mic?.close();
    showError("page_offline", String(error?.message ?? error));
  } finally {
    app.pending = null;
    render();
  }
}

// The edge takes state changes only as JSON: a type no foreign page can send without a preflight.
const STOP_REQUEST = { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" };

async function stop() {
  if (ui.stop.disabled) return;
  // No more audio once the user said stop.
  if (app.mic) app.mic.sending = false;
  app.pending = "stopping";
  render();
  const seen = app.stateEvents;
  try {
    const response = await fetch("/api/translation/stop", STOP_REQUEST);
    if (response.ok) {
      const status = await response.json();
      if (app.stateEvents === seen) applyStatus(status);
    } else {
      const error = await responseError(response);
      if (error.code === "not_streaming") loadStatus();
      else showError(error.code, error.message);
    }
  } catch (error) {
    showError("page_offline", String(error?.message ?? error));
  } finally {
    await closeMic();
    app.pending = null;
    render();
    setTimeout(refreshQuota, 1500);
  }
}

function sendAudio(chunk) {
  const socket = app.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
  socket.send(chunk);
}

async function closeMic() {
  const mic = app.mic;
  app.mic = null;
  if (mic) await mic.close();
  render();
}

// MARK: Choices

function storedChoice(key) {
  try { return localStorage.getItem(STORE[key]); } catch { return null; }
}

function storeChoice(key, value) {
  app.wanted[key] = value ?? "";
  try { localStorage.setItem(STORE[key], value ?? ""); } catch { /* not remembered */ }
}

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function fillLanguages() {
  const languages = app.catalog.languages;
  // While a session runs, the selects show its languages.
  const wanted = isLive() && app.chosen.source ? app.chosen.source : app.wanted.source;
  ui.source.replaceChildren(...languages.map((entry) => option(entry.source, languageName(entry.source))));
  if (languages.some((entry) => entry.source === wanted)) ui.source.value = wanted;
  fillTargets(isLive() && app.chosen.source ? app.chosen.target ?? "" : app.wanted.target);
}

function fillTargets(wanted) {
  const entry = app.catalog.languages.find((item) => item.source === ui.source.value);
  const options = (entry?.targets ?? []).map((code) => option(code, languageName(code)));
  if (entry?.transcription) options.push(option("", t("controls.noTarget")));
  ui.target.replaceChildren(...options);
  const values = [...ui.target.options].map((element) => element.value);
  if (wanted != null && values.includes(wanted)) ui.target.value = wanted;
  else if (values.length > 0) ui.target.value = values[0];
  if (!isLive() && !app.pending) transcript.setTranslationOn(Boolean(ui.target.value));
}

function browserAudioAvailable() {
  return app.status?.browser_audio_available === true;
}

function edgeHasNoDevice() {
  // The edge probes its configured ALSA device; trust that answer when it gives one.
  if (typeof app.status?.alsa_available === "boolean") return !app.status.alsa_available;
  return app.status?.audio === "no_device" || app.devices.length === 0;
}

function fillDevices() {
  const wanted = app.wanted.device;
  const options = [option("", t("controls.deviceDefault"))];
  for (const device of app.devices) {
    const label = device.description && device.description !== device.name ? `${device.name} — ${device.description}` : device.name;
    options.push(option(device.name, label));
  }
  if (browserAudioAvailable()) options.push(option("browser", t("controls.deviceBrowser")));
  ui.device.replaceChildren(...options);
  const values = options.map((element) => element.value);
  ui.device.value = wanted != null && values.includes(wanted) ? wanted : "";
  render();
}

// MARK: Rendering

function render() {
  const status = app.status ?? { link: "idle", audio: "idle" };
  const live = LIVE_LINKS.has(status.link);
  document.body.dataset.link = status.link;
  document.body.dataset.audio = status.audio;
  document.body.dataset.page = app.socketOpen ? "connected" : "disconnected";

  // Header.
  const central = $("central-state");
  const centralChip = $("chip-central");
  let centralKey = "central.checking";
  let centralTone = "neutral";
  if (status.link === "streaming") [centralKey, centralTone] = ["central.streaming", "good"];
  else if (status.link === "connecting") [centralKey, centralTone] = ["central.connecting", "neutral"];
  else if (status.link === "reconnecting") [centralKey, centralTone] = ["central.reconnecting", "warn"];
  else if (app.centralReachable === true) [centralKey, centralTone] = ["central.ready", "good"];
  else if (app.centralReachable === false) [centralKey, centralTone] = ["central.unreachable", "bad"];
  central.textContent = t(centralKey);
  central.dataset.state = centralKey.split(".")[1];
  centralChip.dataset.tone = centralTone;

  const license = Q.licenseState(app.quota);
  $("license-state").textContent = app.quota ? t(`license.${license}`) : "—";
  $("license-state").dataset.state = license;
  $("chip-license").dataset.tone = license === "active" ? "good" : license === "unknown" ? "neutral" : license === "not_started" ? "warn" : "bad";
  const offline = !app.socketOpen && (app.socketEverOpened || app.loadGraceOver);
  $("chip-page").hidden = !offline;
  $("demo-badge").hidden = !app.provider?.demo;

  renderQuota();
  renderWarning();
  renderAlert();

  // Controls.
  const busy = Boolean(app.pending);
  const canStart = app.socketOpen && !live && !busy && ui.source.options.length > 0;
  ui.start.disabled = !canStart;
  ui.stop.disabled = !(live || app.mic) || app.pending === "stopping" || app.pending === "mic";
  for (const select of [ui.source, ui.target, ui.device]) select.disabled = live || busy;
  const offer = browserAudioAvailable() && edgeHasNoDevice() && ui.device.value !== "browser" && !live && !busy;
  $("browser-mic-offer").hidden = !offer;
  $("browser-mic-active").hidden = !app.mic;

  let stateKey = "state.ready";
  if (offline) stateKey = "state.pageOffline";
  else if (app.pending === "mic") stateKey = "state.micStarting";
  else if (app.pending === "starting") stateKey = "state.starting";
  else if (app.pending === "stopping") stateKey = "state.stopping";
  else if (status.link === "connecting") stateKey = "state.connecting";
  else if (status.link === "streaming" && status.audio_source === "browser" && !app.mic) stateKey = "state.browserOrphan";
  else if (status.link === "streaming") stateKey = status.audio === "reopening" ? "state.micReopening" : "state.streaming";
  else if (status.link === "reconnecting") stateKey = "state.reconnecting";
  else if (status.link === "stopped" && app.abnormalStop) stateKey = "state.stopped";
  const stateText = t(stateKey);
  if (ui.stateLine.textContent !== stateText) ui.stateLine.textContent = stateText;
  ui.stateLine.dataset.state = stateKey.split(".")[1];
}

function renderQuota() {
  const quota = app.quota;
  const card = $("quota");
  $("quota-unavailable").hidden = Boolean(quota) || app.centralReachable === null;
  // Before the first answer the card keeps its shape (dashes); after a failed one it only says so.
  $("quota-body").hidden = !quota && app.centralReachable !== null;
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
  card.dataset.warning = app.warning;
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
}

function renderWarning() {
  const box = $("warning");
  // A license that cannot stream for a reason other than its balance (expired, not started,
  // suspended, revoked, no sessions left) says why, before anybody presses Start.
  const blocked = app.quota?.blocked_by;
  if (blocked && !app.error && !["minutes_exhausted", "daily_limit_reached"].includes(blocked)) {
    box.hidden = false;
    box.dataset.level = "exhausted";
    const text = errorText(blocked);
    if (box.textContent !== text) box.textContent = text;
    return;
  }
  const level = app.quota ? app.warning : "none";
  // The alert already says it when central stopped or refused for the same reason.
  const said = level === "exhausted" && ["minutes_exhausted", "daily_limit_reached"].includes(app.error?.code);
  box.hidden = level === "none" || !level || said;
  box.dataset.level = level;
  if (box.hidden) return;
  const text = t(`warning.${level}`, { remaining: Q.duration(app.quota ? Q.binding(app.quota).remaining : 0) });
  if (box.textContent !== text) box.textContent = text;
}

function showError(code, message) {
  if (!code || code === "client_stop") return;
  app.error = { code, message };
  renderAlert();
  renderWarning();
}

function clearError() {
  app.error = null;
  renderAlert();
  renderWarning();
}

function renderAlert() {
  const alert = $("alert");
  alert.hidden = !app.error;
  if (!app.error) return;
  alert.dataset.code = app.error.code;
  const text = errorText(app.error.code, app.error.message);
  if ($("alert-text").textContent !== text) $("alert-text").textContent = text;
  $("alert-code").textContent = t("error.code", { code: app.error.code });
}

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

const SILENT = { rms_dbfs: -120, peak_dbfs: -120 };

/** A reading from the edge; the meter falls back to silent when readings stop coming. */
function showLevel(level) {
  if (!level) return;
  drawLevel(level);
  clearTimeout(app.levelTimer);
  app.levelTimer = setTimeout(() => drawLevel(SILENT), 1500);
}

function announce(kind, text) {
  const announcer = $("announcer");
  const line = document.createElement("p");
  line.textContent = t(kind === "transcript" ? "panes.announceTranscript" : "panes.announceTranslation", { text });
  announcer.append(line);
  while (announcer.childElementCount > 4) announcer.firstElementChild.remove();
}

// MARK: Export

function note(key) {
  const element = $("toolbar-note");
  element.textContent = t(key);
  clearTimeout(note.timer);
  note.timer = setTimeout(() => { element.textContent = ""; }, 4000);
}

async function copyText() {
  if (transcript.isEmpty) return note("panes.nothing");
  const text = transcript.toText();
  try {
    await navigator.clipboard.writeText(text);
    note("panes.copied");
  } catch {
    // Clipboard API refused (permissions, older browser): the selection route.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    note(copied ? "panes.copied" : "panes.copyFailed");
  }
}

function download(extension) {
  if (transcript.isEmpty) return note("panes.nothing");
  const text = extension === "srt" ? transcript.toSRT() : transcript.toText();
  // A byte-order mark helps older editors and players recognise UTF-8 (Chinese text).
  const blob = new Blob(["\ufeff", text], { type: extension === "srt" ? "application/x-subrip;charset=utf-8" : "text/plain;charset=utf-8" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = transcript.fileName(extension);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// MARK: Wiring

function applyLanguage(lang) {
  setLanguage(lang);
  translateDocument();
  for (const button of document.querySelectorAll(".lang-toggle button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language()));
  }
  fillLanguages();
  fillDevices();
  transcript.render();
  render();
}

function wire() {
  ui.form.addEventListener("submit", start);
  ui.stop.addEventListener("click", stop);
  ui.source.addEventListener("change", () => {
    storeChoice("source", ui.source.value);
    fillTargets(ui.target.value);
    storeChoice("target", ui.target.value);
  });
  ui.target.addEventListener("change", () => {
    storeChoice("target", ui.target.value);
    transcript.setTranslationOn(Boolean(ui.target.value));
  });
  ui.device.addEventListener("change", () => {
    storeChoice("device", ui.device.value);
    render();
  });
  $("use-browser-mic").addEventListener("click", () => {
    ui.device.value = "browser";
    storeChoice("device", "browser");
    render();
    ui.start.focus();
  });
  $("alert-dismiss").addEventListener("click", clearError);
  for (const button of document.querySelectorAll(".lang-toggle button")) {
    button.addEventListener("click", () => applyLanguage(button.dataset.lang));
  }
  $("copy").addEventListener("click", copyText);
  $("download-txt").addEventListener("click", () => download("txt"));
  $("download-srt").addEventListener("click", () => download("srt"));
  $("clear").addEventListener("click", () => transcript.clear());
  // This page is the microphone of a browser-audio session: leaving it ends the session (its
  // audio source is gone). An edge-microphone session carries on.
  window.addEventListener("pagehide", () => {
    if (!app.mic) return;
    // keepalive outlives the page like a beacon, and can carry the JSON type the edge requires.
    fetch("/api/translation/stop", { ...STOP_REQUEST, keepalive: true }).catch(() => {});
    app.mic.close();
  });
  // Expiry counts down on its own; the quota is re-read while idle (an operator may top up).
  setInterval(renderQuota, 30_000);
  const poll = () => {
    if (!isLive() && !app.pending) refreshQuota();
    // Sooner while central cannot be reached or the quota is unknown.
    setTimeout(poll, app.centralReachable === true && app.quota ? 60_000 : 10_000);
  };
  setTimeout(poll, 10_000);
}

// For the browser tests and for support: feed an event as if it came from /ws, read state.
window.speechEdgePage = Object.freeze({
  handleEvent,
  state: () => JSON.parse(JSON.stringify({
    status: app.status, quota: app.quota, warning: app.warning, error: app.error, provider: app.provider,
    session: app.session, socketOpen: app.socketOpen, micActive: Boolean(app.mic), catalog: app.catalog,
  })),
});

function main() {
  applyLanguage(language());
  wire();
  connectSocket();
  setTimeout(() => { app.loadGraceOver = true; render(); }, 3000);
  loadStatus();
  loadLanguages();
  loadDevices();
  refreshQuota();
}

main();
