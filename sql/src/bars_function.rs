//! `bars('SYMBOL', 'TIMEFRAME')`: one series at any timeframe, aggregated by
//! the same plan that serves `/api/data`, times in the provider's zone.

use std::sync::Arc;

use candela_core::query::BarsTable;
use candela_core::store::Store;
use candela_core::timeframe::{ParseTimeframeError, Timeframe};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

#[derive(Debug)]
pub struct BarsFunction {
    store: Arc<Store>,
}

impl BarsFunction {
    pub fn new(store: Arc<Store>) -> Self {
        BarsFunction { store }
    }
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
        let timeframe: Timeframe = timeframe
            .parse()
            .map_err(|e: ParseTimeframeError| DataFusionError::Plan(e.to_string()))?;
        let plan = self
            .store
            .plan(&symbol, timeframe)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(Arc::new(BarsTable::stored(Arc::clone(&self.store), plan)))
    }
}
