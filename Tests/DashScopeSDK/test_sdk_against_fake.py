#!/usr/bin/env python3
"""Drive the official DashScope Python SDK (from PyPI) against fake-dashscope.

This shows that the fake speaks the real DashScope "inference" duplex
WebSocket protocol, as the official clients expect it:

  * dashscope.audio.asr.Recognition                   (paraformer-realtime-v2, fun-asr-realtime)
  * dashscope.audio.asr.TranslationRecognizerRealtime (gummy-realtime-v1)

Run it with scripts/test-dashscope-sdk.sh, which makes a virtualenv with the
pinned SDK. It can also run directly under any Python that has `dashscope`:

    python3 Tests/DashScopeSDK/test_sdk_against_fake.py [TestClass.test_name ...]

What it relies on from the fake (FAKE_DASHSCOPE_BIN, default
.build/debug/fake-dashscope):

    fake-dashscope --port 0 --api-key sk-test-good [--bad-key-mode task-failed]
      stdout, one line when ready:
        fake-dashscope listening on ws://127.0.0.1:<port>/api-ws/v1/inference
      logs on stderr; exits on SIGTERM; a wrong key gets HTTP 401 at the
      upgrade (default) or task-failed with --bad-key-mode task-failed.
      Control API on the same port: POST /control/inject {"failure":"task-failed",
      "after_ms":N,"error_code":..,"error_message":..}; POST /control/reset;
      GET /control/tasks -> {"tasks":[{"task_id","state","received_bytes","errors",...}]}.

SDK facts the assertions rest on (dashscope 2.0.2; identical in 1.27.8):

  * The URL is dashscope.base_websocket_api_url, used verbatim (no path is
    appended); the key is dashscope.api_key, sent as
    "Authorization: Bearer <key>" (api_entities/websocket_request.py:74-77).
  * Recognition takes a sentence as final when sentence.end_time is not null;
    it does not read sentence_end (audio/asr/recognition.py:124-137).
  * If a result-generated payload has no "usage" key, Recognition reads
    sentence["end_time"] (recognition.py:306-313, websocket_request.py:257-268):
    interim sentences need "end_time": null, or the payload "usage": null.
  * on_complete fires only when task-finished carries a non-empty payload whose
    output is empty, e.g. {"output":{},"usage":null} (websocket_request.py:284-297,
    recognition.py:265-275, translation_recognizer.py:403-409).
  * HTTP 401/403 at the upgrade -> on_error with status_code 401/403 and message
    "Unauthorized, your api-key is invalid!" (websocket_request.py:224-238).
  * task-failed -> on_error with status_code 44, code = header.error_code,
    message = header.error_message, request_id = header.task_id
    (websocket_request.py:208-215, 298-299, 308-316, 413-423).
  * An exception while parsing an event (KeyError on a missing field) kills the
    SDK's worker thread without any callback, so the tests watch
    threading.excepthook.
"""

import faulthandler
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path

# aiohttp runs with trust_env=True: never send loopback traffic to a proxy.
for _var in ("NO_PROXY", "no_proxy"):
    _cur = os.environ.get(_var, "")
    os.environ[_var] = ",".join(x for x in (_cur, "127.0.0.1", "localhost") if x)

import dashscope  # noqa: E402
from dashscope.audio.asr import (  # noqa: E402
    Recognition,
    RecognitionCallback,
    RecognitionResult,
    TranslationRecognizerCallback,
    TranslationRecognizerRealtime,
)
from dashscope.common.error import InvalidParameter  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_BIN = Path(
    os.environ.get("FAKE_DASHSCOPE_BIN", REPO_ROOT / ".build" / "debug" / "fake-dashscope")
)
GOOD_KEY = "sk-test-good"
BAD_KEY = "sk-test-wrong-key"

SAMPLE_RATE = 16000
PCM_CHUNK = SAMPLE_RATE * 2 // 10  # 100 ms of s16le mono = 3200 bytes
OPUS_CHUNK = 1024  # arbitrary byte chunks: Ogg pages get split across frames
# Seconds to sleep between 100 ms chunks: 0.1 is real time, the default ~5x faster.
PACE = float(os.environ.get("DASHSCOPE_SDK_TEST_PACE", "0.02"))
STOP_TIMEOUT = float(os.environ.get("DASHSCOPE_SDK_TEST_STOP_TIMEOUT", "30"))
ERROR_TIMEOUT = 15.0
READY_TIMEOUT = 30.0
WHOLE_RUN_TIMEOUT = 600  # faulthandler ends a hung run after this

