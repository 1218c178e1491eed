#!/usr/bin/env python3
"""Drive the official Deepgram Python SDK (PyPI `deepgram-sdk`) against fake-deepgram.

This shows that the fake speaks Deepgram's live transcription protocol (`/v1/listen`) the way
the official client expects it: the SDK builds the URL and the `Authorization: Token` header,
sends Ogg Opus (no `encoding`) or raw linear16, `KeepAlive`, `Finalize` and `CloseStream`, and
parses every message into its own pydantic types (`ListenV1Results`, `ListenV1Metadata`), which
require the fields Deepgram sends. A fake the SDK cannot parse would be skipped by it silently,
so each test asserts the parsed types.

Run it with scripts/test-deepgram-sdk.sh (a virtualenv with the pinned SDK), or directly under
a Python that has `deepgram`:  python3 Tests/DeepgramSDK/test_sdk_against_fake.py [Test.name]

Needs FAKE_DEEPGRAM_BIN (default .build/debug/fake-deepgram), espeak-ng, sox and opusenc.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path

from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.types.listen_v1metadata import ListenV1Metadata
from deepgram.listen.v1.types.listen_v1results import ListenV1Results
from deepgram.listen.v1.types.listen_v1utterance_end import ListenV1UtteranceEnd
from websockets.exceptions import ConnectionClosedError, InvalidStatus

GOOD_KEY = "dg-test-good-key"
SAMPLE_RATE = 16000


class Fake:
    def __init__(self, tmp: Path):
        binary = os.environ.get("FAKE_DEEPGRAM_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/fake-deepgram"))
        self.log = open(tmp / "fake-deepgram.log", "wb")
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--api-key", GOOD_KEY, "--silence-timeout", "3"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if "ws://" not in line:
            raise RuntimeError(f"fake-deepgram did not start: {line!r}")
        url = line[line.index("ws://"):]
        self.ws_base = url[: url.index("/v1/listen")]
        self.http_base = self.ws_base.replace("ws://", "http://")

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
        request = urllib.request.Request(self.http_base + path, data=data, method="GET" if body is None else "POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def connections(self):
        return self.control("/control/connections")["connections"]

    def client(self, key=GOOD_KEY):
        environment = DeepgramClientEnvironment(
            base=self.http_base, production=self.ws_base, agent=self.ws_base, agent_rest=self.http_base)
        return DeepgramClient(api_key=key, environment=environment)


class Fixtures:
    tmp: Path
    fake: Fake
    pcm: bytes
    ogg: bytes
    duration_ms: int


def _run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed: {result.stderr}")


def setUpModule():
    for tool in ("espeak-ng", "sox", "opusenc"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found; scripts/install-deps.sh installs espeak-ng, sox, opus-tools")
    tmp = Path(tempfile.mkdtemp(prefix="deepgram-sdk-"))
    Fixtures.tmp = tmp
    a, b = tmp / "a.wav", tmp / "b.wav"
    _run(["espeak-ng", "-v", "en", "-w", a, "The quick brown fox jumps over the lazy dog."])
    _run(["espeak-ng", "-v", "en", "-w", b, "A second sentence for the fake Deepgram server."])
    padded, speech, wav16 = tmp / "a_pad.wav", tmp / "speech.wav", tmp / "speech16k.wav"
    _run(["sox", a, padded, "pad", "0.5", "1.5"])
    _run(["sox", padded, b, speech, "pad", "0", "1.0"])
    _run(["sox", speech, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", wav16])
    pcm, ogg = tmp / "speech.pcm", tmp / "speech.opus"
    _run(["sox", wav16, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", pcm])
    _run(["opusenc", "--quiet", wav16, ogg])
    Fixtures.pcm, Fixtures.ogg = pcm.read_bytes(), ogg.read_bytes()
    Fixtures.duration_ms = len(Fixtures.pcm) * 1000 // (SAMPLE_RATE * 2)
    Fixtures.fake = Fake(tmp)


def tearDownModule():
    Fixtures.fake.stop()
    shutil.rmtree(Fixtures.tmp, ignore_errors=True)


def _refusal_status(error):
    """The HTTP status of a refused upgrade: the SDK wraps it in ApiError for the websockets
    versions it knows, and lets websockets' own InvalidStatus through for newer ones."""
    if isinstance(error, ApiError):
        return error.status_code
    return error.response.status_code


