//! Why a file cannot be imported, and where in it.

use std::fmt;
use std::path::PathBuf;

/// A file that cannot be imported: which file, where in it, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {problem}", file.display(), place.as_ref().map(ToString::to_string).unwrap_or_default())]
pub struct ImportError {
    pub file: PathBuf,
    pub place: Option<Place>,
    pub problem: Problem,
}

/// A line of the file (counted from 1, the header included) and, where one
/// field is at fault, its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub line: u64,
    pub column: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{}", self.line)?;
        match &self.column {
            Some(column) => write!(f, ": column '{column}'"),
            None => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Csv(String),
    #[error("the file holds no bars")]
    Empty,
    #[error(
        "no time column: name one date, time, datetime or timestamp, or put the time first \
         (the header has: {})",
        .header.join(", ")
    )]
    NoTimeColumn { header: Vec<String> },
    #[error("no '{name}' column (the header has: {})", .header.join(", "))]
    NoValueColumn {
        name: &'static str,
        header: Vec<String>,
    },
    #[error("{found} fields where the header names {expected}")]
    FieldCount { found: usize, expected: usize },
    #[error("'{value}' is not a number")]
    NotANumber { value: String },
    #[error(
        "'{value}' is not a time in the format of the rows before ({format}); \
         name the format with --time-format, e.g. --time-format '%d/%m/%Y %H:%M'"
    )]
    BadTime { value: String, format: String },
    #[error(
        "cannot tell what time '{value}' is: not Unix time, a date or a date-time Candela \
         knows; name the format with --time-format, e.g. --time-format '%d/%m/%Y %H:%M'"
    )]
    UnknownTimeFormat { value: String },
    #[error("'{value}' is outside the years 1677–2262, which Candela's times cover")]
    TimeOutOfRange { value: String },
    #[error(
        "cannot tell the timeframe from the times (their most common step is {step}); \
         pass --timeframe, e.g. --timeframe 1m"
    )]
    UnknownTimeframe { step: String },
    #[error(
        "--end-times shifts minute and hour bars to their start; {timeframe} bars are \
         labelled by their day already"
    )]
    EndTimesOfCalendarBars { timeframe: String },
    #[error("'{name}' cannot be a folder name of the data root: {why}")]
    BadName { name: String, why: &'static str },
    #[error("already exists; pass --replace to overwrite it")]
    Exists,
    #[error(
        "{bars} of the new bars are at or before the series' last bar ({last}): an append adds bars after it; \
         pass --replace to replace the series' bars from the first new one on"
    )]
    NotAfter { bars: usize, last: String },
    #[error("cannot be written: {0}")]
    Write(String),
}
