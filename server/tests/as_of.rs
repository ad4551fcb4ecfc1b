//! `/api/data?asof=X` against a server on a copy of the data cut at X: for
//! random instants (several seeds) on the bundled sample data, the answer
//! as of X (bars, the indicators, higher timeframes in every `align`, an
//! indicator of an indicator, a compared symbol) is the cut copy's answer,
//! value for value, but for `forming`, which only `asof=` answers. Any use
//! of a bar that closed after X shows as a difference.

mod support;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use rand::{Rng, SeedableRng};
use serde_json::Value;

#[path = "../../core/tests/support/cut.rs"]
mod cut;

const ZONE: chrono_tz::Tz = chrono_tz::America::New_York;
const SERIES: [(&str, &str); 3] = [
    ("ALPACA:EXPE", "ALPACA/EXPE"),
    ("ALPACA:NFLX", "ALPACA/NFLX"),
    ("ALPACA:AAPL", "ALPACA/AAPL"),
];
const QUERIES: [&str; 6] = [
    // Aggregated charts: their last bar, and the compared symbols' there, may be forming.
    "symbol=NFLX&timeframe=4h&compare=EXPE&indicators=sma(5),wma(3,source=sma(2,timeframe=1d))",
    "symbol=NFLX&timeframe=1d&compare=EXPE,AAPL&indicators=sma(5,timeframe=1w,align=forming)",
    "symbol=NFLX&timeframe=1h&limit=600&compare=EXPE&indicators=sma(20),rsi(14),sma(5,timeframe=1d),\
     sma(5,timeframe=1d,align=open),sma(5,timeframe=1d,align=forming),ema(9,source=rsi(14)),macd(12,26,9)",
    "symbol=EXPE&timeframe=1h&limit=600&indicators=bbands(20,2),atr(14),vwap,sma(3,timeframe=1d,align=open),\
     stoch(14,3,3,timeframe=4h,align=forming)",
    "symbol=EXPE&timeframe=1m&limit=2000&indicators=ema(20),rsi(14,timeframe=1h),obv",
    "symbol=AAPL&timeframe=1d&indicators=sma(10),sma(10,timeframe=1w),rsi(14,timeframe=1M,align=forming)",
];

fn engine(root: &Path) -> Arc<Engine> {
    let mut config = StoreConfig::new(root);
    config.zones.insert("ALPACA".into(), ZONE);
    Arc::new(Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"))
}

fn state(engine: Arc<Engine>) -> AppState {
    AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        None,
    )
    .expect("state")
}

async fn get(state: &AppState, uri: &str) -> Value {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let (status, bytes) = support::send_raw(state, request).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_as_of_an_instant_is_the_answer_of_the_data_cut_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let full_engine = engine(&root);
    let full = state(Arc::clone(&full_engine));
    // Instants where every sample symbol has bars: EXPE's months.
    let expe = full_engine
        .bars("ALPACA:EXPE", "1m".parse().expect("tf"))
        .await
        .expect("bars");
    let times = expe.frame.time();
    let mut forming = 0;
    for seed in [1_u64, 2, 3, 4, 5] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let at = rng.random_range(times.len() / 10..times.len());
        let instant = if rng.random_bool(0.5) {
            times[at] + 60_000_000_000
        } else {
            rng.random_range(times[at - 1]..times[at])
        };
        let dir = tempfile::tempdir().expect("tempdir");
        for (symbol, folder) in SERIES {
            cut::write_cut(
                &full_engine,
                &root,
                folder,
                symbol,
                ZONE,
                instant,
                dir.path(),
            )
            .await;
        }
        let cut_state = state(engine(dir.path()));
        let asof = format!(
            "{}.{:09}",
            instant.div_euclid(1_000_000_000),
            instant.rem_euclid(1_000_000_000)
        );
        for query in QUERIES {
            let mut as_of = get(&full, &format!("/api/data?{query}&asof={asof}")).await;
            let expected = get(&cut_state, &format!("/api/data?{query}")).await;
            let flag = as_of.as_object_mut().expect("an object").remove("forming");
            let Some(Value::Bool(flag)) = flag else {
                panic!(
                    "seed {seed}, {query}: an answer as of an instant says whether its last bar is forming: {flag:?}"
                );
            };
            forming += usize::from(flag);
            if as_of != expected {
                let differs = ["bars", "indicators", "compare"]
                    .into_iter()
                    .filter(|k| as_of[*k] != expected[*k])
                    .collect::<Vec<_>>();
                panic!(
                    "seed {seed}, asof={asof}, {query}: differs from the cut copy in {differs:?}"
                );
            }
        }
    }
    assert!(
        forming >= 3,
        "some instants fall inside an aggregated bar: {forming}"
    );
}

