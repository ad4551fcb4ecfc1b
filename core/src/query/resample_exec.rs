//! [`ResampleExec`]: DataFusion's physical operator for timeframe aggregation.
//!
//! A leaf that owns the time-sorted source bars, so that it folds them in one
//! pass over whole columns (see [`crate::resample`], which splits the work
//! between threads at a bin boundary) instead of a hash aggregation with
//! per-group ordering state, or a fold over the small batches a memory scan
//! would cut the columns into. It declares its output sorted by time, so
//! DataFusion adds no sort above it.

use std::fmt;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_expr_common::sort_expr::PhysicalSortExpr;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::col;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use crate::frame::{BarFrame, TIME};
use crate::resample::resample;
use crate::timeframe::Timeframe;

/// The bars of `source` aggregated to `timeframe` in `zone`.
#[derive(Debug)]
pub struct ResampleExec {
    source: Arc<BarFrame>,
    timeframe: Timeframe,
    zone: Tz,
    /// Times labelled in `zone` rather than UTC (the SQL tables).
    labelled: bool,
    properties: Arc<PlanProperties>,
}

impl ResampleExec {
    pub fn try_new(source: Arc<BarFrame>, timeframe: Timeframe, zone: Tz) -> Result<Self> {
        Self::with_schema(source, timeframe, zone, false)
    }

    /// The same operator with its times labelled in `zone`, as SQL shows them.
    pub fn labelled(source: Arc<BarFrame>, timeframe: Timeframe, zone: Tz) -> Result<Self> {
        Self::with_schema(source, timeframe, zone, true)
    }

    fn with_schema(
        source: Arc<BarFrame>,
        timeframe: Timeframe,
        zone: Tz,
        labelled: bool,
    ) -> Result<Self> {
        let schema = if labelled {
            BarFrame::schema_in(zone.name())
        } else {
            BarFrame::schema()
        };
        let ordering = [PhysicalSortExpr::new_default(col(TIME, &schema)?)];
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema, [ordering]),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(ResampleExec {
            source,
            timeframe,
            zone,
            labelled,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for ResampleExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ResampleExec: timeframe={}, zone={}, source_rows={}",
            self.timeframe,
            self.zone,
            self.source.len()
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

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        super::leaf_with_new_children(self, &children)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ResampleExec has one partition, asked for {partition}"
            )));
        }
        let (source, timeframe, zone) = (Arc::clone(&self.source), self.timeframe, self.zone);
        let labelled = self.labelled;
        let bars = futures::stream::once(async move {
            let frame = resample(&source, timeframe, zone);
            if labelled {
                Ok(frame.record_batch_in(zone.name())?)
            } else {
                Ok(frame.record_batch().clone())
            }
        });
        let schema: SchemaRef = self.properties.eq_properties.schema().clone();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, bars)))
    }
}
