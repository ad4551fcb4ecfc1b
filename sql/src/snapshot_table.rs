//! A table whose rows are what a source holds when a query scans it: for
//! data that lives in memory and changes while the server runs (the
//! backtest runs' trades and equity), without a copy kept per table.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

/// Makes the table's rows, in the table's schema.
pub type Rows = dyn Fn() -> std::result::Result<RecordBatch, String> + Send + Sync;

#[derive(Clone)]
pub struct SnapshotTable {
    schema: SchemaRef,
    rows: Arc<Rows>,
}

impl SnapshotTable {
    pub fn new(schema: SchemaRef, rows: Arc<Rows>) -> Self {
        SnapshotTable { schema, rows }
    }
}

impl fmt::Debug for SnapshotTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotTable")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for SnapshotTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch = (self.rows)().map_err(DataFusionError::Execution)?;
        let table = MemTable::try_new(Arc::clone(&self.schema), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}
