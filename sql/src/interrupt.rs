//! Stopping a query that runs too long, wherever it is.
//!
//! Dropping a query's stream does not stop it: an operator such as a hash join
//! can keep producing batches for its parent inside one poll without ever
//! returning to the executor, so neither a timeout around the future nor the
//! abort of its task takes effect. Instead every operator of the physical plan
//! is wrapped in an `InterruptibleExec` whose stream checks the query's
//! [`Interrupt`] each time it is polled, and fails with [`TimeLimitExceeded`]
//! once the deadline has passed or the query was cancelled: the error travels
//! up through the operators, each of which stops, and their tasks end.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{Stream, StreamExt};

/// A query ran past its time limit (or was cancelled when it did).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the query exceeded its time limit of {} s", .0.as_secs_f64())]
pub struct TimeLimitExceeded(pub Duration);

/// One query's deadline, and a switch to stop it sooner.
#[derive(Debug)]
pub struct Interrupt {
    limit: Duration,
    deadline: Instant,
    cancelled: AtomicBool,
}

impl Interrupt {
    pub fn after(limit: Duration) -> Arc<Interrupt> {
        Arc::new(Interrupt {
            limit,
            deadline: Instant::now() + limit,
            cancelled: AtomicBool::new(false),
        })
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn check(&self) -> Result<()> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            self.cancel();
            return Err(DataFusionError::External(Box::new(TimeLimitExceeded(
                self.limit,
            ))));
        }
        Ok(())
    }
}

/// `plan` with every operator wrapped so that `interrupt` can stop it.
pub fn make_interruptible(
    plan: Arc<dyn ExecutionPlan>,
    interrupt: &Arc<Interrupt>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        Ok(Transformed::yes(Arc::new(InterruptibleExec {
            input: node,
            interrupt: Arc::clone(interrupt),
        }) as Arc<dyn ExecutionPlan>))
    })
    .map(|t| t.data)
}

/// An operator whose output stream fails once its query is interrupted.
/// Otherwise invisible: same properties, and downcasts reach the operator.
#[derive(Debug)]
struct InterruptibleExec {
    input: Arc<dyn ExecutionPlan>,
    interrupt: Arc<Interrupt>,
}

impl DisplayAs for InterruptibleExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "InterruptibleExec")
    }
}

impl ExecutionPlan for InterruptibleExec {
    fn name(&self) -> &'static str {
        "InterruptibleExec"
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
            (Some(input), true) => Ok(Arc::new(InterruptibleExec {
                input,
                interrupt: Arc::clone(&self.interrupt),
            })),
            _ => Err(DataFusionError::Internal(
                "InterruptibleExec wraps exactly one operator".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.interrupt.check()?;
        Ok(Box::pin(InterruptibleStream {
            input: self.input.execute(partition, context)?,
            interrupt: Arc::clone(&self.interrupt),
        }))
    }
}

struct InterruptibleStream {
    input: SendableRecordBatchStream,
    interrupt: Arc<Interrupt>,
}

impl Stream for InterruptibleStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Err(e) = self.interrupt.check() {
            return Poll::Ready(Some(Err(e)));
        }
        self.input.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.input.size_hint()
    }
}

impl RecordBatchStream for InterruptibleStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
