#!/usr/bin/env python3
"""Drive the official OpenAI Python SDK's chat client against fake-llm, the OpenAI-compatible
upstream central's LLM translation talks to: a completion, a stream with its final usage chunk,
the model list, and OpenAI's error bodies (the SDK raises its own exception types from them).

Run it with scripts/test-openai-sdk.sh. Needs FAKE_LLM_BIN (default .build/debug/fake-llm).
"""

import json
import os
import subprocess
import sys
import unittest
import urllib.request
from pathlib import Path

import openai
from openai import OpenAI

GOOD_KEY = "sk-llm-test-good"


class Fake:
    def __init__(self):
        binary = os.environ.get("FAKE_LLM_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/fake-llm"))
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--api-key", GOOD_KEY], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if "http://" not in line:
            raise RuntimeError(f"fake-llm did not start: {line!r}")
        self.base = line[line.index("http://"):]
        self.control_base = self.base[: -len("/v1")]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.control_base + path, data=data, method="GET" if body is None else "POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def client(self, key=GOOD_KEY):
        return OpenAI(api_key=key, base_url=self.base, max_retries=0)


FAKE = None


def setUpModule():
    global FAKE
    FAKE = Fake()


def tearDownModule():
    FAKE.stop()


MESSAGES = [
    {"role": "system", "content": "You translate live speech transcripts from English into Simplified Chinese."},
    {"role": "user", "content": "Hello there."},
]


class ChatCompletionsTests(unittest.TestCase):
    def setUp(self):
        FAKE.control("/control/reset", {})

    def test_a_completion_carries_the_answer_and_its_usage(self):
        completion = FAKE.client().chat.completions.create(model="deepseek-chat", messages=MESSAGES, temperature=0)
        self.assertEqual(completion.choices[0].message.content, "[fake-llm] Hello there.")
        self.assertEqual(completion.choices[0].finish_reason, "stop")
        self.assertEqual(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens)
        [request] = FAKE.control("/control/requests")["requests"]
        self.assertEqual((request["model"], request["messages"], request["stream"], request["status"]), ("deepseek-chat", 2, False, 200))

    def test_a_stream_comes_in_chunks_and_ends_with_usage(self):
        stream = FAKE.client().chat.completions.create(
            model="deepseek-chat", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        self.assertEqual(text, "[fake-llm] Hello there.")
        self.assertGreater(len([c for c in chunks if c.choices]), 2)
        self.assertIsNotNone(chunks[-1].usage)
        self.assertEqual(chunks[-1].choices, [])

    def test_models_are_listed(self):
        self.assertIn("deepseek-chat", [m.id for m in FAKE.client().models.list()])

    def test_errors_are_openai_shaped(self):
        with self.assertRaises(openai.AuthenticationError) as refused:
            FAKE.client(key="sk-wrong").chat.completions.create(model="deepseek-chat", messages=MESSAGES)
        self.assertEqual(refused.exception.code, "invalid_api_key")
        FAKE.control("/control/inject", {"failure": "429"})
        with self.assertRaises(openai.RateLimitError):
            FAKE.client().chat.completions.create(model="deepseek-chat", messages=MESSAGES)
        with self.assertRaises(openai.NotFoundError):
            FAKE.client().chat.completions.create(model="no-such-model", messages=MESSAGES)


if __name__ == "__main__":
    print(f"openai {openai.__version__}", file=sys.stderr)
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
