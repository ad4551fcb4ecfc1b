#!/usr/bin/env python3
"""Backtests run by backtesting.py on real bars, as run folders, with the
statistics backtesting.py itself reports, for Candela's tests.

Writes, for each case, tests/fixtures/runs/<case>/:
  trades.parquet, equity.parquet   `stats._trades` and `stats._equity_curve`
                                   written as they are (`DataFrame.to_parquet`)
  run.toml                         the run's name, strategy, params, cash, symbol
  expected.json                    backtesting.py's `stats`, keyed by Candela's
                                   names (docs/runs.md), and the library's own
                                   names beside them
and one case as CSV files with Candela's generic column names
(`yhoo-sma-cross-csv`), whose statistics must be the same.

The bars are `tests/data/market` (see its SOURCES.md). Run from the
repository root:

    pip install -r tests/oracle/requirements.txt
    python tests/oracle/backtest.py
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "runs"
MARKET = REPO / "tests" / "data" / "market" / "parquet" / "ALPACA"


def bars(symbol: str, timeframe: str) -> pd.DataFrame:
    frame = pd.read_parquet(next((MARKET / symbol / timeframe).glob("*.parquet")))
    return frame.rename(columns=str.capitalize)


def sma(values, n):
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaCross(Strategy):
    """Always in the market: long after the fast average crosses above the
    slow one, short after it crosses below."""

    fast = 10
    slow = 30

    def init(self):
        self.fast_sma = self.I(sma, self.data.Close, self.fast)
        self.slow_sma = self.I(sma, self.data.Close, self.slow)

    def next(self):
        if crossover(self.fast_sma, self.slow_sma):
            self.position.close()
            self.buy(tag="cross up")
        elif crossover(self.slow_sma, self.fast_sma):
            self.position.close()
            self.sell(tag="cross down")


class Breakout(Strategy):
    """A channel breakout with a stop-loss and a take-profit on every trade,
    both ways, in fixed sizes; the last trade may still be open at the end."""

    window = 60
    stop = 0.004
    target = 0.008

    def init(self):
        high = pd.Series(self.data.High)
        low = pd.Series(self.data.Low)
        self.upper = self.I(lambda: high.rolling(self.window).max().shift(1).to_numpy())
        self.lower = self.I(lambda: low.rolling(self.window).min().shift(1).to_numpy())

    def next(self):
        if self.position:
            return
        close = self.data.Close[-1]
        if close > self.upper[-1]:
            self.buy(size=20, sl=close * (1 - self.stop), tp=close * (1 + self.target), tag="up")
        elif close < self.lower[-1]:
            self.sell(size=20, sl=close * (1 + self.stop), tp=close * (1 - self.target), tag="down")


CASES = [
    {
        "case": "yhoo-sma-cross",
        "symbol": "ALPACA:YHOO",
        "bars": ("YHOO", "1d"),
        "strategy": SmaCross,
        "params": {"fast": 10, "slow": 30},
        "backtest": {"cash": 10_000, "commission": 0.002, "finalize_trades": True},
    },
    {
        "case": "btfut-1m-breakout",
        "symbol": "ALPACA:BTFUT",
        "bars": ("BTFUT", "1m"),
        "strategy": Breakout,
        "params": {"window": 60, "stop": 0.004, "target": 0.008},
        "backtest": {"cash": 100_000, "commission": 0.0002, "spread": 0.0001, "finalize_trades": False},
    },
]

# Candela's statistic names and backtesting.py's.
NAMES = {
    "return_pct": "Return [%]",
    "max_drawdown_pct": "Max. Drawdown [%]",
    "max_drawdown_duration_s": "Max. Drawdown Duration",
    "trades": "# Trades",
    "win_rate_pct": "Win Rate [%]",
    "best_trade_pct": "Best Trade [%]",
    "worst_trade_pct": "Worst Trade [%]",
    "avg_trade_pct": "Avg. Trade [%]",
    "profit_factor": "Profit Factor",
    "expectancy_pct": "Expectancy [%]",
    "exposure_time_pct": "Exposure Time [%]",
    "sharpe_ratio": "Sharpe Ratio",
    "sortino_ratio": "Sortino Ratio",
    "final_equity": "Equity Final [$]",
}


def plain(value):
    """A statistic as JSON: durations in seconds, NaN as null."""
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def toml_value(value) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def write_case(case: dict) -> tuple[pd.Series, Path]:
    data = bars(*case["bars"])
    backtest = Backtest(data, case["strategy"], **case["backtest"])
    stats = backtest.run(**case["params"])
    folder = OUT / case["case"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stats._trades.to_parquet(folder / "trades.parquet")
    stats._equity_curve.to_parquet(folder / "equity.parquet")
    params = ", ".join(f"{k} = {toml_value(v)}" for k, v in case["params"].items())
    (folder / "run.toml").write_text(
        f'name = "{case["strategy"].__name__} on {case["symbol"]}"\n'
        f'strategy = "{case["strategy"].__name__}"\n'
        f'starting_cash = {case["backtest"]["cash"]}\n'
        f'symbols = ["{case["symbol"]}"]\n'
        f"params = {{ {params} }}\n"
        f'notes = "backtesting.py, made by tests/oracle/backtest.py"\n'
    )
    expected = {
        "stats": {name: plain(stats[theirs]) for name, theirs in NAMES.items()},
        "net_pnl": float(stats._trades["PnL"].sum()),
        "backtesting.py": {theirs: plain(stats[theirs]) for theirs in NAMES.values()},
    }
    (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"{case['case']}: {len(stats._trades)} trades, {len(stats._equity_curve)} bars")
    return stats, folder


def write_csv_twin(stats: pd.Series, source: Path, symbol: str) -> None:
    """The same run in CSV, with Candela's generic names: unsigned sizes and
    a side, ISO times, no return column (Candela derives it from the PnL)."""
    folder = OUT / f"{source.name}-csv"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t = stats._trades
    trades = pd.DataFrame({
        "symbol": symbol,
        "side": np.where(t["Size"] > 0, "long", "short"),
        "size": t["Size"].abs(),
        "entry_time": t["EntryTime"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entry_price": t["EntryPrice"].map(repr),
        "exit_time": t["ExitTime"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exit_price": t["ExitPrice"].map(repr),
        "pnl": t["PnL"].map(repr),
        "commission": t["Commission"].map(repr),
        "tag": t["Tag"],
    })
    trades.to_csv(folder / "trades.csv", index=False)
    equity = stats._equity_curve
    pd.DataFrame({
        "time": equity.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "equity": equity["Equity"].map(repr),
    }).to_csv(folder / "equity.csv", index=False)
    toml = (source / "run.toml").read_text().replace("symbols = ", "# symbols = ")
    # The symbol is in the trades, so run.toml need not name it.
    (folder / "run.toml").write_text(toml.replace("\nnotes = \"", "\nnotes = \"CSV twin; "))
    shutil.copy(source / "expected.json", folder / "expected.json")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        stats, folder = write_case(case)
        if case["case"] == "yhoo-sma-cross":
            write_csv_twin(stats, folder, case["symbol"])


if __name__ == "__main__":
    main()
