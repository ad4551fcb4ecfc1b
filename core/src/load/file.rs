//! One parquet file of a series: its footer read and checked once, where its
//! time and value columns are, and any stretch of rows of one column decoded
//! by the parquet crate's arrow reader into the canonical types, batch by
//! batch, so that columns and stretches can be decoded on several threads
//! and each batch used while it is still in cache.

use std::ops::Range;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float64Type, Schema, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelectionPolicy,
    statistics::StatisticsConverter,
};
use datafusion::parquet::file::reader::Length;

use super::source::{Fetched, Source};
use super::{Problem, Stop, TimeWindow, claims, thrift_bounds};
use crate::frame::{INSTANTS, VALUE_COLUMNS};
use crate::storage::{StoredFile, StoredObject};
use crate::zone::wall_clock_to_utc;

/// Column names that hold the time when no pandas index says otherwise.
const TIME_NAMES: [&str; 4] = ["datetime", "timestamp", "time", "date"];

/// Rows per decoded batch: a batch of one column (512 KiB as f64) stays in
/// a core's L2 cache while it is converted and folded, and the reader's
/// per-batch work is paid rarely (8,192 rows made a cold aggregation of a
/// million bars 13-17% slower).
const BATCH_ROWS: usize = 65_536;

/// More than any zone's offset from UTC, in nanoseconds.
const DAY_NANOS: i64 = 86_400_000_000_000;

/// The tail of an object fetched first: the footer of a file of bars is a
/// few KiB (a longer one costs one more request).
const TAIL_BYTES: u64 = 64 << 10;

/// A non-empty parquet file whose footer holds together and whose time and
/// value columns have been found.
pub(super) struct SeriesFile {
    bytes: FileBytes,
    metadata: ArrowReaderMetadata,
    /// The row groups read, in file order; `None`: all of them.
    groups: Option<Vec<usize>>,
    /// The rows of those groups.
    rows: usize,
    layout: Layout,
    /// The provider's zone, in which naive times are wall-clock times.
    zone: Tz,
    /// Checked before every batch.
    stop: Stop,
}

/// Where a file's bytes are read from.
enum FileBytes {
    Path(std::path::PathBuf),
    /// A bucket's object: the parts fetched so far, then the object to
    /// fetch the rest from.
    Fetched(Arc<Fetched>, StoredObject),
}

impl FileBytes {
    fn source(&self) -> Result<Source, Problem> {
        match self {
            FileBytes::Path(path) => Source::open(path).map_err(|e| unreadable(&e)),
            FileBytes::Fetched(fetched, _) => Ok(Source::fetched(Arc::clone(fetched))),
        }
    }
}

