"""Candela's Flight SQL through the real ADBC driver, from pandas and polars.

Run by server/tests/flight.rs as `flight_sql.py URI TOKEN`: it prints one
JSON object of what each call returned (rows, schemas, errors), which the
Rust test compares with /api/sql's answers to the same queries.
"""

import json
import sys

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import polars as pl
from adbc_driver_flightsql import DatabaseOptions

uri, token = sys.argv[1], sys.argv[2]

QUERY = (
    "SELECT time, close, rsi(close, 14) OVER (ORDER BY time) AS rsi "
    "FROM bars('ALPACA:NVDA', '1d') ORDER BY time LIMIT 40"
)
PREPARED = (
    "SELECT count(*) AS n, max(close) AS top FROM bars "
    "WHERE symbol = ? AND timeframe = '1d' AND close > ?"
)


def connect(token):
    kwargs = {}
    if token is not None:
        kwargs[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {token}"
    return flight_sql.connect(uri, db_kwargs=kwargs, autocommit=True)


def failure(call):
    """What `call` raised: the driver's class, the gRPC code, the message and
    the response metadata."""
    try:
        call()
    except adbc_driver_manager.Error as error:
        details = {}
        text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
        for key, value in error.details or []:
            details[text(key)] = text(value)
        return {
            "class": type(error).__name__,
            "vendor_code": error.vendor_code,
            "message": str(error),
            "details": details,
        }
    return None


def epoch_seconds(column):
    return [int(t.timestamp()) if t is not None else None for t in column]


out = {}
with connect(token) as conn:
    with conn.cursor() as cur:
        # A query, into pandas.
        cur.execute(QUERY)
        frame = cur.fetch_df()
        out["pandas"] = {
            "columns": list(frame.columns),
            "time": epoch_seconds(frame["time"]),
            "close": frame["close"].tolist(),
            "rsi": [None if v != v else v for v in frame["rsi"].tolist()],
        }

        # A prepared statement with parameters, bound by position.
        cur.execute(PREPARED, ("NVDA", 12.5))
        row = cur.fetchone()
        out["prepared"] = {"n": row[0], "top": row[1]}
        cur.execute(PREPARED, ("NVDA", 1e9))
        out["prepared_none"] = list(cur.fetchone())

        # A result over the row cap fails rather than arrive cut.
        out["cut"] = failure(lambda: (cur.execute("SELECT * FROM bars"), cur.fetchall()))

        # Refused and failing queries: the codes and messages of /api/sql.
        out["write"] = failure(lambda: cur.execute("INSERT INTO bars VALUES (1)"))
        out["syntax"] = failure(lambda: cur.execute("SELECT close FROM bars WHERE clse > 1"))
        out["limit"] = failure(
            lambda: cur.execute("SELECT count(*) FROM generate_series(1, 1000000000)")
        )

    # The same query from polars, on the same connection.
    polars_frame = pl.read_database(QUERY, connection=conn)
    out["polars"] = {
        "columns": polars_frame.columns,
        "close": polars_frame["close"].to_list(),
    }

    # What a database tool lists.
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    tables = {}
    for catalog in objects:
        for schema in catalog["catalog_db_schemas"] or []:
            for table in schema["db_schema_tables"] or []:
                name = f'{catalog["catalog_name"]}.{schema["db_schema_name"]}.{table["table_name"]}'
                tables[name] = [c["column_name"] for c in table["table_columns"] or []]
    out["tables"] = tables
    out["bars_schema"] = conn.adbc_get_table_schema("bars").names
    out["info"] = {str(k): str(v) for k, v in conn.adbc_get_info().items()}

# Sign-in: no token and a wrong token are refused.
for name, presented in [("no_token", None), ("wrong_token", "not-a-token")]:

    def attempt():
        with connect(presented) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()

    out[name] = failure(attempt)

print(json.dumps(out))
