//! The syntax of the `indicators` request parameter: comma-separated calls
//! `id(args)`, args positional or `name=value`, a bare `id` for defaults. An
//! argument's value is a number or word (`20`, `2.5`, `1d`, `hl2`) or another
//! call (`source=rsi(14)`), which may pick one of its outputs by name
//! (`source=macd().histogram`). Only the syntax lives here; arguments are
//! typed and range-checked against each indicator's declared parameters when
//! it is looked up.

use std::fmt;
use std::sync::LazyLock;

/// One parsed call such as `macd(fast=12, slow=26)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorCall {
    pub id: String,
    pub args: Vec<Arg>,
    /// The output picked by `.name` after the call, as in `macd().histogram`.
    pub output: Option<String>,
}

/// An argument as written: positional (`20`) or named (`period=20`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: Option<String>,
    pub value: ArgValue,
}

/// What an argument holds: text (a number, a timeframe, a column or an
/// indicator id), or a call of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    Text(String),
    Call(Box<IndicatorCall>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{message} in '{token}' (syntax: sma(20),macd(fast=12,slow=26,signal=9),ema(9,source=rsi(14)))"
)]
pub struct CallSyntaxError {
    pub token: String,
    pub message: &'static str,
}

/// Longest accepted `indicators` value; longer ones are surely not meant.
const MAX_LEN: usize = 4_096;

/// Most calls on one chain of `source=` arguments, the outer call included.
pub const MAX_DEPTH: usize = 4;

/// The syntax as a regular expression, for the OpenAPI document: every
/// value [`parse_calls`] accepts matches it, so a value that does not is
/// surely refused. It is looser than the parser (a word is not checked to be
/// an id or a number, nor the length bounded); those refusals, like an
/// unknown indicator or a value out of range, are the parser's and the
/// registry's to explain.
pub static CALLS_PATTERN: LazyLock<String> = LazyLock::new(|| {
    const SPACE: &str = r"\s*";
    const WORD: &str = r"[A-Za-z0-9_.+-]*";
    /// A call whose arguments may hold calls `deeper` levels down.
    fn call(deeper: usize) -> String {
        let value = match deeper {
            0 => WORD.to_owned(),
            _ => format!("(?:{}|{WORD})", call(deeper - 1)),
        };
        let arg = format!("{SPACE}(?:{WORD}{SPACE}={SPACE})?{value}{SPACE}");
        format!(r"{WORD}{SPACE}(?:\({SPACE}(?:{arg}(?:,{arg})*)?\){SPACE}(?:\.{WORD})?)?")
    }
    let call = call(MAX_DEPTH - 1);
    format!("^{SPACE}(?:{call}{SPACE}(?:,{SPACE}{call}{SPACE})*)?$")
});

/// Parses the whole parameter. An empty or blank value means no indicators.
pub fn parse_calls(input: &str) -> Result<Vec<IndicatorCall>, CallSyntaxError> {
    if input.len() > MAX_LEN {
        return Err(error(
            &input[..input.floor_char_boundary(32)],
            "the list is too long",
        ));
    }
    if input.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut parser = Parser { input, at: 0 };
    let mut calls = Vec::new();
    loop {
        let call = parser.call(1)?;
        if call.output.is_some() {
            return Err(parser.error_at(
                parser.entry_start(),
                "'.output' picks an output only inside source=",
            ));
        }
        calls.push(call);
        parser.skip_spaces();
        match parser.next_char() {
            None => return Ok(calls),
            Some(',') => {}
            Some(_) => return Err(parser.error_at(parser.at - 1, "expected ',' between calls")),
        }
    }
}

fn error(token: &str, message: &'static str) -> CallSyntaxError {
    CallSyntaxError {
        token: token.chars().take(64).collect(),
        message,
    }
}

