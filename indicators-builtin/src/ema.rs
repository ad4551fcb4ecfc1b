//! Exponential moving average (TA-Lib EMA: seeded by the SMA of the first
//! `period` closes, then `k = 2 / (period + 1)`).

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, ComputeError, History, Indicator, IndicatorSpec, Input, OutputSpec, Params, Placement,
    Series, Style,
};

use crate::{builtin_spec, period, series};

#[derive(Debug)]
struct Ema {
    spec: IndicatorSpec,
}

inventory::submit!(Builtin(|| Arc::new(Ema {
    spec: builtin_spec(
        "ema",
        "Exponential Moving Average",
        "Trend",
        "A moving average weighting recent closes more, seeded by the SMA of the first `period` closes.",
        vec![period(20, 2)],
        vec![OutputSpec::new("ema", Placement::Overlay, Style::Line)],
        &[Input::Close],
    ),
})));

impl Indicator for Ema {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn history(&self, params: &Params) -> History {
        let period = params.count("period");
        History::Bars(period + History::decay(series::ema_k(period)))
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        let period = params.count("period");
        let k = series::ema_k(period);
        Ok(vec![series::ema_from(
            series.bars.close,
            period,
            k,
            period.saturating_sub(1),
        )])
    }
}
