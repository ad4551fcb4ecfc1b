//! A 1,000,000-row result, the bars of a one-minute series, fetched over
//! loopback TCP two ways from one server: Arrow Flight SQL (arrow-flight's
//! client, `GetFlightInfo` then `DoGet`) against `POST /api/sql` answering
//! an Arrow IPC stream (read with a plain HTTP/1.1 request, decoded with
//! arrow's stream reader). Both decode every batch; rows per second is
//! 1,000,000 over the time.
//!
//! `cargo bench --workspace --bench flight --profile dev`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use candela_core::synthetic::{continuous_minutes, write_parquet};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::serve::ConnectionLimits;
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::ipc::reader::StreamReader;
use futures::StreamExt;

#[path = "../tests/process/mod.rs"]
mod process;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 1_000_000;

const QUERY: &str =
    "SELECT time, open, high, low, close, volume FROM bars('SYNTH:BENCH', '1m') ORDER BY time";

/// Rows of the Arrow stream `POST /api/sql` answers on `address`.
fn over_http(address: SocketAddr) -> usize {
    let body = serde_json::json!({ "sql": QUERY }).to_string();
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "POST /api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Accept: application/vnd.apache.arrow.stream\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let body = if head.contains("transfer-encoding: chunked") {
        process::unchunk(&answer[end + 4..])
    } else {
        answer[end + 4..].to_vec()
    };
    StreamReader::try_new(std::io::Cursor::new(body), None)
        .expect("an Arrow stream")
        .map(|batch| batch.expect("batch").num_rows())
        .sum()
}

/// Rows of the same query through Flight SQL on `address`.
async fn over_flight(address: SocketAddr) -> usize {
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = FlightSqlServiceClient::new(channel);
    let info = client.execute(QUERY.into(), None).await.expect("info");
    let mut rows = 0;
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let mut batches = client.do_get(ticket).await.expect("do_get");
        while let Some(batch) = batches.next().await {
            rows += batch.expect("batch").num_rows();
        }
    }
    rows
}

fn flight(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("tempdir");
    let folder = root.path().join("SYNTH/BENCH/1m");
    std::fs::create_dir_all(&folder).expect("mkdir");
    write_parquet(&continuous_minutes(ROWS, 42), &folder.join("bars.parquet")).expect("write");
    let store = Arc::new(Store::open(StoreConfig::new(root.path())).expect("store"));
    let limits = SqlLimits {
        max_rows: 2 * ROWS,
        max_result_bytes: 1 << 30,
        time_limit: Duration::from_secs(120),
        ..SqlLimits::default()
    };
    let engine = Arc::new(Engine::new(store, 2).expect("engine"));
    let state = AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        limits,
        None,
    )
    .expect("state");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (http, grpc) = runtime.block_on(async {
        let http = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addresses = (
            http.local_addr().expect("address"),
            grpc.local_addr().expect("address"),
        );
        let flight = candela_flight::FlightSql::new(Arc::clone(&state.sql)).expect("flight");
        tokio::spawn(candela_flight::serve(
            grpc,
            flight,
            None,
            std::future::pending(),
        ));
        let app = candela_server::app::router(state);
        tokio::spawn(candela_server::serve::serve(
            http,
            app,
            ConnectionLimits::default(),
            None,
            std::future::pending(),
        ));
        addresses
    });
    assert_eq!(runtime.block_on(over_flight(grpc)), ROWS);
    assert_eq!(over_http(http), ROWS);

    let mut group = c.benchmark_group("result_1m_rows");
    group.sample_size(10);
    group.bench_function("flight_sql", |b| {
        b.iter(|| runtime.block_on(over_flight(grpc)))
    });
    group.bench_function("http_arrow", |b| b.iter(|| over_http(http)));
    group.finish();
}

criterion_group!(benches, flight);
criterion_main!(benches);
