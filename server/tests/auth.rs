//! Sign-in: with the gate on, the API wants a token of the tokens file and
//! the page a session the sign-in form gave; a wrong token, a forged or
//! expired session are refused; a token removed from the file stops
//! working within 2 s, its sessions with it; the probes stay open.

mod process;
mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use candela_server::auth::gate::Gate;
use candela_server::auth::tokens::TokenSet;
use candela_server::state::AppState;
use process::Candela;
use support::{send_raw, serve_market};

/// `GET uri` with `headers`: the status, the response's headers and body.
async fn get(
    state: &AppState,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let (status, body) = send_raw(state, request.body(Body::empty()).expect("request")).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `POST /signin` with `token`: the status, the `Set-Cookie` and `Location` headers.
async fn sign_in(state: &AppState, token: &str) -> (StatusCode, Option<String>, Option<String>) {
    sign_in_to(state, token, "").await
}

/// `POST /signin` with `token` and the `next` field.
async fn sign_in_to(
    state: &AppState,
    token: &str,
    next: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    let next: String = next.bytes().map(|b| format!("%{b:02X}")).collect();
    let request = Request::post("/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}&next={next}")))
        .expect("request");
    let response = tower::ServiceExt::oneshot(candela_server::app::router(state.clone()), request)
        .await
        .expect("response");
    let text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    (
        response.status(),
        text(header::SET_COOKIE),
        text(header::LOCATION),
    )
}

/// The `name=value` of a `Set-Cookie`, as the browser sends it back.
fn session_of(set_cookie: Option<String>) -> String {
    let set_cookie = set_cookie.expect("a session cookie");
    set_cookie.split(';').next().expect("value").to_owned()
}

