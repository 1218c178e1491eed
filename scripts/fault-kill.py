#!/usr/bin/env python3
"""The instance-fault run of issue 13 (a measurement, not a test): N central instances on one
PostgreSQL database behind a load balancer, S streaming clients that behave like the real edge,
and K random `kill -9` of an instance, each restarted (same CENTRAL_INSTANCE_ID and port) after
a random 0-3 s. Afterwards it stops the clients, waits for settlement and reports, from the
database, audio sent vs billed per session (seconds lost), resumes that worked vs fell back to a
new session, and leases leaked.

Started by scripts/fault-kill.sh, which owns PostgreSQL and nginx; this program owns the central
processes (so it can kill them) and the clients. Standard library only: the WebSocket client is
a minimal RFC 6455 one (masked frames, unfragmented messages out, fragments and pings in).

The clients follow edge-agent's link (Sources/EdgeAgent/Link/CentralLink.swift): audio is
captured in real time whether or not the link is up, into a 10 s replay buffer of frames not
yet acknowledged (an `ack` drops what it covers; REPLAY=window keeps the whole 10 s instead);
a dropped connection is resumed through the load balancer with jittered backoff (0.25 s,
doubling, capped at 8 s); `started.next_sequence` says where the replay starts; a refused
resume starts a new session. A session lasts SESSION_SECONDS (a random range), then `stop`.
"""
import argparse
import asyncio
import base64
import collections
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

FRAME_MS = 20
FRAME_US = FRAME_MS * 1000
REPLAY_FRAMES = 500  # the edge's 10 s replay buffer
START = {"type": "start", "v": 1, "source_language": "zh", "target_language": "en",
         "codec": {"name": "opus", "sample_rate": 16000, "channels": 1, "frame_ms": 20, "pre_skip": 312}}


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# ---- Opus packets ------------------------------------------------------------------------------

def opus_packets(work):
    """Real 20 ms Opus packets (opusenc on a 16 kHz tone-and-silence WAV, read out of the Ogg
    pages): the demo provider decodes them, and central checks every packet's TOC."""
    import math
    import wave
    wav, ogg = os.path.join(work, "tone.wav"), os.path.join(work, "tone.opus")
    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        samples = bytearray()
        for n in range(16000 * 3):
            loud = (n % 24000) < 16000  # 1 s of tone, 0.5 s of silence
            value = int(9000 * math.sin(2 * math.pi * 220 * n / 16000)) if loud else 0
            samples += struct.pack("<h", value)
        out.writeframes(bytes(samples))
    subprocess.run(["opusenc", "--quiet", "--framesize", "20", "--bitrate", "24", "--downmix-mono", wav, ogg], check=True)
    data = open(ogg, "rb").read()
    packets, current, offset = [], b"", 0
    while offset < len(data):
        if data[offset:offset + 4] != b"OggS":
            raise SystemExit("opusenc wrote something that is not Ogg")
        segments = data[offset + 26]
        table = data[offset + 27:offset + 27 + segments]
        body = offset + 27 + segments
        for lace in table:
            current += data[body:body + lace]
            body += lace
            if lace < 255:
                packets.append(current)
                current = b""
        offset = body
    audio = [p for p in packets[2:] if opus_duration_us(p) == FRAME_US]  # after OpusHead, OpusTags
    if len(audio) < 50:
        raise SystemExit("opusenc gave too few 20 ms packets")
    return audio


def opus_duration_us(packet):
    if not packet:
        return 0
    config, code = packet[0] >> 3, packet[0] & 3
    if config < 12:
        frame = (10000, 20000, 40000, 60000)[config % 4]
    elif config < 16:
        frame = (10000, 20000)[config % 2]
    else:
        frame = (2500, 5000, 10000, 20000)[config % 4]
    count = 1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    return frame * count


def audio_frame(sequence, capture_us, packet):
    # docs/protocol.md §5: type, version, flags, sequence, duration µs, capture time µs, packet.
    return struct.pack(">BBHIIQ", 1, 1, 0, sequence, FRAME_US, capture_us) + packet


