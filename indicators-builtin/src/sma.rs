//! Simple moving average (TA-Lib SMA).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, ComputeError, History, Indicator, IndicatorSpec, Input, OutputSpec, Params, Placement,
    Series, Style,
};

use crate::{builtin_spec, period, series};

#[derive(Debug)]
struct Sma {
    spec: IndicatorSpec,
}

inventory::submit!(Builtin(|| Arc::new(Sma {
    spec: builtin_spec(
        "sma",
        "Simple Moving Average",
        "Trend",
        "The mean close of the last `period` bars.",
        vec![period(20, 2)],
        vec![OutputSpec::new("sma", Placement::Overlay, Style::Line)],
        &[Input::Close],
    ),
})));

impl Indicator for Sma {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn history(&self, params: &Params) -> History {
        History::Bars(params.count("period"))
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        Ok(vec![series::sma(series.bars.close, params.count("period"))])
    }
}
