"""candela_runs.append_bars as server/tests/python_runs.rs drives it, beside
``candela import --append`` on a twin data root.

usage: append_bars.py ROOT SYMBOL TIMEFRAME CSV [--replace] [--column]

CSV has Unix-second ``timestamp`` and OHLCV columns; the bars are handed
over with a DatetimeIndex, or with ``--column`` a ``Datetime`` column.
Prints ``{"path": …}``, or ``{"refused": bars, "message": …}`` when the
bars are not after the series' last.
"""

import json
import sys

import pandas as pd

from candela_runs import BarsNotAfter, append_bars

root, symbol, timeframe, csv_path, *flags = sys.argv[1:]
df = pd.read_csv(csv_path)
times = pd.to_datetime(df.pop("timestamp"), unit="s", utc=True)
if "--column" in flags:
    df.insert(0, "Datetime", times)
    df.columns = [c.upper() if c != "Datetime" else c for c in df.columns]
else:
    df.index = pd.DatetimeIndex(times)
try:
    path = append_bars(df, root, symbol, timeframe, replace="--replace" in flags)
    print(json.dumps({"path": str(path)}))
except BarsNotAfter as refused:
    print(json.dumps({"refused": refused.bars, "message": str(refused)}))