impl SeriesFile {
    /// Reads and checks the footer of `file`; `None` for an empty (zero-byte) file.
    pub(super) fn open(
        file: &StoredFile,
        zone: Tz,
        stop: &Stop,
    ) -> Result<Option<SeriesFile>, Problem> {
        let bytes = match file {
            StoredFile::Path(path) => FileBytes::Path(path.clone()),
            StoredFile::Object(object) => {
                FileBytes::Fetched(Arc::new(fetch_footer(object)?), object.clone())
            }
        };
        let source = bytes.source()?;
        let length = source.len();
        if length == 0 {
            tracing::warn!(file = ?file, "empty file, read as no bars");
            return Ok(None);
        }
        // The Arrow schema that pyarrow embeds in the footer is not read:
        // decoding a damaged one panics inside arrow-ipc, and the parquet
        // schema says all the loader needs (the stored units, and whether
        // times are instants).
        thrift_bounds::check_footer(&source)?;
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        let metadata =
            guarded(|| ArrowReaderMetadata::load(&source, options))?.map_err(|e| unreadable(&e))?;
        let rows = claims::checked_rows(metadata.metadata(), length)?;
        let pandas_index = metadata
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == "pandas"))
            .and_then(|e| e.value.as_deref())
            .and_then(pandas_time_index);
        let layout = Layout::find(metadata.schema(), pandas_index.as_deref())?;
        Ok(Some(SeriesFile {
            bytes,
            metadata,
            groups: None,
            rows,
            layout,
            zone,
            stop: stop.clone(),
        }))
    }

    /// Keeps only the row groups that may hold bars of `window`, by the
    /// time column's statistics (trusted, as DataFusion's parquet reader
    /// trusts them). A group without statistics is kept, and so is every
    /// group of a file whose times are not timestamps or dates. Naive times
    /// are wall-clock times: their bounds are widened by a day each way, more
    /// than any zone's offset.
    pub(super) fn keep_window(&mut self, window: TimeWindow) -> Result<(), Problem> {
        if window == TimeWindow::ALL {
            return Ok(());
        }
        let metadata = self.metadata.metadata();
        let field = self.metadata.schema().field(self.layout.time);
        // The bounds in nanoseconds of the column's own zone (a cast to
        // another zone, or none, would move the instants).
        let zone = match field.data_type() {
            DataType::Timestamp(_, zone) => zone.clone(),
            DataType::Date32 | DataType::Date64 => None,
            _ => return Ok(()),
        };
        let naive = zone.is_none();
        let nanos = DataType::Timestamp(TimeUnit::Nanosecond, zone);
        let bounds = guarded(|| {
            let converter = StatisticsConverter::try_new(
                field.name(),
                self.metadata.schema(),
                metadata.file_metadata().schema_descr(),
            )?;
            let mins = converter.row_group_mins(metadata.row_groups())?;
            let maxes = converter.row_group_maxes(metadata.row_groups())?;
            Ok::<_, datafusion::parquet::errors::ParquetError>((mins, maxes))
        })?
        .ok()
        .and_then(|(mins, maxes)| Some((cast(&mins, &nanos).ok()?, cast(&maxes, &nanos).ok()?)));
        let Some((mins, maxes)) = bounds else {
            return Ok(());
        };
        let (mins, maxes) = (
            mins.as_primitive::<TimestampNanosecondType>(),
            maxes.as_primitive::<TimestampNanosecondType>(),
        );
        let slack = if naive { DAY_NANOS } else { 0 };
        let groups: Vec<usize> = (0..metadata.num_row_groups())
            .filter(|&g| {
                let (min, max) = (mins.is_valid(g), maxes.is_valid(g));
                !(min && max)
                    || window.overlaps(
                        mins.value(g).saturating_sub(slack),
                        maxes.value(g).saturating_add(slack),
                    )
            })
            .collect();
        self.rows = groups
            .iter()
            .map(|&g| metadata.row_group(g).num_rows() as usize)
            .sum();
        self.groups = Some(groups);
        Ok(())
    }

    /// The row groups read.
    fn groups(&self) -> Vec<usize> {
        self.groups
            .clone()
            .unwrap_or_else(|| (0..self.metadata.metadata().num_row_groups()).collect())
    }

    /// Fetches the column chunks of the time and value columns, of the row
    /// groups read, of a bucket's file (a folder's file is read as it is
    /// decoded). The footer has placed the chunks inside the object
    /// ([`claims`]); overlapping claims are fetched once.
    pub(super) fn fetch(&mut self) -> Result<(), Problem> {
        let FileBytes::Fetched(fetched, object) = &self.bytes else {
            return Ok(());
        };
        let columns = [self.layout.time].into_iter().chain(self.layout.values);
        let mut ranges = Vec::new();
        for group in self.groups() {
            let group = self.metadata.metadata().row_group(group);
            for column in columns.clone() {
                let (start, length) = group.column(column).byte_range();
                ranges.push(start..start + length);
            }
        }
        let parts = object
            .bucket
            .ranges(object, &ranges)
            .map_err(Problem::Storage)?;
        let mut all = fetched.parts().to_vec();
        all.extend(ranges.iter().map(|r| r.start).zip(parts));
        self.bytes = FileBytes::Fetched(Arc::new(Fetched::new(object.size, all)), object.clone());
        Ok(())
    }

    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Rows `rows` of the time column as instants in UTC nanoseconds, in a
    /// vector with room for `capacity` (at least the rows').
    pub(super) fn times(&self, rows: Range<usize>, capacity: usize) -> Result<Vec<i64>, Problem> {
        let mut nanos = Vec::new();
        nanos
            .try_reserve_exact(capacity.max(rows.len()))
            .map_err(|_| Problem::OutOfMemory(capacity))?;
        let mut zoned = true;
        self.batches(self.layout.time, rows, &mut |name, array| {
            zoned = push_nanos(name, array, &mut nanos)?;
            Ok(())
        })?;
        // In blocks without early exit, so that the comparisons vectorise.
        let in_range = nanos.chunks(1024).all(|block| {
            block
                .iter()
                .fold(true, |inside, t| inside & INSTANTS.contains(t))
        });
        if !in_range {
            return Err(Problem::TimeOutOfRange);
        }
        if !zoned {
            wall_clock_to_utc(self.zone, &mut nanos);
        }
        Ok(nanos)
    }

    /// Rows `rows` of value column `index` (open, high, low, close, volume)
    /// handed to `sink` batch by batch as f64, a missing value being NaN.
    pub(super) fn values(
        &self,
        index: usize,
        rows: Range<usize>,
        sink: &mut impl FnMut(&[f64]),
    ) -> Result<(), Problem> {
        let mut filled = Vec::new();
        self.batches(self.layout.values[index], rows, &mut |name, array| {
            let floats = as_f64(name, array)?;
            let floats = floats.as_primitive::<Float64Type>();
            if floats.null_count() == 0 {
                sink(floats.values());
            } else {
                filled.clear();
                filled.extend(floats.iter().map(|v| v.unwrap_or(f64::NAN)));
                sink(&filled);
            }
            Ok(())
        })
    }

    /// Decodes rows `rows` of root column `root`, handing each batch to
    /// `each` with the column's name. Exactly those rows are read: a column
    /// whose pages end early is an error, and values beyond what the
    /// footer claims are never read.
    fn batches(
        &self,
        root: usize,
        rows: Range<usize>,
        each: &mut dyn FnMut(&str, &ArrayRef) -> Result<(), Problem>,
    ) -> Result<(), Problem> {
        if rows.is_empty() {
            return Ok(());
        }
        let name = self.metadata.schema().field(root).name();
        let source = self.bytes.source()?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(source, self.metadata.clone());
        let mask = ProjectionMask::roots(builder.parquet_schema(), [root]);
        let mut reader = builder
            .with_row_groups(self.groups())
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .with_row_selection_policy(RowSelectionPolicy::Selectors)
            .with_offset(rows.start)
            .with_limit(rows.len())
            .build()
            .map_err(|e| unreadable(&e))?;
        let mut found = 0;
        while let Some(batch) = guarded(|| reader.next())? {
            if self.stop.requested() {
                return Err(Problem::Stopped);
            }
            let batch = batch.map_err(|e| unreadable(&e))?;
            let Some(column) = batch.columns().first() else {
                return Err(Problem::Unreadable(format!("column '{name}' is missing")));
            };
            found += column.len();
            each(name, column)?;
        }
        if found != rows.len() {
            return Err(Problem::ShortColumn {
                column: name.to_owned(),
                found: rows.start + found,
                claimed: self.rows,
            });
        }
        Ok(())
    }
}

