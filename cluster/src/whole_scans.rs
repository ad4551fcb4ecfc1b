//! [`WholeScans`]: Candela's scans of many series read whole by one task.
//!
//! Ballista cuts a stage into tasks by the partitions of its leaves, and
//! restricts each task's leaves to its partitions by a list of the leaf
//! types it knows (file and memory scans, shuffle readers); any other leaf
//! reaches every task whole, so each task would read partitions that are
//! not its own, and rows would repeat. A scan of the `bars` table, a
//! partition per series, is put under a [`WholeScanExec`], which asks for
//! its input in one partition: Ballista then gives one task the whole scan
//! (a thread per series, as locally), and spreads the operators above over
//! the executors by its shuffles.

use std::fmt;
use std::sync::Arc;

use candela_sql::stored_bars::StoredBarsExec;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{Distribution, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};

/// Puts every scan of many series under a [`WholeScanExec`].
#[derive(Debug, Default)]
pub struct WholeScans;

impl PhysicalOptimizerRule for WholeScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.is::<StoredBarsExec>() && node.output_partitioning().partition_count() > 1 {
                return Ok(Transformed::yes(WholeScanExec::over(node)));
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "candela_whole_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Its input's partitions merged into one, by DataFusion's
/// `CoalescePartitionsExec`; declared as needing its input in one
/// partition, which is what tells Ballista to keep the input whole.
#[derive(Debug)]
pub struct WholeScanExec {
    merged: Arc<CoalescePartitionsExec>,
}

impl WholeScanExec {
    pub fn over(input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(WholeScanExec {
            merged: Arc::new(CoalescePartitionsExec::new(input)),
        })
    }

    fn input(&self) -> &Arc<dyn ExecutionPlan> {
        self.merged.input()
    }
}

impl DisplayAs for WholeScanExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "WholeScanExec")
    }
}

impl ExecutionPlan for WholeScanExec {
    fn name(&self) -> &'static str {
        "WholeScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.merged.properties()
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.input()]
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
        match <[_; 1]>::try_from(children) {
            Ok([input]) => Ok(WholeScanExec::over(input)),
            Err(children) => Err(DataFusionError::Internal(format!(
                "WholeScanExec has one input, given {}",
                children.len()
            ))),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.merged.execute(partition, context)
    }
}
