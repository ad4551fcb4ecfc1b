//! The TA-Lib fixtures written by `tests/oracle/indicators.py`.
#![allow(dead_code)] // each test binary uses a part of it

use std::collections::BTreeMap;
use std::path::PathBuf;

use candela_core::BarFrame;
use candela_core::indicator::Registry;
use chrono_tz::Tz;
use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub name: String,
    zone: String,
    bars: Bars,
    pub calls: Vec<Case>,
    /// Calls of the example plugins in `plugins/examples/wasm`.
    #[serde(default)]
    pub plugin_calls: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Bars {
    time: Vec<i64>,
    open: Vec<String>,
    high: Vec<String>,
    low: Vec<String>,
    close: Vec<String>,
    volume: Vec<String>,
}

/// One call and TA-Lib's outputs for it, `None` where TA-Lib has no value.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub call: String,
    pub outputs: BTreeMap<String, Vec<Option<f64>>>,
}

impl Fixture {
    pub fn zone(&self) -> Tz {
        self.zone.parse().expect("fixture zone")
    }

    /// The input bars, parsed to the exact doubles TA-Lib was given.
    pub fn frame(&self) -> BarFrame {
        let parse = |column: &[String]| -> Vec<f64> {
            column
                .iter()
                .map(|v| v.parse().expect("float repr"))
                .collect()
        };
        let b = &self.bars;
        BarFrame::from_columns(
            b.time.clone(),
            [
                parse(&b.open),
                parse(&b.high),
                parse(&b.low),
                parse(&b.close),
                parse(&b.volume),
            ],
        )
        .expect("fixture frame")
    }
}

pub fn fixtures() -> Vec<Fixture> {
    json_fixtures("indicators", "tests/oracle/indicators.py")
        .into_iter()
        .map(|(_, fixture)| fixture)
        .collect()
}

/// Every `*.json` of `tests/fixtures/<folder>`, by file stem, in name
/// order; `script` is what writes them.
pub fn json_fixtures<T: DeserializeOwned>(folder: &str, script: &str) -> Vec<(String, T)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(folder);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run {script}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no fixtures in {}; run {script}",
        dir.display()
    );
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(path).expect("read fixture");
            let parsed =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, parsed)
        })
        .collect()
}

/// The largest magnitude of a series, the scale of the 1e-9 tolerance.
pub fn magnitude(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0, |m, v| m.max(v.abs()))
}

pub const TOLERANCE: f64 = 1e-9;

/// What `check_calls` found: one line per call with its worst error, and
/// every difference.
pub struct Report {
    pub table: String,
    pub failures: Vec<String>,
}

/// Resolves each call that `cases` picks from each fixture in `registry`,
/// computes it over the whole fixture and compares it with the reference.
pub fn check_calls(registry: &Registry, cases: fn(&Fixture) -> &[Case]) -> Report {
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for fixture in fixtures() {
        let frame = fixture.frame();
        for case in cases(&fixture) {
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
    table.insert(
        0,
        "fixture      call                             max error / magnitude".into(),
    );
    Report {
        table: table.join("\n"),
        failures,
    }
}

/// The largest error relative to the series' magnitude, or what is wrong.
pub fn compare(ours: &[f64], theirs: &[Option<f64>]) -> Result<f64, String> {
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