/// Runs one call into the parquet crate, turning a panic into an error.
///
/// Fuzzing found hostile pages that make parquet 59.3.2 panic while
/// decoding (definition levels running past their page, in arrow-buffer's
/// `bit_chunk_iterator`; a byte-stream-split page shorter than its values).
/// Those are the crate's to fix; until then such a file is an error naming
/// it, and the rest of the series, and the server, carry on.
fn guarded<T>(call: impl FnOnce() -> T) -> Result<T, Problem> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Problem::DecoderPanicked(message.to_owned())
    })
}

/// The tail of `object`, and the rest of its footer if the tail does not
/// hold it all.
fn fetch_footer(object: &StoredObject) -> Result<Fetched, Problem> {
    let tail = object
        .bucket
        .tail(object, TAIL_BYTES)
        .map_err(Problem::Storage)?;
    let tail_start = object.size - tail.len() as u64;
    let mut parts = vec![(tail_start, tail.clone())];
    if let Some(footer) = thrift_bounds::footer_start(&tail, object.size)
        && footer < tail_start
    {
        let rest = object
            .bucket
            .range(object, footer..tail_start)
            .map_err(Problem::Storage)?;
        parts.push((footer, rest));
    }
    Ok(Fetched::new(object.size, parts))
}

fn unreadable(e: &dyn std::fmt::Display) -> Problem {
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

/// Appends a batch of the time column to `nanos` as nanoseconds, and says
/// whether they are instants already: zoned timestamps are, naive ones (and
/// dates) are wall-clock times in the provider's zone.
fn push_nanos(name: &str, array: &ArrayRef, nanos: &mut Vec<i64>) -> Result<bool, Problem> {
    if array.null_count() > 0 {
        return Err(Problem::NullTimes);
    }
    match array.data_type() {
        DataType::Timestamp(unit, zone) => {
            let raw = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
            };
            match unit {
                TimeUnit::Nanosecond => nanos.extend_from_slice(raw),
                _ => push_scaled(raw.iter().copied(), nanos_per(*unit), nanos)?,
            }
            Ok(zone.is_some())
        }
        DataType::Date64 => {
            let millis = array.as_primitive::<Date64Type>().values();
            push_scaled(millis.iter().copied(), 1_000_000, nanos)?;
            Ok(false)
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().values();
            push_scaled(days.iter().map(|&d| i64::from(d)), NANOS_PER_DAY, nanos)?;
            Ok(false)
        }
        other => Err(Problem::WrongType(
            name.to_owned(),
            other.clone(),
            "a timestamp or date",
        )),
    }
}

