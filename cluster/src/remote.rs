//! [`Ballista`]: the [`Remote`] that sends queries to a Ballista scheduler,
//! on other machines or, for a single machine, in this process.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::CancelJobParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use candela_sql::{Remote, SqlCatalog, SqlLimits};
use datafusion::error::Result;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::LogicalPlanNode;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::runtime::Runtime;

use crate::codec::{LogicalCodec, PhysicalCodec};
use crate::error::ClusterError;
use crate::process;

/// How long a cancellation may take to reach the scheduler.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// A scheduler's address, `df://HOST:PORT` as written in `sql.scheduler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerUrl {
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for SchedulerUrl {
    type Err = ClusterError;

    fn from_str(text: &str) -> Result<SchedulerUrl, ClusterError> {
        let bad = || ClusterError::BadScheduler(text.to_owned());
        let rest = text.strip_prefix("df://").ok_or_else(bad)?;
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "50050"));
        let port = port.trim_end_matches('/').parse().map_err(|_| bad())?;
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(bad());
        }
        Ok(SchedulerUrl {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for SchedulerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

impl SchedulerUrl {
    /// The gRPC endpoint Ballista's clients connect to.
    fn endpoint(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

/// Queries sent to a Ballista scheduler.
pub struct Ballista {
    scheduler: SchedulerUrl,
    catalog: SqlCatalog,
    /// The threads of an in-process cluster: it serves while they run.
    standalone: Option<Runtime>,
}

impl fmt::Debug for Ballista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ballista")
            .field("scheduler", &self.scheduler.to_string())
            .field("standalone", &self.standalone.is_some())
            .finish_non_exhaustive()
    }
}

impl Ballista {
    /// The cluster whose scheduler listens at `scheduler`. Nothing is sent
    /// until the first query.
    pub fn connect(scheduler: SchedulerUrl, catalog: SqlCatalog) -> Ballista {
        Ballista {
            scheduler,
            catalog,
            standalone: None,
        }
    }

    /// Ballista's standalone cluster, in this process: a scheduler and one
    /// executor of `limits.threads` task slots, on loopback ports of their
    /// own, with Candela's codecs and catalog.
    pub fn standalone(catalog: SqlCatalog, limits: &SqlLimits) -> Result<Ballista, ClusterError> {
        let start = |reason: String| ClusterError::Start {
            what: "Ballista's standalone cluster",
            reason,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(limits.threads.max(1))
            .thread_name("candela-ballista")
            .enable_all()
            .build()
            .map_err(|e| start(e.to_string()))?;
        // On a thread of its own: the caller may itself be on a runtime.
        let port = std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(process::standalone(&catalog, limits)))
                .join()
        })
        .map_err(|_| start("its start-up panicked".into()))?
        .map_err(|e| start(e.to_string()))?;
        let scheduler = SchedulerUrl {
            host: "localhost".into(),
            port,
        };
        tracing::info!("SQL runs on Ballista's standalone cluster, scheduler at {scheduler}");
        Ok(Ballista {
            scheduler,
            catalog,
            standalone: Some(runtime),
        })
    }

    pub fn scheduler(&self) -> &SchedulerUrl {
        &self.scheduler
    }
}

impl Drop for Ballista {
    fn drop(&mut self) {
        if let Some(runtime) = self.standalone.take() {
            runtime.shutdown_background();
        }
    }
}

/// `config` made Ballista's, carrying Candela's codecs, which Ballista's
/// planner and the standalone cluster take from it.
pub(crate) fn for_ballista(config: SessionConfig, catalog: &SqlCatalog) -> SessionConfig {
    config
        .upgrade_for_ballista()
        // The adaptive planner's window rewrites split a window's input
        // into ranges and lose Candela's window operators' output; an
        // indicator needs its partition whole, in order, anyway.
        .with_ballista_adaptive_query_planner(false)
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::new(catalog.clone())))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::new(catalog.clone())))
}

impl Remote for Ballista {
    fn distribute(&self, state: SessionState) -> Result<SessionState> {
        // The catalog is the state's: a default one made anew would drop
        // its tables (Ballista's upgrade builds the state again from this
        // config).
        let config = for_ballista(state.config().clone(), &self.catalog)
            .with_create_default_catalog_and_schema(false);
        SessionStateBuilder::new_from_existing(state)
            .with_config(config)
            .build()
            .upgrade_for_ballista(self.scheduler.endpoint())
    }

    fn cancel(&self, plan: Arc<dyn ExecutionPlan>) -> BoxFuture<'static, ()> {
        let job = plan
            .downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
            .and_then(DistributedQueryExec::job_id);
        let endpoint = self.scheduler.endpoint();
        async move {
            // Not yet accepted: the scheduler has nothing to cancel.
            let Some(job) = job else { return };
            let cancel = async {
                let mut client = SchedulerGrpcClient::connect(endpoint.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                client
                    .cancel_job(CancelJobParams {
                        job_id: job.as_str().to_owned(),
                    })
                    .await
                    .map_err(|e| e.message().to_owned())
            };
            match tokio::time::timeout(CANCEL_TIMEOUT, cancel).await {
                Ok(Ok(_)) => tracing::info!("cancelled the cluster's job {}", job.as_str()),
                Ok(Err(e)) => tracing::warn!(
                    "could not cancel the cluster's job {} at {endpoint}: {e}",
                    job.as_str()
                ),
                Err(_) => tracing::warn!(
                    "the scheduler at {endpoint} did not answer the cancellation of job {} in time",
                    job.as_str()
                ),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses_are_df_urls() {
        let url: SchedulerUrl = "df://sched.internal:50050".parse().expect("url");
        assert_eq!((url.host.as_str(), url.port), ("sched.internal", 50050));
        assert_eq!(url.endpoint(), "http://sched.internal:50050");
        let default: SchedulerUrl = "df://localhost".parse().expect("default port");
        assert_eq!(default.port, 50050);
        for bad in [
            "http://x:1",
            "df://",
            "df://:50050",
            "df://x:port",
            "df://a/b:1",
            "x",
        ] {
            assert!(bad.parse::<SchedulerUrl>().is_err(), "{bad}");
        }
    }
}
