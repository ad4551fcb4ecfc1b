//! What the run tests share: the repository's real bars as a data root, a
//! runs folder over them, and JSON requests through the real router.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use candela_backtest::{FileLimits, RunsFolder};
use candela_core::storage::DataRoot;
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub mod sse;

#[allow(unused_imports)]
pub use candela_testkit::{moto, python_with};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server over `tests/data/market/parquet` (zones UTC), without runs.
pub fn serve_market() -> AppState {
    let store = Arc::new(
        Store::open(StoreConfig::new(repo().join("tests/data/market/parquet"))).expect("store"),
    );
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let indicators = Arc::new(candela_indicators::registry());
    AppState::new(engine, indicators, SqlLimits::default(), None).expect("state")
}

/// The server over `tests/data/market/parquet` (zones UTC) and the runs in
/// `runs`, with the folder it watches.
pub fn serve_runs(runs: &Path) -> (AppState, Arc<RunsFolder>) {
    serve_root_and_runs(&repo().join("tests/data/market/parquet"), runs)
}

/// The server over the data root `root` (zones UTC) and the runs in `runs`,
/// with the folder it watches.
pub fn serve_root_and_runs(root: &Path, runs: &Path) -> (AppState, Arc<RunsFolder>) {
    let store = Arc::new(Store::open(StoreConfig::new(root)).expect("store"));
    let folder = Arc::new(
        RunsFolder::open(
            DataRoot::Folder(runs.to_owned()),
            Arc::clone(&store),
            FileLimits::default(),
        )
        .expect("runs folder"),
    );
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let indicators = Arc::new(candela_indicators::registry());
    let state = AppState::new(
        engine,
        indicators,
        SqlLimits::default(),
        Some(Arc::clone(&folder)),
    )
    .expect("state");
    (state, folder)
}

/// `GET uri`: the status and the JSON body.
pub async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    send(
        state,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

/// `POST /api/sql` with `sql`: the status and the JSON body.
pub async fn post_sql(state: &AppState, sql: &str) -> (StatusCode, Value) {
    let request = Request::post("/api/sql")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "sql": sql }).to_string()))
        .expect("request");
    send(state, request).await
}

async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, Value) {
    let uri = request.uri().to_string();
    let (status, bytes) = send_raw(state, request).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

/// `request` through the router: the status and the body's bytes.
pub async fn send_raw(state: &AppState, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = candela_server::app::router(state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes.to_vec())
}

/// Copies a folder's files (not its subfolders).
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

/// Relative closeness, for statistics computed two ways.
pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}
