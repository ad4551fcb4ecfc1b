//! Every registered indicator as a SQL window function.
//!
//! `rsi(close, 14) OVER (ORDER BY time)`: the arguments are the indicator's
//! declared inputs in order (any numeric expression may stand for a column:
//! `sma(volume, 20)`), then its parameters as constants, positionally, the
//! omitted ones at their defaults. An indicator with one output returns a
//! DOUBLE; one with several returns a struct with a field per output, read
//! as `macd(close)['signal']` or `(macd(close) OVER w).signal`. No value
//! (the warm-up) is NULL. The window must order by time: the indicator sees
//! each partition's rows in the window's order.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use candela_core::frame::BarColumns;
use candela_core::indicator::call::{Arg, ArgValue};
use candela_core::indicator::{
    Indicator, IndicatorCall, IndicatorSpec, Input, Params, ResolvedCall,
};
use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, StructArray, TimestampNanosecondArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Float64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_datafusion_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, Volatility, WindowUDFImpl};
use datafusion::physical_expr::expressions::Literal;

/// An indicator seen by DataFusion as a window function.
#[derive(Debug)]
pub struct IndicatorWindow {
    indicator: Arc<dyn Indicator>,
    signature: Signature,
}

impl IndicatorWindow {
    pub fn new(indicator: Arc<dyn Indicator>) -> Self {
        IndicatorWindow {
            indicator,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn spec(&self) -> &IndicatorSpec {
        self.indicator.spec()
    }

    /// How to call it, e.g. `rsi(close [, period]) OVER (ORDER BY time)`.
    fn usage(&self) -> String {
        let spec = self.spec();
        let inputs: Vec<String> = spec.inputs.iter().map(|i| input_name(*i)).collect();
        let params: String = spec
            .params
            .iter()
            .map(|p| format!(" [, {}]", p.name))
            .collect();
        format!(
            "usage: {}({}{params}) OVER (ORDER BY time)",
            spec.id,
            inputs.join(", ")
        )
    }
}

fn input_name(input: Input) -> String {
    format!("{input:?}").to_ascii_lowercase()
}

impl PartialEq for IndicatorWindow {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.indicator, &other.indicator)
    }
}

impl Eq for IndicatorWindow {}

impl Hash for IndicatorWindow {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.spec().id.hash(state);
    }
}

impl WindowUDFImpl for IndicatorWindow {
    /// The function is called by the indicator's id, as in `/api/data`.
    #[allow(clippy::misnamed_getters)]
    fn name(&self) -> &str {
        &self.spec().id
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let spec = self.spec();
        let (inputs, params) = (spec.inputs.len(), spec.params.len());
        if arg_types.len() < inputs || arg_types.len() > inputs + params {
            return Err(plan_datafusion_err!(
                "{} takes {inputs} column{} and up to {params} parameter{}, got {} arguments; {}",
                spec.id,
                if inputs == 1 { "" } else { "s" },
                if params == 1 { "" } else { "s" },
                arg_types.len(),
                self.usage()
            ));
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, given)| match spec.inputs.get(i) {
                Some(Input::Time) => match given {
                    DataType::Timestamp(_, zone) => {
                        Ok(DataType::Timestamp(TimeUnit::Nanosecond, zone.clone()))
                    }
                    _ => Err(plan_datafusion_err!(
                        "{}'s argument {} is the bar time, a timestamp, not {given}; {}",
                        spec.id,
                        i + 1,
                        self.usage()
                    )),
                },
                _ if given.is_numeric() || given.is_null() => Ok(DataType::Float64),
                _ => Err(plan_datafusion_err!(
                    "{}'s argument {} must be a number, not {given}; {}",
                    spec.id,
                    i + 1,
                    self.usage()
                )),
            })
            .collect()
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let outputs = &self.spec().outputs;
        let data_type = match outputs.as_slice() {
            [_] => DataType::Float64,
            _ => DataType::Struct(output_fields(self.spec())),
        };
        Ok(Arc::new(Field::new(field_args.name(), data_type, true)))
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let spec = self.spec();
        let inputs = spec.inputs.len();
        let values = args.input_exprs()[inputs.min(args.input_exprs().len())..]
            .iter()
            .zip(&spec.params)
            .map(|(expr, param)| {
                expr.downcast_ref::<Literal>()
                    .map(Literal::value)
                    .filter(|v| !v.is_null())
                    .and_then(|v| v.cast_to(&DataType::Float64).ok())
                    .and_then(|v| match v {
                        ScalarValue::Float64(Some(v)) => Some(v),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        plan_datafusion_err!(
                            "{}'s {} must be a constant number; {}",
                            spec.id,
                            param.name,
                            self.usage()
                        )
                    })
            })
            .collect::<Result<Vec<f64>>>()?;
        let call = IndicatorCall {
            id: spec.id.clone(),
            args: values
                .iter()
                .map(|v| Arg {
                    name: None,
                    value: ArgValue::Text(v.to_string()),
                })
                .collect(),
            output: None,
        };
        let params =
            Params::from_call(spec, &call).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        self.indicator
            .check(&params)
            .map_err(|problem| DataFusionError::Plan(format!("{call}: {problem}")))?;
        let time_zone = spec
            .inputs
            .iter()
            .position(|i| *i == Input::Time)
            .and_then(|i| args.input_fields().get(i))
            .and_then(|field| match field.data_type() {
                DataType::Timestamp(_, Some(zone)) => zone.parse::<Tz>().ok(),
                _ => None,
            })
            .unwrap_or(Tz::UTC);
        Ok(Box::new(IndicatorEvaluator {
            call: ResolvedCall::new(Arc::clone(&self.indicator), params),
            zone: time_zone,
        }))
    }
}

