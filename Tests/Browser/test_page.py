"""The edge's page in headless Chromium against a real central (demo provider) and real edge
agents whose microphone is espeak-ng speech through an ALSA file device.

Run with `make test-browser` (or `.build/browser-venv/bin/python -m unittest discover -s Tests/Browser -v`
after scripts/install-browser-deps.sh). Screenshots land in .build/browser-screenshots/.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
import unittest
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import harness
from harness import Central, Edge, Speech, http, make_driver, screenshot

WAIT = 30  # seconds; generous for a loaded 2-core machine
EXHAUST_WAIT = 120

EN_EXHAUSTED = "No minutes are left on this license. Contact your vendor to add more."
EN_CONCURRENCY = "Another device is streaming with this license right now."


class PageTestCase(unittest.TestCase):
    central: Central
    speech: Speech
    directory: Path

    @classmethod
    def setUpClass(cls):
        harness.sync_web_bundle()
        cls.directory = harness.temporary_directory("browser-tests-")
        cls.speech = Speech(cls.directory)
        (cls.directory / "central").mkdir()
        cls.central = Central(cls.directory / "central")

    @classmethod
    def tearDownClass(cls):
        cls.central.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    # Helpers

    def edge(self, key: str, **options) -> Edge:
        name = f"edge-{len(list(self.directory.glob('edge-*')))}"
        edge = Edge(self.directory / name, self.central, key, options.pop("raw", self.speech.raw), **options)
        self.addCleanup(edge.stop)
        self._edges = getattr(self, "_edges", []) + [edge]
        return edge

    def browser(self, **options):
        downloads = self.directory / f"downloads-{self._testMethodName}"
        downloads.mkdir(exist_ok=True)
        driver = make_driver(downloads, **options)
        self.downloads = downloads
        self.driver = driver
        self.addCleanup(driver.quit)
        self.addCleanup(self._diagnose)
        return driver

    def open_page(self, edge: Edge, **options):
        driver = self.browser(**options)
        driver.get(edge.url)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "connected", "the page's /ws connection")
        return driver

    def wait_for(self, condition, what: str, timeout: float = WAIT):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition, f"waiting for {what}")

    def by_id(self, element_id: str):
        return self.driver.find_element(By.ID, element_id)

    def text(self, element_id: str) -> str:
        return self.by_id(element_id).text.strip()

    def wait_text(self, element_id: str, expected, what: str | None = None, timeout: float = WAIT):
        def matches(_):
            value = self.text(element_id)
            return value if (expected.search(value) if isinstance(expected, re.Pattern) else value == expected) else False
        return self.wait_for(matches, what or f"#{element_id} to read {expected!r}", timeout)

    def seconds_remaining(self) -> float:
        return float(self.by_id("minutes-remaining").get_attribute("data-seconds") or "nan")

    def _failed(self) -> bool:
        result = getattr(self._outcome, "result", None)
        return any(test is self for test, _ in (getattr(result, "errors", []) + getattr(result, "failures", [])))

    def _diagnose(self):
        if not self._failed():
            return
        try:
            screenshot(self.driver, f"failed-{self._testMethodName}")
            print(f"\n--- page state ---\n{self.driver.execute_script('return window.speechEdgePage && speechEdgePage.state()')}", file=sys.stderr)
            log = self.driver.execute_script("return (window.__wsLog || []).filter(l => !l.includes(' level')).slice(-25)")
            print("--- page traffic (s since load) ---\n" + "\n".join(log), file=sys.stderr)
            logs = self.driver.get_log("browser")
            if logs:
                print(f"\n--- browser console ({self._testMethodName}) ---", file=sys.stderr)
                for entry in logs[-30:]:
                    print(f"{entry['level']}: {entry['message']}", file=sys.stderr)
        except Exception as error:  # the browser may be gone
            print(f"(no browser diagnostics: {error})", file=sys.stderr)
        for edge in getattr(self, "_edges", []):
            try:
                status = edge.status()
            except Exception as error:
                status = f"(no status: {error})"
            print(f"--- {edge.process.log}: status {status} ---\n{edge.process.tail()}", file=sys.stderr)

    def start_with_keyboard(self):
        """Press Start the way a keyboard user does: focus it and press Enter."""
        start = self.by_id("start")
        self.wait_for(lambda _: start.is_enabled(), "Start to be enabled")
        self.driver.execute_script("arguments[0].focus()", start)
        start.send_keys(Keys.ENTER)

    def choose(self, element_id: str, value: str):
        Select(self.by_id(element_id)).select_by_value(value)

    def final_lines(self, list_id: str) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li.line.final .text")]

    def assert_state_only_from_the_socket(self):
        """The page asks the local API for catalogs and to start or stop, never for state /ws carries."""
        fetched = self.driver.execute_script("return (window.__wsLog || []).filter(l => l.includes(' fetch /api/'))")
        self.assertEqual([line for line in fetched if "/api/status" in line or "/api/license/quota" in line], [], fetched)


class IdleAndStreaming(PageTestCase):
    def test_idle_page_shows_the_quota(self):
        edge = self.edge(self.central.create_license(minutes=60, sessions=10, days=7, concurrent=1))
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.assertEqual(self.text("minutes-total"), "of 60 min")
        self.assertEqual(self.text("sessions-left"), "10 of 10")
        self.assertRegex(self.text("expires-in"), r"^(6 d 23 h|7 d 0 h)$")
        self.assertEqual(self.text("concurrency"), "0 of 1")
        self.wait_text("central-state", "Ready")
        self.assertEqual(self.text("license-state"), "Active")
        self.assertEqual(self.by_id("minutes-bar").get_attribute("aria-valuenow"), "100")
        self.assertTrue(self.by_id("start").is_enabled())
        self.assertFalse(self.by_id("stop").is_enabled())
        self.assertTrue(self.by_id("warning").get_attribute("hidden"))
        self.assertTrue(self.by_id("alert").get_attribute("hidden"))
        sources = [o.get_attribute("value") for o in Select(self.by_id("source-language")).options]
        self.assertIn("zh", sources)
        self.assertIn("en", sources)
        self.assertEqual(self.text("transcript-heading"), "Transcript")
        self.assertEqual(self.text("transcript-lines"), "Press Start and speak. The transcript appears here.")
        screenshot(self.driver, "idle")
        self.assert_state_only_from_the_socket()

    def test_a_license_that_cannot_stream_says_why_before_start(self):
        # The quota says "active"-or-not and, since central reports it, why it cannot stream.
        created = self.central.create_license_record(minutes=60)
        self.central.license_action("suspend", created["license"]["id"])
        edge = self.edge(created["key"])
        self.open_page(edge)
        self.wait_for(lambda _: not self.by_id("warning").get_attribute("hidden"), "the blocked-license warning")
        self.assertTrue(self.text("warning").startswith("This license is suspended"), self.text("warning"))

    def test_daily_cap_is_shown(self):
        edge = self.edge(self.central.create_license(minutes=120, daily_minutes=30, sessions=5))
        self.open_page(edge)
        self.wait_text("minutes-remaining", "120 min")
        self.assertEqual(self.text("daily-remaining"), "Today: 30 min left of 30 min")
        self.assertEqual(self.text("sessions-left"), "5 of 5")

    def test_streaming_shows_transcript_translation_level_and_ticking_minutes(self):
        edge = self.edge(self.central.create_license(minutes=60, concurrent=1))
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.choose("source-language", "en")
        self.choose("target-language", "zh")
        # Remember whether interim text ever appeared, and how it looked next to final text.
        driver.execute_script("""
            window.__interim = null;
            new MutationObserver(() => {
              const interim = document.querySelector('#transcript-lines .line.interim .text');
              if (interim && !window.__interim) {
                const style = getComputedStyle(interim);
                window.__interim = {fontStyle: style.fontStyle, color: style.color, text: interim.textContent};
              }
            }).observe(document.getElementById('transcript-lines'), {subtree: true, childList: true, attributes: true, characterData: true});
        """)
        self.start_with_keyboard()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "streaming", "streaming")
        self.wait_text("central-state", "Streaming")
        self.assertTrue(self.by_id("stop").is_enabled())
        self.assertFalse(self.by_id("start").is_enabled())
        self.assertFalse(self.by_id("source-language").is_enabled(), "languages are locked while streaming")

        # Minutes tick down while audio streams.
        first = self.wait_for(lambda _: (s := self.seconds_remaining()) < 3600 and s, "a first quota push")
        first_text = self.text("minutes-remaining")
        self.wait_for(lambda _: self.seconds_remaining() <= first - 2, "the minutes to tick down by 2 s")
        self.assertNotEqual(self.text("minutes-remaining"), first_text)
        self.assertEqual(self.text("concurrency"), "1 of 1")
        self.assertRegex(self.text("sessions-left"), r"^9 of \d+$")

        # Transcript and translation lines from the demo provider.
        self.wait_for(lambda _: any("[demo] speech" in t for t in self.final_lines("transcript-lines")), "a final transcript line")
        self.wait_for(lambda _: any("[demo] translation to zh" in t for t in self.final_lines("translation-lines")), "a final translation line")
        interim = driver.execute_script("return window.__interim")
        self.assertIsNotNone(interim, "interim text was never shown")
        self.assertIn("[demo] listening", interim["text"])
        final_text = driver.find_element(By.CSS_SELECTOR, "#transcript-lines li.line.final .text")
        final_style = driver.execute_script("const s = getComputedStyle(arguments[0]); return {fontStyle: s.fontStyle, color: s.color}", final_text)
        self.assertEqual(interim["fontStyle"], "italic")
        self.assertEqual(final_style["fontStyle"], "normal")
        self.assertNotEqual(interim["color"], final_style["color"])
        # New final sentences are announced in a polite live region.
        self.assertIn("Transcript: [demo] speech", driver.execute_script("return document.getElementById('announcer').textContent"))

        # The level meter moves and the demo badge shows.
        self.wait_for(lambda _: float(self.by_id("level").get_attribute("aria-valuenow")) > -60, "the level meter to move")
        self.assertTrue(self.by_id("demo-badge").is_displayed())
        # Wait for a second sentence so the screenshot shows a session in progress.
        self.wait_for(lambda _: len(self.final_lines("transcript-lines")) >= 2, "a second final sentence")
        screenshot(driver, "streaming")

        self.by_id("stop").click()
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start to come back after Stop")
        self.assertFalse(self.by_id("stop").is_enabled())
        self.assertTrue(self.by_id("alert").get_attribute("hidden"), "a user's own stop is not an error")
        # The settled quota after the session comes over /ws too.
        self.wait_for(lambda _: self.text("concurrency") == "0 of 1", "the settled quota after the stop")
        self.assert_state_only_from_the_socket()

        # Copy and downloads.
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": edge.url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.by_id("copy").click()
        self.wait_text("toolbar-note", "Copied the session to the clipboard.")
        clipboard = driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], e => arguments[0]('ERR ' + e))")
        self.assertIn("[demo] speech", clipboard)
        self.assertIn("[demo] translation to zh", clipboard)

        self.by_id("download-srt").click()
        srt = self.downloaded(".srt")
        self.assertRegex(srt, r"^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\[demo\] (speech|listening)")
        self.assertIn("[demo] translation to zh of speech", srt)
        cues = re.findall(r"(?m)^(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})$", srt)
        self.assertGreaterEqual(len(cues), 2)
        for cue in cues:
            start = int(cue[1]) * 3600000 + int(cue[2]) * 60000 + int(cue[3]) * 1000 + int(cue[4])
            end = int(cue[5]) * 3600000 + int(cue[6]) * 60000 + int(cue[7]) * 1000 + int(cue[8])
            self.assertLess(start, end)
        self.by_id("download-txt").click()
        txt = self.downloaded(".txt")
        self.assertIn("Speech Edge session", txt)
        self.assertRegex(txt, r"\[\d\d:\d\d\] \[demo\] speech")

    def test_slow_http_answers_do_not_undo_newer_state(self):
        # The start and stop answers carry a status snapshot; when /ws already said more, the
        # snapshot must not take the page back (a real race: the page stayed on "streaming").
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        driver.execute_script("""
            const nativeFetch = window.fetch;
            window.fetch = (url, ...rest) => nativeFetch(url, ...rest).then((response) =>
              String(url).includes('/api/translation/') ? new Promise((r) => setTimeout(() => r(response), 1500)) : response);
        """)
        self.start_with_keyboard()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "streaming", "streaming")
        time.sleep(2)  # the delayed start answer (status "connecting") lands meanwhile
        self.assertEqual(driver.find_element(By.TAG_NAME, "body").get_attribute("data-link"), "streaming")
        self.by_id("stop").click()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "stopped", "stopped")
        time.sleep(2)  # the delayed stop answer (status "streaming") lands meanwhile
        self.assertEqual(driver.find_element(By.TAG_NAME, "body").get_attribute("data-link"), "stopped")
        self.assertTrue(self.by_id("start").is_enabled())

    def downloaded(self, suffix: str) -> str:
        # Chrome reserves the name with an empty file and writes to a .crdownload beside it.
        def complete(_):
            if any(self.downloads.glob("*.crdownload")):
                return None
            return next((p for p in self.downloads.glob(f"*{suffix}") if p.stat().st_size > 0), None)
        path = self.wait_for(complete, f"a {suffix} download")
        return path.read_bytes().decode("utf-8").lstrip("\ufeff")

    def test_auto_scroll_follows_and_pauses_while_the_reader_scrolls(self):
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge, width=1280, height=800)
        feed = """
            const [from, to] = arguments;
            for (let i = from; i < to; i++) {
              speechEdgePage.handleEvent({type: 'transcript', result: {sentence_id: i, final: true, start_ms: i * 1000, end_ms: i * 1000 + 800, text: 'Sentence number ' + i, language: 'en'}});
            }
        """
        scroller = self.by_id("transcript-scroll")
        at_end = "const s = arguments[0]; return s.scrollHeight - s.scrollTop - s.clientHeight < 4"
        driver.execute_script(feed, 1, 60)
        self.assertTrue(driver.execute_script(at_end, scroller), "the pane follows new text")
        self.assertTrue(self.by_id("transcript-jump").get_attribute("hidden"))
        # The reader scrolls up: new text must not pull the view back down.
        scroller.click()
        scroller.send_keys(Keys.HOME)
        self.wait_for(lambda _: driver.execute_script("return arguments[0].scrollTop", scroller) == 0, "the reader's scroll")
        driver.execute_script(feed, 60, 70)
        self.assertEqual(driver.execute_script("return arguments[0].scrollTop", scroller), 0)
        jump = self.by_id("transcript-jump")
        self.wait_for(lambda _: jump.is_displayed(), "the jump-to-latest button")
        jump.click()
        self.wait_for(lambda _: driver.execute_script(at_end, scroller), "the pane to follow again")
        driver.execute_script(feed, 70, 75)
        self.assertTrue(driver.execute_script(at_end, scroller))
        self.assertIn("Sentence number 74", self.final_lines("transcript-lines")[-1])


class Trouble(PageTestCase):
    def test_unknown_license_key_is_explained_on_load(self):
        edge = self.edge("TRIAL-00000000-11111111-22222222-33333333")
        self.open_page(edge)
        self.wait_for(lambda _: self.by_id("alert").get_attribute("data-code") == "license_not_found", "the unknown-key message")
        self.assertTrue(self.text("alert-text").startswith("The edge's license key is not known to the vendor."), self.text("alert-text"))

    def test_unreachable_central_is_explained_on_load(self):
        dead = f"http://localhost:{harness.free_port()}"
        edge = Edge(self.directory / "edge-dead-central", dead, "TRIAL-00000000-11111111-22222222-33333333", self.speech.raw)
        self.addCleanup(edge.stop)
        self._edges = [edge]
        self.open_page(edge)
        self.wait_text("central-state", "Unreachable")
        self.wait_for(lambda _: self.by_id("alert").get_attribute("data-code") == "central_unreachable", "the unreachable message")
        self.assertIn("cannot reach the vendor's server", self.text("alert-text"))
        screenshot(self.driver, "central-unreachable")

    def test_missing_edge_microphone_is_explained_and_the_browser_offered(self):
        edge = self.edge(self.central.create_license(minutes=60), raw=None, audio_device="hw:NoSuchCard,0")
        status = wait_for_status(edge, lambda s: s.get("alsa_available") is False)
        self.assertIs(status.get("alsa_available"), False, f"edge-agent does not report ALSA availability: {status}")
        self.open_page(edge)
        self.wait_for(lambda _: self.by_id("browser-mic-offer").is_displayed(), "the browser-microphone offer")
        # Starting with the edge's own (missing) microphone anyway says what to do.
        self.choose("device", "")
        self.start_with_keyboard()
        self.wait_for(lambda _: self.by_id("alert").get_attribute("data-code") == "no_device", "the no-device message")
        self.assertTrue(self.text("alert-text").startswith("The edge cannot open its microphone (cannot open capture device"), self.text("alert-text"))
        self.assertIn("use this browser's microphone", self.text("alert-text"))
        self.by_id("stop").click()
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start again")

    def test_the_page_reconnects_when_the_edge_restarts(self):
        key = self.central.create_license(minutes=60)
        edge = self.edge(key)
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        edge.stop()
        self.wait_for(lambda _: self.by_id("chip-page").is_displayed(), "the disconnected chip")
        self.assertFalse(self.by_id("start").is_enabled())
        self.wait_text("state-line", re.compile("Lost the connection to the edge agent"))
        restarted = self.edge(key, port=edge.port)
        self.assertEqual(restarted.port, edge.port)
        self.wait_for(lambda _: not self.by_id("chip-page").is_displayed(), "the page to reconnect", 45)
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start again")


class Exhaustion(PageTestCase):
    def test_warnings_then_exhausted_message_when_the_license_runs_out(self):
        edge = self.edge(self.central.create_license(minutes=0.25, concurrent=1))  # 15 s
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "15 s")
        # Under a minute from the start: the last-minute warning shows on load.
        self.wait_for(lambda _: self.by_id("warning").is_displayed(), "the last-minute warning")
        self.assertEqual(self.by_id("warning").get_attribute("data-level"), "last_60_seconds")
        self.choose("source-language", "en")
        self.choose("target-language", "zh")
        self.start_with_keyboard()
        self.wait_for(lambda _: any("[demo] speech" in t for t in self.final_lines("transcript-lines")), "a transcript line")
        # The warning sits above the panes and never covers the text.
        warning = self.by_id("warning").rect
        panes = self.by_id("panes").rect
        self.assertLessEqual(warning["y"] + warning["height"], panes["y"])
        self.assertIn("Less than a minute left", self.text("warning"))

        self.wait_for(lambda _: self.by_id("alert").get_attribute("data-code") == "minutes_exhausted" and self.by_id("alert").is_displayed(),
                      "the exhausted message", EXHAUST_WAIT)
        self.assertEqual(self.text("alert-text"), EN_EXHAUSTED)
        self.wait_text("minutes-remaining", "0 s")
        self.assertEqual(self.by_id("warning").get_attribute("data-level"), "exhausted")
        self.assertEqual(self.text("license-state"), "No minutes left")
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start to be available again")
        self.assertTrue(self.final_lines("transcript-lines"), "the text stays after the stop")
        screenshot(driver, "exhausted")

        # Trying again is refused by central with the same plain sentence.
        self.by_id("alert-dismiss").click()
        self.by_id("start").click()
        self.wait_for(lambda _: self.by_id("alert").is_displayed(), "the refusal")
        self.assertEqual(self.by_id("alert").get_attribute("data-code"), "minutes_exhausted")
        self.assertEqual(self.text("alert-text"), EN_EXHAUSTED)
        # Re-reading the quota after the stop must not bring back a stale "seconds left".
        time.sleep(2)
        self.assertEqual(self.by_id("warning").get_attribute("data-level"), "exhausted")
        self.assertEqual(self.text("minutes-remaining"), "0 s")
        # A page opened afterwards says the same.
        driver.refresh()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "connected", "the page again")
        self.wait_text("license-state", "No minutes left")
        self.assertEqual(self.text("minutes-remaining"), "0 s")
        self.assertEqual(self.by_id("warning").get_attribute("data-level"), "exhausted")
        self.assertEqual(self.text("warning"), "No minutes left on this license. Contact your vendor to add more.")

    def test_concurrency_limit_says_another_device_is_streaming(self):
        key = self.central.create_license(minutes=60, concurrent=1, devices=2)
        busy = self.edge(key)
        status, body = busy.start()
        self.assertEqual(status, 202, body)
        self.addCleanup(lambda: http(f"{busy.api}/translation/stop", "POST"))
        edge = self.edge(key)
        self.open_page(edge)
        self.start_with_keyboard()
        self.wait_for(lambda _: self.by_id("alert").get_attribute("data-code") == "concurrency_limit", "the concurrency refusal")
        self.assertTrue(self.text("alert-text").startswith(EN_CONCURRENCY), self.text("alert-text"))
        self.assertTrue(self.by_id("start").is_enabled())

    def test_pushed_warning_levels_are_shown(self):
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        quota = driver.execute_script("return speechEdgePage.state().quota")
        for level, used, expected in (
            ("used_80_percent", 2900, "80 % of the minutes are used — 11 min 40 s left."),
            ("used_95_percent", 3450, "95 % of the minutes are used — only 2 min 30 s left."),
            ("last_60_seconds", 3570, "Less than a minute left (30 s)."),
        ):
            pushed = dict(quota, seconds_used=used, seconds_remaining=3600 - used)
            driver.execute_script("speechEdgePage.handleEvent({type: 'quota', quota: {quota: arguments[0], warning: arguments[1]}})", pushed, level)
            self.wait_for(lambda _: self.by_id("warning").get_attribute("data-level") == level, level)
            self.assertTrue(self.text("warning").startswith(expected), self.text("warning"))
            self.assertTrue(self.by_id("transcript-lines").is_displayed())


class DashScopeProvider(PageTestCase):
    """The same page with central relaying to DashScope (the fake-dashscope process): real
    provider results, no demo badge."""

    @classmethod
    def setUpClass(cls):
        harness.sync_web_bundle()
        cls.directory = harness.temporary_directory("browser-dashscope-")
        cls.speech = Speech(cls.directory)
        key = "sk-browser-test-0123456789"
        cls.fake = harness.FakeProvider("fake-dashscope", cls.directory / "fake", [key])
        (cls.directory / "central").mkdir()
        cls.central = Central(cls.directory / "central", {
            "SPEECH_PROVIDER": "dashscope",
            "DASHSCOPE_URL": cls.fake.url,
            "DASHSCOPE_API_KEYS": key,
            "PROVIDER_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        })

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stop()

    def test_dashscope_results_stream_into_the_panes(self):
        edge = self.edge(self.central.create_license(minutes=60, concurrent=1))
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.choose("source-language", "en")
        self.choose("target-language", "zh")
        self.start_with_keyboard()
        self.wait_for(lambda _: any(t.startswith("[fake] segment") for t in self.final_lines("transcript-lines")), "a DashScope transcript line")
        self.wait_for(lambda _: any(t.startswith("[fake en→zh]") for t in self.final_lines("translation-lines")), "a DashScope translation line")
        self.assertFalse(self.by_id("demo-badge").is_displayed(), "DashScope is not the demo")
        self.wait_for(lambda _: self.seconds_remaining() < 3600, "the minutes to tick down")
        screenshot(self.driver, "dashscope")


class RecognitionOnlyProviders(PageTestCase):
    """The page with central relaying to Deepgram and to OpenAI Realtime transcription (their
    fakes), each translated by the LLM upstream (fake-llm): transcripts from the provider,
    translations from the LLM, in the same panes as Gummy's."""

    @classmethod
    def setUpClass(cls):
        harness.sync_web_bundle()
        cls.directory = harness.temporary_directory("browser-providers-")
        cls.speech = Speech(cls.directory)
        cls.fakes = {
            "deepgram": harness.FakeProvider("fake-deepgram", cls.directory / "deepgram", ["dg-browser-key"]),
            "openai": harness.FakeProvider("fake-openai-realtime", cls.directory / "openai", ["sk-browser-openai"]),
            "llm": harness.FakeProvider("fake-llm", cls.directory / "llm", ["sk-browser-llm"]),
        }
        (cls.directory / "central").mkdir()
        cls.central = Central(cls.directory / "central", {
            "SPEECH_PROVIDER": "", "SPEECH_PROVIDERS": "deepgram,openai",
            "DEEPGRAM_URL": cls.fakes["deepgram"].url, "DEEPGRAM_API_KEYS": "dg-browser-key",
            "OPENAI_REALTIME_URL": cls.fakes["openai"].url, "OPENAI_API_KEYS": "sk-browser-openai",
            "TRANSLATION_URL": cls.fakes["llm"].url, "TRANSLATION_API_KEYS": "sk-browser-llm",
            "CHAT_UPSTREAMS": f"fake={cls.fakes['llm'].url}", "CHAT_FAKE_API_KEYS": "sk-browser-llm",
            "PROVIDER_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        })

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        for fake in cls.fakes.values():
            fake.stop()

    def stream_with(self, provider):
        edge = self.edge(self.central.create_license(minutes=60, concurrent=1, provider=provider))
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.choose("source-language", "en")
        self.choose("target-language", "zh")
        self.start_with_keyboard()
        self.wait_for(lambda _: any(t.startswith("[fake] segment") for t in self.final_lines("transcript-lines")), f"a {provider} transcript line")
        self.wait_for(lambda _: any(t.startswith("[fake-llm] [fake] segment") for t in self.final_lines("translation-lines")), "an LLM translation line")
        self.assertFalse(self.by_id("demo-badge").is_displayed())
        screenshot(self.driver, provider)

    def test_deepgram_with_llm_translation(self):
        self.stream_with("deepgram")

    def test_openai_realtime_with_llm_translation(self):
        self.stream_with("openai")

    def test_chat_usage_shows_on_the_quota_card(self):
        # A license with speech minutes and chat quotas: the card shows both, the chat part with
        # what central's chat proxy metered (one real completion through it, fake-llm upstream).
        chat = {"models": {"deepseek-chat": "fake/deepseek-chat"}, "requests_per_day": 50,
                "tokens_per_day": 100000, "requests_per_minute": 10, "time_zone": "Asia/Shanghai"}
        key = self.central.create_license(minutes=60, concurrent=1, chat=json.dumps(chat))
        status, answer = harness.http(f"{self.central.url}/v1/chat/completions", "POST",
                                      {"model": "deepseek-chat", "messages": [{"role": "user", "content": "Hello there."}]},
                                      {"Authorization": f"Bearer {key}"})
        self.assertEqual(status, 200, answer)
        tokens = answer["usage"]["total_tokens"]
        self.assertGreater(tokens, 0)
        edge = self.edge(key)
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.wait_for(lambda _: not self.by_id("chat-quota").get_attribute("hidden"), "the chat part of the quota card")
        self.assertEqual(self.text("chat-heading"), "Chat API")
        self.assertEqual(self.text("chat-requests"), "1 of 50")
        self.assertEqual(self.text("chat-tokens-today"), f"{tokens:,} of 100,000")
        self.assertEqual(self.text("chat-tokens-total"), f"{tokens:,}")
        self.assertEqual(self.text("chat-models"), "deepseek-chat")
        # Midnight where the plan's day turns, said in that zone.
        self.assertRegex(self.text("chat-resets"), r"again \w{3} \d{1,2}, \d{4}, 12:00\sAM \(Asia/Shanghai\)\.")
        self.assertIn("At most 10 requests a minute.", self.text("chat-resets"))
        screenshot(self.driver, "chat-quota")
        self.driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='zh']").click()
        self.wait_text("chat-heading", "对话 API")
        self.wait_text("chat-requests", "1 / 50")
        self.assertIn("（Asia/Shanghai）", self.text("chat-resets"))
        screenshot(self.driver, "chat-quota-zh")

    def test_a_speech_only_license_shows_no_chat_part(self):
        edge = self.edge(self.central.create_license(minutes=60, concurrent=1))
        self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        self.assertTrue(self.by_id("chat-quota").get_attribute("hidden"))


class Chinese(PageTestCase):
    def test_chinese_interface_is_remembered(self):
        edge = self.edge(self.central.create_license(minutes=60, sessions=10))
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        zh = driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='zh']")
        self.assertEqual(zh.get_attribute("aria-pressed"), "false")
        zh.click()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "lang=zh-CN")
        self.assertEqual(zh.get_attribute("aria-pressed"), "true")
        self.assertEqual(self.text("quota-heading"), "额度")
        self.assertEqual(self.text("start"), "开始")
        self.assertEqual(self.text("minutes-remaining"), "60 分钟")
        self.assertEqual(self.text("minutes-total"), "共 60 分钟")
        self.assertEqual(self.text("sessions-left"), "10 / 10")
        self.assertEqual(self.text("central-state"), "就绪")

        driver.refresh()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "connected", "the page again")
        self.wait_text("minutes-remaining", "60 分钟")
        self.assertEqual(driver.find_element(By.TAG_NAME, "html").get_attribute("lang"), "zh-CN")
        self.assertEqual(self.text("controls-heading"), "会话")

        self.choose("source-language", "zh")
        self.choose("target-language", "en")
        self.start_with_keyboard()
        self.wait_text("state-line", "正在聆听，请说话。")
        self.wait_for(lambda _: any("[demo] translation to en" in t for t in self.final_lines("translation-lines")), "a translation line")
        self.wait_for(lambda _: len(self.final_lines("transcript-lines")) >= 2, "a second final sentence")
        screenshot(driver, "zh")
        self.by_id("stop").click()
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start again")
        # Errors speak Chinese too.
        driver.execute_script("speechEdgePage.handleEvent({type: 'error', code: 'concurrency_limit', message: 'x'})")
        self.assertTrue(self.text("alert-text").startswith("另一台设备正在使用此许可证"), self.text("alert-text"))
        driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='en']").click()
        self.assertTrue(self.text("alert-text").startswith(EN_CONCURRENCY))


