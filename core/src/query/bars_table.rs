//! [`BarsTable`]: one series at one timeframe as a DataFusion table, scanned
//! in time order and aggregated by [`ResampleExec`] when not stored.

use std::sync::Arc;

use async_trait::async_trait;
use chrono_tz::Tz;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr_common::sort_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::expressions::col;
use datafusion::physical_plan::projection::ProjectionExec;

use super::resample_exec::ResampleExec;
use crate::frame::{BarFrame, TIME};
use crate::store::{SeriesPlan, Store};
use crate::timeframe::Timeframe;

/// One series at one timeframe, scanned in time order.
#[derive(Debug)]
pub struct BarsTable {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Read through the store when scanned, with times labelled in the
    /// provider's zone (the SQL path).
    Stored { store: Arc<Store>, plan: SeriesPlan },
    /// Source bars already in memory, aggregated to a timeframe if given.
    Frame {
        frame: Arc<BarFrame>,
        aggregate: Option<(Timeframe, Tz)>,
    },
}

impl BarsTable {
    /// The series `plan` names, read when scanned. Its times are labelled in
    /// the provider's zone, so that SQL shows local times and indicators that
    /// follow calendar days (VWAP) use the provider's days, as `/api/data` does.
    pub fn stored(store: Arc<Store>, plan: SeriesPlan) -> Self {
        BarsTable {
            source: Source::Stored { store, plan },
        }
    }

    pub(crate) fn from_frame(frame: Arc<BarFrame>, aggregate: Option<(Timeframe, Tz)>) -> Self {
        BarsTable {
            source: Source::Frame { frame, aggregate },
        }
    }
}

#[async_trait]
impl TableProvider for BarsTable {
    fn schema(&self) -> SchemaRef {
        match &self.source {
            Source::Stored { plan, .. } => BarFrame::schema_in(plan.zone.name()),
            Source::Frame { .. } => BarFrame::schema(),
        }
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (frame, aggregate, label) = match &self.source {
            Source::Frame { frame, aggregate } => (Arc::clone(frame), *aggregate, None),
            Source::Stored { store, plan } => match store.cached(plan) {
                Some(frame) => (frame, None, Some(plan.zone)),
                None => {
                    let (store, owned_plan) = (Arc::clone(store), plan.clone());
                    let frame =
                        tokio::task::spawn_blocking(move || store.source_frame(&owned_plan))
                            .await
                            .map_err(|e| DataFusionError::External(Box::new(e)))?
                            .map_err(|e| DataFusionError::External(Box::new(e)))?;
                    (
                        frame,
                        plan.aggregated().then_some((plan.timeframe, plan.zone)),
                        Some(plan.zone),
                    )
                }
            },
        };
        scan_frame(frame, aggregate, label, projection)
    }
}

/// A memory scan of `frame` declared sorted by time, or a [`ResampleExec`]
/// over it when a target timeframe is given; times labelled in `label` if given.
fn scan_frame(
    frame: Arc<BarFrame>,
    aggregate: Option<(Timeframe, Tz)>,
    label: Option<Tz>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = label.map_or_else(BarFrame::schema, |zone| BarFrame::schema_in(zone.name()));
    let Some((timeframe, zone)) = aggregate else {
        let by_time = LexOrdering::new([PhysicalSortExpr::new_default(col(TIME, &schema)?)]);
        let batch = match label {
            Some(zone) => frame.record_batch_in(zone.name())?,
            None => frame.record_batch().clone(),
        };
        let source = MemorySourceConfig::try_new(&[vec![batch]], schema, projection.cloned())?
            .try_with_sort_information(by_time.into_iter().collect())?;
        return Ok(DataSourceExec::from_data_source(source));
    };
    let resampled: Arc<dyn ExecutionPlan> = Arc::new(if label.is_some() {
        ResampleExec::labelled(frame, timeframe, zone)?
    } else {
        ResampleExec::try_new(frame, timeframe, zone)?
    });
    let Some(projection) = projection else {
        return Ok(resampled);
    };
    let columns = projection
        .iter()
        .map(|&i| {
            let name = schema.field(i).name();
            Ok((col(name, &schema)?, name.clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(ProjectionExec::try_new(columns, resampled)?))
}
