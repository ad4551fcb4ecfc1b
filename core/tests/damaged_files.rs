//! Parquet files that once made the bar loader panic (kept in
//! `tests/fixtures/runs-hostile`, found by the run files' mutation test):
//! as bars, each is now a clean error naming the file.

use std::path::Path;

use candela_core::{Store, StoreConfig, Timeframe};

#[test]
fn a_damaged_embedded_arrow_schema_is_an_error_naming_the_file() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/runs-hostile/damaged-arrow-schema/trades.parquet");
    let root = tempfile::tempdir().expect("data root");
    let folder = root.path().join("ALPACA/BAD/1d");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::copy(&corpus, folder.join("bad.parquet")).expect("copy");
    let store = Store::open(StoreConfig::new(root.path())).expect("store");
    let plan = store
        .plan("ALPACA:BAD", "1d".parse::<Timeframe>().expect("timeframe"))
        .expect("plan");
    let error = store.source_frame(&plan).expect_err("not bars");
    let message = error.to_string();
    assert!(message.contains("bad.parquet"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}
