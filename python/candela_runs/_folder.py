"""A run folder, written whole: files go into a hidden folder beside the
run's place, which is renamed into place when complete."""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

TRADE_COLUMNS = [
    "symbol", "side", "size", "entry_time", "entry_price", "exit_time",
    "exit_price", "pnl", "commission", "stop_loss", "take_profit", "tag",
]
EQUITY_COLUMNS = ["time", "equity", "cash"]


def write_folder(run: os.PathLike | str, fill: Callable[[Path], None]) -> Path:
    """Calls ``fill`` with an empty hidden folder, then puts that folder at
    ``run`` (replacing a run already there)."""
    run = Path(run)
    if not run.name or run.name.startswith("."):
        raise ValueError(f"a run's folder name must not be empty or start with '.': {run}")
    run.parent.mkdir(parents=True, exist_ok=True)
    partial = run.parent / f".{run.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        fill(partial)
        if run.exists():
            old = run.parent / f".{run.name}.old-{os.getpid()}"
            run.rename(old)
            partial.rename(run)
            shutil.rmtree(old, ignore_errors=True)
        else:
            partial.rename(run)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return run


def toml_value(value: Any) -> str:
    """A TOML value for the keys a run.toml holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return json.dumps(str(value))
        return repr(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if hasattr(value, "item"):  # numpy scalars
        return toml_value(value.item())
    return json.dumps(str(value), ensure_ascii=False)


def toml_key(key: Any) -> str:
    key = str(key)
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def write_manifest(folder: Path, **keys: Any) -> None:
    """run.toml with the keys given (None values are left out)."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in keys.items() if v is not None and v != {}]
    (folder / "run.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def text(value: Any) -> str:
    """A CSV cell: empty for None and NaN, ISO 8601 for times, repr for floats
    (so that they read back exactly)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "item"):
        return text(value.item())
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([text(row.get(c)) for c in columns])


def save_run(
    run: os.PathLike | str,
    trades: Iterable[Mapping[str, Any]],
    equity: Optional[Iterable[Mapping[str, Any]]] = None,
    **manifest: Any,
) -> Path:
    """Writes a run from plain rows.

    ``trades``: mappings with the keys of ``TRADE_COLUMNS`` (``symbol`` may be
    left out when ``symbols=[one]`` is given; ``exit_time``/``exit_price`` are
    None for a trade still open). ``equity``: mappings with ``time``,
    ``equity`` and optionally ``cash``. ``manifest``: run.toml's keys
    (``name``, ``strategy``, ``params``, ``starting_cash``, ``symbols``,
    ``timezone``, ``timeframe``, ``notes``).
    """
    trades = list(trades)
    equity = None if equity is None else list(equity)

    def fill(folder: Path) -> None:
        write_csv(folder / "trades.csv", TRADE_COLUMNS, trades)
        if equity is not None:
            write_csv(folder / "equity.csv", EQUITY_COLUMNS, equity)
        write_manifest(folder, **manifest)

    return write_folder(run, fill)
