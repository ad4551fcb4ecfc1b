//! [`SqlService`]: runs one query at a time per slot, each in a session of
//! its own, on threads of its own, inside its limits.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use candela_core::load::Stop;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execute_stream;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

use crate::catalog::SqlCatalog;
use crate::error::SqlError;
use crate::interrupt::{Interrupt, make_interruptible};
use crate::remote::Remote;
use crate::unnest_size::cap_unnest_output;
use crate::window_memory::count_window_input;
use crate::{guard, held_bytes, parameters, value_size};

/// Stack of the query threads. The planner and optimizer recurse over the
/// expression tree; nesting is bounded ([`guard::MAX_NESTING`]), and the
/// stack is ample besides (only the pages touched are ever committed).
const STACK_BYTES: usize = 128 << 20;

/// How long past its deadline a query may take to notice it before the
/// caller is answered anyway; it still stops at its next batch.
const GRACE: Duration = Duration::from_secs(1);

/// The bounds every query runs inside. `candela.toml`'s `[sql]` sets them.
#[derive(Debug, Clone)]
pub struct SqlLimits {
    /// Rows returned at most; a longer result is cut and marked truncated.
    pub max_rows: usize,
    /// Wall time from the start of planning to the last row.
    pub time_limit: Duration,
    /// Memory one query's operators may reserve (sorts, joins, aggregations).
    pub memory_bytes: usize,
    /// Queries running at once; others wait up to `queue_timeout`.
    pub max_concurrent: usize,
    pub queue_timeout: Duration,
    /// Longest SQL text accepted.
    pub max_query_bytes: usize,
    /// Threads that run queries, apart from the HTTP and bar-loading ones.
    pub threads: usize,
    /// Rows a `generate_series` or `range` table may produce.
    pub max_generated_rows: u64,
    /// Bytes one call of a function such as `repeat` or `array_repeat` may
    /// build ([`crate::value_size`]).
    pub max_value_bytes: usize,
    /// Bytes of result held at most (and, once encoded, sent at most); a
    /// larger result is cut and marked truncated, as at the row cap.
    pub max_result_bytes: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_rows: 100_000,
            time_limit: Duration::from_secs(10),
            memory_bytes: 1 << 30,
            max_concurrent: 2,
            queue_timeout: Duration::from_secs(5),
            max_query_bytes: 64 << 10,
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            max_generated_rows: 10_000_000,
            max_value_bytes: 64 << 20,
            max_result_bytes: 64 << 20,
        }
    }
}

/// A query's answer: at most `max_rows` rows, holding at most
/// `max_result_bytes`.
#[derive(Debug)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// More rows existed than were returned.
    pub truncated: bool,
}

impl QueryResult {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// What a query returns and the parameters it takes ([`SqlService::prepare`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub schema: SchemaRef,
    /// One field per placeholder, `$1`, `$2`, … in order.
    pub parameters: SchemaRef,
}

/// One table of the catalog ([`SqlService::tables`]).
#[derive(Debug, Clone)]
pub struct ListedTable {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub columns: SchemaRef,
}

