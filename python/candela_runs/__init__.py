"""Write backtests as Candela run folders (see docs/runs.md).

- :func:`save_backtesting` takes the ``stats`` that backtesting.py's
  ``Backtest.run()`` returns;
- :func:`save_backtrader` takes a backtrader strategy that ran with the
  :class:`Recorder` analyzer (both in :mod:`candela_runs.backtrader`, loaded
  only when used, so that backtesting.py users need no backtrader);
- :func:`save_run` writes trades and an equity curve given as plain rows,
  for any other engine;
- :func:`append_bars` adds new bars to a series of the data root as a part
  file, as ``candela import --append`` does, for a chart following live bars.
"""

from ._folder import save_run
from ._backtesting import save_backtesting
from ._bars import BarsNotAfter, append_bars

__all__ = ["save_run", "save_backtesting", "save_backtrader", "Recorder", "append_bars", "BarsNotAfter"]
__version__ = "0.1.0"


def __getattr__(name):
    if name in ("save_backtrader", "Recorder"):
        from . import backtrader

        return getattr(backtrader, name)
    raise AttributeError(f"module 'candela_runs' has no attribute {name!r}")
