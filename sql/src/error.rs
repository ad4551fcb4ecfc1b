//! Why a query was not answered, each reason one thing the caller can act on.

use std::time::Duration;

use candela_core::indicator::{ComputeError, ComputeErrorKind};
use datafusion::error::DataFusionError;

use crate::generated::GeneratedRowsExceeded;
use crate::interrupt::TimeLimitExceeded;
use crate::value_size::ValueTooLarge;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// Not a read-only query over the catalog: DDL, DML, `COPY`, `SET`,
    /// several statements, an over-long or too deeply nested text, a table
    /// outside the catalog.
    #[error("{0}")]
    Refused(String),
    /// The query does not parse or plan: a syntax error, an unknown column,
    /// function or symbol, a bad indicator parameter. `position` is where
    /// the parser or planner points, when it does.
    #[error("{message}")]
    Invalid {
        message: String,
        position: Option<Position>,
    },
    /// The query ran and failed on its own terms (a failed cast, a division
    /// by zero).
    #[error("{0}")]
    Failed(String),
    #[error(
        "the query ran longer than the time limit of {} s and was cancelled; \
         narrow it (a WHERE on time, a smaller table) or raise sql.time_limit_ms",
        .0.as_secs_f64()
    )]
    TimeLimit(Duration),
    #[error(
        "the query needed more memory than the limit of {limit_mb} MiB and was stopped \
         ({detail}); narrow it or raise sql.memory_limit_mb"
    )]
    MemoryLimit { limit_mb: usize, detail: String },
    /// The query would generate more rows, or build larger values, than
    /// the limits allow.
    #[error("{0}")]
    OutputLimit(String),
    #[error(
        "{0} SQL queries are already running, the most allowed at once \
         (sql.max_concurrent); retry shortly"
    )]
    Busy(usize),
    /// An indicator (a plugin, perhaps) failed while computing.
    #[error(transparent)]
    Indicator(ComputeError),
    /// The stored data could not be read, or the engine failed.
    #[error("{0}")]
    Internal(String),
}

/// A place in the query text, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    /// The place a parser message ends with: sqlparser writes
    /// `… at Line: 1, Column: 8`.
    pub(crate) fn in_parser_message(message: &str) -> Option<Position> {
        let (_, place) = message.rsplit_once(" at Line: ")?;
        let (line, column) = place.split_once(", Column: ")?;
        let digits = |text: &str| -> Option<u64> {
            let end = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            text[..end].parse().ok().filter(|&n| n > 0)
        };
        Some(Position {
            line: digits(line)?,
            column: digits(column)?,
        })
    }

    /// Where DataFusion's diagnostic for `error` starts, if it has one.
    fn of_diagnostic(error: &DataFusionError) -> Option<Position> {
        let start = error.diagnostic()?.span?.start;
        (start.line > 0 && start.column > 0).then_some(Position {
            line: start.line,
            column: start.column,
        })
    }
}

impl SqlError {
    /// A query that does not parse or plan, at `position` if known.
    pub(crate) fn invalid(message: impl Into<String>, position: Option<Position>) -> SqlError {
        SqlError::Invalid {
            message: message.into(),
            position,
        }
    }

    /// Classifies an error DataFusion returned, looking through the wrappers
    /// it puts around errors raised in our own operators and functions.
    pub(crate) fn from_datafusion(error: DataFusionError, memory_limit_mb: usize) -> SqlError {
        let message = clean(&error);
        if let Some(limit) = find::<TimeLimitExceeded>(&error) {
            return SqlError::TimeLimit(limit.0);
        }
        if let Some(limit) = find::<GeneratedRowsExceeded>(&error) {
            return SqlError::OutputLimit(limit.to_string());
        }
        if let Some(limit) = find::<ValueTooLarge>(&error) {
            return SqlError::OutputLimit(limit.to_string());
        }
        if let Some(compute) = find::<ComputeError>(&error) {
            return SqlError::Indicator(compute.clone());
        }
        if find::<candela_core::Error>(&error).is_some() {
            return SqlError::Internal(message);
        }
        // A cluster's task failed: its error came back as text.
        if let Some(detail) = remote_resources_exhausted(&message) {
            return SqlError::MemoryLimit {
                limit_mb: memory_limit_mb,
                detail,
            };
        }
        if let Some(limit) = remote_value_too_large(&message) {
            return SqlError::OutputLimit(limit.to_string());
        }
        match error.find_root() {
            DataFusionError::ResourcesExhausted(detail) => SqlError::MemoryLimit {
                limit_mb: memory_limit_mb,
                detail: detail.lines().next().unwrap_or_default().to_owned(),
            },
            DataFusionError::SQL(..)
            | DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_)
            | DataFusionError::Configuration(_) => {
                let position = Position::of_diagnostic(&error).or_else(|| {
                    matches!(error.find_root(), DataFusionError::SQL(..))
                        .then(|| Position::in_parser_message(&message))
                        .flatten()
                });
                SqlError::invalid(with_hint(message), position)
            }
            DataFusionError::Internal(_)
            | DataFusionError::IoError(_)
            | DataFusionError::ObjectStore(_)
            | DataFusionError::ParquetError(_) => SqlError::Internal(message),
            _ => SqlError::Failed(message),
        }
    }

    /// The stable name of the reason, as `/api/sql` and Flight SQL give it.
    pub fn code(&self) -> &'static str {
        match self {
            SqlError::Indicator(e) => e.kind.code(),
            SqlError::Refused(_) => "sql_refused",
            SqlError::Invalid { .. } => "sql_invalid",
            SqlError::Failed(_) => "sql_failed",
            SqlError::TimeLimit(_) => "sql_time_limit",
            SqlError::MemoryLimit { .. } => "sql_memory_limit",
            SqlError::OutputLimit(_) => "sql_output_limit",
            SqlError::Busy(_) => "sql_busy",
            SqlError::Internal(_) => "sql_internal",
        }
    }

    /// Where in the query the parser or planner points, if it does.
    pub fn position(&self) -> Option<Position> {
        match self {
            SqlError::Invalid { position, .. } => *position,
            _ => None,
        }
    }

    /// Whether the query, rather than the server, is to blame.
    pub fn is_client_error(&self) -> bool {
        match self {
            SqlError::Indicator(e) => e.kind == ComputeErrorKind::Refused,
            SqlError::Internal(_) => false,
            _ => true,
        }
    }
}

