//! [`ResampleExec`]: DataFusion's physical operator for timeframe aggregation.
//!
//! A leaf that owns its input — time-sorted bars in memory, or a stored
//! series it reads itself — so that it folds whole columns (see
//! [`crate::resample`], which splits the work between threads at a bin
//! boundary) instead of a hash aggregation with per-group ordering state, or
//! a fold over the small batches a memory scan would cut the columns into.
//! A series not yet in memory is folded while its parquet is decoded
//! ([`crate::load::StoredSeries::load_aggregated`]). It declares its output sorted by time,
//! so DataFusion adds no sort above it.

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

use super::Reader;
use crate::frame::{BarFrame, TIME};
use crate::load::Stop;
use crate::resample::resample;
use crate::store::{Caching, SeriesPlan, Store};
use crate::timeframe::Timeframe;

/// The bars a [`ResampleExec`] aggregates.
#[derive(Debug, Clone)]
pub enum ResampleInput {
    /// Source bars already in memory.
    Frame(Arc<BarFrame>),
    /// The source of an aggregated plan, read when executed: the aggregated
    /// bars from the store's cache, or the source from it, or else from
    /// disk, folded while it is decoded, and cached or not as `reader` says.
    Stored {
        store: Arc<Store>,
        plan: SeriesPlan,
        reader: Reader,
    },
}

impl ResampleInput {
    async fn aggregate(self, timeframe: Timeframe, zone: Tz, stop: Stop) -> Result<BarFrame> {
        match self {
            ResampleInput::Frame(source) => Ok(resample(&source, timeframe, zone)),
            ResampleInput::Stored {
                store,
                plan,
                reader,
            } => {
                if let Some(bars) = store.cached(&plan) {
                    return Ok(bars.as_ref().clone());
                }
                let caching = match reader {
                    Reader::Charts => Caching::Keep,
                    Reader::Sql => Caching::Peek(stop),
                };
                // Reading parquet blocks: off the runtime's threads.
                tokio::task::spawn_blocking(move || store.resampled_frame(&plan, &caching))
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            }
        }
    }
}

/// The bars of an input aggregated to `timeframe` in `zone`.
#[derive(Debug)]
pub struct ResampleExec {
    input: ResampleInput,
    timeframe: Timeframe,
    zone: Tz,
    /// Times labelled in `zone` rather than UTC (the SQL tables).
    labelled: bool,
    properties: Arc<PlanProperties>,
}

impl ResampleExec {
    pub fn try_new(input: ResampleInput, timeframe: Timeframe, zone: Tz) -> Result<Self> {
        Self::with_schema(input, timeframe, zone, false)
    }

    /// The same operator with its times labelled in `zone`, as SQL shows them.
    pub fn labelled(input: ResampleInput, timeframe: Timeframe, zone: Tz) -> Result<Self> {
        Self::with_schema(input, timeframe, zone, true)
    }

    pub fn input(&self) -> &ResampleInput {
        &self.input
    }

    /// Whether its times are labelled in its zone ([`ResampleExec::labelled`]).
    pub fn is_labelled(&self) -> bool {
        self.labelled
    }

    fn with_schema(
        input: ResampleInput,
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
            input,
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
            "ResampleExec: timeframe={}, zone={}, ",
            self.timeframe, self.zone
        )?;
        match &self.input {
            ResampleInput::Frame(source) => write!(f, "source_rows={}", source.len()),
            ResampleInput::Stored { plan, .. } => {
                write!(f, "source={} {}", plan.symbol, plan.source)
            }
        }
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
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ResampleExec has one partition, asked for {partition}"
            )));
        }
        let stop = Stop::of_session(context.session_config());
        let (input, timeframe, zone) = (self.input.clone(), self.timeframe, self.zone);
        let labelled = self.labelled;
        let bars = futures::stream::once(async move {
            let frame = input.aggregate(timeframe, zone, stop).await?;
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
