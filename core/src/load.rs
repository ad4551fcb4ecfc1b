//! Reading a stored series — the parquet files of one timeframe folder — into
//! a [`BarFrame`]: find the time column, normalise units and zones, cast the
//! values to f64, then merge files in time order keeping each timestamp once.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, TimestampNanosecondArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Schema, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::frame::{BarFrame, VALUE_COLUMNS};
use crate::zone::LocalToUtc;

/// Column names that hold the time when no pandas index says otherwise.
const TIME_NAMES: [&str; 4] = ["datetime", "timestamp", "time", "date"];

/// Why a stored series could not be read. Names the file, relative to the
/// data root, so that the message points at what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct LoadError {
    pub file: String,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("not a readable parquet file ({0})")]
    Unreadable(String),
    #[error("no '{0}' column (columns: {1})")]
    MissingColumn(&'static str, String),
    #[error(
        "no time column: expected a pandas DatetimeIndex or a column named datetime, timestamp, time or date (columns: {0})"
    )]
    NoTimeColumn(String),
    #[error("column '{0}' has type {1}, expected {2}")]
    WrongType(String, DataType, &'static str),
    #[error("the time column has {0} empty values")]
    NullTimes(usize),
    #[error("a timestamp is outside the years 1677–2262")]
    TimeOutOfRange,
}

/// Reads and merges the parquet files of one series (sorted by name: on
/// duplicate timestamps the first file wins).
pub fn load_series(files: &[PathBuf], zone: Tz, root: &Path) -> Result<BarFrame, LoadError> {
    let mut parts = Vec::with_capacity(files.len());
    for path in files {
        let relative = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let columns = read_file(path, zone).map_err(|problem| LoadError {
            file: relative,
            problem,
        })?;
        parts.extend(columns);
    }
    Ok(merge(parts))
}

/// Canonical columns of one file or batch, not yet sorted.
struct Columns {
    time: TimestampNanosecondArray,
    values: [Float64Array; 5],
}

/// Files with fewer rows are decoded on one thread: spawning costs more than it saves.
const PARALLEL_ROWS: usize = 65_536;

fn read_file(path: &Path, zone: Tz) -> Result<Vec<Columns>, Problem> {
    let file = File::open(path).map_err(|e| unreadable(&e))?;
    if file.metadata().map_err(|e| unreadable(&e))?.len() == 0 {
        tracing::warn!(file = %path.display(), "empty file, read as no bars");
        return Ok(Vec::new());
    }
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| unreadable(&e))?;
    let pandas_index = metadata
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == "pandas"))
        .and_then(|e| e.value.as_deref())
        .and_then(pandas_time_index);
    let layout = Layout::find(metadata.schema(), pandas_index.as_deref())?;
    let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
    let groups = column_groups(&metadata, &layout.roots(), rows);
    let decoded: Vec<Vec<RecordBatch>> = crate::parallel::on_threads(
        groups
            .iter()
            .map(|columns| || read_columns(path, &metadata, columns, rows))
            .collect(),
    )
    .into_iter()
    .map(|decoded| {
        decoded.unwrap_or_else(|_| Err(Problem::Unreadable("the parquet decoder panicked".into())))
    })
    .collect::<Result<_, _>>()?;
    // Every group yields one batch per row group; put each batch's columns
    // back in schema order before normalising.
    let batches = decoded.first().map_or(0, Vec::len);
    (0..batches)
        .map(|i| {
            let mut parts = Vec::with_capacity(layout.roots().len());
            for (columns, group) in groups.iter().zip(&decoded) {
                let batch = group.get(i).ok_or_else(|| {
                    Problem::Unreadable("columns disagree on their number of rows".into())
                })?;
                parts.extend(
                    columns
                        .iter()
                        .zip(batch.schema().fields().iter().cloned())
                        .zip(batch.columns().iter().cloned()),
                );
            }
            parts.sort_unstable_by_key(|((root, _), _)| *root);
            let (fields, columns): (Vec<_>, Vec<_>) = parts
                .into_iter()
                .map(|((_, field), column)| (field, column))
                .unzip();
            let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
                .map_err(|e| unreadable(&e))?;
            layout.normalise(&batch, zone)
        })
        .collect()
}

fn unreadable(e: &dyn std::fmt::Display) -> Problem {
    Problem::Unreadable(e.to_string())
}

