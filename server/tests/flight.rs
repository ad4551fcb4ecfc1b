//! Flight SQL through the real ADBC driver (`adbc-driver-flightsql` from
//! PyPI), from pandas and polars, against a `candela serve` with sign-in on:
//! a query, a prepared statement with parameters, a result over the row cap, the table
//! listing, a refused write, a syntax error and a query over its limits.
//! Each answer is held to `/api/sql`'s for the same query: the same rows,
//! the same messages, codes and positions. Needs the Python environment
//! `cargo xtask test` makes (`CANDELA_PYTHON`).

mod process;
mod support;

use std::net::TcpListener;

use candela_server::auth::tokens::TokenSet;
use process::Candela;
use serde_json::Value;
use support::{python_with, repo};

const QUERY: &str = "SELECT time, close, rsi(close, 14) OVER (ORDER BY time) AS rsi \
                     FROM bars('ALPACA:NVDA', '1d') ORDER BY time LIMIT 40";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `/api/sql`'s JSON answer to `sql`, with its status.
fn http_sql(server: &Candela, token: &str, sql: &str) -> (u16, Value) {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let (status, text) = server.post_json_with(
        "/api/sql",
        &body,
        &[("Authorization", &format!("Bearer {token}"))],
    );
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// Column `index` of `/api/sql`'s rows.
fn column(answer: &Value, index: usize) -> Vec<Value> {
    answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row[index].clone())
        .collect()
}

/// The gRPC status of a failure, as the ADBC driver writes it into its
/// message: `… (InvalidArgument; Prepare)`.
fn grpc_code(failure: &Value) -> &str {
    let message = failure["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no failure: {failure}"));
    message
        .rsplit_once(" (")
        .and_then(|(_, code)| code.split_once(';'))
        .map_or("", |(code, _)| code)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[test]
