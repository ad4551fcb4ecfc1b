//! Higher-timeframe calls against an oracle written with pandas and TA-Lib
//! (`tests/oracle/higher_timeframes.py`): every built-in under `align=close`,
//! `open` and `forming`, for 1m→1h, 1h→1d, 1h→1w and 1d→1w on the real
//! market data and the bundled New York sample, the daily bars stored apart
//! from the minutes in one case. The bars come from `Engine::bars`, the path
//! that serves `/api/data`; each window of chart bars is asked for as a
//! request would ask for it, and must hold TA-Lib's values within 1e-9 of the
//! series' magnitude and name the very higher bar pandas placed there.

mod common;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::indicator::{Evaluation, Frames, ResolvedCall};
use candela_core::{Engine, Store, StoreConfig, Timeframe};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    root: String,
    zone: String,
    symbol: String,
    chart: String,
    higher: String,
    windows: Vec<(usize, usize)>,
    time: Vec<i64>,
    calls: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    call: String,
    outputs: std::collections::BTreeMap<String, Vec<Option<f64>>>,
    from: Vec<Option<i64>>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tf(text: &str) -> Timeframe {
    text.parse().expect("timeframe")
}

/// One call's outputs and the start of the higher bar of each value.
#[derive(Clone, Default)]
struct Answer {
    outputs: Vec<Vec<f64>>,
    from: Vec<Option<i64>>,
}

/// Each call's outputs and higher-bar starts over `windows`, one
/// evaluation per window, every call planned before any is computed.
fn answers(frames: &Frames<'_>, calls: &[ResolvedCall], windows: &[Range<usize>]) -> Vec<Answer> {
    let mut answers = vec![Answer::default(); calls.len()];
    for rows in windows {
        let mut evaluation = Evaluation::new(frames);
        for call in calls {
            evaluation.plan(call, rows.clone()).expect("plan");
        }
        for (call, answer) in calls.iter().zip(&mut answers) {
            let values = evaluation.values(call, rows.clone()).expect("values");
            answer.outputs.resize(values.outputs.len(), Vec::new());
            for (all, part) in answer.outputs.iter_mut().zip(values.outputs) {
                all.extend(part);
            }
            let from = values.from.expect("a higher-timeframe call names its bars");
            answer.from.extend(from.iter());
        }
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn every_builtin_and_align_matches_pandas() {
    let cases: Vec<(String, Case)> =
        common::json_fixtures("higher_timeframes", "tests/oracle/higher_timeframes.py");
    assert!(cases.len() >= 6, "fixtures missing");
    let registry = candela_indicators::registry();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, case) in &cases {
        let mut config = StoreConfig::new(repo().join(&case.root));
        config.default_zone = case.zone.parse().expect("zone");
        let engine = Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine");
        let chart = engine
            .bars(&case.symbol, tf(&case.chart))
            .await
            .expect("chart bars");
        let higher = engine
            .bars(&case.symbol, tf(&case.higher))
            .await
            .expect("higher bars");
        let windows: Vec<Range<usize>> = case.windows.iter().map(|&(a, b)| a..b).collect();
        let times: Vec<i64> = windows
            .iter()
            .flat_map(|rows| chart.frame.time()[rows.clone()].iter().copied())
            .collect();
        assert_eq!(
            times, case.time,
            "{name}: the chart's bars differ from pandas'"
        );

        let frames = Frames::new((&*chart.frame).into(), Some(chart.timeframe), chart.zone)
            .with(higher.timeframe, (&*higher.frame).into());
        let written: Vec<&str> = case.calls.iter().map(|c| c.call.as_str()).collect();
        let calls = registry.resolve(&written.join(",")).expect("calls");
        for ((call, expected), Answer { outputs, from }) in calls
            .iter()
            .zip(&case.calls)
            .zip(answers(&frames, &calls, &windows))
        {
            let label = format!("{name} {}", expected.call);
            compared += 1;
            if from != expected.from {
                let at = from.iter().zip(&expected.from).position(|(a, b)| a != b);
                failures.push(format!(
                    "{label}: from differs at {at:?}: {:?} vs pandas {:?}",
                    at.map(|i| from[i]),
                    at.map(|i| expected.from[i])
                ));
            }
            for (spec, ours) in call.indicator.spec().outputs.iter().zip(&outputs) {
                match expected.outputs.get(&spec.name) {
                    None => failures.push(format!("{label}: no reference for '{}'", spec.name)),
                    Some(theirs) => {
                        if let Err(problem) = common::compare(ours, theirs) {
                            failures.push(format!("{label} {}: {problem}", spec.name));
                        }
                    }
                }
            }
        }
    }
    assert!(compared >= 6 * 39, "only {compared} calls compared");
    assert!(
        failures.is_empty(),
        "{} differences from the pandas oracle:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
