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
    let mut upper = series::window_sums(closes, period, |x| x * x);
    let inverse = 1.0 / period as f64;
    let mut lower = Vec::with_capacity(closes.len());
    // TA-Lib: the population variance from the running sum of squares, a
    // deviation of 0 below a variance of 1e-8.
    for (squares, &mean) in upper.iter_mut().zip(&middle) {
        let variance = *squares * inverse - mean * mean;
        let deviation = if variance < 1e-8 {
            0.0
        } else {
            variance.sqrt()
        };
        *squares = mean + deviation * width;
        lower.push(mean - deviation * width);
    }
    vec![upper, middle, lower]
}
