//! The table functions `generate_series` and `range`, with a cap on the rows
//! they generate. DataFusion's own produce their rows lazily, batch by batch,
//! but as many as asked: `range(1e12)` would run until the deadline, and a
//! join or sort above it would hold what it produced. Each scan of a
//! [`GeneratedTable`] is watched ([`crate::watch`]) and fails once it has
//! produced more rows than the limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::watch::{Watch, WatchedExec, Watcher};

/// The table functions whose rows are capped.
const GENERATORS: [&str; 2] = ["generate_series", "range"];

/// A generated table had more rows than `sql.max_generated_rows` allows.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "a generate_series or range table produced more than {0} rows, \
     the most sql.max_generated_rows allows; generate fewer"
)]
pub struct GeneratedRowsExceeded(pub u64);

/// Replaces `context`'s generators with capped ones.
pub fn cap_generators(context: &SessionContext, max_rows: u64) -> Result<()> {
    let state = context.state();
    for name in GENERATORS {
        let inner = state
            .table_functions()
            .get(name)
            .ok_or_else(|| DataFusionError::Internal(format!("no table function {name}")))?;
        let capped = CappedGenerator {
            name,
            inner: Arc::clone(inner.function()),
            max_rows,
        };
        context.register_udtf(name, Arc::new(capped));
    }
    Ok(())
}

#[derive(Debug)]
struct CappedGenerator {
    name: &'static str,
    inner: Arc<dyn TableFunctionImpl>,
    max_rows: u64,
}

impl TableFunctionImpl for CappedGenerator {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        // Counted before anything runs when its bounds are integers: also
        // where the watch over its scan does not travel (a cluster).
        if literal_rows(self.name, args.exprs()).is_some_and(|rows| rows > self.max_rows as i128) {
            return Err(DataFusionError::External(Box::new(GeneratedRowsExceeded(
                self.max_rows,
            ))));
        }
        Ok(Arc::new(GeneratedTable {
            name: self.name,
            args: args.exprs().to_vec(),
            inner: self.inner.call_with_args(args)?,
            max_rows: self.max_rows,
        }))
    }
}

/// The rows `generate_series` (ends included) or `range` (end excluded)
/// produce when called with integer constants.
fn literal_rows(name: &str, args: &[Expr]) -> Option<i128> {
    let int = |expr: &Expr| match expr {
        Expr::Literal(value, _) => value.cast_to(&DataType::Int64).ok().and_then(|v| match v {
            ScalarValue::Int64(Some(v)) if value.data_type().is_integer() => Some(i128::from(v)),
            _ => None,
        }),
        _ => None,
    };
    let (start, end, step) = match args {
        [end] => (0, int(end)?, 1),
        [start, end] => (int(start)?, int(end)?, 1),
        [start, end, step] => (int(start)?, int(end)?, int(step)?),
        _ => return None,
    };
    let inclusive = name == "generate_series";
    let span = match step {
        0 => return None,
        step if step > 0 => end - start,
        _ => start - end,
    };
    let step = step.abs();
    Some(match (span, inclusive) {
        (span, _) if span < 0 => 0,
        (span, true) => span / step + 1,
        (span, false) => (span + step - 1) / step,
    })
}

/// The rows of a generator, at most `max_rows` of them per scan.
#[derive(Debug)]
pub struct GeneratedTable {
    name: &'static str,
    args: Vec<Expr>,
    inner: Arc<dyn TableProvider>,
    max_rows: u64,
}

impl GeneratedTable {
    /// The generator `name` called with `args` in `session`, capped at
    /// `max_rows`: how a plan that names the call is made again elsewhere.
    pub fn call(
        name: &str,
        args: &[Expr],
        max_rows: u64,
        session: &dyn Session,
    ) -> Result<GeneratedTable> {
        let name = GENERATORS
            .into_iter()
            .find(|generator| *generator == name)
            .ok_or_else(|| DataFusionError::Plan(format!("{name} is not a generator")))?;
        let inner = datafusion::execution::SessionStateDefaults::default_table_functions()
            .into_iter()
            .find(|function| function.name() == name)
            .ok_or_else(|| DataFusionError::Internal(format!("no table function {name}")))?;
        Ok(GeneratedTable {
            name,
            args: args.to_vec(),
            inner: inner
                .function()
                .call_with_args(TableFunctionArgs::new(args, session))?,
            max_rows,
        })
    }

    /// The generator and its arguments.
    pub fn called(&self) -> (&str, &[Expr]) {
        (self.name, &self.args)
    }

    pub fn max_rows(&self) -> u64 {
        self.max_rows
    }
}

#[async_trait]
impl TableProvider for GeneratedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.inner.scan(state, projection, filters, limit).await?;
        let cap = RowCap {
            max_rows: self.max_rows,
            produced: Arc::new(AtomicU64::new(0)),
        };
        Ok(WatchedExec::wrap(scan, Arc::new(cap)))
    }
}

/// Counts the rows of all of a scan's partitions together.
#[derive(Debug)]
struct RowCap {
    max_rows: u64,
    produced: Arc<AtomicU64>,
}

impl Watch for RowCap {
    const NAME: &'static str = "GeneratedRowsCapExec";
    type Watcher = Arc<RowCap>;

    fn watcher(self: &Arc<Self>, _context: &Arc<TaskContext>) -> Result<Arc<RowCap>> {
        Ok(Arc::clone(self))
    }
}

impl Watcher for Arc<RowCap> {
    fn on_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows() as u64;
        let produced = self.produced.fetch_add(rows, Ordering::Relaxed) + rows;
        if produced > self.max_rows {
            return Err(DataFusionError::External(Box::new(GeneratedRowsExceeded(
                self.max_rows,
            ))));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::lit;

    #[test]
    fn integer_bounds_count_the_rows_before_anything_runs() {
        let rows = |name, args: &[i64]| {
            let args: Vec<Expr> = args.iter().map(|&a| lit(a)).collect();
            literal_rows(name, &args)
        };
        assert_eq!(rows("generate_series", &[1, 10]), Some(10));
        assert_eq!(rows("range", &[1, 10]), Some(9));
        assert_eq!(rows("range", &[5]), Some(5));
        assert_eq!(rows("generate_series", &[0, 10, 3]), Some(4));
        assert_eq!(rows("range", &[0, 10, 3]), Some(4));
        assert_eq!(rows("generate_series", &[10, 1, -2]), Some(5));
        assert_eq!(rows("range", &[10, 1]), Some(0));
        assert_eq!(rows("range", &[0, 10, 0]), None);
        assert_eq!(
            rows("generate_series", &[i64::MIN, i64::MAX]),
            Some(1_i128 << 64)
        );
        assert_eq!(literal_rows("range", &[lit(1.5), lit(3.0)]), None);
    }
}
