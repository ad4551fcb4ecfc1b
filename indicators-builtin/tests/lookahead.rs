//! A changed future never changes the past: for random instants X (a bar
//! stored after each), every bar after X is given other values and bars
//! are added after X (after the last bar, and late in the days that begin
//! after X); every value on a chart bar that closes by X, and the higher bar
//! it came from, stays identical, for every built-in on a higher timeframe
//! under every `align`, over several seeds.

#[path = "common/lookahead.rs"]
mod lookahead;

const CALLS: &str = "sma(5),ema(4),wma(3),rsi(3),macd(3,6,2),stoch(3,2,1),volume,obv,vwap,\
                     bbands(4,2),atr(3),ema(3,source=rsi(3)),sma(2,source=macd(3,6,2).histogram)";

#[test]
fn a_changed_future_never_changes_what_a_closed_bar_saw() {
    let checked = lookahead::check(
        &candela_indicators::registry(),
        CALLS,
        &[11, 12, 13, 14, 15],
    );
    assert!(checked > 10_000, "only {checked} chart bars checked");
}
