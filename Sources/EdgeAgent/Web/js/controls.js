// What the user does: the buttons and selects, and the local API calls they make (start, stop,
// the language and device lists), plus copying and downloading the session's text. What the
// edge's state is, the page learns from /ws alone: answers here only say whether a request
// was taken.

import { setLanguage } from "./i18n.js";
import { BrowserMicrophone } from "./browser-mic.js";
import { FALLBACK_CATALOG, isLive } from "./reducer.js";
import * as view from "./view.js";

const { $, ui, transcript } = view;
const STORE = { source: "speech-edge.source", target: "speech-edge.target", device: "speech-edge.device" };
// The edge takes state changes only as JSON: a type no foreign page can send without a preflight.
const STOP_REQUEST = { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" };

/** The choices remembered from the last visit. */
export function storedChoices() {
  const read = (key) => {
    try { return localStorage.getItem(STORE[key]); } catch { return null; }
  };
  return { source: read("source"), target: read("target"), device: read("device") };
}

export class Controls {
  /**
   * @param {{getState: () => object, dispatch: (message: object) => void, socket: import("./socket.js").EdgeSocket}} page
   */
  constructor({ getState, dispatch, socket }) {
    this.getState = getState;
    this.dispatch = dispatch;
    this.socket = socket;
    this.mic = null;
  }

  // MARK: Loading

  /** Central's language pairs, through the edge; asked again once central answers when it did not. */
  async loadLanguages() {
    if (this.loadingLanguages) return;
    this.loadingLanguages = true;
    try {
      const catalog = await getJSON("/api/languages");
      const usable = Array.isArray(catalog?.languages) && catalog.languages.length > 0;
      this.dispatch({ type: "catalog", catalog: usable ? catalog : this.getState().catalog, provider: catalog?.provider, pending: false });
    } catch {
      this.dispatch({ type: "catalog", catalog: FALLBACK_CATALOG, pending: true });
    } finally {
      this.loadingLanguages = false;
    }
    view.fillLanguages(this.getState());
  }

  async loadDevices() {
    let devices;
    try {
      const answer = await getJSON("/api/devices");
      devices = Array.isArray(answer?.devices) ? answer.devices : [];
    } catch {
      devices = [];
    }
    this.dispatch({ type: "devices", devices });
    view.fillDevices(this.getState());
  }

  // MARK: Start and stop

  async start(event) {
    event?.preventDefault();
    if (ui.start.disabled) return;
    this.dispatch({ type: "start_pressed" });
    const source = ui.source.value;
    const target = ui.target.value || null;
    const device = ui.device.value;
    const body = { source_language: source, target_language: target };
    let mic = null;
    if (device === "browser") {
      this.dispatch({ type: "pending", pending: "mic" });
      mic = new BrowserMicrophone((chunk) => this.socket.sendAudio(chunk));
      try {
        await mic.open();
      } catch (error) {
        this.dispatch({ type: "pending", pending: null });
        this.dispatch({ type: "show_error", code: error.code ?? "mic_unavailable", message: error.message });
        return;
      }
      body.device = "browser";
    } else if (device) {
      body.device = device;
    }
    this.dispatch({ type: "starting", chosen: { source, target, device } });
    const seen = this.getState().stateEvents;
    try {
      const response = await fetch("/api/translation/start", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (!response.ok) {
        const error = await responseError(response);
        await mic?.close();
        mic = null;
        this.dispatch({ type: "show_error", code: error.code, message: error.message });
        // The device went away since the list was read: offer the current list.
        if (error.code === "invalid_device") this.loadDevices();
        return;
      }
      if (mic) {
        this.mic = mic;
        mic.sending = true;
        mic = null;
        this.dispatch({ type: "mic", active: true, sending: true });
      }
      this.dispatch({ type: "start_accepted", seen });
      // The session may already be over (the quota ran out at once): then this microphone has nothing to feed.
      const now = this.getState();
      if (this.mic && !now.pending && !isLive(now)) await this.closeMic();
    } catch (error) {
      await mic?.close();
      this.dispatch({ type: "show_error", code: "page_offline", message: String(error?.message ?? error) });
    } finally {
      if (this.getState().pending !== "confirming") this.dispatch({ type: "pending", pending: null });
    }
  }

  async stop() {
    if (ui.stop.disabled) return;
    // No more audio once the user said stop.
    if (this.mic) {
      this.mic.sending = false;
      this.dispatch({ type: "mic", active: true, sending: false });
    }
    this.dispatch({ type: "pending", pending: "stopping" });
    try {
      const response = await fetch("/api/translation/stop", STOP_REQUEST);
      if (!response.ok) {
        const error = await responseError(response);
        // Nothing to stop: /ws has said so or is about to.
        if (error.code !== "not_streaming") this.dispatch({ type: "show_error", code: error.code, message: error.message });
      }
    } catch (error) {
      this.dispatch({ type: "show_error", code: "page_offline", message: String(error?.message ?? error) });
    } finally {
      await this.closeMic();
      this.dispatch({ type: "pending", pending: null });
    }
  }

  async closeMic() {
    const mic = this.mic;
    this.mic = null;
    if (mic) await mic.close();
    this.dispatch({ type: "mic", active: false, sending: false });
  }

  // MARK: Choices

  storeChoice(key, value) {
    this.dispatch({ type: "choice", key, value: value ?? "" });
    try { localStorage.setItem(STORE[key], value ?? ""); } catch { /* not remembered */ }
  }

  // MARK: Export

  async copyText() {
    if (transcript.isEmpty) return view.note("panes.nothing");
    const text = transcript.toText();
    try {
      await navigator.clipboard.writeText(text);
      view.note("panes.copied");
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
      view.note(copied ? "panes.copied" : "panes.copyFailed");
    }
  }

  download(extension) {
    if (transcript.isEmpty) return view.note("panes.nothing");
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

  wire() {
    ui.form.addEventListener("submit", (event) => this.start(event));
    ui.stop.addEventListener("click", () => this.stop());
    ui.source.addEventListener("change", () => {
      this.storeChoice("source", ui.source.value);
      view.fillTargets(this.getState(), ui.target.value);
      this.storeChoice("target", ui.target.value);
    });
    ui.target.addEventListener("change", () => {
      this.storeChoice("target", ui.target.value);
      transcript.setTranslationOn(Boolean(ui.target.value));
    });
    ui.device.addEventListener("change", () => this.storeChoice("device", ui.device.value));
    $("use-browser-mic").addEventListener("click", () => {
      ui.device.value = "browser";
      this.storeChoice("device", "browser");
      ui.start.focus();
    });
    $("alert-dismiss").addEventListener("click", () => this.dispatch({ type: "dismiss_error" }));
    for (const button of document.querySelectorAll(".lang-toggle button")) {
      button.addEventListener("click", () => {
        setLanguage(button.dataset.lang);
        view.retranslate(this.getState());
      });
    }
    $("copy").addEventListener("click", () => this.copyText());
    $("download-txt").addEventListener("click", () => this.download("txt"));
    $("download-srt").addEventListener("click", () => this.download("srt"));
    $("clear").addEventListener("click", () => transcript.clear());
    // This page is the microphone of a browser-audio session: leaving it ends the session (its
    // audio source is gone). An edge-microphone session carries on.
    window.addEventListener("pagehide", () => {
      if (!this.mic) return;
      // keepalive outlives the page like a beacon, and can carry the JSON type the edge requires.
      fetch("/api/translation/stop", { ...STOP_REQUEST, keepalive: true }).catch(() => {});
      this.mic.close();
    });
    // Expiry counts down on its own (the edge re-reads the quota itself while idle).
    setInterval(() => view.renderQuota(this.getState()), 30_000);
  }
}

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
