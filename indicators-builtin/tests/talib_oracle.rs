//! Every built-in against TA-Lib (VWAP against pandas), on the committed
//! fixtures: the warm-up (leading nulls) has TA-Lib's length, nulls fall where
//! TA-Lib's do, and every value is within 1e-9 of the series' largest
//! magnitude. Run with `--nocapture` for the parity table.

mod common;

use candela_core::indicator::Registry;

#[test]
fn builtins_match_talib() {
    let registry = candela_indicators::registry();
    let report = common::check_calls(&registry, |fixture| &fixture.calls);
    println!("{}", report.table);
    assert!(
        report.failures.is_empty(),
        "{} differences from TA-Lib:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}

#[test]
fn the_registry_holds_exactly_the_eleven_builtins() {
    let registry: Registry = candela_indicators::registry();
    let ids: Vec<String> = registry
        .list()
        .iter()
        .map(|i| i.spec().id.clone())
        .collect();
    assert_eq!(
        ids,
        [
            "atr", "bbands", "ema", "macd", "obv", "rsi", "sma", "stoch", "volume", "vwap", "wma"
        ]
    );
}
