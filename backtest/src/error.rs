//! Why a run could not be read, and where: the run, the file, the row and
//! the column, each as data, so that the API can point at them.

use std::fmt;

use serde::Serialize;

/// A run that cannot be shown. Its neighbours are unaffected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("run '{run}': {place}{problem}")]
pub struct RunError {
    /// The run's folder name.
    pub run: String,
    /// Boxed: a small `Err` keeps every `Result` small.
    pub place: Box<Place>,
    pub problem: Box<Problem>,
}

impl RunError {
    /// The stable code of this kind of failure, for programs.
    pub fn code(&self) -> &'static str {
        match *self.problem {
            Problem::Symbol(_) | Problem::NoSymbol | Problem::NoBars(_) => "run_symbol",
            Problem::TooLarge { .. } | Problem::TooManyRows { .. } => "run_too_large",
            _ => "run_invalid",
        }
    }
}

/// Where in a run a problem is; every part is optional.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Place {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The row: a CSV file's line (the header is line 1), a parquet file's
    /// row counted from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Row {
    /// A line of a CSV file.
    Line(u64),
    /// A row of a parquet file, from 1.
    Row(u64),
}

impl fmt::Display for Place {
    /// `trades.csv, line 12, column 'entry_time': `, or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.clone());
        }
        match self.row {
            Some(Row::Line(n)) => parts.push(format!("line {n}")),
            Some(Row::Row(n)) => parts.push(format!("row {n}")),
            None => {}
        }
        if let Some(column) = &self.column {
            parts.push(format!("column '{column}'"));
        }
        if parts.is_empty() {
            Ok(())
        } else {
            write!(f, "{}: ", parts.join(", "))
        }
    }
}

/// What is wrong, with what it is about.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("cannot read it: {0}")]
    Io(String),
    #[error("no trades: add trades.parquet or trades.csv (see docs/runs.md)")]
    NoTrades,
    #[error(
        "the file is {size_mib} MiB, more than the {limit_mib} MiB a run's file may have; raise max_run_file_mb to read it"
    )]
    TooLarge { size_mib: u64, limit_mib: u64 },
    #[error(
        "the file claims {rows} rows, more than the {limit} a run's file may have; raise max_run_rows to read it"
    )]
    TooManyRows { rows: u64, limit: u64 },
    #[error("not a readable {format} file ({detail})")]
    Unreadable {
        format: &'static str,
        detail: String,
    },
    #[error("run.toml: {0}")]
    Manifest(String),
    #[error("no {wanted} column (columns: {found}); see docs/runs.md for the names read")]
    MissingColumn { wanted: &'static str, found: String },
    #[error("has type {found}, expected {expected}")]
    WrongType {
        found: String,
        expected: &'static str,
    },
    #[error("cannot read '{value}' as {expected}")]
    BadValue {
        value: String,
        expected: &'static str,
    },
    #[error("a time outside the years 1677–2262")]
    TimeOutOfRange,
    #[error("is empty; {0}")]
    Empty(&'static str),
    #[error("is {0}; a price, size or PnL must be a finite number")]
    NotFinite(f64),
    #[error("is zero; {0}")]
    Zero(&'static str),
    #[error("the side is '{side}' but the size is {size}: a signed size and a side must agree")]
    SideDisagrees { side: String, size: f64 },
    #[error("the exit ({exit}) is before the entry ({entry})")]
    ExitBeforeEntry { entry: String, exit: String },
    #[error(
        "an exit time without an exit price, or the other way round; leave both empty for a trade still open"
    )]
    HalfExit,
    #[error("the times are not increasing ({earlier} after {later})")]
    NotIncreasing { earlier: String, later: String },
    #[error("{0}: a run's symbols must be in the data root (import their bars, or fix the name)")]
    Symbol(candela_core::catalog::ResolveError),
    #[error(
        "the trades name no symbol: add a symbol column, or name the one symbol in run.toml (symbols = [\"PROVIDER:SYMBOL\"])"
    )]
    NoSymbol,
    #[error(
        "no bars of {0} cover the trades, so the equity curve cannot be derived; add equity.csv or equity.parquet"
    )]
    NoBars(String),
    #[error("{0}")]
    Bars(String),
    #[error("has no rows")]
    NoRows,
}
