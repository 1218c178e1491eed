// The edge's local page: quota, controls, live transcript and translation. It talks only to
// the edge agent that serves it (same origin): the /api endpoints and the /ws event stream.
// This module puts the parts together: every message goes through the reducer, then the
// effects of what changed run and the view draws the new state.

import { language, setLanguage } from "./i18n.js";
import { initialState, reduce, isLive, edgeMicMissing, LIVE_LINKS } from "./reducer.js";
import { EdgeSocket } from "./socket.js";
import { Controls, storedChoices } from "./controls.js";
import * as view from "./view.js";
import * as minutesRequest from "./minutes-request.js";

let state = initialState(storedChoices());
let noDeviceTimer = 0;

function dispatch(message) {
  const previous = state;
  const next = reduce(state, message);
  state = next;
  if (next.session !== previous.session && next.session) beginSession(next.session);
  if (next.status !== previous.status) statusChanged(previous, next);
  // Central answers again: its language pairs can be read now.
  if (next.catalogPending && next.centralReachable === true && (message.type === "quota" || previous.centralReachable !== true)) {
    controls.loadLanguages();
  }
  view.render(state);
}

const getState = () => state;
const socket = new EdgeSocket({
  onOpen: (reconnected) => {
    dispatch({ type: "socket_open" });
    // The edge may have restarted: its devices may have changed (the state and quota come with the greeting).
    if (reconnected) controls.loadDevices();
  },
  onEvent: handleEvent,
  onClose: () => dispatch({ type: "socket_closed" }),
});
const controls = new Controls({ getState, dispatch, socket });

/** One event from /ws (or fed by a test as if it came from there). */
function handleEvent(event) {
  switch (event.type) {
    case "transcript":
    case "translation":
      if (event.result) {
        if (!view.transcript.current && state.status?.session_id) dispatch({ type: "session", id: state.status.session_id });
        view.transcript.add(event.type, event.result);
      }
      break;
    case "level":
      if (isLive(state) || state.micActive) view.showLevel(event.level);
      break;
    default:
      dispatch(event);
  }
}

function statusChanged(previous, next) {
  const wasLive = previous.status && LIVE_LINKS.has(previous.status.link);
  const live = isLive(next);
  if (wasLive && !live) view.silenceLevel();
  if (!live && next.micActive && next.pending !== "starting") controls.closeMic();
  // The edge's microphone cannot be opened during a session: say so if it lasts (the status
  // carries the idle-time probe for a moment after Start).
  if (edgeMicMissing(next) && !noDeviceTimer) {
    noDeviceTimer = setTimeout(() => {
      noDeviceTimer = 0;
      if (edgeMicMissing(state) && state.error?.code !== "no_device") {
        dispatch({ type: "show_error", code: "no_device", message: state.status.audio_message });
      }
    }, 2000);
  }
  if (previous.status?.browser_audio_available !== next.status.browser_audio_available) view.fillDevices(next);
}

function beginSession(id) {
  const source = state.chosen.source ?? view.ui.source.value;
  const target = state.chosen.source ? state.chosen.target : (view.ui.target.value || null);
  view.transcript.beginSession(id, source, target);
}

// For the browser tests and for support: feed an event as if it came from /ws, read state.
window.speechEdgePage = Object.freeze({
  handleEvent,
  state: () => JSON.parse(JSON.stringify({
    status: state.status, quota: state.quota, warning: state.warning, error: state.error, provider: state.provider,
    session: state.session, socketOpen: state.socketOpen, micActive: state.micActive, catalog: state.catalog,
    minutesRequest: minutesRequest.known(),
  })),
});

function main() {
  setLanguage(language());
  view.retranslate(state);
  controls.wire();
  minutesRequest.wire();
  socket.connect();
  setTimeout(() => dispatch({ type: "grace_over" }), 3000);
  controls.loadLanguages();
  controls.loadDevices();
}

main();
