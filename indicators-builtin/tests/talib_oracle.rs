//! Every built-in against TA-Lib (VWAP against pandas), on the committed
//! fixtures: the warm-up (leading nulls) has TA-Lib's length, nulls fall where
//! TA-Lib's do, and every value is within 1e-9 of the series' largest
//! magnitude. Run with `--nocapture` for the parity table.

mod common;

use candela_core::indicator::Registry;

use common::{fixtures, magnitude};

const TOLERANCE: f64 = 1e-9;

#[test]
fn builtins_match_talib() {
    let registry = candela_indicators::registry();
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for fixture in fixtures() {
        let frame = fixture.frame();
        for case in &fixture.calls {
            let label = format!("{} {}", fixture.name, case.call);
            let call = match registry.resolve(&case.call) {
                Ok(mut calls) if calls.len() == 1 => calls.remove(0),
                other => {
                    failures.push(format!("{label}: does not resolve: {other:?}"));
                    continue;
                }
            };
            let outputs = match call.compute_window(&frame, fixture.zone(), 0..frame.len()) {
                Ok(outputs) => outputs,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let mut worst: f64 = 0.0;
            for (spec, ours) in call.indicator.spec().outputs.iter().zip(&outputs) {
                let Some(theirs) = case.outputs.get(&spec.name) else {
                    failures.push(format!("{label}: TA-Lib has no output '{}'", spec.name));
                    continue;
                };
                match compare(ours, theirs) {
                    Ok(error) => worst = worst.max(error),
                    Err(problem) => failures.push(format!("{label} {}: {problem}", spec.name)),
                }
            }
            table.push(format!("{:<12} {:<32} {worst:.1e}", fixture.name, call.key));
        }
    }
    println!("fixture      call                             max error / magnitude");
    println!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} differences from TA-Lib:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The largest error relative to the series' magnitude, or what is wrong.
fn compare(ours: &[f64], theirs: &[Option<f64>]) -> Result<f64, String> {
    if ours.len() != theirs.len() {
        return Err(format!("{} values, TA-Lib {}", ours.len(), theirs.len()));
    }
    let warmup = |nulls: &mut dyn Iterator<Item = bool>| nulls.take_while(|&null| null).count();
    let (our_warmup, their_warmup) = (
        warmup(&mut ours.iter().map(|v| v.is_nan())),
        warmup(&mut theirs.iter().map(Option::is_none)),
    );
    if our_warmup != their_warmup {
        return Err(format!(
            "warm-up of {our_warmup} bars, TA-Lib {their_warmup}"
        ));
    }
    let scale = magnitude(theirs.iter().flatten().copied()).max(f64::MIN_POSITIVE);
    let mut worst: f64 = 0.0;
    for (i, (ours, theirs)) in ours.iter().zip(theirs).enumerate() {
        match theirs {
            None if ours.is_nan() => {}
            None => return Err(format!("[{i}] is {ours}, TA-Lib null")),
            Some(theirs) => {
                let error = (ours - theirs).abs() / scale;
                if error.is_nan() || error > TOLERANCE {
                    return Err(format!(
                        "[{i}] is {ours}, TA-Lib {theirs} (error {error:.1e} of {scale})"
                    ));
                }
                worst = worst.max(error);
            }
        }
    }
    Ok(worst)
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
