//! The probes: `/healthz` answers while the process does; `/readyz` says
//! whether the data root and the runs folder can be listed now, and a
//! replica whose storage went away says so (503, naming the folder) while
//! it goes on answering what it has.

mod support;

use axum::http::StatusCode;
use support::{copy_folder, get, repo, serve_root_and_runs};

#[tokio::test]
async fn ready_while_storage_lists_and_not_ready_once_it_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("bars");
    let series = "ALPACA/YHOO/1d";
    copy_folder(
        &repo().join("tests/data/market/parquet").join(series),
        &root.join(series),
    );
    let runs = dir.path().join("runs");
    let (state, _folder) = serve_root_and_runs(&root, &runs);

    let (status, alive) = get(&state, "/healthz").await;
    assert_eq!(
        (status, alive),
        (StatusCode::OK, serde_json::json!({ "alive": true }))
    );
    let (status, ready) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready, serde_json::json!({ "symbols": 1, "runs": 0 }));

    // The data root goes (an unmounted volume): not ready, saying which
    // folder; alive still, and what is loaded is still served.
    let moved = dir.path().join("moved");
    std::fs::rename(&root, &moved).expect("move the data root away");
    let (status, refused) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert_eq!(refused["error"]["code"], "not_ready");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("data root") && message.contains(&root.display().to_string()),
        "the refusal names the data root: {message}"
    );
    assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
    let (status, symbols) = get(&state, "/api/symbols").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(symbols["symbols"][0]["id"], "ALPACA:YHOO");

    // Back in place: ready again. Then the runs folder goes.
    std::fs::rename(&moved, &root).expect("move the data root back");
    assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);
    std::fs::remove_dir_all(&runs).expect("remove the runs folder");
    let (status, refused) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("runs folder")),
        "the refusal names the runs folder: {refused}"
    );
}
