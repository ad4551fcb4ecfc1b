//! [`ResampleExec`]: DataFusion's physical operator for timeframe aggregation.
//!
//! It declares that it needs one partition sorted by time, which the bar
//! sources guarantee, and in exchange aggregates in a single streaming pass
//! (see [`crate::resample`]) instead of a hash aggregation with per-group
//! ordering state.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono_tz::Tz;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, SchemaRef, TimestampNanosecondType};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_expr_common::sort_expr::{
    LexRequirement, OrderingRequirements, PhysicalSortExpr, PhysicalSortRequirement,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::col;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    Partitioning, PlanProperties, ReplaceChildrenOptions,
};
use futures::{Stream, StreamExt};

use crate::frame::{BarFrame, TIME};
use crate::resample::{BarColumns, Resampler};
use crate::timeframe::Timeframe;

/// Aggregates time-sorted canonical bars to `timeframe` in `zone`.
#[derive(Debug)]
pub struct ResampleExec {
    input: Arc<dyn ExecutionPlan>,
    timeframe: Timeframe,
    zone: Tz,
    properties: Arc<PlanProperties>,
}

impl ResampleExec {
    pub fn try_new(input: Arc<dyn ExecutionPlan>, timeframe: Timeframe, zone: Tz) -> Result<Self> {
        let schema = BarFrame::schema();
        if input.schema().fields() != schema.fields() {
            return Err(DataFusionError::Plan(format!(
                "ResampleExec needs the canonical bar schema, got {}",
                input.schema()
            )));
        }
        let ordering = [PhysicalSortExpr::new_default(col(TIME, &schema)?)];
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(Arc::clone(&schema), [ordering]),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(ResampleExec {
            input,
            timeframe,
            zone,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for ResampleExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ResampleExec: timeframe={}, zone={}",
            self.timeframe, self.zone
        )
    }
}

impl ExecutionPlan for ResampleExec {
    fn name(&self) -> &'static str {
        "ResampleExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        let time = col(TIME, &self.input.schema()).ok();
        let requirement = time
            .and_then(|time| LexRequirement::new([PhysicalSortRequirement::new(time, None)]))
            .map(OrderingRequirements::new);
        vec![requirement]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(ResampleExec::try_new(
                input,
                self.timeframe,
                self.zone,
            )?)),
            _ => Err(DataFusionError::Internal(
                "ResampleExec has one input".into(),
            )),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ResampleExec has one partition, asked for {partition}"
            )));
        }
        Ok(Box::pin(ResampleStream {
            input: self.input.execute(0, context)?,
            resampler: Some(Resampler::new(self.timeframe, self.zone)),
        }))
    }
}

struct ResampleStream {
    input: SendableRecordBatchStream,
    /// `None` once the input is exhausted and the last bin emitted.
    resampler: Option<Resampler>,
}

impl ResampleStream {
    fn fold(resampler: &mut Resampler, batch: &RecordBatch) -> Result<RecordBatch> {
        let floats = |i: usize| {
            batch
                .column(i)
                .as_primitive_opt::<Float64Type>()
                .map(|a| a.values().as_ref())
                .ok_or_else(|| {
                    DataFusionError::Internal("ResampleExec input is not canonical".into())
                })
        };
        let time = batch
            .column(0)
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or_else(|| {
                DataFusionError::Internal("ResampleExec input is not canonical".into())
            })?;
        resampler.push(BarColumns {
            time: time.values(),
            open: floats(1)?,
            high: floats(2)?,
            low: floats(3)?,
            close: floats(4)?,
            volume: floats(5)?,
        });
        Ok(resampler.take_completed().record_batch().clone())
    }
}

impl Stream for ResampleStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let this = &mut *self;
            let Some(resampler) = this.resampler.as_mut() else {
                return Poll::Ready(None);
            };
            match futures::ready!(this.input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => match Self::fold(resampler, &batch) {
                    Ok(out) if out.num_rows() == 0 => continue,
                    result => return Poll::Ready(Some(result)),
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    let last = this.resampler.take().map(Resampler::finish);
                    return Poll::Ready(last.map(|f| Ok(f.record_batch().clone())));
                }
            }
        }
    }
}

impl RecordBatchStream for ResampleStream {
    fn schema(&self) -> SchemaRef {
        BarFrame::schema()
    }
}
