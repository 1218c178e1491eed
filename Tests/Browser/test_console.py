"""Central's operator console (/admin/) in headless Chromium against a real central (SQLite file,
demo provider) and real edge agents streaming espeak-ng speech through an ALSA file device.

Run with `make test-browser`, or one class:
`cd Tests/Browser && ../../.build/browser-venv/bin/python -m unittest test_console.<Class> -v`.
Screenshots of every page land in .build/console-screenshots/.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import hmac
import io
import json
import re
import shutil
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import harness
from harness import ADMIN_TOKEN, CONSOLE_SCREENSHOTS, Central, Edge, Speech, http, make_driver, screenshot

WAIT = 30  # seconds; generous for a loaded 2-core machine
PAGES = ["licenses", "sessions", "usage", "requests", "keys", "plans", "webhooks", "operators", "audit", "instances"]


class ConsoleTestCase(unittest.TestCase):
    """One central per class; each test signs in its own browser."""

    central: Central
    speech: Speech
    directory: Path

    fakes: dict = {}

    @classmethod
    def setUpClass(cls):
        harness.sync_console_bundle()
        harness.sync_web_bundle()
        cls.directory = harness.temporary_directory("console-tests-")
        cls.speech = Speech(cls.directory)
        (cls.directory / "central").mkdir()
        cls.central = Central(cls.directory / "central", {
            "PROVIDER_MASTER_KEY": "11" * 32,
            "WEBHOOK_FIRST_RETRY_SECONDS": "1",
            "WEBHOOK_SCAN_SECONDS": "2",
            **cls.central_environment(),
        })

    @classmethod
    def central_environment(cls) -> dict:
        return {}

    @classmethod
    def tearDownClass(cls):
        cls.central.stop()
        for fake in cls.fakes.values():
            fake.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    # Processes and browsers

    def edge(self, key: str, **options) -> Edge:
        name = f"edge-{len(list(self.directory.glob('edge-*')))}"
        edge = Edge(self.directory / name, self.central, key, self.speech.raw, **options)
        self.addCleanup(edge.stop)
        self._edges = getattr(self, "_edges", []) + [edge]
        return edge

    def browser(self, width: int = 1280, height: int = 900, lang: str = "en-US"):
        downloads = self.directory / f"downloads-{self._testMethodName}-{len(getattr(self, '_drivers', []))}"
        downloads.mkdir(exist_ok=True)
        driver = make_driver(downloads, width=width, height=height, lang=lang)
        driver.downloads = downloads
        self._drivers.append(driver)
        self.driver = driver
        return driver

    def setUp(self):
        # Cleanups run last-in first-out: diagnose while the browsers are still open, then quit them.
        self._drivers = []
        self.addCleanup(self._quit_browsers)
        self.addCleanup(self._diagnose)

    def _quit_browsers(self):
        for driver in self._drivers:
            try:
                driver.quit()
            except Exception:  # already gone
                pass

    def sign_in(self, token: str = ADMIN_TOKEN, name: str = "maria", **options):
        driver = self.browser(**options)
        driver.get(f"{self.central.url}/admin/")
        self.wait_for(lambda _: self.by_id("signin-token").is_displayed(), "the sign-in form")
        self.by_id("signin-token").send_keys(token)
        if name:
            self.by_id("signin-name").send_keys(name)
        self.by_id("signin-submit").click()
        self.wait_for(lambda _: self.by_id("whoami").is_displayed(), "the signed-in header")
        return driver

    def go(self, page: str, ready: str | None = None):
        self.driver.get(f"{self.central.url}/admin/#/{page}")
        if ready:
            self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ready), f"{ready} on #/{page}")

    # Finding and waiting

    def wait_for(self, condition, what: str, timeout: float = WAIT, driver=None):
        # The page re-renders what it refreshes: an element found a moment ago may be gone.
        return WebDriverWait(driver or self.driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(condition, f"waiting for {what}")

    def by_id(self, element_id: str, driver=None):
        return (driver or self.driver).find_element(By.ID, element_id)

    def css(self, selector: str, driver=None):
        return (driver or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def click(self, selector: str, driver=None):
        element = self.wait_for(lambda d: next((e for e in self.css(selector, d) if e.is_displayed() and e.is_enabled()), None),
                                f"{selector} to be clickable", driver=driver)
        element.click()
        return element

    def confirm(self, yes: bool = True):
        self.wait_for(lambda _: self.by_id("confirm").get_attribute("open") is not None, "the confirmation dialog")
        self.by_id("confirm-yes" if yes else "confirm-no").click()
        self.wait_for(lambda _: self.by_id("confirm").get_attribute("open") is None, "the dialog to close")

    def amount(self, value: str):
        self.wait_for(lambda _: self.by_id("action-dialog").get_attribute("open") is not None, "the amount dialog")
        field = self.by_id("action-amount")
        field.clear()
        field.send_keys(value)
        self.by_id("action-confirm").click()
        self.wait_for(lambda _: self.by_id("action-dialog").get_attribute("open") is None, "the amount dialog to close")

    def toast_code(self, driver=None) -> str | None:
        toast = self.by_id("toast", driver)
        if toast.get_attribute("hidden") is not None:
            return None
        codes = toast.find_elements(By.TAG_NAME, "code")
        return codes[0].text if codes else ""

    def shot(self, name: str, driver=None):
        screenshot(driver or self.driver, name, directory=CONSOLE_SCREENSHOTS)

    def page_errors(self, driver=None) -> list[str]:
        """Script errors on the page. Refused API calls are not among them: they log "Failed to
        load resource", and the tests check what the page showed for them."""
        return [e["message"] for e in (driver or self.driver).get_log("browser")
                if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]

    # The API beside the page

    def admin(self, method: str, path: str, body: dict | None = None):
        return http(f"{self.central.url}/v1/admin{path}", method, body, {"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def license(self, license_id: str) -> dict:
        status, body = self.admin("GET", f"/licenses/{license_id}")
        self.assertEqual(status, 200, body)
        return body

    def ledger(self, license_id: str) -> list[dict]:
        return self.admin("GET", f"/licenses/{license_id}/ledger")[1]["entries"]

    def _diagnose(self):
        result = getattr(self._outcome, "result", None)
        failed = any(test is self for test, _ in (getattr(result, "errors", []) + getattr(result, "failures", [])))
        if not failed:
            return
        for index, driver in enumerate(getattr(self, "_drivers", [])):
            try:
                screenshot(driver, f"failed-{self._testMethodName}-{index}", directory=CONSOLE_SCREENSHOTS)
                print(f"\n--- browser {index} at {driver.current_url} ---", file=sys.stderr)
                for entry in driver.get_log("browser")[-30:]:
                    print(f"{entry['level']}: {entry['message']}", file=sys.stderr)
            except Exception as error:  # the browser may be gone
                print(f"(no browser diagnostics: {error})", file=sys.stderr)
        print(f"--- central ---\n{self.central.process.tail()}", file=sys.stderr)
        for edge in getattr(self, "_edges", []):
            print(f"--- {edge.process.log} ---\n{edge.process.tail()}", file=sys.stderr)


class SignInAndSession(ConsoleTestCase):
    def test_sign_in_sets_a_strict_http_only_cookie_and_every_change_needs_the_csrf_token(self):
        license_id = self.central.create_license_record()["license"]["id"]
        driver = self.browser()
        driver.get(f"{self.central.url}/admin/")
        self.wait_for(lambda _: self.by_id("signin-token").is_displayed(), "the sign-in form")
        self.assertFalse(self.by_id("view").is_displayed())
        self.shot("signin")

        # A wrong token is refused on the form, and nothing is signed in.
        self.by_id("signin-token").send_keys("not-the-token-0123456789")
        self.by_id("signin-submit").click()
        error = self.wait_for(lambda _: (e := self.by_id("signin-error")).is_displayed() and e.text, "the sign-in error")
        self.assertIn("token", error.lower())
        self.assertIsNone(driver.get_cookie("central_console"))

        # Keyboard only: type the token, Tab to the name, Enter submits.
        token = self.by_id("signin-token")
        token.clear()
        token.send_keys(ADMIN_TOKEN, Keys.TAB)
        driver.switch_to.active_element.send_keys("maria", Keys.ENTER)
        self.wait_for(lambda _: "admin-token:maria" in self.by_id("whoami").text, "the signed-in name")
        self.assertTrue(self.by_id("nav").is_displayed())

        cookie = driver.get_cookie("central_console")
        self.assertIsNotNone(cookie)
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Strict")
        self.assertFalse(cookie["secure"], "plain HTTP without CONSOLE_SECURE_COOKIE")
        self.assertEqual(cookie["path"], "/")
        self.assertGreaterEqual(len(cookie["value"]), 40)
        self.assertNotIn("central_console", driver.execute_script("return document.cookie"), "scripts cannot read it")

        # The page's own cookie without the CSRF token cannot change anything.
        answer = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, body: '{}'})
              .then(async r => done({status: r.status, body: await r.json()}), e => done({status: 0, body: String(e)}));
        """, f"/v1/admin/licenses/{license_id}/suspend")
        self.assertEqual(answer["status"], 403, answer)
        self.assertEqual(answer["body"]["error"]["code"], "csrf_rejected")
        self.assertEqual(self.license(license_id)["status"], "active")

        # The cookie with the right CSRF token but a foreign Origin is refused too; from here it works.
        cookie_header = {"Cookie": f"central_console={cookie['value']}"}
        status, session = http(f"{self.central.url}/v1/console/session", headers=cookie_header)
        self.assertEqual(status, 200, session)
        self.assertEqual(session["role"], "admin")
        csrf = {**cookie_header, "X-CSRF-Token": session["csrf_token"]}
        status, body = http(f"{self.central.url}/v1/admin/licenses/{license_id}", "PATCH", {"notes": "from evil"},
                            {**csrf, "Origin": "http://evil.example"})
        self.assertEqual((status, body["error"]["code"]), (403, "csrf_rejected"))
        status, body = http(f"{self.central.url}/v1/admin/licenses/{license_id}", "PATCH", {"notes": "wrong token"},
                            {**cookie_header, "X-CSRF-Token": "0" * 43})
        self.assertEqual((status, body["error"]["code"]), (403, "csrf_rejected"))
        status, body = http(f"{self.central.url}/v1/admin/licenses/{license_id}", "PATCH", {"notes": "from the console"},
                            {**csrf, "Origin": self.central.url})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.license(license_id).get("notes"), "from the console")

        # Sign-out ends the session on the server, not only in the browser.
        self.by_id("signout").click()
        self.wait_for(lambda _: self.by_id("signin-token").is_displayed(), "the sign-in form after sign-out")
        self.assertIsNone(driver.get_cookie("central_console"))
        self.assertEqual(http(f"{self.central.url}/v1/console/session", headers=cookie_header)[0], 401)
        audit = self.admin("GET", "/audit?limit=50")[1]["entries"]
        self.assertTrue(any(e["action"] == "console.sign_in" and e["actor"] == "admin-token:maria" for e in audit), audit[:5])
        self.assertEqual(self.page_errors(driver), [])


class Licenses(ConsoleTestCase):
    def test_create_a_license_from_a_plan_with_the_key_shown_once(self):
        driver = self.sign_in()
        self.go("licenses", "#licenses-table")
        self.click("#license-create-open")
        Select(self.by_id("create-plan")).select_by_value("trial-standard")
        self.by_id("create-customer").send_keys("Acme <b>GmbH</b> 测试")
        self.by_id("create-email").send_keys("ops@acme.example")
        self.shot("license-create")
        self.by_id("create-submit").click()
        key = self.wait_for(lambda _: (e := self.css("#created-key-value")) and e[0].text.strip(), "the new key").strip()
        self.assertRegex(key, r"^TRIAL-[0-9A-Z]{8}(-[0-9A-Z]{8}){3}$")
        self.shot("license-created")

        # The copy button puts exactly the key on the clipboard.
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.central.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.by_id("copy-key").click()
        clipboard = self.wait_for(lambda d: d.execute_async_script(
            "navigator.clipboard.readText().then(arguments[0], () => arguments[0](''))"), "the key on the clipboard")
        self.assertEqual(clipboard, key)

        # The key works at central with the plan's quota.
        status, quota = http(f"{self.central.url}/v1/license/quota", headers={"Authorization": f"Bearer {key}"})
        self.assertEqual(status, 200, quota)
        self.assertEqual(quota["seconds_limit"], 180 * 60)

        # The list finds it (the name shown as text), and the key is never shown again.
        row = self.wait_for(lambda _: [r for r in self.css("#licenses-table tr[data-license-id]") if "Acme <b>GmbH</b> 测试" in r.text], "the new row")[0]
        license_id = row.get_attribute("data-license-id")
        self.assertEqual(self.css("#licenses-table b"), [], "a name is text, never markup")
        search = self.by_id("license-search")
        search.send_keys("ops@acme.example", Keys.ENTER)
        self.wait_for(lambda _: [r.get_attribute("data-license-id") for r in self.css("#licenses-table tr[data-license-id]")] == [license_id], "the search to find only it")
        self.go(f"license/{license_id}", "#license-detail #license-status")
        self.assertEqual(self.by_id("license-minutes-limit").get_attribute("data-minutes"), "180")
        self.assertNotIn(key, driver.page_source)
        created = self.license(license_id)
        self.assertEqual(created["plan"], "trial-standard")
        self.assertEqual(created["customer_email"], "ops@acme.example")
        self.assertEqual(self.page_errors(driver), [])

    def test_every_action_asks_first_and_is_audited_under_the_operators_name(self):
        record = self.central.create_license_record(name="Actions GmbH", minutes=60, days=7)
        license_id = record["license"]["id"]
        expires = datetime.datetime.fromisoformat(record["license"]["expires_at"].replace("Z", "+00:00"))
        self.sign_in(name="rosa")
        self.go(f"license/{license_id}", "#license-status[data-status=active]")
        status = lambda: self.by_id("license-status").get_attribute("data-status")

        # Cancel changes nothing.
        self.click("button[data-action=suspend]")
        self.confirm(yes=False)
        time.sleep(0.5)
        self.assertEqual(self.license(license_id)["status"], "active")

        self.click("button[data-action=suspend]")
        self.confirm()
        self.wait_for(lambda _: status() == "suspended", "suspended")
        self.assertEqual(self.license(license_id)["status"], "suspended")
        self.shot("license-suspended")
        self.click("button[data-action=resume]")
        self.confirm()
        self.wait_for(lambda _: status() == "active", "active again")

        self.click("button[data-action=extend]")
        self.amount("3")
        self.wait_for(lambda _: self.license(license_id)["expires_at"] != record["license"]["expires_at"], "the new expiry")
        extended = datetime.datetime.fromisoformat(self.license(license_id)["expires_at"].replace("Z", "+00:00"))
        self.assertEqual(round((extended - expires).total_seconds()), 3 * 86400)

        self.click("button[data-action=topup]")
        self.amount("15")
        self.wait_for(lambda _: self.by_id("license-minutes-limit").get_attribute("data-minutes") == "75", "75 minutes")
        self.assertEqual(self.license(license_id)["limit_ms"], 75 * 60_000)
        self.assertTrue(any(e["kind"] == "credit" and e["amount_ms"] == 15 * 60_000 for e in self.ledger(license_id)))

        self.click("button[data-action=reset-devices]")
        self.confirm()
        self.click("button[data-action=revoke]")
        self.confirm()
        self.wait_for(lambda _: status() == "revoked", "revoked")
        self.shot("license-revoked")
        self.click("button[data-action=delete]")
        self.confirm()
        self.wait_for(lambda d: "#/licenses" in d.current_url, "the list after deleting")
        self.assertEqual(self.admin("GET", f"/licenses/{license_id}")[0], 404)

        actions = [(e["action"], e["actor"]) for e in reversed(self.admin("GET", f"/audit?license_id={license_id}")[1]["entries"])]
        self.assertEqual([a for a, _ in actions], [
            "license.create", "license.suspend", "license.resume", "license.extend", "license.topup",
            "license.reset_devices", "license.revoke", "license.delete"])
        self.assertEqual({actor for action, actor in actions if action != "license.create"}, {"admin-token:rosa"})
        self.assertEqual(self.page_errors(), [])


class LicenseListAndEdit(ConsoleTestCase):
    def test_search_filters_cursor_pages_and_an_edit(self):
        ids = []
        for index in range(55):
            status, body = self.admin("POST", "/licenses", {"customer_name": f"Paged {index:02d} GmbH", "plan": "trial-basic"})
            self.assertEqual(status, 201, body)
            ids.append(body["license"]["id"])
        self.admin("POST", f"/licenses/{ids[3]}/suspend")
        self.sign_in()
        self.go("licenses", "#licenses-table tr[data-license-id]")
        search = self.by_id("license-search")
        search.send_keys("Paged", Keys.ENTER)
        rows = lambda: [r.get_attribute("data-license-id") for r in self.css("#licenses-table tr[data-license-id]")]
        self.wait_for(lambda _: len(rows()) == 50 and self.by_id("licenses-more").is_displayed(), "the first page of 50")
        self.assertEqual(rows(), list(reversed(ids))[:50], "newest first")
        self.by_id("licenses-more").click()
        self.wait_for(lambda _: len(rows()) == 55, "the next page")
        self.assertEqual(rows(), list(reversed(ids)))
        self.assertFalse(self.by_id("licenses-more").is_displayed(), "no more pages")
        Select(self.by_id("license-status-filter")).select_by_value("suspended")
        self.wait_for(lambda _: rows() == [ids[3]], "only the suspended one")
        self.shot("licenses")

        # Edit: a new name, no email, a daily cap; an invalid value is refused and changes nothing.
        self.go(f"license/{ids[7]}", "#license-edit-box")
        self.driver.find_element(By.CSS_SELECTOR, "#license-edit-box summary").click()
        name = self.by_id("edit-customer")
        name.clear()
        name.send_keys("Renamed AG")
        daily = self.by_id("edit-daily")
        daily.clear()
        daily.send_keys("10")
        self.by_id("edit-submit").click()
        self.wait_for(lambda _: self.license(ids[7])["customer_name"] == "Renamed AG", "the new name")
        edited = self.license(ids[7])
        self.assertEqual(edited["daily_cap_ms"], 600_000)
        self.assertEqual(edited["max_concurrent"], 1, "fields left alone stay")
        self.wait_for(lambda _: self.css("#license-edit-box") and self.css("#view h1") and "Renamed AG" in self.css("#view h1")[0].text, "the page to show it")
        if self.by_id("license-edit-box").get_attribute("open") is None:
            self.driver.find_element(By.CSS_SELECTOR, "#license-edit-box summary").click()
        devices = self.by_id("edit-devices")
        devices.clear()
        devices.send_keys("-3")
        self.by_id("edit-submit").click()
        # The form's own check refuses it before anything is sent.
        self.wait_for(lambda d: d.execute_script("return !document.getElementById('edit-devices').checkValidity()"), "the field marked invalid")
        time.sleep(0.5)
        self.assertEqual(self.license(ids[7])["max_devices"], edited["max_devices"])
        audit = [e["action"] for e in self.admin("GET", f"/audit?license_id={ids[7]}")[1]["entries"]]
        self.assertEqual(audit.count("license.update"), 1)
        self.assertEqual(self.page_errors(), [])


class LiveSessions(ConsoleTestCase):
    def test_a_real_edge_session_appears_live_and_the_console_ends_it(self):
        license_id = self.central.create_license_record(name="Live AG", minutes=30)["license"]["id"]
        edge = self.edge(self._key_for(license_id))
        self.sign_in()
        self.go("sessions", "#sessions-table")
        self.assertEqual(self.css(f"#sessions-table tr[data-license-id='{license_id}']"), [])
        self.assertEqual(edge.start()[0], 202)
        row = self.wait_for(lambda _: self.css(f"#sessions-table tr[data-license-id='{license_id}']"), "the session row")[0]
        session_id = row.get_attribute("data-session-id")
        self.assertIn("Live AG", row.text)
        # It updates live: the billed time grows without a reload.
        first = row.text
        self.wait_for(lambda _: (r := self.css(f"tr[data-session-id='{session_id}']")) and r[0].text != first, "the row to update")
        self.shot("sessions")

        self.click(f"button[data-kill='{session_id}']")
        self.confirm()
        self.wait_for(lambda _: not self.css(f"#sessions-table tr[data-session-id='{session_id}']"), "the row to go")
        status = self.wait_for(lambda _: (s := edge.status())["link"] == "stopped" and s, "the edge to stop")
        self.assertEqual(status.get("stop_reason"), "stopped_by_admin", status)
        audit = self.admin("GET", f"/audit?license_id={license_id}")[1]["entries"]
        self.assertTrue(any(e["action"] == "session.stop" and e["actor"] == "admin-token:maria" for e in audit), audit)
        self.assertEqual(self.page_errors(), [])

    def test_a_top_up_in_the_console_reaches_the_edges_page(self):
        license_id = self.central.create_license_record(name="Top-up Ltd", minutes=10)["license"]["id"]
        edge = self.edge(self._key_for(license_id))
        customer = self.browser()
        customer.get(edge.url)
        self.wait_for(lambda d: self.by_id("minutes-total", d).text.strip() == "of 10 min", "the edge page's quota", driver=customer)
        self.assertEqual(edge.start()[0], 202)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-link") == "streaming", "streaming", driver=customer)

        self.sign_in()
        self.go(f"license/{license_id}", "#license-detail")
        self.wait_for(lambda _: self.css(f"#license-sessions tr[data-session-id]"), "the live session on the license page")
        self.click("button[data-action=topup]")
        self.amount("20")
        self.wait_for(lambda _: self.by_id("license-minutes-limit").get_attribute("data-minutes") == "30", "30 minutes in the console")
        self.wait_for(lambda d: self.by_id("minutes-total", d).text.strip() == "of 30 min", "30 minutes on the edge's page", driver=customer)
        self.shot("license-detail")
        screenshot(customer, "edge-after-topup", directory=CONSOLE_SCREENSHOTS)

    def _key_for(self, license_id: str) -> str:
        return self.keys[license_id]

    def setUp(self):
        super().setUp()
        # Licenses made here remember their keys: the API never shows a key twice.
        self.keys: dict[str, str] = {}
        original = self.central.create_license_record

        def remembering(*args, **kwargs):
            record = original(*args, **kwargs)
            self.keys[record["license"]["id"]] = record["key"]
            return record
        self.central.create_license_record = remembering
        self.addCleanup(lambda: setattr(self.central, "create_license_record", original))


class Usage(ConsoleTestCase):
    """Speech from a real edge and chat through central's proxy (fake-llm upstream)."""

    @classmethod
    def central_environment(cls) -> dict:
        cls.fakes = {"llm": harness.FakeProvider("fake-llm", cls.directory / "llm", ["sk-console-llm"])}
        return {"CHAT_UPSTREAMS": f"fake={cls.fakes['llm'].url}", "CHAT_FAKE_API_KEYS": "sk-console-llm"}

    def test_the_usage_chart_and_csv_for_a_range_equal_the_ledger(self):
        # UTC days for chat too, so both series fall on the same day as the speech.
        chat = {"models": {"deepseek-chat": "fake/deepseek-chat"}, "requests_per_day": 50, "time_zone": "UTC"}
        record = self.central.create_license_record(name="=SUM(A1), \"Quoted\"", minutes=30, chat=json.dumps(chat))
        license_id = record["license"]["id"]
        tokens = 0
        for question in ("Hello there.", "How much is left?"):
            status, answer = http(f"{self.central.url}/v1/chat/completions", "POST",
                                  {"model": "deepseek-chat", "messages": [{"role": "user", "content": question}]},
                                  {"Authorization": f"Bearer {record['key']}"})
            self.assertEqual(status, 200, answer)
            tokens += answer["usage"]["total_tokens"]
        edge = self.edge(record["key"])
        self.assertEqual(edge.start()[0], 202)
        billed = lambda: sum(e["amount_ms"] for e in self.ledger(license_id) if e["kind"] == "debit")
        harness.wait_until(lambda: billed() >= 4000, WAIT, "4 s billed")
        self.assertEqual(http(f"{edge.api}/translation/stop", "POST", {})[0], 200)
        harness.wait_until(lambda: not self.license(license_id)["active_leases"], WAIT, "the lease to settle")
        billed_ms = billed()
        today = datetime.datetime.now(datetime.timezone.utc).date()

        driver = self.sign_in()
        self.go("usage", "#usage-form")
        self.set_range(today - datetime.timedelta(days=2), today, license_id)
        self.wait_for(lambda _: self.by_id("usage-total-seconds").get_attribute("data-seconds") == self.seconds(billed_ms), "the total")
        bars = {b.get_attribute("data-day"): b.get_attribute("data-value") for b in self.css("svg#usage-chart rect.bar-speech")}
        self.assertEqual(set(bars), {str(today - datetime.timedelta(days=n)) for n in range(3)}, bars)
        self.assertEqual(float(bars[str(today)]), billed_ms / 1000)
        self.assertEqual(float(bars[str(today - datetime.timedelta(days=1))]), 0)
        self.assertEqual(self.css(f"#usage-days tr[data-day='{today}']")[0].get_attribute("data-seconds"), self.seconds(billed_ms))
        self.assertEqual(self.css(f"#usage-licenses tr[data-license-id='{license_id}']")[0].get_attribute("data-seconds"), self.seconds(billed_ms))
        chat_bars = {b.get_attribute("data-day"): b.get_attribute("data-value") for b in self.css("svg#usage-chart rect.bar-chat")}
        self.assertEqual(float(chat_bars[str(today)]), tokens)
        self.assertEqual(self.by_id("usage-total-tokens").get_attribute("data-tokens"), str(tokens))
        self.assertEqual(self.by_id("usage-total-requests").text.strip(), "2")
        patterns = {p.get_attribute("id") for p in self.css("svg#usage-chart pattern")}
        fills = {b.get_attribute("fill") for b in self.css("svg#usage-chart rect.bar")}
        self.assertEqual(len(patterns), 2, "each series has its own pattern, not only its own colour")
        self.assertEqual(fills, {f"url(#{p})" for p in patterns})
        self.shot("usage")

        # The CSV downloads are the same figures, with the customer's name defused for spreadsheets.
        rows = list(csv.DictReader(io.StringIO(self.download(driver, "usage-csv"))))
        self.assertEqual([r["day"] for r in rows], [str(today)])
        self.assertEqual(rows[0]["license_id"], license_id)
        self.assertEqual(rows[0]["customer_name"], "'=SUM(A1), \"Quoted\"")
        self.assertEqual(round(float(rows[0]["seconds_used"]) * 1000), billed_ms)
        self.assertEqual(int(rows[0]["chat_requests"]), 2)
        self.assertEqual(int(rows[0]["chat_input_tokens"]) + int(rows[0]["chat_output_tokens"]), tokens)
        sessions = list(csv.DictReader(io.StringIO(self.download(driver, "sessions-csv"))))
        self.assertEqual(sum(int(s["billed_ms"]) for s in sessions), billed_ms)
        self.assertEqual({s["license_id"] for s in sessions}, {license_id})
        self.assertTrue(all(s["edge_sent_ms"] for s in sessions), sessions)

        # A range without the session shows nothing billed.
        self.set_range(today - datetime.timedelta(days=9), today - datetime.timedelta(days=3), license_id)
        self.wait_for(lambda _: self.by_id("usage-total-seconds").get_attribute("data-seconds") == "0", "an empty range")
        self.assertEqual(self.page_errors(), [])

    @staticmethod
    def seconds(ms: int) -> str:
        # What JavaScript's String(ms / 1000) prints.
        value = ms / 1000
        return str(int(value)) if value == int(value) else repr(value)

    def set_range(self, first: datetime.date, last: datetime.date, license_id: str):
        self.driver.execute_script("""
            for (const [id, value] of [['usage-from', arguments[0]], ['usage-to', arguments[1]], ['usage-license', arguments[2]]]) {
              const input = document.getElementById(id);
              input.value = value;
              input.dispatchEvent(new Event('input', {bubbles: true}));
              input.dispatchEvent(new Event('change', {bubbles: true}));
            }
        """, str(first), str(last), license_id)
        self.by_id("usage-apply").click()
        href = lambda: self.by_id("usage-csv").get_attribute("href") or ""
        self.wait_for(lambda _: f"from={first}" in href() and f"to={last}" in href(), "the CSV link for the range")

    def download(self, driver, link_id: str) -> str:
        name = self.by_id(link_id).get_attribute("download")
        for old in driver.downloads.glob("*"):
            old.unlink()
        self.by_id(link_id).click()

        def complete(_):
            if any(driver.downloads.glob("*.crdownload")):
                return None
            return next((p for p in driver.downloads.glob(name) if p.stat().st_size > 0), None)
        return self.wait_for(complete, f"{name}").read_bytes().decode("utf-8").lstrip("\ufeff")