# ---- A minimal WebSocket client ------------------------------------------------------------------

class Closed(Exception):
    pass


def ws_frame(opcode, payload):
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if n:
        key = (mask * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + mask + payload


class WebSocket:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host, port, path, token, timeout=5):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, OSError) as error:
            writer.close()
            raise Closed(f"upgrade failed: {error!r}")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            writer.close()
            raise Closed(f"upgrade refused: {status.decode(errors='replace')}")
        return cls(reader, writer)

    def send_text(self, obj):
        return self.send(1, json.dumps(obj).encode())

    def send_binary(self, data):
        return self.send(2, data)

    def send(self, opcode, payload):
        """False once the connection is closing: the frame was not sent."""
        if self.writer.transport.is_closing():
            return False
        self.writer.write(ws_frame(opcode, payload))
        return True

    async def receive(self):
        """The next text message as a dict (binary messages are skipped); Closed at the end."""
        parts = b""
        try:
            while True:
                b0, b1 = await self.reader.readexactly(2)
                opcode, n = b0 & 0x0F, b1 & 0x7F
                if n == 126:
                    n = int.from_bytes(await self.reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await self.reader.readexactly(8), "big")
                mask = await self.reader.readexactly(4) if b1 & 0x80 else None
                data = await self.reader.readexactly(n)
                if mask:
                    data = bytes(c ^ mask[i & 3] for i, c in enumerate(data))
                if opcode == 8:
                    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                    raise Closed(f"close {code}")
                if opcode == 9:
                    self.writer.write(ws_frame(10, data))
                    continue
                if opcode == 10:
                    continue
                parts += data
                if not b0 & 0x80:
                    continue
                message, parts = parts, b""
                if opcode in (1, 0):
                    return json.loads(message)
        except (asyncio.IncompleteReadError, OSError) as error:
            raise Closed(repr(error))

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass


# ---- HTTP (admission, admin) ---------------------------------------------------------------------

