//! The SQL catalog: `bars('SYMBOL', 'TF')` reaches the aggregation that
//! serves `/api/data`, the `bars` table prunes before reading, and every
//! indicator is a window function equal to its direct computation.

use std::path::Path;
use std::sync::Arc;

use candela_core::indicator::Registry;
use candela_core::{Engine, Store, StoreConfig};
use candela_sql::{QueryResult, SqlCatalog, SqlError, SqlLimits, SqlService};
use datafusion::arrow::array::{
    Array, AsArray, Float64Array, RecordBatch, StructArray, TimestampNanosecondArray,
};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};

struct Catalog {
    engine: Engine,
    sql: SqlService,
    indicators: Arc<Registry>,
}

fn catalog(root: &Path) -> Catalog {
    let mut config = StoreConfig::new(root);
    config
        .zones
        .insert("ALPACA".into(), chrono_tz::America::New_York);
    let store = Arc::new(Store::open(config).expect("store"));
    let indicators = Arc::new(candela_indicators::registry());
    let sql = SqlService::new(
        SqlCatalog {
            store: Arc::clone(&store),
            indicators: Arc::clone(&indicators),
            tables: Vec::new(),
        },
        SqlLimits::default(),
    )
    .expect("sql");
    Catalog {
        engine: Engine::new(store, 2).expect("engine"),
        sql,
        indicators,
    }
}

