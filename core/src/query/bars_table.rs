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
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr_common::sort_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::expressions::col;
use datafusion::physical_plan::projection::ProjectionExec;

use super::resample_exec::{ResampleExec, ResampleInput};
use super::series_scan::SeriesScanExec;
use super::time_filter;
use crate::frame::{BarFrame, TIME};
use crate::store::{Caching, SeriesPlan, Store};
use crate::timeframe::Timeframe;

/// Who scans a stored series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// [`super::Engine::bars`]: times in UTC, what is read kept in the cache.
    Charts,
    /// SQL: times labelled in the provider's zone, the cache only peeked at,
    /// the bars read when the plan is executed, and the read given up with
    /// its query ([`crate::load::Stop`] in the session's config).
    Sql,
}

/// One series at one timeframe, scanned in time order.
#[derive(Debug)]
pub struct BarsTable {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Read through the store when scanned, for `reader`.
    Stored {
        store: Arc<Store>,
        plan: SeriesPlan,
        reader: Reader,
    },
    /// Source bars already in memory, aggregated to a timeframe if given.
    Frame {
        frame: Arc<BarFrame>,
        aggregate: Option<(Timeframe, Tz)>,
    },
}

impl BarsTable {
    /// The series `plan` names, read for SQL when scanned. Its times are
    /// labelled in the provider's zone, so that SQL shows local times and
    /// indicators that follow calendar days (VWAP) use the provider's days,
    /// as `/api/data` does. What it reads is not cached, and the read stops
    /// when the session's [`crate::load::Stop`] says so.
    pub fn stored(store: Arc<Store>, plan: SeriesPlan) -> Self {
        BarsTable {
            source: Source::Stored {
                store,
                plan,
                reader: Reader::Sql,
            },
        }
    }

    /// The series `plan` names, read when scanned, with times in UTC (the
    /// frames [`super::Engine::bars`] serves).
    pub(crate) fn stored_in_utc(store: Arc<Store>, plan: SeriesPlan) -> Self {
        BarsTable {
            source: Source::Stored {
                store,
                plan,
                reader: Reader::Charts,
            },
        }
    }

    pub(crate) fn from_frame(frame: Arc<BarFrame>, aggregate: Option<(Timeframe, Tz)>) -> Self {
        BarsTable {
            source: Source::Frame { frame, aggregate },
        }
    }

    /// The series SQL reads through this table ([`BarsTable::stored`]), if
    /// that is what it is: all a plan needs to name it.
    pub fn sql_series(&self) -> Option<&SeriesPlan> {
        match &self.source {
            Source::Stored {
                plan,
                reader: Reader::Sql,
                ..
            } => Some(plan),
            _ => None,
        }
    }

    /// The type of the time column.
    fn time_type(&self) -> datafusion::arrow::datatypes::DataType {
        self.schema().field(0).data_type().clone()
    }

    /// Whether a scan reads only the row groups its time filters allow: SQL's
    /// scans of a stored timeframe (an aggregated one's bins need all their
    /// bars, and the charts' reads fill the cache with the whole series).
    fn windowed(&self) -> bool {
        matches!(&self.source, Source::Stored { plan, reader: Reader::Sql, .. } if !plan.aggregated())
    }
}

#[async_trait]
impl TableProvider for BarsTable {
    fn schema(&self) -> SchemaRef {
        match &self.source {
            Source::Stored {
                plan,
                reader: Reader::Sql,
                ..
            } => BarFrame::schema_in(plan.zone.name()),
            _ => BarFrame::schema(),
        }
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Bounds on the time of a stored timeframe decide which row groups are
    /// read; the filter itself stays in the plan.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let time = self.time_type();
        let windowed = self.windowed();
        Ok(filters
            .iter()
            .map(|f| {
                if windowed && time_filter::bounds_time(f, &time) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (store, plan, reader) = match &self.source {
            Source::Frame {
                frame,
                aggregate: None,
            } => return memory_scan(Arc::clone(frame), projection),
            Source::Frame {
                frame,
                aggregate: Some((timeframe, zone)),
            } => {
                let input = ResampleInput::Frame(Arc::clone(frame));
                return resample_scan(input, *timeframe, *zone, None, projection);
            }
            Source::Stored {
                store,
                plan,
                reader,
            } => (store, plan, *reader),
        };
        let label = (reader == Reader::Sql).then_some(plan.zone);
        if plan.aggregated() {
            let input = ResampleInput::Stored {
                store: Arc::clone(store),
                plan: plan.clone(),
                reader,
            };
            return resample_scan(input, plan.timeframe, plan.zone, label, projection);
        }
        if reader == Reader::Sql {
            let window = time_filter::time_window(filters, &self.time_type());
            let scan = SeriesScanExec::try_new(
                Arc::clone(store),
                plan.clone(),
                window,
                projection.cloned(),
            )?;
            return Ok(Arc::new(scan));
        }
        // The charts' stored timeframe: read now, and kept in the cache.
        let (store, plan) = (Arc::clone(store), plan.clone());
        let frame = tokio::task::spawn_blocking(move || store.source_frame(&plan, &Caching::Keep))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        memory_scan(frame, projection)
    }
}

fn schema(label: Option<Tz>) -> SchemaRef {
    label.map_or_else(BarFrame::schema, |zone| BarFrame::schema_in(zone.name()))
}

/// A memory scan of `frame` (times in UTC) declared sorted by time.
fn memory_scan(
    frame: Arc<BarFrame>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = BarFrame::schema();
    let by_time = LexOrdering::new([PhysicalSortExpr::new_default(col(TIME, &schema)?)]);
    let batch = frame.record_batch().clone();
    let source = MemorySourceConfig::try_new(&[vec![batch]], schema, projection.cloned())?
        .try_with_sort_information(by_time.into_iter().collect())?;
    Ok(DataSourceExec::from_data_source(source))
}

/// A [`ResampleExec`] over `input`, its times labelled in `label` if given.
fn resample_scan(
    input: ResampleInput,
    timeframe: Timeframe,
    zone: Tz,
    label: Option<Tz>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let resampled: Arc<dyn ExecutionPlan> = Arc::new(if label.is_some() {
        ResampleExec::labelled(input, timeframe, zone)?
    } else {
        ResampleExec::try_new(input, timeframe, zone)?
    });
    let Some(projection) = projection else {
        return Ok(resampled);
    };
    let schema = schema(label);
    let columns = projection
        .iter()
        .map(|&i| {
            let name = schema.field(i).name();
            Ok((col(name, &schema)?, name.clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(ProjectionExec::try_new(columns, resampled)?))
}
