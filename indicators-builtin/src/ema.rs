//! Exponential moving average (TA-Lib EMA: seeded by the SMA of the first
//! `period` closes, then `k = 2 / (period + 1)`).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "ema",
            "Exponential Moving Average",
            "Trend",
            "A moving average weighting recent closes more, seeded by the SMA of the first `period` closes.",
            vec![period(20, 2)],
            vec![OutputSpec::new("ema", Placement::Overlay, Style::Line)],
            &[Input::Close],
        ),
        history,
        compute,
    )
}

fn history(params: &Params) -> History {
    let period = params.count("period");
    History::Bars(period + History::decay(series::ema_k(period)))
}

fn compute(series: &Series<'_>, params: &Params) -> Vec<Vec<f64>> {
    let period = params.count("period");
    let k = series::ema_k(period);
    vec![series::ema_from(
        series.bars.close,
        period,
        k,
        period.saturating_sub(1),
    )]
}
