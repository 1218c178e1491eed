#!/usr/bin/env python3
"""Drive the official OpenAI Python SDK's realtime client (PyPI `openai[realtime]`) against
fake-openai-realtime in a transcription session.

The SDK builds the URL (`<websocket_base_url>/realtime?intent=transcription`) and the
`Authorization: Bearer` header, sends `session.update`, `input_audio_buffer.append` and
`.commit`, and parses every server event into its own types (`SessionUpdatedEvent`,
`InputAudioBufferCommittedEvent`, `ConversationItemInputAudioTranscriptionDeltaEvent`,
`…CompletedEvent` with its `usage`, `RealtimeErrorEvent`), so the tests assert on those.

Run it with scripts/test-openai-sdk.sh, or directly under a Python with `openai`:
    python3 Tests/OpenAISDK/test_realtime_against_fake.py [Test.name]
Needs FAKE_OPENAI_REALTIME_BIN (default .build/debug/fake-openai-realtime), espeak-ng and sox.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request
from pathlib import Path

import openai
from openai import OpenAI

GOOD_KEY = "sk-test-openai-good"
RATE = 24000
CHUNK = RATE * 2 // 10  # 100 ms of PCM16


class Fake:
    def __init__(self, tmp: Path):
        binary = os.environ.get(
            "FAKE_OPENAI_REALTIME_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/fake-openai-realtime"))
        self.log = open(tmp / "fake-openai-realtime.log", "wb")
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--api-key", GOOD_KEY], stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if "ws://" not in line:
            raise RuntimeError(f"fake-openai-realtime did not start: {line!r}")
        url = line[line.index("ws://"):]
        self.ws_base = url[: url.index("/realtime")]  # ws://host:port/v1
        self.http_base = self.ws_base.replace("ws://", "http://")
        self.control_base = self.http_base[: -len("/v1")]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.log.close()

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.control_base + path, data=data, method="GET" if body is None else "POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def sessions(self):
        return self.control("/control/sessions")["sessions"]

    def client(self, key=GOOD_KEY):
        return OpenAI(api_key=key, base_url=self.http_base, websocket_base_url=self.ws_base, max_retries=0)


class Fixtures:
    tmp: Path
    fake: Fake
    first: bytes
    second: bytes
    speech: bytes


def _run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed: {result.stderr}")


def _pcm24(tmp, name, text, pad_after):
    wav, padded, raw = tmp / f"{name}.wav", tmp / f"{name}_pad.wav", tmp / f"{name}.pcm"
    _run(["espeak-ng", "-v", "en", "-w", wav, text])
    _run(["sox", wav, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", padded, "pad", "0.3", str(pad_after)])
    _run(["sox", padded, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", raw])
    return raw.read_bytes()


def setUpModule():
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found; scripts/install-deps.sh installs espeak-ng and sox")
    tmp = Path(tempfile.mkdtemp(prefix="openai-sdk-"))
    Fixtures.tmp = tmp
    Fixtures.first = _pcm24(tmp, "a", "The quick brown fox jumps over the lazy dog.", 1.2)
    Fixtures.second = _pcm24(tmp, "b", "A second sentence for the fake realtime server.", 1.2)
    Fixtures.speech = Fixtures.first + Fixtures.second
    Fixtures.fake = Fake(tmp)


def tearDownModule():
    Fixtures.fake.stop()
    shutil.rmtree(Fixtures.tmp, ignore_errors=True)


def _session(model, vad):
    return {
        "type": "transcription",
        "audio": {"input": {
            "format": {"type": "audio/pcm", "rate": RATE},
            "transcription": {"model": model, "language": "en"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500} if vad else None,
        }},
    }


def _append(connection, pcm):
    for start in range(0, len(pcm), CHUNK):
        connection.input_audio_buffer.append(audio=base64.b64encode(pcm[start:start + CHUNK]).decode())


def _until(connection, count, kind="conversation.item.input_audio_transcription.completed"):
    """Events until `count` of `kind` came (or an error)."""
    events = []
    for event in connection:
        events.append(event)
        if event.type == "error" or sum(e.type == kind for e in events) >= count:
            break
    return events


class TranscriptionSessionTests(unittest.TestCase):
    def setUp(self):
        Fixtures.fake.control("/control/reset", {})

    def test_server_vad_commits_each_turn_and_reports_tokens(self):
        with Fixtures.fake.client().realtime.connect(extra_query={"intent": "transcription"}) as connection:
            created = connection.recv()
            self.assertEqual(created.type, "session.created")
            connection.session.update(session=_session("gpt-4o-transcribe", vad=True))
            self.assertEqual(connection.recv().type, "session.updated")
            _append(connection, Fixtures.speech)
            events = _until(connection, 2)
        types = [e.type for e in events]
        self.assertNotIn("error", types, events[-1])
        self.assertEqual(types.count("input_audio_buffer.committed"), 2)
        completed = [e for e in events if e.type == "conversation.item.input_audio_transcription.completed"]
        deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
        self.assertEqual(len(completed), 2)
        for item in completed:
            self.assertTrue(item.transcript.startswith("[fake] segment"))
            self.assertEqual(item.usage.type, "tokens")
            self.assertGreater(item.usage.input_tokens, 0)
            # The deltas of an item add up to its transcript.
            self.assertEqual("".join(d.delta for d in deltas if d.item_id == item.item_id), item.transcript)
        [report] = Fixtures.fake.sessions()
        self.assertEqual((report["model"], report["turn_detection"], report["errors"]), ("gpt-4o-transcribe", "server_vad", []))
        self.assertEqual(report["audio_ms"], len(Fixtures.speech) * 1000 // (RATE * 2))

    def test_without_vad_each_commit_is_a_turn_with_its_duration(self):
        with Fixtures.fake.client().realtime.connect(extra_query={"intent": "transcription"}) as connection:
            connection.recv()
            connection.session.update(session=_session("gpt-live-transcribe", vad=False))
            self.assertEqual(connection.recv().type, "session.updated")
            seconds = []
            for pcm in (Fixtures.first, Fixtures.second):
                _append(connection, pcm)
                connection.input_audio_buffer.commit()
                events = _until(connection, 1)
                self.assertEqual(events[-1].type, "conversation.item.input_audio_transcription.completed", events[-1])
                self.assertEqual(events[-1].usage.type, "duration")
                seconds.append(events[-1].usage.seconds)
            # An empty commit is an error event; the session carries on.
            connection.input_audio_buffer.commit()
            error = connection.recv()
            self.assertEqual((error.type, error.error.code), ("error", "input_audio_buffer_commit_empty"))
        self.assertAlmostEqual(sum(seconds), len(Fixtures.speech) / (RATE * 2), delta=0.01)
        [report] = Fixtures.fake.sessions()
        self.assertEqual((report["commits"], report["completed"], report["turn_detection"]), (2, 2, "none"))

    def test_vad_is_refused_for_a_model_that_does_not_take_it(self):
        with Fixtures.fake.client().realtime.connect(extra_query={"intent": "transcription"}) as connection:
            connection.recv()
            connection.session.update(session=_session("gpt-live-transcribe", vad=True))
            error = connection.recv()
        self.assertEqual((error.type, error.error.type), ("error", "invalid_request_error"))
        self.assertIn("turn_detection", error.error.message)

    def test_a_session_opened_with_a_model_refuses_the_transcription_update(self):
        with Fixtures.fake.client().realtime.connect(model="gpt-realtime") as connection:
            self.assertEqual(connection.recv().type, "session.created")
            connection.session.update(session=_session("gpt-4o-transcribe", vad=True))
            error = connection.recv()
        self.assertEqual(error.type, "error")
        self.assertIn("must not provide a model", error.error.message)

    def test_a_bad_key_is_refused_at_the_upgrade(self):
        with self.assertRaises(Exception) as refused:
            with Fixtures.fake.client(key="sk-wrong").realtime.connect(extra_query={"intent": "transcription"}) as connection:
                connection.recv()
        status = getattr(getattr(refused.exception, "response", None), "status_code", None) \
            or getattr(refused.exception, "status_code", None)
        self.assertEqual(status, 401, repr(refused.exception))
        self.assertEqual(Fixtures.fake.sessions(), [])


if __name__ == "__main__":
    print(f"openai {openai.__version__}", file=sys.stderr)
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