/// Read-only SQL over a catalog, run here or on a cluster ([`Remote`]).
pub struct SqlService {
    catalog: SqlCatalog,
    limits: SqlLimits,
    /// The catalog and DataFusion's own functions; each query gets a copy
    /// with the indicators of the moment and a memory pool of its own.
    base: SessionState,
    remote: Option<Arc<dyn Remote>>,
    slots: Arc<Semaphore>,
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for SqlService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlService")
            .field("limits", &self.limits)
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl SqlService {
    /// The service over `catalog`, running its queries in this process.
    pub fn new(catalog: SqlCatalog, limits: SqlLimits) -> Result<SqlService, SqlError> {
        Self::start(catalog, limits, None)
    }

    /// The service over `catalog`, planning its queries here and running
    /// them on `remote`.
    pub fn on(
        remote: Arc<dyn Remote>,
        catalog: SqlCatalog,
        limits: SqlLimits,
    ) -> Result<SqlService, SqlError> {
        Self::start(catalog, limits, Some(remote))
    }

    fn start(
        catalog: SqlCatalog,
        limits: SqlLimits,
        remote: Option<Arc<dyn Remote>>,
    ) -> Result<SqlService, SqlError> {
        let threads = limits.threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .max_blocking_threads(threads * 2)
            .thread_stack_size(STACK_BYTES)
            .thread_name("candela-sql")
            .enable_all()
            .build()
            .map_err(|e| SqlError::Internal(format!("cannot start the SQL threads: {e}")))?;
        let internal = |e: DataFusionError| SqlError::Internal(e.to_string());
        let local = catalog
            .session(session_config(threads), &limits)
            .map_err(internal)?;
        let base = match &remote {
            None => local.state(),
            Some(remote) => {
                let context = SessionContext::new_with_state(
                    remote.distribute(local.state()).map_err(internal)?,
                );
                // Distributing replaces the functions with DataFusion's own.
                value_size::cap_growing_functions(&context, limits.max_value_bytes);
                context.state()
            }
        };
        Ok(SqlService {
            catalog,
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            base,
            remote,
            runtime: Some(runtime),
        })
    }

    pub fn limits(&self) -> &SqlLimits {
        &self.limits
    }

    pub fn catalog(&self) -> &SqlCatalog {
        &self.catalog
    }

    /// Runs `sql` within the limits. Waits for a free slot (up to the queue
    /// timeout); the query is cancelled if the caller stops waiting.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, SqlError> {
        self.query_with(sql, Vec::new()).await
    }

    /// What `sql`, with `parameters` bound to its placeholders (`$1` or
    /// `?`, by position), returns and takes: checked and planned as
    /// [`SqlService::query`] would, not run.
    pub async fn prepare(
        &self,
        sql: &str,
        parameters: Vec<ScalarValue>,
    ) -> Result<Prepared, SqlError> {
        guard::check_length(sql, self.limits.max_query_bytes)?;
        let runtime = self.runtime()?;
        let interrupt = Interrupt::after(self.limits.time_limit);
        let _cancel_when_dropped = CancelOnDrop(Arc::clone(&interrupt));
        let context = self.session(&interrupt)?;
        let (sql, memory_mb) = (sql.to_owned(), self.limits.memory_bytes >> 20);
        // The planner recurses: on the query threads, with their stacks.
        let task = runtime.spawn(async move {
            let df = |e| SqlError::from_datafusion(e, memory_mb);
            let plan = plan(&context, &sql, parameters, df).await?;
            Ok(Prepared {
                schema: Arc::new(plan.schema().as_arrow().clone()),
                parameters: parameters::parameter_schema(&plan).map_err(df)?,
            })
        });
        match tokio::time::timeout(self.limits.time_limit, task).await {
            Ok(Ok(prepared)) => prepared,
            Ok(Err(panic)) => Err(SqlError::Internal(format!("planning crashed: {panic}"))),
            Err(_) => Err(SqlError::TimeLimit(self.limits.time_limit)),
        }
    }

    /// [`SqlService::query`] with `parameters` bound to the placeholders of
    /// `sql` (`$1` or `?`), by position.
    pub async fn query_with(
        &self,
        sql: &str,
        parameters: Vec<ScalarValue>,
    ) -> Result<QueryResult, SqlError> {
        guard::check_length(sql, self.limits.max_query_bytes)?;
        let runtime = self.runtime()?;
        let permit = tokio::time::timeout(
            self.limits.queue_timeout,
            Arc::clone(&self.slots).acquire_owned(),
        )
        .await
        .map_err(|_| SqlError::Busy(self.limits.max_concurrent))?
        .map_err(|_| SqlError::Internal("the SQL service is shut down".into()))?;
        let interrupt = Interrupt::after(self.limits.time_limit);
        let _cancel_when_dropped = CancelOnDrop(Arc::clone(&interrupt));
        let context = self.session(&interrupt)?;
        let (sql, limits) = (sql.to_owned(), self.limits.clone());
        let running = Arc::clone(&interrupt);
        let remote = self.remote.clone();
        let task = runtime.spawn(async move {
            let started = Instant::now();
            let result = run(&context, &sql, parameters, &running, &limits, remote).await;
            // The slot is free only once the query has really stopped.
            drop(permit);
            log(&sql, &result, started);
            result
        });
        match tokio::time::timeout(self.limits.time_limit + GRACE, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => Err(SqlError::Internal(format!("the query crashed: {panic}"))),
            Err(_) => {
                interrupt.cancel();
                tracing::warn!(
                    "a SQL query ran past its time limit without yielding; it stops at its next batch"
                );
                Err(SqlError::TimeLimit(self.limits.time_limit))
            }
        }
    }

