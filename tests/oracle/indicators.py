#!/usr/bin/env python3
"""Expected indicator values, computed by TA-Lib (VWAP by pandas), for Candela's tests.

Writes tests/fixtures/indicators/<case>.json: the input bars (floats as exact
`repr` strings, so that Rust parses the very same doubles) and, for each call
in Candela's `indicators` syntax, TA-Lib's outputs to 12 significant digits (null
where TA-Lib has no value). Cases:

  random_walk     10,000 fifteen-minute bars over a DST change (America/New_York)
  constant        a flat series: zero variance, zero range
  short           fewer bars than most warm-ups: all null
  zero_volume     runs of zero-volume bars, some at the start of a day
  nvda_1d         real daily bars (tests/data/market)
  btidx_5m        real five-minute bars whose volume is always zero (tests/data/market)

Run from the repository root:

    pip install -r tests/oracle/requirements.txt
    python tests/oracle/indicators.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import talib

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "indicators"
MARKET = REPO / "tests" / "data" / "market" / "parquet" / "ALPACA"
NY = "America/New_York"

CALLS = [
    "sma(20)", "sma(2)", "ema(20)", "ema(5)", "wma(20)", "wma(7)", "rsi(14)", "rsi(2)",
    "macd(12,26,9)", "macd(fast=5,slow=35,signal=1)", "stoch(14,3,1)", "stoch(14,3,3)",
    "stoch(k=5,d=4,smooth=2)", "volume", "obv", "vwap", "bbands(20,2)", "bbands(10,1.5)",
    "bbands(5,1)", "atr(14)", "atr(1)",
]

# Indicators of indicators: each outer indicator over each inner series,
# TA-Lib given the inner output without its leading NaNs (its warm-up).
OUTER = ["sma(10)", "ema(9)", "wma(7)", "rsi(14)", "bbands(20,2)", "macd(12,26,9)"]
INNER = ["rsi(14)", "macd(12,26,9).histogram", "obv"]
NESTED_CALLS = [
    f"{outer[:-1]},source={inner})" for outer in OUTER for inner in INNER
] + [
    "ema(5,source=sma(3,source=rsi(14)))",
    "sma(20,source=hl2)", "ema(10,source=hlc3)", "wma(5,source=ohlc4)", "rsi(14,source=open)",
    "sma(5,source=volume)", "bbands(10,1.5,source=low)", "macd(12,26,9,source=macd(12,26,9).signal)",
]

# The example plugins in plugins/examples/wasm, against references built from
# TA-Lib's primitives (TA-Lib has CCI itself, but no Hull average or Keltner).
PLUGIN_CALLS = [
    "hma(20)", "hma(9)", "hma(2)", "keltner(20,2,10)", "keltner(period=5,multiplier=1.5,atr_period=14)",
    "cci(20)", "cci(5)", "plugin_sma(20)",
    # A built-in over a plugin, and plugins over built-ins.
    "sma(10,source=hma(9))", "hma(9,source=rsi(14))", "plugin_sma(5,source=macd(12,26,9).histogram)",
]


COLUMNS = {
    "open": lambda b: b["open"], "high": lambda b: b["high"], "low": lambda b: b["low"],
    "close": lambda b: b["close"], "volume": lambda b: b["volume"],
    "hl2": lambda b: (b["high"] + b["low"]) / 2,
    "hlc3": lambda b: (b["high"] + b["low"] + b["close"]) / 3,
    "ohlc4": lambda b: (b["open"] + b["high"] + b["low"] + b["close"]) / 4,
}


def split_source(call: str) -> tuple[str, str | None]:
    """`sma(10,source=rsi(14))` -> (`sma(10)`, `rsi(14)`)."""
    at = call.find(",source=")
    if at < 0:
        return call, None
    return call[:at] + ")", call[at + len(",source="):-1]


def source_series(source: str, bars: pd.DataFrame, zone: str) -> np.ndarray:
    """A column, or a call's (picked) output, as the outer indicator reads it."""
    if source in COLUMNS:
        return COLUMNS[source](bars).to_numpy(dtype=float)
    call, _, picked = source.rpartition(".") if ")." in source else (source, "", "")
    outputs = reference(call, bars, zone)
    return np.asarray(outputs[picked] if picked else next(iter(outputs.values())), dtype=float)


