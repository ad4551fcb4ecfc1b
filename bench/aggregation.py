#!/usr/bin/env python3
"""Candela's aggregation against pandas and polars, on the same file, in one run.

Runs `cargo bench --bench aggregate` (which writes 1,000,000 one-minute bars to
bench/out/BENCH/MINUTES/1m/minutes_1m.parquet and times Candela) and times,
on that file:

  cold    pandas: read_parquet + resample      polars: read_parquet + group_by_dynamic
  memory  pandas: resample                     polars: group_by_dynamic (eager)
  read    pandas: read_parquet                 polars: read_parquet

and prints medians and ratios (Candela time / reference time: below 1 is faster).
Each row is measured in turn, Candela first and the references right after,
so that the machine's drift over the minutes the script takes does not fall
between the two sides of a ratio.
`read` is the decoding part of `cold` alone (Candela's `load` benchmark): it
shows how much of a cold aggregation no aggregation strategy can win back.

    pip install -r bench/requirements.txt
    python bench/aggregation.py            # add --no-cargo to reuse the last cargo bench
"""

from __future__ import annotations

import pandas as pd
import polars as pl

from timing import REPO, criterion_ms, median_ms, run_cargo_bench

FILE = REPO / "bench" / "out" / "BENCH" / "MINUTES" / "1m" / "minutes_1m.parquet"
TARGETS = {"5m": ("5min", "5m"), "1h": ("1h", "1h"), "1d": ("1D", "1d"), "1w": ("W-MON", "1w"), "1M": ("MS", "1mo")}
RUNS = 15


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


def candela_ms(*benchmark: str) -> float:
    """Runs one benchmark of `cargo bench --bench aggregate` and returns its median."""
    run_cargo_bench("aggregate", only=f"^{'/'.join(benchmark)}$")
    return criterion_ms(*benchmark)


def main() -> None:
    # The read row first: its benchmark run also builds the bench and writes the file.
    read = ("read", "", candela_ms("load"), median_ms(pandas_read, RUNS), median_ms(lambda: pl.read_parquet(FILE), RUNS))
    pdf = pandas_read()
    ldf = pl.read_parquet(FILE)
    print(f"{len(pdf):,} one-minute bars, {FILE.stat().st_size / 1e6:.1f} MB; medians of {RUNS} runs, ms")
    header = f"{'':6} {'tf':>3} {'candela':>8} {'pandas':>8} {'polars':>8} {'vs pandas':>10} {'vs polars':>10}"
    rows = []
    for group in ["cold", "memory"]:
        for tf, (rule, every) in TARGETS.items():
            c = candela_ms(group, tf)
            if group == "cold":
                p = median_ms(lambda: pandas_resample(pandas_read(), rule), RUNS)
                q = median_ms(lambda: polars_group(pl.read_parquet(FILE), every), RUNS)
            else:
                p = median_ms(lambda: pandas_resample(pdf, rule), RUNS)
                q = median_ms(lambda: polars_group(ldf, every), RUNS)
            rows.append((group, tf, c, p, q))
    rows.append(read)
    for i, (group, tf, c, p, q) in enumerate(rows):
        if i == 0 or group != rows[i - 1][0]:
            print(header)
        print(f"{group:6} {tf:>3} {c:8.2f} {p:8.2f} {q:8.2f} {c / p:9.2f}x {c / q:9.2f}x")


if __name__ == "__main__":
    main()
