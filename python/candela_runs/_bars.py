"""Bars into Candela's data root (docs/data.md), as ``candela import --append``
writes them: a series grows by part files, each staged under a hidden name
in the series folder (a server reads no hidden file) and renamed into place
once whole, so that a server following the folder reads the new file alone.

Needs pandas and pyarrow (imported when called).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, List, Optional

OHLCV = ["open", "high", "low", "close", "volume"]
TIME_NAMES = ["datetime", "timestamp", "time", "date"]
TIMEFRAME = re.compile(r"^(?:[1-9][0-9]*[mhd]|1w|1M)$")
FOLDER_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


class BarsNotAfter(ValueError):
    """New bars at or before a series' last bar, appended without ``replace``."""

    def __init__(self, bars: int, last: Any):
        self.bars = bars
        self.last = last
        super().__init__(
            f"{bars} of the new bars are at or before the series' last bar ({last}): an append "
            "adds bars after it; pass replace=True to replace the series' bars from the first "
            "new one on"
        )


def append_bars(
    df: Any,
    root: os.PathLike | str,
    symbol: str,
    timeframe: str,
    *,
    replace: bool = False,
    timezone: Optional[str] = None,
) -> Path:
    """Adds the bars of ``df`` to ``symbol``'s ``timeframe`` series under the
    data root ``root`` as a new part file, and returns its path.

    ``df`` holds ``open``, ``high``, ``low``, ``close`` and ``volume`` (any
    case) and its times as a ``DatetimeIndex`` or a column named
    ``datetime``, ``timestamp``, ``time`` or ``date``. ``symbol`` is
    ``PROVIDER:SYMBOL``. Bars at or before the series' last bar raise
    :class:`BarsNotAfter` with nothing written, unless ``replace``: then the
    series keeps its bars before the first new one, the new ones follow, and
    it is written again whole. ``timezone`` is the provider's zone, needed
    only to compare naive times with times that have a zone.
    """
    import pandas as pd

    provider, name = _symbol_parts(symbol)
    if not TIMEFRAME.match(timeframe):
        raise ValueError(
            f"'{timeframe}' is not a timeframe Candela stores: use 1m, 5m, 1h, 4h, 1d, 1w, 1M "
            "or another <n>m, <n>h or <n>d"
        )
    new = _bars(df, "the new bars")
    if new.empty:
        raise ValueError("no bars to append")
    folder = Path(root) / provider / name / timeframe
    folder.mkdir(parents=True, exist_ok=True)
    held = _series_files(folder)
    old = (
        pd.concat([_bars(pd.read_parquet(f), str(f)) for f in held])
        if held
        else new.iloc[:0]
    )
    old = old[~old.index.duplicated(keep="first")].sort_index()
    new_times = _comparable(new.index, old.index, timezone)
    old_times = _comparable(old.index, new.index, timezone)
    first_new = new_times[0]
    kept = int(old_times.searchsorted(first_new, side="left"))
    if kept == len(old):
        return _place(new, folder, first_new)
    if not replace:
        last = old_times[-1]
        raise BarsNotAfter(int((new_times <= last).sum()), old.index[-1].isoformat())
    # The series again, whole: its bars before the first new one, then the new ones.
    kept_old = old.iloc[:kept]
    if kept_old.index.tz is None and new.index.tz is not None:
        kept_old = kept_old.tz_localize(timezone, ambiguous=True, nonexistent=pd.Timedelta("1h"))
    elif kept_old.index.tz is not None and new.index.tz is None:
        new = new.tz_localize(timezone, ambiguous=True, nonexistent=pd.Timedelta("1h"))
    if kept_old.index.tz is not None:
        new = new.tz_convert(kept_old.index.tz)
    joined = pd.concat([kept_old, new])
    path = _place(joined, folder, _comparable(joined.index, joined.index, timezone)[0])
    for f in held:
        if f != path:
            f.unlink()
    return path