def _chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def _stream(socket, chunks, *, keep_alive=False, finalize_at=None):
    """Sends the chunks from a thread (as an application would), then CloseStream; returns
    every message the SDK parsed, in order."""
    received = []
    failures = []

    def send():
        try:
            for index, chunk in enumerate(chunks):
                socket.send_media(chunk)
                if keep_alive and index == len(chunks) // 2:
                    socket.send_keep_alive()
                if index == finalize_at:
                    socket.send_finalize()
                time.sleep(0.002)
            socket.send_close_stream()
        except Exception as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    for message in socket:
        received.append(message)
    sender.join(timeout=30)
    if failures:
        raise failures[0]
    return received


class LiveTranscriptionTests(unittest.TestCase):
    def setUp(self):
        Fixtures.fake.control("/control/reset", {})

    def assertTranscribed(self, received, report):
        results = [m for m in received if isinstance(m, ListenV1Results)]
        metadata = [m for m in received if isinstance(m, ListenV1Metadata)]
        finals = [r for r in results if r.is_final]
        self.assertEqual(len(finals), 2, [r.channel.alternatives[0].transcript for r in results])
        self.assertTrue(any(not r.is_final for r in results), "no interim results")
        self.assertTrue(all(r.channel.alternatives[0].transcript.startswith("[fake] segment") for r in finals))
        self.assertEqual(len(metadata), 1, received[-3:])
        self.assertIsInstance(received[-1], ListenV1Metadata, "Metadata is the last message")
        # Deepgram bills the audio it heard: the Metadata's duration is the stream's length.
        self.assertAlmostEqual(metadata[0].duration * 1000, Fixtures.duration_ms, delta=60)
        self.assertEqual(report["errors"], [])
        self.assertEqual(report["state"], "closed")
        self.assertTrue(report["close_stream"])

    def test_ogg_opus_without_encoding(self):
        with Fixtures.fake.client().listen.v1.connect(
            model="nova-3", language="en", interim_results="true", endpointing="300", smart_format="true", tag="sdk-ogg",
            utterance_end_ms="1000",
        ) as socket:
            received = _stream(socket, _chunks(Fixtures.ogg, 1000), keep_alive=True)
        [report] = Fixtures.fake.connections()
        self.assertTranscribed(received, report)
        self.assertTrue(any(isinstance(m, ListenV1UtteranceEnd) for m in received), "no UtteranceEnd")
        self.assertIsNone(report.get("encoding"))
        self.assertEqual(report["tag"], "sdk-ogg")
        self.assertEqual(report["keep_alives"], 1)
        self.assertTrue(report["end_of_stream"])
        self.assertGreater(report["audio_packets"], 100)

    def test_linear16_with_encoding_and_finalize(self):
        with Fixtures.fake.client().listen.v1.connect(
            model="nova-3", language="en", interim_results="true", encoding="linear16", sample_rate="16000"
        ) as socket:
            # 100 ms chunks: chunk 15 is 1.5 s in, in the middle of the first sentence.
            received = _stream(socket, _chunks(Fixtures.pcm, 3200), finalize_at=15)
        [report] = Fixtures.fake.connections()
        self.assertEqual(report["finalizes"], 1)
        self.assertEqual(report["encoding"], "linear16")
        results = [m for m in received if isinstance(m, ListenV1Results)]
        # Finalize ended the sentence under way: its final says so.
        self.assertTrue(any(r.is_final and r.from_finalize for r in results), [(r.is_final, r.from_finalize) for r in results])
        self.assertEqual(report["errors"], [])

    def test_a_bad_key_is_refused_at_the_upgrade(self):
        with self.assertRaises((ApiError, InvalidStatus)) as refused:
            with Fixtures.fake.client(key="dg-wrong").listen.v1.connect(model="nova-3"):
                pass
        self.assertEqual(_refusal_status(refused.exception), 401)
        self.assertEqual(Fixtures.fake.connections(), [])

    def test_a_bad_query_is_refused_at_the_upgrade(self):
        with self.assertRaises((ApiError, InvalidStatus)) as refused:
            with Fixtures.fake.client().listen.v1.connect(model="nova-3", encoding="linear16"):
                pass  # sample_rate is required with encoding
        self.assertEqual(_refusal_status(refused.exception), 400)
        self.assertEqual(Fixtures.fake.connections(), [])

    def test_silence_closes_the_connection_with_net_0001(self):
        with Fixtures.fake.client().listen.v1.connect(model="nova-3") as socket:
            socket.send_media(Fixtures.ogg[:4000])
            started = time.monotonic()
            with self.assertRaises(ConnectionClosedError) as closed:
                for _ in socket:
                    pass
            self.assertLess(time.monotonic() - started, 10)
            self.assertEqual(closed.exception.rcvd.code, 1011)
            self.assertEqual(closed.exception.rcvd.reason, "NET-0001")
        [report] = Fixtures.fake.connections()
        self.assertEqual(report["state"], "timed-out")
        self.assertEqual(report["failure"], "NET-0001")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
