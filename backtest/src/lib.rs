//! Backtest runs: a folder per run holding its trades, optionally its
//! equity curve and a `run.toml` (the format is `docs/runs.md`), read into
//! [`Run`]s with statistics defined as backtesting.py defines them, and a
//! watched folder of them ([`RunsFolder`]).
//!
//! Files written by backtesting.py (`stats._trades`, `stats._equity_curve`)
//! and by Candela's Python package for backtrader are read unchanged, from
//! parquet or CSV alike (the private `table` module hides which).

mod equity;
mod error;
mod files;
mod folder;
mod manifest;
mod run;
mod stats;
mod table;
pub mod tables;
mod trades;

pub use equity::EquityCurve;
pub use error::{Place, Problem, Row, RunError};
pub use files::RunFiles;
pub use folder::{FolderError, RunChange, RunChangeKind, RunSet, RunsFolder};
pub use manifest::Manifest;
pub use run::{EQUITY_FILES, MANIFEST_FILE, Run, TRADES_FILES};
pub use stats::Stats;
pub use table::FileLimits;
pub use trades::{Fill, Outcome, Side, Trade};
