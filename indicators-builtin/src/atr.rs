//! Average true range (TA-Lib ATR): Wilder's smoothing of the true range,
//! seeded by the mean of the first `period` true ranges.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, ComputeError, History, Indicator, IndicatorSpec, Input, OutputSpec, Params, Placement,
    Series, Style,
};

use crate::{builtin_spec, period, series};

#[derive(Debug)]
struct Atr {
    spec: IndicatorSpec,
}

inventory::submit!(Builtin(|| Arc::new(Atr {
    spec: builtin_spec(
        "atr",
        "Average True Range",
        "Volatility",
        "Wilder's average of the true range: the bar's range extended to the previous close.",
        vec![period(14, 1)],
        vec![OutputSpec::new("atr", Placement::Pane, Style::Line)],
        &[Input::High, Input::Low, Input::Close],
    ),
})));

impl Indicator for Atr {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn history(&self, params: &Params) -> History {
        let period = params.count("period");
        History::Bars(period + 1 + History::decay(1.0 / period as f64))
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
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
            return Ok(vec![ranges]);
        }
        Ok(vec![series::wilder(&ranges, period, 1)])
    }
}