fn gated(tokens: &Path, session: Duration) -> AppState {
    serve_market().with_gate(Gate::open(tokens, session, false).expect("gate"))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_wants_a_token_and_the_page_a_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.toml");
    let ci = TokenSet::create(&tokens, "ci", now()).expect("token");
    let state = gated(&tokens, Duration::from_secs(12 * 3600));
    let bearer = format!("Bearer {ci}");

    let (status, body) = get(&state, "/api/symbols", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body.contains("\"unauthorized\"") && body.contains("candela token new"),
        "{body}"
    );
    let (status, _) = get(
        &state,
        "/api/symbols",
        &[(header::AUTHORIZATION, "Bearer cdl_wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get(&state, "/api/symbols", &[(header::AUTHORIZATION, &ci)]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a token without `Bearer` is not taken"
    );
    let (status, body) = get(&state, "/api/symbols", &[(header::AUTHORIZATION, &bearer)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("ALPACA:YHOO"));

    // The page: the sign-in form, then the chart once signed in.
    let (status, page) = get(&state, "/", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        page.contains("action=\"/signin\"") && page.contains("type=\"password\""),
        "{page}"
    );
    for open in ["/healthz", "/readyz", "/signin", "/style.css"] {
        assert_eq!(
            get(&state, open, &[]).await.0,
            StatusCode::OK,
            "{open} is open"
        );
    }
    // Signed in from a link, the browser goes on to it; never to another site.
    let (_, page) = get(&state, "/?symbol=ALPACA:YHOO&timeframe=1d", &[]).await;
    assert!(
        page.contains(
            "name=\"next\" type=\"hidden\" value=\"/?symbol=ALPACA:YHOO&amp;timeframe=1d\""
        ),
        "{page}"
    );
    for (next, to) in [
        ("/?symbol=ALPACA:YHOO", "/?symbol=ALPACA:YHOO"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let (status, _, location) = sign_in_to(&state, &ci, next).await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some(to)),
            "next={next}"
        );
    }
    // A sign-in posted by a page of another site is refused.
    let request = Request::post("/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!("token={ci}")))
        .expect("request");
    assert_eq!(send_raw(&state, request).await.0, StatusCode::FORBIDDEN);
    let (status, cookie, _) = sign_in(&state, "cdl_wrong").await;
    assert_eq!((status, cookie), (StatusCode::UNAUTHORIZED, None));
    let (status, cookie, location) = sign_in(&state, &ci).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/"))
    );
    let cookie = cookie.expect("a session cookie");
    for attribute in [
        "candela_session=ci.",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "not Secure without TLS: {cookie}"
    );
    assert!(
        !cookie.contains(&ci[4..]),
        "the cookie holds no token: {cookie}"
    );
    let session = session_of(Some(cookie));
    let (status, page) = get(&state, "/", &[(header::COOKIE, &session)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"chart\""), "the chart page");
    assert_eq!(
        get(&state, "/api/symbols", &[(header::COOKIE, &session)])
            .await
            .0,
        StatusCode::OK
    );

    // A session changed anywhere is refused: a later expiry, another name.
    let (name_expiry, mac) = session.rsplit_once('.').expect("mac");
    let (name, expiry) = name_expiry.rsplit_once('.').expect("expiry");
    let later = format!(
        "{name}.{}.{mac}",
        expiry.parse::<i64>().expect("expiry") + 3600
    );
    let other = format!("{}.{expiry}.{mac}", name.replace("ci", "cj"));
    for forged in [later, other, format!("{name_expiry}.{}", "0".repeat(64))] {
        let (status, _) = get(&state, "/api/symbols", &[(header::COOKIE, &forged)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{forged}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_expires_and_a_revoked_token_stops_within_two_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.toml");
    let ci = TokenSet::create(&tokens, "ci", now()).expect("token");
    let alice = TokenSet::create(&tokens, "alice", now()).expect("token");
    let state = gated(&tokens, Duration::from_secs(1));

    let (_, cookie, _) = sign_in(&state, &ci).await;
    let session = session_of(cookie);
    assert_eq!(
        get(&state, "/api/symbols", &[(header::COOKIE, &session)])
            .await
            .0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _) = get(&state, "/api/symbols", &[(header::COOKIE, &session)]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a session past its hours is refused"
    );

    let (_, cookie, _) = sign_in(&state, &alice).await;
    let session = session_of(cookie);
    TokenSet::revoke(&tokens, "alice").expect("revoke");
    let revoked = Instant::now();
    let alice = format!("Bearer {alice}");
    while get(&state, "/api/symbols", &[(header::AUTHORIZATION, &alice)])
        .await
        .0
        == StatusCode::OK
    {
        assert!(
            revoked.elapsed() < Duration::from_secs(2),
            "a revoked token still works after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "a revoked token was refused {} ms after the file changed",
        revoked.elapsed().as_millis()
    );
    assert_eq!(
        get(&state, "/api/symbols", &[(header::COOKIE, &session)])
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "and its sessions"
    );
    let ci = format!("Bearer {ci}");
    assert_eq!(
        get(&state, "/api/symbols", &[(header::AUTHORIZATION, &ci)])
            .await
            .0,
        StatusCode::OK,
        "the other token still works"
    );
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.toml");
    let ci = TokenSet::create(&tokens, "ci", now()).expect("token");
    let state =
        serve_market().with_gate(Gate::open(&tokens, Duration::from_secs(60), true).expect("gate"));
    let (_, cookie, _) = sign_in(&state, &ci).await;
    assert!(
        cookie.is_some_and(|c| c.ends_with("; Secure")),
        "auth.secure_cookies marks it Secure"
    );
}

#[test]
fn a_gate_without_tokens_does_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = Gate::open(
        &dir.path().join("none.toml"),
        Duration::from_secs(60),
        false,
    )
    .expect_err("no tokens");
    assert!(error.to_string().contains("candela token new"), "{error}");
}

/// The status of `GET path` from the server at `address` (its port, on loopback).
fn status_of(address: &str, path: &str, token: Option<&str>) -> u16 {
    let port = address.rsplit(':').next().expect("port");
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("port")))
            .expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line")
}

#[test]
fn an_address_beyond_loopback_wants_tokens_unless_no_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let candela = || Candela::on_test_market(dir.path(), "0.0.0.0:0");

    // No token yet: it does not start, and says how to.
    let refused = candela().output().expect("run candela");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "served an exposed address without tokens"
    );
    assert!(
        said.contains("candela token new") && said.contains("--no-auth"),
        "{said}"
    );

    // --no-auth: it serves, and the log says what is exposed.
    let open = Candela::serve(candela().arg("--no-auth"));
    assert!(
        open.started.iter().any(|l| l.contains("without sign-in")),
        "{:?}",
        open.started
    );
    assert_eq!(status_of(&open.address, "/api/symbols", None), 200);
    drop(open);

    // With a token: the API wants it.
    let token =
        TokenSet::create(&dir.path().join("candela-tokens.toml"), "ci", now()).expect("token");
    let gated = Candela::serve(&mut candela());
    assert_eq!(status_of(&gated.address, "/api/symbols", None), 401);
    assert_eq!(
        status_of(&gated.address, "/api/symbols", Some("cdl_wrong")),
        401
    );
    assert_eq!(status_of(&gated.address, "/api/symbols", Some(&token)), 200);
    assert_eq!(status_of(&gated.address, "/healthz", None), 200);
}
