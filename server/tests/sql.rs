//! `/api/sql` over HTTP: results equal `/api/data`'s for the same request,
//! the three formats, and the status and message of each refusal and limit;
//! with the bars in a folder and in a bucket (moto's S3 server) alike.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use candela_cluster::Ballista;
use candela_core::storage::{Bucket, DataRoot, ObjectPath, StorageSettings};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use candela_testkit::moto::Moto;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn sample_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// The bundled sample data in its folder, and the same files in a bucket
/// of moto's S3 server: every test that reads bars runs on both.
struct SampleData {
    folder: PathBuf,
    bucket: Arc<Bucket>,
    _moto: Moto,
}

impl SampleData {
    fn start() -> SampleData {
        let folder = sample_folder();
        let moto = Moto::start();
        let objects = moto.bucket("sample");
        Moto::upload(&objects, &folder, "data");
        let bucket = Bucket::with_store(
            "s3://sample/data".into(),
            objects,
            ObjectPath::from("data"),
            &StorageSettings::default(),
        )
        .expect("bucket");
        SampleData {
            folder,
            bucket: Arc::new(bucket),
            _moto: moto,
        }
    }

    /// A server over each home in turn, within `limits`, and then one
    /// whose SQL runs on Ballista's standalone cluster.
    fn servers(&self, limits: SqlLimits) -> impl Iterator<Item = AppState> {
        let roots = [
            DataRoot::Folder(self.folder.clone()),
            DataRoot::Bucket(Arc::clone(&self.bucket)),
        ];
        let (folder, cluster_limits) = (self.folder.clone(), limits.clone());
        let on_ballista = move || {
            println!(
                "bars in {}, SQL on Ballista's standalone cluster",
                folder.display()
            );
            let local = state(DataRoot::Folder(folder.clone()), cluster_limits.clone());
            let cluster = Ballista::standalone(local.sql.catalog().clone(), local.sql.limits())
                .expect("a standalone cluster");
            local.with_sql_on(Arc::new(cluster)).expect("state")
        };
        roots
            .into_iter()
            .map(move |root| {
                // Shown with a failure: which of the three it was.
                println!("bars in {root}");
                state(root, limits.clone())
            })
            .chain(std::iter::once_with(on_ballista))
    }
}