fn output_fields(spec: &IndicatorSpec) -> Fields {
    spec.outputs
        .iter()
        .map(|o| Field::new(&o.name, DataType::Float64, true))
        .collect()
}

/// Computes one partition in one call, over its rows in window order.
#[derive(Debug)]
struct IndicatorEvaluator {
    call: ResolvedCall,
    zone: Tz,
}

impl PartitionEvaluator for IndicatorEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let spec = self.call.indicator.spec();
        let unbound = vec![f64::NAN; num_rows];
        let mut columns: [Option<std::borrow::Cow<'_, [f64]>>; 5] = Default::default();
        let mut time: Option<&TimestampNanosecondArray> = None;
        for (input, array) in spec.inputs.iter().zip(values) {
            let slot = match input {
                Input::Time => {
                    let times = array.as_primitive::<TimestampNanosecondType>();
                    if times.null_count() > 0 {
                        return Err(DataFusionError::Execution(format!(
                            "{}: the time argument has NULLs",
                            spec.id
                        )));
                    }
                    time = Some(times);
                    continue;
                }
                Input::Open => 0,
                Input::High => 1,
                Input::Low => 2,
                Input::Close => 3,
                Input::Volume => 4,
            };
            columns[slot] = Some(floats(array.as_primitive::<Float64Type>()));
        }
        let zeros;
        let time = match time {
            Some(times) => times.values().as_ref(),
            None => {
                zeros = vec![0_i64; num_rows];
                &zeros
            }
        };
        let column = |slot: usize| columns[slot].as_deref().unwrap_or(&unbound);
        let bars = BarColumns {
            time,
            open: column(0),
            high: column(1),
            low: column(2),
            close: column(3),
            volume: column(4),
        };
        let outputs = self
            .call
            .compute_window(bars, self.zone, 0..num_rows)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let mut arrays: Vec<ArrayRef> = outputs.into_iter().map(nan_as_null).collect();
        if arrays.len() == 1 {
            return Ok(arrays.remove(0));
        }
        Ok(Arc::new(StructArray::try_new(
            output_fields(spec),
            arrays,
            None,
        )?))
    }
}

/// The values of a float column, NULL read as NaN (no value).
fn floats(array: &Float64Array) -> std::borrow::Cow<'_, [f64]> {
    if array.null_count() == 0 {
        return std::borrow::Cow::Borrowed(array.values().as_ref());
    }
    std::borrow::Cow::Owned(array.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// An output series with no value (NaN) as SQL NULL.
fn nan_as_null(values: Vec<f64>) -> ArrayRef {
    let valid = NullBuffer::from_iter(values.iter().map(|v| !v.is_nan()));
    let nulls = (valid.null_count() > 0).then_some(valid);
    Arc::new(Float64Array::new(values.into(), nulls))
}
