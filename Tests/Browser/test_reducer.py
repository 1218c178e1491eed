"""The page's state reducer (Sources/EdgeAgent/Web/js/reducer.js) in headless Chromium, on its
own: the page's files from a plain static server, no edge, no central. Every input state and
message is deep-frozen, so a reducer that mutated what it was given would throw (modules are
strict).

Run with `make test-browser`, or `.build/browser-venv/bin/python -m unittest discover -s Tests/Browser -k reducer -v`.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
import unittest
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import harness

CHECKS = r"""
const done = arguments[arguments.length - 1];
import('/js/reducer.js').then((R) => {
  const failures = [];
  const freeze = (value) => {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
      Object.freeze(value);
      for (const key of Object.keys(value)) freeze(value[key]);
    }
    return value;
  };
  const run = (state, ...messages) => messages.reduce((s, m) => R.reduce(freeze(s), freeze(m)), state);
  const check = (name, actual, expected) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      failures.push(`${name}: ${JSON.stringify(actual)} !== ${JSON.stringify(expected)}`);
    }
  };
  const status = (fields) => ({ type: "state", status: { link: "idle", audio: "idle", browser_audio_available: true, ...fields } });
  const quota = (fields = {}, warning = "none") => ({ type: "quota", quota: {
    quota: { status: "active", seconds_used: 0, seconds_limit: 60, seconds_remaining: 60, concurrent_in_use: 0, concurrent_limit: 1, ...fields },
    warning } });
  const initial = R.initialState({ source: "en", target: "zh", device: null });
  try {
    check("initial wanted", initial.wanted, { source: "en", target: "zh", device: null });
    check("unknown messages change nothing", R.reduce(initial, { type: "transcript", result: {} }) === initial, true);

    // Status.
    let s = run(initial, status({ link: "streaming", session_id: "s1", demo: true, central_reachable: true }));
    check("status kept", s.status.link, "streaming");
    check("session from a streaming status", s.session, "s1");
    check("demo from the status", s.provider, { name: "demo", demo: true });
    check("state events counted", s.stateEvents, 1);
    check("live", R.isLive(s), true);
    check("central answers while streaming", s.centralReachable, true);
    check("reachability from the status", run(initial, status({ central_reachable: false })).centralReachable, false);
    check("unknown until said", run(initial, status({})).centralReachable, null);

    // The warning level is the edge's, never recomputed from the figures.
    s = run(initial, quota({ seconds_remaining: 5, seconds_used: 55 }, "none"));
    check("warning as pushed", s.warning, "none");
    check("quota kept", s.quota.seconds_remaining, 5);
    check("a quota means central answers", s.centralReachable, true);
    check("pushed level", run(initial, quota({}, "last_10_seconds")).warning, "last_10_seconds");
    check("a quota message without a quota changes nothing", R.reduce(initial, { type: "quota", quota: {} }) === initial, true);
    check("provider from the quota", run(initial, { type: "quota", quota: { ...quota().quota, provider: { name: "x", demo: false } } }).provider,
      { name: "x", demo: false });

    // Why the quota could not be read: said once per kind of problem, cleared when it can be.
    const unreachable = { code: "central_unreachable", message: "no answer" };
    s = run(initial, status({ central_reachable: false, quota_error: unreachable }));
    check("quota problem shown", s.error, unreachable);
    s = run(s, { type: "dismiss_error" }, status({ central_reachable: false, quota_error: unreachable }));
    check("not shown again after dismissing", s.error, null);
    s = run(s, status({ central_reachable: false, quota_error: { code: "license_not_found", message: "?" } }));
    check("a new kind of problem is shown", s.error?.code, "license_not_found");
    s = run(initial, status({ quota_error: unreachable }), status({ central_reachable: true }));
    check("central back: its message goes", s.error, null);
    check("central back: reachable", s.centralReachable, true);
    check("not while live", run(initial, status({ link: "streaming", session_id: "s", quota_error: unreachable })).error, null);

    // A session that stops.
    const live = run(initial, status({ link: "streaming", session_id: "s2" }));
    s = run(live, status({ link: "stopped", stop_reason: "minutes_exhausted" }));
    check("central's stop is explained", s.error, { code: "minutes_exhausted", message: "" });
    check("abnormal stop", s.abnormalStop, true);
    s = run(live, status({ link: "stopped", stop_reason: "client_stop" }));
    check("the user's own stop is no error", [s.error, s.abnormalStop], [null, false]);
    check("an old stop on load explains nothing", run(initial, status({ link: "stopped", stop_reason: "minutes_exhausted" })).abnormalStop, false);

    // Errors.
    check("an error is shown", run(initial, { type: "error", code: "concurrency_limit", message: "x" }).error,
      { code: "concurrency_limit", message: "x" });
    check("client_stop is not an error", run(initial, { type: "error", code: "client_stop", message: "" }).error, null);
    const late = { type: "error", code: "browser_audio_not_expected", message: "late audio" };
    check("late browser audio is ignored without a sending microphone", run(initial, late).error, null);
    const sending = run(initial, { type: "mic", active: true, sending: true });
    check("browser audio refused while sending is shown", run(sending, late).error?.code, "browser_audio_not_expected");
    check("but not while stopping", run(sending, { type: "pending", pending: "stopping" }, late).error, null);

    // A start the edge accepted waits for /ws to say so.
    s = run(initial, { type: "starting", chosen: { source: "en", target: "zh", device: "" } });
    const seen = s.stateEvents;
    check("accepted, /ws silent", run(s, { type: "start_accepted", seen }).pending, "confirming");
    check("accepted after /ws spoke", run(s, status({ link: "connecting" }), { type: "start_accepted", seen }).pending, null);
    check("/ws speaks after", run(s, { type: "start_accepted", seen }, status({ link: "connecting" })).pending, null);

    // The page's own.
    s = run(initial, { type: "socket_open" });
    check("socket open", [s.socketOpen, s.socketEverOpened], [true, true]);
    check("socket closed", run(s, { type: "socket_closed" }).socketOpen, false);
    check("page_offline goes when the socket is back",
      run(initial, { type: "show_error", code: "page_offline", message: "" }, { type: "socket_open" }).error, null);
    check("choices", run(initial, { type: "choice", key: "device", value: "browser" }).wanted.device, "browser");
    const missing = run(initial, status({ link: "streaming", session_id: "s", audio: "no_device", audio_message: "cannot open" }));
    check("edge microphone missing", R.edgeMicMissing(missing), true);
    check("not when the browser's is in use", R.edgeMicMissing(run(missing, { type: "mic", active: true, sending: true })), false);

    // A "cannot stream" message goes once the quota says the license can stream again (the
    // vendor topped up, approved a request, resumed it), and only then.
    const exhausted = run(initial, { type: "error", code: "minutes_exhausted", message: "" });
    check("still exhausted", run(exhausted, quota({ seconds_remaining: 0, blocked_by: "minutes_exhausted", can_stream: false })).error?.code, "minutes_exhausted");
    check("a last fraction of a second is not more minutes",
      run(exhausted, quota({ seconds_remaining: 0.2, can_stream: true })).error?.code, "minutes_exhausted");
    check("topped up", run(exhausted, quota({ seconds_remaining: 1800, can_stream: true })).error, null);
    const suspended = run(initial, { type: "error", code: "license_suspended", message: "" });
    check("suspended while still blocked", run(suspended, quota({ status: "suspended", blocked_by: "license_suspended", can_stream: false })).error?.code, "license_suspended");
    check("resumed", run(suspended, quota({ can_stream: true })).error, null);
    check("not while the status says otherwise", run(suspended, quota({ status: "suspended", can_stream: true })).error?.code, "license_suspended");
    const noSessions = run(initial, { type: "error", code: "sessions_exhausted", message: "" });
    check("sessions still used up", run(noSessions, quota({ sessions_remaining: 0, can_stream: true })).error?.code, "sessions_exhausted");
    check("more sessions", run(noSessions, quota({ sessions_remaining: 5, can_stream: true })).error, null);
    const daily = run(initial, { type: "error", code: "daily_limit_reached", message: "" });
    check("daily cap still reached", run(daily, quota({ daily_remaining_seconds: 0.1, can_stream: true })).error?.code, "daily_limit_reached");
    check("a new day", run(daily, quota({ daily_remaining_seconds: 600, can_stream: true })).error, null);
    const other = run(initial, { type: "error", code: "provider_unavailable", message: "" });
    check("other messages stay", run(other, quota({ can_stream: true })).error?.code, "provider_unavailable");
  } catch (error) {
    failures.push(`threw: ${error && error.stack || error}`);
  }
  done(failures);
}).catch((error) => done([`import failed: ${error}`]));
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Reducer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        handler = functools.partial(QuietHandler, directory=str(harness.WEB_SOURCES))
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.directory = harness.temporary_directory("browser-reducer-")

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_reducer_is_pure_and_takes_the_edges_word(self):
        driver = harness.make_driver(self.directory)
        self.addCleanup(driver.quit)
        # Any document of that origin can import the module; this one runs no page script.
        driver.get(f"http://127.0.0.1:{self.server.server_port}/css/app.css")
        failures = driver.execute_async_script(CHECKS)
        self.assertEqual(failures, [], json.dumps(failures, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    unittest.main(verbosity=2)
