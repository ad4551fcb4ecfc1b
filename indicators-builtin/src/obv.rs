//! On-balance volume (TA-Lib OBV): a running total that adds the volume of
//! up bars and subtracts that of down bars, starting from the first volume.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};

use crate::{Definition, builtin_spec};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "obv",
            "On-Balance Volume",
            "Volume",
            "Running total of volume, added on up closes and subtracted on down closes.",
            Vec::new(),
            vec![OutputSpec::new("obv", Placement::Pane, Style::Line)],
            &[Input::Close, Input::Volume],
        ),
        history,
        compute,
    )
}

/// A running total: every value depends on the very first bar.
fn history(_params: &Params) -> History {
    History::Whole
}

fn compute(series: &Series<'_>, _params: &Params) -> Vec<Vec<f64>> {
    let (closes, volumes) = (series.bars.close, series.bars.volume);
    let (Some(&first_close), Some(&first_volume)) = (closes.first(), volumes.first()) else {
        return vec![Vec::new()];
    };
    let (mut total, mut previous) = (first_volume, first_close);
    // A sign instead of a branch: up and down bars come in no pattern a
    // branch predictor could learn. Adding ±volume or 0 is exact, as in TA-Lib.
    let out = closes
        .iter()
        .zip(volumes)
        .map(|(&close, &volume)| {
            let direction =
                f64::from(u8::from(close > previous)) - f64::from(u8::from(close < previous));
            total += direction * volume;
            previous = close;
            total
        })
        .collect();
    vec![out]
}
