#!/usr/bin/env python3
"""Candela's aggregation against pandas and polars, on the same file, in one run.

Runs `cargo bench --bench aggregate` (which writes bench/out/minutes_1m.parquet,
1,000,000 one-minute bars, and times Candela), then times on that file:

  cold    pandas: read_parquet + resample      polars: read_parquet + group_by_dynamic
  memory  pandas: resample                     polars: group_by_dynamic (eager)

and prints medians and ratios (Candela time / reference time: below 1 is faster).

    pip install -r bench/requirements.txt
    python bench/aggregation.py            # add --no-cargo to reuse the last cargo bench
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import polars as pl

REPO = Path(__file__).resolve().parents[1]
FILE = REPO / "bench" / "out" / "minutes_1m.parquet"
TARGETS = {"5m": ("5min", "5m"), "1h": ("1h", "1h"), "1d": ("1D", "1d"), "1w": ("W-MON", "1w"), "1M": ("MS", "1mo")}
RUNS = 15


def median_ms(fn, runs=RUNS) -> float:
    fn()  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def pandas_resample(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    grouped = df.resample(rule, label="left", closed="left")
    out = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return out[grouped.size() > 0]


def pandas_read() -> pd.DataFrame:
    return pd.read_parquet(FILE).set_index("timestamp")


def polars_group(df: pl.DataFrame, every: str) -> pl.DataFrame:
    start_by = "monday" if every == "1w" else "window"
    return df.group_by_dynamic("timestamp", every=every, closed="left", label="left", start_by=start_by).agg(
        pl.col("open").first(), pl.col("high").max(), pl.col("low").min(),
        pl.col("close").last(), pl.col("volume").sum(),
    )


def candela_ms(target_dir: Path, group: str, tf: str) -> float:
    estimates = target_dir / "criterion" / group / tf / "new" / "estimates.json"
    return json.loads(estimates.read_text())["median"]["point_estimate"] / 1e6


def main() -> None:
    if "--no-cargo" not in sys.argv:
        subprocess.run(["cargo", "bench", "--workspace", "--bench", "aggregate"], cwd=REPO, check=True)
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                     cwd=REPO, check=True, capture_output=True, text=True).stdout)
    target_dir = Path(meta["target_directory"])
    pdf = pandas_read()
    ldf = pl.read_parquet(FILE)
    print(f"{len(pdf):,} one-minute bars, {FILE.stat().st_size / 1e6:.1f} MB; medians of {RUNS} runs, ms")
    header = f"{'':6} {'tf':>3} {'candela':>8} {'pandas':>8} {'polars':>8} {'vs pandas':>10} {'vs polars':>10}"
    for group in ["cold", "memory"]:
        print(header)
        for tf, (rule, every) in TARGETS.items():
            if group == "cold":
                p = median_ms(lambda: pandas_resample(pandas_read(), rule))
                q = median_ms(lambda: polars_group(pl.read_parquet(FILE), every))
            else:
                p = median_ms(lambda: pandas_resample(pdf, rule))
                q = median_ms(lambda: polars_group(ldf, every))
            c = candela_ms(target_dir, group, tf)
            print(f"{group:6} {tf:>3} {c:8.2f} {p:8.2f} {q:8.2f} {c / p:9.2f}x {c / q:9.2f}x")


if __name__ == "__main__":
    main()
