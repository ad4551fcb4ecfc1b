//! Hostile and heavy SQL: each attack is refused with a message that says
//! why and changes nothing; each limit stops its query, says which limit it
//! was, and frees the query's slot for the next one.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use candela_core::{Engine, Store, StoreConfig};
use candela_sql::{SqlCatalog, SqlError, SqlLimits, SqlService};

/// A hash join on a two-valued key: 10^5 × 10^5 / 2 matches, far more
/// work than any limit allows, done inside the join without yielding.
const JOIN_BOMB: &str = "SELECT count(*) FROM generate_series(1, 100000) a \
                         JOIN generate_series(1, 100000) b ON a.value % 2 = b.value % 2";

fn service(limits: SqlLimits) -> (Arc<Store>, SqlService) {
    let mut config = StoreConfig::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"));
    config
        .zones
        .insert("ALPACA".into(), chrono_tz::America::New_York);
    let store = Arc::new(Store::open(config).expect("store"));
    let sql = SqlService::new(
        SqlCatalog {
            store: Arc::clone(&store),
            indicators: Arc::new(candela_indicators::registry()),
            tables: Vec::new(),
        },
        limits,
    )
    .expect("sql");
    (store, sql)
}

async fn refused(sql: &SqlService, query: &str) -> String {
    match sql.query(query).await {
        Err(e @ (SqlError::Refused(_) | SqlError::Invalid { .. })) => e.to_string(),
        other => panic!("{query}: expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_that_define_change_or_configure_are_refused() {
    let (_, sql) = service(SqlLimits::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("out.csv");
    let copy = format!("COPY (SELECT * FROM bars) TO '{}'", target.display());
    for (query, needle) in [
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
        ("CREATE VIEW v AS SELECT * FROM bars", "CREATE VIEW"),
        ("DROP TABLE bars", "DROP TABLE"),
        ("INSERT INTO bars SELECT * FROM bars", "INSERT INTO"),
        ("DELETE FROM bars", "DELETE FROM"),
        ("UPDATE bars SET close = 0", "UPDATE"),
        (&copy, "COPY"),
        (
            "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
            "CREATE EXTERNAL TABLE",
        ),
        ("SET datafusion.execution.target_partitions = 1", "SET"),
        ("RESET datafusion.execution.batch_size", "RESET"),
        ("SELECT 1; SELECT 2", "one statement per request, found 2"),
        ("SELECT 1; DROP TABLE bars", "one statement per request"),
        ("EXPLAIN CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
        ("SELECT * INTO t FROM bars", "read-only"),
        ("BEGIN TRANSACTION", "read-only"),
        ("SHOW ALL", "read-only"),
    ] {
        let message = refused(&sql, query).await;
        assert!(
            message.contains(needle)
                && (message.contains("read-only") || message.contains("one statement")),
            "{query}: {message}"
        );
    }
    assert!(!target.exists(), "COPY wrote nothing");
    let still = sql.query("SELECT count(*) FROM bars").await;
    assert!(still.is_ok(), "the catalog is intact: {still:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_outside_the_catalog_cannot_be_read() {
    let (_, sql) = service(SqlLimits::default());
    for (query, needle) in [
        ("SELECT * FROM '/etc/passwd'", "not found"),
        (
            "SELECT * FROM 'data/ALPACA/AAPL/1d/aapl.parquet'",
            "not found",
        ),
        ("SELECT * FROM read_parquet('/etc/passwd')", "read_parquet"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        (
            "SELECT * FROM parquet_metadata('/etc/passwd')",
            "parquet_metadata",
        ),
        ("SELECT * FROM information_schema.tables", "not found"),
        ("SELECT * FROM bars('../../etc', '1d')", "unknown symbol"),
        (
            "SELECT * FROM bars('ALPACA:../AAPL', '1d')",
            "unknown symbol",
        ),
    ] {
        let message = refused(&sql, query).await;
        assert!(message.contains(needle), "{query}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn over_long_and_deeply_nested_queries_are_refused_without_harm() {
    let (_, sql) = service(SqlLimits::default());
    let long = format!("SELECT 1 {}", " ".repeat(70_000));
    let message = refused(&sql, &long).await;
    assert!(
        message.contains("bytes long; the limit is 65536"),
        "{message}"
    );

    // The chain that overflowed the planner's stack: ten thousand terms, 20 KB.
    let chain = format!("SELECT {}1", "1+".repeat(10_000));
    let message = refused(&sql, &chain).await;
    assert!(message.contains("more than 256 levels"), "{message}");
    let parens = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
    let message = refused(&sql, &parens).await;
    assert!(message.contains("more than 64 levels deep"), "{message}");
    let subqueries = format!("SELECT {}1{}", "(SELECT ".repeat(300), ")".repeat(300));
    refused(&sql, &subqueries).await;

    // Below the bound, long chains still run.
    let fine = format!("SELECT {}1 AS n", "1+".repeat(200));
    let result = sql.query(&fine).await.expect("200 terms run");
    assert_eq!(result.rows(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_row_cap_cuts_and_says_so() {
    let (_, sql) = service(SqlLimits {
        max_rows: 1_000,
        ..SqlLimits::default()
    });
    let cut = sql
        .query("SELECT * FROM generate_series(1, 5000)")
        .await
        .expect("query");
    assert_eq!((cut.rows(), cut.truncated), (1_000, true));
    let exact = sql
        .query("SELECT * FROM generate_series(1, 1000)")
        .await
        .expect("query");
    assert_eq!((exact.rows(), exact.truncated), (1_000, false));
    let under = sql
        .query("SELECT * FROM bars('NFLX', '1d') LIMIT 10")
        .await
        .expect("query");
    assert_eq!((under.rows(), under.truncated), (10, false));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_time_limit_stops_a_join_that_never_yields_and_frees_its_slot() {
    let (_, sql) = service(SqlLimits {
        time_limit: Duration::from_millis(1_500),
        max_concurrent: 1,
        queue_timeout: Duration::from_millis(100),
        ..SqlLimits::default()
    });
    let err = sql.query(JOIN_BOMB).await.expect_err("too long");
    assert!(matches!(err, SqlError::TimeLimit(_)), "{err:?}");
    assert!(err.to_string().contains("time limit of 1.5 s"), "{err}");
    // The slot is released only when the query has stopped: were the join
    // still running, this would wait 100 ms and be refused as busy.
    let next = sql.query("SELECT 1").await;
    assert!(next.is_ok(), "the slot is free: {next:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_memory_limit_stops_a_query_and_nothing_spills_to_disk() {
    let (_, sql) = service(SqlLimits {
        memory_bytes: 16 << 20,
        ..SqlLimits::default()
    });
    for query in [
        "SELECT value FROM generate_series(1, 5000000) ORDER BY value DESC",
        "SELECT value % 3000000 AS k, count(*) FROM generate_series(1, 5000000) GROUP BY k",
    ] {
        let err = sql.query(query).await.expect_err(query);
        assert!(
            matches!(err, SqlError::MemoryLimit { .. }),
            "{query}: {err:?}"
        );
        assert!(err.to_string().contains("limit of 16 MiB"), "{err}");
    }
    let fine = sql
        .query("SELECT count(*) FROM generate_series(1, 5000000)")
        .await
        .expect("streams within the limit");
    assert_eq!(fine.rows(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn heavy_sql_holds_its_slots_but_never_the_bars_path() {
    let (store, sql) = service(SqlLimits {
        time_limit: Duration::from_secs(3),
        max_concurrent: 1,
        queue_timeout: Duration::from_millis(50),
        ..SqlLimits::default()
    });
    let sql = Arc::new(sql);
    let engine = Engine::new(store, 1).expect("engine");
    let heavy = tokio::spawn({
        let sql = Arc::clone(&sql);
        async move { sql.query(JOIN_BOMB).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = sql.query("SELECT 1").await;
    assert!(matches!(busy, Err(SqlError::Busy(1))), "{busy:?}");
    for timeframe in ["1h", "4h", "1d"] {
        let bars = engine
            .bars("EXPE", timeframe.parse().expect("tf"))
            .await
            .expect("bars are served");
        assert!(!bars.frame.is_empty());
    }
    assert!(
        !heavy.is_finished(),
        "the bars were served while the heavy query still ran"
    );
    let heavy = heavy.await.expect("task");
    assert!(matches!(heavy, Err(SqlError::TimeLimit(_))), "{heavy:?}");
}

async fn output_limit(sql: &SqlService, query: &str) -> String {
    match sql.query(query).await {
        Err(e @ SqlError::OutputLimit(_)) => e.to_string(),
        other => panic!("{query}: expected an output limit, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_tables_stop_at_their_row_cap() {
    let (_, sql) = service(SqlLimits {
        max_generated_rows: 1_000,
        ..SqlLimits::default()
    });
    for query in [
        "SELECT count(*) FROM generate_series(1, 5000)",
        "SELECT count(*) FROM range(1001)",
        "SELECT value FROM range(1000000000000) ORDER BY value DESC LIMIT 1",
        "SELECT count(*) FROM generate_series(TIMESTAMP '2020-01-01', TIMESTAMP '2021-01-01', INTERVAL '1 minute')",
    ] {
        let message = output_limit(&sql, query).await;
        assert!(
            message.contains("more than 1000 rows") && message.contains("sql.max_generated_rows"),
            "{query}: {message}"
        );
    }
    for (query, rows) in [
        ("SELECT * FROM generate_series(1, 1000)", 1_000),
        ("SELECT * FROM range(1000)", 1_000),
        // Each scan has its own count.
        (
            "SELECT * FROM range(600) a JOIN range(600) b ON a.value = b.value",
            600,
        ),
    ] {
        let result = sql.query(query).await.expect(query);
        assert_eq!(result.rows(), rows, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn functions_that_outgrow_their_input_are_capped_before_they_allocate() {
    let (_, sql) = service(SqlLimits {
        max_value_bytes: 1 << 20,
        ..SqlLimits::default()
    });
    for (query, function) in [
        ("SELECT repeat('ab', 1000000)", "repeat"),
        ("SELECT repeat('ab', 9223372036854775807)", "repeat"),
        ("SELECT lpad('x', 10000000)", "lpad"),
        ("SELECT rpad('x', 2000000000, 'yz')", "rpad"),
        (
            "SELECT replace(repeat('a', 1000), 'a', repeat('b', 10000))",
            "replace",
        ),
        ("SELECT array_repeat(1, 1000000)", "array_repeat"),
        (
            "SELECT array_repeat(array_repeat(1.5, 1000), 1000)",
            "array_repeat",
        ),
        (
            "SELECT array_resize(make_array(1), 1000000, 7)",
            "array_resize",
        ),
        ("SELECT range(1, 10000000)", "range"),
        (
            "SELECT generate_series(DATE '0001-01-01', DATE '9999-12-31', INTERVAL '1 day')",
            "generate_series",
        ),
        (
            "SELECT generate_series(TIMESTAMP '2000-01-01', TIMESTAMP '2100-01-01', INTERVAL '1 minute')",
            "generate_series",
        ),
        // A column: the bound is over the whole batch.
        ("SELECT repeat(symbol, 100000) FROM bars", "repeat"),
        (
            "SELECT array_repeat(close, 1000) FROM bars('NFLX', '1h')",
            "array_repeat",
        ),
    ] {
        let message = output_limit(&sql, query).await;
        assert!(
            message.starts_with(function) && message.contains("1 MiB that sql.max_value_mb"),
            "{query}: {message}"
        );
    }
    let small = sql
        .query(
            "SELECT repeat('ab', 3) AS r, lpad('7', 3, '0') AS p, cardinality(range(1, 11)) AS n, \
             cardinality(array_repeat('x', 5)) AS a, \
             cardinality(generate_series(DATE '2024-01-01', DATE '2024-12-31', INTERVAL '1 day')) AS d",
        )
        .await
        .expect("small values are built");
    let row = |i: usize| {
        datafusion::arrow::util::display::array_value_to_string(small.batches[0].column(i), 0)
            .expect("display")
    };
    assert_eq!(
        [row(0), row(1), row(2), row(3), row(4)],
        ["ababab", "007", "10", "5", "366"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unnest_repeating_its_row_too_often_is_capped_before_it_builds() {
    let (_, sql) = service(SqlLimits {
        max_value_bytes: 1 << 20,
        ..SqlLimits::default()
    });
    // Each list is within the cap (50,000 numbers), but each of its elements
    // would copy the row's 1,000-byte string: 50 MB.
    for query in [
        "SELECT s, unnest(a) FROM (SELECT repeat('x', 1000) AS s, array_repeat(1, 50000) AS a)",
        "SELECT s, unnest(a) FROM (SELECT arrow_cast(repeat(CAST(close AS VARCHAR), 500), 'Utf8') AS s, \
         array_repeat(1, 20000) AS a FROM (SELECT close FROM bars('NFLX', '1d') LIMIT 1))",
        // Two levels of lists unnested at once: 250 × 200 values.
        "SELECT s, unnest(unnest(a)) FROM \
         (SELECT repeat('x', 1000) AS s, array_repeat(array_repeat(1, 200), 250) AS a)",
    ] {
        let message = output_limit(&sql, query).await;
        assert!(
            message.starts_with("unnest") && message.contains("1 MiB that sql.max_value_mb"),
            "{query}: {message}"
        );
    }
    // Long lists alone, short ones beside wide rows, and long ones beside
    // string views (whose bytes each copy shares) are unnested.
    for (query, rows) in [
        (
            "SELECT s, unnest(a) FROM (SELECT repeat(CAST(close AS VARCHAR), 500) AS s, \
             array_repeat(1, 20000) AS a FROM (SELECT close FROM bars('NFLX', '1d') LIMIT 1))",
            20_000,
        ),
        ("SELECT unnest(array_repeat(1, 50000))", 50_000),
        (
            "SELECT s, unnest(a) FROM (SELECT repeat('x', 1000) AS s, make_array(1, 2, 3) AS a)",
            3,
        ),
        (
            "SELECT time, unnest(make_array(open, close)) FROM bars('NFLX', '1d') LIMIT 10",
            10,
        ),
    ] {
        let result = sql.query(query).await.expect(query);
        assert_eq!(result.rows(), rows, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_window_buffers_counts_against_the_memory_limit() {
    let (_, sql) = service(SqlLimits {
        memory_bytes: 16 << 20,
        ..SqlLimits::default()
    });
    for query in [
        "SELECT value, sum(value) OVER () FROM generate_series(1, 5000000)",
        "SELECT value, max(value) OVER (ORDER BY value ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) \
         FROM generate_series(1, 5000000) LIMIT 3",
    ] {
        let err = sql.query(query).await.expect_err(query);
        assert!(
            matches!(err, SqlError::MemoryLimit { .. }),
            "{query}: {err:?}"
        );
    }
    let within = sql
        .query("SELECT time, sma(close, 5) OVER (ORDER BY time) FROM bars('NFLX', '1d')")
        .await
        .expect("a window within the limit");
    assert!(within.rows() > 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_result_is_cut_at_its_byte_cap() {
    let (_, sql) = service(SqlLimits {
        max_result_bytes: 1 << 20,
        ..SqlLimits::default()
    });
    let cut = sql
        .query("SELECT value, repeat('x', 1000) AS filler FROM generate_series(1, 5000)")
        .await
        .expect("query");
    let held: usize = cut.batches.iter().map(candela_sql::held_bytes).sum();
    assert!(cut.truncated, "cut");
    assert!(
        (500..1_100).contains(&cut.rows()) && held <= (1 << 20) + (64 << 10),
        "{} rows, {held} bytes",
        cut.rows()
    );
    let whole = sql
        .query("SELECT value, repeat('x', 100) FROM generate_series(1, 5000)")
        .await
        .expect("query");
    assert_eq!((whole.rows(), whole.truncated), (5_000, false));
}

#[tokio::test(flavor = "multi_thread")]
async fn recursive_queries_run_within_the_limits() {
    let (_, sql) = service(SqlLimits {
        memory_bytes: 16 << 20,
        time_limit: Duration::from_secs(2),
        ..SqlLimits::default()
    });
    let counted = sql
        .query(
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 100) \
             SELECT count(*) AS c, max(n) AS m FROM t",
        )
        .await
        .expect("a bounded recursion");
    let value = |i: usize| {
        datafusion::arrow::util::display::array_value_to_string(counted.batches[0].column(i), 0)
            .expect("display")
    };
    assert_eq!([value(0), value(1)], ["100", "100"]);
    for query in [
        // Never ends.
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        // Doubles a value every step.
        "WITH RECURSIVE t(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM t) \
         SELECT max(length(s)) FROM t",
        // Grows the working table tenfold every step.
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n FROM t, range(10)) SELECT count(*) FROM t",
    ] {
        let err = sql.query(query).await.expect_err(query);
        assert!(
            matches!(
                err,
                SqlError::TimeLimit(_) | SqlError::MemoryLimit { .. } | SqlError::OutputLimit(_)
            ),
            "{query}: {err:?}"
        );
    }
    assert!(sql.query("SELECT 1").await.is_ok(), "still serving");
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_reads_peek_at_the_cache_but_never_fill_it() {
    let (store, sql) = service(SqlLimits::default());
    let engine = Engine::new(Arc::clone(&store), 1).expect("engine");
    for query in [
        "SELECT count(*) FROM bars WHERE symbol = 'NFLX'",
        "SELECT count(*) FROM bars('NFLX', '1h')",
        "SELECT count(*) FROM bars('NFLX', '1d')",
    ] {
        for _ in 0..2 {
            let before = store.parquet_reads();
            sql.query(query).await.expect(query);
            assert_eq!(store.parquet_reads() - before, 1, "{query}: read, not kept");
        }
    }
    engine
        .bars("NFLX", "1d".parse().expect("tf"))
        .await
        .expect("the chart reads and keeps");
    let before = store.parquet_reads();
    for query in [
        "SELECT count(*) FROM bars WHERE symbol = 'NFLX'",
        "SELECT count(*) FROM bars('NFLX', '1h')",
        "SELECT count(*) FROM bars('NFLX', '4h')",
    ] {
        sql.query(query).await.expect(query);
    }
    assert_eq!(
        store.parquet_reads(),
        before,
        "served from what the chart cached"
    );
}