/// Splits the columns to decode between threads, balanced by their estimated
/// decoding cost: parquet decodes column by column. The cost has a part per
/// byte (decompressing, copying) and a part per value (dictionary lookups);
/// measured on 1M-row files, a value costs about as much as 1.5 bytes.
fn column_groups(metadata: &ArrowReaderMetadata, roots: &[usize], rows: usize) -> Vec<Vec<usize>> {
    let threads = if rows < PARALLEL_ROWS {
        1
    } else {
        crate::parallel::cores().min(roots.len())
    };
    let parquet = metadata.metadata();
    let weight = |root: usize| -> i64 {
        parquet
            .row_groups()
            .iter()
            .filter_map(|group| group.columns().get(root))
            .map(|chunk| chunk.uncompressed_size() + chunk.num_values() * 3 / 2)
            .sum()
    };
    let mut by_weight: Vec<(i64, usize)> = roots.iter().map(|&r| (weight(r), r)).collect();
    by_weight.sort_unstable_by(|a, b| b.cmp(a));
    let mut groups = vec![(0_i64, Vec::new()); threads];
    for (weight, root) in by_weight {
        if let Some(lightest) = groups.iter_mut().min_by_key(|(load, _)| *load) {
            lightest.0 += weight;
            lightest.1.push(root);
        }
    }
    groups
        .into_iter()
        .filter(|(_, columns)| !columns.is_empty())
        .map(|(_, mut columns)| {
            columns.sort_unstable();
            columns
        })
        .collect()
}

/// Decodes the root columns `columns` (ascending) of a file, a batch per row group.
fn read_columns(
    path: &Path,
    metadata: &ArrowReaderMetadata,
    columns: &[usize],
    rows: usize,
) -> Result<Vec<RecordBatch>, Problem> {
    let file = File::open(path).map_err(|e| unreadable(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), columns.iter().copied());
    builder
        .with_projection(mask)
        .with_batch_size(rows.clamp(1, 1 << 20))
        .build()
        .map_err(|e| unreadable(&e))?
        .map(|batch| batch.map_err(|e| unreadable(&e)))
        .collect()
}

/// The name of the pandas DatetimeIndex column, from the `pandas` footer entry
/// that `DataFrame.to_parquet` writes.
fn pandas_time_index(json: &str) -> Option<String> {
    let meta: serde_json::Value = serde_json::from_str(json).ok()?;
    meta.get("index_columns")?
        .as_array()?
        .iter()
        .find_map(|c| c.as_str().map(str::to_owned))
}

/// Where the time and value columns are in a file's schema.
struct Layout {
    time: usize,
    values: [usize; 5],
}

impl Layout {
    fn find(schema: &Schema, pandas_index: Option<&str>) -> Result<Layout, Problem> {
        let names = || {
            let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            all.join(", ")
        };
        let position = |wanted: &str| {
            schema
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(wanted))
        };
        let is_temporal = |i: &usize| {
            matches!(
                schema.field(*i).data_type(),
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
            )
        };
        let time = pandas_index
            .and_then(|name| schema.index_of(name).ok())
            .filter(is_temporal)
            .or_else(|| TIME_NAMES.iter().find_map(|n| position(n)))
            .ok_or_else(|| Problem::NoTimeColumn(names()))?;
        let mut values = [0; 5];
        for (slot, name) in values.iter_mut().zip(VALUE_COLUMNS) {
            *slot = position(name).ok_or_else(|| Problem::MissingColumn(name, names()))?;
        }
        Ok(Layout { time, values })
    }

    /// Root column indices to read; the projected batch keeps schema order.
    fn roots(&self) -> Vec<usize> {
        let mut roots = vec![self.time];
        roots.extend(self.values);
        roots.sort_unstable();
        roots
    }

    fn normalise(&self, batch: &RecordBatch, zone: Tz) -> Result<Columns, Problem> {
        let roots = self.roots();
        let column = |root: usize| {
            let projected = roots.iter().position(|&r| r == root).unwrap_or(0);
            (
                batch.schema().field(projected).name().clone(),
                batch.column(projected),
            )
        };
        let (time_name, time) = column(self.time);
        let time = time_nanos(&time_name, time, zone)?;
        let mut values = Vec::with_capacity(5);
        for root in self.values {
            let (name, array) = column(root);
            values.push(as_f64(&name, array)?);
        }
        let values = values
            .try_into()
            .unwrap_or_else(|_| unreachable!("five value columns"));
        Ok(Columns { time, values })
    }
}

