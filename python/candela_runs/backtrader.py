"""backtrader: an analyzer that records each trade's entries and exits and
the account's value at every bar, and the call that writes them as a run.

Why an analyzer: a closed ``bt.Trade`` reports size 0 and keeps no exit
price, so entries and exits come from ``Trade.history`` (which needs
``bt.Cerebro(tradehistory=True)``); and the ``Broker`` observer's arrays can
be longer than the run, while an analyzer's ``next`` runs once per bar.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import backtrader as bt

from ._folder import save_run


class Recorder(bt.Analyzer):
    """Add before ``cerebro.run()``: ``cerebro.addanalyzer(Recorder)``."""

    def start(self):
        self.closed: List[Dict[str, Any]] = []
        self.open: Dict[int, Any] = {}
        self.equity: List[Dict[str, Any]] = []
        self.starting_cash = self.strategy.broker.startingcash

    def notify_trade(self, trade):
        if trade.isclosed:
            self.open.pop(trade.ref, None)
            self.closed.append(_trade_row(trade, closed=True))
        elif trade.isopen:
            self.open[trade.ref] = trade

    def next(self):
        broker = self.strategy.broker
        self.equity.append({
            "time": self.strategy.datetime.datetime(0),
            "equity": broker.getvalue(),
            "cash": broker.getcash(),
        })

    def get_analysis(self):
        return {
            "trades": self.closed + [_trade_row(t, closed=False) for t in self.open.values()],
            "equity": self.equity,
            "starting_cash": self.starting_cash,
        }


def _trade_row(trade, closed: bool) -> Dict[str, Any]:
    """One trade: its size at its largest, the average price it was built
    at, and the average price it was closed at."""
    if not trade.history:
        raise RuntimeError(
            "the trade has no history: create the Cerebro with "
            "bt.Cerebro(tradehistory=True) to record entries and exits"
        )
    largest, entry_price, exit_units, exit_value = 0.0, None, 0.0, 0.0
    for update in trade.history:
        size = abs(update.status.size)
        moved = abs(update.event.size)
        if size > largest:
            largest, entry_price = size, update.status.price
        elif size < largest:
            exit_units += moved
            exit_value += moved * update.event.price
    long = trade.history[0].event.size > 0
    return {
        "symbol": getattr(trade.data, "_name", "") or None,
        "side": "long" if long else "short",
        "size": largest,
        "entry_time": bt.num2date(trade.dtopen),
        "entry_price": entry_price,
        "exit_time": bt.num2date(trade.dtclose) if closed else None,
        "exit_price": exit_value / exit_units if closed and exit_units else None,
        "pnl": trade.pnlcomm if closed else None,
        "commission": trade.commission,
        "tag": None,
    }


def save_backtrader(
    strategy: Any,
    run: os.PathLike | str,
    symbol: Optional[str] = None,
    name: Optional[str] = None,
    timezone: Optional[str] = None,
    notes: Optional[str] = None,
) -> Path:
    """Writes the run of ``strategy`` (an element of ``cerebro.run()``'s
    result), which ran with a :class:`Recorder`.

    ``symbol`` (``PROVIDER:SYMBOL``) is every trade's symbol; without it,
    each trade's is its data's name (``cerebro.adddata(feed, name=...)``).
    ``timezone``: the zone of backtrader's (naive) times, if it is not the
    provider's in Candela.
    """
    recorders = [a for a in strategy.analyzers if isinstance(a, Recorder)]
    if not recorders:
        raise ValueError("no Recorder ran: add it before cerebro.run(): cerebro.addanalyzer(Recorder)")
    analysis = recorders[0].get_analysis()
    trades = analysis["trades"]
    for trade in trades:
        if symbol is not None:
            trade["symbol"] = symbol
        elif not trade["symbol"]:
            raise ValueError("a trade's data has no name: pass symbol='PROVIDER:SYMBOL', or adddata(feed, name=...)")
    symbols = sorted({t["symbol"] for t in trades}) or ([symbol] if symbol else [])
    params = {k: v for k, v in strategy.params._getkwargs().items() if isinstance(v, (bool, int, float, str))}
    return save_run(
        run,
        trades,
        analysis["equity"],
        name=name or f"{type(strategy).__name__} on {', '.join(symbols)}",
        strategy=type(strategy).__name__,
        params=params,
        starting_cash=analysis["starting_cash"],
        symbols=symbols,
        timezone=timezone,
        notes=notes,
    )
