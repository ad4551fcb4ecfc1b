//! Servers that follow their folders, over real HTTP, and their streams
//! read as a browser's EventSource reads them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use candela_backtest::{FileLimits, RunsFolder};
use candela_core::storage::DataRoot;
use candela_core::{Engine, Store, StoreConfig};
use candela_server::live::{Live, LiveConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One server-sent event.
#[derive(Debug, Default)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// A stream being read, line by line.
pub struct Stream {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
    pub status: u16,
    /// The response's headers, as sent.
    pub headers: Vec<String>,
}

impl Stream {
    /// `GET /api/stream?query` with `headers`, over HTTP/1.0 (the body ends with the connection).
    pub async fn open(address: &str, query: &str, headers: &str) -> Stream {
        Stream::get(address, &format!("/api/stream?{query}"), headers).await
    }

    /// `GET path` with `headers`, as an event stream.
    pub async fn get(address: &str, path: &str, headers: &str) -> Stream {
        let mut socket = TcpStream::connect(address).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{headers}\r\n"
        );
        socket.write_all(request.as_bytes()).await.expect("request");
        let mut lines = BufReader::new(socket).lines();
        let status_line = lines
            .next_line()
            .await
            .expect("read")
            .expect("a status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut headers = Vec::new();
        while let Some(line) = lines.next_line().await.expect("header") {
            if line.is_empty() {
                break;
            }
            headers.push(line);
        }
        Stream {
            lines,
            status,
            headers,
        }
    }

    /// The next event (keep-alive comments skipped), or None when the stream ends or `wait` passes.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        tokio::time::timeout(wait, async {
            let mut event = Event::default();
            loop {
                let line = self.lines.next_line().await.ok()??;
                if line.is_empty() {
                    if !event.event.is_empty() || !event.data.is_empty() {
                        return Some(event);
                    }
                    continue;
                }
                match line.split_once(':') {
                    Some(("event", v)) => event.event = v.trim().to_owned(),
                    Some(("id", v)) => event.id = Some(v.trim().to_owned()),
                    Some(("data", v)) => event.data.push_str(v.strip_prefix(' ').unwrap_or(v)),
                    _ => {} // a comment: keep-alive
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Whether the server ended the stream within `wait`.
    pub async fn ends(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async {
            while let Ok(Some(_)) = self.lines.next_line().await {}
        })
        .await
        .is_ok()
    }
}

pub async fn get(address: &str, path: &str) -> Value {
    let mut socket = TcpStream::connect(address).await.expect("connect");
    socket
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut body = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut socket, &mut body)
        .await
        .expect("read");
    let json = body.split_once("\r\n\r\n").expect("a body").1;
    serde_json::from_str(json).expect("JSON")
}

/// A server on `root` (the watcher polling every 200 ms) with the runs of
/// `runs`; its address, its live side and its state.
pub async fn serve_live(
    root: &Path,
    runs: Option<&Path>,
    max_streams: usize,
) -> (String, Live, AppState) {
    let store = Arc::new(Store::open(StoreConfig::new(root)).expect("store"));
    let config = LiveConfig {
        poll: Duration::from_millis(200),
        max_streams,
        keep_alive: Duration::from_millis(300),
        ..LiveConfig::default()
    };
    let live = Live::follow(Arc::clone(&store), config).expect("follow");
    let folder = runs.map(|dir| {
        Arc::new(
            RunsFolder::open(
                DataRoot::Folder(dir.to_owned()),
                Arc::clone(&store),
                FileLimits::default(),
            )
            .expect("runs folder"),
        )
    });
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let state = AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        folder,
    )
    .expect("state")
    .with_live(live.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let served = state.clone();
    tokio::spawn(async move { axum::serve(listener, candela_server::app::router(served)).await });
    (address, live, state)
}
