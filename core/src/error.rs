//! The errors of the core, each meaning one thing a caller can act on.

use std::sync::Arc;

use crate::catalog::ResolveError;
use crate::load::{LoadError, Problem};
use crate::storage::StorageError;
use crate::timeframe::Timeframe;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Symbol(#[from] ResolveError),
    #[error(
        "{symbol} has no data from which to build {timeframe}: stored timeframes are {}; \
         a timeframe can be built from a stored one that divides it",
        list(.stored)
    )]
    NotServable {
        symbol: String,
        timeframe: Timeframe,
        stored: Vec<Timeframe>,
    },
    /// Shared: requests waiting on one read of a series all get its error.
    #[error("{symbol} {timeframe} cannot be read: {source}")]
    Load {
        symbol: String,
        timeframe: Timeframe,
        source: Arc<LoadError>,
    },
    #[error("the data folder cannot be read: {0}")]
    Io(#[from] std::io::Error),
    /// The bucket of the data root failed: its listing, or an object.
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
}

impl Error {
    /// An object of the series changed (or went) while it was read: a
    /// fresh listing has its new version.
    pub fn changed_while_read(&self) -> bool {
        let changed = |e: &StorageError| matches!(e, StorageError::Changed { .. });
        match self {
            Error::Storage(e) => changed(e),
            Error::Load { source, .. } => {
                matches!(&source.problem, Problem::Storage(e) if changed(e))
            }
            _ => false,
        }
    }
}

fn list(timeframes: &[Timeframe]) -> String {
    let names: Vec<String> = timeframes.iter().map(ToString::to_string).collect();
    names.join(", ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
