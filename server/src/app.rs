//! The HTTP application: routes, shared state and middleware.

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use tower::{BoxError, ServiceBuilder};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::gate;
use crate::error::ApiError;
use crate::routes::{catalog, data, health, openapi, runs, sql, stream};
use crate::state::AppState;
use crate::{http_policy, web};

/// Builds the router serving the API and the UI.
pub fn router(state: AppState) -> Router {
    let http = state.http.clone();
    let timeout = http.request_timeout;
    let signed_in = state.gate.clone();
    let routes = Router::new()
        .route("/api/symbols", get(catalog::symbols))
        .route("/api/timeframes/{symbol}", get(catalog::timeframes))
        .route("/api/indicators", get(catalog::indicators))
        .route("/api/data", get(data::data))
        .route("/api/stream", get(stream::stream))
        .route("/api/sql", get(sql::get).post(sql::post))
        .route("/api/runs", get(runs::list))
        .route("/api/runs/stream", get(stream::runs))
        .route("/api/runs/{run}", get(runs::detail))
        .route("/api/runs/{run}/trades", get(runs::trades))
        .route("/api/runs/{run}/equity", get(runs::equity))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/signin", get(gate::page).post(gate::sign_in))
        .fallback(web::asset)
        .with_state(state);
    let routes = match signed_in {
        Some(gate) => routes.layer(middleware::from_fn_with_state(gate, gate::require)),
        None => routes,
    };
    routes
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .layer(middleware::from_fn(http_policy::refuse_cross_site))
        // Bars are JSON numbers: the fastest level already shrinks them about
        // fourfold, while the default level costs more time than it saves
        // on all but slow links (50,000 bars: ~10 MB of JSON).
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        // A request that times out is dropped, and with it the work it started.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |error| async move {
                    timed_out(error, timeout)
                }))
                .timeout(timeout),
        )
        .layer(middleware::from_fn_with_state(
            http.hosts,
            http_policy::check_host,
        ))
        .layer(middleware::from_fn(http_policy::security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

fn timed_out(error: BoxError, timeout: Duration) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timed_out",
            format!(
                "the answer was not ready within {} ms (request_timeout_ms in the [http] settings)",
                timeout.as_millis()
            ),
        )
        .retry_after(1)
    } else {
        ApiError::internal(error)
    }
}
