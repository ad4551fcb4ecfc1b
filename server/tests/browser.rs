//! The web UI in a real headless Chromium (Debian's `chromium`, driven by
//! Playwright's `playwright-core`), against this server on the sample data
//! plus a million-bar history and the sample backtest runs (two on NFLX,
//! 10,000 trades on the long history), with a watched plugin folder that a
//! script drops a plugin into, and the data root followed for live bars;
//! and the same server asking for sign-in, for the sign-in page.
//! Needs `npm ci` in `web/` and `/usr/bin/chromium` (or `CHROMIUM=path`);
//! `.ci/run` installs both.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use candela_backtest::{FileLimits, RunsFolder};
use candela_core::storage::DataRoot;
use candela_core::{Engine, Store, StoreConfig};
use candela_plugins::PluginFolder;
use candela_server::auth::gate::Gate;
use candela_server::auth::tokens::TokenSet;
use candela_server::live::{Live, LiveConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;

#[path = "../../plugins/tests/support/mod.rs"]
mod support;

#[tokio::test(flavor = "multi_thread")]
async fn chart_page_works_in_headless_chromium() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "browser tests need Chromium: apt-get install chromium (or set CHROMIUM=/path/to/chromium)"
    );
    assert!(
        repo.join("web/node_modules/playwright-core").exists(),
        "browser tests need playwright-core: run `npm ci` in web/"
    );
    let data = tempfile::tempdir().expect("data root");
    candela_server::sample_data::write(data.path(), Some(1_000_000)).expect("sample data");
    let run_dir = tempfile::tempdir().expect("runs folder");
    candela_server::sample_runs::write(run_dir.path()).expect("sample runs");
    candela_server::sample_runs::write_long(run_dir.path(), 1_000_000).expect("long run");
    let mut config = StoreConfig::new(data.path());
    config
        .zones
        .insert("ALPACA".into(), chrono_tz::America::New_York);
    let store = Arc::new(Store::open(config).expect("store"));
    let runs = RunsFolder::open(
        DataRoot::Folder(run_dir.path().to_owned()),
        Arc::clone(&store),
        FileLimits::default(),
    )
    .expect("runs folder");
    let live =
        Live::follow(Arc::clone(&store), LiveConfig::default()).expect("follow the data root");
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let indicators = Arc::new(candela_indicators::registry());
    let plugins = tempfile::tempdir().expect("plugin folder");
    let _watched = PluginFolder::open(
        support::folder(plugins.path(), false),
        Arc::clone(&indicators),
    )
    .expect("plugin folder");
    let hma = support::wasm("hma");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(
        engine,
        indicators,
        SqlLimits::default(),
        Some(Arc::new(runs)),
    )
    .expect("sql")
    .with_live(live);
    // The same server asking for sign-in, on its own port, for tests/signin.mjs.
    let tokens = tempfile::tempdir().expect("tokens folder");
    let tokens_file = tokens.path().join("candela-tokens.toml");
    let token = TokenSet::create(&tokens_file, "browser", chrono::Utc::now()).expect("token");
    let gate = Gate::open(&tokens_file, Duration::from_secs(12 * 3600), false).expect("gate");
    let gated = state.clone().with_gate(gate);
    let gated_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let gated_url = format!("http://{}", gated_listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, candela_server::app::router(state)).await });
    tokio::spawn(
        async move { axum::serve(gated_listener, candela_server::app::router(gated)).await },
    );

    // One script per concern, one after the other: two Chromiums at once
    // on a small machine only make both slow.
    let plugin_args = [plugins.path().to_path_buf(), hma];
    let long = ["SYNTH:LONG".into()];
    let live_args = [
        data.path().to_path_buf(),
        env!("CARGO_BIN_EXE_candela").into(),
        run_dir.path().to_path_buf(),
    ];
    let sign_in_args = [
        token.into(),
        env!("CARGO_BIN_EXE_candela").into(),
        tokens.path().to_path_buf(),
    ];
    for (script, extra) in [
        ("tests/smoke.mjs", &[][..]),
        ("tests/indicators.mjs", &[]),
        ("tests/strategy.mjs", &[]),
        ("tests/chart.mjs", &long),
        ("tests/plugins.mjs", &plugin_args),
        ("tests/sql.mjs", &[]),
        ("tests/runs.mjs", &[]),
        ("tests/replay.mjs", &[]),
        ("tests/live.mjs", &live_args),
        ("tests/signin.mjs", &sign_in_args),
    ] {
        let url = if script == "tests/signin.mjs" {
            gated_url.clone()
        } else {
            url.clone()
        };
        let (web, chromium) = (repo.join("web"), chromium.clone());
        let extra = extra.to_vec();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg(script)
                .arg(&url)
                .args(&extra)
                .env("CHROMIUM", &chromium)
                .current_dir(web)
                .output()
        })
        .await
        .expect("join")
        .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!("{script}\n{stdout}");
        assert!(
            output.status.success(),
            "{script} failed:\n{stdout}\n{stderr}"
        );
    }
}