/// Instants in UTC nanoseconds. Zoned timestamps are instants already; naive
/// ones (and dates) are wall-clock times in the provider's zone.
fn time_nanos(name: &str, array: &ArrayRef, zone: Tz) -> Result<TimestampNanosecondArray, Problem> {
    if array.null_count() > 0 {
        return Err(Problem::NullTimes(array.null_count()));
    }
    let (scale, zoned): (i64, bool) = match array.data_type() {
        DataType::Timestamp(unit, tz) => (
            match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            },
            tz.is_some(),
        ),
        DataType::Date32 => (86_400_000_000_000, false),
        DataType::Date64 => (1_000_000, false),
        other => {
            return Err(Problem::WrongType(
                name.to_owned(),
                other.clone(),
                "a timestamp or date",
            ));
        }
    };
    let raw: Vec<i64> = match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => array
            .as_primitive::<TimestampSecondType>()
            .values()
            .to_vec(),
        DataType::Timestamp(TimeUnit::Millisecond, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .values()
            .to_vec(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => array
            .as_primitive::<TimestampMicrosecondType>()
            .values()
            .to_vec(),
        DataType::Timestamp(TimeUnit::Nanosecond, _) if zoned || zone == Tz::UTC => {
            // Already canonical: share the buffer instead of copying it.
            let values = array
                .as_primitive::<TimestampNanosecondType>()
                .values()
                .clone();
            return Ok(TimestampNanosecondArray::new(values, None).with_timezone("UTC"));
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => array
            .as_primitive::<TimestampNanosecondType>()
            .values()
            .to_vec(),
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .values()
            .iter()
            .map(|&d| i64::from(d))
            .collect(),
        _ => array.as_primitive::<Date64Type>().values().to_vec(),
    };
    let mut nanos = Vec::with_capacity(raw.len());
    for value in raw {
        nanos.push(value.checked_mul(scale).ok_or(Problem::TimeOutOfRange)?);
    }
    if !zoned && zone != Tz::UTC {
        let mut to_utc = LocalToUtc::new(zone);
        for t in &mut nanos {
            *t = to_utc.convert(*t);
        }
    }
    Ok(TimestampNanosecondArray::from(nanos).with_timezone("UTC"))
}

/// Any numeric column as f64, a missing value becoming NaN.
fn as_f64(name: &str, array: &ArrayRef) -> Result<Float64Array, Problem> {
    let wrong = || Problem::WrongType(name.to_owned(), array.data_type().clone(), "a number");
    if !array.data_type().is_numeric() {
        return Err(wrong());
    }
    let floats = cast(array, &DataType::Float64).map_err(|_| wrong())?;
    let floats = floats.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    if floats.null_count() == 0 {
        return Ok(Float64Array::new(floats.values().clone(), None));
    }
    Ok(floats.iter().map(|v| Some(v.unwrap_or(f64::NAN))).collect())
}

/// Concatenates parts in order, then sorts by time (stably, so the earliest
/// part wins among equal timestamps) and keeps each timestamp once.
fn merge(parts: Vec<Columns>) -> BarFrame {
    let frame = match parts.len() {
        0 => return BarFrame::empty(),
        1 => parts.into_iter().next().map(frame_of),
        _ => {
            let time: Vec<&dyn Array> = parts.iter().map(|p| &p.time as &dyn Array).collect();
            let mut columns = vec![concat(&time)];
            for i in 0..5 {
                let values: Vec<&dyn Array> =
                    parts.iter().map(|p| &p.values[i] as &dyn Array).collect();
                columns.push(concat(&values));
            }
            columns
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .and_then(|c| RecordBatch::try_new(BarFrame::schema(), c).ok())
                .and_then(|b| BarFrame::from_batches(&[b]).ok())
        }
    };
    let frame =
        frame.unwrap_or_else(|| unreachable!("normalised columns fit the canonical schema"));
    sort_unique(frame)
}

fn frame_of(columns: Columns) -> BarFrame {
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(columns.time)];
    arrays.extend(columns.values.map(|v| Arc::new(v) as ArrayRef));
    RecordBatch::try_new(BarFrame::schema(), arrays)
        .ok()
        .and_then(|b| BarFrame::from_batches(&[b]).ok())
        .unwrap_or_else(|| unreachable!("normalised columns fit the canonical schema"))
}

fn sort_unique(frame: BarFrame) -> BarFrame {
    let time = frame.time();
    if strictly_increasing(time) {
        return frame;
    }
    let mut order: Vec<u32> = (0..time.len() as u32).collect();
    order.sort_by_key(|&i| time[i as usize]);
    order.dedup_by_key(|i| time[*i as usize]);
    let indices = UInt32Array::from(order);
    let columns: Result<Vec<ArrayRef>, _> = frame
        .record_batch()
        .columns()
        .iter()
        .map(|c| take(c, &indices, None))
        .collect();
    columns
        .ok()
        .and_then(|c| RecordBatch::try_new(BarFrame::schema(), c).ok())
        .and_then(|b| BarFrame::from_batches(&[b]).ok())
        .unwrap_or_else(|| unreachable!("taking rows keeps the schema"))
}

/// In blocks without early exit, so that the comparisons vectorise.
fn strictly_increasing(times: &[i64]) -> bool {
    const BLOCK: usize = 1024;
    let Some(rest) = times.get(1..) else {
        return true;
    };
    times
        .chunks(BLOCK)
        .zip(rest.chunks(BLOCK))
        .all(|(earlier, later)| {
            earlier
                .iter()
                .zip(later)
                .fold(true, |increasing, (a, b)| increasing & (a < b))
        })
}

#[cfg(test)]
mod tests {
    use super::strictly_increasing;

    #[test]
    fn a_step_back_or_a_repeat_anywhere_is_found_even_at_a_block_edge() {
        let times: Vec<i64> = (0..5_000).collect();
        assert!(strictly_increasing(&times));
        assert!(strictly_increasing(&[]));
        assert!(strictly_increasing(&[7]));
        for at in [1, 1_023, 1_024, 1_025, 2_048, 4_999] {
            let mut back = times.clone();
            back[at] = back[at - 1] - 1;
            assert!(!strictly_increasing(&back), "step back at {at}");
            let mut repeat = times.clone();
            repeat[at] = repeat[at - 1];
            assert!(!strictly_increasing(&repeat), "repeat at {at}");
        }
    }
}
