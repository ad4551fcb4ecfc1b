//! SQL over Candela's bars, safe to offer to anyone who can reach the server.
//!
//! The catalog, all through DataFusion's extension points: the `bars` table
//! of every stored bar ([`stored_bars`]), the table function
//! `bars('SYMBOL', 'TIMEFRAME')` ([`bars_function`]), and every indicator in
//! the registry as a window function ([`indicator_window`]), and tables of
//! what the server holds in memory, such as backtest runs ([`snapshot_table`]).
//!
//! The bounds ([`SqlService`]): one read-only statement of bounded length
//! and nesting ([`guard`]), a row cap, a memory pool per query with spilling
//! off, a deadline that stops every operator ([`interrupt`]), a bounded
//! number of queries at once, on threads of their own with large stacks.

pub mod bars_function;
mod error;
pub mod guard;
pub mod indicator_window;
pub mod interrupt;
mod service;
pub mod snapshot_table;
pub mod stored_bars;

pub use error::{Position, SqlError};
pub use service::{QueryResult, SqlLimits, SqlService};
