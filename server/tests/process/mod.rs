//! The `candela` binary as a child process of a test: started, its log
//! followed until it says where it serves, and killed when dropped.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `candela`, killed when dropped.
pub struct Candela {
    child: Child,
    /// `HOST:PORT`
    pub address: String,
    /// It serves HTTPS.
    pub tls: bool,
    /// What it logged until it served.
    pub started: Vec<String>,
}

impl Candela {
    /// The binary, to add arguments to.
    pub fn command() -> Command {
        Command::new(env!("CARGO_BIN_EXE_candela"))
    }

    /// The binary over the test market (`tests/data/market/parquet`), run in
    /// `dir` (its `candela.toml` and tokens file, runs in `runs`, plugins in
    /// `plugins.d`), listening on `bind`.
    pub fn on_test_market(dir: &Path, bind: &str) -> Command {
        let market = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/market/parquet");
        Candela::on(dir, market.as_os_str(), bind)
    }

    /// The binary over the data root `data` (a folder or a URL), run in
    /// `dir` as [`Candela::on_test_market`] is.
    pub fn on(dir: &Path, data: &OsStr, bind: &str) -> Command {
        Candela::on_roots(dir, data, "runs".as_ref(), bind)
    }

    /// The binary over the data root `data` and the runs `runs` (folders or
    /// URLs), run in `dir` as [`Candela::on_test_market`] is.
    pub fn on_roots(dir: &Path, data: &OsStr, runs: &OsStr, bind: &str) -> Command {
        std::fs::create_dir_all(dir.join("plugins.d")).expect("plugin folder");
        let mut command = Candela::command();
        command
            .current_dir(dir)
            .arg("--data")
            .arg(data)
            .arg("--runs")
            .arg(runs)
            .args(["--plugins", "plugins.d", "--bind", bind])
            .env("RUST_LOG", "info");
        command
    }

    /// `GET path` over plain HTTP: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        ))
    }

    /// `POST path` of the JSON `body` over plain HTTP: the status and the body.
    pub fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.post_json_with(path, body, &[])
    }

    /// [`Candela::post_json`] with more `headers`.
    pub fn post_json_with(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let headers: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    /// Sends the whole HTTP `request`: the status and the body of the answer.
    fn request(&self, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        stream.write_all(request.as_bytes()).expect("request");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("answer");
        let end = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head and a body");
        let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
        let body = &answer[end + 4..];
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let body = if head.contains("transfer-encoding: chunked") {
            unchunk(body)
        } else {
            body.to_vec()
        };
        let body = String::from_utf8(body).expect("a UTF-8 body");
        (status, body)
    }

    /// Starts `command` (a process of a cluster) and waits until it logs
    /// `needle`. Its log goes to the test's output, as [`Candela::serve`]'s.
    pub fn start_until(command: &mut Command, needle: &str) -> Candela {
        let (started, ()) =
            Candela::start(command, needle, |line| line.contains(needle).then_some(()));
        started.with_address(String::new(), false)
    }

    /// Starts `command` and waits until it serves. Its log goes to the
    /// test's output, drained so the server never blocks on a full pipe.
    pub fn serve(command: &mut Command) -> Candela {
        let (started, (address, tls)) = Candela::start(command, "serving", |line| {
            let (_, url) = line.split_once("serving http")?;
            let (tls, url) = match url.strip_prefix("s://") {
                Some(url) => (true, url),
                None => (false, url.trim_start_matches("://")),
            };
            Some((
                url.split_whitespace().next().expect("address").to_owned(),
                tls,
            ))
        });
        started.with_address(address, tls)
    }

    /// Starts `command`, printing its log, until `found` reads what it
    /// waits for in a line (`what`, for the failure message); the rest of
    /// the log is drained on a thread.
    fn start<T>(
        command: &mut Command,
        what: &str,
        mut found: impl FnMut(&str) -> Option<T>,
    ) -> (Started, T) {
        let mut child = command
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start candela");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut started = Vec::new();
        let seen = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("candela exited before it logged {what:?}"))
                .expect("log line");
            println!("{line}");
            if let Some(seen) = found(&line) {
                break seen;
            }
            started.push(line);
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| println!("{l}")));
        (Started { child, started }, seen)
    }
}

/// A process started, before it is known where it serves.
struct Started {
    child: Child,
    started: Vec<String>,
}

impl Started {
    fn with_address(self, address: String, tls: bool) -> Candela {
        Candela {
            child: self.child,
            address,
            tls,
            started: self.started,
        }
    }
}

impl Drop for Candela {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chunked body's data.
pub fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(line) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let rest = &body[line + 2..];
        match size {
            Some(size) if size > 0 && rest.len() >= size => {
                data.extend_from_slice(&rest[..size]);
                body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
            }
            _ => break,
        }
    }
    data
}
