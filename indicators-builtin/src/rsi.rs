//! Relative strength index (TA-Lib RSI, Wilder's smoothing).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use multiversion::multiversion;

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "rsi",
            "Relative Strength Index",
            "Momentum",
            "Average gain over average gain plus loss, 0 to 100, with Wilder's smoothing; 0 on a flat series.",
            vec![period(14, 2)],
            vec![OutputSpec::new("rsi", Placement::Pane, Style::Line)],
            &[Input::Close],
        ),
        history,
        compute,
    )
}

fn history(params: &Params) -> History {
    let period = params.count("period");
    History::Bars(period + 1 + History::decay(1.0 / period as f64))
}

fn compute(series: &Series<'_>, params: &Params) -> Vec<Vec<f64>> {
    vec![rsi(series.bars.close, params.count("period"))]
}

/// Replaces each part by its percentage of the whole, 0 where the whole is
/// zero; in wide vectors where the CPU has them, since a division per value
/// is the costliest step of the RSI.
#[multiversion(targets("x86_64+avx2"))]
fn percent_of(parts: &mut [f64], wholes: &[f64]) {
    for (part, &whole) in parts.iter_mut().zip(wholes) {
        let percent = 100.0 * (*part / whole);
        *part = if is_zero(whole) { 0.0 } else { percent };
    }
}

/// TA-Lib treats sums within 1e-8 of zero as zero.
fn is_zero(value: f64) -> bool {
    -1e-8 < value && value < 1e-8
}

/// TA-Lib smooths gains and losses apart and divides the gain by their sum;
/// the sum is the smoothing of the absolute changes, so it is smoothed
/// directly, and each value costs one division instead of a chain of two.
fn rsi(closes: &[f64], period: usize) -> Vec<f64> {
    if period == 0 || closes.len() <= period {
        return series::undefined(closes.len());
    }
    let changes = closes[1..]
        .iter()
        .zip(closes)
        .map(|(close, previous)| close - previous);
    let gains = changes.clone().map(|change| change.max(0.0));
    let mut gains = series::wilder(closes.len(), period, 1, gains);
    let movements = series::wilder(closes.len(), period, 1, changes.map(f64::abs));
    percent_of(&mut gains[period..], &movements[period..]);
    gains
}
