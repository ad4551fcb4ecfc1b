//! A cap on what `unnest` repeats.
//!
//! DataFusion's `UnnestExec` cuts its input so that each output batch holds
//! about `batch_size` rows, but builds a row whose list is longer whole: every
//! other column of that row is copied once per element (of a string view,
//! only the view). One row holding a list of a million numbers beside a
//! string of 60 MiB would build 60 TB.
//! The lists come capped from the functions that grow them
//! ([`crate::value_size`]) or counted in the pool (`array_agg`); what is
//! repeated is bounded here: the input of every `UnnestExec` is watched
//! ([`crate::watch`]), and a row whose expansion would copy more than
//! `sql.max_value_mb` of its other columns stops the query before it is
//! built.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, RecordBatch,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::unnest::UnnestExec;

use crate::column_held_bytes;
use crate::value_size::ValueTooLarge;
use crate::watch::{Watch, Watcher, watch_inputs_of};

/// `plan` with the input of every `UnnestExec` watched.
pub fn cap_unnest_output(
    plan: Arc<dyn ExecutionPlan>,
    max_bytes: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    watch_inputs_of(plan, |unnest: &UnnestExec| UnnestInput {
        lists: unnest
            .list_column_indices()
            .iter()
            .map(|list| (list.index_in_input_schema, list.depth))
            .collect(),
        max_bytes,
    })
}

#[derive(Debug)]
struct UnnestInput {
    /// Each unnested list column: its index in the input and how many levels
    /// of lists are unnested.
    lists: Vec<(usize, usize)>,
    max_bytes: usize,
}

impl Watch for UnnestInput {
    const NAME: &'static str = "UnnestSizeCapExec";
    type Watcher = Arc<UnnestInput>;

    fn watcher(self: &Arc<Self>, _context: &Arc<TaskContext>) -> Result<Arc<UnnestInput>> {
        Ok(Arc::clone(self))
    }
}

impl Watcher for Arc<UnnestInput> {
    fn on_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut longest = vec![0u64; batch.num_rows()];
        for &(index, depth) in &self.lists {
            let lengths = batch
                .columns()
                .get(index)
                .and_then(|column| lengths_at(column.as_ref(), depth));
            for (longest, length) in longest.iter_mut().zip(lengths.into_iter().flatten()) {
                *longest = (*longest).max(length);
            }
        }
        let repeated: Vec<&ArrayRef> = batch
            .columns()
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.lists.iter().any(|&(list, _)| list == *index))
            .map(|(_, column)| column)
            .collect();
        for (row, &length) in longest.iter().enumerate() {
            if length <= 1 {
                continue;
            }
            let width: u64 = repeated.iter().map(|c| copied_bytes(c, row)).sum();
            let bytes = u128::from(length) * u128::from(width);
            if bytes > self.max_bytes as u128 {
                return Err(DataFusionError::External(Box::new(ValueTooLarge {
                    function: "unnest".to_owned(),
                    bytes,
                    limit: self.max_bytes,
                })));
            }
        }
        Ok(())
    }
}

/// The bytes one copy of `column`'s value at `row` takes: a string's own
/// bytes, but only the view of a string view (its bytes are shared).
fn copied_bytes(column: &ArrayRef, row: usize) -> u64 {
    let bytes = match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).len() + 4,
        DataType::LargeUtf8 => column.as_string::<i64>().value(row).len() + 8,
        DataType::Binary => column.as_binary::<i32>().value(row).len() + 4,
        DataType::LargeBinary => column.as_binary::<i64>().value(row).len() + 8,
        DataType::Utf8View | DataType::BinaryView => 16,
        other => other.primitive_width().unwrap_or_else(|| {
            let rows = column.len().max(1);
            column_held_bytes(column.as_ref()).div_ceil(rows)
        }),
    };
    bytes as u64
}

/// How many values `depth` levels of lists down each row of `column` holds;
/// `None` if it is not a list that deep.
fn lengths_at(column: &dyn Array, depth: usize) -> Option<Vec<u64>> {
    let (ranges, values) = list_ranges(column)?;
    if depth <= 1 {
        return Some(ranges.map(|range| range.len() as u64).collect());
    }
    let inner = lengths_at(values.as_ref(), depth - 1)?;
    let mut before = Vec::with_capacity(inner.len() + 1);
    before.push(0u64);
    for length in inner {
        before.push(before[before.len() - 1] + length);
    }
    ranges
        .map(|range| Some(before.get(range.end)? - before.get(range.start)?))
        .collect()
}

/// The rows of a list column, each as its range in the values.
type Rows<'a> = Box<dyn Iterator<Item = Range<usize>> + 'a>;

/// Each row's range in the values of a list column, and the values.
fn list_ranges(column: &dyn Array) -> Option<(Rows<'_>, ArrayRef)> {
    if let Some(list) = column.as_list_opt::<i32>() {
        return Some(offset_ranges(list));
    }
    if let Some(list) = column.as_list_opt::<i64>() {
        return Some(offset_ranges(list));
    }
    let list = column.as_fixed_size_list_opt()?;
    let size = list.value_length().max(0) as usize;
    let ranges = (0..list.len()).map(move |row| {
        let start = list.value_offset(row).max(0) as usize;
        start..start + size
    });
    Some((Box::new(ranges), Arc::clone(list.values())))
}

fn offset_ranges<O: OffsetSizeTrait>(list: &GenericListArray<O>) -> (Rows<'_>, ArrayRef) {
    let ranges = list.value_offsets().windows(2).map(|pair| {
        let (start, end) = (pair[0].as_usize(), pair[1].as_usize());
        start..end.max(start)
    });
    (Box::new(ranges), Arc::clone(list.values()))
}