def reference(call: str, bars: pd.DataFrame, zone: str) -> dict[str, np.ndarray]:
    """TA-Lib's answer for one call, keyed by Candela's output names."""
    outer, source = split_source(call)
    if source is not None:
        series = source_series(source, bars, zone)
        if source in COLUMNS:
            return reference(outer, bars.assign(close=series), zone)
        # The outer indicator starts at the inner one's first value.
        present = np.flatnonzero(~np.isnan(series))
        first = int(present[0]) if len(present) else len(series)
        names = reference(outer, bars, zone).keys()
        padded = {name: np.full(len(series), np.nan) for name in names}
        if first < len(series):
            trimmed = bars.iloc[first:].assign(close=series[first:])
            for name, values in reference(outer, trimmed, zone).items():
                padded[name][first:] = values
        return padded
    o, h, l, c, v = (bars[k].to_numpy(dtype=float) for k in ["open", "high", "low", "close", "volume"])
    ident, _, rest = call.partition("(")
    args = [a for a in rest.rstrip(")").split(",") if a]
    values = [float(a.split("=")[-1]) for a in args]
    ints = [int(x) for x in values]
    if ident == "sma":
        return {"sma": talib.SMA(c, ints[0])}
    if ident == "ema":
        return {"ema": talib.EMA(c, ints[0])}
    if ident == "wma":
        return {"wma": talib.WMA(c, ints[0])}
    if ident == "rsi":
        return {"rsi": talib.RSI(c, ints[0])}
    if ident == "macd":
        m, s, hist = talib.MACD(c, fastperiod=ints[0], slowperiod=ints[1], signalperiod=ints[2])
        return {"macd": m, "signal": s, "histogram": hist}
    if ident == "stoch":
        k, d, smooth = ints
        if smooth == 1:
            fk, fd = talib.STOCHF(h, l, c, fastk_period=k, fastd_period=d, fastd_matype=0)
        else:
            fk, fd = talib.STOCH(h, l, c, fastk_period=k, slowk_period=smooth, slowk_matype=0,
                                 slowd_period=d, slowd_matype=0)
        return {"k": fk, "d": fd}
    if ident == "volume":
        return {"volume": v}
    if ident == "obv":
        return {"obv": talib.OBV(c, v)}
    if ident == "vwap":
        local_day = bars.index.tz_convert(zone).date
        typical = (bars["high"] + bars["low"] + bars["close"]) / 3
        weighted = (typical * bars["volume"]).groupby(local_day).cumsum()
        volume = bars["volume"].groupby(local_day).cumsum()
        return {"vwap": (weighted / volume).to_numpy(dtype=float)}
    if ident == "bbands":
        up, mid, low = talib.BBANDS(c, timeperiod=ints[0], nbdevup=values[1], nbdevdn=values[1], matype=0)
        return {"upper": up, "middle": mid, "lower": low}
    if ident == "atr":
        return {"atr": talib.ATR(h, l, c, ints[0])}
    if ident == "hma":
        period = ints[0]
        raw = 2 * talib.WMA(c, max(period // 2, 1)) - talib.WMA(c, period)
        return {"hma": talib.WMA(raw, max(int(np.floor(np.sqrt(period))), 1))}
    if ident == "keltner":
        middle, atr = talib.EMA(c, ints[0]), talib.ATR(h, l, c, ints[2])
        return {"upper": middle + values[1] * atr, "middle": middle, "lower": middle - values[1] * atr}
    if ident == "cci":
        return {"cci": talib.CCI(h, l, c, ints[0])}
    if ident == "plugin_sma":
        return {"sma": talib.SMA(c, ints[0])}
    raise ValueError(call)


def random_walk(n: int, seed: int, start: str, freq: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.0005, n))
    wick = np.abs(rng.normal(0, 0.001, (2, n))) * close
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    volume = np.round(rng.lognormal(8, 1, n))
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index)


def real(path: str) -> pd.DataFrame:
    frame = pd.read_parquet(MARKET / path)
    if "datetime" in frame.columns:
        frame = frame.set_index("datetime")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    return frame[["open", "high", "low", "close", "volume"]].astype(float).sort_index()


def cases() -> dict[str, tuple[pd.DataFrame, str]]:
    walk = random_walk(10_000, 7, "2024-02-20 14:30", "15min")
    flat = random_walk(300, 8, "2024-01-02 14:30", "1min")
    for column in ["open", "high", "low", "close"]:
        flat[column] = 50.0
    flat["volume"] = 1_000.0
    gaps = random_walk(2_000, 9, "2024-03-01 20:00", "5min")
    rng = np.random.default_rng(10)
    for start in rng.integers(0, 1_990, 40):
        gaps.iloc[start:start + rng.integers(1, 10), gaps.columns.get_loc("volume")] = 0.0
    gaps.iloc[0:5, gaps.columns.get_loc("volume")] = 0.0
    midnight = gaps.index.tz_convert(NY).normalize().tz_convert("UTC")
    day_start = np.flatnonzero(gaps.index == midnight)
    gaps.iloc[day_start, gaps.columns.get_loc("volume")] = 0.0
    return {
        "random_walk": (walk, NY),
        "constant": (flat, NY),
        "short": (random_walk(10, 11, "2024-01-02 14:30", "1h"), NY),
        "zero_volume": (gaps, NY),
        "nvda_1d": (real("NVDA/1d/nvda_1d.parquet"), "UTC"),
        "btidx_5m": (real("BTIDX/5m/btidx_5m.parquet"), "UTC"),
    }


def exact(values) -> list[str]:
    return [repr(float(x)) for x in values]


def output(values: np.ndarray) -> list[float | None]:
    # 12 significant digits: far finer than the 1e-9 tolerance, and a third
    # smaller than full precision.
    return [None if np.isnan(x) else float(f"{x:.12g}") for x in values]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (bars, zone) in cases().items():
        fixture = {
            "name": name,
            "zone": zone,
            "talib": talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__),
            "bars": {
                "time": [int(t) for t in bars.index.as_unit("ns").asi8],
                **{k: exact(bars[k]) for k in ["open", "high", "low", "close", "volume"]},
            },
            "calls": [
                {"call": call, "outputs": {k: output(np.asarray(v, dtype=float)) for k, v in reference(call, bars, zone).items()}}
                for call in CALLS + NESTED_CALLS
            ],
            "plugin_calls": [
                {"call": call, "outputs": {k: output(np.asarray(v, dtype=float)) for k, v in reference(call, bars, zone).items()}}
                for call in PLUGIN_CALLS
            ],
        }
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        print(f"{path.relative_to(REPO)}: {len(bars)} bars, {len(CALLS)} calls")


if __name__ == "__main__":
    main()
