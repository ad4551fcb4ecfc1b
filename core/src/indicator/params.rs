//! Typing and range-checking the arguments of a call against an indicator's
//! declared parameters.

use std::fmt::Write as _;

use super::call::{Arg, ArgValue, IndicatorCall};
use super::spec::{IndicatorSpec, ParamKind, ParamSpec};

/// The arguments of one call, validated, in the order the spec declares them,
/// defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    values: Vec<ParamValue>,
}

#[derive(Debug, Clone, PartialEq)]
struct ParamValue {
    name: String,
    kind: ParamKind,
    value: f64,
}

/// Why a call's arguments cannot be used. Names the call as written and, where
/// one parameter is at fault, what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{call}: {problem}")]
pub struct ParamError {
    pub call: String,
    pub problem: String,
}

impl Params {
    /// The defaults of `spec`.
    pub fn defaults(spec: &IndicatorSpec) -> Params {
        Params {
            values: spec
                .params
                .iter()
                .map(|p| ParamValue {
                    name: p.name.clone(),
                    kind: p.kind,
                    value: p.default,
                })
                .collect(),
        }
    }

    /// Validates `call`'s arguments against `spec`: positional ones in
    /// declared order, then named ones, each once, typed and in range.
    pub fn from_call(spec: &IndicatorSpec, call: &IndicatorCall) -> Result<Params, ParamError> {
        Params::from_args(spec, call.args.iter(), &call.to_string())
    }

    /// Validates `args` as [`Params::from_call`] does; errors name `call`.
    pub fn from_args<'a>(
        spec: &IndicatorSpec,
        args: impl ExactSizeIterator<Item = &'a Arg>,
        call: &str,
    ) -> Result<Params, ParamError> {
        let fail = |problem: String| ParamError {
            call: call.to_owned(),
            problem,
        };
        let count = args.len();
        let mut params = Params::defaults(spec);
        let mut given = vec![false; spec.params.len()];
        let mut named_seen = false;
        for (position, arg) in args.enumerate() {
            let index = match &arg.name {
                Some(name) => {
                    named_seen = true;
                    spec.params
                        .iter()
                        .position(|p| &p.name == name)
                        .ok_or_else(|| {
                            fail(format!(
                                "{} has no parameter '{name}' (parameters: {})",
                                spec.id,
                                names(&spec.params)
                            ))
                        })?
                }
                None if named_seen => {
                    return Err(fail(format!(
                        "positional argument '{}' after a named one",
                        arg.value
                    )));
                }
                None if position >= spec.params.len() => {
                    return Err(fail(format!(
                        "{} takes at most {} argument{} ({}), got {}",
                        spec.id,
                        spec.params.len(),
                        if spec.params.len() == 1 { "" } else { "s" },
                        names(&spec.params),
                        count
                    )));
                }
                None => position,
            };
            let param = &spec.params[index];
            if std::mem::replace(&mut given[index], true) {
                return Err(fail(format!("'{}' is given twice", param.name)));
            }
            let text = match &arg.value {
                ArgValue::Text(text) => text,
                ArgValue::Call(inner) => {
                    return Err(fail(format!(
                        "{} must be {}, not a call ({inner}); a call goes in source=, as in ema(9,source=rsi(14))",
                        param.name,
                        param.range_text()
                    )));
                }
            };
            params.values[index].value = parse_value(param, text).map_err(fail)?;
        }
        Ok(params)
    }

    /// The value of parameter `name`; NaN if the indicator declares none.
    pub fn get(&self, name: &str) -> f64 {
        self.values
            .iter()
            .find(|p| p.name == name)
            .map_or(f64::NAN, |p| p.value)
    }

    /// Every value, in declared order: what a plugin receives.
    pub fn values(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.values.iter().map(|p| p.value)
    }

    /// An integer parameter as a count (validation keeps it non-negative).
    pub fn count(&self, name: &str) -> usize {
        let value = self.get(name);
        if value.is_finite() && value >= 0.0 {
            value as usize
        } else {
            0
        }
    }

    /// The canonical text of a call with these arguments, e.g.
    /// `macd(fast=12,slow=26,signal=9)`, or the bare id when there are none.
    pub fn key(&self, id: &str) -> String {
        self.key_with(id, &[])
    }

    /// The canonical text with `extra` arguments (`name=value`, as the
    /// reserved ones are written) after the parameters.
    pub fn key_with(&self, id: &str, extra: &[String]) -> String {
        if self.values.is_empty() && extra.is_empty() {
            return id.to_owned();
        }
        let mut key = format!("{id}(");
        let params = self
            .values
            .iter()
            .map(|p| format!("{}={}", p.name, p.value));
        for (i, arg) in params.chain(extra.iter().cloned()).enumerate() {
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(key, "{separator}{arg}");
        }
        key.push(')');
        key
    }

    /// `{"period": 20, "stddev": 2.5}`: integers as JSON integers.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values
            .iter()
            .map(|p| (p.name.clone(), p.kind.json(p.value)))
            .collect()
    }
}

