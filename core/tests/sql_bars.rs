//! SQL reaches the same aggregation as `/api/data`: `bars('SYMBOL', 'TF')`.

use std::path::Path;
use std::sync::Arc;

use candela_core::{BarFrame, Engine, Store, StoreConfig};

fn engine() -> Engine {
    let mut config = StoreConfig::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"));
    config
        .zones
        .insert("ALPACA".into(), chrono_tz::America::New_York);
    Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bars_table_function_equals_the_api_path() {
    let engine = engine();
    for (symbol, timeframe) in [
        ("EXPE", "4h"),
        ("ALPACA:EXPE", "1w"),
        ("NFLX", "1d"),
        ("AAPL", "1d"),
    ] {
        let direct = engine
            .bars(symbol, timeframe.parse().expect("tf"))
            .await
            .expect("bars");
        let sql = format!("SELECT * FROM bars('{symbol}', '{timeframe}')");
        let batches = engine.sql(&sql).await.expect("sql");
        let via_sql = BarFrame::from_batches(&batches).expect("canonical");
        assert_eq!(via_sql.record_batch(), direct.frame.record_batch(), "{sql}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_aggregates_with_the_streaming_operator() {
    let engine = engine();
    let plan = engine
        .sql("EXPLAIN SELECT time, close FROM bars('EXPE', '1h') WHERE close > 100")
        .await
        .expect("explain");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .expect("format")
        .to_string();
    assert!(
        text.contains("ResampleExec: timeframe=1h, zone=America/New_York"),
        "{text}"
    );
    assert!(
        !text.contains("AggregateExec") && !text.contains("SortExec"),
        "no hash aggregation or re-sort:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_table_function_calls_are_plan_errors() {
    let engine = engine();
    for (sql, needle) in [
        ("SELECT * FROM bars('NOPE', '1h')", "unknown symbol"),
        ("SELECT * FROM bars('EXPE', 'x')", "is not a timeframe"),
        (
            "SELECT * FROM bars('AAPL', '1h')",
            "stored timeframes are 1d",
        ),
        ("SELECT * FROM bars(1, 2)", "usage: bars"),
    ] {
        let err = engine.sql(sql).await.expect_err(sql).to_string();
        assert!(err.contains(needle), "{sql}: {err}");
    }
}
