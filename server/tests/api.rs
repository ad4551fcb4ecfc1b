//! The HTTP API end to end, through the real router, on a data root built per
//! test: shapes per `docs/api.md`, every bad input a client can send, the
//! cache, and damaged files.

mod support;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use candela_core::synthetic::{SeriesSpec, write_parquet};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use chrono::{NaiveDate, TimeDelta};
use serde_json::{Value, json};

fn minutes(days: i64, seed: u64) -> candela_core::BarFrame {
    let first = NaiveDate::from_ymd_opt(2024, 3, 4).expect("date");
    SeriesSpec {
        start_price: 50.0,
        ..SeriesSpec::us_stock(
            seed,
            first,
            first + TimeDelta::days(days - 1),
            TimeDelta::minutes(1),
        )
    }
    .generate()
}

fn write(root: &Path, relative: &str, frame: &candela_core::BarFrame) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    write_parquet(frame, &path).expect("write");
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    engine: Arc<Engine>,
    state: AppState,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        write(&root, "ALPACA/EXPE/1m/expe.parquet", &minutes(10, 1));
        write(
            &root,
            "ALPACA/NFLX/1h/nflx.parquet",
            &candela_core::resample::resample(
                &minutes(30, 2),
                "1h".parse().expect("tf"),
                chrono_tz::America::New_York,
            ),
        );
        write(
            &root,
            "OTHER/NFLX/1d/nflx.parquet",
            &candela_core::resample::resample(
                &minutes(30, 3),
                "1d".parse().expect("tf"),
                chrono_tz::America::New_York,
            ),
        );
        std::fs::create_dir_all(root.join("ALPACA/BROKEN/1d")).expect("mkdir");
        std::fs::write(
            root.join("ALPACA/BROKEN/1d/bad.parquet"),
            b"PAR1 this is not parquet at all PAR1",
        )
        .expect("write");
        std::fs::create_dir_all(root.join("ALPACA/HOLLOW/1d")).expect("mkdir");
        std::fs::write(root.join("ALPACA/HOLLOW/1d/empty.parquet"), b"").expect("write");
        write(
            &root,
            "ALPACA/NONE/1d/none.parquet",
            &candela_core::BarFrame::empty(),
        );
        std::fs::create_dir_all(root.join("ALPACA/EXPE/notes")).expect("mkdir");
        let mut config = StoreConfig::new(&root);
        config
            .zones
            .insert("ALPACA".into(), chrono_tz::America::New_York);
        let engine = Arc::new(
            Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"),
        );
        let state = AppState::new(
            Arc::clone(&engine),
            Arc::new(candela_indicators::registry()),
            SqlLimits::default(),
            None,
        )
        .expect("sql");
        Fixture {
            _dir: dir,
            root,
            engine,
            state,
        }
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, bytes) = self.raw(uri).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, json)
    }

    async fn raw(&self, uri: &str) -> (StatusCode, Vec<u8>) {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        support::send_raw(&self.state, request).await
    }

    async fn error(&self, uri: &str, status: StatusCode, code: &str) -> String {
        let (got, body) = self.get(uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        body["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned()
    }
}

#[tokio::test]
async fn symbols_and_timeframes_follow_the_design() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/symbols").await;
    assert_eq!(status, StatusCode::OK);
    let expe = body["symbols"]
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["id"] == "ALPACA:EXPE")
        .expect("EXPE");
    assert_eq!(expe["provider"], "ALPACA");
    assert_eq!(expe["symbol"], "EXPE");
    assert_eq!(expe["timeframes"], serde_json::json!(["1m"]));

    let (status, body) = f.get("/api/timeframes/ALPACA:NFLX").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["symbol"], "ALPACA:NFLX");
    assert_eq!(body["stored"], serde_json::json!(["1h"]));
    assert_eq!(
        body["available"],
        serde_json::json!(["1h", "4h", "1d", "1w", "1M"])
    );
}