class Roles(ConsoleTestCase):
    def test_a_viewer_reads_but_is_refused_every_change_and_disabling_ends_their_session(self):
        license_id = self.central.create_license_record(name="Viewer Co")["license"]["id"]
        admin = self.sign_in()
        self.go("operators", "#operator-create")
        self.by_id("operator-name").send_keys("vera")
        Select(self.by_id("operator-role")).select_by_value("viewer")
        self.by_id("operator-submit").click()
        token = self.wait_for(lambda _: (e := self.css("#operator-token-value")) and e[0].text.strip(), "the operator's token").strip()
        self.assertTrue(token.startswith("op_"), token)
        self.wait_for(lambda _: self.css("#operators-table tr[data-operator=vera]"), "vera in the list")
        self.shot("operators")

        viewer = self.sign_in(token=token, name="")
        self.wait_for(lambda _: "vera" in self.by_id("whoami").text, "vera signed in")
        # Pages for admins only are not offered.
        visible = [a.get_attribute("data-page") for a in self.css("nav#nav a[data-page]") if a.is_displayed()]
        self.assertNotIn("operators", visible)
        self.assertNotIn("webhooks", visible)
        self.assertIn("usage", visible)
        self.go(f"license/{license_id}", "#license-status")
        revoke = self.css("button[data-action=revoke]")[0]
        self.assertFalse(revoke.is_enabled(), "the viewer's buttons are disabled")
        self.assertIn("operator", revoke.get_attribute("title").lower())
        self.shot("license-as-viewer")

        # Even with the button forced on, central refuses and the page says so.
        viewer.execute_script("arguments[0].disabled = false", revoke)
        revoke.click()
        self.confirm()
        self.wait_for(lambda _: self.toast_code() == "role_forbidden", "the refusal")
        self.assertEqual(self.license(license_id)["status"], "active")
        audit = self.admin("GET", f"/audit?license_id={license_id}")[1]["entries"]
        self.assertFalse(any(e["action"] == "license.revoke" for e in audit))

        # The admin disables vera: her open console is signed out at its next request.
        self.driver = admin
        self.click("button[data-disable=vera]")
        self.confirm()
        self.wait_for(lambda _: "disabled" in self.css("#operators-table tr[data-operator=vera]")[0].text.lower(), "vera disabled")
        self.driver = viewer
        self.go("usage")
        self.wait_for(lambda _: self.by_id("signin-token").is_displayed(), "the viewer signed out")
        self.assertEqual(http(f"{self.central.url}/v1/admin/licenses", headers={"Authorization": f"Bearer {token}"})[0], 401)


