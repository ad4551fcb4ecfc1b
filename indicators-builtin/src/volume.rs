//! The bar volume, as a pane of its own.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, ComputeError, History, Indicator, IndicatorSpec, Input, OutputSpec, Params, Placement,
    Series, Style,
};

use crate::builtin_spec;

#[derive(Debug)]
struct Volume {
    spec: IndicatorSpec,
}

inventory::submit!(Builtin(|| Arc::new(Volume {
    spec: builtin_spec(
        "volume",
        "Volume",
        "Volume",
        "The traded volume of each bar.",
        Vec::new(),
        vec![OutputSpec::new("volume", Placement::Pane, Style::Histogram)],
        &[Input::Volume],
    ),
})));

impl Indicator for Volume {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn history(&self, _params: &Params) -> History {
        History::Bars(0)
    }

    fn compute(
        &self,
        series: &Series<'_>,
        _params: &Params,
    ) -> Result<Vec<Vec<f64>>, ComputeError> {
        Ok(vec![series.bars.volume.to_vec()])
    }
}
