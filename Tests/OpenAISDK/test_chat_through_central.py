#!/usr/bin/env python3
"""Drive the official OpenAI Python SDK's chat client against central's OpenAI-compatible chat
proxy, with fake-llm as the upstream: a license key is the API key, the license's model aliases
are the models, answers and streams pass through, quotas answer in OpenAI's error shape with
stable codes, upstream keys fail over, and every request is billed once, in the ledger and the
usage report, at the tokens the upstream reported.

Run it with scripts/test-openai-sdk.sh, or directly under a Python with `openai`:
    python3 Tests/OpenAISDK/test_chat_through_central.py [Test.name]
Needs CENTRAL_BIN (default .build/debug/central) and FAKE_LLM_BIN (default .build/debug/fake-llm).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openai
from openai import OpenAI

ROOT = Path(__file__).resolve().parents[2]
CENTRAL_BIN = os.environ.get("CENTRAL_BIN", str(ROOT / ".build/debug/central"))
FAKE_LLM_BIN = os.environ.get("FAKE_LLM_BIN", str(ROOT / ".build/debug/fake-llm"))
ADMIN_TOKEN = "sdk-chat-admin-token-0123456789abcdef"
MASTER_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
# Two upstream keys with distinct last four characters (fake-llm reports them as key_hint).
UPSTREAM_KEYS = ["sk-fake-chat-first-k1aa", "sk-fake-chat-second-k2bb"]
HINTS = [key[-4:] for key in UPSTREAM_KEYS]
MODELS = {"deepseek-chat": "fake/deepseek-chat", "qwen-plus": "fake/qwen-plus"}
SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has no daylight saving time
CHAT_KINDS = ("chat_request", "chat_input_tokens", "chat_output_tokens")
HELLO = [{"role": "user", "content": "Hello there."}]
LONG_QUESTION = " ".join(f"word{n}" for n in range(30))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", body=None, headers=None, timeout=10):
    """(status, parsed JSON or None, headers) without raising on HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, answered = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, answered = error.code, error.read(), error.headers
    try:
        return status, (json.loads(raw) if raw else None), answered
    except ValueError:
        return status, raw.decode(errors="replace"), answered


def wait_until(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not there yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last error: {last_error})")


def stop_process(process, log=None):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()
    if log:
        log.close()


