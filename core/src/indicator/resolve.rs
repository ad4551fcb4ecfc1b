//! From parsed calls to [`ResolvedCall`]s: each indicator looked up, its
//! parameters typed and checked, and the arguments every call takes
//! (`source`, `timeframe`, `align`) read.

use std::sync::Arc;

use super::call::{Arg, ArgValue, IndicatorCall, parse_calls};
use super::evaluate::{HigherTimeframe, ResolvedCall};
use super::params::{ParamError, Params};
use super::registry::{CallError, Registry};
use super::source::{PriceColumn, Source};
use super::spec::{IndicatorSpec, Input};
use crate::align::Align;
use crate::timeframe::Timeframe;

/// Argument names every call takes; no indicator may declare them.
pub const RESERVED: [&str; 3] = ["source", "timeframe", "align"];

impl Registry {
    /// Parses and validates a whole `indicators` parameter.
    pub fn resolve(&self, text: &str) -> Result<Vec<ResolvedCall>, CallError> {
        self.resolve_at_most(text, usize::MAX)
    }

    /// Parses and validates an `indicators` parameter of at most `max_calls`
    /// calls (those in `source=` counted), counted before any indicator
    /// checks its parameters.
    pub fn resolve_at_most(
        &self,
        text: &str,
        max_calls: usize,
    ) -> Result<Vec<ResolvedCall>, CallError> {
        let calls = parse_calls(text)?;
        let count = calls.iter().map(IndicatorCall::count).sum();
        if count > max_calls {
            return Err(CallError::TooMany {
                count,
                max: max_calls,
            });
        }
        calls
            .iter()
            .map(|call| {
                let written = call.to_string();
                self.resolve_call(call, &written, false)
            })
            .collect()
    }

    /// `call`, whose outermost call is written `written` (what errors name);
    /// `in_forming` when an outer call develops its higher bar as it forms.
    fn resolve_call(
        &self,
        call: &IndicatorCall,
        written: &str,
        in_forming: bool,
    ) -> Result<ResolvedCall, CallError> {
        let indicator = self
            .get(&call.id)
            .ok_or_else(|| CallError::Unknown(call.id.clone()))?;
        let spec = indicator.spec();
        let this = call.to_string();
        let fail = |problem: String| {
            let problem = if this == written {
                problem
            } else {
                format!("{this}: {problem}")
            };
            CallError::Param(ParamError {
                call: written.to_owned(),
                problem,
            })
        };
        let reserved = |name: &str| -> Option<&ArgValue> {
            call.args
                .iter()
                .find(|a| a.name.as_deref() == Some(name))
                .map(|a| &a.value)
        };
        let params_args = call
            .args
            .iter()
            .filter(|a| a.name.as_deref().is_none_or(|n| !RESERVED.contains(&n)));
        let params_args: Vec<&Arg> = params_args.collect();
        let params = Params::from_args(spec, params_args.into_iter(), written)
            .map_err(|e| fail(e.problem))?;
        indicator.check(&params).map_err(fail)?;
        for name in RESERVED {
            let times = call
                .args
                .iter()
                .filter(|a| a.name.as_deref() == Some(name))
                .count();
            if times > 1 {
                return Err(fail(format!("'{name}' is given twice")));
            }
        }

        let higher = match reserved("timeframe") {
            None => None,
            Some(ArgValue::Call(inner)) => {
                return Err(fail(format!(
                    "timeframe must be a timeframe such as 1d, not a call ({inner})"
                )));
            }
            Some(ArgValue::Text(text)) => {
                let timeframe = text
                    .parse::<Timeframe>()
                    .map_err(|e| fail(format!("timeframe: {e}")))?;
                if in_forming {
                    return Err(fail(format!(
                        "timeframe={timeframe} inside a call with align=forming: the inner call is computed on the outer one's developing bars"
                    )));
                }
                let align = match reserved("align") {
                    None => Align::Close,
                    Some(value) => {
                        let name = value.to_string();
                        Align::from_name(&name).ok_or_else(|| {
                            fail(format!(
                                "align must be close, open or forming, got '{}'",
                                name.chars().take(32).collect::<String>()
                            ))
                        })?
                    }
                };
                Some(HigherTimeframe { timeframe, align })
            }
        };
        if higher.is_none() && reserved("align").is_some() {
            return Err(fail(
                "align= says how a higher timeframe is placed: give timeframe= too, as in sma(20,timeframe=1d,align=open)".into(),
            ));
        }
        let forming = in_forming || higher.is_some_and(|h| h.align == Align::Forming);

        let source = match reserved("source") {
            None => Source::default(),
            Some(value) => {
                if !takes_source(spec) {
                    return Err(fail(format!(
                        "{} reads whole bars ({}), so it takes no source",
                        spec.id,
                        input_names(spec)
                    )));
                }
                self.resolve_source(value, written, forming)?
            }
        };

        let mut extra = Vec::new();
        if !source.is_default() {
            extra.push(format!("source={}", source.key()));
        }
        let series_key = params.key_with(&spec.id, &extra);
        if let Some(higher) = higher {
            extra.push(format!("timeframe={}", higher.timeframe));
            if higher.align != Align::Close {
                extra.push(format!("align={}", higher.align.name()));
            }
        }
        let key = params.key_with(&spec.id, &extra);
        Ok(ResolvedCall {
            indicator,
            params,
            source,
            higher,
            key,
            series_key,
            written: written.to_owned(),
        })
    }

