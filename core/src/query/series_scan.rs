//! [`SeriesScanExec`]: a stored timeframe of one series as SQL scans it,
//! read when executed rather than when planned.
//!
//! Reading at execution keeps the plan small and self-contained: it names
//! the series, the window and the columns, never their bars, so a plan made
//! by one process (a Ballista scheduler) is run by another (an executor),
//! which reads the bars from the same data root.

use std::fmt;
use std::sync::Arc;

use datafusion::common::project_schema;
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
use crate::load::{Stop, TimeWindow};
use crate::store::{Caching, SeriesPlan, Store};

/// The bars of a stored (not aggregated) timeframe, times labelled in the
/// provider's zone, from the cache if there, else only the row groups that
/// may meet `window`, read for this query alone and given up with it.
#[derive(Debug)]
pub struct SeriesScanExec {
    store: Arc<Store>,
    plan: SeriesPlan,
    window: TimeWindow,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl SeriesScanExec {
    pub fn try_new(
        store: Arc<Store>,
        plan: SeriesPlan,
        window: TimeWindow,
        projection: Option<Vec<usize>>,
    ) -> Result<Self> {
        if plan.aggregated() {
            return Err(DataFusionError::Internal(format!(
                "{} {} is aggregated from {}: a ResampleExec scans it",
                plan.symbol, plan.timeframe, plan.source
            )));
        }
        let schema = project_schema(&BarFrame::schema_in(plan.zone.name()), projection.as_ref())?;
        let orderings = col(TIME, &schema)
            .ok()
            .map(|time| vec![PhysicalSortExpr::new_default(time)]);
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema, orderings),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(SeriesScanExec {
            store,
            plan,
            window,
            projection,
            properties: Arc::new(properties),
        })
    }

    pub fn plan(&self) -> &SeriesPlan {
        &self.plan
    }

    pub fn window(&self) -> TimeWindow {
        self.window
    }

    pub fn projection(&self) -> Option<&[usize]> {
        self.projection.as_deref()
    }
}

impl DisplayAs for SeriesScanExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SeriesScanExec: series={} {}",
            self.plan.symbol, self.plan.timeframe
        )?;
        if self.window != TimeWindow::ALL {
            write!(f, ", window=[{}, {}]", self.window.from, self.window.to)?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SeriesScanExec {
    fn name(&self) -> &'static str {
        "SeriesScanExec"
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
                "SeriesScanExec has one partition, asked for {partition}"
            )));
        }
        let stop = Stop::of_session(context.session_config());
        let (store, plan, window) = (Arc::clone(&self.store), self.plan.clone(), self.window);
        let projection = self.projection.clone();
        let bars = futures::stream::once(async move {
            let zone = plan.zone;
            // Reading parquet blocks: off the runtime's threads.
            let frame = tokio::task::spawn_blocking(move || {
                if window == TimeWindow::ALL {
                    store.source_frame(&plan, &Caching::Peek(stop))
                } else {
                    store.source_window(&plan, window, &stop)
                }
            })
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let batch = frame.record_batch_in(zone.name())?;
            Ok(match &projection {
                Some(columns) => batch.project(columns)?,
                None => batch,
            })
        });
        let schema = self.properties.eq_properties.schema().clone();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, bars)))
    }
}
