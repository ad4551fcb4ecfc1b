//! Stochastic oscillator: raw %K over `k` bars, smoothed by an SMA of
//! `smooth`, and %D, the SMA of %K over `d`. `smooth = 1` is TA-Lib STOCHF,
//! `smooth = 3` TA-Lib STOCH; %K is emitted only once %D exists.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, ParamSpec, Params, Placement, Series, Style,
};

use crate::{Definition, MAX_PERIOD, builtin_spec, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "stoch",
            "Stochastic Oscillator",
            "Momentum",
            "Where the close lies in the high-low range of the last `k` bars, 0 to 100, and its average %D.",
            vec![
                ParamSpec::integer("k", 14, 1, MAX_PERIOD, "bars of the high-low range"),
                ParamSpec::integer("d", 3, 1, MAX_PERIOD, "bars of the %D average"),
                ParamSpec::integer(
                    "smooth",
                    1,
                    1,
                    MAX_PERIOD,
                    "bars smoothing %K (1: fast, 3: slow)",
                ),
            ],
            vec![
                OutputSpec::new("k", Placement::Pane, Style::Line),
                OutputSpec::new("d", Placement::Pane, Style::Line),
            ],
            &[Input::High, Input::Low, Input::Close],
        ),
        history,
        compute,
    )
}

fn history(params: &Params) -> History {
    History::Bars(params.count("k") + params.count("d") + params.count("smooth"))
}

fn compute(series: &Series<'_>, params: &Params) -> Vec<Vec<f64>> {
    let bars = &series.bars;
    let (k, d, smooth) = (params.count("k"), params.count("d"), params.count("smooth"));
    let lowest = series::rolling_min(bars.low, k);
    let mut raw = series::rolling_max(bars.high, k);
    for ((value, &low), &close) in raw.iter_mut().zip(&lowest).zip(bars.close) {
        let range = (*value - low) / 100.0;
        *value = if range != 0.0 {
            (close - low) / range
        } else {
            0.0
        };
    }
    let mut percent_k = if smooth > 1 {
        smoothed(&raw, smooth, k.saturating_sub(1))
    } else {
        raw
    };
    let first_k = k.saturating_sub(1) + smooth.saturating_sub(1);
    let percent_d = smoothed(&percent_k, d, first_k);
    series::blank_before(&mut percent_k, first_k + d.saturating_sub(1));
    vec![percent_k, percent_d]
}

/// TA-Lib's MA with SMA type over values defined from `first`: a period of 1
/// is the values themselves.
fn smoothed(values: &[f64], period: usize, first: usize) -> Vec<f64> {
    if period <= 1 {
        return values.to_vec();
    }
    let first = first.min(values.len());
    let mut out = series::undefined(first);
    out.extend(series::sma(&values[first..], period));
    out
}
