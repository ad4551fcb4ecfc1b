//! One parquet file of a series: its footer read once, where its time and
//! value columns are, and each of those decoded on its own into the
//! canonical types, so that columns can be decoded on several threads and
//! used as soon as each is ready.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, TimestampNanosecondArray, new_empty_array,
};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float64Type, Schema, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::Problem;
use crate::frame::VALUE_COLUMNS;
use crate::zone::LocalToUtc;

/// Column names that hold the time when no pandas index says otherwise.
const TIME_NAMES: [&str; 4] = ["datetime", "timestamp", "time", "date"];

/// A non-empty parquet file whose time and value columns have been found.
pub(super) struct SeriesFile {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    layout: Layout,
    /// The provider's zone, in which naive times are wall-clock times.
    zone: Tz,
}

impl SeriesFile {
    /// Reads the footer of `path`; `None` for an empty (zero-byte) file.
    pub(super) fn open(path: &Path, zone: Tz) -> Result<Option<SeriesFile>, Problem> {
        let file = File::open(path).map_err(|e| unreadable(&e))?;
        if file.metadata().map_err(|e| unreadable(&e))?.len() == 0 {
            tracing::warn!(file = %path.display(), "empty file, read as no bars");
            return Ok(None);
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
        Ok(Some(SeriesFile {
            path: path.to_owned(),
            metadata,
            layout,
            zone,
        }))
    }

    pub(super) fn rows(&self) -> usize {
        usize::try_from(self.metadata.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// The time column as instants in UTC nanoseconds, in file order.
    pub(super) fn time(&self) -> Result<TimestampNanosecondArray, Problem> {
        let (name, array) = self.decode(self.layout.time)?;
        time_nanos(name, &array, self.zone)
    }

    /// Value column `index` (open, high, low, close, volume) as f64, in file order.
    pub(super) fn values(&self, index: usize) -> Result<Float64Array, Problem> {
        let (name, array) = self.decode(self.layout.values[index])?;
        as_f64(name, &array)
    }

    /// Decodes one root column of the file, whatever its row groups.
    fn decode(&self, root: usize) -> Result<(&str, ArrayRef), Problem> {
        let field = self.metadata.schema().field(root);
        let file = File::open(&self.path).map_err(|e| unreadable(&e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone());
        let mask = ProjectionMask::roots(builder.parquet_schema(), [root]);
        let batches: Vec<RecordBatch> = builder
            .with_projection(mask)
            .with_batch_size(self.rows().clamp(1, 1 << 20))
            .build()
            .map_err(|e| unreadable(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(&e))?;
        let array = match batches.as_slice() {
            [] => new_empty_array(field.data_type()),
            [one] => one.column(0).clone(),
            many => {
                let parts: Vec<&dyn Array> = many.iter().map(|b| b.column(0).as_ref()).collect();
                concat(&parts).map_err(|e| unreadable(&e))?
            }
        };
        Ok((field.name(), array))
    }
}

pub(super) fn unreadable(e: &dyn std::fmt::Display) -> Problem {
    Problem::Unreadable(e.to_string())
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
    let floats = floats.as_primitive::<Float64Type>();
    if floats.null_count() == 0 {
        return Ok(Float64Array::new(floats.values().clone(), None));
    }
    Ok(floats.iter().map(|v| Some(v.unwrap_or(f64::NAN))).collect())
}
