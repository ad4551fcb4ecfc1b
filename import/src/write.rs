//! Writing a series where Candela finds it:
//! `<root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/<name>.parquet`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::SymbolId;
use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::columns::VALUES;
use crate::error::{ImportError, Problem};
use crate::series::Series;
use crate::time::TimeKind;

/// Where a series went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Other parquet files in the same folder: Candela reads them all as
    /// one series, the first file by name winning a repeated time.
    pub beside: Vec<PathBuf>,
}

/// Writes `series` as `symbol`'s file `name` (`name.parquet`) under `root`;
/// an existing file is replaced only if `replace`.
pub fn write_series(
    series: &Series,
    root: &Path,
    symbol: &SymbolId,
    name: &str,
    replace: bool,
) -> Result<Written, ImportError> {
    let folder = series_folder(root, symbol, series.timeframe)?;
    let path = folder.join(format!("{}.parquet", folder_name(name)?));
    let fail = |problem| ImportError {
        file: path.clone(),
        place: None,
        problem,
    };
    if path.exists() && !replace {
        return Err(fail(Problem::Exists));
    }
    std::fs::create_dir_all(&folder).map_err(|e| fail(Problem::Io(e)))?;
    let batch = record_batch(series).map_err(|e| fail(Problem::Write(e.to_string())))?;
    candela_core::write::write_parquet(&batch, &path, "candela import")
        .map_err(|e| fail(Problem::Write(e.to_string())))?;
    let mut beside: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| fail(Problem::Io(e)))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p != &path && p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    beside.sort();
    Ok(Written { path, beside })
}

/// `<root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>`, when the names can be folders.
pub(crate) fn series_folder(
    root: &Path,
    symbol: &SymbolId,
    timeframe: candela_core::Timeframe,
) -> Result<PathBuf, ImportError> {
    Ok(root
        .join(folder_name(&symbol.provider)?)
        .join(folder_name(&symbol.symbol)?)
        .join(timeframe.to_string()))
}

/// `name` if it can be one folder (or file) name of the data root, which
/// Candela finds by scanning: no separators, no `:` (it splits
/// `PROVIDER:SYMBOL`), not hidden, printable.
fn folder_name(name: &str) -> Result<&str, ImportError> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.starts_with('.') {
        Some("it starts with '.'")
    } else if name.contains(['/', '\\', ':']) {
        Some("it holds '/', '\\' or ':'")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else if name.chars().count() > 120 {
        Some("it is longer than 120 characters")
    } else {
        None
    };
    match why {
        None => Ok(name),
        Some(why) => Err(ImportError {
            file: PathBuf::from(name),
            place: None,
            problem: Problem::BadName {
                name: name.chars().take(40).collect(),
                why,
            },
        }),
    }
}

/// The series with a `timestamp` column (UTC instants, or naive wall-clock
/// times that Candela reads in the provider's zone) and the value columns,
/// a missing value (or a missing volume column) as null.
pub(crate) fn record_batch(
    series: &Series,
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let zone = match series.kind() {
        TimeKind::Instant => Some("UTC".into()),
        TimeKind::WallClock => None,
    };
    let mut fields = vec![Field::new(
        "timestamp",
        DataType::Timestamp(TimeUnit::Nanosecond, zone.clone()),
        false,
    )];
    let time = TimestampNanosecondArray::from(series.times.clone()).with_timezone_opt(zone);
    let mut columns: Vec<ArrayRef> = vec![Arc::new(time)];
    // Every value column, volume too: a file without one gets it empty, as
    // Candela's files must have all five.
    for (name, values) in VALUES.iter().zip(&series.values) {
        fields.push(Field::new(*name, DataType::Float64, true));
        let values: Float64Array = values.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
        columns.push(Arc::new(values));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_leave_or_hide_in_the_folder_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "ALPACA:NFLX",
            "a\nb",
        ] {
            assert!(folder_name(bad).is_err(), "{bad:?}");
        }
        for good in ["NFLX", "BRK.B", "^GSPC", "eur-usd", "nflx_1m"] {
            assert_eq!(folder_name(good).expect(good), good);
        }
    }
}