class Accessibility(PageTestCase):
    def test_narrow_screen_360_px(self):
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge, width=360, height=780)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
        self.wait_text("minutes-remaining", "60 min")
        self.assertEqual(driver.execute_script("return window.innerWidth"), 360)
        overflow = driver.execute_script("return document.documentElement.scrollWidth")
        self.assertLessEqual(overflow, 360, "no sideways scrolling at 360 px")
        for element_id in ("start", "stop", "source-language", "target-language", "device", "transcript-scroll", "translation-scroll", "download-srt"):
            rect = self.by_id(element_id).rect
            self.assertGreaterEqual(rect["x"], 0, element_id)
            self.assertLessEqual(rect["x"] + rect["width"], 360, element_id)
        screenshot(driver, "narrow-360")
        driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='zh']").click()
        self.wait_text("minutes-remaining", "60 分钟")
        self.assertLessEqual(driver.execute_script("return document.documentElement.scrollWidth"), 360)
        screenshot(driver, "narrow-360-zh")

    def test_controls_are_labelled_keyboard_operable_and_readable(self):
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        unlabelled = driver.execute_script("""
            const out = [];
            for (const el of document.querySelectorAll('select, button, input, [role=meter], [tabindex="0"]')) {
              const named = (el.labels && el.labels.length && el.labels[0].textContent.trim())
                || el.getAttribute('aria-label') || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby')).textContent.trim())
                || el.textContent.trim();
              if (!named) out.push(el.id || el.outerHTML.slice(0, 60));
            }
            return out;
        """)
        self.assertEqual(unlabelled, [])
        self.assertEqual(self.by_id("announcer").get_attribute("aria-live"), "polite")
        self.assertEqual(self.by_id("alert").get_attribute("role"), "alert")

        # Tab reaches every control in a sensible order.
        body = driver.find_element(By.TAG_NAME, "body")
        driver.execute_script("document.activeElement.blur()")
        seen = []
        for _ in range(30):
            body.send_keys(Keys.TAB) if not seen else driver.switch_to.active_element.send_keys(Keys.TAB)
            seen.append(driver.switch_to.active_element.get_attribute("id") or driver.switch_to.active_element.get_attribute("data-lang") or "?")
        order = [x for x in ("source-language", "target-language", "device", "start", "transcript-scroll", "translation-scroll", "copy") if x in seen]
        self.assertEqual(order, ["source-language", "target-language", "device", "start", "transcript-scroll", "translation-scroll", "copy"], seen)
        self.assertIn("zh", seen, "the language toggle is reachable")
        # Switch the language with the keyboard.
        zh = driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='zh']")
        driver.execute_script("arguments[0].focus()", zh)
        zh.send_keys(Keys.SPACE)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "zh by keyboard")
        driver.find_element(By.CSS_SELECTOR, ".lang-toggle button[data-lang='en']").send_keys(Keys.ENTER)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "en by keyboard")

        # Text contrast (WCAG AA 4.5:1) for the page's text styles, including interim text,
        # alerts and warnings.
        driver.execute_script("""
            speechEdgePage.handleEvent({type: 'transcript', result: {sentence_id: 1, final: true, start_ms: 0, end_ms: 900, text: 'Final words', language: 'en'}});
            speechEdgePage.handleEvent({type: 'transcript', result: {sentence_id: 2, final: false, start_ms: 1000, end_ms: 1500, text: 'Interim words', language: 'en'}});
            speechEdgePage.handleEvent({type: 'error', code: 'minutes_exhausted', message: ''});
            const q = speechEdgePage.state().quota;
            speechEdgePage.handleEvent({type: 'quota', quota: {quota: q, warning: 'used_80_percent'}});
        """)
        contrast_check = """
            function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
            function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
            function background(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.a > 0.5) return c; } return {r: 255, g: 255, b: 255}; }
            const out = [];
            const selectors = ['h1', '.tagline', '.chip-label', '.chip-value', '#minutes-remaining', '#minutes-total', '.facts dt', '.facts dd',
              'label', '#state-line', '.line.final .text', '.line.interim .text', '.line .time', '.divider', '#alert-text', '#warning',
              'button.primary', 'button.secondary', '.lang-toggle button[aria-pressed=true]', '.lang-toggle button[aria-pressed=false]'];
            for (const sel of selectors) {
              const el = document.querySelector(sel);
              if (!el) { out.push(sel + ' missing'); continue; }
              const fg = rgb(getComputedStyle(el).color), bg = background(el);
              const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
              const ratio = (a + 0.05) / (b + 0.05);
              if (ratio < 4.5) out.push(sel + ' ' + ratio.toFixed(2));
            }
            return out;
        """
        for scheme in ("light", "dark"):
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            with self.subTest(color_scheme=scheme):
                self.assertEqual(driver.execute_script(contrast_check), [])
            if scheme == "dark":
                screenshot(driver, "dark")


    def test_every_stable_error_code_has_a_plain_sentence_in_both_languages(self):
        codes = set()
        for source in (harness.ROOT / "Sources").rglob("*.swift"):
            codes.update(re.findall(r'ErrorCode\("([a-z0-9_]+)"\)', source.read_text(errors="replace")))
        codes.update({"provider_unavailable", "provider_auth_failed", "provider_rate_limited", "unsupported_language_pair", "provider_failed"})
        codes.discard("client_stop")  # the user's own stop: not an error
        self.assertGreater(len(codes), 40)
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge)
        known = driver.execute_async_script("""
            const done = arguments[0];
            import('/js/i18n.js').then(m => done({en: m.errorCodes('en'), zh: m.errorCodes('zh')}));
        """)
        self.assertEqual(sorted(codes - set(known["en"])), [], "codes without an English sentence")
        self.assertEqual(sorted(codes - set(known["zh"])), [], "codes without a Chinese sentence")
        self.assertEqual(sorted(set(known["en"]) ^ set(known["zh"])), [], "English and Chinese cover the same codes")
        # An unknown code shows the server's message.
        driver.execute_script("speechEdgePage.handleEvent({type: 'error', code: 'brand_new_code', message: 'Central says hello'})")
        self.assertEqual(self.text("alert-text"), "Something went wrong: Central says hello")


