//! The browser UI, embedded in the binary: our own files from `web/` and the
//! pinned third-party libraries from `web/node_modules`.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../web/"]
#[include = "*.html"]
#[include = "*.css"]
#[include = "*.svg"]
#[include = "src/*.js"]
#[exclude = "node_modules/*"]
struct Assets;

#[derive(RustEmbed)]
#[folder = "../web/node_modules/lightweight-charts/dist/"]
#[include = "lightweight-charts.standalone.production.js"]
struct Vendor;

/// Serves `/` and the UI's files; anything else under `/api` is a JSON 404.
pub async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return ApiError::not_found(format!(
            "no API endpoint {}; see /api/openapi.json",
            uri.path()
        ))
        .into_response();
    }
    let path = if path.is_empty() { "index.html" } else { path };
    let file = match path.strip_prefix("vendor/") {
        Some(name) => Vendor::get(name),
        None => Assets::get(path),
    };
    match file {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let cache = if path == "index.html" {
                "no-cache"
            } else {
                "public, max-age=3600"
            };
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref()),
                    (header::CACHE_CONTROL, cache),
                ],
                file.data,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
