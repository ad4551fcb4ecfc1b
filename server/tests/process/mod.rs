//! The `candela` binary as a child process of a test: started, its log
//! followed until it says where it serves, and killed when dropped.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `candela`, killed when dropped.
pub struct Candela {
    child: Child,
    /// `HOST:PORT`
    pub address: String,
    /// What it logged until it served.
    pub started: Vec<String>,
}

impl Candela {
    /// The binary, to add arguments to.
    pub fn command() -> Command {
        Command::new(env!("CARGO_BIN_EXE_candela"))
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
        let address = loop {
            let line = lines
                .next()
                .expect("candela exited before serving")
                .expect("log line");
            println!("{line}");
            if let Some((_, url)) = line.split_once("serving http://") {
                break url.split_whitespace().next().expect("address").to_owned();
            }
            started.push(line);
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| println!("{l}")));
        Candela {
            child,
            address,
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
