//! What the server's benchmarks share: a request through the real router.

use axum::body::Body;
use axum::http::Request;
use candela_server::state::AppState;
use http_body_util::BodyExt;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// `GET uri`.
pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// Sends `request` to a router on `state` and reads the whole answer,
/// which must succeed; the bytes of its body.
pub fn send(runtime: &Runtime, state: &AppState, request: Request<Body>) -> usize {
    let app = candela_server::app::router(state.clone());
    let uri = request.uri().clone();
    runtime.block_on(async move {
        let response = app.oneshot(request).await.expect("response");
        assert!(
            response.status().is_success(),
            "{uri}: {}",
            response.status()
        );
        let body = response.into_body().collect().await.expect("body");
        body.to_bytes().len()
    })
}
