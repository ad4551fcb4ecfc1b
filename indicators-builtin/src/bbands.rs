//! Bollinger bands (TA-Lib BBANDS with an SMA middle): the middle band plus
//! and minus `stddev` population standard deviations of the window.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, ParamSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "bbands",
            "Bollinger Bands",
            "Volatility",
            "An SMA of the close with bands `stddev` standard deviations above and below.",
            vec![
                period(20, 2),
                ParamSpec::number(
                    "stddev",
                    2.0,
                    0.0,
                    100.0,
                    "band width in standard deviations",
                ),
            ],
            vec![
                OutputSpec::new("upper", Placement::Overlay, Style::Band),
                OutputSpec::new("middle", Placement::Overlay, Style::Line),
                OutputSpec::new("lower", Placement::Overlay, Style::Band),
            ],
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
    let closes = series.bars.close;
    let (period, width) = (params.count("period"), params.get("stddev"));
    let middle = series::sma(closes, period);
    let deviation = deviation_around(closes, &middle, period);
    let band = |sign: f64| -> Vec<f64> {
        middle
            .iter()
            .zip(&deviation)
            .map(|(m, d)| {
                if width == 1.0 {
                    m + sign * d
                } else {
                    m + sign * (d * width)
                }
            })
            .collect()
    };
    vec![band(1.0), middle.clone(), band(-1.0)]
}

/// TA-Lib's population standard deviation around a precomputed mean: a
/// running sum of squares, and 0 where the variance is below 1e-8.
fn deviation_around(values: &[f64], mean: &[f64], period: usize) -> Vec<f64> {
    let mut out = series::undefined(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let divisor = period as f64;
    let mut squares: f64 = values[..period - 1].iter().map(|x| x * x).sum();
    for i in period - 1..values.len() {
        squares += values[i] * values[i];
        let variance = squares / divisor - mean[i] * mean[i];
        squares -= values[i + 1 - period] * values[i + 1 - period];
        out[i] = if variance < 1e-8 {
            0.0
        } else {
            variance.sqrt()
        };
    }
    out
}
