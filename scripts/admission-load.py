#!/usr/bin/env python3
"""Admission load for scripts/bench-admissions.sh (a measurement, not a test).

Creates LICENSES licenses (max_concurrent 1, one device) through the admin API, then runs
CONCURRENCY clients, each on its own kept-alive HTTP/1.1 connection and its own licenses, that
repeatedly `POST /v1/sessions` and then `DELETE /v1/sessions/{id}` (so every admission is the
full admitted path and leaves no lease). Reports admissions/s (each followed by its release),
p50/p90/p99/max of the admission and of the release, and the CPU share of this driver and of
every --pid NAME=PID (with its descendants: PostgreSQL's backends) over the timed window, so a
saturated driver is visible rather than passed off as central's limit.

Standard library only: asyncio streams and a minimal HTTP/1.1 client (Content-Length bodies,
which is what central sends), cheaper per request than http.client, so one driver core can
offer more than the servers take.
"""
import argparse
import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Connection:
    """One kept-alive HTTP/1.1 connection to host:port."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, headers, body=b""):
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
            self.writer.write(head.encode() + body)
            try:
                return await self._response()
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed a kept-alive connection between requests: once, reconnect.
                self.close()
                if attempt == 2:
                    raise

    async def _response(self):
        status = int((await self.reader.readuntil(b"\r\n")).split(b" ", 2)[1])
        length, close = 0, False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by this driver")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def process_tree_ticks(root):
    """utime + stime of `root` and its descendants now, in clock ticks."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(stats[pid][1] for pid in tree if pid in stats)


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, max(0, int(-(-len(sorted_values) * fraction // 1)) - 1))
    return sorted_values[index] * 1000


async def create_licenses(url, token, count):
    parts = urlsplit(url)
    connection = Connection(parts.hostname, parts.port)
    keys = []
    for index in range(count):
        body = json.dumps({"customer_name": f"Bench {index}", "plan": "trial-enterprise", "concurrent": 1,
                           "devices": 1, "minutes": 100000, "sessions": 1000000}).encode()
        status, answer = await connection.request(
            "POST", "/v1/admin/licenses", [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")], body)
        if status != 201:
            raise SystemExit(f"creating a license answered {status}: {answer[:200]!r}")
        keys.append(json.loads(answer)["key"])
    connection.close()
    return keys


async def client(url, keys, iterations, admit_ms, release_ms, errors):
    parts = urlsplit(url)
    connection = Connection(parts.hostname, parts.port)
    body = b'{"device_id":"bench-device"}'
    try:
        for iteration in range(iterations):
            key = keys[iteration % len(keys)]
            auth = ("Authorization", f"Bearer {key}")
            started = time.perf_counter()
            status, answer = await connection.request("POST", "/v1/sessions", [auth, ("Content-Type", "application/json")], body)
            admitted = time.perf_counter()
            if status != 201:
                errors.append(f"admission {status}: {answer[:120]!r}")
                continue
            session = json.loads(answer)["session_id"]
            status, answer = await connection.request("DELETE", f"/v1/sessions/{session}", [auth])
            released = time.perf_counter()
            if status != 204:
                errors.append(f"release {status}: {answer[:120]!r}")
            admit_ms.append(admitted - started)
            release_ms.append(released - admitted)
    finally:
        connection.close()


async def drive(url, keys, concurrency, count):
    admit, release, errors = [], [], []
    per_client = max(1, count // concurrency)
    owned = [[key for index, key in enumerate(keys) if index % concurrency == worker] for worker in range(concurrency)]
    await asyncio.gather(*(client(url, owned[worker], per_client, admit, release, errors) for worker in range(concurrency)))
    return admit, release, errors


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="where the edges' requests go (central or the load balancer)")
    parser.add_argument("--admin-url", help="where to create the licenses (default: --url)")
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--admissions", type=int, default=5000, help="timed admissions, after the warm-up")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--licenses", type=int, default=256)
    parser.add_argument("--pid", action="append", default=[], metavar="NAME=PID", help="report this process tree's CPU")
    options = parser.parse_args()
    if options.licenses < options.concurrency:
        raise SystemExit("--licenses must be at least --concurrency (each client owns its licenses)")

    keys = await create_licenses(options.admin_url or options.url, options.admin_token, options.licenses)
    _, _, errors = await drive(options.url, keys, options.concurrency, options.warmup)
    if errors:
        raise SystemExit(f"warm-up failed: {errors[:3]}")

    pids = [(name, int(pid)) for name, pid in (item.split("=", 1) for item in options.pid)]
    before = {name: process_tree_ticks(pid) for name, pid in pids}
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    admit, release, errors = await drive(options.url, keys, options.concurrency, options.admissions)
    wall = time.perf_counter() - wall_before
    driver_cpu = (time.process_time() - cpu_before) / wall * 100
    cpu = {name: (process_tree_ticks(pid) - before[name]) / CLOCK_TICKS / wall * 100 for name, pid in pids}

    admit.sort()
    release.sort()
    rate = len(admit) / wall
    fields = {
        "admissions": len(admit), "concurrency": options.concurrency, "seconds": f"{wall:.2f}",
        "admissions_per_s": f"{rate:.0f}",
        "admit_p50_ms": f"{percentile(admit, 0.50):.2f}", "admit_p90_ms": f"{percentile(admit, 0.90):.2f}",
        "admit_p99_ms": f"{percentile(admit, 0.99):.2f}", "admit_max_ms": f"{percentile(admit, 1.0):.2f}",
        "release_p50_ms": f"{percentile(release, 0.50):.2f}", "release_p99_ms": f"{percentile(release, 0.99):.2f}",
        "driver_cpu_pct": f"{driver_cpu:.0f}", "errors": len(errors),
    }
    fields.update({f"{name}_cpu_pct": f"{value:.0f}" for name, value in cpu.items()})
    print(f"admissions/s: {rate:.0f} (each followed by its release), {options.concurrency} clients, {wall:.1f} s")
    print(f"admission p50 {fields['admit_p50_ms']} ms  p90 {fields['admit_p90_ms']} ms  p99 {fields['admit_p99_ms']} ms  "
          f"max {fields['admit_max_ms']} ms; release p50 {fields['release_p50_ms']} ms  p99 {fields['release_p99_ms']} ms")
    print("CPU (% of one core): driver " + fields["driver_cpu_pct"] + "".join(f", {name} {value:.0f}" for name, value in cpu.items()))
    if errors:
        print(f"{len(errors)} errors, e.g. {errors[:3]}", file=sys.stderr)
    print("result " + " ".join(f"{name}={value}" for name, value in fields.items()))


if __name__ == "__main__":
    asyncio.run(main())
