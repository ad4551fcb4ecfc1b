//! A server left running: the work one request may ask for is bounded
//! (indicator calls, the default window, the memory of answers in flight,
//! one read per cold series), requests must be for this server and not from
//! another site's page, answers carry the security headers, and the
//! listener cuts off slow and idle clients, caps its connections and shuts
//! down within its grace. Each refusal is asserted through the real router
//! or a real socket.

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use candela_server::budget::ResponseBudget;
use candela_server::http_policy::{HostAllowlist, HttpPolicy};
use candela_server::serve::{ConnectionLimits, serve};
use candela_server::state::{AppState, DataLimits};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// `request` through the router: status, headers and the JSON body (null
/// when not JSON).
async fn send(
    state: &AppState,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = candela_server::app::router(state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, json)
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let (status, _, json) = send(
        state,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await;
    (status, json)
}

fn with_data_limits(limits: DataLimits) -> AppState {
    support::serve_market().with_limits(limits, HttpPolicy::default())
}

#[tokio::test]
async fn indicator_calls_are_capped_and_identical_calls_answered_alike() {
    let state = with_data_limits(DataLimits {
        max_indicator_calls: 4,
        ..DataLimits::default()
    });
    let five = ["sma(5)"; 5].join(",");
    let (status, body) = get(&state, &format!("/api/data?symbol=NVDA&indicators={five}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", body["error"]);
    assert_eq!(body["error"]["code"], "too_many_indicators");
    assert_eq!(body["error"]["param"], "indicators");

    let (status, body) = get(
        &state,
        "/api/data?symbol=NVDA&limit=300&indicators=sma(5),rsi,sma(period=5),rsi(14)",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    let entries = body["indicators"].as_array().expect("entries");
    assert_eq!(entries.len(), 4, "one entry per call asked");
    assert_eq!(entries[0], entries[2]);
    assert_eq!(entries[1], entries[3]);
    assert_eq!(entries[0]["key"], "sma(period=5)");
    assert_eq!(
        entries[0]["outputs"]["sma"].as_array().map(Vec::len),
        Some(300)
    );
}

#[tokio::test]
async fn a_request_without_limit_gets_the_last_bars_of_the_default_window() {
    let state = with_data_limits(DataLimits {
        default_limit: 250,
        ..DataLimits::default()
    });
    let (status, all) = get(&state, "/api/data?symbol=NVDA&limit=1000000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["truncated"], false);
    let times = all["bars"]["time"].as_array().expect("times");

    let (status, window) = get(&state, "/api/data?symbol=NVDA").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(window["truncated"], true);
    let last = window["bars"]["time"].as_array().expect("times");
    assert_eq!(last.as_slice(), &times[times.len() - 250..]);

    let (_, small) = get(
        &state,
        "/api/data?symbol=NVDA&start=2020-01-02&end=2020-01-31",
    )
    .await;
    assert_eq!(
        small["truncated"], false,
        "a range under the limit is whole"
    );
}

#[tokio::test]
async fn answers_over_the_memory_budget_are_refused_and_retried_later() {
    let budget = ResponseBudget::new(3 << 20);
    let state = with_data_limits(DataLimits {
        budget: budget.clone(),
        ..DataLimits::default()
    });
    // 30,889 one-minute bars with MACD: about 2.6 MiB held while answered.
    let uri = "/api/data?symbol=BTFUT&timeframe=1m&indicators=macd&limit=1000000";
    let (status, body) = get(&state, uri).await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    assert_eq!(budget.available(), 3 << 20, "given back once sent");

    let held = budget.reserve(2 << 20).expect("part of the budget");
    let (status, headers, body) = send(
        &state,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", body["error"]);
    assert_eq!(body["error"]["code"], "server_busy");
    assert_eq!(headers[header::RETRY_AFTER], "1");
    drop(held);
    assert_eq!(get(&state, uri).await.0, StatusCode::OK);

    let (status, body) = get(
        &state,
        "/api/data?symbol=BTFUT&timeframe=1m&indicators=macd,bbands,stoch&limit=1000000",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", body["error"]);
    assert_eq!(body["error"]["code"], "response_too_large");
}

#[tokio::test]
async fn concurrent_requests_for_a_cold_series_share_one_read() {
    for timeframe in ["1m", "1h"] {
        let state = support::serve_market();
        let uri = format!("/api/data?symbol=BTFUT&timeframe={timeframe}&limit=10");
        let answers = futures::future::join_all((0..8).map(|_| get(&state, &uri))).await;
        assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK));
        assert!(answers.windows(2).all(|pair| pair[0].1 == pair[1].1));
        assert_eq!(state.engine.store().parquet_reads(), 1, "{timeframe}");
    }
}

#[tokio::test]
async fn requests_for_other_hosts_are_refused() {
    let state = support::serve_market().with_limits(
        DataLimits::default(),
        HttpPolicy {
            hosts: HostAllowlist::new(&["charts.example.org".into()]),
            ..HttpPolicy::default()
        },
    );
    let with_host = |host: &str| {
        Request::get("/api/symbols")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("request")
    };
    for host in [
        "localhost:5000",
        "127.0.0.1:5000",
        "[::1]:5000",
        "charts.example.org",
    ] {
        assert_eq!(
            send(&state, with_host(host)).await.0,
            StatusCode::OK,
            "{host}"
        );
    }
    for host in [
        "evil.example",
        "evil.example:5000",
        "localhost.evil.example",
    ] {
        let (status, _, body) = send(&state, with_host(host)).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert_eq!(body["error"]["code"], "host_not_allowed");
    }
}

#[tokio::test]
async fn requests_made_by_another_sites_page_are_refused_and_programs_served() {
    let state = support::serve_market();
    let sql = |headers: &[(&str, &str)]| {
        let mut request =
            Request::get("/api/sql?q=SELECT%201").header(header::HOST, "localhost:5000");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::empty()).expect("request")
    };
    for refused in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
    ] {
        let (status, _, body) = send(&state, sql(&refused)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused:?}");
        assert_eq!(body["error"]["code"], "cross_site_refused");
    }
    for served in [
        vec![],
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")],
        vec![("origin", "http://localhost:5000")],
    ] {
        assert_eq!(
            send(&state, sql(&served)).await.0,
            StatusCode::OK,
            "{served:?}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let state = support::serve_market();
    for uri in ["/", "/src/app.js", "/api/symbols", "/api/nothing"] {
        let (_, headers, _) = send(&state, Request::get(uri).body(Body::empty()).expect("r")).await;
        let policy = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("text");
        assert!(policy.contains("default-src 'self'"), "{uri}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{uri}: {policy}");
        // The page's two inline scripts, by hash, and no 'unsafe-inline'.
        assert_eq!(policy.matches("'sha256-").count(), 3, "{uri}: {policy}");
        assert!(!policy.contains("unsafe"), "{uri}: {policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    }
}

#[tokio::test]
async fn request_bodies_over_the_limit_are_refused() {
    let state = support::serve_market().with_limits(
        DataLimits::default(),
        HttpPolicy {
            max_body_bytes: 1024,
            ..HttpPolicy::default()
        },
    );
    let long = format!("{{\"sql\": \"SELECT 1 {}\"}}", " ".repeat(2000));
    let request = Request::post("/api/sql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(long))
        .expect("request");
    let (status, _, body) = send(&state, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", body["error"]);
    assert_eq!(body["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn a_request_whose_answer_is_not_ready_in_time_is_cut_off() {
    let state = support::serve_market().with_limits(
        DataLimits::default(),
        HttpPolicy {
            request_timeout: Duration::from_millis(200),
            ..HttpPolicy::default()
        },
    );
    let started = Instant::now();
    let (status, body) = get(
        &state,
        "/api/sql?q=SELECT%20count(*)%20FROM%20generate_series(1,5000000)%20a,%20generate_series(1,5000000)%20b",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", body["error"]);
    assert_eq!(body["error"]["code"], "timed_out");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The server on a free loopback port with `limits`, and the sender that
/// shuts it down; the task ends when it has.
async fn listening(
    limits: ConnectionLimits,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = candela_server::app::router(support::serve_market());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(serve(listener, app, limits, None, async move {
        let _ = stopped.await;
    }));
    (address, stop, server)
}

const REQUEST: &[u8] = b"GET /api/symbols HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Reads until the server closes the connection or `within` passes: what
/// was read, and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (read, true),
            Ok(Ok(n)) => read.extend_from_slice(&buffer[..n]),
            Err(_) => return (read, false),
        }
    }
}

#[tokio::test]
async fn half_sent_headers_and_idle_connections_are_cut_off() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let (address, _stop, _server) = listening(limits).await;
    let mut half = TcpStream::connect(address).await.expect("connect");
    half.write_all(b"GET /api/symbols HTTP/1.1\r\nHost: loc")
        .await
        .expect("write");
    let mut idle = TcpStream::connect(address).await.expect("connect");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut half, Duration::from_secs(5)).await;
    assert!(closed, "a half-sent request is cut off");
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed, "an idle connection is closed");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let limits = ConnectionLimits {
        max_connections: 2,
        ..ConnectionLimits::default()
    };
    let (address, _stop, _server) = listening(limits).await;
    let first = TcpStream::connect(address).await.expect("connect");
    let _second = TcpStream::connect(address).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(address)
        .await
        .expect("the kernel queues it");
    third.write_all(REQUEST).await.expect("write");
    let (answer, _) = read_until_closed(&mut third, Duration::from_millis(500)).await;
    assert!(answer.is_empty(), "not served while two are open");
    drop(first);
    let mut answer = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), third.read_exact(&mut answer))
        .await
        .expect("served once one closed")
        .expect("read");
    assert_eq!(&answer, b"HTTP/1.1 200");
}

#[tokio::test]
async fn shutdown_ends_idle_connections_and_waits_no_longer_than_its_grace() {
    let limits = ConnectionLimits {
        shutdown_grace: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    let (address, stop, server) = listening(limits).await;
    let mut idle = TcpStream::connect(address).await.expect("connect");
    let mut half = TcpStream::connect(address).await.expect("connect");
    half.write_all(b"GET /api/symbols HTTP/1.1\r\n")
        .await
        .expect("write");
    let mut served = TcpStream::connect(address).await.expect("connect");
    served.write_all(REQUEST).await.expect("write");
    let mut status = [0u8; 12];
    served.read_exact(&mut status).await.expect("answer");
    let started = Instant::now();
    stop.send(()).expect("server runs");
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("the server stops within its grace")
        .expect("task");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(read_until_closed(&mut idle, Duration::from_secs(2)).await.1);
    assert!(
        TcpStream::connect(address).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn a_streamed_answer_compresses_whole() {
    let state = support::serve_market();
    let request = Request::get("/api/data?symbol=BTFUT&timeframe=1m&indicators=rsi&limit=1000000")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("request");
    let response = candela_server::app::router(state)
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("the whole body")
        .to_bytes();
    assert!(bytes.len() > 100_000, "{} bytes", bytes.len());
}

#[tokio::test]
async fn an_answer_streams_whole_through_a_real_socket() {
    let (address, _stop, _server) = listening(ConnectionLimits::default()).await;
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(
            b"GET /api/data?symbol=BTFUT&timeframe=1m&indicators=macd,rsi&limit=1000000 HTTP/1.1\r\n\
              Host: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(30)).await;
    assert!(closed);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("transfer-encoding: chunked"),
        "streamed, not built whole: {head}"
    );
    let body: Value = serde_json::from_slice(&dechunked(&answer[split + 4..])).expect("JSON");
    assert_eq!(body["bars"]["time"].as_array().map(Vec::len), Some(30_889));
    assert_eq!(body["indicators"].as_array().map(Vec::len), Some(2));
}

/// The payload of a chunked body.
fn dechunked(mut body: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("size line");
        let size = std::str::from_utf8(&body[..line_end]).expect("text");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return payload;
        }
        let start = line_end + 2;
        payload.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
}