    /// The catalog's tables, with their columns: what a database tool
    /// lists. Table functions (`bars('NFLX', '1d')`) are not among them.
    pub async fn tables(&self) -> Result<Vec<ListedTable>, SqlError> {
        let internal = |e: DataFusionError| SqlError::Internal(e.to_string());
        let catalogs = self.base.catalog_list();
        let mut tables = Vec::new();
        for catalog_name in catalogs.catalog_names() {
            let Some(catalog) = catalogs.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for name in schema.table_names() {
                    if let Some(table) = schema.table(&name).await.map_err(internal)? {
                        tables.push(ListedTable {
                            catalog: catalog_name.clone(),
                            schema: schema_name.clone(),
                            name,
                            columns: table.schema(),
                        });
                    }
                }
            }
        }
        tables.sort_by(|a, b| {
            (&a.catalog, &a.schema, &a.name).cmp(&(&b.catalog, &b.schema, &b.name))
        });
        Ok(tables)
    }

    fn runtime(&self) -> Result<&Runtime, SqlError> {
        self.runtime
            .as_ref()
            .ok_or_else(|| SqlError::Internal("the SQL service is shut down".into()))
    }

    /// A session over the catalog with the indicators registered now, a
    /// memory pool of its own, and reads of stored bars that stop with the
    /// query. Spilling is off: no query writes files.
    fn session(&self, interrupt: &Arc<Interrupt>) -> Result<SessionContext, SqlError> {
        let pool = TrackConsumersPool::new(
            GreedyMemoryPool::new(self.limits.memory_bytes),
            NonZeroUsize::MIN,
        );
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .map_err(|e| SqlError::Internal(e.to_string()))?;
        let mut state = SessionStateBuilder::new_from_existing(self.base.clone())
            .with_runtime_env(runtime)
            .build();
        let interrupt = Arc::clone(interrupt);
        state
            .config_mut()
            .set_extension(Arc::new(Stop::when(move || interrupt.check().is_err())));
        for function in self.catalog.indicator_windows() {
            datafusion::execution::FunctionRegistry::register_udwf(&mut state, Arc::new(function))
                .map_err(|e| SqlError::Internal(e.to_string()))?;
        }
        Ok(SessionContext::new_with_state(state))
    }
}

