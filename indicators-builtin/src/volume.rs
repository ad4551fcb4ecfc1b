//! The bar volume, as a pane of its own.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "volume",
            "Volume",
            "Volume",
            "The traded volume of each bar.",
            Vec::new(),
            vec![OutputSpec::new("volume", Placement::Pane, Style::Histogram)],
            &[Input::Volume],
        ),
        history,
        compute,
    )
}

fn history(_params: &Params) -> History {
    History::Bars(0)
}

fn compute(series: &Series<'_>, _params: &Params) -> Vec<Vec<f64>> {
    vec![series.bars.volume.to_vec()]
}
