//! The syntax of the `indicators` request parameter: comma-separated calls
//! `id(args)`, args positional or `name=value`, a bare `id` for defaults.
//! Only the syntax lives here; arguments are typed and range-checked against
//! each indicator's declared parameters when it is looked up.

use std::fmt;

/// One parsed call such as `macd(fast=12, slow=26)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorCall {
    pub id: String,
    pub args: Vec<Arg>,
}

/// An argument as written: positional (`20`) or named (`period=20`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} in '{token}' (syntax: sma(20),macd(fast=12,slow=26,signal=9),rsi)")]
pub struct CallSyntaxError {
    pub token: String,
    pub message: &'static str,
}

/// Longest accepted `indicators` value; longer ones are surely not meant.
const MAX_LEN: usize = 4_096;

/// Parses the whole parameter. An empty or blank value means no indicators.
pub fn parse_calls(input: &str) -> Result<Vec<IndicatorCall>, CallSyntaxError> {
    if input.len() > MAX_LEN {
        return Err(error(
            &input[..input.floor_char_boundary(32)],
            "the list is too long",
        ));
    }
    split_top_level(input)?
        .into_iter()
        .filter(|s| !s.trim().is_empty() || input.trim().is_empty())
        .map(|s| parse_call(s.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map(|calls| calls.into_iter().flatten().collect())
}

fn error(token: &str, message: &'static str) -> CallSyntaxError {
    CallSyntaxError {
        token: token.chars().take(64).collect(),
        message,
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(input: &str) -> Result<Vec<&str>, CallSyntaxError> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' if depth == 0 => depth = 1,
            '(' => return Err(error(input, "nested parentheses")),
            ')' if depth == 1 => depth = 0,
            ')' => return Err(error(input, "unbalanced ')'")),
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(error(&input[start..], "missing ')'"));
    }
    parts.push(&input[start..]);
    if parts.len() > 1 && parts.iter().any(|p| p.trim().is_empty()) {
        return Err(error(input, "an empty entry"));
    }
    Ok(parts)
}

fn parse_call(text: &str) -> Result<Option<IndicatorCall>, CallSyntaxError> {
    if text.is_empty() {
        return Ok(None);
    }
    let (id, args) = match text.split_once('(') {
        None => (text, None),
        Some((id, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| error(text, "text after ')'"))?;
            (id.trim_end(), Some(inner))
        }
    };
    if !is_identifier(id) {
        return Err(error(text, "an indicator id is letters, digits and '_'"));
    }
    let args = match args {
        None => Vec::new(),
        Some(inner) if inner.trim().is_empty() => Vec::new(),
        Some(inner) => inner
            .split(',')
            .map(|arg| parse_arg(arg.trim(), text))
            .collect::<Result<_, _>>()?,
    };
    Ok(Some(IndicatorCall {
        id: id.to_ascii_lowercase(),
        args,
    }))
}

fn parse_arg(arg: &str, call: &str) -> Result<Arg, CallSyntaxError> {
    if arg.is_empty() {
        return Err(error(call, "an empty argument"));
    }
    match arg.split_once('=') {
        Some((name, value)) => {
            let (name, value) = (name.trim(), value.trim());
            if !is_identifier(name) {
                return Err(error(call, "a parameter name is letters, digits and '_'"));
            }
            if value.is_empty() {
                return Err(error(call, "a parameter without a value"));
            }
            Ok(Arg {
                name: Some(name.to_ascii_lowercase()),
                value: value.to_owned(),
            })
        }
        None => Ok(Arg {
            name: None,
            value: arg.to_owned(),
        }),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for IndicatorCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.id)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &arg.name {
                Some(name) => write!(f, "{name}={}", arg.value)?,
                None => f.write_str(&arg.value)?,
            }
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(input: &str) -> Vec<String> {
        parse_calls(input)
            .expect("parses")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn parses_positional_named_and_bare_calls() {
        assert_eq!(
            round_trip("sma(20),macd(fast=12,slow=26,signal=9),rsi"),
            ["sma(20)", "macd(fast=12,slow=26,signal=9)", "rsi()"]
        );
        assert_eq!(
            round_trip(" sma ( 20 ) , BBANDS(period = 20, 2.5) "),
            ["sma(20)", "bbands(period=20,2.5)"]
        );
        assert!(round_trip("").is_empty());
        assert!(round_trip("  ").is_empty());
    }

    #[test]
    fn rejects_broken_syntax_naming_the_token() {
        for bad in [
            "sma(20",
            "sma)20(",
            "sma((20))",
            "sma(20)x",
            "sma(,)",
            "sma(20,)",
            "9sma",
            "sma(=3)",
            "sma(p=)",
            "sma,,rsi",
            "s-ma(1)",
        ] {
            let err = parse_calls(bad).expect_err(bad);
            // The error names the text at fault, so a client can point at it.
            assert!(
                !err.token.is_empty() && bad.contains(err.token.as_str()),
                "{bad}: {err}"
            );
        }
        let long = "sma(1),".repeat(1_000);
        assert!(parse_calls(&long).is_err());
    }
}
