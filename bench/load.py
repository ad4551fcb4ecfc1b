#!/usr/bin/env python3
"""Load and soak: 64 concurrent clients on a mix of requests against the
release build, with wrk, and what the server holds meanwhile.

    sudo apt-get install wrk                          # the load generator
    cargo build --release -p candela-server            # the server under test
    rustup target add wasm32-wasip2                    # the plugin in the mix
    cargo build --release --target wasm32-wasip2 \\
        --manifest-path plugins/examples/wasm/Cargo.toml
    python bench/load.py                               # 60 s of load
    python bench/load.py --seconds 600 --swap-plugins  # the 10-minute soak

Two servers run on the bundled sample data: one as configured by default,
and one with the bar cache off (every request reads parquet: the cold
kind). Each kind of request has its own wrk with its share of the 64
connections, all at once:

  cached      EXPE 1m, the last 2,000 bars (stored, in the cache)
  aggregated  EXPE 15m, the last 2,000 bars (aggregated from 1m)
  indicators  EXPE 15m with RSI, Bollinger Bands and the HMA plugin
  sql         RSI over NFLX daily bars (aggregated from 1h), 100 rows
  assets      the page's script
  cold        NFLX 1h, the last 2,000 bars, from the server without a cache

It prints, per kind, requests per second, p50 and p99 latency and errors
(non-2xx answers, socket errors, timeouts), and for each server its threads
and resident memory at start, after a 10 s warm-up, at the peak and at the
end, and its resident memory at each tenth of the run (a leak climbs, churn
does not). With --swap-plugins the HMA plugin file is replaced every 5 s while
the load runs, each time by new bytes (the same code with a numbered custom
section), so that each replacement is compiled, cached and swapped in the
registry; the compile cache's size at the end is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from timing import REPO


MIX = [
    # kind, server ("main" or "cold"), connections, path
    ("cached", "main", 12, "/api/data?symbol=EXPE&timeframe=1m&limit=2000"),
    ("aggregated", "main", 12, "/api/data?symbol=EXPE&timeframe=15m&limit=2000"),
    ("indicators", "main", 12,
     "/api/data?symbol=EXPE&timeframe=15m&limit=2000&indicators=rsi(14),bbands(20,2),hma(20)"),
    ("sql", "main", 8,
     "/api/sql?q=SELECT%20time,%20close,%20rsi(close,%2014)%20OVER%20(ORDER%20BY%20time)%20AS%20rsi"
     "%20FROM%20bars('NFLX',%20'1d')%20ORDER%20BY%20time%20DESC%20LIMIT%20100"),
    ("assets", "main", 8, "/src/app.js"),
    ("cold", "cold", 12, "/api/data?symbol=NFLX&timeframe=1h&limit=2000"),
]


def target_dir() -> Path:
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    return Path(json.loads(out)["target_directory"])


SERVER = target_dir() / "release" / "candela"


def plugin_file() -> Path:
    built = target_dir() / "wasm32-wasip2" / "release" / "hma.wasm"
    if not built.exists():
        sys.exit(f"{built} is missing: build the example plugins (see the top of this script)")
    return built


def start_server(work: Path, name: str, port: int, cache_mb: int, plugins: Path) -> subprocess.Popen:
    config = work / f"{name}.toml"
    config.write_text(
        f'data = "{REPO / "data"}"\n'
        f'bind = "127.0.0.1:{port}"\n'
        f"cache_mb = {cache_mb}\n"
        f'plugins = "{plugins}"\n'
        f'plugin_cache = "{work / (name + "-plugin-cache")}"\n'
        f'runs = "{work / (name + "-runs")}"\n'
        '[providers.ALPACA]\ntimezone = "America/New_York"\n'
    )
    log = open(work / f"{name}.log", "w")
    server = subprocess.Popen([str(SERVER), "--config", str(config)], cwd=work,
                              stdout=log, stderr=subprocess.STDOUT,
                              env={"RUST_LOG": "warn", "PATH": "/usr/bin:/bin"})
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/symbols", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"the {name} server did not start; see {work / (name + '.log')}")


def wait_for_plugin(port: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        listed = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/indicators").read()
        if b'"hma"' in listed:
            return
        time.sleep(0.2)
    sys.exit("the HMA plugin did not load")


def process_state(pid: int) -> tuple[int, float]:
    """Threads and resident MiB of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    rss_kib = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
    return threads, rss_kib / 1024