def _symbol_parts(symbol: str) -> tuple:
    provider, _, name = symbol.partition(":")
    if not provider or not name:
        raise ValueError(
            f"symbol '{symbol}' names no provider: write PROVIDER:SYMBOL, e.g. ALPACA:NFLX; "
            "the data root keeps every symbol under a provider"
        )
    for part in (provider, name):
        if not FOLDER_NAME.match(part) or part.startswith("."):
            raise ValueError(
                f"'{part}' cannot be a folder name of the data root: letters, digits, '.', "
                "'_' and '-' only, not starting with '.'"
            )
    return provider, name


def _bars(df: Any, what: str) -> Any:
    """``df`` as bars: a sorted ``DatetimeIndex`` named ``time`` and the five
    columns as floats."""
    import pandas as pd

    columns = {str(c).lower(): c for c in df.columns}
    if isinstance(df.index, pd.DatetimeIndex):
        times = df.index
    else:
        found = next((columns[n] for n in TIME_NAMES if n in columns), None)
        if found is None:
            raise ValueError(
                f"{what}: no times: give a DatetimeIndex or a column named "
                f"{', '.join(TIME_NAMES)}"
            )
        times = pd.DatetimeIndex(pd.to_datetime(df[found]))
    missing = [c for c in OHLCV if c not in columns]
    if missing:
        raise ValueError(f"{what}: no column {', '.join(missing)} (have {', '.join(map(str, df.columns))})")
    bars = pd.DataFrame(
        {c: pd.to_numeric(df[columns[c]], errors="raise").astype("float64").to_numpy() for c in OHLCV},
        index=pd.DatetimeIndex(times, name="time"),
    )
    if bars.index.hasnans:
        raise ValueError(f"{what}: a time is missing")
    if not bars.index.is_monotonic_increasing:
        bars = bars.sort_index(kind="stable")
    duplicated = bars.index.duplicated()
    if duplicated.any():
        raise ValueError(f"{what}: the time {bars.index[duplicated][0]} is repeated")
    return bars


def _series_files(folder: Path) -> List[Path]:
    """The files a server reads of a series: visible parquet files, by name."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix == ".parquet" and not p.name.startswith(".")
    )


def _comparable(times: Any, other: Any, timezone: Optional[str]) -> Any:
    """``times`` as values that compare with ``other``'s: instants (in
    nanoseconds) when either has a zone, else wall-clock times."""
    import pandas as pd

    if times.tz is None and other.tz is None:
        return times.as_unit("ns").asi8
    if times.tz is None:
        if timezone is None:
            raise ValueError(
                "the series and the new bars differ in having a zone: pass timezone='Area/City', "
                "the provider's zone"
            )
        # As Candela reads them: a repeated time is its first, a skipped one moves on by the gap.
        times = times.tz_localize(timezone, ambiguous=True, nonexistent=pd.Timedelta("1h"))
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _place(bars: Any, folder: Path, first_ns: int) -> Path:
    """Writes ``bars`` staged under a hidden name, reads it back, and renames
    it to ``part-<first bar>.parquet``."""
    import pandas as pd

    staged = folder / f".append-{os.getpid()}.parquet"
    try:
        bars.to_parquet(staged, engine="pyarrow")
        back = _bars(pd.read_parquet(staged), str(staged))
        if len(back) != len(bars):
            raise OSError(f"{staged}: {len(back)} bars read back of {len(bars)} written")
        path = _part_path(folder, first_ns)
        os.replace(staged, path)
        return path
    finally:
        staged.unlink(missing_ok=True)


def _part_path(folder: Path, first_ns: int) -> Path:
    """``part-20240305T140000Z.parquet``: parts sort by their first bar, after
    a series' older files (the name ``candela import --append`` gives)."""
    import pandas as pd

    first = pd.Timestamp(first_ns, unit="ns")
    fraction = first_ns % 1_000_000_000
    digits = f"{fraction:09d}"
    for width in (3, 6, 9):
        if int(digits[width:] or 0) == 0:
            digits = digits[:width]
            break
    stem = f"part-{first.strftime('%Y%m%dT%H%M%S')}{'.' + digits if fraction else ''}Z"
    path = folder / f"{stem}.parquet"
    k = 1
    while path.exists():
        path = folder / f"{stem}-{k}.parquet"
        k += 1
    return path