UNAUTHORIZED_MESSAGE = "Unauthorized, your api-key is invalid!"  # websocket_request.py:228
WEBSOCKET_ERROR_CODE = 44  # dashscope.common.constants.WEBSOCKET_ERROR_CODE

# Exceptions that escape SDK threads (worker, iter_async_thread, timers).
THREAD_ERRORS = []
_orig_excepthook = threading.excepthook


def _record_thread_exception(args):
    THREAD_ERRORS.append(
        f"{args.thread.name if args.thread else '?'}: "
        f"{args.exc_type.__name__}: {args.exc_value!r}"
    )
    _orig_excepthook(args)


threading.excepthook = _record_thread_exception

# Loopback only, never through a proxy.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeDashScope:
    """One fake-dashscope child process."""

    def __init__(self, tmp, name, extra_args=()):
        self.log_path = tmp / f"{name}.log"
        self.log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        self.proc = None
        self.url = None
        self.port = None
        self.extra_args = list(extra_args)

    def start(self):
        if not (FAKE_BIN.is_file() and os.access(FAKE_BIN, os.X_OK)):
            raise RuntimeError(
                f"{FAKE_BIN} is missing; build it first (swift build --product fake-dashscope)"
            )
        self.proc = subprocess.Popen(
            [str(FAKE_BIN), "--port", "0", "--api-key", GOOD_KEY, *self.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        lines = queue.Queue()

        def pump():
            first = True
            for line in self.proc.stdout:
                if first:
                    lines.put(line)
                    first = False
                else:  # keep draining so the fake never blocks on a full pipe
                    self.log.write("[stdout] " + line)
                    self.log.flush()
            if first:
                lines.put(None)

        threading.Thread(target=pump, name="fake-stdout", daemon=True).start()
        try:
            line = lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            line = None
        if not line:
            raise RuntimeError(
                f"fake-dashscope printed no ready line within {READY_TIMEOUT:.0f}s "
                f"(exit code {self.proc.poll()}); log:\n{self.tail()}"
            )
        m = re.match(
            r"^fake-dashscope listening on (ws://127\.0\.0\.1:(\d+)/api-ws/v1/inference)\s*$",
            line,
        )
        if not m or int(m.group(2)) == 0:
            raise RuntimeError(f"unexpected ready line from fake-dashscope: {line!r}")
        self.url, self.port = m.group(1), int(m.group(2))
        return self

    def stop(self):
        """SIGTERM; returns a problem description or None."""
        proc, self.proc = self.proc, None
        problem = None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                problem = "fake-dashscope did not exit within 10 s of SIGTERM"
        elif proc is not None:
            problem = f"fake-dashscope exited early with code {proc.returncode}"
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if problem or os.environ.get("DASHSCOPE_SDK_TEST_SHOW_LOG"):
            sys.stderr.write(f"--- {self.log_path.name} ---\n{self.tail()}\n")
        self.log.close()
        return problem

    def tail(self, n=80):
        if not self.log.closed:
            self.log.flush()
        if not self.log_path.exists():
            return "(no log)"
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])

    # The fake's control API (same port, plain HTTP).
    def control(self, path, body=None):
        url = f"http://127.0.0.1:{self.port}/control/{path}"
        if body is None:
            req = urllib.request.Request(url)
        else:
            req = urllib.request.Request(
                url,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
        with _HTTP.open(req, timeout=5) as resp:
            data = resp.read()
            return json.loads(data) if data else None

    def task_report(self, task_id):
        reports = [t for t in self.control("tasks")["tasks"] if t.get("task_id") == task_id]
        return reports[-1] if reports else None


class Fixtures:
    tmp = None
    pcm = b""  # 16 kHz mono s16le
    pcm_path = None
    opus = b""  # Ogg Opus made by opusenc from the same 16 kHz wav
    opus_path = None
    duration_ms = 0
    fake = None
    keep_tmp = False  # main() removes tmp itself, after printing the log tail


def _run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({res.returncode}): {res.stderr}")


def _make_audio(tmp):
    for tool in ("espeak-ng", "sox", "opusenc"):
        if shutil.which(tool) is None:
            raise RuntimeError(
                f"{tool} not found; scripts/install-deps.sh installs espeak-ng, sox, opus-tools"
            )
    a, b = tmp / "a.wav", tmp / "b.wav"
    _run(["espeak-ng", "-v", "en", "-w", a, "The quick brown fox jumps over the lazy dog."])
    _run(["espeak-ng", "-v", "en", "-w", b, "Testing the fake DashScope server with a second sentence."])
    a_pad = tmp / "a_pad.wav"
    # 0.5 s of silence before the first sentence, 1.5 s between the two, 1 s after.
    _run(["sox", a, a_pad, "pad", "0.5", "1.5"])
    speech = tmp / "speech.wav"
    _run(["sox", a_pad, b, speech, "pad", "0", "1.0"])
    wav16 = tmp / "speech16k.wav"
    _run(["sox", speech, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", wav16])
    pcm = tmp / "speech.pcm"
    _run(["sox", wav16, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", pcm])
    opus = tmp / "speech.opus"
    _run(["opusenc", "--quiet", wav16, opus])
    Fixtures.pcm_path, Fixtures.opus_path = pcm, opus
    Fixtures.pcm, Fixtures.opus = pcm.read_bytes(), opus.read_bytes()
    if len(Fixtures.pcm) < SAMPLE_RATE * 2 or len(Fixtures.pcm) % 2:
        raise RuntimeError(f"unexpected pcm size {len(Fixtures.pcm)}")
    if not Fixtures.opus.startswith(b"OggS") or b"OpusHead" not in Fixtures.opus[:64]:
        raise RuntimeError("opusenc did not produce an Ogg Opus file")
    Fixtures.duration_ms = len(Fixtures.pcm) * 1000 // (SAMPLE_RATE * 2)


def setUpModule():
    Fixtures.tmp = Path(tempfile.mkdtemp(prefix="dashscope-sdk-test-"))
    try:
        _make_audio(Fixtures.tmp)
        Fixtures.fake = FakeDashScope(Fixtures.tmp, "fake-dashscope").start()
        # The SDK reads this attribute on every call (api_entities/api_request_factory.py:
        # 187-194) and connects to it verbatim. DASHSCOPE_WEBSOCKET_BASE_URL is only read
        # when dashscope is imported (common/env.py:106-113).
        dashscope.base_websocket_api_url = Fixtures.fake.url
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    fake, Fixtures.fake = Fixtures.fake, None
    problem = fake.stop() if fake is not None else None
    if not Fixtures.keep_tmp:
        _remove_tmp()
    if problem:
        raise AssertionError(problem)


def _remove_tmp():
    if Fixtures.tmp is not None and not os.environ.get("DASHSCOPE_SDK_TEST_KEEP_TMP"):
        shutil.rmtree(Fixtures.tmp, ignore_errors=True)


def _fake_log_tail():
    return Fixtures.fake.tail() if Fixtures.fake is not None else "(fake not running)"


def _desc(response):
    # RecognitionResult.__str__ raises AttributeError (recognition.py:93-97 reads
    # .headers, which RecognitionResult never sets): never str() one.
    try:
        return repr(dict(response))
    except Exception:  # noqa: BLE001
        return object.__repr__(response)


def _chunks(data, size):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _call_with_timeout(fn, timeout, what):
    """Run fn() on a daemon thread; fail instead of hanging when it never returns."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            box["error"] = e

    t = threading.Thread(target=target, name=f"call:{what}", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(
            f"{what} did not return within {timeout:.0f}s (no task-finished from the fake?)\n"
            f"fake log tail:\n{_fake_log_tail()}"
        )
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _send_all(client, data, chunk, pace):
    for piece in _chunks(data, chunk):
        try:
            client.send_audio_frame(piece)
        except InvalidParameter:
            return  # the task already ended with on_error; the caller asserts on it
        if pace:
            time.sleep(pace)


def _stop(client):
    """stop(), bounded in time. After on_error the SDK has already cleared
    _running, so stop() raises InvalidParameter; callers assert on the callbacks."""
    try:
        _call_with_timeout(client.stop, STOP_TIMEOUT, f"{type(client).__name__}.stop()")
    except InvalidParameter:
        pass
    finally:
        # The SDK's 23 s silence Timer is a non-daemon thread that stop() leaves
        # running once the task has failed; cancel it so the run does not linger.
        timer = getattr(client, "_silence_timer", None)
        if timer is not None:
            timer.cancel()


class Collector:
    def __init__(self):
        self.lock = threading.Lock()
        self.order = []
        self.events = []
        self.errors = []
        self.completed = threading.Event()
        self.errored = threading.Event()
        self.closed = threading.Event()

    def on_open(self):
        with self.lock:
            self.order.append("open")

    def on_complete(self):
        with self.lock:
            self.order.append("complete")
        self.completed.set()

    def on_error(self, result):
        with self.lock:
            self.order.append("error")
            self.errors.append(result)
        self.errored.set()

    def on_close(self):
        with self.lock:
            self.order.append("close")
        self.closed.set()


class RecognitionCollector(Collector, RecognitionCallback):
    def on_event(self, result):
        with self.lock:
            self.order.append("event")
            self.events.append((result.get_sentence(), result))


class TranslationCollector(Collector, TranslationRecognizerCallback):
    def on_event(self, request_id, transcription_result, translation_result, usage):
        with self.lock:
            self.order.append("event")
            self.events.append((request_id, transcription_result, translation_result, usage))


class SDKTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        THREAD_ERRORS.clear()
        dashscope.api_key = GOOD_KEY
        self.assertIsNotNone(Fixtures.fake, "fake-dashscope is not running")
        dashscope.base_websocket_api_url = Fixtures.fake.url

    def assertNoThreadErrors(self):
        self.assertEqual(
            THREAD_ERRORS,
            [],
            "an SDK thread raised (usually a missing or ill-typed field in a server event)\n"
            f"fake log tail:\n{_fake_log_tail()}",
        )

    def assertCleanRun(self, cb):
        self.assertNoThreadErrors()
        self.assertEqual(
            [_desc(e) for e in cb.errors], [], f"on_error fired\nfake log tail:\n{_fake_log_tail()}"
        )
        self.assertTrue(
            cb.completed.is_set(),
            "on_complete did not fire: task-finished must carry a non-empty payload whose "
            f"output is empty, e.g. {{\"output\":{{}},\"usage\":null}}; order={cb.order}",
        )
        self.assertEqual(cb.order[0], "open", cb.order)
        self.assertEqual(cb.order[-2:], ["complete", "close"], cb.order)
        self.assertEqual(cb.order.count("complete"), 1, cb.order)
        self.assertEqual(cb.order.count("close"), 1, cb.order)

    def assertFakeAccepted(self, task_id, data):
        """The fake's own report: it took every byte and found nothing wrong."""
        report = Fixtures.fake.task_report(task_id)
        self.assertIsNotNone(report, f"the fake has no report for task {task_id}")
        self.assertEqual(report.get("state"), "finished", report)
        self.assertEqual(report.get("received_bytes"), len(data), report)
        self.assertEqual(report.get("errors"), [], f"fake-dashscope found problems: {report}")
        return report

    def assertRefusedAtUpgrade(self, client, cb):
        """A wrong key: on_error with HTTP 401 from the upgrade, then on_close, and nothing else."""
        client.start()
        try:
            self.assertTrue(cb.errored.wait(ERROR_TIMEOUT), f"no on_error; order={cb.order}")
            self.assertTrue(cb.closed.wait(5), f"no on_close after on_error; order={cb.order}")
        finally:
            _stop(client)
        self.assertNoThreadErrors()
        self.assertEqual(len(cb.errors), 1, cb.order)
        err = cb.errors[0]  # a DashScopeAPIResponse
        self.assertEqual(err.status_code, 401, f"expected HTTP 401 at the upgrade, got {_desc(err)}")
        self.assertEqual(err.message, UNAUTHORIZED_MESSAGE)
        self.assertEqual(cb.events, [])
        self.assertFalse(cb.completed.is_set())

    def assertFailsAtRunTask(self, client, cb, code):
        """The upgrade succeeds and run-task is answered with task-failed `code`."""
        task_id = client.get_last_request_id()
        client.start()
        try:
            self.assertTrue(cb.errored.wait(ERROR_TIMEOUT), f"no on_error; order={cb.order}")
        finally:
            _stop(client)
        self.assertNoThreadErrors()
        self.assertTaskFailed(cb, task_id, code=code)

    def assertTaskFailed(self, cb, task_id, code=None):
        err = cb.errors[0]
        self.assertEqual(
            err.status_code,
            WEBSOCKET_ERROR_CODE,
            "expected a task-failed event (SDK status 44); status -1/'Unknown' means the fake "
            "closed the socket first or sent task-failed without header.task_id/error_code/"
            f"error_message: {_desc(err)}",
        )
        self.assertIsInstance(err.code, str)
        self.assertTrue(err.code, _desc(err))
        if code is not None:
            self.assertEqual(err.code, code, _desc(err))
        self.assertIsInstance(err.message, str)
        self.assertTrue(err.message, _desc(err))
        self.assertEqual(err.request_id, task_id, "task-failed echoes the run-task task_id")
        self.assertFalse(cb.completed.is_set())
        return err


# ---- Recognition (Paraformer, Fun-ASR) --------------------------------------------------


class RecognitionTests(SDKTestCase):
    def _recognition(self, cb, fmt, model="paraformer-realtime-v2"):
        return Recognition(model=model, callback=cb, format=fmt, sample_rate=SAMPLE_RATE)

    def _stream(self, rec, data, chunk, pace):
        rec.start()
        _send_all(rec, data, chunk, pace)
        _stop(rec)
        return rec._callback

    def _check_events(self, cb, min_finals=1):
        finals = []
        for sentence, result in cb.events:
            self.assertIsInstance(sentence, dict, f"payload.output.sentence missing: {_desc(result)}")
            self.assertIsInstance(sentence.get("text"), str, sentence)
            self.assertIsInstance(sentence.get("begin_time"), int, sentence)
            self.assertIn("end_time", sentence, "interim sentences carry end_time: null")
            self.assertIsInstance(sentence.get("sentence_id"), int, sentence)
            self.assertIsInstance(sentence.get("words"), list, sentence)
            is_final = RecognitionResult.is_sentence_end(sentence)
            self.assertEqual(
                sentence.get("sentence_end"),
                is_final,
                "the SDK decides finality by end_time != null; sentence_end must agree: "
                f"{sentence}",
            )
            if is_final:
                finals.append((sentence, result))
                self.assertIsInstance(sentence["end_time"], int, sentence)
                self.assertLessEqual(sentence["begin_time"], sentence["end_time"], sentence)
                self.assertLessEqual(
                    sentence["end_time"], Fixtures.duration_ms + 500, "end_time past the audio"
                )
                self.assertTrue(sentence["text"].strip(), sentence)
                usage = result.get_usage(sentence)
                self.assertIsInstance(usage, dict, f"final sentence without payload.usage: {sentence}")
                self.assertIsInstance(usage.get("duration"), int, usage)
            else:
                self.assertFalse(result.usage, f"interim results carry usage: null: {_desc(result)}")
        self.assertGreaterEqual(
            len(finals), min_finals, f"no final sentence; events={[s for s, _ in cb.events]}"
        )
        ids = [s["sentence_id"] for s, _ in finals]
        self.assertEqual(ids, sorted(set(ids)), f"final sentence_ids not increasing: {ids}")
        return finals

    def test_paraformer_pcm_streaming(self):
        cb = RecognitionCollector()
        rec = self._recognition(cb, "pcm")
        self._stream(rec, Fixtures.pcm, PCM_CHUNK, PACE)
        self.assertCleanRun(cb)
        finals = self._check_events(cb)
        for _, result in finals:
            self.assertEqual(result.get_request_id(), rec.get_last_request_id())
        self.assertFakeAccepted(rec.get_last_request_id(), Fixtures.pcm)

    def test_paraformer_opus_streaming_split_pages(self):
        cb = RecognitionCollector()
        rec = self._recognition(cb, "opus")
        self._stream(rec, Fixtures.opus, OPUS_CHUNK, PACE / 4)
        self.assertCleanRun(cb)
        self._check_events(cb)
        self.assertFakeAccepted(rec.get_last_request_id(), Fixtures.opus)

    def test_fun_asr_opus_call_file_mode(self):
        # Recognition.call(file) uses the same duplex protocol: 12800-byte binary
        # frames sent back to back, then finish-task (recognition.py:513-537). This is
        # how Alibaba's own sample sends Ogg Opus files.
        rec = Recognition(
            model="fun-asr-realtime", callback=None, format="opus", sample_rate=SAMPLE_RATE
        )
        result = _call_with_timeout(
            lambda: rec.call(str(Fixtures.opus_path)), STOP_TIMEOUT, "Recognition.call()"
        )
        self.assertNoThreadErrors()
        self.assertEqual(result.status_code, 200, f"{result.code}: {result.message}")
        sentences = result.get_sentence()
        self.assertIsInstance(sentences, list, f"no final sentence in {_desc(result)}")
        self.assertGreaterEqual(len(sentences), 1)
        for s in sentences:
            self.assertIsNotNone(s.get("end_time"), s)
            self.assertTrue(s.get("text", "").strip(), s)
        self.assertFakeAccepted(rec.get_last_request_id(), Fixtures.opus)

    def test_recognizer_reuse_keeps_task_id(self):
        # A Recognition object sends the same task_id on every start()
        # (recognition.py:241, 362; websocket_request.py:319-320): a new
        # connection with a task_id the fake has seen before must work.
        cb1 = RecognitionCollector()
        rec = self._recognition(cb1, "pcm")
        first_id = rec.get_last_request_id()
        self._stream(rec, Fixtures.pcm, PCM_CHUNK, PACE / 4)
        self.assertCleanRun(cb1)
        cb2 = RecognitionCollector()
        rec._callback = cb2  # no public setter; the object is what gets reused
        self._stream(rec, Fixtures.pcm, PCM_CHUNK, PACE / 4)
        self.assertCleanRun(cb2)
        self._check_events(cb2)
        self.assertEqual(rec.get_last_request_id(), first_id)

    def test_wrong_api_key_is_http_401(self):
        dashscope.api_key = BAD_KEY
        cb = RecognitionCollector()
        self.assertRefusedAtUpgrade(self._recognition(cb, "pcm"), cb)

    def test_task_failed_at_run_task(self):
        Fixtures.fake.control(
            "inject",
            {"failure": "task-failed", "error_code": "InternalError", "error_message": "injected"},
        )
        cb = RecognitionCollector()
        rec = self._recognition(cb, "pcm")
        task_id = rec.get_last_request_id()
        rec.start()
        try:
            self.assertTrue(cb.errored.wait(ERROR_TIMEOUT), f"no on_error; order={cb.order}")
        finally:
            _stop(rec)
            Fixtures.fake.control("reset", {})  # drop the injection if it was not used
        self.assertNoThreadErrors()
        err = self.assertTaskFailed(cb, task_id, code="InternalError")
        self.assertEqual(err.message, "injected")
        self.assertEqual(cb.events, [])

    def test_task_failed_mid_stream(self):
        Fixtures.fake.control(
            "inject",
            {
                "failure": "task-failed",
                "after_ms": 1000,
                "error_code": "InternalError",
                "error_message": "injected mid-stream",
            },
        )
        cb = RecognitionCollector()
        rec = self._recognition(cb, "pcm")
        task_id = rec.get_last_request_id()
        rec.start()
        try:
            _send_all(rec, Fixtures.pcm, PCM_CHUNK, PACE)
            self.assertTrue(cb.errored.wait(ERROR_TIMEOUT), f"no on_error; order={cb.order}")
        finally:
            _stop(rec)
            Fixtures.fake.control("reset", {})
        self.assertNoThreadErrors()
        self.assertTaskFailed(cb, task_id, code="InternalError")
        self.assertIn("close", cb.order[cb.order.index("error"):], cb.order)


class BadKeyTaskFailedTests(SDKTestCase):
    """With --bad-key-mode task-failed the fake accepts the upgrade and fails run-task."""

    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeDashScope(Fixtures.tmp, "fake-dashscope-task-failed", ["--bad-key-mode", "task-failed"]).start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.fake.stop() if cls.fake is not None else None
        if problem:
            raise AssertionError(problem)

    def setUp(self):
        super().setUp()
        dashscope.base_websocket_api_url = self.fake.url
        dashscope.api_key = BAD_KEY

    def tearDown(self):
        dashscope.base_websocket_api_url = Fixtures.fake.url

    def test_recognition_wrong_key_task_failed(self):
        cb = RecognitionCollector()
        rec = Recognition(
            model="paraformer-realtime-v2", callback=cb, format="pcm", sample_rate=SAMPLE_RATE
        )
        self.assertFailsAtRunTask(rec, cb, "InvalidApiKey")

    def test_translation_wrong_key_task_failed(self):
        cb = TranslationCollector()
        tr = TranslationRecognizerRealtime(
            model="gummy-realtime-v1", callback=cb, format="pcm", sample_rate=SAMPLE_RATE,
            translation_enabled=True, translation_target_languages=["zh"],
        )
        self.assertFailsAtRunTask(tr, cb, "InvalidApiKey")


# ---- TranslationRecognizerRealtime (Gummy) ------------------------------------------


class TranslationTests(SDKTestCase):
    TARGET = "zh"

    def _make(self, cb, fmt):
        return TranslationRecognizerRealtime(
            model="gummy-realtime-v1",
            callback=cb,
            format=fmt,
            sample_rate=SAMPLE_RATE,
            source_language="en",
            transcription_enabled=True,
            translation_enabled=True,  # the SDK default is False
            translation_target_languages=[self.TARGET],
        )

    def _stream(self, tr, data, chunk, pace):
        tr.start()
        _send_all(tr, data, chunk, pace)
        _stop(tr)
        return tr._callback

    def _check_events(self, cb, tr):
        final_transcriptions, final_translations = [], []
        for request_id, transcription, translation, _usage in cb.events:
            self.assertEqual(request_id, tr.get_last_request_id())
            if transcription is not None:
                self.assertIsInstance(transcription.text, str)
                self.assertIsInstance(transcription.sentence_id, int)
                self.assertIsInstance(transcription.begin_time, int)
                self.assertIsInstance(transcription.end_time, int)
                if transcription.is_sentence_end:
                    final_transcriptions.append(transcription)
            if translation is not None:
                langs = translation.get_language_list()
                self.assertIn(langs, ([], [self.TARGET]), "translations: one entry per target")
                if not langs:
                    continue
                t = translation.get_translation(self.TARGET)
                self.assertEqual(t.language, self.TARGET)
                self.assertIsInstance(t.text, str)
                self.assertIsInstance(t.sentence_id, int)
                self.assertIsInstance(t.begin_time, int)
                self.assertIsInstance(t.end_time, int)
                if translation.is_sentence_end:
                    final_translations.append(t)
        self.assertGreaterEqual(len(final_transcriptions), 1, "no final transcription")
        self.assertGreaterEqual(len(final_translations), 1, "no final translation")
        for s in final_transcriptions + final_translations:
            self.assertTrue(s.text.strip(), s)
            self.assertLessEqual(s.begin_time, s.end_time, s)
            self.assertLessEqual(s.end_time, Fixtures.duration_ms + 500, s)
        self.assertEqual(
            sorted({s.sentence_id for s in final_transcriptions}),
            sorted({s.sentence_id for s in final_translations}),
            "every final transcription has a final translation with the same sentence_id",
        )

    def test_gummy_pcm_streaming(self):
        cb = TranslationCollector()
        tr = self._make(cb, "pcm")
        self._stream(tr, Fixtures.pcm, PCM_CHUNK, PACE)
        self.assertCleanRun(cb)
        self._check_events(cb, tr)
        self.assertFakeAccepted(tr.get_last_request_id(), Fixtures.pcm)

    def test_gummy_opus_streaming_split_pages(self):
        cb = TranslationCollector()
        tr = self._make(cb, "opus")
        self._stream(tr, Fixtures.opus, OPUS_CHUNK, PACE / 4)
        self.assertCleanRun(cb)
        self._check_events(cb, tr)
        self.assertFakeAccepted(tr.get_last_request_id(), Fixtures.opus)

    def test_wrong_api_key_is_http_401(self):
        dashscope.api_key = BAD_KEY
        cb = TranslationCollector()
        self.assertRefusedAtUpgrade(self._make(cb, "pcm"), cb)


def main():
    faulthandler.dump_traceback_later(WHOLE_RUN_TIMEOUT, exit=True)
    Fixtures.keep_tmp = True
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    result = prog.result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - failed - skipped)
    if failed and Fixtures.tmp is not None:
        for log in sorted(Fixtures.tmp.glob("*.log")):
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            sys.stderr.write(f"--- {log.name} (last 80 lines) ---\n" + "\n".join(lines[-80:]) + "\n")
    _remove_tmp()
    print(f"dashscope-sdk: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    sys.stderr.flush()
    # SDK worker/timer threads are non-daemon; do not let a stuck one hold the exit.
    os._exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