class Sampler(threading.Thread):
    """Samples a process every 0.5 s while it runs."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.running = pid, [], True

    def run(self) -> None:
        while self.running:
            self.samples.append((time.time(), *process_state(self.pid)))
            time.sleep(0.5)


def wrk(url: str, connections: int, seconds: int) -> subprocess.Popen:
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                             "--timeout", "10s", url], stdout=subprocess.PIPE, text=True)


def parse_wrk(text: str) -> dict:
    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        return float(m.group(1)) * scale

    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {"requests": requests, "rate": rate, "p50": latency("50%"), "p99": latency("99%"),
            "errors": errors}


def run_mix(ports: dict, seconds: int) -> dict:
    runs = {kind: wrk(f"http://127.0.0.1:{ports[server]}{path}", connections, seconds)
            for kind, server, connections, path in MIX}
    return {kind: parse_wrk(run.communicate()[0]) for kind, run in runs.items()}


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def variant(wasm: bytes, number: int) -> bytes:
    """The component with a custom section naming `number` appended: the same
    plugin, but new bytes, so each swap compiles and caches a new entry."""
    name = b"candela-soak"
    payload = leb128(len(name)) + name + str(number).encode()
    return wasm + b"\x00" + leb128(len(payload)) + payload


def swap_plugins(plugins: Path, source: Path, stop: threading.Event, swaps: list) -> None:
    wasm = source.read_bytes()
    while not stop.wait(5):
        partial = plugins / ".hma.wasm.partial"
        partial.write_bytes(variant(wasm, len(swaps) + 1))
        partial.replace(plugins / "hma.wasm")
        swaps.append(time.time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the measured load")
    parser.add_argument("--swap-plugins", action="store_true", help="rewrite the plugin every 5 s")
    args = parser.parse_args()
    if not SERVER.exists():
        sys.exit(f"{SERVER} is missing: cargo build --release -p candela-server")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: sudo apt-get install wrk")
    source = plugin_file()
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        plugins = work / "plugins"
        plugins.mkdir()
        shutil.copy(source, plugins / "hma.wasm")
        ports = {"main": 5611, "cold": 5612}
        main_server = start_server(work, "main", ports["main"], 512, plugins)
        cold_server = start_server(work, "cold", ports["cold"], 0, work / "cold-plugins")
        servers = {"main": main_server, "cold": cold_server}
        try:
            wait_for_plugin(ports["main"])
            start = {name: process_state(s.pid) for name, s in servers.items()}
            samplers = {name: Sampler(s.pid) for name, s in servers.items()}
            for sampler in samplers.values():
                sampler.start()
            run_mix(ports, 10)
            warm = {name: process_state(s.pid) for name, s in servers.items()}
            stop, swaps = threading.Event(), []
            if args.swap_plugins:
                threading.Thread(target=swap_plugins, args=(plugins, source, stop, swaps),
                                 daemon=True).start()
            results = run_mix(ports, args.seconds)
            stop.set()
            time.sleep(1)
            end = {name: process_state(s.pid) for name, s in servers.items()}
            for sampler in samplers.values():
                sampler.running = False
            entries = list((work / "main-plugin-cache").rglob("*.cwasm"))
            cache = (len(entries), sum(e.stat().st_size for e in entries) / 2**20)
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(timeout=20)

    print(f"{args.seconds} s, {sum(c for _, _, c, _ in MIX)} connections"
          + (f", the plugin swapped {len(swaps)} times" if args.swap_plugins else ""))
    print(f"{'kind':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for kind, r in results.items():
        print(f"{kind:<12}{r['rate']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>8}")
    print(f"\n{'server':<8}{'':>12}{'threads':>9}{'RSS MiB':>10}")
    for name in servers:
        samples = samplers[name].samples
        peak_threads = max(s[1] for s in samples)
        peak_rss = max(s[2] for s in samples)
        for label, (threads, rss) in [("start", start[name]), ("warmed up", warm[name]),
                                      ("peak", (peak_threads, peak_rss)), ("end", end[name])]:
            print(f"{name:<8}{label:>12}{threads:>9}{rss:>10.1f}")
        drift = (end[name][1] - warm[name][1]) / warm[name][1] * 100
        print(f"{name:<8}{'end vs warm':>12}{'':>9}{drift:>+9.1f}%")
        tenths = [samples[min(len(samples) - 1, i * len(samples) // 10)][2] for i in range(11)]
        print(f"{name:<8}{'each tenth':>12}  " + " ".join(f"{rss:.0f}" for rss in tenths))
    print(f"\nthe plugin compile cache: {cache[0]} entries, {cache[1]:.1f} MiB")
    errors = sum(r["errors"] for r in results.values())
    if errors:
        sys.exit(f"{errors} errors")


if __name__ == "__main__":
    main()
