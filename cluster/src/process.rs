//! The cluster's processes, Ballista's own with Candela's pieces plugged
//! in: the scheduler (`candela scheduler`), an executor (`candela
//! executor`), and both in one process (Ballista's standalone cluster).

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::SessionBuilder;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use candela_sql::{SqlCatalog, SqlLimits};
use datafusion::error::Result;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::SessionConfig;

use crate::codec::{LogicalCodec, PhysicalCodec};
use crate::error::ClusterError;
use crate::remote::{SchedulerUrl, for_ballista};
use crate::whole_scans::WholeScans;

/// How long an executor or the standalone cluster waits for its scheduler.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A runtime whose memory pool holds one query's operators on one executor
/// within `sql.memory_limit_mb`, spilling off, as on the server.
fn bounded_runtime(limits: &SqlLimits) -> Result<Arc<RuntimeEnv>> {
    let pool = TrackConsumersPool::new(
        GreedyMemoryPool::new(limits.memory_bytes),
        NonZeroUsize::MIN,
    );
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .build_arc()
}

/// The catalog's session under `config`, as every process of the cluster
/// plans and runs with it: Candela's tables and caps, a bounded runtime,
/// and its scans made whole for Ballista's tasks ([`WholeScans`]).
fn session(
    catalog: &SqlCatalog,
    config: SessionConfig,
    limits: &SqlLimits,
) -> Result<SessionState> {
    let state = catalog.session(config, limits)?.state();
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(bounded_runtime(limits)?)
        .with_physical_optimizer_rule(Arc::new(WholeScans))
        .build())
}

/// Starts Ballista's standalone cluster on this runtime: a scheduler and an
/// executor on free loopback ports. Returns the scheduler's port.
pub(crate) async fn standalone(
    catalog: &SqlCatalog,
    limits: &SqlLimits,
) -> Result<u16, ClusterError> {
    let failed = |e: &dyn std::fmt::Display| ClusterError::Start {
        what: "Ballista's standalone cluster",
        reason: e.to_string(),
    };
    let config = for_ballista(SessionConfig::new(), catalog);
    let state = session(catalog, config, limits).map_err(|e| failed(&e))?;
    let address = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
        .await
        .map_err(|e| failed(&e))?;
    let scheduler = connect(&SchedulerUrl {
        host: "localhost".into(),
        port: address.port(),
    })
    .await?;
    ballista_executor::new_standalone_executor_from_state(scheduler, limits.threads.max(1), &state)
        .await
        .map_err(|e| failed(&e))?;
    Ok(address.port())
}

/// A client of the scheduler, waiting for it to listen.
async fn connect(
    url: &SchedulerUrl,
) -> Result<SchedulerGrpcClient<tonic::transport::Channel>, ClusterError> {
    let endpoint = format!("http://{}:{}", url.host, url.port);
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        match SchedulerGrpcClient::connect(endpoint.clone()).await {
            Ok(client) => return Ok(client),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(ClusterError::Unreachable {
                    url: url.to_string(),
                    reason: e.to_string(),
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Ballista's scheduler on `bind`, planning with Candela's catalog and
/// codecs. Runs until the process stops.
pub async fn scheduler(
    bind: SocketAddr,
    catalog: SqlCatalog,
    limits: SqlLimits,
) -> Result<(), ClusterError> {
    let failed = |e: &dyn std::fmt::Display| ClusterError::Start {
        what: "the Ballista scheduler",
        reason: e.to_string(),
    };
    let sessions = catalog.clone();
    let builder: SessionBuilder = Arc::new(move |config: SessionConfig| {
        session(&sessions, for_ballista(config, &sessions), &limits)
    });
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        override_session_builder: Some(builder),
        override_logical_codec: Some(Arc::new(LogicalCodec::new(catalog.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::new(catalog))),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed(&e))?;
    start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(|e| failed(&e))
}

/// Where an executor listens: Arrow Flight for results and shuffles on
/// `bind`, its gRPC service on `grpc_port` of the same host.
#[derive(Debug, Clone, Copy)]
pub struct ExecutorPorts {
    pub bind: SocketAddr,
    pub grpc_port: u16,
}

/// A Ballista executor of `limits.threads` task slots for the scheduler at
/// `scheduler`, resolving plans with Candela's catalog and codecs, its
/// tasks' operators within `limits.memory_bytes` together. Runs until the
/// process stops or the scheduler tells it to.
pub async fn executor(
    scheduler: SchedulerUrl,
    ports: ExecutorPorts,
    catalog: SqlCatalog,
    limits: SqlLimits,
) -> Result<(), ClusterError> {
    let failed = |e: &dyn std::fmt::Display| ClusterError::Start {
        what: "the Ballista executor",
        reason: e.to_string(),
    };
    let functions = session(&catalog, SessionConfig::new(), &limits).map_err(|e| failed(&e))?;
    let config = ExecutorProcessConfig {
        bind_host: ports.bind.ip().to_string(),
        external_host: Some(ports.bind.ip().to_string()),
        port: ports.bind.port(),
        grpc_port: ports.grpc_port,
        scheduler_host: scheduler.host.clone(),
        scheduler_port: scheduler.port,
        scheduler_connect_timeout_seconds: CONNECT_TIMEOUT.as_secs() as u16,
        vcores: limits.threads.max(1),
        print_thread_info: false,
        // Ballista's pool, split between the task slots: the operators of
        // every task on this executor hold sql.memory_limit_mb at most.
        memory_pool_size: Some(limits.memory_bytes as u64),
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
        override_logical_codec: Some(Arc::new(LogicalCodec::new(catalog.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::new(catalog))),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed(&e))
}
