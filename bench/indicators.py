#!/usr/bin/env python3
"""Candela's built-in indicators against TA-Lib, on the same bars, in one run.

Runs `cargo bench --bench indicators` (which writes bench/out/bars_1m.parquet,
1,000,000 one-minute bars, and times each built-in with its default
parameters, and all eleven together), then times TA-Lib on that file (VWAP:
numpy, daily reset; volume: a numpy copy) and prints medians and ratios
(Candela time / reference time: at most 1 is the target).

    pip install -r bench/requirements.txt
    python bench/indicators.py            # add --no-cargo to reuse the last cargo bench
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from timing import REPO, criterion_ms, median_ms, run_cargo_bench

FILE = REPO / "bench" / "out" / "bars_1m.parquet"
RUNS = 30
DAY_NS = 86_400 * 10**9


def vwap(t: np.ndarray, h, l, c, v) -> np.ndarray:
    """Cumulative typical price × volume over cumulative volume, reset daily (UTC)."""
    day = t // DAY_NS
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    lengths = np.diff(np.r_[starts, len(t)])
    pv = np.cumsum((h + l + c) / 3 * v)
    cv = np.cumsum(v)
    before_pv = np.repeat(np.r_[0.0, pv[starts[1:] - 1]], lengths)
    before_v = np.repeat(np.r_[0.0, cv[starts[1:] - 1]], lengths)
    return (pv - before_pv) / (cv - before_v)


def main() -> None:
    run_cargo_bench("indicators")
    bars = pd.read_parquet(FILE)
    t = bars["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    o, h, l, c, v = (bars[k].to_numpy(dtype=float) for k in ["open", "high", "low", "close", "volume"])
    references = {
        "sma": lambda: talib.SMA(c, 20),
        "ema": lambda: talib.EMA(c, 20),
        "wma": lambda: talib.WMA(c, 20),
        "rsi": lambda: talib.RSI(c, 14),
        "macd": lambda: talib.MACD(c, 12, 26, 9),
        "stoch": lambda: talib.STOCHF(h, l, c, 14, 3, 0),
        "volume": lambda: np.copy(v),
        "obv": lambda: talib.OBV(c, v),
        "vwap": lambda: vwap(t, h, l, c, v),
        "bbands": lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0),
        "atr": lambda: talib.ATR(h, l, c, 14),
    }
    print(f"{len(c):,} bars; medians of {RUNS} runs, ms")
    print(f"{'indicator':10} {'candela':>8} {'TA-Lib':>8} {'ratio':>7}")
    total = 0.0
    for name, fn in references.items():
        ours = criterion_ms("indicator", name)
        theirs = median_ms(fn, RUNS)
        total += theirs
        flag = "" if ours <= theirs else "  <- slower"
        print(f"{name:10} {ours:8.2f} {theirs:8.2f} {ours / theirs:6.2f}x{flag}")
    together = criterion_ms("indicator", "all")
    print(f"{'all':10} {together:8.2f} {total:8.2f} {together / total:6.2f}x   (target: under 30 ms)")


if __name__ == "__main__":
    main()