impl Drop for SqlService {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Cancels the query when the caller stops waiting (a closed connection).
struct CancelOnDrop(Arc<Interrupt>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Spans let a planning error point at its place in the query.
fn session_config(threads: usize) -> SessionConfig {
    SessionConfig::new()
        .with_target_partitions(threads)
        .set_bool("datafusion.sql_parser.collect_spans", true)
}

/// Parses `sql`, binds `parameters` to its placeholders, plans it and
/// checks the plan.
async fn plan(
    context: &SessionContext,
    sql: &str,
    parameters: Vec<ScalarValue>,
    df: impl Fn(DataFusionError) -> SqlError,
) -> Result<LogicalPlan, SqlError> {
    let mut statement = guard::parse(sql)?;
    parameters::number_placeholders(&mut statement)?;
    let plan = context
        .state()
        .statement_to_plan(statement)
        .await
        .map_err(&df)?;
    let plan = if parameters.is_empty() {
        plan
    } else {
        plan.with_param_values(parameters).map_err(&df)?
    };
    guard::check_plan(&plan)?;
    Ok(plan)
}

/// Plans and runs one query, keeping at most `max_rows` rows. A query run
/// on `remote` that stops before its last row (cut, failed or out of time)
/// is cancelled there.
async fn run(
    context: &SessionContext,
    sql: &str,
    parameters: Vec<ScalarValue>,
    interrupt: &Arc<Interrupt>,
    limits: &SqlLimits,
    remote: Option<Arc<dyn Remote>>,
) -> Result<QueryResult, SqlError> {
    let memory_mb = limits.memory_bytes >> 20;
    // Past the deadline, whatever failed first (a read given up, say)
    // failed because of it.
    let df = |e: DataFusionError| {
        SqlError::from_datafusion(interrupt.check().err().unwrap_or(e), memory_mb)
    };
    let plan = plan(context, sql, parameters, df).await?;
    let state = context.state();
    let physical = state.create_physical_plan(&plan).await.map_err(df)?;
    interrupt.check().map_err(df)?;
    let started = Arc::clone(&physical);
    let physical = count_window_input(physical).map_err(df)?;
    let physical = cap_unnest_output(physical, limits.max_value_bytes).map_err(df)?;
    let physical = make_interruptible(physical, interrupt).map_err(df)?;
    let stream = execute_stream(physical, context.task_ctx()).map_err(df)?;
    // A remote plan waits on the cluster between batches: the deadline
    // is also kept around it.
    let rows = tokio::time::timeout(interrupt.remaining(), collect(stream, limits)).await;
    let result = match rows {
        Ok(result) => result.map_err(df),
        Err(_) => {
            interrupt.cancel();
            Err(SqlError::TimeLimit(limits.time_limit))
        }
    };
    if let Some(remote) = remote
        && !result.as_ref().is_ok_and(|r| !r.truncated)
    {
        remote.cancel(started).await;
    }
    result
}

/// At most `max_rows` rows of `stream`, holding at most `max_result_bytes`.
async fn collect(
    mut stream: datafusion::execution::SendableRecordBatchStream,
    limits: &SqlLimits,
) -> Result<QueryResult, DataFusionError> {
    let schema = stream.schema();
    let (mut batches, mut rows, mut bytes, mut truncated) = (Vec::new(), 0, 0, false);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let room =
            (limits.max_rows - rows).min(rows_within(&batch, limits.max_result_bytes - bytes));
        if batch.num_rows() > room {
            batches.push(batch.slice(0, room));
            truncated = true;
            break;
        }
        rows += batch.num_rows();
        bytes += held_bytes(&batch);
        batches.push(batch);
        if rows == limits.max_rows || bytes >= limits.max_result_bytes {
            truncated = next_has_rows(&mut stream).await?;
            break;
        }
    }
    Ok(QueryResult {
        schema,
        batches,
        truncated,
    })
}

/// How many of `batch`'s first rows fit in `bytes`, taking its rows as
/// equally large.
fn rows_within(batch: &RecordBatch, bytes: usize) -> usize {
    let held = held_bytes(batch);
    if held <= bytes {
        return batch.num_rows();
    }
    (batch.num_rows() as u128 * bytes as u128 / held as u128) as usize
}

async fn next_has_rows(
    stream: &mut datafusion::execution::SendableRecordBatchStream,
) -> Result<bool, DataFusionError> {
    while let Some(batch) = stream.next().await {
        if batch?.num_rows() > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn log(sql: &str, result: &Result<QueryResult, SqlError>, started: Instant) {
    let text: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = &text[..text.floor_char_boundary(200)];
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(r) => tracing::info!(
            rows = r.rows(),
            truncated = r.truncated,
            elapsed_ms,
            "sql: {text}"
        ),
        Err(e) if e.is_client_error() => {
            tracing::info!(elapsed_ms, "sql refused or failed: {text}: {e}")
        }
        Err(e) => tracing::error!(elapsed_ms, "sql failed: {text}: {e}"),
    }
}
