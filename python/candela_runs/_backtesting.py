"""backtesting.py: its ``stats`` as a run folder, its own tables unchanged."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from ._folder import write_folder, write_manifest


def _parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def save_backtesting(
    stats: Any,
    run: os.PathLike | str,
    symbol: str,
    name: Optional[str] = None,
    timezone: Optional[str] = None,
    notes: Optional[str] = None,
) -> Path:
    """Writes the run that ``Backtest.run()`` returned ``stats`` for.

    ``stats._trades`` and ``stats._equity_curve`` are written as they are
    (parquet when pyarrow is installed, else CSV); run.toml gets the
    strategy, its parameters, the starting cash and ``symbol``
    (``PROVIDER:SYMBOL`` as Candela serves it). ``timezone`` is the zone of
    naive times, if the data's index has none and it is not the provider's.
    """
    trades = stats._trades
    equity = stats._equity_curve
    strategy = stats._strategy
    params = dict(getattr(strategy, "_params", {}) or {})
    starting_cash = float(equity["Equity"].iloc[0]) if len(equity) else None

    def fill(folder: Path) -> None:
        if _parquet_available():
            trades.to_parquet(folder / "trades.parquet")
            equity.to_parquet(folder / "equity.parquet")
        else:
            trades.to_csv(folder / "trades.csv", index=False)
            equity.rename_axis("time").to_csv(folder / "equity.csv")
        write_manifest(
            folder,
            name=name or f"{type(strategy).__name__} on {symbol}",
            strategy=type(strategy).__name__,
            params={k: v for k, v in params.items() if _plain(v)},
            starting_cash=starting_cash,
            symbols=[symbol],
            timezone=timezone,
            notes=notes,
        )

    return write_folder(run, fill)


def _plain(value: Any) -> bool:
    """Whether a parameter can be written to TOML as a value."""
    if hasattr(value, "item"):
        value = value.item()
    return isinstance(value, (bool, int, float, str))
