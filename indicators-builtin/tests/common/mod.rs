//! The TA-Lib fixtures written by `tests/oracle/indicators.py`.
#![allow(dead_code)] // each test binary uses a part of it

use std::collections::BTreeMap;
use std::path::PathBuf;

use candela_core::BarFrame;
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub name: String,
    zone: String,
    bars: Bars,
    pub calls: Vec<Case>,
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
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/indicators");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/indicators: run tests/oracle/indicators.py")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", dir.display());
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("read fixture");
            serde_json::from_str(&text).expect("parse fixture")
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
