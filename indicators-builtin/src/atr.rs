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
    let mut ranges = series::undefined(bars.len());
    for (i, range) in ranges.iter_mut().enumerate().skip(1) {
        let (high, low, previous) = (bars.high[i], bars.low[i], bars.close[i - 1]);
        *range = (high - low)
            .max((previous - high).abs())
            .max((previous - low).abs());
    }
    let period = params.count("period");
    if period <= 1 {
        return vec![ranges];
    }
    vec![series::wilder(&ranges, period, 1)]
}
