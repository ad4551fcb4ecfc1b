//! Bars and runs in object storage, against a real S3-compatible server
//! (moto's, started by the test): every answer of a server whose data root
//! and runs are `s3://…` is byte for byte the one of a server on the same
//! files in folders, and a run added to the bucket shows within one listing
//! interval; a store that goes down fails what needs it with a 503
//! `storage_unavailable` within `storage.timeout_ms`, while cached series
//! are still served; a start without credentials says which to set, and
//! one with wrong credentials says they were refused.

mod process;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use process::Candela;
use support::moto::{self, Moto};
use support::{copy_folder, repo};

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

/// Runs of every kind: parquet and CSV files as backtesting.py writes them,
/// minute bars, an equity curve derived from the trades, and a broken run.
fn runs_folder(runs: &Path) {
    let fixtures = repo().join("tests/fixtures/runs");
    for (fixture, run) in [
        ("yhoo-sma-cross", "yhoo"),
        ("yhoo-sma-cross-csv", "yhoo-csv"),
        ("btfut-1m-breakout", "btfut"),
    ] {
        copy_folder(&fixtures.join(fixture), &runs.join(run));
    }
    let header = "symbol,side,size,entry_time,entry_price,exit_time,exit_price,pnl\n";
    for (run, trade) in [
        (
            "derived",
            "ALPACA:YHOO,long,10,2004-01-05,40.0,2004-02-02,42.0,19.5",
        ),
        (
            "bad-time",
            "ALPACA:YHOO,long,10,2004-13-45,40.0,2004-02-02,42.0,19.5",
        ),
    ] {
        std::fs::create_dir_all(runs.join(run)).expect("mkdir");
        std::fs::write(
            runs.join(run).join("trades.csv"),
            format!("{header}{trade}\n"),
        )
        .expect("trades");
        std::fs::write(runs.join(run).join("run.toml"), "starting_cash = 10000\n")
            .expect("run.toml");
    }
}

/// The requests about the runs of [`runs_folder`] compared.
fn run_requests() -> Vec<String> {
    let mut paths = vec!["/api/runs".to_owned()];
    for run in ["yhoo", "yhoo-csv", "btfut", "derived", "bad-time"] {
        paths.push(format!("/api/runs/{run}"));
        paths.push(format!("/api/runs/{run}/trades?timeframe=1d"));
        paths.push(format!("/api/runs/{run}/equity?timeframe=1w"));
    }
    paths.push("/api/runs/btfut/trades?timeframe=1h".into());
    paths.push(sql(
        "SELECT t.run, t.side, t.entry_time, t.pnl, b.rsi FROM trades t \
         JOIN (SELECT time, rsi(close, 14) OVER (ORDER BY time) AS rsi FROM bars('ALPACA:YHOO', '1d')) b \
         ON b.time = t.entry_time ORDER BY t.run, t.entry_time",
    ));
    paths.push(sql(
        "SELECT run, count(*) AS points, min(drawdown_pct) AS deepest FROM equity GROUP BY run ORDER BY run",
    ));
    paths
}

fn sql(query: &str) -> String {
    let encoded: String = query.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/api/sql?q={encoded}")
}

