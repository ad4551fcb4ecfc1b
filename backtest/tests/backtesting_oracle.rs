//! Candela's statistics of runs made by backtesting.py equal the ones
//! backtesting.py reported for them (`tests/oracle/backtest.py` ran the
//! backtests and wrote the fixtures), within 1e-9 relative.

use std::path::{Path, PathBuf};

use candela_backtest::{FileLimits, Run};
use candela_core::{Store, StoreConfig};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn store() -> Store {
    Store::open(StoreConfig::new(repo().join("tests/data/market/parquet"))).expect("data root")
}

fn close(ours: f64, theirs: f64) -> bool {
    ours == theirs || (ours - theirs).abs() <= 1e-9 * theirs.abs().max(ours.abs())
}

fn check(case: &str) {
    let dir = repo().join("tests/fixtures/runs").join(case);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    let run = Run::load(&dir, &store(), FileLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    let ours = serde_json::to_value(&run.stats).expect("stats as JSON");
    let mut wrong = Vec::new();
    for (name, theirs) in expected["stats"].as_object().expect("stats") {
        let mine = &ours[name];
        let agrees = match (mine.as_f64(), theirs.as_f64()) {
            (Some(a), Some(b)) => close(a, b),
            _ => mine.is_null() && theirs.is_null(),
        };
        if !agrees {
            wrong.push(format!("{name}: Candela {mine}, backtesting.py {theirs}"));
        }
    }
    let net = expected["net_pnl"].as_f64().expect("net_pnl");
    if !close(run.stats.net_pnl, net) {
        wrong.push(format!(
            "net_pnl: Candela {}, trades' sum {net}",
            run.stats.net_pnl
        ));
    }
    assert!(wrong.is_empty(), "{case}:\n  {}", wrong.join("\n  "));
    assert!(!run.equity.derived, "{case}: the equity file is read");
}

#[test]
fn daily_long_and_short_trades_with_commission() {
    check("yhoo-sma-cross");
}

#[test]
fn one_minute_trades_with_stops_targets_and_an_open_trade() {
    check("btfut-1m-breakout");
}

#[test]
fn the_same_run_as_csv_with_generic_names_has_the_same_statistics() {
    check("yhoo-sma-cross-csv");
    let dir = repo().join("tests/fixtures/runs");
    let store = store();
    let parquet =
        Run::load(&dir.join("yhoo-sma-cross"), &store, FileLimits::default()).expect("parquet run");
    let csv = Run::load(
        &dir.join("yhoo-sma-cross-csv"),
        &store,
        FileLimits::default(),
    )
    .expect("CSV run");
    assert_eq!(parquet.trades.len(), csv.trades.len());
    for (a, b) in parquet.trades.iter().zip(&csv.trades) {
        assert_eq!(
            (a.side, a.size, a.entry, a.exit(), &a.tag),
            (b.side, b.size, b.entry, b.exit(), &b.tag)
        );
    }
    assert_eq!(parquet.equity.time, csv.equity.time);
}
