//! The DataFusion query layer. [`Engine`] serves bars at any timeframe through
//! one DataFusion plan — a [`ResampleExec`] over the stored bars, in memory
//! or read while it runs — which SQL reaches through [`BarsTable`] (the
//! `candela-sql` crate). Plans run on the engine's own threads, never on the
//! caller's runtime.

mod bars_table;
mod resample_exec;
mod series_scan;
pub mod time_filter;

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::catalog::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::runtime::Runtime;

pub use bars_table::{BarsTable, Reader};
pub use resample_exec::{ResampleExec, ResampleInput};
pub use series_scan::SeriesScanExec;

/// `ExecutionPlan::with_new_children` for a leaf plan: it has no children, so
/// it stays as it is, and being handed some is a planner bug.
pub fn leaf_with_new_children(
    leaf: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    children: &[Arc<dyn datafusion::physical_plan::ExecutionPlan>],
) -> datafusion::error::Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    if children.is_empty() {
        Ok(leaf)
    } else {
        Err(DataFusionError::Internal(format!(
            "{} is a leaf: it has no children to replace",
            leaf.name()
        )))
    }
}

use crate::bins::Bins;
use crate::catalog::SymbolId;
use crate::error::{Error, Result};
use crate::frame::BarFrame;
use crate::store::{Caching, SeriesPlan, Store};
use crate::timeframe::Timeframe;

/// Bars of one symbol at one timeframe, and where they came from.
#[derive(Debug, Clone)]
pub struct Bars {
    pub symbol: SymbolId,
    pub timeframe: Timeframe,
    /// The stored timeframe they were read or aggregated from.
    pub source: Timeframe,
    /// The provider's zone, whose calendar the bins and daily indicators follow.
    pub zone: Tz,
    pub frame: Arc<BarFrame>,
}

impl Bars {
    pub fn aggregated(&self) -> bool {
        self.source != self.timeframe
    }
}

/// Bars as they stood at an instant ([`Engine::bars_as_of`]).
#[derive(Debug, Clone)]
pub struct BarsAsOf {
    pub bars: Bars,
    /// The last bar is still forming: its bin ends after the instant, so
    /// later source bars would still change it.
    pub forming: bool,
}