/// Appends `raw` times `scale`, refusing any product beyond the nanosecond range.
fn push_scaled(
    raw: impl Iterator<Item = i64>,
    scale: i64,
    nanos: &mut Vec<i64>,
) -> Result<(), Problem> {
    let mut in_range = true;
    nanos.extend(raw.map(|value| {
        let scaled = value.checked_mul(scale);
        in_range &= scaled.is_some();
        scaled.unwrap_or(0)
    }));
    if in_range {
        Ok(())
    } else {
        Err(Problem::TimeOutOfRange)
    }
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

/// Any numeric column as f64 (sharing the buffer when it is f64 already).
fn as_f64(name: &str, array: &ArrayRef) -> Result<ArrayRef, Problem> {
    let wrong = || Problem::WrongType(name.to_owned(), array.data_type().clone(), "a number");
    match array.data_type() {
        DataType::Float64 => Ok(array.clone()),
        numeric if numeric.is_numeric() => cast(array, &DataType::Float64).map_err(|_| wrong()),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
    };
    use datafusion::arrow::datatypes::Field;
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, Encoding};
    use datafusion::parquet::file::properties::{WriterProperties, WriterVersion};
    use std::fs::File;
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

    /// Stretches of rows that start and end anywhere (inside pages, at row
    /// group edges, across them) give what the arrow reader gives for the
    /// whole file, for pages of each kind: v1 and v2, plain, dictionary and
    /// delta, several codecs, with missing values.
    #[test]
    fn stretches_decode_as_the_arrow_reader_reads_the_whole_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let batch = batch();
        let kinds = [
            (WriterVersion::PARQUET_1_0, Compression::SNAPPY, true),
            (WriterVersion::PARQUET_2_0, Compression::UNCOMPRESSED, false),
            (
                WriterVersion::PARQUET_2_0,
                Compression::ZSTD(Default::default()),
                true,
            ),
            (WriterVersion::PARQUET_1_0, Compression::LZ4_RAW, false),
        ];
        for (version, compression, dictionary) in kinds {
            let path = dir.path().join("bars.parquet");
            let mut properties = WriterProperties::builder()
                .set_writer_version(version)
                .set_compression(compression)
                .set_dictionary_enabled(dictionary)
                .set_data_page_row_count_limit(1_000)
                .set_write_batch_size(1_000)
                .set_max_row_group_row_count(Some(60_000));
            if !dictionary {
                properties = properties.set_encoding(Encoding::DELTA_BINARY_PACKED);
                properties = properties.set_column_encoding("open".into(), Encoding::PLAIN);
                properties = properties.set_column_encoding("low".into(), Encoding::PLAIN);
                properties = properties.set_column_encoding("volume".into(), Encoding::PLAIN);
            }
            let output = File::create(&path).expect("create");
            let mut writer = ArrowWriter::try_new(output, batch.schema(), Some(properties.build()))
                .expect("writer");
            writer.write(&batch).expect("write");
            writer.close().expect("close");

            let zone = chrono_tz::America::New_York;
            let whole = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).expect("open"))
                .expect("reader")
                .with_batch_size(ROWS)
                .build()
                .expect("reader")
                .collect::<Result<Vec<_>, _>>()
                .expect("whole file");
            let whole = datafusion::arrow::compute::concat_batches(&whole[0].schema(), &whole)
                .expect("concat");
            let mut times = Vec::new();
            push_nanos("timestamp", whole.column(0), &mut times).expect("times");
            wall_clock_to_utc(zone, &mut times);
            let values: Vec<Vec<f64>> = (1..6)
                .map(|i| {
                    let floats = as_f64("value", whole.column(i)).expect("numbers");
                    let floats = floats.as_primitive::<Float64Type>();
                    floats.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
                })
                .collect();

            let file = SeriesFile::open(&StoredFile::Path(path.clone()), zone, Stop::never())
                .expect("open")
                .expect("rows");
            assert_eq!(file.rows(), ROWS);
            let kind = format!("{version:?} {compression:?} dictionary={dictionary}");
            for rows in [
                0..ROWS,
                0..1,
                999..1_001,
                12_345..67_890,
                59_999..60_001,
                60_000..ROWS,
                ROWS - 1..ROWS,
            ] {
                let got = file.times(rows.clone(), 0).expect("times");
                assert_eq!(got, times[rows.clone()], "{kind} {rows:?}");
                for (index, expected) in values.iter().enumerate() {
                    let mut got = Vec::new();
                    file.values(index, rows.clone(), &mut |b| got.extend_from_slice(b))
                        .expect("values");
                    let same = got.len() == rows.len()
                        && got
                            .iter()
                            .zip(&expected[rows.clone()])
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{kind}: column {index}, rows {rows:?}");
                }
            }
        }
    }
}