class BrowserCapture(PageTestCase):
    """The page's side of browser-microphone mode, without the edge: getUserMedia → AudioWorklet
    → 16 kHz mono S16LE in 3200-byte (100 ms) chunks, whether the browser or the worklet resamples."""

    def test_capture_makes_16_khz_pcm_in_100_ms_chunks(self):
        sine = self.directory / "sine-1khz-48k.wav"
        if not sine.exists():
            harness.run("sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(sine), "synth", "4", "sine", "1000", "vol", "0.5")
        edge = self.edge(self.central.create_license(minutes=60))
        driver = self.open_page(edge, fake_audio=sine)
        for in_worklet in (False, True):
            result = driver.execute_async_script("""
                const [inWorklet, done] = arguments;
                import('/js/browser-mic.js').then(async ({BrowserMicrophone}) => {
                  const chunks = [];
                  const mic = new BrowserMicrophone((chunk) => chunks.push(chunk), {resampleInWorklet: inWorklet});
                  await mic.open();
                  const rate = mic.contextRate;
                  await new Promise((r) => setTimeout(r, 300));  // let the device settle
                  mic.sending = true;
                  await new Promise((r) => setTimeout(r, 2000));
                  mic.sending = false;
                  await mic.close();
                  const samples = [];
                  for (const chunk of chunks) samples.push(...new Int16Array(chunk));
                  let crossings = 0, sum = 0;
                  for (let i = 1; i < samples.length; i++) {
                    if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
                    sum += samples[i] * samples[i];
                  }
                  done({rate, chunks: chunks.length, sizes: [...new Set(chunks.map((c) => c.byteLength))],
                        seconds: samples.length / 16000, hz: crossings / 2 / (samples.length / 16000),
                        rmsDb: 20 * Math.log10(Math.sqrt(sum / samples.length) / 32768)});
                }).catch((error) => done({error: String(error)}));
            """, in_worklet)
            with self.subTest(resample_in_worklet=in_worklet):
                self.assertNotIn("error", result, result)
                if in_worklet:
                    self.assertNotEqual(result["rate"], 16000, "the worklet path really resamples")
                else:
                    self.assertEqual(result["rate"], 16000)
                self.assertEqual(result["sizes"], [3200], result)
                self.assertGreaterEqual(result["chunks"], 17, result)  # about 10 a second
                self.assertLessEqual(result["chunks"], 22, result)
                # A 1 kHz tone stays 1 kHz: the rate conversion is right.
                self.assertAlmostEqual(result["hz"], 1000, delta=30, msg=result)
                self.assertGreater(result["rmsDb"], -20, result)


class NewContracts(PageTestCase):
    """Need the edge's GET /api/languages and browser-microphone mode (device "browser")."""

    def test_language_selects_follow_the_edge_catalog(self):
        edge = self.edge(self.central.create_license(minutes=60))
        status, catalog = http(f"{edge.api}/languages")
        self.assertEqual(status, 200, "GET /api/languages is not served by this edge-agent yet")
        self.assertIn("provider", catalog)
        languages = catalog["languages"]
        self.assertTrue(languages)
        driver = self.open_page(edge)
        self.wait_text("minutes-remaining", "60 min")
        sources = [o.get_attribute("value") for o in Select(self.by_id("source-language")).options]
        self.assertEqual(sources, [entry["source"] for entry in languages])
        for entry in languages:
            self.choose("source-language", entry["source"])
            targets = [o.get_attribute("value") for o in Select(self.by_id("target-language")).options]
            self.assertEqual(targets, entry["targets"] + ([""] if entry["transcription"] else []), entry["source"])
        if catalog["provider"].get("demo"):
            self.assertTrue(self.by_id("demo-badge").is_displayed(), "the demo badge shows before any session")
        # The last choice is remembered, including transcription only.
        last = languages[-1]
        self.choose("source-language", last["source"])
        self.choose("target-language", "" if last["transcription"] else last["targets"][-1])
        driver.refresh()
        self.wait_text("minutes-remaining", "60 min")
        self.wait_for(lambda _: Select(self.by_id("source-language")).first_selected_option.get_attribute("value") == last["source"], "the remembered source")
        expected_target = "" if last["transcription"] else last["targets"][-1]
        self.assertEqual(Select(self.by_id("target-language")).first_selected_option.get_attribute("value"), expected_target)
        if last["transcription"]:
            self.assertEqual(self.text("translation-lines"), "Translation is off (transcription only).")

    def test_browser_microphone_streams_through_the_edge(self):
        edge = self.edge(self.central.create_license(minutes=60), raw=None, audio_device="hw:NoSuchCard,0")
        status = wait_for_status(edge, lambda s: s.get("alsa_available") is False)
        self.assertTrue(status.get("browser_audio_available"), f"edge-agent does not offer browser audio: {status}")
        self.assertIs(status.get("alsa_available"), False, status)
        self.assertEqual(status.get("audio"), "no_device", status)

        driver = self.open_page(edge, fake_audio=self.speech.wav48)
        self.wait_text("minutes-remaining", "60 min")
        offer = self.by_id("browser-mic-offer")
        self.wait_for(lambda _: offer.is_displayed(), "the browser-microphone offer")
        self.by_id("use-browser-mic").click()
        self.assertEqual(Select(self.by_id("device")).first_selected_option.get_attribute("value"), "browser")
        self.assertFalse(offer.is_displayed())
        self.choose("source-language", "en")
        self.choose("target-language", "zh")
        self.start_with_keyboard()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "streaming", "streaming")
        self.assertTrue(self.by_id("browser-mic-active").is_displayed())
        first = self.wait_for(lambda _: (s := self.seconds_remaining()) < 3600 and s, "a first quota push")
        self.wait_for(lambda _: float(self.by_id("level").get_attribute("aria-valuenow")) > -60, "the level meter to move")
        self.wait_for(lambda _: any("[demo] speech" in t for t in self.final_lines("transcript-lines")), "a transcript line", 60)
        self.wait_for(lambda _: any("[demo] translation to zh" in t for t in self.final_lines("translation-lines")), "a translation line")
        self.wait_for(lambda _: self.seconds_remaining() <= first - 2, "the minutes to tick down")
        screenshot(driver, "browser-mic")
        self.by_id("stop").click()
        self.wait_for(lambda _: self.by_id("start").is_enabled(), "Start again")
        self.assertFalse(self.by_id("browser-mic-active").is_displayed())
        self.assertFalse(driver.execute_script("return speechEdgePage.state().micActive"))
        self.assertIsNone(driver.execute_script("return speechEdgePage.state().error"))

        # Leaving the page that is the microphone ends its session.
        self.start_with_keyboard()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "streaming", "streaming again")
        driver.get("about:blank")
        harness.wait_until(lambda: edge.status().get("link") == "stopped", WAIT, "the edge to stop the abandoned browser-audio session")


def wait_for_status(edge: Edge, predicate, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    status = edge.status()
    while time.monotonic() < deadline and not predicate(status):
        time.sleep(0.2)
        status = edge.status()
    return status


if __name__ == "__main__":
    unittest.main(verbosity=2)