fn names(params: &[ParamSpec]) -> String {
    if params.is_empty() {
        return "none".into();
    }
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    names.join(", ")
}

fn parse_value(param: &ParamSpec, text: &str) -> Result<f64, String> {
    let expected = || {
        format!(
            "{} must be {}, got '{}'",
            param.name,
            param.range_text(),
            text.chars().take(32).collect::<String>()
        )
    };
    let value: f64 = text
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(expected)?;
    let integral = param.kind == ParamKind::Number || value.fract() == 0.0;
    if !integral || value < param.min || value > param.max {
        return Err(expected());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::call::parse_calls;
    use crate::indicator::spec::Origin;

    fn spec() -> IndicatorSpec {
        IndicatorSpec {
            id: "bands".into(),
            name: "Bands".into(),
            category: "Volatility".into(),
            description: String::new(),
            origin: Origin::Builtin,
            params: vec![
                ParamSpec::integer("period", 20, 2, 1000, ""),
                ParamSpec::number("width", 2.0, 0.5, 5.0, ""),
            ],
            outputs: Vec::new(),
            inputs: Vec::new(),
        }
    }

    fn params(text: &str) -> Result<Params, ParamError> {
        let calls = parse_calls(text).expect("syntax");
        Params::from_call(&spec(), &calls[0])
    }

    #[test]
    fn fills_defaults_and_accepts_positional_then_named() {
        let p = params("bands").expect("defaults");
        assert_eq!((p.get("period"), p.get("width")), (20.0, 2.0));
        let p = params("bands(30, width=2.5)").expect("mixed");
        assert_eq!((p.count("period"), p.get("width")), (30, 2.5));
        assert_eq!(p.key("bands"), "bands(period=30,width=2.5)");
        let p = params("bands(width=1, period=5)").expect("named");
        assert_eq!(p.key("bands"), "bands(period=5,width=1)");
        assert_eq!(
            serde_json::Value::Object(p.to_json()).to_string(),
            r#"{"period":5,"width":1.0}"#
        );
    }

    #[test]
    fn rejects_bad_arguments_naming_the_token_and_the_range() {
        let cases = [
            (
                "bands(0)",
                "period must be an integer from 2 to 1000, got '0'",
            ),
            ("bands(-1)", "got '-1'"),
            ("bands(1e9)", "got '1e9'"),
            ("bands(2.5)", "got '2.5'"),
            ("bands(abc)", "got 'abc'"),
            ("bands(nan)", "got 'nan'"),
            (
                "bands(20,9)",
                "width must be a number from 0.5 to 5, got '9'",
            ),
            (
                "bands(20,2,3)",
                "takes at most 2 arguments (period, width), got 3",
            ),
            ("bands(period=20,period=30)", "'period' is given twice"),
            ("bands(20,period=30)", "'period' is given twice"),
            (
                "bands(width=2,20)",
                "positional argument '20' after a named one",
            ),
            (
                "bands(size=3)",
                "no parameter 'size' (parameters: period, width)",
            ),
        ];
        for (text, expected) in cases {
            let error = params(text).expect_err(text).to_string();
            assert!(error.starts_with("bands("), "{text}: {error}");
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