class Stack:
    """fake-llm with both upstream keys, and a central on a fresh SQLite database whose chat
    upstream `fake` is that fake-llm (keys in CHAT_FAKE_API_KEYS)."""

    def __init__(self):
        for binary in (CENTRAL_BIN, FAKE_LLM_BIN):
            if not os.access(binary, os.X_OK):
                raise RuntimeError(f"{binary} is missing; build it first (swift build)")
        self.directory = Path(tempfile.mkdtemp(prefix="sdk-chat-"))
        self.fake_log = open(self.directory / "fake-llm.log", "wb")
        self.fake = subprocess.Popen(
            [FAKE_LLM_BIN, "--port", "0"] + [arg for key in UPSTREAM_KEYS for arg in ("--api-key", key)],
            stdout=subprocess.PIPE, stderr=self.fake_log, text=True)
        self.central = None
        self.central_log = None
        try:
            line = self.fake.stdout.readline().strip() if self.fake.stdout else ""
            if "http://" not in line:
                raise RuntimeError(f"fake-llm did not start: {line!r}")
            self.fake_base = line[line.index("http://"):]  # http://127.0.0.1:P/v1
            self.control_base = self.fake_base[: -len("/v1")]
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(self.directory),
                "ADMIN_TOKEN": ADMIN_TOKEN,
                "PROVIDER_MASTER_KEY": MASTER_KEY,
                "CHAT_UPSTREAMS": f"fake={self.fake_base}",
                "CHAT_FAKE_API_KEYS": ",".join(UPSTREAM_KEYS),
                # The error tests send wrong keys on purpose; keep them clear of the per-IP limit.
                "AUTH_FAILURES_PER_MINUTE": "1000",
            }
            self.central_log = open(self.directory / "central.log", "wb")
            self.central = subprocess.Popen(
                [CENTRAL_BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--database-url", f"sqlite:{self.directory / 'central.db'}", "--log-level", "warning"],
                env=env, stdout=self.central_log, stderr=subprocess.STDOUT)
            wait_until(self._healthy, 30, "central /healthz")
        except BaseException:
            self.stop(keep=True)
            raise

    def _healthy(self):
        if self.central.poll() is not None:
            raise RuntimeError(f"central exited ({self.central.returncode}):\n{self.central_tail()}")
        return http(f"{self.url}/healthz", timeout=2)[0] == 200

    def central_tail(self, lines=30):
        try:
            return "\n".join((self.directory / "central.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, keep=False):
        if self.central:
            stop_process(self.central, self.central_log)
        stop_process(self.fake, self.fake_log)
        if keep:
            print(f"[sdk-chat] logs kept in {self.directory}", file=sys.stderr)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    # fake-llm's control API

    def control(self, path, body=None):
        status, answer, _ = http(self.control_base + path, method="GET" if body is None else "POST", body=body)
        assert status in (200, 204), f"{path}: {status} {answer}"
        return answer

    def fake_requests(self):
        return self.control("/control/requests")["requests"]

    def answered(self):
        """fake-llm's reports of the requests it answered (status 200)."""
        return [r for r in self.fake_requests() if r["status"] == 200]

    # central's admin API

    def admin(self, path, method="GET", body=None):
        return http(self.url + path, method=method, body=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def create_license(self, chat=None, **fields):
        """A license (unique customer name); returns (key, license id)."""
        body = {"customer_name": f"sdk-{uuid.uuid4().hex[:8]}", "plan": "trial-basic", **fields}
        if chat is not None:
            body["chat"] = chat
        status, answer, _ = self.admin("/v1/admin/licenses", "POST", body)
        assert status == 201, f"license create: {status} {answer}"
        return answer["key"], answer["license"]["id"]

    def create_chat_license(self, **limits):
        return self.create_license(chat={"models": dict(MODELS), "time_zone": "Asia/Shanghai", **limits})

    def ledger(self, license_id):
        """The license's ledger entries (`GET /v1/admin/licenses/<id>/ledger`)."""
        status, answer, _ = self.admin(f"/v1/admin/licenses/{license_id}/ledger")
        assert status == 200, f"ledger: {status} {answer}"
        return answer["entries"] if isinstance(answer, dict) else answer

    def chat_ledger(self, license_id):
        return [e for e in self.ledger(license_id) if e["kind"] in CHAT_KINDS]

    def usage_rows(self, license_id):
        status, answer, _ = self.admin(f"/v1/admin/usage?license_id={license_id}")
        assert status == 200, f"usage: {status} {answer}"
        return [row for row in answer["rows"] if row["license_id"] == license_id]

    def quota(self, key):
        status, answer, _ = http(f"{self.url}/v1/license/quota", headers={"Authorization": f"Bearer {key}"})
        assert status == 200, f"quota: {status} {answer}"
        return answer

    def client(self, key):
        return OpenAI(api_key=key, base_url=f"{self.url}/v1", max_retries=0, timeout=20)


def ledger_sums(entries):
    sums = {kind: 0 for kind in CHAT_KINDS}
    for entry in entries:
        quantity = entry["quantity"]
        assert isinstance(quantity, int), entry
        sums[entry["kind"]] += quantity
    return sums


def shanghai_today():
    return datetime.now(SHANGHAI).date().isoformat()


def seconds_to_shanghai_midnight():
    now = datetime.now(SHANGHAI)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    return (midnight - now).total_seconds()


STACK = None


def setUpModule():
    global STACK
    STACK = Stack()


def tearDownModule():
    if STACK:
        STACK.stop()


class ChatTestCase(unittest.TestCase):
    stack = None

    def setUp(self):
        self.stack = self.stack or STACK
        self.stack.control("/control/reset", {})

    def assertRefused(self, error_class, code, call):
        """Runs `call`, which must raise `error_class` with OpenAI's error body and `code`."""
        with self.assertRaises(error_class) as raised:
            call()
        error = raised.exception
        self.assertEqual(error.code, code, error.body)
        self.assertIsInstance(error.body, dict)
        self.assertLessEqual({"message", "type", "param", "code"}, set(error.body), error.body)
        self.assertIsInstance(error.body["message"], str)
        return error

    def assertRetryAfter(self, error, low, high):
        value = error.response.headers.get("retry-after")
        self.assertIsNotNone(value, "Retry-After missing")
        self.assertTrue(value.isdigit(), value)
        self.assertTrue(low <= int(value) <= high, f"Retry-After {value} not within {low}…{high}")
        return int(value)


class CompletionsAndStreams(ChatTestCase):
    def test_a_completion_comes_from_the_upstream_with_its_usage(self):
        key, _ = self.stack.create_chat_license()
        completion = self.stack.client(key).chat.completions.create(model="deepseek-chat", messages=HELLO, temperature=0)
        self.assertEqual(completion.choices[0].message.content, "[fake-llm] Hello there.")
        self.assertEqual(completion.choices[0].finish_reason, "stop")
        [report] = self.stack.answered()
        self.assertEqual(report["model"], "deepseek-chat")
        self.assertFalse(report["stream"])
        self.assertEqual(completion.usage.prompt_tokens, report["prompt_tokens"])
        self.assertEqual(completion.usage.completion_tokens, report["completion_tokens"])
        self.assertEqual(completion.usage.total_tokens, report["prompt_tokens"] + report["completion_tokens"])

    def test_an_alias_routes_to_its_upstream_model(self):
        key, _ = self.stack.create_chat_license()
        completion = self.stack.client(key).chat.completions.create(model="qwen-plus", messages=HELLO)
        self.assertEqual(completion.choices[0].message.content, "[fake-llm] Hello there.")
        self.assertEqual([r["model"] for r in self.stack.answered()], ["qwen-plus"])

    def test_max_tokens_reaches_the_upstream_and_cuts_the_answer(self):
        key, license_id = self.stack.create_chat_license()
        completion = self.stack.client(key).chat.completions.create(
            model="deepseek-chat", messages=[{"role": "user", "content": LONG_QUESTION}], max_tokens=3)
        self.assertEqual(completion.choices[0].message.content, "[fake-llm] word0 word1")
        self.assertEqual(completion.choices[0].finish_reason, "length")
        self.assertEqual(completion.usage.completion_tokens, 3)
        [report] = self.stack.answered()
        self.assertEqual(report["max_tokens"], 3)
        self.assertEqual(ledger_sums(self.stack.chat_ledger(license_id))["chat_output_tokens"], 3)

    def test_a_stream_passes_through_and_ends_with_usage_when_asked(self):
        key, _ = self.stack.create_chat_license()
        stream = self.stack.client(key).chat.completions.create(
            model="deepseek-chat", messages=HELLO, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        self.assertEqual(text, "[fake-llm] Hello there.")
        self.assertGreater(len([c for c in chunks if c.choices]), 2)
        self.assertEqual(chunks[-1].choices, [])
        [report] = self.stack.answered()
        self.assertEqual(chunks[-1].usage.prompt_tokens, report["prompt_tokens"])
        self.assertEqual(chunks[-1].usage.completion_tokens, report["completion_tokens"])
        self.assertEqual(len([c for c in chunks if not c.choices]), 1, "one usage chunk")

    def test_a_stream_without_include_usage_gets_no_usage_chunk(self):
        key, license_id = self.stack.create_chat_license()
        stream = self.stack.client(key).chat.completions.create(model="deepseek-chat", messages=HELLO, stream=True)
        chunks = list(stream)
        self.assertEqual("".join(c.choices[0].delta.content or "" for c in chunks if c.choices), "[fake-llm] Hello there.")
        self.assertEqual([c for c in chunks if not c.choices], [], "a usage-only chunk the client did not ask for")
        self.assertTrue(all(c.usage is None for c in chunks), [c.usage for c in chunks])
        # Billed all the same, at the upstream's figures.
        [report] = self.stack.answered()
        sums = wait_until(lambda: (s := ledger_sums(self.stack.chat_ledger(license_id)))["chat_request"] == 1 and s, 5, "the ledger")
        self.assertEqual((sums["chat_input_tokens"], sums["chat_output_tokens"]), (report["prompt_tokens"], report["completion_tokens"]))

    def test_models_are_the_licenses_aliases(self):
        key, _ = self.stack.create_chat_license()
        self.assertEqual(sorted(m.id for m in self.stack.client(key).models.list()), ["deepseek-chat", "qwen-plus"])


class Refusals(ChatTestCase):
    def test_wrong_and_malformed_keys_are_refused(self):
        unknown = "TRIAL-" + "-".join(["0123ABCD"] * 4)
        self.assertRefused(openai.AuthenticationError, "license_not_found",
                           lambda: self.stack.client(unknown).chat.completions.create(model="deepseek-chat", messages=HELLO))
        self.assertRefused(openai.AuthenticationError, "license_key_malformed",
                           lambda: self.stack.client("sk-not-a-license").chat.completions.create(model="deepseek-chat", messages=HELLO))
        self.assertEqual(self.stack.fake_requests(), [])

    def test_a_model_outside_the_license_is_not_found(self):
        key, _ = self.stack.create_chat_license()
        # fake-llm serves fake-chat, but the license does not map it.
        self.assertRefused(openai.NotFoundError, "model_not_allowed",
                           lambda: self.stack.client(key).chat.completions.create(model="fake-chat", messages=HELLO))
        self.assertEqual(self.stack.fake_requests(), [])

    def test_a_license_without_chat_is_refused(self):
        key, _ = self.stack.create_license()
        self.assertRefused(openai.PermissionDeniedError, "chat_not_enabled",
                           lambda: self.stack.client(key).chat.completions.create(model="deepseek-chat", messages=HELLO))

    def test_daily_requests_run_out_until_midnight_in_the_plans_time_zone(self):
        key, _ = self.stack.create_chat_license(requests_per_day=2)
        client = self.stack.client(key)
        for _ in range(2):
            client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        error = self.assertRefused(openai.RateLimitError, "chat_daily_requests_exhausted",
                                   lambda: client.chat.completions.create(model="deepseek-chat", messages=HELLO))
        retry = self.assertRetryAfter(error, 1, 86_400)
        self.assertLessEqual(abs(retry - seconds_to_shanghai_midnight()), 5, "Retry-After is the next Shanghai midnight")
        # A stream is refused the same way, before any event.
        self.assertRefused(openai.RateLimitError, "chat_daily_requests_exhausted",
                           lambda: client.chat.completions.create(model="deepseek-chat", messages=HELLO, stream=True))
        self.assertEqual(len(self.stack.answered()), 2)

    def test_requests_per_minute_are_limited(self):
        key, _ = self.stack.create_chat_license(requests_per_minute=2)
        client = self.stack.client(key)
        for _ in range(2):
            client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        error = self.assertRefused(openai.RateLimitError, "chat_rate_limited",
                                   lambda: client.chat.completions.create(model="deepseek-chat", messages=HELLO))
        self.assertRetryAfter(error, 1, 60)

    def run_until_refused(self, client, error_class, code):
        """Requests with a 20-word prompt until refused (at most 10); returns (answers, error)."""
        prompt = [{"role": "user", "content": " ".join(["tokens"] * 20)}]
        answers = 0
        for _ in range(10):
            try:
                client.chat.completions.create(model="deepseek-chat", messages=prompt)
                answers += 1
            except error_class as error:
                self.assertEqual(error.code, code, error.body)
                return answers, error
        self.fail(f"no {code} after 10 requests")

    def test_daily_tokens_run_out(self):
        key, _ = self.stack.create_chat_license(tokens_per_day=200)
        answers, error = self.run_until_refused(self.stack.client(key), openai.RateLimitError, "chat_daily_tokens_exhausted")
        self.assertGreaterEqual(answers, 1)
        self.assertRetryAfter(error, 1, 86_400)
        # The upstream was never asked for more than the license had left.
        for report in self.stack.answered():
            self.assertIsNotNone(report.get("max_tokens"), report)
            self.assertLessEqual(report["max_tokens"], 200)

    def test_lifetime_tokens_run_out(self):
        key, _ = self.stack.create_chat_license(tokens_total=200)
        answers, _ = self.run_until_refused(self.stack.client(key), openai.PermissionDeniedError, "chat_tokens_exhausted")
        self.assertGreaterEqual(answers, 1)
        for report in self.stack.answered():
            self.assertIsNotNone(report.get("max_tokens"), report)
            self.assertLessEqual(report["max_tokens"], 200)

    def test_parallel_requests_cannot_overrun_the_daily_limit(self):
        key, _ = self.stack.create_chat_license(requests_per_day=5)
        client = self.stack.client(key)
        for _ in range(2):
            client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        barrier = threading.Barrier(10)

        def one(_):
            own = self.stack.client(key)
            barrier.wait(timeout=10)
            try:
                own.chat.completions.create(model="deepseek-chat", messages=HELLO)
                return "ok"
            except openai.RateLimitError as error:
                return error.code
            finally:
                own.close()

        with ThreadPoolExecutor(max_workers=10) as pool:
            outcomes = list(pool.map(one, range(10)))
        self.assertEqual(outcomes.count("ok"), 3, outcomes)
        self.assertEqual(outcomes.count("chat_daily_requests_exhausted"), 7, outcomes)
        self.assertEqual(len(self.stack.answered()), 5)


class Billing(ChatTestCase):
    def test_usage_report_ledger_and_upstream_agree(self):
        key, license_id = self.stack.create_chat_license()
        client = self.stack.client(key)
        day_before = shanghai_today()
        client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        list(client.chat.completions.create(
            model="qwen-plus", messages=[{"role": "user", "content": "How are you today?"}], stream=True,
            stream_options={"include_usage": True}))
        list(client.chat.completions.create(
            model="deepseek-chat", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": LONG_QUESTION}],
            stream=True))
        day_after = shanghai_today()
        reports = self.stack.answered()
        self.assertEqual(len(reports), 3)
        upstream = (len(reports), sum(r["prompt_tokens"] for r in reports), sum(r["completion_tokens"] for r in reports))

        entries = wait_until(
            lambda: (e := self.stack.chat_ledger(license_id)) and ledger_sums(e)["chat_request"] == 3 and e, 5, "3 chat requests in the ledger")
        sums = ledger_sums(entries)
        self.assertEqual((sums["chat_request"], sums["chat_input_tokens"], sums["chat_output_tokens"]), upstream)
        for entry in entries:
            self.assertIn(entry["day"], {day_before, day_after}, "a chat row's day is the Shanghai quota day")
            if entry["kind"] == "chat_request":
                self.assertEqual(entry["quantity"], 1)

        rows = self.stack.usage_rows(license_id)
        self.assertTrue(rows)
        totals = tuple(sum(row[name] for row in rows) for name in ("chat_requests", "chat_input_tokens", "chat_output_tokens"))
        self.assertEqual(totals, upstream)
        self.assertTrue({row["day"] for row in rows if row["chat_requests"]} <= {day_before, day_after})

    def test_a_client_leaving_mid_stream_is_billed_once(self):
        key, license_id = self.stack.create_chat_license()
        self.stack.control("/control/inject", {"failure": "stream_slow", "delay_ms": 300})
        started = time.monotonic()
        stream = self.stack.client(key).chat.completions.create(
            model="deepseek-chat", messages=[{"role": "user", "content": LONG_QUESTION}], stream=True)
        chunks = iter(stream)
        next(chunks)
        next(chunks)
        # The whole answer takes about 10 s upstream: these chunks came through as they were made.
        self.assertLess(time.monotonic() - started, 5)
        stream.close()

        def settled():
            entries = self.stack.chat_ledger(license_id)
            [report] = [r for r in self.stack.fake_requests() if r["stream"]]
            return ledger_sums(entries)["chat_request"] == 1 and report["cancelled"] and (entries, report)

        entries, report = wait_until(settled, 10, "one chat_request in the ledger and the upstream stream cancelled")
        self.assertFalse(report["completed"])
        sums = ledger_sums(entries)
        self.assertGreater(sums["chat_input_tokens"] + sums["chat_output_tokens"], 0)
        time.sleep(2)
        self.assertEqual(ledger_sums(self.stack.chat_ledger(license_id))["chat_request"], 1, "billed once")

    def test_chat_leaves_the_speech_minutes_alone(self):
        key, license_id = self.stack.create_chat_license(requests_per_day=10)
        self.stack.admin(f"/v1/admin/licenses/{license_id}")
        before = self.stack.quota(key)
        self.assertEqual(before["seconds_used"], 0)
        self.assertEqual(before["chat"]["requests_today"], 0)
        self.assertEqual(before["chat"]["time_zone"], "Asia/Shanghai")
        self.assertEqual(sorted(before["chat"]["models"]), ["deepseek-chat", "qwen-plus"])
        client = self.stack.client(key)
        for _ in range(2):
            client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        reports = self.stack.answered()
        tokens = sum(r["prompt_tokens"] + r["completion_tokens"] for r in reports)
        after = wait_until(lambda: (q := self.stack.quota(key))["chat"]["requests_today"] == 2 and q, 5, "2 chat requests today")
        self.assertEqual(after["seconds_used"], before["seconds_used"])
        self.assertEqual(after["seconds_remaining"], before["seconds_remaining"])
        self.assertEqual(after["chat"]["tokens_today"], tokens)
        self.assertEqual(after["chat"]["tokens_used"], tokens)
        self.assertEqual(after["chat"]["requests_per_day"], 10)
        self.assertIn(after["chat"]["day"], {shanghai_today(), (datetime.now(SHANGHAI) - timedelta(minutes=1)).date().isoformat()})
        status, license_view, _ = self.stack.admin(f"/v1/admin/licenses/{license_id}")
        self.assertEqual(status, 200)
        self.assertEqual(license_view["used_ms"], 0)


class UpstreamFailover(ChatTestCase):
    """Each test on its own central and fake-llm: cooled keys stay cooled for minutes."""

    def setUp(self):
        self.stack = Stack()
        self.addCleanup(self.stack.stop)
        self.key, _ = self.stack.create_chat_license()
        self.client = self.stack.client(self.key)

    def assertServedByTheOtherKey(self):
        reports = self.stack.fake_requests()
        self.assertEqual([r["status"] for r in reports], [500, 200], reports)
        self.assertNotEqual(reports[0]["key_hint"], reports[1]["key_hint"])
        self.assertEqual({reports[0]["key_hint"], reports[1]["key_hint"]}, set(HINTS))

    def test_a_failing_key_is_cooled_and_the_next_one_answers(self):
        self.stack.control("/control/inject", {"failure": "500"})
        completion = self.client.chat.completions.create(model="deepseek-chat", messages=HELLO)
        self.assertEqual(completion.choices[0].message.content, "[fake-llm] Hello there.")
        self.assertServedByTheOtherKey()

    def test_a_stream_fails_over_before_its_first_byte(self):
        self.stack.control("/control/inject", {"failure": "500"})
        chunks = list(self.client.chat.completions.create(model="deepseek-chat", messages=HELLO, stream=True))
        self.assertEqual("".join(c.choices[0].delta.content or "" for c in chunks if c.choices), "[fake-llm] Hello there.")
        self.assertServedByTheOtherKey()

    def test_a_revoked_key_is_skipped(self):
        self.stack.control("/control/revoke", {"key": UPSTREAM_KEYS[0]})
        for _ in range(4):
            completion = self.client.chat.completions.create(model="deepseek-chat", messages=HELLO)
            self.assertEqual(completion.choices[0].message.content, "[fake-llm] Hello there.")
        reports = self.stack.fake_requests()
        self.assertEqual({r["key_hint"] for r in reports if r["status"] == 200}, {HINTS[1]}, reports)
        self.assertEqual(len([r for r in reports if r["status"] == 200]), 4)
        first_key = [r for r in reports if r["key_hint"] == HINTS[0]]
        self.assertTrue(first_key, "the revoked key was never tried")
        self.assertTrue(all(r["status"] == 401 for r in first_key), first_key)

    def test_every_key_failing_is_a_502_that_leaks_nothing(self):
        self.stack.control("/control/inject", {"failure": "500", "count": 10})
        error = self.assertRefused(openai.InternalServerError, "upstream_unavailable",
                                   lambda: self.client.chat.completions.create(model="deepseek-chat", messages=HELLO))
        self.assertEqual(error.status_code, 502)
        raw = error.response.text
        for secret in ["Injected failure"] + UPSTREAM_KEYS:
            self.assertNotIn(secret, error.body["message"])
            self.assertNotIn(secret, raw)
        self.assertEqual({r["key_hint"] for r in self.stack.fake_requests()}, set(HINTS))


if __name__ == "__main__":
    print(f"openai {openai.__version__}", file=sys.stderr)
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