class MinutesRequests(ConsoleTestCase):
    def test_the_customer_asks_for_minutes_the_operator_approves_and_the_edge_page_rises(self):
        record = self.central.create_license_record(name="Needs More SA", minutes=0.1, concurrent=1)  # 6 s
        license_id = record["license"]["id"]
        edge = self.edge(record["key"])
        customer = self.browser()
        customer.get(edge.url)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "connected", "the edge page", driver=customer)
        self.assertEqual(edge.start()[0], 202)
        # The minutes run out; the page offers to ask for more.
        self.wait_for(lambda d: self.by_id("more-open", d).is_displayed(), "the ask-for-more button", timeout=60, driver=customer)
        self.wait_for(lambda _: edge.status()["link"] == "stopped", "the exhausted session to stop", timeout=60)
        self.by_id("more-open", customer).click()
        minutes = self.by_id("more-minutes", customer)
        minutes.clear()
        minutes.send_keys("30")
        self.by_id("more-note", customer).send_keys("Demo for the board on Friday <script>")
        self.by_id("more-send", customer).click()
        self.wait_for(lambda d: self.by_id("more-status", d).get_attribute("data-status") == "pending", "pending on the edge page", driver=customer)
        screenshot(customer, "edge-minutes-request-pending", directory=CONSOLE_SCREENSHOTS)

        operator = self.sign_in(name="olga")
        self.wait_for(lambda _: self.by_id("requests-badge").is_displayed() and self.by_id("requests-badge").text.strip() == "1", "the pending badge")
        self.go("requests", "#requests-table tr[data-request-id]")
        row = self.css("#requests-table tr[data-request-id]")[0]
        self.assertIn("Demo for the board on Friday <script>", row.text)
        self.assertEqual(self.css("#requests-table script"), [])
        self.shot("requests")
        self.click("button[data-approve]")
        self.wait_for(lambda _: self.by_id("decision-dialog").get_attribute("open") is not None, "the decision dialog")
        self.assertEqual(self.by_id("approve-minutes").get_attribute("value"), "30")
        self.by_id("decision-answer").send_keys("Approved, enjoy the demo.")
        self.by_id("decision-confirm").click()
        self.wait_for(lambda _: self.css("#requests-table tr[data-status=approved]") or not self.css("#requests-table tr[data-status=pending]"), "the request approved")

        # The edge's page shows the answer and the new minutes without a reload.
        self.wait_for(lambda d: self.by_id("more-status", d).get_attribute("data-status") == "approved", "approved on the edge page", driver=customer)
        self.assertIn("Approved, enjoy the demo.", self.by_id("more-status", customer).text)
        self.wait_for(lambda d: float(self.by_id("minutes-remaining", d).get_attribute("data-seconds") or 0) >= 30 * 60, "30 more minutes on the edge page", driver=customer)
        self.wait_for(lambda d: self.by_id("alert", d).get_attribute("hidden") is not None, "the exhausted message to go", driver=customer)
        screenshot(customer, "edge-minutes-request-approved", directory=CONSOLE_SCREENSHOTS)
        self.assertEqual(self.license(license_id)["limit_ms"], 6_000 + 30 * 60_000)
        credits = [e for e in self.ledger(license_id) if e["kind"] == "credit"]
        self.assertEqual([e["amount_ms"] for e in credits][-1:], [30 * 60_000])

        # A second request, declined: the page says so, with the operator's answer, and the
        # minutes stay.
        self.by_id("more-open", customer).click()
        minutes = self.by_id("more-minutes", customer)
        minutes.clear()
        minutes.send_keys("500")
        self.by_id("more-send", customer).click()
        self.wait_for(lambda d: self.by_id("more-status", d).get_attribute("data-status") == "pending", "the second request pending", driver=customer)
        self.go("requests", "#requests-table tr[data-status=pending]")
        self.click("#requests-table tr[data-status=pending] button[data-decline]")
        self.wait_for(lambda _: self.by_id("decision-dialog").get_attribute("open") is not None, "the decline dialog")
        self.assertFalse(self.by_id("approve-minutes-field").is_displayed(), "declining asks for no minutes")
        self.by_id("decision-answer").send_keys("Not this month.")
        self.by_id("decision-confirm").click()
        self.wait_for(lambda d: self.by_id("more-status", d).get_attribute("data-status") == "declined", "declined on the edge page", driver=customer)
        self.assertIn("Not this month.", self.by_id("more-status", customer).text)
        screenshot(customer, "edge-minutes-request-declined", directory=CONSOLE_SCREENSHOTS)
        self.assertEqual(self.license(license_id)["limit_ms"], 6_000 + 30 * 60_000)
        requests = self.admin("GET", f"/minutes-requests?license_id={license_id}")[1]["requests"]
        self.assertEqual(sorted((r["status"], r["decided_by"]) for r in requests), [("approved", "admin-token:olga"), ("declined", "admin-token:olga")])

        self.assertEqual(edge.start()[0], 202, "the edge streams again")
        self.assertEqual(self.page_errors(operator), [])


