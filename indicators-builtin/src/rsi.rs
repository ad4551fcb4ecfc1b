//! Relative strength index (TA-Lib RSI, Wilder's smoothing).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

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

/// TA-Lib treats sums within 1e-8 of zero as zero.
fn is_zero(value: f64) -> bool {
    -1e-8 < value && value < 1e-8
}

fn rsi(closes: &[f64], period: usize) -> Vec<f64> {
    let mut out = series::undefined(closes.len());
    if period == 0 || closes.len() <= period {
        return out;
    }
    let divisor = period as f64;
    // Multiplications instead of TA-Lib's divisions in the dependency chain
    // (see `series::wilder`); the results agree to rounding.
    let (keep, share) = ((divisor - 1.0) / divisor, 1.0 / divisor);
    let (mut gain, mut loss) = (0.0, 0.0);
    for pair in closes[..=period].windows(2) {
        let change = pair[1] - pair[0];
        if change < 0.0 {
            loss -= change;
        } else {
            gain += change;
        }
    }
    gain /= divisor;
    loss /= divisor;
    let strength = |gain: f64, loss: f64| {
        let total = gain + loss;
        if is_zero(total) {
            0.0
        } else {
            100.0 * (gain / total)
        }
    };
    out[period] = strength(gain, loss);
    for i in period + 1..closes.len() {
        let change = closes[i] - closes[i - 1];
        gain = gain * keep + change.max(0.0) * share;
        loss = loss * keep - change.min(0.0) * share;
        out[i] = strength(gain, loss);
    }
    out
}
