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
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::windows::WindowAggExec;

use crate::held_bytes;
use crate::watch::{Watch, Watcher, watch_inputs_of};

/// `plan` with the input of every `WindowAggExec` counted.
pub fn count_window_input(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    watch_inputs_of(plan, |_: &WindowAggExec| WindowInput)
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
