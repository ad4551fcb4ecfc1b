//! SQL over Candela's bars, safe to offer to anyone who can reach the server.
//!
//! The catalog, all through DataFusion's extension points: the `bars` table
//! of every stored bar ([`stored_bars`]), the table function
//! `bars('SYMBOL', 'TIMEFRAME')` ([`bars_function`]), and every indicator in
//! the registry as a window function ([`indicator_window`]), and tables of
//! what the server holds in memory, such as backtest runs ([`snapshot_table`]).
//!
//! The bounds ([`SqlService`]): one read-only statement of bounded length
//! and nesting ([`guard`]), a row cap and a byte cap on the result, a
//! memory pool per query with spilling off, which also counts what window
//! operators buffer ([`window_memory`]), caps on generated tables
//! ([`generated`]), on functions whose output outgrows their input
//! ([`value_size`]) and on what `unnest` repeats ([`unnest_size`]), a
//! deadline that stops every operator ([`interrupt`]), a bounded number of
//! queries at once, on threads of their own with large stacks. The bounds DataFusion does not keep itself are put into the plan
//! as watched operators ([`watch`]).

pub mod bars_function;
mod catalog;
mod error;
pub mod generated;
pub mod guard;
pub mod indicator_window;
pub mod interrupt;
mod parameters;
mod remote;
mod service;
pub mod snapshot_table;
pub mod stored_bars;
pub mod unnest_size;
pub mod value_size;
pub mod watch;
pub mod window_memory;

use datafusion::arrow::array::{Array, RecordBatch};

pub use catalog::SqlCatalog;
pub use error::{Position, SqlError};
pub use remote::Remote;
pub use service::{ListedTable, Prepared, QueryResult, SqlLimits, SqlService};

/// The bytes a batch's rows hold: of a slice, only its part of the buffers
/// it shares with others (which `get_array_memory_size` counts whole).
pub fn held_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|column| column_held_bytes(column.as_ref()))
        .sum()
}

/// The bytes a column's rows hold, as [`held_bytes`] counts them.
pub fn column_held_bytes(column: &dyn Array) -> usize {
    column
        .to_data()
        .get_slice_memory_size()
        .unwrap_or_else(|_| column.get_array_memory_size())
}