fn adbc_clients_get_what_the_http_api_answers() {
    let python = python_with(
        &["adbc_driver_flightsql", "polars", "pandas"],
        "the Flight SQL test",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let token = TokenSet::create(
        &dir.path().join("candela-tokens.toml"),
        "ci",
        chrono::Utc::now(),
    )
    .expect("token");
    let port = free_port();
    std::fs::write(
        dir.path().join("candela.toml"),
        format!(
            "[auth]\nalways = true\n[sql]\nflight_bind = \"127.0.0.1:{port}\"\nmax_rows = 500\n"
        ),
    )
    .expect("config");
    let server = Candela::serve(&mut Candela::on_test_market(dir.path(), "127.0.0.1:0"));
    assert!(
        server
            .started
            .iter()
            .any(|line| line.contains("serving Flight SQL") && line.contains("signed_in=true")),
        "{:?}",
        server.started
    );

    let run = std::process::Command::new(&python)
        .arg(repo().join("python/tests/flight_sql.py"))
        .arg(format!("grpc://127.0.0.1:{port}"))
        .arg(&token)
        .output()
        .expect("run flight_sql.py");
    assert!(
        run.status.success(),
        "flight_sql.py failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let flight: Value = serde_json::from_slice(&run.stdout).expect("JSON");

    // A query: pandas and polars get /api/sql's rows.
    let (status, http) = http_sql(&server, &token, QUERY);
    assert_eq!(status, 200, "{http}");
    let names: Vec<&str> = http["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(flight["pandas"]["columns"], serde_json::json!(names));
    assert_eq!(flight["polars"]["columns"], serde_json::json!(names));
    let times: Vec<i64> = column(&http, 0)
        .iter()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t.as_str().expect("time"))
                .expect("RFC 3339")
                .timestamp()
        })
        .collect();
    assert_eq!(flight["pandas"]["time"], serde_json::json!(times));
    for (client, key) in [("pandas", "close"), ("polars", "close"), ("pandas", "rsi")] {
        let index = if key == "close" { 1 } else { 2 };
        let theirs = flight[client][key].as_array().expect("values");
        let ours = column(&http, index);
        assert_eq!(theirs.len(), ours.len(), "{client} {key}");
        for (a, b) in theirs.iter().zip(&ours) {
            match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => assert!(close(a, b), "{client} {key}: {a} vs {b}"),
                _ => assert_eq!(a, b, "{client} {key}: a missing value is missing in both"),
            }
        }
    }

    // A prepared statement: the parameters bound are the literals'.
    let (_, bound) = http_sql(
        &server,
        &token,
        "SELECT count(*) AS n, max(close) AS top FROM bars \
         WHERE symbol = 'NVDA' AND timeframe = '1d' AND close > 12.5",
    );
    assert_eq!(flight["prepared"]["n"], bound["rows"][0][0]);
    assert!(bound["rows"][0][0].as_u64().expect("count") > 0, "{bound}");
    assert!(close(
        flight["prepared"]["top"].as_f64().expect("top"),
        bound["rows"][0][1].as_f64().expect("top")
    ));
    assert_eq!(flight["prepared_none"], serde_json::json!([0, null]));

    // Over the row cap: /api/sql cuts and says so, Flight SQL (which has no
    // way to say so) refuses.
    let (_, cut) = http_sql(&server, &token, "SELECT * FROM bars");
    assert_eq!(cut["truncated"], true, "{cut}");
    assert_eq!(cut["rows"].as_array().map(Vec::len), Some(500));
    assert_eq!(grpc_code(&flight["cut"]), "ResourceExhausted");
    assert_eq!(flight["cut"]["details"]["candela-code"], "sql_output_limit");
    assert!(
        flight["cut"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than the 500 rows")),
        "{}",
        flight["cut"]
    );

    // Errors: the codes, messages and positions of /api/sql.
    for (case, sql, grpc, code) in [
        (
            "write",
            "INSERT INTO bars VALUES (1)",
            "PermissionDenied",
            "sql_refused",
        ),
        (
            "syntax",
            "SELECT close FROM bars WHERE clse > 1",
            "InvalidArgument",
            "sql_invalid",
        ),
        (
            "limit",
            "SELECT count(*) FROM generate_series(1, 1000000000)",
            "ResourceExhausted",
            "sql_output_limit",
        ),
    ] {
        let failure = &flight[case];
        let (status, http) = http_sql(&server, &token, sql);
        assert!(status >= 400, "{case}: {http}");
        assert_eq!(http["error"]["code"], code, "{case}: {http}");
        assert_eq!(grpc_code(failure), grpc, "{case}: {failure}");
        let message = http["error"]["message"].as_str().expect("message");
        assert!(
            failure["message"]
                .as_str()
                .expect("message")
                .contains(message),
            "{case}: the driver's message {failure} holds /api/sql's {message}"
        );
        assert_eq!(
            failure["details"]["candela-code"], code,
            "{case}: {failure}"
        );
        if let Some(position) = http["error"]["position"].as_object() {
            assert_eq!(
                failure["details"]["candela-line"],
                position["line"].to_string(),
                "{case}"
            );
            assert_eq!(
                failure["details"]["candela-column"],
                position["column"].to_string(),
                "{case}"
            );
        }
    }
    assert!(
        flight["syntax"]["details"]["candela-line"].is_string(),
        "a syntax error has a position: {}",
        flight["syntax"]
    );

    // What a database tool lists: the tables, with /api/sql's columns.
    let tables = flight["tables"].as_object().expect("tables");
    let bars = tables
        .iter()
        .find(|(name, _)| name.ends_with(".bars"))
        .map(|(_, columns)| columns)
        .unwrap_or_else(|| panic!("no bars table in {tables:?}"));
    let (_, empty) = http_sql(&server, &token, "SELECT * FROM bars LIMIT 0");
    let columns: Vec<Value> = empty["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(bars, &Value::Array(columns.clone()));
    assert_eq!(flight["bars_schema"], Value::Array(columns));
    assert!(
        tables.keys().any(|name| name.ends_with(".trades"))
            && tables.keys().any(|name| name.ends_with(".equity")),
        "{tables:?}"
    );
    let info = flight["info"].to_string();
    assert!(info.contains("Candela"), "{info}");

    // Sign-in: the HTTP API's tokens, nothing else.
    for case in ["no_token", "wrong_token"] {
        let failure = &flight[case];
        assert_eq!(grpc_code(failure), "Unauthenticated", "{case}: {failure}");
    }
    println!("Flight SQL answered as /api/sql: {flight}");
}
