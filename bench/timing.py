"""What the comparison scripts share: running a criterion bench, reading its
medians, and timing a Python reference the same way."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cargo_bench(name: str, profile: str | None = None, only: str | None = None) -> None:
    """Runs `cargo bench --bench NAME` (with `--profile PROFILE` if given, and
    only the benchmarks whose id matches the regex `only` if given) unless
    `--no-cargo` was given."""
    if "--no-cargo" not in sys.argv:
        extra = ["--profile", profile] if profile else []
        select = ["--", only] if only else []
        subprocess.run(["cargo", "bench", "--workspace", *extra, "--bench", name, *select], cwd=REPO, check=True)


def criterion_ms(*benchmark: str) -> float:
    """The median of a criterion benchmark, e.g. `criterion_ms("cold", "1d")`, in ms."""
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                     cwd=REPO, check=True, capture_output=True, text=True).stdout)
    estimates = Path(meta["target_directory"], "criterion", *benchmark, "new", "estimates.json")
    return json.loads(estimates.read_text())["median"]["point_estimate"] / 1e6


def median_ms(fn, runs: int) -> float:
    """The median time of `fn()` over `runs` calls after one warm-up, in ms."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
