//! The browser UI, embedded in the binary: our own files from `web/` and the
//! pinned third-party libraries from `web/node_modules`.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

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

/// The SHA-256 (base64) of each inline script of the page (the theme read
/// before the first paint, the import map), for its `Content-Security-Policy`.
pub fn inline_script_hashes() -> Vec<String> {
    let page = Assets::get("index.html")
        .map(|file| file.data)
        .unwrap_or_default();
    let page = String::from_utf8_lossy(&page);
    page.split("<script")
        .skip(1)
        .filter_map(|tag| {
            let (attributes, rest) = tag.split_once('>')?;
            let (body, _) = rest.split_once("</script>")?;
            (!attributes.contains("src=")).then(|| sha256_base64(body))
        })
        .collect()
}

/// The SHA-256 (base64) of each style sheet lightweight-charts writes into
/// the page (its attribution logo's), for the `Content-Security-Policy`.
pub fn inline_style_hashes() -> Vec<String> {
    const STYLE_ELEMENT: &str = "createElement(\"style\")";
    const TEXT: &str = ".innerText=\"";
    let module = Vendor::get("lightweight-charts.standalone.production.mjs")
        .map(|file| file.data)
        .unwrap_or_default();
    let module = String::from_utf8_lossy(&module);
    module
        .split(STYLE_ELEMENT)
        .skip(1)
        .filter_map(|after| {
            let (_, text) = after.split_once(TEXT)?;
            let (css, _) = text.split_once('"')?;
            Some(sha256_base64(css))
        })
        .collect()
}

fn sha256_base64(text: &str) -> String {
    BASE64.encode(Sha256::digest(text.as_bytes()))
}
