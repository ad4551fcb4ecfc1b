//! One parquet file of a series: its footer read once, where its time and
//! value columns are, and each of those decoded on its own into the
//! canonical types, so that columns can be decoded on several threads and
//! used as soon as each is ready.

use std::fs::File;
use std::ops::Range;
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
use datafusion::parquet::basic::{IntType, LogicalType, TimeUnit as ParquetTimeUnit};
use datafusion::parquet::schema::types::ColumnDescPtr;

use super::Problem;
use super::column::{self, Corrupt, Failure};
use crate::frame::VALUE_COLUMNS;
use crate::zone::wall_clock_to_utc;

/// Column names that hold the time when no pandas index says otherwise.
const TIME_NAMES: [&str; 4] = ["datetime", "timestamp", "time", "date"];

/// A non-empty parquet file whose time and value columns have been found.
pub(super) struct SeriesFile {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    pub(super) layout: Layout,
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
        // The Arrow schema that pyarrow embeds in the footer is not read:
        // decoding a damaged one panics inside arrow-ipc, and the parquet
        // schema says all the loader needs (units, and whether times are
        // instants).
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        let metadata = ArrowReaderMetadata::load(&file, options).map_err(|e| unreadable(&e))?;
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
        if let Some(nanos) = self.time_rows(0..self.rows(), self.rows())? {
            return Ok(TimestampNanosecondArray::from(nanos).with_timezone("UTC"));
        }
        let (name, array) = self.decode(self.layout.time)?;
        time_nanos(name, &array, self.zone)
    }

    /// Rows `rows` of the time column as instants in UTC nanoseconds,
    /// decoded by [`column`]; `None` if its type or layout is left to the
    /// arrow reader.
    /// `capacity` is the room to make in the vector, at least the rows'.
    pub(super) fn time_rows(
        &self,
        rows: Range<usize>,
        capacity: usize,
    ) -> Result<Option<Vec<i64>>, Problem> {
        let root = self.layout.time;
        let Some((leaf, descr)) = self.leaf(root) else {
            return Ok(None);
        };
        // The unit is the one stored, which the arrow type may not show: a
        // file's arrow schema can ask for seconds over stored milliseconds.
        let (scale, zoned) = match (
            self.metadata.schema().field(root).data_type(),
            descr.logical_type_ref(),
        ) {
            (DataType::Timestamp(unit, zone), Some(LogicalType::Timestamp(stored)))
                if stored.is_adjusted_to_u_t_c == zone.is_some()
                    && same_unit(*unit, &stored.unit) =>
            {
                (nanos_per(*unit), zone.is_some())
            }
            (DataType::Date32, Some(LogicalType::Date)) => (NANOS_PER_DAY, false),
            _ => return Ok(None),
        };
        let mut nanos: Vec<i64> = Vec::with_capacity(capacity.max(rows.len()));
        let mut in_range = true;
        let decoded = self.by_pages(leaf, rows, &mut |block: &[i64]| {
            if scale == 1 {
                nanos.extend_from_slice(block);
            } else {
                for &value in block {
                    let scaled = value.checked_mul(scale);
                    in_range &= scaled.is_some();
                    nanos.push(scaled.unwrap_or(0));
                }
            }
        })?;
        if !decoded {
            return Ok(None);
        }
        if !in_range {
            return Err(Problem::TimeOutOfRange);
        }
        if !zoned {
            wall_clock_to_utc(self.zone, &mut nanos);
        }
        Ok(Some(nanos))
    }

    /// Value column `index` (open, high, low, close, volume) as f64, in file order.
    pub(super) fn values(&self, index: usize) -> Result<Float64Array, Problem> {
        let mut values = Vec::with_capacity(self.rows());
        let all = 0..self.rows();
        if self.value_rows(index, all, &mut |block| values.extend_from_slice(block))? {
            return Ok(Float64Array::from(values));
        }
        let (name, array) = self.decode(self.layout.values[index])?;
        as_f64(name, &array)
    }

    /// Rows `rows` of value column `index` handed to `sink` block by block,
    /// as [`values`](Self::values) holds them. `false` if the column's type
    /// or layout is left to the arrow reader; the sink's blocks then count
    /// for nothing.
    pub(super) fn value_rows(
        &self,
        index: usize,
        rows: Range<usize>,
        sink: &mut impl FnMut(&[f64]),
    ) -> Result<bool, Problem> {
        let root = self.layout.values[index];
        let Some((leaf, descr)) = self.leaf(root) else {
            return Ok(false);
        };
        // Plain numbers only: no decimal scale, nothing unsigned.
        let plain = matches!(
            descr.logical_type_ref(),
            None | Some(LogicalType::Integer(IntType {
                is_signed: true,
                ..
            }))
        );
        let numeric = matches!(
            self.metadata.schema().field(root).data_type(),
            DataType::Float64 | DataType::Float32 | DataType::Int64 | DataType::Int32
        );
        if !(plain && numeric) {
            return Ok(false);
        }
        self.by_pages(leaf, rows, sink)
    }

    /// Decodes leaf column `leaf` with [`column::decode`]; `false` if it left
    /// the column to the arrow reader.
    fn by_pages<T: column::Number>(
        &self,
        leaf: usize,
        rows: Range<usize>,
        sink: &mut impl FnMut(&[T]),
    ) -> Result<bool, Problem> {
        let file = File::open(&self.path).map_err(|e| unreadable(&e))?;
        match column::decode(file, self.metadata.metadata(), leaf, rows, sink) {
            Ok(()) => Ok(true),
            Err(Failure::Unsupported) => Ok(false),
            Err(Failure::Corrupt(Corrupt(what))) => Err(Problem::Unreadable(what)),
        }
    }

    /// The one leaf column of root column `root`, and its descriptor,
    /// unless the root nests several.
    fn leaf(&self, root: usize) -> Option<(usize, ColumnDescPtr)> {
        let schema = self.metadata.metadata().file_metadata().schema_descr();
        let mut leaves =
            (0..schema.num_columns()).filter(|&l| schema.get_column_root_idx(l) == root);
        let leaf = leaves.next().filter(|_| leaves.next().is_none())?;
        Some((leaf, schema.column(leaf)))
    }

    /// Decodes one root column of the file, whatever its row groups.
    pub(super) fn decode(&self, root: usize) -> Result<(&str, ArrayRef), Problem> {
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
pub(super) struct Layout {
    pub(super) time: usize,
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
pub(super) fn time_nanos(
    name: &str,
    array: &ArrayRef,
    zone: Tz,
) -> Result<TimestampNanosecondArray, Problem> {
    if array.null_count() > 0 {
        return Err(Problem::NullTimes(array.null_count()));
    }
    let (scale, zoned): (i64, bool) = match array.data_type() {
        DataType::Timestamp(unit, tz) => (nanos_per(*unit), tz.is_some()),
        DataType::Date32 => (NANOS_PER_DAY, false),
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
    Ok(utc_array(nanos, zoned, zone))
}

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

fn nanos_per(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn same_unit(unit: TimeUnit, stored: &ParquetTimeUnit) -> bool {
    matches!(
        (unit, stored),
        (TimeUnit::Millisecond, ParquetTimeUnit::MILLIS)
            | (TimeUnit::Microsecond, ParquetTimeUnit::MICROS)
            | (TimeUnit::Nanosecond, ParquetTimeUnit::NANOS)
    )
}

/// Nanosecond times as instants in UTC: naive ones are wall-clock times in `zone`.
fn utc_array(mut nanos: Vec<i64>, zoned: bool, zone: Tz) -> TimestampNanosecondArray {
    if !zoned {
        wall_clock_to_utc(zone, &mut nanos);
    }
    TimestampNanosecondArray::from(nanos).with_timezone("UTC")
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Float32Array, Int32Array, Int64Array, TimestampMicrosecondArray,
    };
    use datafusion::arrow::datatypes::Field;
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, Encoding};
    use datafusion::parquet::file::properties::{WriterProperties, WriterVersion};
    use std::sync::Arc;

    const ROWS: usize = 100_000;

    /// Naive microseconds, and value columns of four number types, two with
    /// missing values.
    fn batch() -> RecordBatch {
        let time: Vec<i64> = (0..ROWS as i64)
            .map(|i| 1_600_000_000_000_000 + i * 60_000_000)
            .collect();
        let open: Float64Array = (0..ROWS)
            .map(|i| (i % 7 != 3).then_some((i % 500) as f64 / 4.0))
            .collect();
        let high: Int64Array = (0..ROWS)
            .map(|i| (i % 11 != 5).then_some((i * 7919 % 100_003) as i64))
            .collect();
        let low: Float32Array = (0..ROWS).map(|i| Some((i % 300) as f32 / 8.0)).collect();
        let close: Int32Array = (0..ROWS)
            .map(|i| Some((i % 40_000) as i32 - 20_000))
            .collect();
        let volume: Float64Array = (0..ROWS).map(|i| Some(i as f64 * 1.5)).collect();
        let schema = Schema::new(vec![
            Field::new(
                "timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                false,
            ),
            Field::new("open", DataType::Float64, true),
            Field::new("high", DataType::Int64, true),
            Field::new("low", DataType::Float32, false),
            Field::new("close", DataType::Int32, false),
            Field::new("volume", DataType::Float64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from(time)),
            Arc::new(open),
            Arc::new(high),
            Arc::new(low),
            Arc::new(close),
            Arc::new(volume),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
    }

    /// Pages of each kind the page decoder reads (v1 and v2, plain and
    /// dictionary, snappy and none, with missing values), read in stretches
    /// that start and end anywhere, give what the arrow reader gives.
    #[test]
    fn pages_decode_as_the_arrow_reader_reads_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let batch = batch();
        let kinds = [
            (WriterVersion::PARQUET_1_0, Compression::SNAPPY, true),
            (WriterVersion::PARQUET_2_0, Compression::UNCOMPRESSED, false),
            (WriterVersion::PARQUET_2_0, Compression::SNAPPY, true),
        ];
        for (version, compression, dictionary) in kinds {
            let path = dir.path().join("bars.parquet");
            // Without a dictionary, version 2 would pick delta encodings,
            // which the arrow reader is left to read.
            let properties = WriterProperties::builder()
                .set_encoding(Encoding::PLAIN)
                .set_writer_version(version)
                .set_compression(compression)
                .set_dictionary_enabled(dictionary)
                .set_data_page_row_count_limit(1_000)
                .set_write_batch_size(1_000)
                .set_max_row_group_row_count(Some(60_000))
                .build();
            let output = File::create(&path).expect("create");
            let mut writer =
                ArrowWriter::try_new(output, batch.schema(), Some(properties)).expect("writer");
            writer.write(&batch).expect("write");
            writer.close().expect("close");

            let zone = chrono_tz::America::New_York;
            let file = SeriesFile::open(&path, zone).expect("open").expect("rows");
            let (name, array) = file.decode(file.layout.time).expect("arrow time");
            let time = time_nanos(name, &array, zone).expect("time");
            let values: Vec<Float64Array> = (0..5)
                .map(|i| {
                    let (name, array) = file.decode(file.layout.values[i]).expect("arrow");
                    as_f64(name, &array).expect("values")
                })
                .collect();
            let kind = format!("{version:?} {compression:?} dictionary={dictionary}");
            for rows in [0..ROWS, 0..1, 999..1_001, 12_345..67_890, ROWS - 1..ROWS] {
                let got = file.time_rows(rows.clone(), 0).expect("time rows");
                let got = got.expect("decoded by pages");
                assert_eq!(got, time.values()[rows.clone()], "{kind} {rows:?}");
                for (index, expected) in values.iter().enumerate() {
                    let mut got = Vec::new();
                    let by_pages = file
                        .value_rows(index, rows.clone(), &mut |b| got.extend_from_slice(b))
                        .expect("value rows");
                    assert!(by_pages, "{kind}: column {index} left to arrow");
                    let same = got.len() == rows.len()
                        && got
                            .iter()
                            .zip(&expected.values()[rows.clone()])
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{kind}: column {index}, rows {rows:?}");
                }
            }
        }
    }
}
