//! [`Remote`]: queries planned here and run elsewhere, on a cluster.
//!
//! The service keeps its bounds either way: the guard, the row and result
//! caps and the deadline are applied here, before a plan leaves and while
//! its rows come back; a query stopped early is cancelled where it runs.

use std::fmt;
use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::session_state::SessionState;
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;

/// Where queries run when not in this process.
pub trait Remote: fmt::Debug + Send + Sync {
    /// `state` made to send the plans it makes there.
    fn distribute(&self, state: SessionState) -> Result<SessionState>;

    /// Stops, where it runs, the query that executing `plan` (a plan of a
    /// state [`Remote::distribute`] made) started, if it still runs.
    fn cancel(&self, plan: Arc<dyn ExecutionPlan>) -> BoxFuture<'static, ()>;
}
