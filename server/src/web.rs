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

/// lightweight-charts as an ES module with no imports of its own, which the
/// page's import map names `lightweight-charts`.
#[derive(RustEmbed)]
#[folder = "../web/node_modules/lightweight-charts/dist/"]
#[include = "lightweight-charts.standalone.production.mjs"]
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
            let mime = content_type(path);
            let cache = if path == "index.html" {
                "no-cache"
            } else {
                "public, max-age=3600"
            };
            (
                [
                    (header::CONTENT_TYPE, mime.as_str()),
                    (header::CACHE_CONTROL, cache),
                ],
                file.data,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The media type of a UI file. Scripts are `text/javascript`, as the HTML
/// standard names it, whatever their extension: the browser refuses a module
/// script served as anything but a JavaScript type, and `mime_guess` names
/// `.js` and `.mjs` differently (`application/javascript` for `.mjs`).
fn content_type(path: &str) -> String {
    if path.ends_with(".js") || path.ends_with(".mjs") {
        return "text/javascript".to_owned();
    }
    mime_guess::from_path(path)
        .first_or_octet_stream()
        .to_string()
}
