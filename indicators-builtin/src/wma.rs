//! Weighted moving average (TA-Lib WMA: linear weights 1..=period, the latest
//! close weighing most).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "wma",
            "Weighted Moving Average",
            "Trend",
            "A moving average with linear weights: the latest close counts `period` times, the oldest once.",
            vec![period(20, 2)],
            vec![OutputSpec::new("wma", Placement::Overlay, Style::Line)],
            &[Input::Close],
        ),
        history,
        compute,
    )
}

fn history(params: &Params) -> History {
    History::Bars(params.count("period"))
}

fn compute(series: &Series<'_>, params: &Params) -> Vec<Vec<f64>> {
    vec![wma(series.bars.close, params.count("period"))]
}

/// TA-Lib's running form: `sum` holds the weighted sum, `plain` the plain sum
/// of the window, so that each step costs O(1).
fn wma(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = series::undefined(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let divider = (period * (period + 1) / 2) as f64;
    let weight = period as f64;
    let (mut sum, mut plain) = (0.0, 0.0);
    for (i, &x) in values[..period - 1].iter().enumerate() {
        plain += x;
        sum += x * (i + 1) as f64;
    }
    let mut trailing = 0.0;
    for i in period - 1..values.len() {
        let x = values[i];
        plain += x;
        plain -= trailing;
        sum += x * weight;
        trailing = values[i + 1 - period];
        out[i] = sum / divider;
        sum -= plain;
    }
    out
}
