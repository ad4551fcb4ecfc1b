//! Simple moving average (TA-Lib SMA).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec, period, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "sma",
            "Simple Moving Average",
            "Trend",
            "The mean close of the last `period` bars.",
            vec![period(20, 2)],
            vec![OutputSpec::new("sma", Placement::Overlay, Style::Line)],
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
    vec![series::sma(series.bars.close, params.count("period"))]
}