#[tokio::test]
async fn data_returns_bars_aggregated_and_windowed() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/data?symbol=EXPE&timeframe=1h").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["symbol"], "ALPACA:EXPE");
    assert_eq!(body["timeframe"], "1h");
    assert_eq!(
        body["source"],
        serde_json::json!({"timeframe": "1m", "aggregated": true})
    );
    let time = body["bars"]["time"].as_array().expect("time");
    // 10 calendar days from a Monday: 8 sessions of 09:30–16:00 = 7 hourly bins each.
    assert_eq!(time.len(), 8 * 7);
    for column in ["open", "high", "low", "close", "volume"] {
        assert_eq!(
            body["bars"][column].as_array().expect(column).len(),
            time.len()
        );
    }
    // 09:00 New York on Monday 2024-03-04 is 14:00 UTC.
    assert_eq!(time[0], 1_709_560_800);
    assert_eq!(body["indicators"], serde_json::json!([]));

    let (_, limited) = f.get("/api/data?symbol=EXPE&timeframe=1h&limit=3").await;
    assert_eq!(
        limited["bars"]["time"].as_array().expect("time").as_slice(),
        &time[time.len() - 3..]
    );

    let start = time[7].as_i64().expect("t");
    let end = time[9].as_i64().expect("t");
    let (_, window) = f
        .get(&format!(
            "/api/data?symbol=EXPE&timeframe=1h&start={start}&end={end}"
        ))
        .await;
    assert_eq!(
        window["bars"]["time"].as_array().expect("time").as_slice(),
        &time[7..=9]
    );
    let rfc = "2024-03-05T14:00:00Z";
    let (_, from_rfc) = f
        .get(&format!(
            "/api/data?symbol=EXPE&timeframe=1h&start={rfc}&limit=1000"
        ))
        .await;
    assert_eq!(from_rfc["bars"]["time"][0], start);

    let (_, stored) = f.get("/api/data?symbol=ALPACA:EXPE").await;
    assert_eq!(stored["timeframe"], "1m");
    assert_eq!(stored["source"]["aggregated"], false);
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_a_helpful_message() {
    let f = Fixture::new();
    let m = f
        .error(
            "/api/data?symbol=NOPE&timeframe=1h",
            StatusCode::NOT_FOUND,
            "unknown_symbol",
        )
        .await;
    assert!(m.contains("NOPE") && m.contains("/api/symbols"), "{m}");
    let m = f
        .error(
            "/api/data?symbol=NFLX&timeframe=1d",
            StatusCode::BAD_REQUEST,
            "ambiguous_symbol",
        )
        .await;
    assert!(m.contains("ALPACA:NFLX") && m.contains("OTHER:NFLX"), "{m}");
    let m = f
        .error(
            "/api/data?symbol=EXPE&timeframe=7x",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    assert!(m.contains("timeframe") && m.contains("7x"), "{m}");
    let m = f
        .error(
            "/api/data?symbol=ALPACA:NFLX&timeframe=5m",
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeframe_not_available",
        )
        .await;
    assert!(m.contains("stored timeframes are 1h"), "{m}");
    let m = f
        .error(
            "/api/data?symbol=EXPE&start=2024-03-06&end=2024-03-05",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    assert!(m.contains("start is after end"), "{m}");
    for limit in ["0", "-5", "1000000000000", "abc", "2.5"] {
        let m = f
            .error(
                &format!("/api/data?symbol=EXPE&limit={limit}"),
                StatusCode::BAD_REQUEST,
                "bad_parameter",
            )
            .await;
        assert!(
            m.contains("limit must be a whole number from 1 to 1000000"),
            "{m}"
        );
    }
    f.error(
        "/api/data?symbol=EXPE&start=yesterday",
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    f.error(
        "/api/data?timeframe=1h",
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    for (indicators, expected) in [
        (
            "sma(0)",
            "period must be an integer from 2 to 100000, got '0'",
        ),
        ("sma(-1)", "got '-1'"),
        ("sma(1e9)", "got '1e9'"),
        ("sma(abc)", "got 'abc'"),
        ("sma(period=20,period=30)", "'period' is given twice"),
        ("sma(20,5)", "sma takes at most 1 argument (period), got 2"),
        (
            "macd(fast=30,slow=10)",
            "fast (30) must be less than slow (10)",
        ),
        (
            "bbands(stddev=-1)",
            "stddev must be a number from 0 to 100, got '-1'",
        ),
    ] {
        let uri = format!("/api/data?symbol=EXPE&indicators=rsi,{indicators}");
        let m = f
            .error(&uri, StatusCode::BAD_REQUEST, "bad_parameter")
            .await;
        assert!(m.contains(expected), "{indicators}: {m}");
    }
    let m = f
        .error(
            "/api/data?symbol=EXPE&indicators=rsi,nope(3)",
            StatusCode::NOT_FOUND,
            "unknown_indicator",
        )
        .await;
    assert!(
        m.contains("unknown indicator 'nope'") && m.contains("/api/indicators"),
        "{m}"
    );
    let m = f
        .error(
            "/api/data?symbol=EXPE&indicators=sma(20",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    assert!(m.contains("missing ')'"), "{m}");
    f.error(
        "/api/timeframes/NOPE",
        StatusCode::NOT_FOUND,
        "unknown_symbol",
    )
    .await;
    f.error("/api/nothing", StatusCode::NOT_FOUND, "not_found")
        .await;
}

/// The error body names what it is about, so that a client can show it
/// beside its cause without reading the message.
#[tokio::test]
async fn errors_name_the_parameter_and_the_indicator_call_they_are_about() {
    let f = Fixture::new();
    for (uri, param, indicator) in [
        ("/api/data?symbol=NOPE", Some("symbol"), None),
        ("/api/data?symbol=NFLX", Some("symbol"), None),
        ("/api/data?timeframe=1h", Some("symbol"), None),
        (
            "/api/data?symbol=EXPE&timeframe=7x",
            Some("timeframe"),
            None,
        ),
        (
            "/api/data?symbol=ALPACA:NFLX&timeframe=5m",
            Some("timeframe"),
            None,
        ),
        ("/api/data?symbol=EXPE&start=yesterday", Some("start"), None),
        ("/api/data?symbol=EXPE&end=later", Some("end"), None),
        ("/api/data?symbol=EXPE&limit=0", Some("limit"), None),
        (
            "/api/data?symbol=EXPE&indicators=rsi,sma(0)",
            Some("indicators"),
            Some("sma(0)"),
        ),
        (
            "/api/data?symbol=EXPE&indicators=nope(3)",
            Some("indicators"),
            Some("nope"),
        ),
        (
            "/api/data?symbol=EXPE&indicators=macd(fast=30,slow=10)",
            Some("indicators"),
            Some("macd(fast=30,slow=10)"),
        ),
        ("/api/timeframes/NOPE", Some("symbol"), None),
        ("/api/sql?q=DROP%20TABLE%20bars", Some("sql"), None),
        ("/api/sql?q=SELECT%201&format=xml", Some("format"), None),
        ("/api/sql", Some("q"), None),
        ("/api/nothing", None, None),
    ] {
        let (status, body) = f.get(uri).await;
        assert!(status.is_client_error(), "{uri}: {status}");
        let error = &body["error"];
        assert_eq!(error["param"].as_str(), param, "{uri}: {body}");
        assert_eq!(error["indicator"].as_str(), indicator, "{uri}: {body}");
        assert!(error.get("position").is_none(), "{uri}: {body}");
    }
}

/// A query that does not parse or plan points at its place in the text.
#[tokio::test]
async fn sql_errors_point_at_their_place_in_the_query() {
    let f = Fixture::new();
    for (sql, line, column) in [
        ("SELECT close FROM bars WHERE WHERE", 1, 30),
        ("SELECT close,\n  nonsense FROM bars", 2, 3),
    ] {
        let uri = format!(
            "/api/sql?q={}",
            sql.replace(' ', "%20")
                .replace(',', "%2C")
                .replace('\n', "%0A")
        );
        let (status, body) = f.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sql}: {body}");
        let error = &body["error"];
        assert_eq!(error["code"], "sql_invalid", "{sql}: {body}");
        assert_eq!(error["param"], "sql", "{sql}: {body}");
        assert_eq!(
            (&error["position"]["line"], &error["position"]["column"]),
            (&line.into(), &column.into()),
            "{sql}: {body}"
        );
    }
}

#[tokio::test]
async fn path_tricks_never_leave_the_data_root() {
    let f = Fixture::new();
    for symbol in [
        "../../etc",
        "..%2F..%2Fetc",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/etc/passwd",
        "ALPACA:..%2F..%2F..%2Fetc",
        "ALPACA%3A..",
        "..",
    ] {
        let (status, body) = f
            .get(&format!("/api/data?symbol={symbol}&timeframe=1d"))
            .await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{symbol}: {status} {body}"
        );
        let (status, _) = f.get(&format!("/api/timeframes/{symbol}")).await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{symbol}: {status}"
        );
    }
    let m = f
        .error(
            "/api/data?symbol=EXPE&timeframe=..%2F..",
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    assert!(m.contains("is not a timeframe"), "{m}");
    assert_eq!(
        f.engine.store().parquet_reads(),
        0,
        "no file was read for any of these"
    );
}

#[tokio::test]
async fn damaged_files_fail_their_symbol_only() {
    let f = Fixture::new();
    // As stored, and aggregated (read inside the DataFusion plan): the same error.
    for timeframe in ["1d", "1w"] {
        let m = f
            .error(
                &format!("/api/data?symbol=BROKEN&timeframe={timeframe}"),
                StatusCode::INTERNAL_SERVER_ERROR,
                "unreadable_data",
            )
            .await;
        assert!(
            m.contains("ALPACA/BROKEN/1d/bad.parquet") && m.contains("not a readable parquet file"),
            "{timeframe}: {m}"
        );
    }
    let (status, _) = f.get("/api/data?symbol=EXPE&timeframe=1d").await;
    assert_eq!(status, StatusCode::OK, "other symbols keep working");

    for symbol in ["HOLLOW", "NONE"] {
        let (status, body) = f
            .get(&format!("/api/data?symbol={symbol}&timeframe=1w"))
            .await;
        assert_eq!(status, StatusCode::OK, "{symbol}: {body}");
        assert_eq!(body["bars"]["time"], serde_json::json!([]), "{symbol}");
    }

    std::fs::create_dir_all(f.root.join("ALPACA/NOCLOSE/1d")).expect("mkdir");
    let frame = minutes(2, 9);
    let batch = frame
        .record_batch()
        .project(&[0, 1, 2, 3, 5])
        .expect("project");
    let file = std::fs::File::create(f.root.join("ALPACA/NOCLOSE/1d/x.parquet")).expect("create");
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await; // let the catalog notice it
    let m = f
        .error(
            "/api/data?symbol=NOCLOSE&timeframe=1d",
            StatusCode::INTERNAL_SERVER_ERROR,
            "unreadable_data",
        )
        .await;
    assert!(m.contains("no 'close' column"), "{m}");
}

#[tokio::test]
async fn repeated_requests_read_no_parquet_until_a_file_changes() {
    let f = Fixture::new();
    let store = Arc::clone(f.engine.store());
    let (status, first) = f.get("/api/data?symbol=EXPE&timeframe=4h").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.parquet_reads(), 1);
    for tf in ["4h", "4h", "1h", "1d", "1m"] {
        let (status, _) = f
            .get(&format!("/api/data?symbol=EXPE&timeframe={tf}"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        store.parquet_reads(),
        1,
        "the source frame is read once and then cached"
    );

    write(&f.root, "ALPACA/EXPE/1m/expe.parquet", &minutes(3, 5));
    let (_, changed) = f.get("/api/data?symbol=EXPE&timeframe=4h").await;
    assert_eq!(store.parquet_reads(), 2, "a rewritten file is read again");
    assert_ne!(changed["bars"], first["bars"]);

    write(&f.root, "ALPACA/EXPE/1m/more.parquet", &minutes(12, 6));
    let (_, added) = f.get("/api/data?symbol=EXPE&timeframe=4h").await;
    assert_eq!(store.parquet_reads(), 3, "an added file is read");
    assert!(
        added["bars"]["time"].as_array().expect("t").len()
            > changed["bars"]["time"].as_array().expect("t").len()
    );

    std::fs::remove_file(f.root.join("ALPACA/EXPE/1m/more.parquet")).expect("remove");
    let (_, removed) = f.get("/api/data?symbol=EXPE&timeframe=4h").await;
    assert_eq!(
        removed["bars"], changed["bars"],
        "a removed file's bars are gone"
    );
}

#[tokio::test]
async fn serves_the_ui_and_the_openapi_document() {
    let f = Fixture::new();
    let (status, html) = f.raw("/").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).expect("utf8");
    assert!(
        html.contains("lightweight-charts.standalone.production.mjs")
            && html.contains("/src/app.js")
    );
    let (status, js) = f
        .raw("/vendor/lightweight-charts.standalone.production.mjs")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.len() > 100_000, "the pinned library is embedded");
    // Every module the page preloads is embedded.
    let modules: Vec<&str> = html
        .split("<link rel=\"modulepreload\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(modules.len() >= 10, "modules preloaded: {modules:?}");
    for module in modules {
        let (status, _) = f.raw(module).await;
        assert_eq!(status, StatusCode::OK, "{module} is served");
    }
    let (status, history) = f.raw("/src/history.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(history)
            .expect("utf8")
            .contains("/api/data")
    );
    let (status, _) = f.raw("/../Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, doc) = f.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in ["/api/symbols", "/api/timeframes/{symbol}", "/api/data"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    // Parameters as the server enforces them (schemathesis holds the rest
    // of the document to the server: server/tests/contract.rs).
    let parameter = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{path} documents {name}"))
    };
    let symbol = parameter("/api/data", "symbol");
    assert_eq!(
        (&symbol["required"], &symbol["schema"]["minLength"]),
        (&json!(true), &json!(1))
    );
    let limit = parameter("/api/data", "limit");
    assert_eq!(limit["schema"]["type"], "integer");
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&json!(1), &json!(1_000_000))
    );
    assert_eq!(
        parameter("/api/data", "timeframe")["schema"]["pattern"],
        candela_core::Timeframe::PATTERN
    );
    assert_eq!(
        parameter("/api/runs/{run}/equity", "timeframe")["schema"]["pattern"],
        format!("^$|{}", candela_core::Timeframe::PATTERN)
    );
    assert_eq!(parameter("/api/sql", "q")["required"], true);
}

#[tokio::test]
async fn indicators_are_listed_per_the_design() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/indicators").await;
    assert_eq!(status, StatusCode::OK);
    let list = body["indicators"].as_array().expect("indicators");
    assert_eq!(list.len(), 11);
    let macd = list.iter().find(|i| i["id"] == "macd").expect("macd");
    assert_eq!(macd["origin"], "builtin");
    assert_eq!(macd["category"], "Momentum");
    assert_eq!(
        macd["params"][0],
        json!({"name": "fast", "type": "integer", "default": 12, "min": 2, "max": 100000,
               "description": "bars of the fast EMA"})
    );
    let outputs: Vec<&Value> = macd["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .collect();
    assert_eq!(outputs[2]["name"], "histogram");
    assert_eq!(outputs[2]["placement"], "pane");
    let bbands = list.iter().find(|i| i["id"] == "bbands").expect("bbands");
    assert_eq!(bbands["params"][1]["type"], "number");
    assert_eq!(bbands["params"][1]["default"], 2.0);
    assert_eq!(bbands["outputs"][0]["placement"], "overlay");
}

#[tokio::test]
async fn data_carries_indicator_outputs_equal_over_any_window() {
    let f = Fixture::new();
    let calls = "sma(20),ema(50),rsi,macd(fast=12,slow=26,signal=9),bbands(20,2.5),obv,vwap";
    let (status, whole) = f
        .get(&format!(
            "/api/data?symbol=EXPE&timeframe=1m&indicators={calls}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{whole}");
    let (status, window) = f
        .get(&format!(
            "/api/data?symbol=EXPE&timeframe=1m&limit=40&indicators={calls}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{window}");
    let total = whole["bars"]["time"].as_array().expect("time").len();
    assert!(total > 1_000, "{total} bars");
    let entries = window["indicators"].as_array().expect("indicators");
    assert_eq!(entries.len(), 7);
    let macd = &entries[3];
    assert_eq!(macd["id"], "macd");
    assert_eq!(macd["key"], "macd(fast=12,slow=26,signal=9)");
    assert_eq!(macd["params"], json!({"fast": 12, "slow": 26, "signal": 9}));
    assert_eq!(macd["placement"], "pane");
    assert_eq!(entries[4]["key"], "bbands(period=20,stddev=2.5)");
    assert_eq!(entries[4]["placement"], "overlay");
    for (w, a) in entries
        .iter()
        .zip(whole["indicators"].as_array().expect("whole"))
    {
        for (name, values) in w["outputs"].as_object().expect("outputs") {
            let values = values.as_array().expect("values");
            let all = a["outputs"][name].as_array().expect("whole values");
            assert_eq!(values.len(), 40, "{} {name}", w["key"]);
            let tail = &all[total - 40..];
            for (x, y) in values.iter().zip(tail) {
                let (x, y) = (x.as_f64().expect("value"), y.as_f64().expect("value"));
                assert!(
                    (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                    "{} {name}: {x} vs {y}",
                    w["key"]
                );
            }
        }
    }
    // The warm-up is null in JSON.
    assert!(whole["indicators"][0]["outputs"]["sma"][0].is_null());
    assert!(whole["indicators"][0]["outputs"]["sma"][19].is_number());
}

/// A higher-timeframe call that cannot be placed on the chart is refused,
/// naming the call; a good one answers `from` on every bar.
#[tokio::test]
async fn higher_timeframe_calls_are_checked_against_the_chart() {
    let f = Fixture::new();
    for (call, says) in [
        (
            "sma(5,timeframe=5m)",
            "timeframe 5m is finer than the chart's 1h",
        ),
        ("sma(5,timeframe=90m)", "does not divide timeframe 90m"),
        (
            "sma(5,timeframe=1d,align=later)",
            "align must be close, open or forming",
        ),
        ("sma(5,align=open)", "give timeframe= too"),
        ("atr(14,source=rsi)", "reads whole bars"),
        ("sma(5,source=macd)", "has several outputs"),
        ("sma(5,source=rsi(3).nope)", "has no output 'nope'"),
    ] {
        let uri = format!("/api/data?symbol=EXPE&timeframe=1h&indicators=rsi,{call}");
        let (status, body) = f.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{call}: {body}");
        let error = &body["error"];
        assert_eq!(error["param"], "indicators", "{call}: {body}");
        assert_eq!(error["indicator"], call, "{call}: {body}");
        let message = error["message"].as_str().expect("message");
        assert!(message.contains(says), "{call}: {message}");
    }

    let (status, body) = f
        .get("/api/data?symbol=EXPE&timeframe=1h&indicators=sma(2,timeframe=1d),sma(2)")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bars = body["bars"]["time"].as_array().expect("times").len();
    let daily = &body["indicators"][0];
    assert_eq!(daily["key"], "sma(period=2,timeframe=1d)");
    let from = daily["from"].as_array().expect("from");
    assert_eq!(from.len(), bars);
    assert!(from[0].is_null(), "no day is complete on the first hour");
    assert!(from.last().expect("last").is_i64(), "{from:?}");
    assert!(body["indicators"][1].get("from").is_none(), "{body}");
    assert_eq!(
        (&daily["timeframe"], &daily["align"]),
        (&serde_json::json!("1d"), &serde_json::json!("close"))
    );
    let own = &body["indicators"][1];
    assert!(
        own.get("timeframe").is_none() && own.get("source").is_none(),
        "{own}"
    );

    // The reserved arguments come back as the key writes them, so a page
    // can rebuild what it asked for from the answer alone.
    let (status, body) = f
        .get("/api/data?symbol=EXPE&timeframe=1h&indicators=ema(9,source=rsi(14),timeframe=4h,align=open),sma(5,source=hl2)")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let nested = &body["indicators"][0];
    assert_eq!(nested["source"], "rsi(period=14)", "{nested}");
    assert_eq!(
        nested["placement"], "pane",
        "an EMA of an RSI is on the RSI's scale"
    );
    assert_eq!(body["indicators"][1]["placement"], "overlay");
    assert_eq!(
        (&nested["timeframe"], &nested["align"]),
        (&serde_json::json!("4h"), &serde_json::json!("open"))
    );
    assert_eq!(body["indicators"][1]["source"], "hl2");
}

/// Compared symbols are answered on the chart's bar times, `null` where
/// they have no bar, and each failure names the compared symbol.
#[tokio::test]
async fn compared_symbols_line_up_on_the_chart_bars() {
    let f = Fixture::new();
    let (status, chart) = f
        .get("/api/data?symbol=ALPACA:NFLX&timeframe=1h&compare=EXPE,ALPACA:NFLX")
        .await;
    assert_eq!(status, StatusCode::OK, "{chart}");
    let times = chart["bars"]["time"].as_array().expect("times").clone();
    let (_, expe) = f.get("/api/data?symbol=EXPE&timeframe=1h").await;
    let expe_close: std::collections::HashMap<i64, f64> = expe["bars"]["time"]
        .as_array()
        .expect("times")
        .iter()
        .zip(expe["bars"]["close"].as_array().expect("closes"))
        .map(|(t, c)| (t.as_i64().expect("time"), c.as_f64().expect("close")))
        .collect();
    let compare = chart["compare"].as_array().expect("compare");
    assert_eq!(compare.len(), 2);
    assert_eq!(compare[0]["symbol"], "ALPACA:EXPE");
    let closes = compare[0]["close"].as_array().expect("closes");
    assert_eq!(closes.len(), times.len());
    let mut shared = 0;
    for (time, close) in times.iter().zip(closes) {
        match expe_close.get(&time.as_i64().expect("time")) {
            Some(&expected) => {
                shared += 1;
                assert_eq!(close.as_f64(), Some(expected), "at {time}");
            }
            None => assert!(close.is_null(), "at {time}: {close}"),
        }
    }
    assert!(
        shared > 0 && shared < times.len(),
        "{shared} of {}",
        times.len()
    );
    assert_eq!(compare[1]["close"], chart["bars"]["close"], "itself");

    let (_, plain) = f.get("/api/data?symbol=ALPACA:NFLX&timeframe=1h").await;
    assert!(plain.get("compare").is_none(), "only when asked: {plain}");

    let nine = ["EXPE"; 9].join(",");
    for (compare, status, code) in [
        ("NOPE", StatusCode::NOT_FOUND, "unknown_symbol"),
        ("NFLX", StatusCode::BAD_REQUEST, "ambiguous_symbol"),
        (
            "OTHER:NFLX",
            StatusCode::UNPROCESSABLE_ENTITY,
            "timeframe_not_available",
        ),
        ("EXPE,,NOPE", StatusCode::BAD_REQUEST, "bad_parameter"),
        (nine.as_str(), StatusCode::BAD_REQUEST, "bad_parameter"),
    ] {
        let uri = format!("/api/data?symbol=ALPACA:NFLX&timeframe=1h&compare={compare}");
        let (got, body) = f.get(&uri).await;
        assert_eq!(got, status, "{compare}: {body}");
        assert_eq!(body["error"]["code"], code, "{compare}: {body}");
        assert_eq!(body["error"]["param"], "compare", "{compare}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.starts_with("compare"), "{compare}: {message}");
    }
}
