//! Candela's core: bar frames, timeframes, the data catalog, and the
//! DataFusion query layer that loads and aggregates bars.
//!
//! Data flows one way: files on disk ([`catalog`], [`load`]) become cached
//! frames ([`store`], [`frame`]), which DataFusion plans aggregate
//! ([`query`], [`resample`], [`bins`]) into the frames requests are served from.
//! [`write`](mod@write) writes bars in the layout it reads.

pub mod align;
pub mod bins;
pub mod catalog;
pub mod error;
pub mod frame;
pub mod indicator;
pub mod load;
mod parallel;
pub mod query;
pub mod resample;
pub mod storage;
pub mod store;
pub mod synthetic;
pub mod timeframe;
pub mod watch;
pub mod write;
pub mod zone;

pub use catalog::{Catalog, SymbolId};
pub use error::{Error, Result};
pub use frame::BarFrame;
pub use query::{Bars, BarsAsOf, Engine};
pub use store::{Store, StoreConfig};
pub use timeframe::Timeframe;
