//! Candela's SQL on an Apache DataFusion Ballista cluster, by Ballista's
//! own extension points: codecs that carry Candela's tables, operators and
//! indicator window functions by reference ([`codec`]), a session builder
//! and function registry with Candela's catalog and caps, and a runtime
//! with the query memory limit on every executor ([`process`]). The server
//! plans a query, keeps its guard, caps and deadline, and sends it through
//! [`Ballista`], its [`candela_sql::Remote`].

pub mod codec;
mod error;
pub mod process;
mod remote;
mod whole_scans;

pub use error::ClusterError;
pub use remote::{Ballista, SchedulerUrl};
