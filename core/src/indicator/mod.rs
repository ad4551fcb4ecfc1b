//! The indicator model: the [`Indicator`] trait, the metadata every indicator
//! declares ([`spec`]), the validation of calls against it ([`params`]), and
//! the one [`Registry`] that built-ins and plugins share, so that the API, the
//! UI and SQL never care where an indicator came from.

pub mod call;
mod evaluate;
pub mod params;
mod registry;
mod resolve;
pub mod source;
pub mod spec;

use chrono_tz::Tz;

pub use call::{Arg, ArgValue, CALLS_PATTERN, IndicatorCall, parse_calls};
pub use evaluate::{CallValues, Evaluation, Frames, HigherStarts, HigherTimeframe, ResolvedCall};
pub use params::{ParamError, Params};
pub use registry::{Builtin, CallError, Registry, RegistryError};
pub use resolve::{RESERVED, takes_source};
pub use source::{PriceColumn, Source};
pub use spec::{IndicatorSpec, Input, Origin, OutputSpec, ParamKind, ParamSpec, Placement, Style};

use crate::frame::BarColumns;

/// A technical indicator: series in, one f64 series per declared output out.
pub trait Indicator: Send + Sync + std::fmt::Debug {
    fn spec(&self) -> &IndicatorSpec;

    /// A rule across parameters that their ranges cannot express, such as
    /// `fast < slow`; the message says how to fix the call.
    fn check(&self, _params: &Params) -> Result<(), String> {
        Ok(())
    }

    /// How much history before a window makes the window's values equal to
    /// those computed over the whole series.
    fn history(&self, params: &Params) -> History;

    /// One series per declared output, each as long as the input; NaN where
    /// there is no value (the warm-up, or undefined points).
    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError>;
}

/// The bars an indicator reads, and the zone whose calendar days they fall in.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub bars: BarColumns<'a>,
    pub zone: Tz,
}

/// History an indicator needs before a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// This many bars: enough for a finite window, or for an exponential
    /// memory to have decayed below f64 precision.
    Bars(usize),
    /// From the start of the local day of the window's first bar (VWAP).
    LocalDay,
    /// From the first bar (running totals such as OBV).
    Whole,
}

impl History {
    /// Bars after which a recursive smoothing `s = (1 - alpha) * s + alpha * x`
    /// forgets its starting state to within f64 precision: `(1 - alpha)^n <
    /// 1e-16`, well past the 1e-9 the API promises.
    pub fn decay(alpha: f64) -> usize {
        if !(alpha > 0.0 && alpha < 1.0) {
            return 0;
        }
        (1e-16_f64.ln() / (1.0 - alpha).ln()).ceil() as usize
    }
}

/// An indicator could not compute: a plugin refused the input, trapped, ran
/// out of time or memory, or returned series of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{indicator} failed: {message}")]
pub struct ComputeError {
    pub indicator: String,
    pub message: String,
    pub kind: ComputeErrorKind,
}

/// Whose fault a failed computation is: the input's, or the indicator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeErrorKind {
    /// The indicator declined this input with a reason: the caller can
    /// change the input or the parameters.
    Refused,
    /// The indicator's code failed: a trap, a panic, a wrong result.
    Failed,
    /// The indicator hit its time or memory limit.
    Limit,
}

impl ComputeErrorKind {
    /// The stable name of the reason, as the API's errors give it.
    pub fn code(self) -> &'static str {
        match self {
            ComputeErrorKind::Refused => "indicator_refused",
            ComputeErrorKind::Failed => "indicator_failed",
            ComputeErrorKind::Limit => "indicator_limit",
        }
    }
}