/// A run folder cut at `instant` as a strategy's records stood then, from
/// the files' own text: trades entered by then, those exiting later with no
/// exit, PnL or costs yet; equity points up to then.
fn cut_run(from: &Path, into: &Path, instant: i64, manifest: impl Fn(String) -> String) {
    std::fs::create_dir_all(into).expect("run folder");
    let time = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .timestamp_nanos_opt()
            .expect("in range")
    };
    let trades = std::fs::read_to_string(from.join("trades.csv")).expect("trades.csv");
    let mut lines = trades.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (entry, exit) = (column("entry_time"), column("exit_time"));
    let unknown_at_entry = ["exit_time", "exit_price", "pnl", "commission"].map(column);
    let mut cut = vec![header.join(",")];
    for line in lines {
        let mut cells: Vec<&str> = line.split(',').collect();
        if time(cells[entry]) > instant {
            continue;
        }
        if !cells[exit].is_empty() && time(cells[exit]) > instant {
            for c in unknown_at_entry {
                cells[c] = "";
            }
        }
        cut.push(cells.join(","));
    }
    std::fs::write(into.join("trades.csv"), cut.join("\n") + "\n").expect("write trades");
    if let Ok(equity) = std::fs::read_to_string(from.join("equity.csv")) {
        let kept: Vec<&str> = equity
            .lines()
            .enumerate()
            .filter(|(i, line)| *i == 0 || time(line.split(',').next().expect("time")) <= instant)
            .map(|(_, line)| line)
            .collect();
        std::fs::write(into.join("equity.csv"), kept.join("\n") + "\n").expect("write equity");
    }
    let toml = std::fs::read_to_string(from.join("run.toml")).expect("run.toml");
    std::fs::write(into.join("run.toml"), manifest(toml)).expect("write run.toml");
}

/// The server over `root` (its `provider`'s zone `zone`) and the runs in `runs`.
fn serve_runs(root: &Path, zone: chrono_tz::Tz, runs: &Path) -> AppState {
    let mut config = StoreConfig::new(root);
    config.zones.insert("ALPACA".into(), zone);
    let store = Arc::new(Store::open(config).expect("store"));
    let folder = Arc::new(
        candela_backtest::RunsFolder::open(
            candela_core::storage::DataRoot::Folder(runs.to_owned()),
            Arc::clone(&store),
            candela_backtest::FileLimits::default(),
        )
        .expect("runs folder"),
    );
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        Some(folder),
    )
    .expect("state")
}

/// Query text for an instant: Unix seconds with the nanoseconds.
fn instant_text(instant: i64) -> String {
    format!(
        "{}.{:09}",
        instant.div_euclid(1_000_000_000),
        instant.rem_euclid(1_000_000_000)
    )
}

/// A run folder (from the repository), the name of its copy, and what the
/// copy changes in its run.toml.
type RunCopy = (&'static str, &'static str, fn(String) -> String);

/// Runs to cut, the series they trade, and the views of each to compare.
struct RunCase {
    root: &'static str,
    zone: chrono_tz::Tz,
    series: (&'static str, &'static str),
    runs: &'static [RunCopy],
    views: &'static [&'static str],
}

