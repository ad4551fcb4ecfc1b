//! Caps on the functions whose output can be far larger than their input.
//!
//! The memory pool bounds what operators hold, not what an expression
//! allocates while it is evaluated: `repeat('x', 2e9)`, `lpad('', 1e9)` or
//! `array_repeat(array_repeat(1, 1e5), 1e5)` would allocate gigabytes in one
//! call, before anything could count them. Each such function is replaced by
//! a `SizeCapped` copy that computes, from its arguments, a bound on what
//! the call would build and refuses it above `sql.max_value_mb`; every other
//! function's output is at most proportional to its input, which the pool
//! and the row cap bound.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, FieldRef, Int64Type, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};
use datafusion::prelude::SessionContext;

/// A call would build more than `sql.max_value_mb` allows.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{function} would build about {} MiB of values in one call, more than the \
     {} MiB that sql.max_value_mb allows; ask for smaller values",
    .bytes >> 20, .limit >> 20
)]
pub struct ValueTooLarge {
    pub function: String,
    pub bytes: u128,
    pub limit: usize,
}

/// How a function's output grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`
    Repeat,
    /// `lpad`/`rpad(text, n [, fill])`: `n` characters.
    Pad,
    /// `replace(text, from, to)`
    Replace,
    /// `regexp_replace(text, pattern, replacement [, flags])`
    RegexpReplace,
    /// `array_repeat(element, n)`
    ArrayRepeat,
    /// `array_resize(array, n [, fill])`
    ArrayResize,
    /// The scalar `range`/`generate_series(start, stop [, step])`: a list.
    Series,
}

const GROWING: [(&str, Growth); 9] = [
    ("repeat", Growth::Repeat),
    ("lpad", Growth::Pad),
    ("rpad", Growth::Pad),
    ("replace", Growth::Replace),
    ("regexp_replace", Growth::RegexpReplace),
    ("array_repeat", Growth::ArrayRepeat),
    ("array_resize", Growth::ArrayResize),
    ("range", Growth::Series),
    ("generate_series", Growth::Series),
];

/// Replaces `context`'s growing functions (those it has) with capped ones.
pub fn cap_growing_functions(context: &SessionContext, max_bytes: usize) {
    let state = context.state();
    for (name, growth) in GROWING {
        if let Some(inner) = state.scalar_functions().get(name) {
            context.register_udf(ScalarUDF::new_from_impl(SizeCapped {
                inner: Arc::clone(inner),
                growth,
                max_bytes,
            }));
        }
    }
}

/// A function refused when its output would exceed `max_bytes`; otherwise
/// the function itself.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SizeCapped {
    inner: Arc<ScalarUDF>,
    growth: Growth,
    max_bytes: usize,
}

impl ScalarUDFImpl for SizeCapped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let bytes = self.growth.bound(&args.args, args.number_rows)?;
        if bytes > self.max_bytes as u128 {
            return Err(DataFusionError::External(Box::new(ValueTooLarge {
                function: self.inner.name().to_owned(),
                bytes,
                limit: self.max_bytes,
            })));
        }
        self.inner.invoke_with_args(args)
    }
}

impl Growth {
    /// An upper bound, in bytes, on the values one call builds.
    fn bound(self, args: &[ColumnarValue], number_rows: usize) -> Result<u128> {
        let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { number_rows };
        let args = args
            .iter()
            .map(|a| a.to_array(1).map(Arg))
            .collect::<Result<Vec<_>>>()?;
        let arg = |i: usize| args.get(i);
        let mut total: u128 = 0;
        match self {
            Growth::Repeat => {
                let (Some(text), Some(count)) = (arg(0), arg(1).map(Arg::integers).transpose()?)
                else {
                    return Ok(0);
                };
                for row in 0..rows {
                    total += text.value_bytes(row) * count.non_negative(row);
                }
            }
            Growth::Pad => {
                let Some(length) = arg(1).map(Arg::integers).transpose()? else {
                    return Ok(0);
                };
                for row in 0..rows {
                    total += 4 * length.non_negative(row);
                }
            }
            Growth::Replace | Growth::RegexpReplace => {
                let (Some(text), Some(from), Some(to)) = (arg(0), arg(1), arg(2)) else {
                    return Ok(0);
                };
                for row in 0..rows {
                    let text_len = text.value_bytes(row);
                    let replacements = match self {
                        Growth::Replace => text_len / from.value_bytes(row).max(1) + 1,
                        // Every match, empty ones too, and each can copy what it matched.
                        _ => 2 * (text_len + 1),
                    };
                    total += text_len + replacements * to.value_bytes(row);
                }
            }
            Growth::ArrayRepeat | Growth::ArrayResize => {
                let (Some(element), Some(count)) = (arg(0), arg(1).map(Arg::integers).transpose()?)
                else {
                    return Ok(0);
                };
                for row in 0..rows {
                    let (kept, each) = match (self, arg(2)) {
                        (Growth::ArrayRepeat, _) => (0, element.value_bytes(row)),
                        (_, Some(fill)) => (element.value_bytes(row), fill.value_bytes(row)),
                        (_, None) => (element.value_bytes(row), 0),
                    };
                    total += kept + count.non_negative(row) * (each + 8);
                }
            }
            Growth::Series => {
                for row in 0..rows {
                    total += 8 * series_length(&args, row)?;
                }
            }
        }
        Ok(total)
    }
}

