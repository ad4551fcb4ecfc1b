//! A window's values equal those over the whole series: each built-in asks
//! for enough history before the window, including the long-memory ones
//! (EMA, RSI, ATR, MACD), whose history lets their seed decay below f64
//! precision; a call on another call's output asks for both histories, and
//! a window inside the inner call's warm-up starts where the whole series
//! does.

mod common;

use common::{fixtures, magnitude};

#[test]
fn windows_equal_the_whole_series() {
    let registry = candela_indicators::registry();
    let fixture = fixtures()
        .into_iter()
        .find(|f| f.name == "random_walk")
        .expect("random_walk fixture");
    let (frame, zone) = (fixture.frame(), fixture.zone());
    let calls = "sma,ema,ema(200),wma,rsi,rsi(50),macd,macd(fast=3,slow=100,signal=20),\
                 stoch,stoch(k=20,d=5,smooth=3),volume,obv,vwap,bbands,atr,atr(60),\
                 ema(9,source=rsi(14)),sma(5,source=macd().histogram),bbands(20,source=obv),\
                 macd(source=vwap),ema(5,source=sma(30,source=rsi(40))),wma(source=hl2)";
    let len = frame.len();
    let windows = [
        0..50,
        10..400,
        30..60,
        60..90,
        3_000..3_100,
        5_001..5_002,
        len - 500..len,
        len - 1..len,
    ];
    for call in registry.resolve(calls).expect("calls") {
        let whole = call.compute_window(&frame, zone, 0..len).expect("whole");
        for window in windows.clone() {
            let part = call
                .compute_window(&frame, zone, window.clone())
                .expect("window");
            for (output, (whole, part)) in whole.iter().zip(&part).enumerate() {
                let expected = &whole[window.clone()];
                assert_eq!(part.len(), expected.len(), "{} {window:?}", call.key);
                let scale = magnitude(whole.iter().copied()).max(f64::MIN_POSITIVE);
                for (i, (a, b)) in part.iter().zip(expected).enumerate() {
                    let same = (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * scale;
                    assert!(
                        same,
                        "{} output {output} in {window:?} at {i}: {a} vs whole series {b}",
                        call.key
                    );
                }
            }
        }
    }
}
