// The page's state and the one function that changes it: reduce(state, message) → new state,
// for the edge's /ws events and for what the page itself did. Pure: no DOM, no timers, no
// requests; app.js runs those from what changed. Everything the edge knows (its status, the
// quota and its warning level, whether central answers) comes from /ws only.

export const LIVE_LINKS = new Set(["connecting", "streaming", "reconnecting"]);

/** Shown until the edge can give central's catalog (GET /api/languages fails while central does not answer). */
export const FALLBACK_CATALOG = {
  provider: null,
  languages: [
    { source: "zh", targets: ["en"], transcription: true },
    { source: "en", targets: ["zh"], transcription: true },
  ],
};

/** `wanted`: what the user picked last (remembered across visits); kept while the lists reload. */
export function initialState(wanted = {}) {
  return {
    status: null,
    quota: null,
    warning: "none",
    centralReachable: null,
    quotaProblem: null,
    provider: null,
    catalog: FALLBACK_CATALOG,
    catalogPending: false,
    devices: [],
    socketOpen: false,
    socketEverOpened: false,
    loadGraceOver: false,
    // "mic" | "starting" | "confirming" (the edge accepted; /ws has not said so yet) | "stopping" | null
    pending: null,
    micActive: false,
    micSending: false,
    error: null,
    abnormalStop: false,
    session: null,
    chosen: { source: null, target: null, device: null },
    wanted: { source: wanted.source ?? null, target: wanted.target ?? null, device: wanted.device ?? null },
    // Counts /ws state events, so a start the edge accepted waits for /ws to say so.
    stateEvents: 0,
  };
}

export function isLive(state) {
  return LIVE_LINKS.has(state.status?.link);
}

/** The edge's microphone cannot be opened during a session (and the page's is not in use). */
export function edgeMicMissing(state) {
  const status = state.status;
  return LIVE_LINKS.has(status?.link) && status.audio === "no_device" && Boolean(status.audio_message)
    && status.audio_source !== "browser" && !state.micActive && state.chosen.device !== "browser";
}

export function reduce(state, message) {
  switch (message.type) {
    // From the edge's /ws.
    case "state":
      return applyStatus({ ...state, stateEvents: state.stateEvents + 1 }, message.status);
    case "quota": {
      const pushed = message.quota;
      if (!pushed?.quota) return state;
      return {
        ...state,
        error: resolvedBy(state.error, pushed.quota) ? null : state.error,
        quota: pushed.quota,
        warning: pushed.warning ?? "none",
        provider: pushed.provider ?? state.provider,
        centralReachable: true,
      };
    }
    case "error":
      // Audio still in flight when a browser-microphone session ends is refused harmlessly.
      if (message.code === "browser_audio_not_expected" && (!state.micSending || state.pending === "stopping")) return state;
      return withError(state, message.code, message.message);

    // The page's own doings and the answers it read.
    case "socket_open":
      return {
        ...state, socketOpen: true, socketEverOpened: true,
        error: state.error?.code === "page_offline" ? null : state.error,
      };
    case "socket_closed":
      return { ...state, socketOpen: false };
    case "grace_over":
      return { ...state, loadGraceOver: true };
    case "catalog":
      return { ...state, catalog: message.catalog, provider: message.provider ?? state.provider, catalogPending: message.pending };
    case "devices":
      return { ...state, devices: message.devices };
    case "show_error":
      return withError(state, message.code, message.message);
    case "dismiss_error":
      return { ...state, error: null };
    case "start_pressed":
      return { ...state, error: null, abnormalStop: false };
    case "pending":
      return { ...state, pending: message.pending };
    case "starting":
      return { ...state, pending: "starting", chosen: message.chosen };
    case "start_accepted":
      // Until /ws has said anything since the request, the page still shows the start under way.
      return { ...state, pending: state.stateEvents === message.seen ? "confirming" : null };
    case "mic":
      return { ...state, micActive: message.active, micSending: message.sending };
    case "session":
      return { ...state, session: message.id };
    case "choice":
      return { ...state, wanted: { ...state.wanted, [message.key]: message.value } };
    default:
      return state;
  }
}

/** Codes that say the license cannot stream (central's `blocked_by` reasons). */
const BLOCKED = new Set(["minutes_exhausted", "daily_limit_reached", "sessions_exhausted", "license_suspended",
  "license_expired", "license_not_started", "license_revoked"]);

/** Whether a quota shows that the "cannot stream" message is over: it can stream again, with at
 * least a second to spend where the message was about time. */
function resolvedBy(error, quota) {
  if (!error || !BLOCKED.has(error.code) || quota.can_stream !== true || quota.status !== "active") return false;
  if (error.code === "minutes_exhausted") return quota.seconds_remaining >= 1;
  if (error.code === "daily_limit_reached") return quota.daily_remaining_seconds == null || quota.daily_remaining_seconds >= 1;
  if (error.code === "sessions_exhausted") return quota.sessions_remaining == null || quota.sessions_remaining >= 1;
  return true;
}

function withError(state, code, message) {
  if (!code || code === "client_stop") return state;
  return { ...state, error: { code, message } };
}

function applyStatus(state, status) {
  if (!status) return state;
  const previous = state.status;
  let next = { ...state, status };
  if (state.pending === "confirming") next.pending = null;
  if (status.demo != null) next.provider = { ...(state.provider ?? { name: "demo" }), demo: status.demo };
  if (status.link === "streaming" && status.session_id && status.session_id !== state.session) next.session = status.session_id;
  if (typeof status.central_reachable === "boolean") next.centralReachable = status.central_reachable;
  if (LIVE_LINKS.has(status.link)) next.centralReachable = true;
  next = quotaProblem(next, status.quota_error);

  const wasLive = previous && LIVE_LINKS.has(previous.link);
  if (status.link === "stopped" && (wasLive || !previous)) {
    next.abnormalStop = Boolean(wasLive && status.stop_reason && status.stop_reason !== "client_stop");
    if (next.abnormalStop && state.error?.code !== status.stop_reason) next.error = { code: status.stop_reason, message: "" };
  }
  return next;
}

/** Why the edge could not read the quota (or null once it could). */
function quotaProblem(state, problem) {
  if (!problem) {
    if (!state.quotaProblem) return state;
    return { ...state, quotaProblem: null, error: state.error?.code === "central_unreachable" ? null : state.error };
  }
  if (state.quotaProblem === problem.code) return state;
  // Say it once per kind of problem: a dismissed message does not come back with every status.
  const next = { ...state, quotaProblem: problem.code };
  return isLive(next) ? next : withError(next, problem.code, problem.message);
}
