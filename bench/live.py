"""Live bars: from a part file's rename to the `bars` event at every
subscriber of /api/stream, with the file system's events and with the poll
alone; and the resident memory of 1,000 idle streams.

usage: python bench/live.py CANDELA_BINARY [--subscribers 100] [--rounds 40] [--poll-ms 1000]

Starts the binary on a temporary data root (one 1m series), opens the
streams over HTTP/1.0, renames a new part file into the series folder each
round and times each subscriber's event by the id it carries (the new last
bar). Prints p50 and p99 per mode, and the memory figure. Needs pandas and
pyarrow (bench/requirements.txt).
"""

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SERIES = ("BENCH", "LIVE", "1m")
QUERY = "/api/stream?symbol=BENCH:LIVE&timeframe=1m"


def bars(start: int, count: int) -> pd.DataFrame:
    index = pd.to_datetime([start + 60 * i for i in range(count)], unit="s", utc=True)
    close = [100 + (i % 7) for i in range(count)]
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0},
                        index=pd.DatetimeIndex(index, name="time"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def series_root(tmp: str) -> tuple:
    """A data root of one 1m series of 1,000 bars: the root, the series folder, its next bar."""
    root = Path(tmp) / "data"
    folder = root.joinpath(*SERIES)
    folder.mkdir(parents=True)
    start = 1_704_067_200
    bars(start, 1_000).to_parquet(folder / "part-0000.parquet")
    return root, folder, start + 60 * 1_000


class Server:
    def __init__(self, binary: str, root: Path, poll_ms: int, events: bool, max_streams: int):
        self.port = free_port()
        config = root.parent / f"candela-{self.port}.toml"
        config.write_text(f"[http]\nmax_streams = {max_streams}\n[live]\npoll_ms = {poll_ms}\n"
                          f"events = {'true' if events else 'false'}\n")
        self.process = subprocess.Popen(
            [binary, "--config", str(config), "--data", str(root), "--runs", str(root.parent / "runs"),
             "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


async def subscribe(port: int, arrivals: dict, ready: asyncio.Event, opened: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {QUERY} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    opened.append(writer)
    ready.set()
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.startswith(b"id:"):
            arrivals.setdefault(int(line[3:].strip()), []).append(time.monotonic())


async def latency(binary: str, subscribers: int, rounds: int, poll_ms: int, events: bool) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        root, folder, next_bar = series_root(tmp)
        server = Server(binary, root, poll_ms, events, max(subscribers, 1) + 10)
        try:
            arrivals: dict = {}
            opened: list = []
            tasks = []
            for _ in range(subscribers):
                ready = asyncio.Event()
                tasks.append(asyncio.create_task(subscribe(server.port, arrivals, ready, opened)))
                await asyncio.wait_for(ready.wait(), 10)
            await asyncio.sleep(0.5)
            waits = []
            for k in range(rounds):
                new = bars(next_bar, 5)
                last = next_bar + 60 * 4
                next_bar += 60 * 5
                partial = folder / f"part-{k + 1:04d}.parquet.partial"
                new.to_parquet(partial)
                renamed = time.monotonic()
                os.rename(partial, folder / f"part-{k + 1:04d}.parquet")
                deadline = renamed + 10
                while len(arrivals.get(last, [])) < subscribers and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                got = arrivals.get(last, [])
                if len(got) < subscribers:
                    raise RuntimeError(f"round {k}: {len(got)} of {subscribers} subscribers got the bars")
                waits.extend(1000 * (t - renamed) for t in got)
                # Rounds out of step with the poll, so its phase is sampled.
                await asyncio.sleep(0.1 + (k * 0.37) % 0.5)
            for writer in opened:
                writer.close()
            for task in tasks:
                task.cancel()
            return waits
        finally:
            server.stop()


async def idle_memory(binary: str, streams: int) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        root, _, _ = series_root(tmp)
        server = Server(binary, root, 1000, True, streams + 10)
        try:
            # One stream opened and closed first: what any stream needs once (the series read).
            arrivals: dict = {}
            opened: list = []
            ready = asyncio.Event()
            first = asyncio.create_task(subscribe(server.port, arrivals, ready, opened))
            await asyncio.wait_for(ready.wait(), 10)
            opened.pop().close()
            first.cancel()
            await asyncio.sleep(1.0)
            before = rss_kib(server.process.pid)
            tasks = []
            for _ in range(streams):
                ready = asyncio.Event()
                tasks.append(asyncio.create_task(subscribe(server.port, arrivals, ready, opened)))
                await asyncio.wait_for(ready.wait(), 10)
            await asyncio.sleep(2.0)
            after = rss_kib(server.process.pid)
            for task in tasks:
                task.cancel()
            return before, after
        finally:
            server.stop()


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--poll-ms", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    for name, events in (("watcher", True), (f"polling alone, every {args.poll_ms} ms", False)):
        waits = asyncio.run(latency(args.binary, args.subscribers, args.rounds, args.poll_ms, events))
        print(f"rename → event at {args.subscribers} subscribers, {name}: "
              f"p50 {statistics.median(waits):.0f} ms, p99 {percentile(waits, 0.99):.0f} ms, "
              f"max {max(waits):.0f} ms ({len(waits)} events)", flush=True)
    before, after = asyncio.run(idle_memory(args.binary, args.idle))
    print(f"{args.idle} idle streams: resident {before / 1024:.1f} MiB → {after / 1024:.1f} MiB "
          f"(+{(after - before) / 1024:.1f} MiB)")


if __name__ == "__main__":
    sys.exit(main())
