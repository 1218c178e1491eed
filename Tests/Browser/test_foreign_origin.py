"""A web page from another origin attacks the edge's local API in headless Chromium: no-cors
fetches with text/plain bodies (under several path spellings), form posts, WebSockets and a
hostile ALSA device name. Nothing may change: the edge stays idle (or keeps streaming), no
capture starts, central sees no session, no command runs.

Run with `make test-browser`, or `.build/browser-venv/bin/python -m unittest discover -s Tests/Browser -k foreign -v`.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import shutil
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import ADMIN_TOKEN, Central, Edge, Speech, http, make_driver

WAIT = 30

# Paths a lenient router might match to /api/translation/start or /stop. Chromium itself
# removes `/./` and `%2e` segments before sending; `//`, `%2F` and case reach the edge as written.
SPELLINGS = ["/api/translation/{}", "//api/translation/{}", "/api//translation/{}", "/./api/translation/{}",
             "/%2e/api/translation/{}", "/api%2Ftranslation%2F{}", "/API/translation/{}", "/api/translation/{}/"]

ATTACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Not the edge</title></head><body>
<iframe name="sink" hidden></iframe>
<form id="text-form" method="POST" enctype="text/plain" target="sink"
      action="EDGE//api/translation/ACTION"><input name='{"source_language":"en","target_language":"zh","device":"DEVICE_HTML","pad":"' value='"}'></form>
<form id="url-form" method="POST" target="sink" action="EDGE/api/translation/ACTION">
  <input name="source_language" value="en"><input name="target_language" value="zh"></form>
<script>
const edge = "EDGE";
const results = window.attackResults = {fetches: [], sockets: [], done: false};
const body = JSON.stringify({source_language: "en", target_language: "zh", device: "DEVICE"});
async function attack() {
  // Simple requests: no preflight, the answer is opaque but the request is sent.
  for (const spelling of SPELLINGS) {
    const url = edge + spelling.replace("{}", "ACTION");
    try {
      await fetch(url, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body});
      results.fetches.push(url + " sent");
    } catch (error) {
      results.fetches.push(url + " failed " + error);
    }
  }
  try { navigator.sendBeacon(edge + "//api/translation/ACTION", body); } catch (error) {}
  // WebSockets are not bound by CORS: the edge must refuse the upgrade itself.
  await Promise.all(["/ws", "//ws", "/ws/", "/WS"].map((path) => new Promise((resolve) => {
    const entry = {path, opened: false, messages: 0, closed: null};
    results.sockets.push(entry);
    const socket = new WebSocket(edge.replace("http", "ws") + path);
    socket.onopen = () => { entry.opened = true; };
    socket.onmessage = () => { entry.messages += 1; };
    socket.onclose = (event) => { entry.closed = event.code; resolve(); };
    setTimeout(() => { try { socket.close(); } catch (error) {} resolve(); }, 3000);
  })));
  document.getElementById("text-form").submit();
  await new Promise((resolve) => setTimeout(resolve, 500));
  document.getElementById("url-form").submit();
  await new Promise((resolve) => setTimeout(resolve, 500));
  results.done = true;
}
attack();
</script></body></html>
"""


class AttackerSite:
    """A second local HTTP server, on its own port: the attacker's origin."""

    def __init__(self, page: str):
        encoded = page.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/attack.html"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ForeignOrigin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.sync_web_bundle()
        cls.directory = harness.temporary_directory("browser-foreign-")
        cls.speech = Speech(cls.directory, repeats=1)
        (cls.directory / "central").mkdir()
        cls.central = Central(cls.directory / "central")

    @classmethod
    def tearDownClass(cls):
        cls.central.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def edge(self, name: str) -> Edge:
        edge = Edge(self.directory / name, self.central, self.central.create_license(minutes=60), self.speech.raw)
        self.addCleanup(edge.stop)
        return edge

    def run_attack(self, edge: Edge, action: str, marker: Path) -> dict:
        device = f"file:'|touch {marker}',raw"
        page = (ATTACK_PAGE.replace("SPELLINGS", json.dumps(SPELLINGS)).replace("EDGE", f"http://localhost:{edge.port}")
                .replace("ACTION", action).replace("DEVICE_HTML", device.replace("'", "&#39;")).replace("DEVICE", device))
        site = AttackerSite(page)
        self.addCleanup(site.stop)
        downloads = self.directory / "downloads"
        downloads.mkdir(exist_ok=True)
        driver = make_driver(downloads)
        self.addCleanup(driver.quit)
        driver.get(site.url)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not driver.execute_script("return window.attackResults && attackResults.done"):
            time.sleep(0.1)
        results = driver.execute_script("return window.attackResults")
        self.assertTrue(results and results["done"], f"the attack page did not finish: {results}")
        # The requests were really made (a blocked fetch would prove nothing).
        self.assertTrue(all(line.endswith(" sent") for line in results["fetches"]), results["fetches"])
        time.sleep(1.5)  # anything started would be connecting or capturing by now
        return results

    def live_sessions(self) -> list:
        status, body = http(f"{self.central.url}/v1/admin/sessions", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        self.assertEqual(status, 200, body)
        return body["sessions"]

    def assert_no_socket_opened(self, results: dict):
        for socket in results["sockets"]:
            self.assertFalse(socket["opened"], socket)
            self.assertEqual(socket["messages"], 0, socket)

    def test_a_foreign_page_cannot_start_a_translation(self):
        edge = self.edge("edge-idle")
        marker = self.directory / "ran-start"
        results = self.run_attack(edge, "start", marker)
        self.assertFalse(marker.exists(), "the device name ran a command")
        status = edge.status()
        self.assertEqual(status["link"], "idle", status)
        self.assertNotIn(status["audio"], ("starting", "capturing"), status)
        self.assertIsNone(status.get("session_id"), status)
        self.assert_no_socket_opened(results)
        self.assertEqual(self.live_sessions(), [])
        _, quota = http(f"{edge.api}/license/quota")
        self.assertEqual(quota["sessions_used"], 0, quota)
        self.assertEqual(quota["seconds_used"], 0, quota)

    def test_a_foreign_page_cannot_stop_a_running_translation(self):
        edge = self.edge("edge-streaming")
        status, body = edge.start()
        self.assertEqual(status, 202, body)
        self.addCleanup(lambda: http(f"{edge.api}/translation/stop", "POST"))
        harness.wait_until(lambda: edge.status()["link"] == "streaming", WAIT, "the edge streaming")
        session = edge.status()["session_id"]
        results = self.run_attack(edge, "stop", self.directory / "ran-stop")
        status = edge.status()
        self.assertEqual(status["link"], "streaming", status)
        self.assertEqual(status["session_id"], session, status)
        self.assert_no_socket_opened(results)
        self.assertEqual(len(self.live_sessions()), 1)


if __name__ == "__main__":
    unittest.main()
