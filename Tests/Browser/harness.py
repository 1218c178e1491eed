"""Real processes for the browser tests: a central on a temporary SQLite file with the demo
provider, edge agents whose microphone is an ALSA `file` device fed by espeak-ng speech, and
headless Chromium driven by Selenium (Debian's chromium and chromium-driver)."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("BIN_DIR", ROOT / ".build" / "debug"))
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / ".build" / "browser-screenshots"))
WEB_SOURCES = ROOT / "Sources" / "EdgeAgent" / "Web"
CONSOLE_SOURCES = ROOT / "Sources" / "Central" / "ConsoleWeb"
CONSOLE_SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOT_DIR", ROOT / ".build" / "console-screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ADMIN_TOKEN = "browser-test-admin-token-0123456789abcdef"


def clear_old_failure_screenshots():
    """Failure screenshots describe the last run only."""
    for directory in (SCREENSHOTS, CONSOLE_SCREENSHOTS):
        for old in directory.glob("failed-*.png"):
            old.unlink(missing_ok=True)


clear_old_failure_screenshots()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command: str, env: dict | None = None) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def http(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, parsed JSON or text) without raising on HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})")


def binary(name: str) -> Path:
    path = BIN / name
    # The binaries may be replaced by a concurrent build for a moment.
    wait_until(lambda: path.exists() and os.access(path, os.X_OK), 120, f"{path} (build it with `swift build`)", 1)
    return path


def sync_web_bundle():
    """The edge serves its page from the SwiftPM resource bundle next to the binary."""
    sync_bundle("*_EdgeAgent.resources", "Web", WEB_SOURCES)


def sync_console_bundle():
    """Central serves its console from the SwiftPM resource bundle next to the binary."""
    sync_bundle("*_Central.resources", "ConsoleWeb", CONSOLE_SOURCES)


def sync_bundle(pattern: str, name: str, sources: Path):
    """Make sure the bundle's copy of a page is the page under test: refresh it from Sources when
    it differs (SwiftPM does not always re-copy a changed resource directory)."""
    bundles = list(BIN.glob(pattern))
    if not bundles:
        raise RuntimeError(f"no {pattern} in {BIN}; build first")
    target = bundles[0] / name

    def differs(left: Path, right: Path) -> bool:
        comparison = filecmp.dircmp(left, right)
        if comparison.left_only or comparison.right_only or comparison.funny_files:
            return True
        _, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
        return bool(mismatch or errors) or any(differs(left / d, right / d) for d in comparison.common_dirs)

    if not target.exists() or differs(sources, target):
        print(f"\n[harness] refreshing {target} from {sources.relative_to(ROOT)}")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(sources, target)


class Speech:
    """espeak-ng speech as 16 kHz S16_LE mono raw (for the ALSA file device) and as a 48 kHz
    WAV (for Chromium's fake microphone)."""

    TEXT = "Hello. This is a live translation test of the edge agent. The weather is fine today."

    def __init__(self, directory: Path, repeats: int = 4):
        self.directory = directory
        spoken = directory / "spoken.wav"
        run("espeak-ng", "-s", "150", "-w", str(spoken), self.TEXT)
        # Speech, a pause, repeated; then silence. Past the end the ALSA file plugin repeats its
        # last buffer, so a silent tail keeps what follows deterministic (no more speech).
        pieces = []
        for index in range(repeats):
            piece = directory / f"piece{index}.wav"
            run("sox", str(spoken), "-r", "16000", "-c", "1", "-b", "16", str(piece), "pad", "0", "0.8")
            pieces.append(str(piece))
        self.wav16 = directory / "speech16.wav"
        run("sox", *pieces, str(self.wav16), "pad", "0", "2")
        self.raw = directory / "speech.raw"
        run("sox", str(self.wav16), "-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", str(self.raw))
        # Chromium loops the fake-capture file: speech then a pause, at the usual 48 kHz.
        self.wav48 = directory / "speech48.wav"
        run("sox", str(spoken), "-r", "48000", "-c", "1", "-b", "16", str(self.wav48), "pad", "0", "1")


class Process:
    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name = name
        self.log = log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(command, env=env, stdout=self._log_file, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class FakeProvider:
    """A fake provider process (`fake-dashscope`, `fake-deepgram`, `fake-openai-realtime`,
    `fake-llm`): the real protocol, with the demo's segmenter. `url` is where it listens, as it
    prints it (ws:// for speech, http:// for the LLM)."""

    def __init__(self, name: str, directory: Path, keys: list[str]):
        directory.mkdir(parents=True, exist_ok=True)
        command = [str(binary(name)), "--port", "0"] + [arg for key in keys for arg in ("--api-key", key)]
        self._stderr = open(directory / f"{name}.log", "wb")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        scheme = "ws://" if "ws://" in line else "http://"
        if scheme not in line:
            raise RuntimeError(f"{name} did not start: {line!r}")
        self.url = line[line.index(scheme):]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr.close()


class Central:
    def __init__(self, directory: Path, extra_env: dict | None = None):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(directory),
            "DATABASE_URL": f"sqlite:{directory / 'central.sqlite'}",
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "CENTRAL_PORT": str(self.port),
            "CENTRAL_HOST": "127.0.0.1",
            "SPEECH_PROVIDER": "demo",
            "LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        self.process = Process("central", [str(binary("central")), "serve"], self.env, directory / "central.log")
        wait_until(lambda: self._healthy(), 30, "central /healthz")

    def _healthy(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"central exited:\n{self.process.tail()}")
        return http(f"{self.url}/healthz", timeout=2)[0] == 200

    def create_license(self, name: str = "Browser test", **options) -> str:
        """A license through the admin API (central is running); returns its key."""
        return self.create_license_record(name, **options)["key"]

    def create_license_record(self, name: str = "Browser test", **options) -> dict:
        """Like create_license, but returns the whole answer (key and license)."""
        command = [str(binary("central")), "license", "create", "--url", self.url, "--token", ADMIN_TOKEN,
                   "--name", name, "--json"]
        for option, value in options.items():
            command += [f"--{option.replace('_', '-')}", str(value)]
        return json.loads(run(*command, env=self.env))

    def license_action(self, action: str, license_id: str):
        """suspend, resume, revoke … through the admin API."""
        run(str(binary("central")), "license", action, "--url", self.url, "--token", ADMIN_TOKEN, "--json", license_id,
            env=self.env)

    def stop(self):
        self.process.stop()


class Edge:
    def __init__(self, directory: Path, central: Central | str, key: str, raw: Path | None, audio_device: str = "testmic",
                 extra_env: dict | None = None, port: int | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "alsa").mkdir(exist_ok=True)
        if raw is not None:
            (directory / "alsa" / "asoundrc").write_text(
                f'pcm.testmic {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" format "raw" }}\n')
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}/"
        self.api = f"http://localhost:{self.port}/api"
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(directory),
            "XDG_CONFIG_HOME": str(directory),
            "LICENSE_KEY": key,
            "CENTRAL_URL": central if isinstance(central, str) else central.url,
            "EDGE_PORT": str(self.port),
            "EDGE_DATA_DIR": str(directory / "edge"),
            "AUDIO_DEVICE": audio_device,
            "LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        self.process = Process("edge-agent", [str(binary("edge-agent"))], env, directory / "edge.log")
        wait_until(self._up, 30, "edge /api/status")

    def _up(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"edge-agent exited:\n{self.process.tail()}")
        return http(f"{self.api}/status", timeout=2)[0] == 200

    def status(self) -> dict:
        return http(f"{self.api}/status")[1]

    def start(self, source="en", target="zh"):
        return http(f"{self.api}/translation/start", "POST", {"source_language": source, "target_language": target})

    def stop(self):
        self.process.stop()


def make_driver(downloads: Path, width: int = 1280, height: int = 900, fake_audio: Path | None = None,
                lang: str = "en-US") -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        f"--lang={lang}",
        "--hide-scrollbars",
        "--force-color-profile=srgb",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        "--no-first-run",
        "--disable-features=Translate,MediaRouter",
    ):
        options.add_argument(argument)
    if fake_audio is not None:
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument(f"--use-file-for-fake-audio-capture={fake_audio}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "intl.accept_languages": lang,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": False})
    # For diagnosing failures: the page's WebSocket traffic (times and event types, no payloads).
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WS_LOG_SCRIPT})
    return driver


