#!/usr/bin/env python3
"""Expected higher-timeframe indicator values, placed by pandas, for Candela's tests.

Writes tests/fixtures/higher_timeframes/<case>.json: for one symbol, a chart
timeframe and a higher one, and for every built-in under each `align`, the
values placed on windows of the chart's bars and the start of the higher bar
each came from. Independently of Candela:

  bars        the aggregation oracle's pandas resample (aggregation.py)
  values      TA-Lib (VWAP by pandas) on the higher bars (indicators.py)
  complete    a higher bar is complete at the close of the last chart bar
              starting inside it, once a later chart bar is stored or that
              close reaches the higher bar's end (docs/indicators.md)
  close/open  an as-of join (pandas.merge_asof) of the chart bars' closes
              (close) or opens (open) on the completion times
  forming     for each chart bar, TA-Lib on the higher bars before its bin
              and the bin's chart bars so far, folded as resample folds them

Run from the repository root:

    pip install -r tests/oracle/requirements.txt
    python tests/oracle/higher_timeframes.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aggregation import NY, aggregate, load_folder, pandas_rule, parse_tf, pick_source  # noqa: E402
from indicators import output, reference  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "higher_timeframes"
REAL = "tests/data/market/parquet"

# (case, data root, provider zone, symbol, chart timeframe, higher timeframe)
CASES = [
    ("btfut_1m_1h", REAL, "UTC", "ALPACA:BTFUT", "1m", "1h"),
    ("expe_1m_1h", "data", NY, "ALPACA:EXPE", "1m", "1h"),
    ("expe_1h_1d", "data", NY, "ALPACA:EXPE", "1h", "1d"),
    # The daily bars are stored apart from the minutes the hours come from.
    ("btfut_1h_1d", REAL, "UTC", "ALPACA:BTFUT", "1h", "1d"),
    ("nflx_1h_1w", "data", NY, "ALPACA:NFLX", "1h", "1w"),
    ("yhoo_1d_1w", REAL, "UTC", "ALPACA:YHOO", "1d", "1w"),
]

# Every built-in, with periods short enough to be warm within a few higher bars.
CALLS = [
    "sma(5)", "ema(4)", "wma(3)", "rsi(3)", "macd(3,6,2)", "stoch(3,2,1)", "stoch(4,3,2)",
    "volume", "obv", "vwap", "bbands(4,2)", "atr(3)", "ema(3,source=rsi(3))",
]
ALIGNS = ["close", "open", "forming"]


def bars(root: str, zone: str, symbol: str, tf: str) -> pd.DataFrame:
    """The bars /api/data serves for `tf`: stored, or resampled from the largest stored divisor."""
    provider, sym = symbol.split(":")
    folder = REPO / root / provider / sym
    stored = [p.name for p in folder.iterdir() if p.is_dir()]
    source = pick_source(stored, tf)
    df = load_folder(folder / source, zone)
    return df if source == tf else aggregate(df, tf)


def bin_ends(starts: pd.DatetimeIndex, tf: str) -> pd.DatetimeIndex:
    """Each bar's close: its start plus its width, calendar units in the zone."""
    n, unit = parse_tf(tf)
    if unit == "m":
        return starts + pd.Timedelta(minutes=n)
    if unit == "h":
        return starts + pd.Timedelta(hours=n)
    local = starts.tz_localize(None)
    step = {"d": pd.DateOffset(days=n), "w": pd.DateOffset(weeks=n), "M": pd.DateOffset(months=n)}[unit]
    return (local + step).tz_localize(starts.tz)


def completion_times(chart: pd.DataFrame, chart_tf: str, higher: pd.DataFrame, higher_tf: str) -> list:
    """When each higher bar becomes complete (a chart bar's close), or None."""
    starts, closes = chart.index, bin_ends(chart.index, chart_tf)
    done = []
    for start, end in zip(higher.index, bin_ends(higher.index, higher_tf)):
        last = starts.searchsorted(end, side="left") - 1
        if last >= 0 and starts[last] >= start:
            ended = last < len(chart) - 1 or closes[last] >= end
            done.append(closes[last] if ended else None)
        else:
            first = closes.searchsorted(end, side="left")
            done.append(closes[first] if first < len(chart) else None)
    return done


def placed(done: list, at: pd.DatetimeIndex) -> np.ndarray:
    """For each instant of `at`, the newest higher bar complete by it (-1: none)."""
    table = pd.DataFrame({"done": [d for d in done if d is not None],
                          "bar": [k for k, d in enumerate(done) if d is not None]})
    table = table.sort_values("done", kind="stable")
    table["newest"] = table["bar"].cummax()
    asked = pd.DataFrame({"at": at})
    joined = pd.merge_asof(asked, table, left_on="at", right_on="done", direction="backward")
    return joined["newest"].fillna(-1).to_numpy(dtype=int)


