//! Stopping a query that runs too long, wherever it is.
//!
//! Dropping a query's stream does not stop it: an operator such as a hash join
//! can keep producing batches for its parent inside one poll without ever
//! returning to the executor, so neither a timeout around the future nor the
//! abort of its task takes effect. Instead every operator of the physical plan
//! is watched ([`crate::watch`]) by the query's [`Interrupt`], checked each
//! time the operator is polled, and fails with [`TimeLimitExceeded`]
//! once the deadline has passed or the query was cancelled: the error travels
//! up through the operators, each of which stops, and their tasks end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;

use crate::watch::{Watch, WatchedExec, Watcher};

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

    /// The time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
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
        Ok(Transformed::yes(WatchedExec::wrap(
            node,
            Arc::clone(interrupt),
        )))
    })
    .map(|t| t.data)
}

impl Watch for Interrupt {
    const NAME: &'static str = "InterruptibleExec";
    type Watcher = Arc<Interrupt>;

    fn watcher(self: &Arc<Self>, _context: &Arc<TaskContext>) -> Result<Arc<Interrupt>> {
        Ok(Arc::clone(self))
    }
}

impl Watcher for Arc<Interrupt> {
    fn before_poll(&mut self) -> Result<()> {
        self.check()
    }
}
