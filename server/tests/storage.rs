//! Bars in object storage, against a real S3-compatible server (moto's,
//! started by the test): every answer of a server whose data root is
//! `s3://…` is byte for byte the one of a server on the same files in a
//! folder; a store that goes down fails what needs it with a 503
//! `storage_unavailable` within `storage.timeout_ms`, while cached series
//! are still served; a start without credentials says which to set.

mod process;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use process::Candela;
use support::moto::{self, Moto};
use support::repo;

/// `candela.toml` for a server on moto at `endpoint`.
fn storage_config(dir: &Path, endpoint: &str) {
    std::fs::write(
        dir.join("candela.toml"),
        format!(
            "[storage]\nendpoint = \"{endpoint}\"\nallow_http = true\ntimeout_ms = 3000\nretries = 1\nlist_interval_s = 1\n"
        ),
    )
    .expect("config");
}

fn market() -> std::path::PathBuf {
    repo().join("tests/data/market/parquet")
}

/// The requests compared: the catalog, every stored series and one
/// aggregated from each, with indicators, and SQL over all of them.
fn requests(symbols: &serde_json::Value) -> Vec<String> {
    let mut paths = vec!["/api/symbols".to_owned()];
    for symbol in symbols["symbols"].as_array().expect("symbols") {
        let id = symbol["id"].as_str().expect("id");
        let stored = symbol["timeframes"].as_array().expect("timeframes");
        let mut timeframes: Vec<&str> = stored.iter().filter_map(|t| t.as_str()).collect();
        timeframes.push("1w");
        for timeframe in timeframes {
            paths.push(format!(
                "/api/data?symbol={id}&timeframe={timeframe}&indicators=sma(20),rsi(14)&limit=100000"
            ));
        }
    }
    for sql in [
        "SELECT symbol, timeframe, count(*) AS bars, min(time) AS first, max(close) AS top FROM bars GROUP BY symbol, timeframe ORDER BY symbol, timeframe",
        "SELECT time, close, rsi(close, 14) OVER (ORDER BY time) AS rsi FROM bars('ALPACA:NVDA', '1w') ORDER BY time",
    ] {
        let encoded: String = sql.bytes().map(|b| format!("%{b:02X}")).collect();
        paths.push(format!("/api/sql?q={encoded}"));
    }
    paths
}

#[test]
fn a_bucket_serves_what_its_folder_serves_byte_for_byte() {
    let moto = Moto::start();
    let uploaded = Moto::upload(&moto.bucket("bars"), &market(), "market");
    assert!(uploaded >= 7, "uploaded {uploaded} files");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);

    let folder = Candela::serve(&mut Candela::on(
        dir.path(),
        market().as_os_str(),
        "127.0.0.1:0",
    ));
    let bucket = Candela::serve(
        Candela::on(dir.path(), "s3://bars/market".as_ref(), "127.0.0.1:0").envs(moto::ENV),
    );
    let (status, catalog) = folder.get("/api/symbols");
    assert_eq!(status, 200);
    let catalog: serde_json::Value = serde_json::from_str(&catalog).expect("JSON");
    let paths = requests(&catalog);
    for path in &paths {
        let from_folder = folder.get(path);
        assert_eq!(from_folder.0, 200, "{path}: {}", from_folder.1);
        assert_eq!(bucket.get(path), from_folder, "{path}");
    }
    println!("{} answers compared, all equal", paths.len());
}

#[test]
fn a_store_that_goes_down_fails_only_what_needs_it() {
    let mut moto = Moto::start();
    Moto::upload(&moto.bucket("bars"), &market(), "market");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);
    let server = Candela::serve(
        Candela::on(dir.path(), "s3://bars/market".as_ref(), "127.0.0.1:0").envs(moto::ENV),
    );
    let cached = "/api/data?symbol=ALPACA:NVDA&timeframe=1d";
    let (status, before) = server.get(cached);
    assert_eq!(status, 200, "{before}");
    assert_eq!(server.get("/readyz").0, 200);

    moto.stop();
    let asked = Instant::now();
    let (status, body) = server.get("/api/data?symbol=ALPACA:ORCL&timeframe=1d");
    let waited = asked.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage_unavailable"), "{body}");
    assert!(
        waited < Duration::from_millis(3000 + 1500),
        "answered after {waited:?}, beyond storage.timeout_ms"
    );
    assert_eq!(
        server.get(cached),
        (200, before),
        "a cached series is still served"
    );
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(server.get("/healthz").0, 200, "the server stays up");
}

#[test]
fn a_bucket_without_credentials_does_not_start_and_says_which_to_set() {
    let moto = Moto::start();
    moto.bucket("bars");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);
    let mut command = Candela::on(dir.path(), "s3://bars/market".as_ref(), "127.0.0.1:0");
    for (name, _) in moto::ENV {
        command.env_remove(name);
    }
    // Nothing from the machine either: no instance metadata to ask.
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    let output = command.output().expect("run candela");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "started without credentials");
    assert!(said.contains("AWS_ACCESS_KEY_ID"), "{said}");

    // Half of a pair is refused before any request.
    command.env("AWS_ACCESS_KEY_ID", "candela-test");
    let output = command.output().expect("run candela");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "started with half a credential");
    assert!(said.contains("AWS_SECRET_ACCESS_KEY"), "{said}");
}
