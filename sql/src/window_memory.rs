//! The memory a window operator buffers, counted against the query's pool.
//!
//! DataFusion's `WindowAggExec` (what a window without a bounded frame
//! becomes, and every indicator, which needs its partition whole) holds all
//! of its input before it emits a row, but reserves none of it in the memory
//! pool that bounds sorts, joins and aggregations. Its input is watched
//! ([`crate::watch`]) by a reservation that grows with every batch it
//! receives and is released when the operator is dropped, so a window over
//! too much data fails as a sort over it would: with the memory limit.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::windows::WindowAggExec;

use crate::held_bytes;
use crate::watch::{Watch, WatchedExec, Watcher};

/// `plan` with the input of every `WindowAggExec` counted.
pub fn count_window_input(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if !node.is::<WindowAggExec>() {
            return Ok(Transformed::no(node));
        }
        let children = node
            .children()
            .into_iter()
            .map(|child| WatchedExec::wrap(Arc::clone(child), Arc::new(WindowInput)))
            .collect();
        // The watched children are the same operators, with the same properties.
        let keep = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep);
        Ok(Transformed::yes(node.replace_children(children, keep)?))
    })
    .map(|t| t.data)
}

#[derive(Debug)]
struct WindowInput;

impl Watch for WindowInput {
    const NAME: &'static str = "WindowBufferCountExec";
    type Watcher = Reserved;

    fn watcher(self: &Arc<Self>, context: &Arc<TaskContext>) -> Result<Reserved> {
        Ok(Reserved(
            MemoryConsumer::new("WindowAggExec buffer").register(context.memory_pool()),
        ))
    }
}

struct Reserved(MemoryReservation);

impl Watcher for Reserved {
    fn on_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.try_grow(held_bytes(batch))
    }
}
