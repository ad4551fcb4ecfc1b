//! The bar tables DataFusion plans over: [`BarsTable`] for one series at one
//! timeframe, and the SQL table function `bars('SYMBOL', 'TIMEFRAME')`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono_tz::Tz;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
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
pub(crate) struct BarsTable {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Resolved through the store when scanned (the SQL path).
    Stored { store: Arc<Store>, plan: SeriesPlan },
    /// Source bars already in memory, aggregated to a timeframe if given.
    Frame {
        frame: Arc<BarFrame>,
        aggregate: Option<(Timeframe, Tz)>,
    },
}

impl BarsTable {
    pub(crate) fn from_frame(frame: Arc<BarFrame>, aggregate: Option<(Timeframe, Tz)>) -> Self {
        BarsTable {
            source: Source::Frame { frame, aggregate },
        }
    }
}

#[async_trait]
impl TableProvider for BarsTable {
    fn schema(&self) -> SchemaRef {
        BarFrame::schema()
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
        let (frame, aggregate) = match &self.source {
            Source::Frame { frame, aggregate } => (Arc::clone(frame), *aggregate),
            Source::Stored { store, plan } => match store.cached(plan) {
                Some(frame) => (frame, None),
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
                    )
                }
            },
        };
        scan_frame(frame, aggregate, projection)
    }
}

/// A memory scan of `frame` declared sorted by time, or a [`ResampleExec`]
/// over it when a target timeframe is given.
fn scan_frame(
    frame: Arc<BarFrame>,
    aggregate: Option<(Timeframe, Tz)>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = BarFrame::schema();
    let Some((timeframe, zone)) = aggregate else {
        let by_time = LexOrdering::new([PhysicalSortExpr::new_default(col(TIME, &schema)?)]);
        let batches = [vec![frame.record_batch().clone()]];
        let source = MemorySourceConfig::try_new(&batches, schema, projection.cloned())?
            .try_with_sort_information(by_time.into_iter().collect())?;
        return Ok(DataSourceExec::from_data_source(source));
    };
    let resampled: Arc<dyn ExecutionPlan> =
        Arc::new(ResampleExec::try_new(frame, timeframe, zone)?);
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

/// `bars('SYMBOL', 'TIMEFRAME')`: a series aggregated exactly as `/api/data`
/// serves it.
#[derive(Debug)]
pub(crate) struct BarsFunction {
    pub(crate) store: Arc<Store>,
}

impl TableFunctionImpl for BarsFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let usage = || {
            DataFusionError::Plan(
                "usage: bars('SYMBOL', 'TIMEFRAME'), e.g. bars('NFLX', '4h')".into(),
            )
        };
        let text = |expr: &Expr| match expr {
            Expr::Literal(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
                _,
            ) => Some(s.clone()),
            _ => None,
        };
        let [symbol, timeframe] = args.exprs() else {
            return Err(usage());
        };
        let (symbol, timeframe) = text(symbol).zip(text(timeframe)).ok_or_else(usage)?;
        let timeframe: Timeframe =
            timeframe
                .parse()
                .map_err(|e: crate::timeframe::ParseTimeframeError| {
                    DataFusionError::Plan(e.to_string())
                })?;
        let plan = self
            .store
            .plan(&symbol, timeframe)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(Arc::new(BarsTable {
            source: Source::Stored {
                store: Arc::clone(&self.store),
                plan,
            },
        }))
    }
}
