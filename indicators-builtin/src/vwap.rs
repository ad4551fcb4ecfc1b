//! Volume-weighted average price, reset at each calendar day of the
//! provider's zone: cumulative (typical price × volume) over cumulative
//! volume, typical price = (high + low + close) / 3. Undefined (NaN) while
//! the day has traded no volume.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, Params, Placement, Series, Style,
};
use candela_core::zone;

use crate::{Definition, builtin_spec};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "vwap",
            "VWAP",
            "Volume",
            "Volume-weighted average of the typical price (h+l+c)/3 since the start of the day, in the provider's time zone.",
            Vec::new(),
            vec![OutputSpec::new("vwap", Placement::Overlay, Style::Line)],
            &[
                Input::Time,
                Input::High,
                Input::Low,
                Input::Close,
                Input::Volume,
            ],
        ),
        history,
        compute,
    )
}

fn history(_params: &Params) -> History {
    History::LocalDay
}

fn compute(series: &Series<'_>, _params: &Params) -> Vec<Vec<f64>> {
    let bars = &series.bars;
    let mut out = Vec::with_capacity(bars.len());
    let (mut next_day, mut weighted, mut volume) = (i64::MIN, 0.0, 0.0);
    for i in 0..bars.len() {
        if bars.time[i] >= next_day {
            let day = zone::local_date(&series.zone, bars.time[i]);
            next_day = day
                .succ_opt()
                .map_or(i64::MAX, |next| zone::midnight(&series.zone, next));
            (weighted, volume) = (0.0, 0.0);
        }
        let typical = (bars.high[i] + bars.low[i] + bars.close[i]) / 3.0;
        weighted += typical * bars.volume[i];
        volume += bars.volume[i];
        out.push(weighted / volume);
    }
    vec![out]
}