    fn resolve_source(
        &self,
        value: &ArgValue,
        written: &str,
        in_forming: bool,
    ) -> Result<Source, CallError> {
        let bad = |problem: String| {
            CallError::Param(ParamError {
                call: written.to_owned(),
                problem,
            })
        };
        let inner = match value {
            ArgValue::Text(text) => {
                if let Some(column) = PriceColumn::from_name(text) {
                    return Ok(Source::Column(column));
                }
                let id = text.to_ascii_lowercase();
                if self.get(&id).is_none() {
                    return Err(bad(format!(
                        "source must be a column ({}) or a call such as rsi(14), got '{}'",
                        PriceColumn::ALL.map(PriceColumn::name).join(", "),
                        text.chars().take(32).collect::<String>()
                    )));
                }
                IndicatorCall {
                    id,
                    args: Vec::new(),
                    output: None,
                }
            }
            ArgValue::Call(call) => (**call).clone(),
        };
        let resolved = self.resolve_call(&inner, written, in_forming)?;
        let outputs = &resolved.indicator.spec().outputs;
        let names = || {
            outputs
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let output = match &inner.output {
            Some(name) => outputs
                .iter()
                .position(|o| &o.name == name)
                .ok_or_else(|| {
                    bad(format!(
                        "{} has no output '{name}' (outputs: {})",
                        inner.id,
                        names()
                    ))
                })?,
            None if outputs.len() == 1 => 0,
            None => {
                return Err(bad(format!(
                    "{} has several outputs ({}): pick one, as in source={}().{}",
                    inner.id,
                    names(),
                    inner.id,
                    outputs.last().map_or("", |o| o.name.as_str())
                )));
            }
        };
        Ok(Source::Call {
            call: Arc::new(resolved),
            output,
        })
    }
}

/// Whether an indicator reads one series (the close, and perhaps times), so
/// that `source=` can stand in for it.
pub fn takes_source(spec: &IndicatorSpec) -> bool {
    spec.inputs.contains(&Input::Close)
        && spec
            .inputs
            .iter()
            .all(|i| matches!(i, Input::Close | Input::Time))
}

fn input_names(spec: &IndicatorSpec) -> String {
    spec.inputs
        .iter()
        .filter(|i| **i != Input::Time)
        .map(|i| format!("{i:?}").to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}
