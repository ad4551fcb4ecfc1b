//! On-balance volume (TA-Lib OBV): a running total that adds the volume of
//! up bars and subtracts that of down bars, starting from the first volume.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, ComputeError, History, Indicator, IndicatorSpec, Input, OutputSpec, Params, Placement,
    Series, Style,
};

use crate::builtin_spec;

#[derive(Debug)]
struct Obv {
    spec: IndicatorSpec,
}

inventory::submit!(Builtin(|| Arc::new(Obv {
    spec: builtin_spec(
        "obv",
        "On-Balance Volume",
        "Volume",
        "Running total of volume, added on up closes and subtracted on down closes.",
        Vec::new(),
        vec![OutputSpec::new("obv", Placement::Pane, Style::Line)],
        &[Input::Close, Input::Volume],
    ),
})));

impl Indicator for Obv {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    /// A running total: every value depends on the very first bar.
    fn history(&self, _params: &Params) -> History {
        History::Whole
    }

    fn compute(
        &self,
        series: &Series<'_>,
        _params: &Params,
    ) -> Result<Vec<Vec<f64>>, ComputeError> {
        let (closes, volumes) = (series.bars.close, series.bars.volume);
        let mut out = Vec::with_capacity(closes.len());
        let (Some(&first_close), Some(&first_volume)) = (closes.first(), volumes.first()) else {
            return Ok(vec![out]);
        };
        let (mut total, mut previous) = (first_volume, first_close);
        for (&close, &volume) in closes.iter().zip(volumes) {
            if close > previous {
                total += volume;
            } else if close < previous {
                total -= volume;
            }
            out.push(total);
            previous = close;
        }
        Ok(vec![out])
    }
}
