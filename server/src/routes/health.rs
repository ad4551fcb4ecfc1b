//! Probes for load balancers and orchestrators. `/healthz`: the process
//! answers. `/readyz`: it can serve now, its catalog loaded and its storage
//! (the data root, the runs folder) listable within a deadline, so that a
//! replica whose disk or mount hangs is taken out of rotation, not restarted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use candela_core::storage::{Bucket, DataRoot};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// How long a folder may take to be listed before the server is not ready.
const STORAGE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, ToSchema)]
pub struct Alive {
    alive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Symbols in the catalog.
    symbols: usize,
    /// Runs in the runs folder (readable or not).
    runs: usize,
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Alive)))]
pub async fn healthz() -> Json<Alive> {
    Json(Alive { alive: true })
}

/// The server can serve: its catalog is loaded and its storage answers.
#[utoipa::path(
    get, path = "/readyz",
    responses(
        (status = 200, body = Ready),
        (status = 503, body = ErrorBody, description = "the data root or the runs folder cannot be listed now"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let store = state.engine.store();
    answers("data root", store.root()).await?;
    if let Some(runs) = &state.runs {
        answers("runs folder", runs.root()).await?;
    }
    Ok(Json(Ready {
        symbols: store.catalog().symbols().count(),
        runs: state.runs().runs.len(),
    }))
}

/// Whether `root` can be listed now.
async fn answers(what: &'static str, root: &DataRoot) -> Result<(), ApiError> {
    match root {
        DataRoot::Folder(folder) => listable(what, folder.clone()).await,
        DataRoot::Bucket(bucket) => reachable(Arc::clone(bucket)).await,
    }
}

/// Lists `dir` off the async threads, within [`STORAGE_DEADLINE`].
async fn listable(what: &'static str, dir: PathBuf) -> Result<(), ApiError> {
    let shown = dir.display().to_string();
    let listing = tokio::task::spawn_blocking(move || std::fs::read_dir(&dir).map(drop));
    let failure = match tokio::time::timeout(STORAGE_DEADLINE, listing).await {
        Ok(Ok(Ok(()))) => return Ok(()),
        Ok(Ok(Err(error))) => format!("the {what} {shown} cannot be listed: {error}"),
        Ok(Err(join)) => return Err(ApiError::internal(join)),
        Err(_) => format!(
            "the {what} {shown} was not listed within {} ms",
            STORAGE_DEADLINE.as_millis()
        ),
    };
    Err(not_ready(failure))
}

/// Whether `bucket` answers a listing, within its own deadline.
async fn reachable(bucket: Arc<Bucket>) -> Result<(), ApiError> {
    match tokio::task::spawn_blocking(move || bucket.reachable()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(not_ready(error.to_string())),
        Err(join) => Err(ApiError::internal(join)),
    }
}

fn not_ready(failure: String) -> ApiError {
    tracing::warn!("not ready: {failure}");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", failure).retry_after(5)
}
