//! [`SqlCatalog`]: what a query may name, and the session that holds it.
//!
//! One value for every process that plans or runs a query: the server, and
//! on a cluster the scheduler and each executor, which resolve the tables,
//! operators and window functions a plan names by reference from their own
//! catalog over the same data.

use std::sync::Arc;

use candela_core::Store;
use candela_core::indicator::Registry;
use datafusion::error::Result;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::WindowUDF;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::bars_function::BarsFunction;
use crate::indicator_window::IndicatorWindow;
use crate::snapshot_table::SnapshotTable;
use crate::stored_bars::StoredBars;
use crate::{SqlLimits, generated, value_size};

/// The bars of a store, its indicators, and tables of what the server
/// holds in memory (name and table).
#[derive(Debug, Clone)]
pub struct SqlCatalog {
    pub store: Arc<Store>,
    pub indicators: Arc<Registry>,
    pub tables: Vec<(String, SnapshotTable)>,
}

impl SqlCatalog {
    /// A session over the catalog inside `limits`: the `bars` table, the
    /// `bars()` function, the in-memory tables, and DataFusion's functions
    /// with the generators and growing functions capped. Indicators are
    /// registered per query ([`SqlCatalog::indicator_windows`]), as plugins
    /// come and go.
    pub fn session(&self, config: SessionConfig, limits: &SqlLimits) -> Result<SessionContext> {
        let context = SessionContext::new_with_state(
            SessionStateBuilder::new()
                // A cluster's scheduler builds its sessions from the
                // configuration a client sent, whose catalog it does not have.
                .with_config(config.with_create_default_catalog_and_schema(true))
                .with_default_features()
                .build(),
        );
        generated::cap_generators(&context, limits.max_generated_rows)?;
        value_size::cap_growing_functions(&context, limits.max_value_bytes);
        context.register_udtf("bars", Arc::new(BarsFunction::new(Arc::clone(&self.store))));
        context.register_table("bars", Arc::new(StoredBars::new(Arc::clone(&self.store))))?;
        for (name, table) in &self.tables {
            context.register_table(name.as_str(), Arc::new(table.clone()))?;
        }
        Ok(context)
    }

    /// Every indicator registered now, as a window function.
    pub fn indicator_windows(&self) -> impl Iterator<Item = WindowUDF> {
        self.indicators
            .list()
            .into_iter()
            .map(|indicator| WindowUDF::new_from_impl(IndicatorWindow::new(indicator)))
    }

    /// The indicator `id` as a window function, if it is registered.
    pub fn indicator_window(&self, id: &str) -> Option<WindowUDF> {
        let indicator = self.indicators.get(id)?;
        Some(WindowUDF::new_from_impl(IndicatorWindow::new(indicator)))
    }

    /// The in-memory table `name`.
    pub fn table(&self, name: &str) -> Option<&SnapshotTable> {
        self.tables
            .iter()
            .find(|(table, _)| table == name)
            .map(|(_, table)| table)
    }
}
