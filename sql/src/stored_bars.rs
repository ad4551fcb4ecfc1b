//! The `bars` table: every stored bar, with its provider, symbol and
//! timeframe. Filters on those three columns are evaluated against the
//! catalog before anything is read, so `WHERE symbol = 'NFLX'` opens only
//! NFLX's files. Each selected series is one partition, read when executed,
//! from the cache if it is there, else from disk without filling the cache
//! (which would evict the charts' frames), and given up with its query.

use std::fmt;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use candela_core::frame::{TIME, VALUE_COLUMNS, time_type};
use candela_core::load::{Stop, TimeWindow};
use candela_core::query::time_filter;
use candela_core::store::{SeriesPlan, Store};
use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, DictionaryArray, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, project_schema};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_expr_common::sort_expr::PhysicalSortExpr;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::col;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

/// The columns that name a series, in table order.
const KEYS: [&str; 3] = ["provider", "symbol", "timeframe"];

fn key_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = KEYS
        .iter()
        .map(|k| Field::new(*k, key_type(), false))
        .collect();
    fields.push(Field::new(TIME, time_type(), false));
    fields.extend(
        VALUE_COLUMNS
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, false)),
    );
    Arc::new(Schema::new(fields))
});

/// The `bars` table over a store.
#[derive(Debug)]
pub struct StoredBars {
    store: Arc<Store>,
}

impl StoredBars {
    pub fn new(store: Arc<Store>) -> Self {
        StoredBars { store }
    }

    /// The stored series whose provider, symbol and timeframe pass `filters`.
    fn select(&self, state: &dyn Session, filters: &[&Expr]) -> Result<Vec<SeriesPlan>> {
        let catalog = self.store.catalog();
        let candidates: Vec<[String; 3]> = catalog
            .symbols()
            .flat_map(|entry| {
                entry.timeframes.keys().map(|tf| {
                    [
                        entry.id.provider.clone(),
                        entry.id.symbol.clone(),
                        tf.to_string(),
                    ]
                })
            })
            .collect();
        let key_schema = Arc::new(SCHEMA.project(&[0, 1, 2])?);
        let columns = (0..KEYS.len())
            .map(|i| dictionary(candidates.iter().map(|c| c[i].as_str())))
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&key_schema), columns)?;
        let df_schema = DFSchema::try_from(key_schema.as_ref().clone())?;
        let mut keep = vec![true; candidates.len()];
        for filter in filters {
            let mask = state
                .create_physical_expr((*filter).clone(), &df_schema)?
                .evaluate(&batch)?
                .into_array(batch.num_rows())?;
            let mask: &BooleanArray = mask.as_boolean_opt().ok_or_else(|| {
                DataFusionError::Plan(format!("the filter {filter} is not a condition"))
            })?;
            for (keep, passes) in keep.iter_mut().zip(mask.iter()) {
                *keep &= passes == Some(true);
            }
        }
        candidates
            .iter()
            .zip(keep)
            .filter(|(_, keep)| *keep)
            .map(|([provider, symbol, timeframe], _)| {
                let timeframe = timeframe
                    .parse()
                    .map_err(|e| DataFusionError::Internal(format!("{e}")))?;
                self.store
                    .plan(&format!("{provider}:{symbol}"), timeframe)
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            })
            .collect()
    }
}

/// `values` as a dictionary column.
fn dictionary<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.collect::<DictionaryArray<Int32Type>>())
}

/// Whether `expr` reads only the columns that name a series.
fn on_keys_only(expr: &Expr) -> bool {
    let columns = expr.column_refs();
    !columns.is_empty() && columns.iter().all(|c| KEYS.contains(&c.name.as_str()))
}

#[async_trait]
impl TableProvider for StoredBars {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if on_keys_only(f) {
                    TableProviderFilterPushDown::Exact
                } else if time_filter::bounds_time(f, &time_type()) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let window = time_filter::time_window(filters, &time_type());
        let filters: Vec<&Expr> = filters.iter().filter(|f| on_keys_only(f)).collect();
        let series = self.select(state, &filters)?;
        Ok(Arc::new(StoredBarsExec::try_new(
            Arc::clone(&self.store),
            series,
            window,
            projection.cloned(),
        )?))
    }
}

