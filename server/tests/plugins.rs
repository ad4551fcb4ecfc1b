//! Plugins in the running server: the `candela` binary with a plugin folder
//! from its configuration. A `.wasm` dropped in while it serves is listed
//! and computed like a built-in; a misbehaving plugin fails only its own
//! requests, with the plugin named; a removed plugin is gone.

mod process;
#[path = "../../plugins/tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use process::Candela;
use serde_json::Value;

/// The server, stopped when dropped.
struct Server(Candela);

impl Server {
    fn start(config: &Path) -> Server {
        Server(Candela::serve(
            Candela::command()
                .arg("--config")
                .arg(config)
                .env("RUST_LOG", "info"),
        ))
    }

    /// GET `path`: the status and the JSON body.
    fn get(&self, path: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.0.address).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n",
            self.0.address
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn indicator_ids(&self) -> Vec<String> {
        let (_, body) = self.get("/api/indicators");
        body["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

fn eventually(what: &str, ready: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    start.elapsed()
}

#[test]
fn a_plugin_dropped_into_the_running_server_is_served_like_a_builtin() {
    let root = tempfile::tempdir().expect("temp dir");
    let plugins = root.path().join("plugins");
    let config = root.path().join("candela.toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\nbind = \"127.0.0.1:0\"\nplugins = {:?}\nplugin_cache = {:?}\nplugin_time_limit_ms = 500\n[providers.ALPACA]\ntimezone = \"America/New_York\"\n",
            support::repo().join("data"),
            plugins,
            root.path().join("cache"),
        ),
    )
    .expect("config");
    let server = Server::start(&config);
    assert!(plugins.is_dir(), "the server creates its plugin folder");
    assert!(!server.indicator_ids().contains(&"hma".to_owned()));

    for name in ["hma", "faulty"] {
        std::fs::copy(support::wasm(name), plugins.join(format!("{name}.wasm"))).expect("copy");
    }
    let waited = eventually("hma is listed", || {
        let ids = server.indicator_ids();
        ids.contains(&"hma".into()) && ids.contains(&"faulty".into())
    });
    println!("listed {waited:?} after the copy");
    let (_, listing) = server.get("/api/indicators");
    let hma = listing["indicators"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["id"] == "hma")
        .expect("hma")
        .clone();
    assert_eq!(hma["origin"], "wasm");
    assert_eq!(hma["category"], "Trend");
    assert_eq!(hma["params"][0]["name"], "period");

    let (status, data) =
        server.get("/api/data?symbol=AAPL&timeframe=1d&limit=300&indicators=hma(20),sma(20)");
    assert_eq!(status, 200, "{data}");
    let hull = &data["indicators"][0];
    assert_eq!(hull["key"], "hma(period=20)");
    assert_eq!(hull["placement"], "overlay");
    let values = hull["outputs"]["hma"].as_array().expect("values");
    assert_eq!(values.len(), 300);
    assert!(
        values.iter().all(Value::is_f64),
        "a window has history, so no warm-up"
    );

    // Misbehaviour fails that request only, naming the plugin.
    for (mode, status, code) in [
        (1, 500, "indicator_failed"),
        (2, 500, "indicator_limit"),
        (7, 422, "indicator_refused"),
    ] {
        let (got, body) = server.get(&format!(
            "/api/data?symbol=AAPL&timeframe=1d&limit=50&indicators=faulty(mode={mode})"
        ));
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("plugin 'faulty' (faulty.wasm)"),
            "{message}"
        );
    }
    let (status, _) = server.get("/api/data?symbol=AAPL&timeframe=1d&limit=50&indicators=hma");
    assert_eq!(status, 200, "the server carries on");

    // SQL sees plugins as window functions, equal to /api/data's values.
    let (status, sql) = server.get(&sql_uri(
        "SELECT hma(close, 20) OVER (ORDER BY time) AS h FROM bars('AAPL', '1d')",
    ));
    assert_eq!(status, 200, "{sql}");
    let rows = sql["rows"].as_array().expect("rows");
    // The window /api/data computed starts its running sums elsewhere, so
    // the two agree to rounding, not bit for bit.
    let via_sql = rows[rows.len() - 300..].iter().map(|r| r[0].as_f64());
    for (sql, data) in via_sql.zip(values.iter().map(Value::as_f64)) {
        let (sql, data) = (sql.expect("a value"), data.expect("a value"));
        assert!((sql - data).abs() <= 1e-9 * data.abs(), "{sql} vs {data}");
    }
    let faulty = listing["indicators"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["id"] == "faulty")
        .expect("faulty");
    assert_eq!(faulty["params"][0]["name"], "mode");
    let inputs: Vec<&str> = faulty["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| i.as_str().expect("input"))
        .collect();
    let (status, body) = server.get(&sql_uri(&format!(
        "SELECT faulty({}, 1) OVER (ORDER BY time) FROM bars('AAPL', '1d')",
        inputs.join(", ")
    )));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (500, Some("indicator_failed")),
        "{body}"
    );
    let (status, _) = server.get(&sql_uri("SELECT count(*) FROM bars"));
    assert_eq!(status, 200, "SQL carries on");

    std::fs::remove_file(plugins.join("hma.wasm")).expect("remove");
    eventually("hma is gone", || {
        !server.indicator_ids().contains(&"hma".into())
    });
    let (status, body) = server.get("/api/data?symbol=AAPL&timeframe=1d&indicators=hma");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_indicator")),
        "{body}"
    );
    let (status, body) = server.get(&sql_uri(
        "SELECT hma(close) OVER (ORDER BY time) FROM bars('AAPL', '1d')",
    ));
    assert_eq!(status, 400, "a removed plugin is gone from SQL too: {body}");
}

/// `GET /api/sql?q=…` with the query percent-encoded.
fn sql_uri(sql: &str) -> String {
    let encoded: String = sql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/api/sql?q={encoded}")
}
