//! [`BarFrame`]: OHLCV bars in Candela's one canonical Arrow layout.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, RecordBatch, TimestampNanosecondArray,
};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;

use chrono_tz::Tz;

use crate::bins::Bins;
use crate::timeframe::Timeframe;

/// Name of the time column in every frame and SQL table.
pub const TIME: &str = "time";
/// The value columns, in their canonical order after [`TIME`].
pub const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new(TIME, time_type(), false)];
    fields.extend(
        VALUE_COLUMNS
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, false)),
    );
    Arc::new(Schema::new(fields))
});

/// The instants bars may have, in UTC nanoseconds: from 1679-09-22 to
/// 2260-04-10, the nanosecond range less two years at each end, so that the
/// arithmetic of any bin (at most 366 days) and zone offset stays in range.
pub const INSTANTS: std::ops::RangeInclusive<i64> = {
    const MARGIN: i64 = 2 * 366 * 86_400 * 1_000_000_000;
    (i64::MIN + MARGIN)..=(i64::MAX - MARGIN)
};

/// Instants are UTC nanoseconds; the provider's zone matters only for binning.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// Bars sorted by strictly increasing time, with no nulls: a missing value is
/// NaN. Cheap to clone and slice (Arrow buffers are shared).
#[derive(Debug, Clone)]
pub struct BarFrame {
    batch: RecordBatch,
}

impl BarFrame {
    /// The canonical schema: `time` (timestamp ns, UTC) then the value columns (f64).
    pub fn schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    pub fn empty() -> Self {
        BarFrame {
            batch: RecordBatch::new_empty(Self::schema()),
        }
    }

    /// Builds a frame from columns that are already sorted and null-free.
    pub fn from_columns(time: Vec<i64>, values: [Vec<f64>; 5]) -> Result<Self, ArrowError> {
        let time = TimestampNanosecondArray::from(time).with_timezone("UTC");
        let mut columns: Vec<ArrayRef> = vec![Arc::new(time)];
        columns.extend(values.map(|v| Arc::new(Float64Array::from(v)) as ArrayRef));
        Ok(BarFrame {
            batch: RecordBatch::try_new(Self::schema(), columns)?,
        })
    }

    /// Wraps record batches in the canonical schema (such as a query's output).
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self, ArrowError> {
        let batch = concat_batches(&Self::schema(), batches)?;
        if batch.columns().iter().any(|c| c.null_count() > 0) {
            return Err(ArrowError::InvalidArgumentError(
                "bar frames hold no nulls".into(),
            ));
        }
        Ok(BarFrame { batch })
    }

    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bar start times, UTC nanoseconds.
    pub fn time(&self) -> &[i64] {
        self.batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .map(|a| a.values().as_ref())
            .unwrap_or_default()
    }

    fn values(&self, index: usize) -> &[f64] {
        self.batch
            .column(index)
            .as_any()
            .downcast_ref::<Float64Array>()
            .map(|a| a.values().as_ref())
            .unwrap_or_default()
    }

    pub fn open(&self) -> &[f64] {
        self.values(1)
    }
    pub fn high(&self) -> &[f64] {
        self.values(2)
    }
    pub fn low(&self) -> &[f64] {
        self.values(3)
    }
    pub fn close(&self) -> &[f64] {
        self.values(4)
    }
    pub fn volume(&self) -> &[f64] {
        self.values(5)
    }

    /// The rows in `range` (zero-copy).
    pub fn slice(&self, range: Range<usize>) -> BarFrame {
        BarFrame {
            batch: self.batch.slice(range.start, range.len()),
        }
    }

    /// How many of its bars, stored at `timeframe` in `zone`, had closed by
    /// `instant`: a bar of a fixed width closes that long after it starts, a
    /// calendar bar (a day, a week, a month) at the end of its bin.
    pub fn closed_by(&self, timeframe: Timeframe, zone: Tz, instant: i64) -> usize {
        let times = self.time();
        let Some(&first) = times.first() else {
            return 0;
        };
        let bins = Bins::new(timeframe, zone, first);
        let close = |start: i64| match timeframe.fixed_nanos() {
            Some(width) => start.saturating_add(width),
            None => bins.bin_of(start).1,
        };
        times.partition_point(|&start| close(start) <= instant)
    }

    /// The rows whose time lies in `[start, end)` (UTC nanoseconds).
    pub fn rows_between(&self, start: i64, end: i64) -> Range<usize> {
        let time = self.time();
        let from = time.partition_point(|&t| t < start);
        let to = time.partition_point(|&t| t < end);
        from..to.max(from)
    }

    pub fn record_batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// The canonical schema with times labelled in `zone`.
    pub fn schema_in(zone: &str) -> SchemaRef {
        let mut fields: Vec<Field> = SCHEMA.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[0] = Field::new(
            TIME,
            DataType::Timestamp(TimeUnit::Nanosecond, Some(zone.into())),
            false,
        );
        Arc::new(Schema::new(fields))
    }

    /// The bars with times labelled in `zone`: the same instants, which Arrow
    /// shows, and SQL reads naive literals and calendar days, in that zone.
    pub fn record_batch_in(&self, zone: &str) -> Result<RecordBatch, ArrowError> {
        let time = self
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| ArrowError::SchemaError("bar times are not nanoseconds".into()))?
            .clone()
            .with_timezone(zone);
        let mut columns = self.batch.columns().to_vec();
        columns[0] = Arc::new(time);
        RecordBatch::try_new(Self::schema_in(zone), columns)
    }

    /// Bytes held, for the cache's memory bound.
    pub fn memory_size(&self) -> usize {
        self.batch.get_array_memory_size()
    }
}

/// Borrowed columns of sorted bars.
#[derive(Debug, Clone, Copy)]
pub struct BarColumns<'a> {
    pub time: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
}

impl<'a> From<&'a BarFrame> for BarColumns<'a> {
    fn from(frame: &'a BarFrame) -> Self {
        BarColumns {
            time: frame.time(),
            open: frame.open(),
            high: frame.high(),
            low: frame.low(),
            close: frame.close(),
            volume: frame.volume(),
        }
    }
}

impl BarColumns<'_> {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn slice(&self, rows: std::ops::Range<usize>) -> Self {
        BarColumns {
            time: &self.time[rows.clone()],
            open: &self.open[rows.clone()],
            high: &self.high[rows.clone()],
            low: &self.low[rows.clone()],
            close: &self.close[rows.clone()],
            volume: &self.volume[rows],
        }
    }
}

/// In bar start times sorted ascending, the index of the bar holding `t`:
/// the last one starting at or before it.
pub fn bar_holding(starts: &[i64], t: i64) -> Option<usize> {
    starts.partition_point(|&start| start <= t).checked_sub(1)
}