/// Until `listed` holds for the server's list of runs, or `within` passes.
fn wait_for_runs(server: &Candela, within: Duration, listed: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let (status, runs) = server.get("/api/runs");
        assert_eq!(status, 200, "{runs}");
        if listed(&runs) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not seen within {within:?}: {runs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn runs_in_a_bucket_are_served_as_from_their_folder() {
    let moto = Moto::start();
    Moto::upload(&moto.bucket("bars"), &market(), "market");
    let runs_bucket = moto.bucket("runs");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);
    let runs = dir.path().join("runs");
    runs_folder(&runs);
    assert!(Moto::upload(&runs_bucket, &runs, "team") >= 9);

    let folder = Candela::serve(&mut Candela::on(
        dir.path(),
        market().as_os_str(),
        "127.0.0.1:0",
    ));
    let bucket = Candela::serve(
        Candela::on_roots(
            dir.path(),
            "s3://bars/market".as_ref(),
            "s3://runs/team".as_ref(),
            "127.0.0.1:0",
        )
        .envs(moto::ENV),
    );
    let paths = run_requests();
    for path in &paths {
        let from_folder = folder.get(path);
        assert_eq!(bucket.get(path), from_folder, "{path}");
    }
    let (_, listed) = bucket.get("/api/runs");
    assert!(
        listed.contains("\"bad-time\"") && listed.contains("\"yhoo-csv\""),
        "{listed}"
    );
    println!("{} answers compared, all equal", paths.len());

    // Added and removed while serving: seen within one listing interval (1 s).
    Moto::upload(&runs_bucket, &runs.join("yhoo"), "team/later");
    let seen = wait_for_runs(&bucket, Duration::from_secs(4), |runs| {
        runs.contains("\"later\"")
    });
    Moto::delete(&runs_bucket, "team/later");
    let gone = wait_for_runs(&bucket, Duration::from_secs(4), |runs| {
        !runs.contains("\"later\"")
    });
    println!("a run added to the bucket listed after {seen:?}, removed after {gone:?}");
}

#[test]
fn wrong_credentials_do_not_start_and_say_they_were_refused() {
    // The bucket is made unchecked; every request after it is checked, and
    // moto knows no key at all.
    let moto = Moto::checking_credentials(1);
    moto.bucket("bars");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);
    let output = Candela::on(dir.path(), "s3://bars/market".as_ref(), "127.0.0.1:0")
        .envs(moto::ENV)
        .output()
        .expect("run candela");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "started with wrong credentials");
    assert!(said.contains("refused"), "{said}");
    assert!(said.contains("AWS_ACCESS_KEY_ID"), "{said}");
}

#[test]
fn two_replicas_on_one_bucket_answer_alike_and_see_a_new_file_within_one_interval() {
    let moto = Moto::start();
    let bars = moto.bucket("bars");
    Moto::upload(&bars, &market(), "market");
    let runs_bucket = moto.bucket("runs");
    let dir = tempfile::tempdir().expect("tempdir");
    storage_config(dir.path(), &moto.endpoint);
    runs_folder(&dir.path().join("runs"));
    Moto::upload(&runs_bucket, &dir.path().join("runs"), "team");
    // Each replica in a folder of its own: nothing on disk is shared.
    let replicas: Vec<Candela> = (0..2)
        .map(|i| {
            let own = dir.path().join(format!("replica-{i}"));
            std::fs::create_dir_all(&own).expect("mkdir");
            storage_config(&own, &moto.endpoint);
            Candela::serve(
                Candela::on_roots(
                    &own,
                    "s3://bars/market".as_ref(),
                    "s3://runs/team".as_ref(),
                    "127.0.0.1:0",
                )
                .envs(moto::ENV),
            )
        })
        .collect();
    let (_, catalog) = replicas[0].get("/api/symbols");
    let catalog: serde_json::Value = serde_json::from_str(&catalog).expect("JSON");
    let mut paths = requests(&catalog);
    paths.extend(run_requests());
    for symbol in catalog["symbols"].as_array().expect("symbols") {
        paths.push(format!(
            "/api/timeframes/{}",
            symbol["id"].as_str().expect("id")
        ));
    }
    for path in [
        "/api/indicators",
        "/api/openapi.json",
        "/readyz",
        "/healthz",
        "/",
        "/api/data?symbol=ALPACA:NOPE&timeframe=1d",
        "/api/data?symbol=ALPACA:NVDA&timeframe=7x",
    ] {
        paths.push(path.to_owned());
    }
    for path in &paths {
        assert_eq!(replicas[0].get(path), replicas[1].get(path), "{path}");
    }
    println!(
        "{} answers of two replicas compared, all equal",
        paths.len()
    );

    // A new series, written by another machine: both list it within one
    // listing interval (1 s), give or take a poll.
    let nvda = market().join("ALPACA/NVDA/1d");
    let written = Instant::now();
    Moto::upload(&bars, &nvda, "market/ALPACA/NEWCO/1d");
    for replica in &replicas {
        loop {
            let (status, symbols) = replica.get("/api/symbols");
            assert_eq!(status, 200);
            if symbols.contains("ALPACA:NEWCO") {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(3),
                "a replica did not list the new series within 3 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let seen = written.elapsed();
    let path = "/api/data?symbol=ALPACA:NEWCO&timeframe=1w&indicators=sma(20)";
    let answer = replicas[0].get(path);
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(replicas[1].get(path), answer, "{path}");
    println!("both replicas listed a new series {seen:?} after it was written");
}
