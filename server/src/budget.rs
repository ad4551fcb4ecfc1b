//! The memory that answers being computed and sent hold, bounded for the
//! whole server: a request reserves what its answer will hold before any of
//! it is computed, and gives it back when the last byte is sent (or the
//! client goes away). Over the budget, it waits for nothing: a 503 with
//! `Retry-After` tells the client to come back, so that many large requests
//! at once slow down clients instead of exhausting the machine.

use std::sync::Arc;

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::ApiError;

/// Reservations are counted in KiB, so that a budget of terabytes still
/// fits the semaphore's `u32` permits.
const UNIT: u64 = 1024;

/// The server-wide budget.
#[derive(Debug, Clone)]
pub struct ResponseBudget {
    units: Arc<Semaphore>,
    total_units: u32,
}

/// Memory held for one answer; given back when dropped.
#[derive(Debug)]
#[must_use = "the memory is given back when the reservation is dropped"]
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
}

impl ResponseBudget {
    pub fn new(bytes: u64) -> ResponseBudget {
        let total_units = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        ResponseBudget {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// Reserves `bytes`, or says why not: more than the whole budget (the
    /// request must ask for less), or more than is free now (retry soon).
    pub fn reserve(&self, bytes: u64) -> Result<Reservation, ApiError> {
        let units = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        if units > self.total_units {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "response_too_large",
                format!(
                    "this answer would hold about {} MiB, more than the {} MiB all answers \
                     may hold at once; ask for fewer bars (limit, start, end) or fewer \
                     indicators, or raise response_budget_mb in the [api] settings",
                    bytes >> 20,
                    self.total_units >> 10,
                ),
            ));
        }
        match Arc::clone(&self.units).try_acquire_many_owned(units) {
            Ok(permit) => Ok(Reservation { _permit: permit }),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_busy",
                format!(
                    "the server is sending as much as it may hold at once (response_budget_mb \
                     in the [api] settings); this answer needs about {} MiB more: retry after \
                     the Retry-After seconds",
                    bytes.div_ceil(1 << 20),
                ),
            )
            .retry_after(1)),
        }
    }

    /// Bytes not reserved now.
    pub fn available(&self) -> u64 {
        self.units.available_permits() as u64 * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_refused_over_the_budget_and_given_back_when_dropped() {
        let budget = ResponseBudget::new(10 << 20);
        let first = budget.reserve(6 << 20).expect("fits");
        let refused = budget.reserve(6 << 20).expect_err("over what is left");
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let too_large = budget.reserve(11 << 20).expect_err("over the whole budget");
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        drop(first);
        assert_eq!(budget.available(), 10 << 20);
        let _second = budget.reserve(6 << 20).expect("fits once given back");
    }
}
