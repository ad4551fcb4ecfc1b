#!/usr/bin/env python3
"""Expected timeframe aggregations, computed by pandas, for Candela's tests.

Writes
  tests/fixtures/aggregation/data/...   small adversarial input files (parquet)
  tests/fixtures/aggregation/*.json     one case each: where the data is, the
                                        provider's zone, the requested
                                        timeframe, and pandas' answer
  tests/fixtures/aggregation/writers/   the same bars written by pandas,
                                        pyarrow (every codec, both page
                                        versions, delta and byte-stream-split
                                        encodings), polars and fastparquet

The reference is `DataFrame.resample(rule, label="left", closed="left")` in the
provider's zone with first/max/min/last/sum and empty bins dropped, applied to
the timeframe that Candela's rules pick (stored as is, or the largest stored
divisor). The real market data is `tests/data/market` (see its SOURCES.md).
Run from the repository root:

    pip install -r tests/oracle/requirements.txt
    python tests/oracle/aggregation.py
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import fastparquet
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "aggregation"
INPUTS = OUT / "data"
WRITERS = OUT / "writers"
MARKET = REPO / "tests" / "data" / "market"

NY = "America/New_York"
TIME_NAMES = ["datetime", "timestamp", "time", "date"]


# --- timeframes ---------------------------------------------------------------

def parse_tf(tf: str) -> tuple[int, str]:
    m = re.fullmatch(r"(\d+)([mhdwM])", tf)
    assert m, tf
    return int(m.group(1)), m.group(2)


def pandas_rule(tf: str) -> str:
    n, unit = parse_tf(tf)
    return {"m": f"{n}min", "h": f"{n}h", "d": f"{n}D", "w": "W-MON", "M": "MS"}[unit]


def nominal_seconds(tf: str) -> int:
    n, unit = parse_tf(tf)
    return n * {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 31 * 86400}[unit]


def divides(source: str, target: str) -> bool:
    sn, su = parse_tf(source)
    tn, tu = parse_tf(target)
    if su in "mh":
        width = nominal_seconds(source)
        return nominal_seconds(target) % width == 0 if tu in "mh" else 86400 % width == 0
    if su == "d":
        return (tu == "d" and tn % sn == 0) or (tu in "wM" and sn == 1)
    return su == tu


def pick_source(stored: list[str], target: str) -> str:
    if target in stored:
        return target
    for s in sorted(stored, key=nominal_seconds, reverse=True):
        if divides(s, target):
            return s
    raise ValueError(f"{target} cannot be built from {stored}")


# --- loading, as the data contract says ----------------------------------------

def load_folder(folder: Path, zone: str) -> pd.DataFrame:
    """All parquet files of a folder as one frame: time-sorted, first file wins."""
    frames = [load_file(p, zone) for p in sorted(folder.glob("*.parquet"))]
    df = pd.concat(frames)
    df = df.sort_index(kind="stable")
    return df[~df.index.duplicated(keep="first")]


def load_file(path: Path, zone: str) -> pd.DataFrame:
    df = pd.read_parquet(path)
    if not isinstance(df.index, pd.DatetimeIndex):
        lower = {c.lower(): c for c in df.columns}
        name = next(lower[n] for n in TIME_NAMES if n in lower)
        df = df.set_index(name)
    df.columns = [c.lower() for c in df.columns]
    df = df[["open", "high", "low", "close", "volume"]].astype("float64")
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is None:
        # Naive times are wall-clock times of the provider's zone; a repeated
        # hour is read as its first occurrence, a skipped one moves forward.
        idx = idx.tz_localize(zone, ambiguous=np.ones(len(idx), dtype=bool), nonexistent=pd.Timedelta("1h"))
    df.index = idx.tz_convert(zone).as_unit("ns")
    return df


def aggregate(df: pd.DataFrame, tf: str) -> pd.DataFrame:
    grouped = df.resample(pandas_rule(tf), label="left", closed="left")
    out = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return out[grouped.size() > 0]


# --- cases ----------------------------------------------------------------------

def write_case(name: str, root: Path, zone: str, symbol: str, timeframe: str) -> None:
    provider, sym = symbol.split(":")
    symbol_dir = root / provider / sym
    stored = [p.name for p in symbol_dir.iterdir() if p.is_dir()]
    source = pick_source(stored, timeframe)
    df = load_folder(symbol_dir / source, zone)
    result = df if source == timeframe else aggregate(df, timeframe)

    def column(values):
        # repr() is the shortest string that round-trips; Rust's parse::<f64>
        # reads it back to the same bits, so the comparison can be exact.
        return [None if np.isnan(v) else repr(float(v)) for v in values]

    case = {
        "root": str(root.relative_to(REPO)),
        "zone": zone,
        "symbol": symbol,
        "timeframe": timeframe,
        "source": source,
        "expected": {
            "time": [int(t) for t in result.index.tz_convert("UTC").as_unit("ns").asi8],
            **{c: column(result[c].to_numpy()) for c in ["open", "high", "low", "close", "volume"]},
        },
    }
    (OUT / f"{name}.json").write_text(json.dumps(case, separators=(",", ":")) + "\n")
    print(f"{name:36} {symbol:16} {timeframe:>4} from {source:>3}: {len(result):6} bars")


def minute_walk(index: pd.DatetimeIndex, seed: int, price: float = 100.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = np.round(price * np.exp(np.cumsum(rng.normal(0, 0.001, len(index)))), 2)
    open_ = np.concatenate([[price], close[:-1]])
    spread = np.abs(rng.normal(0, 0.05, len(index)))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.round(np.maximum(open_, close) + spread, 2),
            "low": np.round(np.minimum(open_, close) - spread, 2),
            "close": close,
            "volume": rng.integers(100, 10_000, len(index)).astype("float64"),
        },
        index=index,
    )


def write_input(provider: str, symbol: str, tf: str, name: str, df: pd.DataFrame) -> None:
    folder = INPUTS / provider / symbol / tf
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / f"{name}.parquet")


def adversarial_inputs() -> None:
    shutil.rmtree(INPUTS, ignore_errors=True)
    # Both DST transitions of New York, one-minute bars around the clock.
    spring = pd.date_range("2024-03-09 00:00", "2024-03-11 23:59", freq="1min", tz=NY)
    fall = pd.date_range("2024-11-02 00:00", "2024-11-04 23:59", freq="1min", tz=NY)
    write_input("NY", "DST", "1m", "spring", minute_walk(spring, 1))
    write_input("NY", "DSTFALL", "1m", "fall", minute_walk(fall, 2))
    # Naive wall-clock times in regular hours across the March change.
    days = pd.bdate_range("2024-03-06", "2024-03-14")
    naive = pd.DatetimeIndex(
        [d + pd.Timedelta(hours=9, minutes=30) + pd.Timedelta(minutes=m) for d in days for m in range(390)]
    )
    write_input("NY", "NAIVE", "1m", "naive", minute_walk(naive, 3))
    # Gaps of days between hourly bars.
    gaps = pd.DatetimeIndex(
        list(pd.date_range("2024-05-01", periods=30, freq="1h", tz="UTC"))
        + list(pd.date_range("2024-05-09 07:00", periods=10, freq="1h", tz="UTC"))
        + list(pd.date_range("2024-06-20 13:00", periods=5, freq="1h", tz="UTC"))
    )
    write_input("UTC", "GAPS", "1h", "gaps", minute_walk(gaps, 4))
    # A single bar.
    write_input("UTC", "SINGLE", "1m", "single", minute_walk(pd.DatetimeIndex([pd.Timestamp("2024-02-29 23:59", tz="UTC")]), 5))
    # Duplicate and unsorted timestamps across two files: the first file wins.
    base = pd.date_range("2024-01-02 09:00", periods=240, freq="1min", tz="UTC")
    first = minute_walk(base[:150], 6).sample(frac=1.0, random_state=7)
    second = minute_walk(base[100:], 8)
    second = pd.concat([second, second.iloc[:5]])  # duplicates inside a file too
    write_input("UTC", "DUPS", "1m", "a_first", first)
    write_input("UTC", "DUPS", "1m", "b_second", second)
    # Month and year boundaries.
    bounds = pd.DatetimeIndex(
        list(pd.date_range("2023-12-29 20:00", "2024-01-02 04:00", freq="1h", tz="UTC"))
        + list(pd.date_range("2024-01-30 22:00", "2024-02-01 02:00", freq="1h", tz="UTC"))
    )
    write_input("UTC", "BOUNDS", "1h", "bounds", minute_walk(bounds, 9))


def writer_inputs() -> list[str]:
    """One frame of one-minute bars around the clock (some opens missing),
    written by every writer the data contract names; returns the symbols."""
    shutil.rmtree(WRITERS, ignore_errors=True)
    index = pd.date_range("2024-03-08 00:00", periods=6_000, freq="1min", tz="UTC", name="timestamp")
    df = minute_walk(index, 11)
    df.loc[df.index[::13], "open"] = np.nan
    flat = df.reset_index()
    table = pa.Table.from_pandas(flat, preserve_index=False)

    def folder(symbol: str) -> Path:
        path = WRITERS / "W" / symbol / "1m"
        path.mkdir(parents=True, exist_ok=True)
        return path

    writers = {
        # pandas' own: the DatetimeIndex, named in the pandas footer entry.
        "PANDAS": lambda path: df.to_parquet(path),
        "POLARS": lambda path: pl.from_pandas(flat).write_parquet(path),
        "POLARS_NAIVE_US": lambda path: pl.from_pandas(flat)
        .with_columns(pl.col("timestamp").dt.replace_time_zone(None).dt.cast_time_unit("us"))
        .write_parquet(path, compression="lz4"),
        "FASTPARQUET": lambda path: fastparquet.write(str(path), df, compression="SNAPPY"),
        # INT96 times, as Spark and Impala write them (fastparquet takes
        # pandas 3's microseconds for nanoseconds here, hence the cast).
        "FASTPARQUET_INT96": lambda path: fastparquet.write(
            str(path), flat.astype({"timestamp": "datetime64[ns, UTC]"}), times="int96"
        ),
        "PYARROW_V2_SPLIT": lambda path: pq.write_table(
            table, path, data_page_version="2.0", use_dictionary=False,
            use_byte_stream_split=["open", "high", "low", "close", "volume"],
            column_encoding={"timestamp": "DELTA_BINARY_PACKED"}, data_page_size=4096,
        ),
        "PYARROW_SMALL_GROUPS": lambda path: pq.write_table(table, path, row_group_size=700, data_page_size=1024),
    }
    for codec in ["snappy", "zstd", "gzip", "lz4", "brotli", "none"]:
        writers[f"PYARROW_{codec.upper()}"] = lambda path, codec=codec: pq.write_table(table, path, compression=codec)
    for symbol, write in writers.items():
        write(folder(symbol) / f"{symbol.lower()}.parquet")
    return list(writers)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    adversarial_inputs()
    cases = [
        ("NY:DST", ["5m", "30m", "1h", "4h", "1d", "1w"]),
        ("NY:DSTFALL", ["5m", "30m", "1h", "4h", "1d", "1w"]),
        ("NY:NAIVE", ["1m", "30m", "1h", "4h", "1d"]),
        ("UTC:GAPS", ["4h", "1d", "3d", "1w", "1M"]),
        ("UTC:SINGLE", ["1m", "5m", "1d", "1w", "1M"]),
        ("UTC:DUPS", ["1m", "5m", "1h"]),
        ("UTC:BOUNDS", ["4h", "1d", "1w", "1M"]),
    ]
    for symbol, tfs in cases:
        zone = NY if symbol.startswith("NY:") else "UTC"
        for tf in tfs:
            write_case(f"adversarial_{symbol.split(':')[1].lower()}_{tf}", INPUTS, zone, symbol, tf)

    sample = REPO / "data"
    for symbol, tfs in [
        ("ALPACA:EXPE", ["5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"]),
        ("ALPACA:NFLX", ["4h", "1d", "1w", "1M"]),
        ("ALPACA:AAPL", ["1w", "1M"]),
    ]:
        for tf in tfs:
            write_case(f"sample_{symbol.split(':')[1].lower()}_{tf}", sample, NY, symbol, tf)

    real = MARKET / "parquet"
    for symbol, tfs in [
        ("ALPACA:BTFUT", ["5m", "15m", "1h", "4h", "1d", "1w", "1M"]),
        ("ALPACA:BTIDX", ["15m", "1h", "1d", "1w", "1M"]),
        ("ALPACA:YHOO", ["1w", "1M"]),
        ("ALPACA:NVDA", ["1w", "1M"]),
    ]:
        for tf in tfs:
            write_case(f"real_{symbol.split(':')[1].lower()}_{tf}", real, "UTC", symbol, tf)
    for symbol, tfs in [("ALPACA:BTFUT", ["1m", "1h", "1d"]), ("ALPACA:YHOO", ["1d", "1M"])]:
        for tf in tfs:
            write_case(f"variants_{symbol.split(':')[1].lower()}_{tf}", MARKET / "variants", "UTC", symbol, tf)
    for symbol in writer_inputs():
        for tf in ["1m", "1h", "1d"]:
            write_case(f"writer_{symbol.lower()}_{tf}", WRITERS, "UTC", f"W:{symbol}", tf)


if __name__ == "__main__":
    main()