class WebhookReceiver:
    """A local HTTP receiver that records each delivery and answers with the next status."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class AdminPages(ConsoleTestCase):
    def test_provider_keys_plans_webhooks_audit_and_instances(self):
        driver = self.sign_in()

        # Provider keys: add one (stored encrypted, shown masked), then disable it.
        self.go("keys", "#key-create")
        self.by_id("key-provider").send_keys("dashscope")
        self.by_id("key-secret").send_keys("sk-console-test-7q2w")
        self.by_id("key-label").send_keys("console")
        self.by_id("key-submit").click()
        row = self.wait_for(lambda _: self.css("#keys-table tr[data-key-id][data-status=active]"), "the stored key")[0]
        self.assertIn("7q2w", row.text)
        self.assertNotIn("sk-console-test", driver.page_source)
        key_id = row.get_attribute("data-key-id")
        self.click(f"tr[data-key-id='{key_id}'] button[data-key-action=disable]")
        self.wait_for(lambda _: self.css(f"tr[data-key-id='{key_id}'][data-status=disabled]"), "the key disabled")
        keys = self.admin("GET", "/provider-keys")[1]["keys"]
        self.assertEqual([k["status"] for k in keys if k["id"] == key_id], ["disabled"])
        self.shot("keys")

        # Plans: a new plan, offered when creating a license.
        self.go("plans", "#plan-form")
        for field, value in (("plan-name", "pilot-3d"), ("plan-days", "3"), ("plan-minutes", "15"), ("plan-sessions", "4"),
                             ("plan-concurrent", "1"), ("plan-devices", "1"), ("plan-description", "Three-day pilot")):
            element = self.by_id(field)
            element.clear()
            element.send_keys(value)
        self.by_id("plan-submit").click()
        self.wait_for(lambda _: self.css("#plans-table tr[data-plan='pilot-3d']"), "the new plan")
        plans = {p["name"]: p for p in self.admin("GET", "/plans")[1]["plans"]}
        self.assertEqual((plans["pilot-3d"]["validity_days"], plans["pilot-3d"]["minutes"], plans["pilot-3d"]["session_limit"]), (3, 15, 4))
        self.shot("plans")

        # Webhooks: an endpoint on a local receiver that fails once; the log shows the retry and
        # the delivery, each signed with the secret shown once.
        receiver = WebhookReceiver([500])
        self.addCleanup(receiver.stop)
        self.go("webhooks", "#webhook-create")
        self.by_id("webhook-url").send_keys(receiver.url)
        self.by_id("webhook-description").send_keys("finance")
        for box in self.css("input[name=webhook-event]"):
            if box.get_attribute("value") == "license.suspended":
                box.click()
        self.by_id("webhook-submit").click()
        secret = self.wait_for(lambda _: (e := self.css("#webhook-secret-value")) and e[0].text.strip(), "the webhook secret").strip()
        self.assertTrue(secret.startswith("whsec_"), secret)
        license_id = self.central.create_license_record(name="Hooked")["license"]["id"]
        self.central.license_action("suspend", license_id)
        delivered = self.wait_for(lambda _: self.css("#deliveries-table tr[data-delivery-id][data-status=delivered]"), "a delivered row", timeout=60)[0]
        self.assertIn("license.suspended", delivered.text)
        self.assertEqual(len(receiver.received), 2, "one failure, one retry")
        ids = {r["headers"]["webhook-id"] for r in receiver.received}
        self.assertEqual(len(ids), 1)
        for delivery in receiver.received:
            header = delivery["headers"]["webhook-signature"]
            parts = dict(p.split("=", 1) for p in header.split(","))
            expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + delivery["body"], hashlib.sha256).hexdigest()
            self.assertTrue(hmac.compare_digest(expected, parts["v1"]), header)
            self.assertEqual(json.loads(delivery["body"])["data"]["license_id"], license_id)
        self.click(f"button[data-redeliver='{delivered.get_attribute('data-delivery-id')}']")
        self.wait_for(lambda _: len(receiver.received) == 3, "the manual redelivery", timeout=60)
        self.assertEqual(receiver.received[2]["headers"]["webhook-id"], next(iter(ids)))
        self.assertEqual(receiver.received[2]["body"], receiver.received[0]["body"])
        self.shot("webhooks")

        # The audit page shows these changes under the operator's name; instances shows this one.
        self.go("audit", "#audit-table tr")
        text = self.by_id("audit-table").text
        for action in ("plan.save", "console.sign_in"):
            self.assertIn(action, text)
        self.assertIn("admin-token:maria", text)
        self.shot("audit")
        self.go("instances", "#instances-table tr[data-instance-id]")
        self.assertEqual([r.get_attribute("data-current") for r in self.css("#instances-table tr[data-instance-id]")], ["true"])
        self.shot("instances")
        self.assertEqual(self.page_errors(), [])


class Keyboard(ConsoleTestCase):
    def tab_to(self, selector: str, backwards: bool = False, limit: int = 150):
        """Presses Tab (or Shift+Tab) until the focus is on `selector`: it must be reachable by keyboard."""
        target = self.wait_for(lambda _: self.css(selector), selector)[0]
        for _ in range(limit):
            if self.driver.switch_to.active_element == target:
                return target
            active = self.driver.switch_to.active_element
            active.send_keys(Keys.SHIFT, Keys.TAB) if backwards else active.send_keys(Keys.TAB)
        self.fail(f"{selector} is not reachable with Tab")

    def test_navigation_and_a_confirmed_action_by_keyboard_alone(self):
        license_id = self.central.create_license_record(name="Keys Only KG")["license"]["id"]
        driver = self.sign_in()
        self.go(f"license/{license_id}", "#license-status[data-status=active]")

        suspend = self.tab_to("button[data-action=suspend]")
        suspend.send_keys(Keys.ENTER)
        self.wait_for(lambda _: self.by_id("confirm").get_attribute("open") is not None, "the dialog")
        self.assertEqual(driver.switch_to.active_element.get_attribute("id"), "confirm-no", "the safe choice has the focus")
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        self.wait_for(lambda _: self.by_id("confirm").get_attribute("open") is None, "Escape to close the dialog")
        self.assertEqual(self.license(license_id)["status"], "active")
        self.assertEqual(driver.switch_to.active_element, suspend, "the focus returns to the button")

        suspend.send_keys(Keys.ENTER)
        self.wait_for(lambda _: self.by_id("confirm").get_attribute("open") is not None, "the dialog again")
        driver.switch_to.active_element.send_keys(Keys.TAB)
        self.assertEqual(driver.switch_to.active_element.get_attribute("id"), "confirm-yes")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        self.wait_for(lambda _: self.by_id("license-status").get_attribute("data-status") == "suspended", "suspended by keyboard")

        # The top-up's amount dialog: type and press Enter.
        self.tab_to("button[data-action=topup]").send_keys(Keys.ENTER)
        self.wait_for(lambda _: driver.switch_to.active_element.get_attribute("id") == "action-amount", "the amount field focused")
        driver.switch_to.active_element.send_keys("5", Keys.ENTER)
        self.wait_for(lambda _: self.by_id("license-minutes-limit").get_attribute("data-minutes") == "65", "65 minutes")

        # Another page through the nav, by keyboard (back up the page with Shift+Tab).
        self.tab_to("nav#nav a[data-page=usage]", backwards=True).send_keys(Keys.ENTER)
        self.wait_for(lambda d: d.current_url.endswith("#/usage") and self.css("#usage-form"), "the usage page")
        self.assertEqual(self.css("nav#nav a[data-page=usage]")[0].get_attribute("aria-current"), "page")
        self.assertEqual(self.page_errors(), [])


class IdleSignOut(ConsoleTestCase):
    @classmethod
    def central_environment(cls) -> dict:
        return {"CONSOLE_IDLE_MINUTES": "1"}

    def test_an_unattended_console_signs_itself_out_although_its_pages_keep_polling(self):
        driver = self.sign_in()
        # The live sessions page asks central every 2 s: the server alone would never see it idle.
        self.go("sessions", "#sessions-table")
        cookie = driver.get_cookie("central_console")["value"]
        self.wait_for(lambda _: self.by_id("signin-token").is_displayed(), "the idle sign-out", timeout=100)
        self.assertIn("without activity", self.by_id("signin-error").text + self.by_id("status").text + driver.find_element(By.TAG_NAME, "body").text)
        status, body = http(f"{self.central.url}/v1/console/session", headers={"Cookie": f"central_console={cookie}"})
        self.assertEqual(status, 401, body)
        self.assertEqual(self.page_errors(), [])


class LanguagesAndNarrowScreens(ConsoleTestCase):
    def test_every_page_in_english_and_chinese_at_360_px(self):
        record = self.central.create_license_record(name="窄屏 Narrow Ltd", minutes=45)
        license_id = record["license"]["id"]
        for lang, width in (("en", 360), ("zh-CN", 360), ("zh-CN", 1280)):
            driver = self.sign_in(width=width, height=800)
            if lang != "en":
                Select(self.by_id("lang")).select_by_value(lang)
                self.wait_for(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, "the language switch")
            nav = {a.get_attribute("data-page"): a.text for a in self.css("nav#nav a[data-page]")}
            self.assertEqual(nav["licenses"], "许可证" if lang == "zh-CN" else "Licenses")
            for page in PAGES + [f"license/{license_id}"]:
                self.go(page)
                self.wait_for(lambda _: self.by_id("view").text.strip() and not self.css("#view [aria-busy=true]"), f"#/{page} to render")
                time.sleep(0.3)
                name = page.split("/")[0] + ("-detail" if "/" in page else "")
                self.shot(f"{name}-{lang}-{width}")
                if width == 360:
                    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                    self.assertLessEqual(overflow, 1, f"#/{page} scrolls sideways at 360 px in {lang}")
                if lang == "zh-CN":
                    self.assertRegex(self.by_id("view").text, r"[\u4e00-\u9fff]{2}", f"#/{page} in Chinese")
                self.assertEqual(self.toast_code(), None, f"#/{page} showed an error")
            self.assertEqual(self.page_errors(driver), [])
            # The choice is remembered after a reload.
            driver.refresh()
            self.wait_for(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, "the remembered language")
            driver.quit()
            self._drivers.remove(driver)
            driver = None


if __name__ == "__main__":
    unittest.main()
