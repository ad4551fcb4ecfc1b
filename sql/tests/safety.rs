//! Hostile and heavy SQL: each attack is refused with a message that says
//! why and changes nothing; each limit stops its query, says which limit it
//! was, and frees the query's slot for the next one.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use candela_core::{Engine, Store, StoreConfig};
use candela_sql::{SqlError, SqlLimits, SqlService};

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
        Arc::clone(&store),
        Arc::new(candela_indicators::registry()),
        limits,
        Vec::new(),
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