def windows(n: int) -> list[tuple[int, int]]:
    """The chart rows compared: the start, the middle and the end, merged where they meet."""
    spans = sorted([(0, min(n, 150)), (max(0, n // 2 - 75), min(n, n // 2 + 75)), (max(0, n - 200), n)])
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def with_align(call: str, higher_tf: str, align: str) -> str:
    extra = f"timeframe={higher_tf},align={align}"
    return f"{call[:-1]},{extra})" if call.endswith(")") else f"{call}({extra})"


def ns(stamps) -> list[int | None]:
    return [None if s is None else int(pd.Timestamp(s).tz_convert("UTC").as_unit("ns").value) for s in stamps]


def valid(column: pd.Series, at: int) -> float:
    """The first (0) or last (-1) value that is not NaN, as resample's first/last skip NaN."""
    present = column.dropna()
    return float(present.iloc[at]) if len(present) else np.nan


def fold(bars: pd.DataFrame) -> pd.Series:
    """Bars folded into one as resample folds them: first, max, min, last, sum."""
    return pd.Series({"open": valid(bars["open"], 0), "high": bars["high"].max(), "low": bars["low"].min(),
                      "close": valid(bars["close"], -1), "volume": bars["volume"].sum()})


def forming_values(chart: pd.DataFrame, higher: pd.DataFrame, higher_tf: str, rows: list[int], zone: str):
    """Each call's outputs on the developing higher bar of each chart row."""
    grouper = pd.Grouper(freq=pandas_rule(higher_tf), label="left", closed="left")
    label_of = np.empty(len(chart), dtype=object)
    position = np.empty(len(chart), dtype=int)
    first_of = {}
    for label, group in chart.groupby(grouper):
        if len(group) == 0:
            continue
        at = chart.index.get_indexer(group.index)
        label_of[at] = label
        position[at] = np.arange(len(group))
        first_of[label] = at[0]
    values = {call: {} for call in CALLS}
    starts = []
    for row in rows:
        label = label_of[row]
        so_far = chart.iloc[first_of[label]:row + 1]
        developing = fold(so_far)
        series = pd.concat([higher[higher.index < label], pd.DataFrame([developing], index=pd.DatetimeIndex([label]))])
        for call in CALLS:
            for name, out in reference(call, series, zone).items():
                values[call].setdefault(name, []).append(float(np.asarray(out, dtype=float)[-1]))
        starts.append(label)
    return values, starts


def write_case(name: str, root: str, zone: str, symbol: str, chart_tf: str, higher_tf: str) -> None:
    chart = bars(root, zone, symbol, chart_tf)
    higher = bars(root, zone, symbol, higher_tf)
    spans = windows(len(chart))
    rows = [r for a, b in spans for r in range(a, b)]
    done = completion_times(chart, chart_tf, higher, higher_tf)
    closes = bin_ends(chart.index, chart_tf)
    newest = {"close": placed(done, closes)[rows], "open": placed(done, chart.index)[rows]}
    calls = []
    for align in ALIGNS:
        if align == "forming":
            values, starts = forming_values(chart, higher, higher_tf, rows, zone)
        for call in CALLS:
            if align == "forming":
                outputs = {k: np.asarray(v) for k, v in values[call].items()}
                froms = starts
            else:
                k = newest[align]
                full = reference(call, higher, zone)
                outputs = {n: np.where(k >= 0, np.asarray(v, dtype=float)[np.maximum(k, 0)], np.nan) for n, v in full.items()}
                froms = [higher.index[i] if i >= 0 else None for i in k]
            calls.append({
                "call": with_align(call, higher_tf, align),
                "outputs": {n: output(v) for n, v in outputs.items()},
                "from": ns(froms),
            })
    case = {
        "root": root, "zone": zone, "symbol": symbol, "chart": chart_tf, "higher": higher_tf,
        "windows": [list(w) for w in spans],
        "time": ns(chart.index[rows]),
        "calls": calls,
    }
    (OUT / f"{name}.json").write_text(json.dumps(case, separators=(",", ":")) + "\n")
    print(f"{name:14} {symbol:14} {chart_tf:>3} -> {higher_tf:<3}: {len(chart):6} chart bars, "
          f"{len(higher):5} higher, {len(rows)} compared")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for case in CASES:
        write_case(*case)


if __name__ == "__main__":
    main()