def http_json(method, url, body=None, headers=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return 0, {"error": {"code": "unreachable", "message": repr(error)}}


def error_code(body):
    return (body.get("error") or {}).get("code", "?") if isinstance(body, dict) else "?"


# ---- Sessions and clients ------------------------------------------------------------------------

class Session:
    def __init__(self, client, session_id, token, seconds):
        self.client, self.id, self.token = client, session_id, token
        self.planned_seconds = seconds
        self.t0 = None                 # wall time of frame 0 (the first `started`)
        self.captured = 0              # frames captured so far (next sequence to capture)
        self.capture_done = False
        self.buffer = collections.deque()  # (sequence, frame bytes) not yet acknowledged
        self.sent = bytearray()        # per sequence: 0 never written, 1 written, 2 written but unreplayable
        self.edge_dropped = 0          # frames pushed out of a full buffer before they were sent
        self.unreplayable = 0          # frames sent once, below next_sequence's reach after a resume
        self.resumes = 0               # resumes that got `started`
        self.resume_points = []        # (frames behind the last captured, next_sequence) per resume
        self.end = None                # "stopped:<reason>" or "fallback:<why>"
        self.stopped_billed_ms = None
        self.socket = None             # the WebSocket while `started` and not dropped
        self.stop_sent, self.stop_sent_at = False, 0.0

    def sent_frames(self):
        return len(self.sent) - self.sent.count(0)

    def mark_sent(self, sequence):
        if sequence >= len(self.sent):
            self.sent.extend(b"\0" * (sequence + 1 - len(self.sent) + 256))
        self.sent[sequence] = max(1, self.sent[sequence])


class Driver:
    def __init__(self, args, packets):
        self.args, self.packets = args, packets
        self.lb_host, self.lb_port = "127.0.0.1", args.lb_port
        self.base = f"http://127.0.0.1:{args.lb_port}"
        self.stopping = False
        self.sessions = []
        self.active = {}               # client index -> Session being captured
        self.counts = collections.Counter()
        self.errors = collections.Counter()
        self.key = None

    # Capture: one ticker for every client, frames due by wall time since each session's t0.
    async def ticker(self):
        while True:
            now = time.monotonic()
            for session in list(self.active.values()):
                if session.t0 is None or session.capture_done:
                    continue
                if self.stopping or now - session.t0 >= session.planned_seconds:
                    session.capture_done = True
                    if session.socket and not session.stop_sent:
                        session.socket.send_text({"type": "stop", "v": 1})
                        session.stop_sent, session.stop_sent_at = True, now
                    continue
                due = int((now - session.t0) * 1000 // FRAME_MS) + 1
                while session.captured < due:
                    seq = session.captured
                    packet = self.packets[seq % len(self.packets)]
                    frame = audio_frame(seq, int((session.t0_wall + seq * FRAME_MS / 1000) * 1e6), packet)
                    if len(session.buffer) >= REPLAY_FRAMES:
                        old, _ = session.buffer.popleft()
                        if old >= len(session.sent) or not session.sent[old]:
                            session.edge_dropped += 1
                    session.buffer.append((seq, frame))
                    session.captured += 1
                    if session.socket and session.socket.send_binary(frame):
                        session.mark_sent(seq)
            await asyncio.sleep(0.01)

    async def post(self, body):
        return await asyncio.to_thread(http_json, "POST", self.base + "/v1/sessions", body,
                                       {"Authorization": f"Bearer {self.key}"})

    async def client(self, index):
        device = f"fault-edge-{index:02d}"
        await asyncio.sleep(random.uniform(0, 2))
        while not self.stopping:
            status, body = await self.post({"device_id": device})
            if status != 201:
                self.counts[f"admission_refused:{status}:{error_code(body)}"] += 1
                await asyncio.sleep(random.uniform(0.5, 1.5))
                continue
            low, high = self.args.session_seconds
            session = Session(index, body["session_id"], body["stream_token"], random.uniform(low, high))
            self.sessions.append(session)
            self.active[index] = session
            try:
                await self.stream(session, device)
            finally:
                self.active.pop(index, None)

    async def stream(self, session, device):
        token, resume = session.token, False
        while True:
            outcome = await self.connection(session, token, resume)
            if outcome == "done":
                return
            if outcome.startswith("refused:"):
                session.end = ("fallback:start_" if resume else "start_refused:") + outcome[8:]
                self.counts["resume_fallback" if resume else "start_refused"] += 1
                return
            token = await self.resume(session, device)
            if token is None:
                self.counts["resume_fallback"] += 1
                return
            resume = True

    async def resume(self, session, device):
        began, attempt = time.monotonic(), 0
        while time.monotonic() - began < 40:
            attempt += 1
            await asyncio.sleep(min(8.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))
            status, body = await self.post({"device_id": device, "resume_session_id": session.id})
            if status == 200:
                return body["stream_token"]
            code = error_code(body)
            if status in (0, 500, 502, 503, 504) or (status == 429 and code == "rate_limited"):
                self.counts[f"resume_retry:{status}"] += 1
                continue
            session.end = f"fallback:{status}:{code}"
            return None
        session.end = "fallback:timeout"
        return None

    async def connection(self, session, token, resume):
        try:
            socket = await WebSocket.connect(self.lb_host, self.lb_port, "/v1/stream", token)
        except (Closed, OSError, asyncio.TimeoutError) as error:
            self.counts["connect_failed"] += 1
            return "dropped"
        try:
            start = dict(START)
            if resume:
                start["resume_session_id"] = session.id
            socket.send_text(start)
            deadline = time.monotonic() + 15
            while True:
                message = await asyncio.wait_for(socket.receive(), max(0.1, deadline - time.monotonic()))
                kind = message.get("type")
                if kind == "started":
                    break
                if kind == "error":
                    self.errors[message.get("code")] += 1
                    if message.get("fatal"):
                        return "refused:" + str(message.get("code"))
            self.on_started(session, message, resume, socket)
            session.socket = socket
            session.stop_sent = False  # a new connection needs its own `stop`
            if session.capture_done and not session.stop_sent:
                socket.send_text({"type": "stop", "v": 1})
                session.stop_sent, session.stop_sent_at = True, time.monotonic()
            heard = time.monotonic()
            pending = asyncio.ensure_future(socket.receive())
            try:
                while True:
                    done, _ = await asyncio.wait({pending}, timeout=1.0)
                    now = time.monotonic()
                    if not done:
                        # Central acks twice a second: silence means a dead link nobody closed.
                        if now - heard > 10:
                            self.counts["silent_link"] += 1
                            return "dropped"
                        if session.stop_sent and now - session.stop_sent_at > 20:
                            session.end = "no_stopped"
                            return "done"
                        continue
                    message = pending.result()
                    pending = asyncio.ensure_future(socket.receive())
                    heard = now
                    kind = message.get("type")
                    if kind == "ack" and self.args.replay == "acked":
                        last = message["last_sequence"]
                        while session.buffer and session.buffer[0][0] <= last:
                            session.buffer.popleft()
                    elif kind == "stopped":
                        session.end = "stopped:" + message.get("reason", "?")
                        session.stopped_billed_ms = message.get("billed_ms")
                        return "done"
                    elif kind == "error":
                        self.errors[message.get("code")] += 1
            finally:
                pending.cancel()
                try:
                    await pending
                except BaseException:
                    pass
        except (Closed, OSError, asyncio.TimeoutError, ValueError):
            return "dropped"
        finally:
            session.socket = None
            socket.close()

    def on_started(self, session, started, resume, socket):
        next_sequence = started.get("next_sequence", 0)
        if session.t0 is None:
            session.t0, session.t0_wall = time.monotonic(), time.time()
        if resume:
            session.resumes += 1
            self.counts["resume_ok"] += 1
            session.resume_points.append((session.captured - next_sequence, next_sequence))
        while session.buffer and session.buffer[0][0] < next_sequence:
            session.buffer.popleft()
        # Frames sent once that the buffer no longer holds (an ack dropped them) but the new
        # instance asks for again: they can never be replayed, so they are never billed.
        first = session.buffer[0][0] if session.buffer else session.captured
        for seq in range(next_sequence, min(first, len(session.sent))):
            if session.sent[seq] == 1:
                session.sent[seq] = 2  # still sent once; counted as unreplayable once
                session.unreplayable += 1
        for seq, frame in session.buffer:
            if socket.send_binary(frame):
                session.mark_sent(seq)

    # ---- instances and faults ----------------------------------------------------------------

class Instance:
    def __init__(self, name, port, args, work):
        self.name, self.port, self.args, self.work = name, port, args, work
        self.process = None
        self.up_since = None

    def start(self):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.work, "ADMIN_TOKEN": self.args.admin_token,
               "CENTRAL_INSTANCE_ID": self.name, "TRUSTED_PROXIES": "127.0.0.1/32",
               "LEASE_TTL_SECONDS": str(self.args.lease_ttl)}
        out = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        self.process = subprocess.Popen(
            [self.args.central, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--database-url", self.args.database_url, "--log-level", self.args.log_level],
            env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        out.close()
        with open(os.path.join(self.work, f"{self.name}.pid"), "w") as pid:
            pid.write(str(self.process.pid))
        self.up_since = time.monotonic()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.up_since = None

    def terminate(self):
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def wait_serving(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = await asyncio.to_thread(http_json, "GET", f"http://127.0.0.1:{self.port}/healthz", None, None, 1)
            if status == 200:
                return True
            await asyncio.sleep(0.1)
        return False


def psql(url, sql):
    result = subprocess.run(["psql", url, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                            check=True, capture_output=True, text=True)
    return [line.split("\t") for line in result.stdout.splitlines() if line]


async def faults(args, instances, log_rows):
    """K times: wait 2-6 s, kill -9 a running instance (never the last one serving), restart it
    after 0-3 s on the same port with the same CENTRAL_INSTANCE_ID."""
    restarts = []
    boot_seconds = args.boot_seconds

    async def restart(instance, delay):
        await asyncio.sleep(delay)
        instance.start()
        began = time.monotonic()
        if not await instance.wait_serving():
            log(f"{instance.name} did not come back; see its log")
        boot_seconds.append(time.monotonic() - began)

    for k in range(args.kills):
        await asyncio.sleep(random.uniform(2, 6))
        while True:
            now = time.monotonic()
            running = [i for i in instances if i.running]
            # At least one other instance must stay up, and have been serving for a while.
            candidates = [i for i in running if any(o is not i and o.up_since and now - o.up_since > 3 for o in running)]
            if candidates:
                break
            await asyncio.sleep(0.2)
        victim = random.choice(candidates)
        live = psql(args.database_url, f"SELECT count(*) FROM stream_sessions WHERE status = 'live' AND owner_instance = '{victim.name}'")
        victim.kill9()
        delay = random.uniform(0, 3)
        log_rows.append((k + 1, victim.name, int(live[0][0]), round(delay, 2)))
        log(f"kill -9 #{k + 1} {victim.name} ({live[0][0]} live sessions), restart in {delay:.1f} s")
        restarts.append(asyncio.ensure_future(restart(victim, delay)))
    await asyncio.gather(*restarts)


def unexpired_leases(url):
    return int(psql(url, f"SELECT count(*) FROM leases WHERE expires_at > {int(time.time() * 1000)}")[0][0])


async def run(args):
    work = args.work
    packets = opus_packets(work)
    names = [f"central-{chr(97 + i)}" for i in range(args.instances)]
    instances = [Instance(name, port, args, work) for name, port in zip(names, args.ports)]
    driver = Driver(args, packets)
    try:
        instances[0].start()  # migrates first
        if not await instances[0].wait_serving():
            raise SystemExit(f"{names[0]} did not start; see {work}/{names[0]}.log")
        for instance in instances[1:]:
            instance.start()
        for instance in instances[1:]:
            if not await instance.wait_serving():
                raise SystemExit(f"{instance.name} did not start; see {work}/{instance.name}.log")
        status, body = await asyncio.to_thread(
            http_json, "POST", driver.base + "/v1/admin/licenses",
            {"customer_name": "fault-kill", "minutes": 1_000_000, "sessions": 1_000_000, "days": 30,
             "concurrent": args.streams * 3, "devices": args.streams, "provider": "demo"},
            {"Authorization": f"Bearer {args.admin_token}"})
        if status != 201:
            raise SystemExit(f"license not created: {status} {body}")
        driver.key, license_id = body["key"], body["license"]["id"]
        log(f"{args.instances} instances, {args.streams} streams, {args.kills} kills, lease TTL {args.lease_ttl} s, replay={args.replay}")

        ticker = asyncio.ensure_future(driver.ticker())
        clients = [asyncio.ensure_future(driver.client(i)) for i in range(args.streams)]
        await asyncio.sleep(args.warmup)
        kill_rows = []
        began = time.monotonic()
        await faults(args, instances, kill_rows)
        fault_seconds = time.monotonic() - began
        await asyncio.sleep(args.cooldown)
        log("stopping the clients")
        driver.stopping = True
        _, unfinished = await asyncio.wait(clients, timeout=90)
        driver.counts["clients_not_finished"] = len(unfinished)
        ticker.cancel()
        # Settlement: sessions whose resume fell back are closed by their (restarted) instance or
        # by a survivor within the lapse time; wait for that, bounded by the lease TTL.
        settle_began = time.monotonic()
        deadline = settle_began + args.lease_ttl + 10
        while time.monotonic() < deadline:
            live = int(psql(args.database_url, "SELECT count(*) FROM stream_sessions WHERE status = 'live'")[0][0])
            if live == 0:
                break
            await asyncio.sleep(0.5)
        settle_seconds = time.monotonic() - settle_began
        # A lease admitted but never streamed (its instance died before `started`) lapses by
        # itself within the TTL; one still unexpired after that is leaked.
        unexpired = unexpired_leases(args.database_url)
        lease_deadline = time.monotonic() + args.lease_ttl + 5
        while unexpired_leases(args.database_url) and time.monotonic() < lease_deadline:
            await asyncio.sleep(1)
        return report(args, driver, license_id, kill_rows, fault_seconds, settle_seconds, unexpired)
    finally:
        for instance in instances:
            instance.terminate()


def report(args, driver, license_id, kill_rows, fault_seconds, settle_seconds, unexpired_at_settlement):
    url = args.database_url
    rows = psql(url, f"SELECT id, billed_ms, status, coalesce(stop_reason, ''), coalesce(owner_instance, '') "
                     f"FROM stream_sessions WHERE license_id = '{license_id}'")
    stored = {r[0]: (int(r[1]), r[2], r[3], r[4]) for r in rows}
    active_leases = unexpired_leases(url)
    lease_rows = int(psql(url, "SELECT count(*) FROM leases")[0][0])
    live_sessions = int(psql(url, "SELECT count(*) FROM stream_sessions WHERE status = 'live'")[0][0])
    ledger = int(psql(url, f"SELECT coalesce(sum(amount_ms), 0) FROM ledger WHERE license_id = '{license_id}' AND kind = 'debit'")[0][0])
    used = int(psql(url, f"SELECT used_ms FROM licenses WHERE id = '{license_id}'")[0][0])
    daily = int(psql(url, f"SELECT coalesce(sum(used_ms), 0) FROM daily_usage WHERE license_id = '{license_id}'")[0][0])
    status, usage = http_json("GET", f"http://127.0.0.1:{args.lb_port}/v1/admin/usage?license_id={license_id}", None,
                              {"Authorization": f"Bearer {args.admin_token}"})
    usage_ms = usage.get("total_ms") if status == 200 else None

    out = open(args.sessions_file, "w")
    out.write("session_id\tclient\tsent_ms\tbilled_ms\tlost_ms\tresumes\tunreplayable_ms\tedge_dropped_ms\tend\tstop_reason\towner\n")
    totals = collections.Counter()
    by_reason = collections.Counter()
    lost_by_kind = collections.Counter()
    over_billed = []
    for session in driver.sessions:
        sent = session.sent_frames() * FRAME_MS
        billed, state, reason, owner = stored.get(session.id, (0, "absent", "", ""))
        lost = sent - billed
        if billed > sent:
            over_billed.append((session.id, sent, billed))
        kind = ("fallback" if (session.end or "").startswith("fallback") else
                "resumed" if session.resumes else "plain")
        totals["sessions"] += 1
        totals["sent"] += sent
        totals["billed"] += billed
        totals["unreplayable"] += session.unreplayable * FRAME_MS
        totals["edge_dropped"] += session.edge_dropped * FRAME_MS
        lost_by_kind[kind] += lost
        lost_by_kind[kind + "_sessions"] += 1
        by_reason[reason or state] += 1
        out.write(f"{session.id}\t{session.client}\t{sent}\t{billed}\t{lost}\t{session.resumes}\t"
                  f"{session.unreplayable * FRAME_MS}\t{session.edge_dropped * FRAME_MS}\t{session.end}\t{reason}\t{owner}\n")
    out.close()
    unknown = set(stored) - {s.id for s in driver.sessions}
    stored_billed = sum(v[0] for v in stored.values())
    affected = sum(r[2] for r in kill_rows)

    lines = []
    add = lines.append
    add(f"instances {args.instances}, streams {args.streams}, kill -9 {len(kill_rows)} in {fault_seconds:.0f} s "
        f"(sessions on the victim at its kill: {affected}), lease TTL {args.lease_ttl} s, replay buffer: {args.replay}")
    boots = sorted(args.boot_seconds)
    if boots:
        add(f"a restarted instance served /healthz after: median {boots[len(boots) // 2]:.2f} s, max {boots[-1]:.2f} s")
    add(f"sessions {totals['sessions']}: plain {lost_by_kind['plain_sessions']}, resumed {lost_by_kind['resumed_sessions']}, "
        f"fell back to a new session {lost_by_kind['fallback_sessions']}")
    add(f"resumes: succeeded {driver.counts['resume_ok']}, refused (new session instead) {driver.counts['resume_fallback']}")
    refusals = collections.Counter((s.end or "").split(":", 1)[1] for s in driver.sessions if (s.end or "").startswith("fallback"))
    if refusals:
        add("  refused as: " + ", ".join(f"{k} {v}" for k, v in refusals.most_common()))
    add("stop reasons (database): " + ", ".join(f"{k} {v}" for k, v in by_reason.most_common()))
    add("")
    add("| | audio sent s | billed s | lost s | lost per session s |")
    add("|---|---:|---:|---:|---:|")
    for kind in ("plain", "resumed", "fallback"):
        n = lost_by_kind[kind + "_sessions"]
        add(f"| {kind} ({n}) | | | {lost_by_kind[kind] / 1000:.2f} | {(lost_by_kind[kind] / n / 1000 if n else 0):.3f} |")
    add(f"| total | {totals['sent'] / 1000:.2f} | {totals['billed'] / 1000:.2f} | {(totals['sent'] - totals['billed']) / 1000:.2f} | |")
    add("")
    add(f"lost per kill -9: {(totals['sent'] - totals['billed']) / 1000 / max(1, len(kill_rows)):.2f} s; "
        f"per session on a killed instance: {(totals['sent'] - totals['billed']) / 1000 / max(1, affected):.3f} s")
    add(f"acked frames a resume asked for again (unreplayable): {totals['unreplayable'] / 1000:.2f} s; "
        f"frames the edge's buffer dropped unsent: {totals['edge_dropped'] / 1000:.2f} s")
    behind = sorted(b for s in driver.sessions for b, _ in s.resume_points)
    if behind:
        add(f"a resume went back (frames captured - next_sequence): median {behind[len(behind) // 2] * FRAME_MS / 1000:.2f} s, "
            f"max {behind[-1] * FRAME_MS / 1000:.2f} s")
    add(f"client errors: " + (", ".join(f"{k} {v}" for k, v in driver.errors.most_common()) or "none"))
    add(f"client events: " + ", ".join(f"{k} {v}" for k, v in sorted(driver.counts.items())))
    add(f"billed > sent: {len(over_billed)} sessions" + (" <-- BUG: billed more than was sent" if over_billed else ""))
    for sid, sent, billed in over_billed[:10]:
        add(f"  {sid}: sent {sent} ms, billed {billed} ms")
    add(f"streams settled {settle_seconds:.1f} s after the clients stopped; unexpired leases then: {unexpired_at_settlement} "
        f"(admitted, never streamed: they lapse within the lease TTL)")
    add(f"leases leaked (unexpired one lease TTL later): {active_leases}; lease rows left: {lease_rows}; "
        f"live sessions left: {live_sessions}" + (" <-- LEAK" if active_leases or live_sessions else ""))
    consistent = ledger == used == daily == stored_billed and (usage_ms is None or usage_ms == ledger)
    add(f"ledger debits {ledger} ms, license used_ms {used}, daily usage {daily}, sessions billed {stored_billed}, "
        f"usage report {usage_ms}" + ("" if consistent else " <-- MISMATCH"))
    if unknown:
        add(f"sessions in the database the clients never opened: {len(unknown)} <-- unexpected")
    add(f"per-session table: {args.sessions_file}")
    print("\n".join(lines), flush=True)
    return 0 if not over_billed and not active_leases and not live_sessions and consistent else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--central", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--lb-port", type=int, required=True)
    parser.add_argument("--ports", type=int, nargs="+", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--lease-ttl", type=int, default=30)
    parser.add_argument("--session-seconds", type=float, nargs=2, default=(20, 60))
    parser.add_argument("--replay", choices=("acked", "window"), default="acked")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--cooldown", type=float, default=5)
    parser.add_argument("--sessions-file", required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    args.instances = len(args.ports)
    args.boot_seconds = []
    if args.seed is not None:
        random.seed(args.seed)
    loop_result = asyncio.run(run(args))
    sys.exit(loop_result)


if __name__ == "__main__":
    main()
