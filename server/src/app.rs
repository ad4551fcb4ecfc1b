//! The HTTP application: routes, shared state and middleware.

use axum::Router;
use axum::routing::get;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::{self, AppState};
use crate::{runs_api, sql_api, web};

/// Builds the router serving the API and the UI.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/symbols", get(api::symbols))
        .route("/api/timeframes/{symbol}", get(api::timeframes))
        .route("/api/indicators", get(api::indicators))
        .route("/api/data", get(api::data))
        .route("/api/sql", get(sql_api::get).post(sql_api::post))
        .route("/api/runs", get(runs_api::list))
        .route("/api/runs/{run}", get(runs_api::detail))
        .route("/api/runs/{run}/trades", get(runs_api::trades))
        .route("/api/runs/{run}/equity", get(runs_api::equity))
        .route("/api/openapi.json", get(api::openapi))
        .fallback(web::asset)
        .with_state(state)
        // Bars are JSON numbers: the fastest level already shrinks them about
        // fourfold, while the default level costs more time than it saves
        // on all but slow links (50,000 bars: ~10 MB of JSON).
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}
