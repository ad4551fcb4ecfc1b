//! Average true range (TA-Lib ATR): Wilder's smoothing of the true range,
//! seeded by the mean of the first `period` true ranges.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "atr",
            "Average True Range",
            "Volatility",
            "Wilder's average of the true range: the bar's range extended to the previous close.",
            vec![period(14, 1)],
            vec![OutputSpec::new("atr", Placement::Pane, Style::Line)],
            &[Input::High, Input::Low, Input::Close],
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
    let bars = &series.bars;
    if bars.is_empty() {
        return vec![Vec::new()];
    }
    // The bar's range extended to the previous close, for bars 1 and on:
    // TA-Lib's largest of `high - low`, `|close₋₁ - high|` and `|close₋₁ - low|`
    // is the span from the lower of low and close₋₁ to the higher of high and
    // close₋₁, the very same subtraction, in three operations instead of eight.
    let bar_and_previous_close = bars.high[1..].iter().zip(&bars.low[1..]).zip(bars.close);
    let true_ranges = bar_and_previous_close.map(|((&high, &low), &previous_close)| {
        series::larger(high, previous_close) - series::smaller(low, previous_close)
    });
    vec![series::wilder(
        bars.len(),
        params.count("period"),
        1,
        true_ranges,
    )]
}