fn sample() -> Catalog {
    catalog(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"))
}

fn one_batch(result: &QueryResult) -> RecordBatch {
    concat_batches(&result.schema, &result.batches).expect("concat")
}

fn floats(batch: &RecordBatch, name: &str) -> Vec<f64> {
    let column = batch.column_by_name(name).expect(name);
    floats_of(column.as_primitive::<Float64Type>())
}

/// NULL read as NaN, as the direct computation reports no value.
fn floats_of(array: &Float64Array) -> Vec<f64> {
    array.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bars_table_function_equals_the_api_path_in_the_providers_zone() {
    let c = sample();
    for (symbol, timeframe) in [
        ("EXPE", "4h"),
        ("ALPACA:EXPE", "1w"),
        ("NFLX", "1d"),
        ("AAPL", "1d"),
    ] {
        let direct = c
            .engine
            .bars(symbol, timeframe.parse().expect("tf"))
            .await
            .expect("bars");
        let sql = format!("SELECT * FROM bars('{symbol}', '{timeframe}')");
        let batch = one_batch(&c.sql.query(&sql).await.expect("sql"));
        let time = batch.column(0).as_primitive::<TimestampNanosecondType>();
        assert_eq!(
            time.data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("America/New_York".into())),
            "{sql}: times are labelled in the provider's zone"
        );
        assert_eq!(time.values().as_ref(), direct.frame.time(), "{sql}");
        for (i, name) in ["open", "high", "low", "close", "volume"]
            .iter()
            .enumerate()
        {
            let direct = direct.frame.record_batch().column(i + 1);
            assert_eq!(
                floats(&batch, name),
                floats_of(direct.as_primitive::<Float64Type>()),
                "{sql}: {name}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn naive_time_literals_read_in_the_providers_zone() {
    let c = sample();
    let result = c
        .sql
        .query("SELECT time FROM bars('EXPE', '1h') WHERE time >= '2024-03-05 09:00:00' ORDER BY time LIMIT 1")
        .await
        .expect("query");
    let batch = one_batch(&result);
    let first = batch.column(0).as_primitive::<TimestampNanosecondType>();
    // 09:00 in New York in March (before DST) is 14:00 UTC.
    let expected = chrono::DateTime::parse_from_rfc3339("2024-03-05T14:00:00Z")
        .expect("time")
        .timestamp_nanos_opt()
        .expect("ns");
    assert!(first.value(0) >= expected, "{:?}", first);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_aggregates_with_the_streaming_operator() {
    let c = sample();
    let result = c
        .sql
        .query("EXPLAIN SELECT time, close FROM bars('EXPE', '1h') WHERE close > 100")
        .await
        .expect("explain");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&result.batches)
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
async fn bad_table_function_calls_say_how_to_call_it() {
    let c = sample();
    for (sql, needle) in [
        ("SELECT * FROM bars('NOPE', '1h')", "unknown symbol"),
        ("SELECT * FROM bars('EXPE', 'x')", "is not a timeframe"),
        (
            "SELECT * FROM bars('AAPL', '1h')",
            "stored timeframes are 1d",
        ),
        ("SELECT * FROM bars(1, 2)", "usage: bars"),
    ] {
        let err = c.sql.query(sql).await.expect_err(sql);
        assert!(matches!(err, SqlError::Invalid { .. }), "{sql}: {err:?}");
        assert!(err.to_string().contains(needle), "{sql}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bars_table_holds_every_stored_bar_and_prunes_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for series in ["ALPACA/NFLX/1h", "ALPACA/AAPL/1d"] {
        let to = dir.path().join(series);
        std::fs::create_dir_all(&to).expect("mkdir");
        for file in std::fs::read_dir(sample.join(series)).expect("ls") {
            let file = file.expect("entry").path();
            std::fs::copy(&file, to.join(file.file_name().expect("name"))).expect("copy");
        }
    }
    std::fs::create_dir_all(dir.path().join("ALPACA/BROKEN/1d")).expect("mkdir");
    std::fs::write(
        dir.path().join("ALPACA/BROKEN/1d/bad.parquet"),
        b"PAR1 not parquet PAR1",
    )
    .expect("write");
    let c = catalog(dir.path());
    let store = c.engine.store();

    let before = store.parquet_reads();
    let result = c
        .sql
        .query("SELECT symbol, timeframe, count(*) AS n FROM bars WHERE symbol = 'NFLX' AND timeframe IN ('1h', '1d') GROUP BY symbol, timeframe")
        .await
        .expect("only NFLX is read, not the broken file");
    assert_eq!(store.parquet_reads() - before, 1, "one folder read");
    let batch = one_batch(&result);
    let direct = c
        .engine
        .bars("NFLX", "1h".parse().expect("tf"))
        .await
        .expect("bars");
    assert_eq!(batch.num_rows(), 1);
    assert_eq!(
        batch
            .column(2)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        direct.frame.len() as i64
    );

    let before = store.parquet_reads();
    let none = c
        .sql
        .query("SELECT * FROM bars WHERE provider = 'NOPE' OR symbol LIKE 'ZZ%'")
        .await
        .expect("nothing matches");
    assert_eq!(none.rows(), 0);
    assert_eq!(store.parquet_reads(), before, "nothing read");

    let err = c
        .sql
        .query("SELECT count(*) FROM bars")
        .await
        .expect_err("the whole table includes the broken file");
    assert!(
        matches!(err, SqlError::Internal(_)) && err.to_string().contains("BROKEN"),
        "{err:?}"
    );
}

/// Every built-in indicator through SQL equals its direct computation over
/// the same bars, bit for bit: single outputs as DOUBLE, several as a struct.
#[tokio::test(flavor = "multi_thread")]
async fn every_indicator_is_a_window_function_equal_to_the_direct_computation() {
    let c = sample();
    let bars = c
        .engine
        .bars("EXPE", "15m".parse().expect("tf"))
        .await
        .expect("bars");
    for indicator in c.indicators.list() {
        let spec = indicator.spec();
        let args: Vec<String> = spec
            .inputs
            .iter()
            .map(|i| format!("{i:?}").to_ascii_lowercase())
            .chain(spec.params.iter().map(|p| p.default.to_string()))
            .collect();
        let sql = format!(
            "SELECT {}({}) OVER (ORDER BY time) AS v FROM bars('EXPE', '15m')",
            spec.id,
            args.join(", ")
        );
        let batch = one_batch(&c.sql.query(&sql).await.expect(&sql));
        let call = c.indicators.resolve(&spec.id).expect("defaults").remove(0);
        let direct = call
            .compute_window(&*bars.frame, bars.zone, 0..bars.frame.len())
            .expect("direct");
        let column = batch.column(0);
        let via_sql: Vec<Vec<f64>> = match column.data_type() {
            DataType::Float64 => vec![floats_of(column.as_primitive())],
            DataType::Struct(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                let declared: Vec<&str> = spec.outputs.iter().map(|o| o.name.as_str()).collect();
                assert_eq!(names, declared, "{sql}");
                let parts: &StructArray = column.as_struct();
                parts
                    .columns()
                    .iter()
                    .map(|a| floats_of(a.as_primitive()))
                    .collect()
            }
            other => panic!("{sql}: unexpected {other}"),
        };
        assert_eq!(via_sql.len(), direct.len(), "{sql}");
        for (got, want) in via_sql.iter().zip(&direct) {
            assert!(same(got, want), "{sql}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn indicator_outputs_read_as_fields_and_arguments_take_any_column() {
    let c = sample();
    let result = c
        .sql
        .query(
            "SELECT time, macd(close, 12, 26, 9) OVER w ['signal'] AS signal, \
                    sma(volume, 5) OVER w AS volume_sma, \
                    rsi(close) OVER w AS rsi \
             FROM bars('NFLX', '1h') WINDOW w AS (ORDER BY time)",
        )
        .await
        .expect("query");
    let batch = one_batch(&result);
    let bars = c
        .engine
        .bars("NFLX", "1h".parse().expect("tf"))
        .await
        .expect("bars");
    let volume = bars.frame.volume();
    let sma: Vec<f64> = floats(&batch, "volume_sma");
    let expected = volume[..5].iter().sum::<f64>() / 5.0;
    assert!(sma[..4].iter().all(|v| v.is_nan()), "warm-up is NULL");
    assert!(
        (sma[4] - expected).abs() <= 1e-9 * expected,
        "{} {expected}",
        sma[4]
    );
    let signal = floats(&batch, "signal");
    assert!(signal[..33].iter().all(|v| v.is_nan()) && !signal[33].is_nan());
    let rsi = floats(&batch, "rsi");
    assert!(rsi[14..].iter().all(|v| (0.0..=100.0).contains(v)));
    let times: &TimestampNanosecondArray = batch.column(0).as_primitive();
    assert_eq!(times.values().as_ref(), bars.frame.time());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_indicator_calls_are_explained() {
    let c = sample();
    for (sql, needle) in [
        (
            "SELECT rsi(close, 1) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "period",
        ),
        (
            "SELECT rsi(close, 14, 3) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "usage: rsi(close [, period])",
        ),
        (
            "SELECT rsi(close, close) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "must be a constant",
        ),
        (
            "SELECT atr(close) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "usage: atr(high, low, close",
        ),
        (
            "SELECT sma('x') OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "must be a number",
        ),
        (
            "SELECT vwap(close, high, low, close, volume) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "timestamp",
        ),
        (
            "SELECT macd(close, 30, 10) OVER (ORDER BY time) FROM bars('NFLX', '1h')",
            "fast",
        ),
    ] {
        let err = c.sql.query(sql).await.expect_err(sql);
        assert!(matches!(err, SqlError::Invalid { .. }), "{sql}: {err:?}");
        assert!(err.to_string().contains(needle), "{sql}: {err}");
    }
}

/// A `WHERE` on `time` reads only the row groups it needs, and answers what
/// the same query answers when nothing can be skipped (`time + INTERVAL`
/// is no bare column): over windows at several seeds, in `bars()` and in
/// the `bars` table, indicators included.
#[tokio::test(flavor = "multi_thread")]
async fn time_bounds_skip_row_groups_and_change_no_answer() {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use rand::{Rng, SeedableRng};

    const ROWS: usize = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("TEST/MIN/1m");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let bars = candela_core::synthetic::continuous_minutes(ROWS, 11);
    let batch = bars.record_batch();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROWS / 20))
        .build();
    let file = std::fs::File::create(folder.join("bars.parquet")).expect("create");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    let c = catalog(dir.path());
    let iso = |nanos: i64| {
        chrono::DateTime::from_timestamp_nanos(nanos)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    for seed in [1, 2, 3, 4] {
        let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let first = random.random_range(0..ROWS - 2_000);
        let last = first + random.random_range(1..2_000);
        let (from, to) = (iso(bars.time()[first]), iso(bars.time()[last]));
        for (skipping, full) in [
            (
                format!("time >= TIMESTAMP '{from}' AND time < TIMESTAMP '{to}'"),
                format!(
                    "time + INTERVAL '0 seconds' >= TIMESTAMP '{from}' AND time + INTERVAL '0 seconds' < TIMESTAMP '{to}'"
                ),
            ),
            (
                format!("time BETWEEN TIMESTAMP '{from}' AND TIMESTAMP '{to}'"),
                format!(
                    "time + INTERVAL '0 seconds' BETWEEN TIMESTAMP '{from}' AND TIMESTAMP '{to}'"
                ),
            ),
        ] {
            for query in [
                "SELECT time, close, sma(close, 20) OVER (ORDER BY time) AS sma FROM bars('TEST:MIN', '1m') WHERE {} ORDER BY time",
                "SELECT symbol, count(*) AS n, max(high) AS top FROM bars WHERE {} GROUP BY symbol",
            ] {
                let [a, b] = [&skipping, &full].map(|w| query.replace("{}", w));
                let (a_rows, b_rows) = (
                    one_batch(&c.sql.query(&a).await.expect(&a)),
                    one_batch(&c.sql.query(&b).await.expect(&b)),
                );
                assert!(a_rows.num_rows() > 0, "seed {seed}: {a}");
                assert_eq!(a_rows, b_rows, "seed {seed}: {a}");
            }
        }
    }
}
