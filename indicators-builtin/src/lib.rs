//! Candela's built-in technical indicators, exact to TA-Lib (VWAP: to its
//! pandas definition). Each module defines one indicator and registers it with
//! the core's registry through `inventory::submit!`; linking this crate is all
//! it takes for them to appear.
//!
//! The arithmetic follows TA-Lib's own order of operations (running sums,
//! SMA-seeded EMAs, Wilder smoothing, its zero thresholds), so that values
//! agree to rounding, and the warm-up — the leading NaNs — has TA-Lib's length.

mod atr;
mod bbands;
mod ema;
mod macd;
mod obv;
mod rsi;
mod series;
mod sma;
mod stoch;
mod volume;
mod vwap;
mod wma;

use candela_core::indicator::{
    ComputeError, History, Indicator, IndicatorSpec, Input, Origin, OutputSpec, ParamSpec, Params,
    Series,
};

/// TA-Lib's upper bound on periods.
const MAX_PERIOD: u32 = 100_000;

/// A built-in: its spec and the plain functions that compute it. Built-ins
/// cannot fail, so `compute` returns the outputs directly.
#[derive(Debug)]
struct Definition {
    spec: IndicatorSpec,
    history: fn(&Params) -> History,
    compute: fn(&Series<'_>, &Params) -> Vec<Vec<f64>>,
    check: fn(&Params) -> Result<(), String>,
}

impl Definition {
    fn new(
        spec: IndicatorSpec,
        history: fn(&Params) -> History,
        compute: fn(&Series<'_>, &Params) -> Vec<Vec<f64>>,
    ) -> Self {
        Definition {
            spec,
            history,
            compute,
            check: |_| Ok(()),
        }
    }

    fn with_check(self, check: fn(&Params) -> Result<(), String>) -> Self {
        Definition { check, ..self }
    }
}

impl Indicator for Definition {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn check(&self, params: &Params) -> Result<(), String> {
        (self.check)(params)
    }

    fn history(&self, params: &Params) -> History {
        (self.history)(params)
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        Ok((self.compute)(series, params))
    }
}

/// The spec of a built-in.
fn builtin_spec(
    id: &str,
    name: &str,
    category: &str,
    description: &str,
    params: Vec<ParamSpec>,
    outputs: Vec<OutputSpec>,
    inputs: &[Input],
) -> IndicatorSpec {
    IndicatorSpec {
        id: id.to_owned(),
        name: name.to_owned(),
        category: category.to_owned(),
        description: description.to_owned(),
        origin: Origin::Builtin,
        params,
        outputs,
        inputs: inputs.to_vec(),
    }
}

/// The `period` parameter most indicators take.
fn period(default: u32, min: u32) -> ParamSpec {
    ParamSpec::integer("period", default, min, MAX_PERIOD, "bars in the window")
}

/// A registry holding the built-ins. Calling it from a binary also keeps this
/// crate linked, which `inventory` registration depends on.
pub fn registry() -> candela_core::indicator::Registry {
    candela_core::indicator::Registry::with_builtins()
}