fn state(root: DataRoot, limits: SqlLimits) -> AppState {
    let mut config = StoreConfig::in_root(root);
    config
        .zones
        .insert("ALPACA".into(), chrono_tz::America::New_York);
    let engine =
        Arc::new(Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"));
    AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        limits,
        None,
    )
    .expect("state")
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(state: &AppState, request: Request<Body>) -> Answer {
    let response = candela_server::app::router(state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn post(state: &AppState, sql: &str, accept: &str) -> Answer {
    let request = Request::post("/api/sql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(Body::from(json!({ "sql": sql }).to_string()))
        .expect("request");
    send(state, request).await
}

async fn get(state: &AppState, uri: &str) -> Answer {
    send(
        state,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

fn seconds(iso: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso.as_str().expect("a time string"))
        .expect("ISO 8601")
        .timestamp()
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64()
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_results_equal_api_data_for_the_same_request() {
    let sample = SampleData::start();
    for state in sample.servers(SqlLimits::default()) {
        for (symbol, timeframe) in [("EXPE", "4h"), ("EXPE", "15m"), ("NFLX", "1d")] {
            let data = get(
                &state,
                &format!(
                    "/api/data?symbol={symbol}&timeframe={timeframe}\
                     &indicators=rsi(14),macd(12,26,9),vwap,bbands(20,2)"
                ),
            )
            .await
            .json();
            let sql = format!(
                "SELECT time, open, high, low, close, volume, \
                        rsi(close, 14) OVER w AS rsi, macd(close, 12, 26, 9) OVER w AS macd, \
                        vwap(time, high, low, close, volume) OVER w AS vwap, \
                        bbands(close, 20, 2) OVER w AS bbands \
                 FROM bars('{symbol}', '{timeframe}') WINDOW w AS (ORDER BY time)"
            );
            let answer = post(&state, &sql, "application/json").await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
            let body = answer.json();
            let names: Vec<&str> = body["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c["name"].as_str().expect("name"))
                .collect();
            assert_eq!(
                names,
                [
                    "time", "open", "high", "low", "close", "volume", "rsi", "macd", "vwap",
                    "bbands"
                ]
            );
            assert_eq!(body["columns"][0]["type"], "timestamp");
            assert_eq!(body["columns"][7]["type"], "struct");
            assert_eq!(body["truncated"], false);
            let rows = body["rows"].as_array().expect("rows");
            let times = data["bars"]["time"].as_array().expect("times");
            assert_eq!(rows.len(), times.len(), "{symbol} {timeframe}");
            for (i, row) in rows.iter().enumerate() {
                assert_eq!(seconds(&row[0]), times[i].as_i64().expect("seconds"));
                for (c, name) in ["open", "high", "low", "close", "volume"]
                    .iter()
                    .enumerate()
                {
                    assert_eq!(
                        number(&row[c + 1]),
                        number(&data["bars"][name][i]),
                        "{name} {i}"
                    );
                }
                let output =
                    |k: usize, name: &str| number(&data["indicators"][k]["outputs"][name][i]);
                assert_eq!(number(&row[6]), output(0, "rsi"), "rsi {i}");
                for name in ["macd", "signal", "histogram"] {
                    assert_eq!(number(&row[7][name]), output(1, name), "macd.{name} {i}");
                }
                assert_eq!(number(&row[8]), output(2, "vwap"), "vwap {i}");
                for name in ["upper", "middle", "lower"] {
                    assert_eq!(number(&row[9][name]), output(3, name), "bbands.{name} {i}");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_and_arrow_are_served_by_accept_or_format() {
    let sample = SampleData::start();
    for state in sample.servers(SqlLimits {
        max_rows: 50,
        ..SqlLimits::default()
    }) {
        let sql = "SELECT time, close FROM bars('NFLX', '1h')";
        let csv = post(&state, sql, "text/csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with("text/csv")
        );
        assert_eq!(csv.headers["candela-truncated"], "true");
        let text = String::from_utf8(csv.body).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "time,close");
        assert_eq!(lines.len(), 51, "a header and 50 rows");
        assert!(
            lines[1].contains("-05:00") || lines[1].contains("-04:00"),
            "{}",
            lines[1]
        );

        for answer in [
            post(&state, sql, "application/vnd.apache.arrow.stream").await,
            get(
                &state,
                "/api/sql?q=SELECT%20time%2C%20close%20FROM%20bars('NFLX'%2C%20'1h')&format=arrow",
            )
            .await,
        ] {
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(
                answer.headers[header::CONTENT_TYPE],
                "application/vnd.apache.arrow.stream"
            );
            let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
                std::io::Cursor::new(answer.body),
                None,
            )
            .expect("an Arrow stream");
            let schema = reader.schema();
            assert_eq!(
                schema.field(0).data_type(),
                &DataType::Timestamp(TimeUnit::Nanosecond, Some("America/New_York".into()))
            );
            assert_eq!(schema.metadata()["candela:truncated"], "true");
            let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
            assert_eq!(rows, 50);
        }

        let plain = get(&state, "/api/sql?q=SELECT%201%20AS%20one").await;
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(
            plain.json(),
            json!({"columns": [{"name": "one", "type": "integer"}], "rows": [[1]], "truncated": false})
        );
        let structs = post(
            &state,
            "SELECT macd(close) OVER (ORDER BY time) AS m FROM bars('NFLX', '1d')",
            "text/csv",
        )
        .await;
        assert_eq!(structs.status, StatusCode::BAD_REQUEST);
        assert!(
            structs.json()["error"]["message"]
                .as_str()
                .expect("message")
                .contains("m['field']")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_limits_have_their_status_code_and_message() {
    let sample = SampleData::start();
    for state in sample.servers(SqlLimits {
        time_limit: Duration::from_millis(500),
        memory_bytes: 16 << 20,
        ..SqlLimits::default()
    }) {
        for (sql, status, code, needle) in [
            (
                "DROP TABLE bars",
                StatusCode::BAD_REQUEST,
                "sql_refused",
                "read-only",
            ),
            (
                "COPY (SELECT 1) TO '/tmp/candela-copy.csv'",
                StatusCode::BAD_REQUEST,
                "sql_refused",
                "COPY",
            ),
            (
                "SELEC 1",
                StatusCode::BAD_REQUEST,
                "sql_invalid",
                "syntax error",
            ),
            (
                "SELECT nope FROM bars",
                StatusCode::BAD_REQUEST,
                "sql_invalid",
                "nope",
            ),
            (
                "SELECT * FROM bars('NOPE', '1d')",
                StatusCode::BAD_REQUEST,
                "sql_invalid",
                "unknown symbol",
            ),
            (
                "SELECT count(*) FROM generate_series(1, 100000) a JOIN generate_series(1, 100000) b ON a.value % 2 = b.value % 2",
                StatusCode::UNPROCESSABLE_ENTITY,
                "sql_time_limit",
                "time limit of 0.5 s",
            ),
            (
                "SELECT value FROM generate_series(1, 5000000) ORDER BY value DESC",
                StatusCode::UNPROCESSABLE_ENTITY,
                "sql_memory_limit",
                "limit of 16 MiB",
            ),
            (
                "SELECT count(*) FROM range(100000000)",
                StatusCode::UNPROCESSABLE_ENTITY,
                "sql_output_limit",
                "sql.max_generated_rows",
            ),
            (
                "SELECT repeat('x', 2000000000)",
                StatusCode::UNPROCESSABLE_ENTITY,
                "sql_output_limit",
                "sql.max_value_mb",
            ),
        ] {
            let answer = post(&state, sql, "application/json").await;
            let body = answer.json();
            assert_eq!(answer.status, status, "{sql}: {body}");
            assert_eq!(body["error"]["code"], code, "{sql}: {body}");
            let message = body["error"]["message"].as_str().expect("message");
            assert!(message.contains(needle), "{sql}: {message}");
        }
        assert!(!Path::new("/tmp/candela-copy.csv").exists());

        let no_body = send(
            &state,
            Request::post("/api/sql")
                .body(Body::from("SELECT 1"))
                .expect("request"),
        )
        .await;
        assert_eq!(no_body.status, StatusCode::BAD_REQUEST);
        assert!(
            no_body.json()["error"]["message"]
                .as_str()
                .expect("message")
                .contains("{\"sql\"")
        );
        let no_q = get(&state, "/api/sql").await;
        assert_eq!(no_q.status, StatusCode::BAD_REQUEST);
        let bad_format = get(&state, "/api/sql?q=SELECT%201&format=xml").await;
        assert_eq!(bad_format.status, StatusCode::BAD_REQUEST);
        let docs = get(&state, "/api/openapi.json").await.json();
        assert!(docs["paths"]["/api/sql"]["post"].is_object(), "documented");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encoding_larger_than_the_byte_cap_is_cut_and_says_so() {
    let state = state(
        DataRoot::Folder(sample_folder()),
        SqlLimits {
            max_result_bytes: 1 << 20,
            ..SqlLimits::default()
        },
    );
    // Null columns hold next to nothing in memory, and write 4 bytes each.
    let nulls: Vec<String> = (0..40).map(|i| format!("NULL AS n{i}")).collect();
    let sql = format!(
        "SELECT value, {} FROM generate_series(1, 50000)",
        nulls.join(", ")
    );
    let json = post(&state, &sql, "application/json").await;
    assert_eq!(json.status, StatusCode::OK);
    let body = json.json();
    let rows = body["rows"].as_array().expect("rows").len();
    assert_eq!(body["truncated"], true);
    assert!(
        (1_000..50_000).contains(&rows) && json.body.len() < (1 << 20) + (512 << 10),
        "{rows} rows in {} bytes",
        json.body.len()
    );
    let csv = post(&state, &sql, "text/csv").await;
    assert_eq!(csv.headers["candela-truncated"], "true");
    assert!(
        csv.body.len() < (1 << 20) + (256 << 10),
        "{}",
        csv.body.len()
    );
    let lines = csv
        .body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert!((1_000..50_000).contains(&lines), "{lines} lines");
    let small = post(
        &state,
        "SELECT value FROM generate_series(1, 1000)",
        "text/csv",
    )
    .await;
    assert_eq!(small.headers["candela-truncated"], "false");
}