/// How many values `range`/`generate_series` would list, at most.
fn series_length(args: &[Arg], row: usize) -> Result<u128> {
    const DAY: i128 = 86_400_000_000_000;
    const HOUR: i128 = 3_600_000_000_000;
    let Some(first) = args.first() else {
        return Ok(0);
    };
    let (start, stop, step) = match first.0.data_type() {
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => {
            let (Some(start), Some(stop), Some(step)) = (
                args.first().map(Arg::nanoseconds).transpose()?,
                args.get(1).map(Arg::nanoseconds).transpose()?,
                args.get(2),
            ) else {
                return Ok(0);
            };
            let step = step.cast(&DataType::Interval(IntervalUnit::MonthDayNano))?;
            let step = step.0.as_primitive_opt::<IntervalMonthDayNanoType>();
            let Some(interval) = step.map(|s| s.value(Arg::index_in(s.len(), row))) else {
                return Ok(0);
            };
            // The shortest the step can be: 28-day months, 23-hour days.
            let shortest = i128::from(interval.months) * 28 * DAY
                + i128::from(interval.days) * (DAY - HOUR)
                + i128::from(interval.nanoseconds);
            (start.value(row), stop.value(row), shortest)
        }
        _ => {
            let ints = args.iter().map(Arg::integers).collect::<Result<Vec<_>>>()?;
            match ints.as_slice() {
                [stop] => (0, stop.value(row), 1),
                [start, stop] => (start.value(row), stop.value(row), 1),
                [start, stop, step, ..] => (start.value(row), stop.value(row), step.value(row)),
                [] => return Ok(0),
            }
        }
    };
    if step == 0 {
        // Refused by the function itself.
        return Ok(0);
    }
    let span = stop - start;
    if span.signum() * step.signum() < 0 {
        return Ok(0);
    }
    Ok((span / step).unsigned_abs() + 1)
}

/// One argument, a column or (as one row) a scalar.
struct Arg(ArrayRef);

/// An argument cast to 64-bit integers, each `scale` times its value.
struct Integers {
    values: ArrayRef,
    scale: i128,
}

impl Arg {
    fn index_in(len: usize, row: usize) -> usize {
        if len == 1 { 0 } else { row }
    }

    fn index(&self, row: usize) -> usize {
        Self::index_in(self.0.len(), row)
    }

    fn cast(&self, to: &DataType) -> Result<Arg> {
        Ok(Arg(cast(&self.0, to)?))
    }

    fn integers(&self) -> Result<Integers> {
        Ok(Integers {
            values: cast(&self.0, &DataType::Int64)?,
            scale: 1,
        })
    }

    /// Dates and times as nanoseconds, without the overflow of a cast to
    /// nanoseconds outside 1677-2262.
    fn nanoseconds(&self) -> Result<Integers> {
        let scale = match self.0.data_type() {
            DataType::Date32 => 86_400_000_000_000,
            DataType::Date64 | DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
            DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
            _ => 1,
        };
        Ok(Integers {
            values: cast(&self.0, &DataType::Int64)?,
            scale,
        })
    }

    fn value_bytes(&self, row: usize) -> u128 {
        value_bytes(self.0.as_ref(), self.index(row))
    }
}

impl Integers {
    fn value(&self, row: usize) -> i128 {
        let values = self.values.as_primitive::<Int64Type>();
        let i = Arg::index_in(values.len(), row);
        if values.is_null(i) {
            0
        } else {
            i128::from(values.value(i)) * self.scale
        }
    }

    fn non_negative(&self, row: usize) -> u128 {
        self.value(row).max(0).unsigned_abs()
    }
}

/// The bytes one value of `array` takes: its text, its list's elements,
/// its fields.
fn value_bytes(array: &dyn Array, i: usize) -> u128 {
    if i >= array.len() || array.is_null(i) {
        return 0;
    }
    let len = |n: usize| n as u128;
    match array.data_type() {
        DataType::Utf8 => len(array.as_string::<i32>().value(i).len()),
        DataType::LargeUtf8 => len(array.as_string::<i64>().value(i).len()),
        DataType::Utf8View => len(array.as_string_view().value(i).len()),
        DataType::Binary => len(array.as_binary::<i32>().value(i).len()),
        DataType::LargeBinary => len(array.as_binary::<i64>().value(i).len()),
        DataType::BinaryView => len(array.as_binary_view().value(i).len()),
        DataType::List(_) => elements_bytes(array.as_list::<i32>().value(i).as_ref()),
        DataType::LargeList(_) => elements_bytes(array.as_list::<i64>().value(i).as_ref()),
        DataType::FixedSizeList(..) => elements_bytes(array.as_fixed_size_list().value(i).as_ref()),
        DataType::Struct(_) => array
            .as_struct()
            .columns()
            .iter()
            .map(|field| value_bytes(field.as_ref(), i))
            .sum(),
        other => len(other.primitive_width().unwrap_or(16)),
    }
}

fn elements_bytes(elements: &dyn Array) -> u128 {
    (0..elements.len())
        .map(|j| value_bytes(elements, j) + 8)
        .sum()
}
