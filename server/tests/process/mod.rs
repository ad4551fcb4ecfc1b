//! The `candela` binary as a child process of a test: started, its log
//! followed until it says where it serves, and killed when dropped.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
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
        std::fs::create_dir_all(dir.join("plugins.d")).expect("plugin folder");
        let market = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/market/parquet");
        let mut command = Candela::command();
        command
            .current_dir(dir)
            .arg("--data")
            .arg(market)
            .args(["--runs", "runs", "--plugins", "plugins.d", "--bind", bind])
            .env("RUST_LOG", "info");
        command
    }

    /// Starts `command` and waits until it serves. Its log goes to the
    /// test's output, drained so the server never blocks on a full pipe.
    pub fn serve(command: &mut Command) -> Candela {
        let mut child = command
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start candela");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut started = Vec::new();
        let (address, tls) = loop {
            let line = lines
                .next()
                .expect("candela exited before serving")
                .expect("log line");
            println!("{line}");
            if let Some((_, url)) = line.split_once("serving http") {
                let (tls, url) = match url.strip_prefix("s://") {
                    Some(url) => (true, url),
                    None => (false, url.trim_start_matches("://")),
                };
                break (
                    url.split_whitespace().next().expect("address").to_owned(),
                    tls,
                );
            }
            started.push(line);
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| println!("{l}")));
        Candela {
            child,
            address,
            tls,
            started,
        }
    }
}

impl Drop for Candela {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
