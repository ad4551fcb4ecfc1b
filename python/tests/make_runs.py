#!/usr/bin/env python3
"""Runs one strategy in backtrader and one in backtesting.py on real bars
kept in the repository, writes both as Candela runs with this package, and
writes what each library itself reports about its run.

    python python/tests/make_runs.py OUT

writes OUT/runs/<run>/ and OUT/expected.json: {run: {"trades", "net_pnl",
"final_equity"}}. `server/tests/python_runs.rs` serves OUT/runs and compares.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import backtrader as bt
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

from candela_runs import save_backtesting
from candela_runs.backtrader import Recorder, save_backtrader

REPO = Path(__file__).resolve().parents[2]
BARS = REPO / "tests" / "data" / "market" / "parquet" / "ALPACA"


def bars(symbol: str, timeframe: str) -> pd.DataFrame:
    return pd.read_parquet(next((BARS / symbol / timeframe).glob("*.parquet")))


class BtSmaCross(bt.Strategy):
    params = dict(fast=10, slow=30)

    def __init__(self):
        fast = bt.ind.SMA(period=self.p.fast)
        slow = bt.ind.SMA(period=self.p.slow)
        self.cross = bt.ind.CrossOver(fast, slow)

    def next(self):
        if self.cross > 0:
            self.close()
            self.buy(size=100)
        elif self.cross < 0:
            self.close()
            self.sell(size=100)


def backtrader_run(out: Path) -> dict:
    frame = bars("ORCL", "1d").tz_convert(None)
    cerebro = bt.Cerebro(tradehistory=True)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame), name="ALPACA:ORCL")
    cerebro.addstrategy(BtSmaCross)
    cerebro.broker.setcash(100_000)
    cerebro.broker.setcommission(commission=0.001)
    cerebro.addanalyzer(Recorder)
    cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
    strategy, = cerebro.run()
    save_backtrader(strategy, out / "backtrader-orcl", timezone="UTC")
    analysis = strategy.analyzers.trades.get_analysis()
    return {
        "trades": analysis.total.closed,
        "net_pnl": analysis.pnl.net.total,
        "final_equity": cerebro.broker.getvalue(),
        "open_trades": analysis.total.open,
    }


class SmaCross(Strategy):
    fast = 10
    slow = 30

    def init(self):
        close = pd.Series(self.data.Close)
        self.fast_sma = self.I(lambda: close.rolling(self.fast).mean().to_numpy())
        self.slow_sma = self.I(lambda: close.rolling(self.slow).mean().to_numpy())

    def next(self):
        if crossover(self.fast_sma, self.slow_sma):
            self.position.close()
            self.buy()
        elif crossover(self.slow_sma, self.fast_sma):
            self.position.close()
            self.sell()


def backtesting_run(out: Path) -> dict:
    frame = bars("NVDA", "1d").rename(columns=str.capitalize).set_index("Datetime")
    stats = Backtest(frame, SmaCross, cash=10_000, commission=0.002, finalize_trades=True).run(fast=8, slow=21)
    save_backtesting(stats, out / "backtesting-nvda", symbol="ALPACA:NVDA")
    return {
        "trades": int(stats["# Trades"]),
        "net_pnl": float(stats._trades["PnL"].sum()),
        "final_equity": float(stats["Equity Final [$]"]),
        "open_trades": 0,
    }


def main() -> None:
    out = Path(sys.argv[1])
    runs = out / "runs"
    expected = {
        "backtrader-orcl": backtrader_run(runs),
        "backtesting-nvda": backtesting_run(runs),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2))
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