const RUN_CASES: [RunCase; 2] = [
    // Sample runs: curves derived from the trades on the hours, as stored
    // and aggregated to 4h, where the last bar may be forming.
    RunCase {
        root: "data",
        zone: ZONE,
        series: ("ALPACA:NFLX", "ALPACA/NFLX"),
        runs: &[
            ("runs/nflx-sma-cross", "nflx-sma-cross", |toml| toml),
            ("runs/nflx-sma-cross-fast", "nflx-fast-4h", |toml| {
                toml.replace("timeframe = \"1h\"", "timeframe = \"4h\"")
            }),
        ],
        views: &[
            "",
            "/trades",
            "/trades?timeframe=4h",
            "/trades?timeframe=1d&start=2024-01-01",
            "/equity",
            "/equity?timeframe=1d",
        ],
    },
    // A backtesting.py run with its own equity file, on daily bars (UTC).
    RunCase {
        root: "tests/data/market/parquet",
        zone: chrono_tz::UTC,
        series: ("ALPACA:YHOO", "ALPACA/YHOO"),
        runs: &[(
            "tests/fixtures/runs/yhoo-sma-cross-csv",
            "yhoo-sma-cross-csv",
            |toml| toml,
        )],
        views: &[
            "",
            "/trades",
            "/trades?timeframe=1w",
            "/equity",
            "/equity?timeframe=1M",
        ],
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn a_run_as_of_an_instant_is_the_run_cut_there() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut reopened = 0;
    for case in &RUN_CASES {
        let root = repo.join(case.root);
        let full_runs = tempfile::tempdir().expect("runs");
        for (from, name, manifest) in case.runs {
            // The whole run, as recorded, with the same run.toml as the cut one.
            cut_run(
                &repo.join(from),
                &full_runs.path().join(name),
                i64::MAX,
                manifest,
            );
        }
        let full = serve_runs(&root, case.zone, full_runs.path());
        let full_engine = Arc::clone(&full.engine);
        for seed in [1_u64, 2, 3, 4, 5] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let (_, name, _) = case.runs[rng.random_range(0..case.runs.len())];
            let (_, trades) = support::get(&full, &format!("/api/runs/{name}/trades")).await;
            let trades = trades["trades"].as_array().expect("trades");
            let trade = &trades[rng.random_range(1..trades.len())];
            let nanos = |key: &str| trade[key].as_i64().map(|s| s * 1_000_000_000);
            let (entry, exit) = (nanos("entry_time").expect("entry"), nanos("exit_time"));
            // Inside a trade, at its entry, at its exit and just before it.
            let instant = match (rng.random_range(0..4), exit) {
                (0, _) | (_, None) => entry,
                (1, Some(exit)) => exit,
                (2, Some(exit)) => exit - 1,
                (_, Some(exit)) => rng.random_range(entry..exit),
            };
            let dir = tempfile::tempdir().expect("cut");
            let (data, runs) = (dir.path().join("data"), dir.path().join("runs"));
            let (symbol, folder) = case.series;
            cut::write_cut(
                &full_engine,
                &root,
                folder,
                symbol,
                case.zone,
                instant,
                &data,
            )
            .await;
            for (from, name, manifest) in case.runs {
                cut_run(&repo.join(from), &runs.join(name), instant, manifest);
            }
            let cut_state = serve_runs(&data, case.zone, &runs);
            let asof = instant_text(instant);
            for (_, name, _) in case.runs {
                for view in case.views {
                    let path = format!("/api/runs/{name}{view}");
                    let glue = if view.contains('?') { '&' } else { '?' };
                    let as_of = get(&full, &format!("{path}{glue}asof={asof}")).await;
                    let expected = get(&cut_state, &path).await;
                    assert_eq!(
                        as_of, expected,
                        "seed {seed}, asof={asof}: {path} differs from the cut copy's"
                    );
                    if let Some(rows) = as_of["trades"].as_array() {
                        reopened += rows.iter().filter(|t| t["mark_price"].is_number()).count();
                    }
                }
            }
        }
    }
    assert!(
        reopened >= 5,
        "some instants fall inside a trade: {reopened}"
    );
}