pub struct Engine {
    store: Arc<Store>,
    context: SessionContext,
    /// Always `Some` until dropped; taken in `Drop` to shut down without blocking.
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `store` running queries on `threads` threads.
    pub fn new(store: Arc<Store>, threads: usize) -> Result<Engine> {
        // Reads wait on the blocking pool, some for a read another request
        // started: a bound of twice the threads, not the hundreds tokio
        // would grow it to, each with an allocator heap of its own.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .max_blocking_threads(threads.max(1) * 2)
            .thread_name("candela-query")
            .enable_all()
            .build()?;
        let config = SessionConfig::new().with_target_partitions(threads.max(1));
        let context = SessionContext::new_with_config(config);
        Ok(Engine {
            store,
            context,
            runtime: Some(runtime),
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Bars of `symbol` at `timeframe`: from the cache, as stored, or
    /// aggregated from the largest stored timeframe that divides it.
    /// A file that changes while it is read is read again, once, as a fresh
    /// listing gives it.
    pub async fn bars(&self, symbol: &str, timeframe: Timeframe) -> Result<Bars> {
        match self.planned_bars(self.store.plan(symbol, timeframe)?).await {
            Err(e) if e.changed_while_read() => {
                tracing::info!("{symbol} {timeframe}: {e}; listing again and reading it again");
                self.store.rescan();
                self.planned_bars(self.store.plan(symbol, timeframe)?).await
            }
            answer => answer,
        }
    }

    async fn planned_bars(&self, plan: SeriesPlan) -> Result<Bars> {
        let timeframe = plan.timeframe;
        let bars = |frame| Bars {
            symbol: plan.symbol.clone(),
            timeframe,
            source: plan.source,
            zone: plan.zone,
            frame,
        };
        if let Some(frame) = self.store.cached(&plan) {
            return Ok(bars(frame));
        }
        if !plan.aggregated() {
            let store = Arc::clone(&self.store);
            let owned_plan = plan.clone();
            let source = self
                .spawn(async move {
                    tokio::task::spawn_blocking(move || {
                        store.source_frame(&owned_plan, &Caching::Keep)
                    })
                    .await
                })
                .await?
                .map_err(|e| Error::Io(std::io::Error::other(e)))??;
            return Ok(bars(source));
        }
        let table = BarsTable::stored_in_utc(Arc::clone(&self.store), plan.clone());
        let frame = Arc::new(self.collect(table).await?);
        self.store.remember(&plan, Arc::clone(&frame));
        Ok(bars(frame))
    }

    /// Bars of `symbol` at `timeframe` as a strategy saw them at `instant`
    /// (UTC nanoseconds): only the stored bars that had closed by then,
    /// aggregated as [`Engine::bars`] aggregates them, so they equal the bars
    /// of a copy of the data cut there. An aggregated timeframe's last bar
    /// may be forming, built of the source bars so far.
    pub async fn bars_as_of(
        &self,
        symbol: &str,
        timeframe: Timeframe,
        instant: i64,
    ) -> Result<BarsAsOf> {
        let plan = self.store.plan(symbol, timeframe)?;
        let stored = self.bars(symbol, plan.source).await?;
        let closed = stored.frame.closed_by(plan.source, plan.zone, instant);
        let source = Arc::new(stored.frame.slice(0..closed));
        let frame = if plan.aggregated() {
            Arc::new(
                self.aggregate(Arc::clone(&source), timeframe, plan.zone)
                    .await?,
            )
        } else {
            source
        };
        // The bins start where the whole series' do: at its first bar.
        let forming = match (stored.frame.time().first(), frame.time().last()) {
            (Some(&first), Some(&last)) if plan.aggregated() => {
                Bins::new(timeframe, plan.zone, first).bin_of(last).1 > instant
            }
            _ => false,
        };
        Ok(BarsAsOf {
            bars: Bars {
                symbol: plan.symbol,
                timeframe,
                source: plan.source,
                zone: plan.zone,
                frame,
            },
            forming,
        })
    }

    /// Aggregates in-memory bars to `timeframe` through the DataFusion plan
    /// that serves every request (no caching).
    pub async fn aggregate(
        &self,
        source: Arc<BarFrame>,
        timeframe: Timeframe,
        zone: Tz,
    ) -> Result<BarFrame> {
        self.collect(BarsTable::from_frame(source, Some((timeframe, zone))))
            .await
    }

    /// Scans all of `table` on the engine's threads. The provider's physical
    /// plan runs as it is: a whole-table scan has nothing for the logical
    /// planner and optimiser to do, and going through them cost about 0.15 ms
    /// a request.
    async fn collect(&self, table: BarsTable) -> Result<BarFrame> {
        let context = self.context.clone();
        let batches = self
            .spawn(async move {
                let state = context.state();
                let plan = table.scan(&state, None, &[], None).await?;
                datafusion::physical_plan::collect(plan, state.task_ctx()).await
            })
            .await?
            .map_err(raised_in_plan)?;
        Ok(BarFrame::from_batches(&batches).map_err(DataFusionError::from)?)
    }

    async fn spawn<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| Error::Io(std::io::Error::other("engine is shut down")))?;
        runtime
            .spawn(future)
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An error of ours raised inside a plan (a corrupt file found while a
/// [`ResampleExec`] reads it) comes back as itself, so that callers see a
/// load error, not a failed query.
fn raised_in_plan(error: DataFusionError) -> Error {
    match error {
        DataFusionError::External(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::Query(DataFusionError::External(other)),
        },
        DataFusionError::Context(_, inner) => raised_in_plan(*inner),
        other => Error::Query(other),
    }
}