/// A recursive-descent reader over the text; depth is bounded by
/// [`MAX_DEPTH`], so hostile nesting cannot exhaust the stack.
struct Parser<'a> {
    input: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.input[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Where the entry being read began: after the last top-level comma.
    fn entry_start(&self) -> usize {
        self.entry_around(self.at).start
    }

    /// The top-level entry (one call as written) that holds byte `at`.
    fn entry_around(&self, at: usize) -> std::ops::Range<usize> {
        let mut depth = 0usize;
        let mut start = 0;
        for (i, c) in self.input.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 && i >= at => return start..i,
                ',' if depth == 0 => start = i + 1,
                _ => {}
            }
        }
        start..self.input.len()
    }

    /// The error, naming the call as written that holds byte `at`.
    fn error_at(&self, at: usize, message: &'static str) -> CallSyntaxError {
        let entry = self.entry_around(at.min(self.input.len()));
        let token = self.input[entry].trim();
        error(
            if token.is_empty() {
                self.input.trim()
            } else {
                token
            },
            message,
        )
    }

    /// A word: letters, digits, `_`, and the signs and dots of numbers.
    fn word(&mut self) -> &str {
        self.skip_spaces();
        let start = self.at;
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+')))
            .unwrap_or(self.rest().len());
        self.at += len;
        let word = &self.input[start..self.at];
        self.skip_spaces();
        word
    }

    fn call(&mut self, depth: usize) -> Result<IndicatorCall, CallSyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error_at(self.at, "calls nest at most 4 deep"));
        }
        let start = self.at;
        let word = self.word().to_owned();
        let (id, output) = match word.split_once('.') {
            Some((id, output)) => (id.to_owned(), Some(output.to_owned())),
            None => (word, None),
        };
        if id.is_empty() && self.peek().is_none_or(|c| c == ',') {
            return Err(self.error_at(start, "an empty entry"));
        }
        if !is_identifier(&id) {
            return Err(self.error_at(start, "an indicator id is letters, digits and '_'"));
        }
        let mut call = IndicatorCall {
            id: id.to_ascii_lowercase(),
            args: Vec::new(),
            output: None,
        };
        if output.is_some() {
            call.output = self.output_name(output, start)?;
            return Ok(call);
        }
        if self.peek() == Some('(') {
            self.next_char();
            self.skip_spaces();
            if self.peek() == Some(')') {
                self.next_char();
            } else {
                loop {
                    call.args.push(self.arg(depth, start)?);
                    match self.next_char() {
                        Some(',') => {}
                        Some(')') => break,
                        None => return Err(self.error_at(start, "missing ')'")),
                        Some(_) => {
                            return Err(self.error_at(start, "unexpected text in the arguments"));
                        }
                    }
                }
            }
            self.skip_spaces();
            if self.peek() == Some('.') {
                let word = self.word().to_owned();
                call.output = self.output_name(word.strip_prefix('.').map(str::to_owned), start)?;
            }
        }
        match self.peek() {
            None | Some(',' | ')') => Ok(call),
            Some('(') => Err(self.error_at(start, "nested parentheses")),
            Some(_) => Err(self.error_at(start, "text after ')'")),
        }
    }

    fn output_name(
        &self,
        name: Option<String>,
        start: usize,
    ) -> Result<Option<String>, CallSyntaxError> {
        match name {
            Some(name) if is_identifier(&name) => Ok(Some(name.to_ascii_lowercase())),
            _ => Err(self.error_at(start, "an output name is letters, digits and '_'")),
        }
    }

    fn arg(&mut self, depth: usize, call_start: usize) -> Result<Arg, CallSyntaxError> {
        self.skip_spaces();
        let start = self.at;
        let first = self.word().to_owned();
        if first.is_empty() && self.peek() != Some('=') {
            return Err(self.error_at(call_start, "an empty argument"));
        }
        if self.peek() == Some('=') {
            self.next_char();
            if !is_identifier(&first) {
                return Err(
                    self.error_at(call_start, "a parameter name is letters, digits and '_'")
                );
            }
            let value = self.value(depth, call_start)?;
            return Ok(Arg {
                name: Some(first.to_ascii_lowercase()),
                value,
            });
        }
        self.at = start;
        Ok(Arg {
            name: None,
            value: self.value(depth, call_start)?,
        })
    }

    fn value(&mut self, depth: usize, call_start: usize) -> Result<ArgValue, CallSyntaxError> {
        self.skip_spaces();
        let start = self.at;
        let word = self.word().to_owned();
        if word.is_empty() {
            return Err(self.error_at(call_start, "a parameter without a value"));
        }
        let is_call = self.peek() == Some('(')
            || word
                .split_once('.')
                .is_some_and(|(id, _)| is_identifier(id));
        if !is_call {
            return Ok(ArgValue::Text(word));
        }
        self.at = start;
        Ok(ArgValue::Call(Box::new(self.call(depth + 1)?)))
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl IndicatorCall {
    /// Calls on the longest chain of calls in arguments, this one included.
    pub fn depth(&self) -> usize {
        1 + self
            .inner_calls()
            .map(IndicatorCall::depth)
            .max()
            .unwrap_or(0)
    }

    /// This call and every call in its arguments, however deep.
    pub fn count(&self) -> usize {
        1 + self.inner_calls().map(IndicatorCall::count).sum::<usize>()
    }

    fn inner_calls(&self) -> impl Iterator<Item = &IndicatorCall> {
        self.args.iter().filter_map(|arg| match &arg.value {
            ArgValue::Call(call) => Some(&**call),
            ArgValue::Text(_) => None,
        })
    }
}

impl fmt::Display for IndicatorCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.id)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if let Some(name) = &arg.name {
                write!(f, "{name}=")?;
            }
            write!(f, "{}", arg.value)?;
        }
        f.write_str(")")?;
        if let Some(output) = &self.output {
            write!(f, ".{output}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Text(text) => f.write_str(text),
            ArgValue::Call(call) => write!(f, "{call}"),
        }
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
    fn parses_calls_in_arguments_and_picked_outputs() {
        assert_eq!(
            round_trip("ema(period=9,source=rsi(period=14)), sma(5, source = macd().histogram)"),
            [
                "ema(period=9,source=rsi(period=14))",
                "sma(5,source=macd().histogram)"
            ]
        );
        assert_eq!(
            round_trip("sma(source=macd.signal,timeframe=1d,align=open),wma(source=hl2)"),
            [
                "sma(source=macd().signal,timeframe=1d,align=open)",
                "wma(source=hl2)"
            ]
        );
        let calls = parse_calls("sma(source=ema(source=rsi(source=wma(3))))").expect("depth 4");
        assert_eq!((calls[0].depth(), calls[0].count()), (4, 4));
        assert_eq!(
            round_trip("bbands(20, -1e-3, 2.5)"),
            ["bbands(20,-1e-3,2.5)"]
        );
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
            "macd().histogram",
            "sma(source=rsi(14)",
            "sma(source=rsi(14)))",
            "sma(source=macd().)",
            "sma(source=ema(source=rsi(source=wma(source=sma(2)))))",
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
        let deep = format!("{}2{}", "sma(source=".repeat(300), ")".repeat(300));
        assert!(parse_calls(&deep).is_err());
    }

    /// Every value the parser takes matches the document's pattern, over
    /// random texts built of the grammar's pieces (seeded: any failure
    /// replays), so the pattern never turns away a call the server runs.
    #[test]
    fn the_pattern_holds_every_call_the_parser_takes() {
        use rand::{Rng, SeedableRng};
        let pattern = regex::Regex::new(&CALLS_PATTERN).expect("the pattern compiles");
        const PIECES: [&str; 22] = [
            "sma",
            "rsi",
            "macd",
            "(",
            ")",
            ",",
            "=",
            ".",
            " ",
            "\t",
            "20",
            "2.5",
            "-1",
            "+3",
            "source=",
            "timeframe=1d",
            "align=open",
            "histogram",
            "hl2",
            "rsi(14)",
            "macd().signal",
            "\u{a0}",
        ];
        let mut parsed = 0;
        for seed in [1_u64, 2, 3, 4, 5] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..4_000 {
                let len = rng.random_range(1..14);
                let text: String = (0..len)
                    .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                    .collect();
                if parse_calls(&text).is_ok() {
                    parsed += 1;
                    assert!(
                        pattern.is_match(&text),
                        "seed {seed}: {text:?} parses but does not match"
                    );
                }
            }
        }
        assert!(
            parsed > 500,
            "the texts reach the parser's successes: {parsed}"
        );
        for taken in [
            "",
            "  ",
            "sma(20),macd(fast=12, slow=26,signal=9), rsi",
            "ema(9,source=rsi(14)),sma(5,source=macd().histogram,timeframe=1d,align=forming)",
            "sma(source=ema(source=rsi(source=wma(2))))",
            "sma (20) ,ema( period = 9 )",
        ] {
            assert!(
                parse_calls(taken).is_ok() && pattern.is_match(taken),
                "{taken:?}"
            );
        }
        for refused in [
            "sma(source=ema(source=rsi(source=wma(source=sma(2)))))",
            "sma(20",
            "sma(20))",
            "sma(20) x",
            "sma;rsi",
            "sma(é)",
        ] {
            assert!(
                parse_calls(refused).is_err() && !pattern.is_match(refused),
                "{refused:?}"
            );
        }
    }
}
