//! [`WatchedExec`]: how a bound that DataFusion's own operators do not keep
//! is put into a plan. The operator passes its input's batches through
//! unchanged while a [`Watch`] looks at every poll and every batch, and may
//! stop the query with an error, which travels up through the operators
//! above as any other error does.
//!
//! The watches: the deadline on every operator ([`crate::interrupt`]), the
//! row cap on generated tables ([`crate::generated`]), and the memory a
//! window operator buffers ([`crate::window_memory`]).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{Stream, StreamExt};

/// A bound kept over an operator's output, one [`Watcher`] per partition.
pub trait Watch: fmt::Debug + Send + Sync + 'static {
    /// The operator's name in `EXPLAIN`.
    const NAME: &'static str;
    type Watcher: Watcher;

    /// The watcher of one partition's stream; an error stops the query
    /// before the input is executed.
    fn watcher(self: &Arc<Self>, context: &Arc<TaskContext>) -> Result<Self::Watcher>;
}

/// Watches one stream of batches.
pub trait Watcher: Send + Unpin + 'static {
    /// Before every poll of the input.
    fn before_poll(&mut self) -> Result<()> {
        Ok(())
    }

    /// On every batch, before it is passed on.
    fn on_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        let _ = batch;
        Ok(())
    }
}

/// `input` with `watch` over its output. Otherwise invisible: same
/// properties, and downcasts reach the operator.
#[derive(Debug)]
pub struct WatchedExec<W> {
    input: Arc<dyn ExecutionPlan>,
    watch: Arc<W>,
}

impl<W: Watch> WatchedExec<W> {
    pub fn wrap(input: Arc<dyn ExecutionPlan>, watch: Arc<W>) -> Arc<dyn ExecutionPlan> {
        Arc::new(WatchedExec { input, watch })
    }
}

/// `plan` with the inputs of every `T` operator watched, by the watch
/// `watch_of` makes for that operator.
pub fn watch_inputs_of<T: ExecutionPlan, W: Watch>(
    plan: Arc<dyn ExecutionPlan>,
    watch_of: impl Fn(&T) -> W,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(operator) = node.downcast_ref::<T>() else {
            return Ok(Transformed::no(node));
        };
        let watch = Arc::new(watch_of(operator));
        let children = node
            .children()
            .into_iter()
            .map(|child| WatchedExec::wrap(Arc::clone(child), Arc::clone(&watch)))
            .collect();
        // The watched children are the same operators, with the same properties.
        let keep = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep);
        Ok(Transformed::yes(node.replace_children(children, keep)?))
    })
    .map(|t| t.data)
}

impl<W: Watch> DisplayAs for WatchedExec<W> {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", W::NAME)
    }
}

impl<W: Watch> ExecutionPlan for WatchedExec<W> {
    fn name(&self) -> &'static str {
        W::NAME
    }

    fn downcast_delegate(&self) -> Option<&dyn ExecutionPlan> {
        Some(self.input.as_ref())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(WatchedExec::wrap(input, Arc::clone(&self.watch))),
            _ => Err(DataFusionError::Internal(format!(
                "{} wraps exactly one operator",
                W::NAME
            ))),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let mut watcher = self.watch.watcher(&context)?;
        watcher.before_poll()?;
        Ok(Box::pin(WatchedStream {
            input: self.input.execute(partition, context)?,
            watcher,
        }))
    }
}

struct WatchedStream<W> {
    input: SendableRecordBatchStream,
    watcher: W,
}

impl<W: Watcher> Stream for WatchedStream<W> {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Err(e) = self.watcher.before_poll() {
            return Poll::Ready(Some(Err(e)));
        }
        match self.input.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(batch))) => {
                Poll::Ready(Some(self.watcher.on_batch(&batch).map(|()| batch)))
            }
            other => other,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.input.size_hint()
    }
}

impl<W: Watcher> RecordBatchStream for WatchedStream<W> {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
