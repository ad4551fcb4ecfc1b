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

/// TA-Lib's running form: each step adds `period` times the entering value
/// and takes away the plain sum of the window before it, itself a running
/// sum. Both chains advance by one addition per value, and the output is
/// multiplied by the reciprocal of the weights' sum rather than divided.
fn wma(values: &[f64], period: usize) -> Vec<f64> {
    if period == 0 || values.len() < period {
        return series::undefined(values.len());
    }
    let scale = 1.0 / (period * (period + 1) / 2) as f64;
    let weight = period as f64;
    let mut weighted: f64 = values[..period]
        .iter()
        .enumerate()
        .map(|(i, &x)| x * (i + 1) as f64)
        .sum();
    let mut plain: f64 = values[..period].iter().sum();
    let mut out = Vec::with_capacity(values.len());
    out.resize(period - 1, f64::NAN);
    out.push(weighted * scale);
    let entering_and_leaving = values[period..].iter().zip(values);
    out.extend(entering_and_leaving.map(|(&entering, &leaving)| {
        weighted += entering * weight - plain;
        plain += entering - leaving;
        weighted * scale
    }));
    out
}