/// What ran out, when `message` is a Ballista job's failure whose task ran
/// out of memory: Ballista sends a task's error back as its debug text,
/// `…ResourcesExhausted("what")…`.
fn remote_resources_exhausted(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("ResourcesExhausted(")?;
    let detail = rest.trim_start_matches(['\\', '"']);
    let end = detail.find(['\\', '"']).unwrap_or(detail.len());
    Some(detail[..end].to_owned())
}

/// The cap a function's value went over, when `message` is a Ballista
/// job's failure that names it: `…ValueTooLarge { function: "repeat",
/// bytes: 2000000000, limit: 67108864 }…`.
fn remote_value_too_large(message: &str) -> Option<ValueTooLarge> {
    let (_, rest) = message.split_once("ValueTooLarge {")?;
    let (fields, _) = rest.split_once('}')?;
    let field = |name: &str| {
        fields.split(',').find_map(|pair| {
            let (key, value) = pair.split_once(':')?;
            (key.trim() == name).then(|| value.trim().trim_matches(['\\', '"']).to_owned())
        })
    };
    Some(ValueTooLarge {
        function: field("function")?,
        bytes: field("bytes")?.parse().ok()?,
        limit: field("limit")?.parse().ok()?,
    })
}

/// The first error of type `T` in the chain below `error`.
fn find<T: std::error::Error + 'static>(error: &DataFusionError) -> Option<&T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(DataFusionError::External(inner)) = e.downcast_ref::<DataFusionError>()
            && let Some(found) = inner.downcast_ref::<T>()
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// DataFusion's message without its category prefixes and backtrace hints,
/// which say nothing to someone who wrote SQL.
fn clean(error: &DataFusionError) -> String {
    let root = error.find_root();
    let text = match root {
        DataFusionError::Plan(m)
        | DataFusionError::Execution(m)
        | DataFusionError::NotImplemented(m)
        | DataFusionError::Configuration(m)
        | DataFusionError::Internal(m) => m.clone(),
        DataFusionError::External(e) => e.to_string(),
        other => other.to_string(),
    };
    let line = text.lines().next().unwrap_or_default().trim();
    // Some messages embed a whole plan or expression tree.
    match line.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_owned(),
    }
}

/// A table that does not exist: say which ones do.
fn with_hint(message: String) -> String {
    if message.starts_with("table '") && message.ends_with("not found") {
        format!("{message}; Candela's tables are bars and bars('SYMBOL', 'TIMEFRAME')")
    } else {
        message
    }
}

/// Longest error message passed on, in characters.
const MAX_MESSAGE_CHARS: usize = 600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_task_out_of_memory_is_the_memory_limit() {
        let message = "Job 1 failed: Job failed due to stage 1 failed: Task failed due to runtime execution error: \
            DataFusionError(Shared(External(DataFusionError(ResourcesExhausted(\"Memory Exhausted while Sorting (DiskManager is disabled)\")))))";
        let error = SqlError::from_datafusion(DataFusionError::Execution(message.into()), 16);
        match error {
            SqlError::MemoryLimit { limit_mb, detail } => {
                assert_eq!(limit_mb, 16);
                assert_eq!(
                    detail,
                    "Memory Exhausted while Sorting (DiskManager is disabled)"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(remote_resources_exhausted("Job 1 failed: a division by zero").is_none());
        let message = "Job 2 failed: Task failed due to runtime execution error: \
            DataFusionError(Shared(External(DataFusionError(External(ValueTooLarge { function: \"repeat\", bytes: 2000000000, limit: 67108864 })))))";
        match SqlError::from_datafusion(DataFusionError::Execution(message.into()), 16) {
            SqlError::OutputLimit(text) => {
                assert!(
                    text.starts_with("repeat would build about 1907 MiB"),
                    "{text}"
                );
                assert!(
                    text.contains("64 MiB that sql.max_value_mb allows"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
