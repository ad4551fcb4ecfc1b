//! What a call reads with `source=`: a column of the bars (`close` unless
//! told), or the output of another call.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::evaluate::ResolvedCall;
use crate::frame::BarColumns;

/// A column of the bars, or a price derived from one bar's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PriceColumn {
    Open,
    High,
    Low,
    #[default]
    Close,
    Volume,
    /// (high + low) / 2
    Hl2,
    /// (high + low + close) / 3
    Hlc3,
    /// (open + high + low + close) / 4
    Ohlc4,
}

impl PriceColumn {
    pub const ALL: [PriceColumn; 8] = [
        PriceColumn::Open,
        PriceColumn::High,
        PriceColumn::Low,
        PriceColumn::Close,
        PriceColumn::Volume,
        PriceColumn::Hl2,
        PriceColumn::Hlc3,
        PriceColumn::Ohlc4,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PriceColumn::Open => "open",
            PriceColumn::High => "high",
            PriceColumn::Low => "low",
            PriceColumn::Close => "close",
            PriceColumn::Volume => "volume",
            PriceColumn::Hl2 => "hl2",
            PriceColumn::Hlc3 => "hlc3",
            PriceColumn::Ohlc4 => "ohlc4",
        }
    }

    pub fn from_name(name: &str) -> Option<PriceColumn> {
        PriceColumn::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The column's values over `bars`: borrowed when stored as such.
    pub fn values<'a>(self, bars: &BarColumns<'a>) -> Cow<'a, [f64]> {
        let mean = |columns: &[&[f64]]| -> Cow<'a, [f64]> {
            let n = columns.len() as f64;
            Cow::Owned(
                (0..bars.len())
                    .map(|i| columns.iter().map(|c| c[i]).sum::<f64>() / n)
                    .collect(),
            )
        };
        match self {
            PriceColumn::Open => Cow::Borrowed(bars.open),
            PriceColumn::High => Cow::Borrowed(bars.high),
            PriceColumn::Low => Cow::Borrowed(bars.low),
            PriceColumn::Close => Cow::Borrowed(bars.close),
            PriceColumn::Volume => Cow::Borrowed(bars.volume),
            PriceColumn::Hl2 => mean(&[bars.high, bars.low]),
            PriceColumn::Hlc3 => mean(&[bars.high, bars.low, bars.close]),
            PriceColumn::Ohlc4 => mean(&[bars.open, bars.high, bars.low, bars.close]),
        }
    }
}

impl fmt::Display for PriceColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The series a call computes on.
#[derive(Debug, Clone)]
pub enum Source {
    Column(PriceColumn),
    /// Output `output` of another call, computed on the same bars.
    Call {
        call: Arc<ResolvedCall>,
        output: usize,
    },
}

impl Default for Source {
    fn default() -> Self {
        Source::Column(PriceColumn::Close)
    }
}

impl Source {
    /// Whether this is the close, which a call reads unless told otherwise
    /// (and its key leaves unsaid).
    pub fn is_default(&self) -> bool {
        matches!(self, Source::Column(PriceColumn::Close))
    }

    /// How the canonical key writes it: the column's name, or the call's key
    /// with the output's name when the call has several.
    pub fn key(&self) -> String {
        match self {
            Source::Column(column) => column.name().to_owned(),
            Source::Call { call, output } => {
                let outputs = &call.indicator.spec().outputs;
                if outputs.len() == 1 {
                    call.key.clone()
                } else {
                    format!("{}.{}", call.key, outputs[*output].name)
                }
            }
        }
    }
}