WS_LOG_SCRIPT = """
(() => {
  const log = window.__wsLog = [];
  const note = (what) => { log.push(`${(performance.now() / 1000).toFixed(2)} ${what}`); if (log.length > 400) log.shift(); };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      note("open " + args[0]);
      this.addEventListener("message", (e) => {
        if (typeof e.data !== "string") return note("binary in");
        const m = e.data.match(/"type":"(\\w+)"/);
        const link = e.data.match(/"link":"(\\w+)"/);
        note("in " + (m ? m[1] : "?") + (link ? " " + link[1] : ""));
      });
      this.addEventListener("close", (e) => note("close " + e.code));
      this.addEventListener("error", () => note("error"));
    }
  };
  const nativeFetch = window.fetch;
  window.fetch = (...args) => {
    note("fetch " + args[0]);
    return nativeFetch(...args).then((r) => { note("fetched " + args[0] + " " + r.status); return r; },
                                      (e) => { note("fetch failed " + args[0]); throw e; });
  };
})();
"""


def screenshot(driver: webdriver.Chrome, name: str, full_page: bool = True, directory: Path = SCREENSHOTS) -> Path:
    """A PNG of the whole page (not only the viewport) under .build/browser-screenshots (or `directory`)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    if full_page:
        import base64
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(path))
    return path


def temporary_directory(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
