#!/usr/bin/env python3
"""A TCP proxy for fault tests and fault scripts: forwards LISTEN_PORT to TARGET, optionally
adding a delay each way, and cuts the link on demand.

  tcp-fault-proxy.py --listen 15432 --target 127.0.0.1:5432 [--delay-ms 50]

SIGUSR1 partitions: every open connection is dropped and new ones are refused (the listening
socket is closed), as a network partition looks to the client. SIGUSR2 heals it. Prints
"ready <port>" on stdout once it listens. Standard library only.
"""
import argparse
import asyncio
import signal
import sys


class Proxy:
    def __init__(self, listen_host, listen_port, target_host, target_port, delay):
        self.listen = (listen_host, listen_port)
        self.target = (target_host, target_port)
        self.delay = delay
        self.server = None
        self.writers = set()

    async def pipe(self, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        pair = {client_writer, upstream_writer}
        self.writers |= pair
        try:
            await asyncio.gather(
                self.pipe(client_reader, upstream_writer), self.pipe(upstream_reader, client_writer))
        finally:
            self.writers -= pair

    async def open(self):
        self.server = await asyncio.start_server(self.handle, *self.listen, reuse_address=True)

    def partition(self):
        if self.server:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            transport = writer.transport
            if transport:
                transport.abort()
        self.writers.clear()
        print("partitioned", flush=True)

    async def heal(self):
        if not self.server:
            await self.open()
        print("healed", flush=True)


async def main():
    # A parent may have spawned us with signals blocked (a test runner's threads do): unblock
    # the ones that control us, or partition, heal and stop would stay pending for ever.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--target", required=True, help="host:port")
    parser.add_argument("--delay-ms", type=float, default=0)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    proxy = Proxy(args.listen_host, args.listen, host or "127.0.0.1", int(port), args.delay_ms / 1000)
    await proxy.open()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.partition)
    loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(proxy.heal()))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print(f"ready {args.listen}", flush=True)
    await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