/// Reads the selected series, one partition each.
#[derive(Debug)]
pub struct StoredBarsExec {
    store: Arc<Store>,
    series: Vec<SeriesPlan>,
    /// What the query's filters on `time` allow: row groups outside it are
    /// not read.
    window: TimeWindow,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl StoredBarsExec {
    pub fn try_new(
        store: Arc<Store>,
        series: Vec<SeriesPlan>,
        window: TimeWindow,
        projection: Option<Vec<usize>>,
    ) -> Result<Self> {
        let schema = project_schema(&SCHEMA, projection.as_ref())?;
        // Within a partition (one series) the bars are in time order.
        let orderings = col(TIME, &schema)
            .ok()
            .map(|time| vec![PhysicalSortExpr::new_default(time)]);
        let properties = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema, orderings),
            Partitioning::UnknownPartitioning(series.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(StoredBarsExec {
            store,
            series,
            window,
            projection,
            properties: Arc::new(properties),
        })
    }

    pub fn series(&self) -> &[SeriesPlan] {
        &self.series
    }

    pub fn window(&self) -> TimeWindow {
        self.window
    }

    pub fn projection(&self) -> Option<&[usize]> {
        self.projection.as_deref()
    }
}

impl DisplayAs for StoredBarsExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<String> = self
            .series
            .iter()
            .take(5)
            .map(|s| format!("{} {}", s.symbol, s.timeframe))
            .collect();
        let more = self.series.len().saturating_sub(names.len());
        write!(f, "StoredBarsExec: series=[{}", names.join(", "))?;
        if more > 0 {
            write!(f, ", … {more} more")?;
        }
        write!(f, "]")
    }
}

impl ExecutionPlan for StoredBarsExec {
    fn name(&self) -> &'static str {
        "StoredBarsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        candela_core::query::leaf_with_new_children(self, &children)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.schema();
        let stop = Stop::of_session(context.session_config());
        let window = self.window;
        let Some(plan) = self.series.get(partition).cloned() else {
            let nothing = futures::stream::empty();
            return Ok(Box::pin(RecordBatchStreamAdapter::new(schema, nothing)));
        };
        let store = Arc::clone(&self.store);
        let projection = self.projection.clone();
        let batch = futures::stream::once(async move {
            let frame = tokio::task::spawn_blocking({
                let plan = plan.clone();
                move || store.source_window(&plan, window, &stop)
            })
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let rows = frame.len();
            let key = |value: String| -> ArrayRef {
                let values = StringArray::from(vec![value]);
                let keys = Int32Array::from(vec![0; rows]);
                Arc::new(DictionaryArray::<Int32Type>::new(keys, Arc::new(values)))
            };
            let mut columns = vec![
                key(plan.symbol.provider.clone()),
                key(plan.symbol.symbol.clone()),
                key(plan.timeframe.to_string()),
            ];
            columns.extend(frame.record_batch().columns().iter().cloned());
            let batch = RecordBatch::try_new(Arc::clone(&SCHEMA), columns)?;
            Ok(match &projection {
                Some(indices) => batch.project(indices)?,
                None => batch,
            })
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batch)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_the_series_then_the_bar() {
        let names: Vec<&str> = SCHEMA.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "provider",
                "symbol",
                "timeframe",
                "time",
                "open",
                "high",
                "low",
                "close",
                "volume"
            ]
        );
        assert!(on_keys_only(
            &datafusion::prelude::col("symbol").eq(datafusion::prelude::lit("NFLX"))
        ));
        assert!(!on_keys_only(
            &datafusion::prelude::col("close").gt(datafusion::prelude::lit(1.0))
        ));
        assert!(!on_keys_only(&datafusion::prelude::lit(true)));
    }
}
