//! The API as its OpenAPI document states it: schemathesis (from PyPI)
//! generates requests from `/api/openapi.json` — valid ones, and ones the
//! document says are invalid — against the real binary serving the sample
//! data and runs, and runs every check it has: no 5xx, every status and
//! content type and body as documented, invalid input refused, valid input
//! accepted. Its settings are `tests/schemathesis/schemathesis.toml`; it
//! runs at several seeds, since a document that passes at one seed only
//! has been tuned to it, not checked.
//!
//! Needs the `st` command next to the Python named by `CANDELA_PYTHON`
//! (`python/tests/requirements.txt` installs it); `cargo xtask test` makes
//! that environment.

mod process;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candela_server::auth::tokens::TokenSet;
use process::Candela;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `st` command of the test environment.
fn schemathesis() -> PathBuf {
    let python = std::env::var("CANDELA_PYTHON").unwrap_or_else(|_| "python3".into());
    let st = Path::new(&python)
        .parent()
        .map_or_else(|| PathBuf::from("st"), |bin| bin.join("st"));
    let ready = Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        ready,
        "the contract test needs schemathesis' `st` beside {python}: run `cargo xtask test` \
         (which makes a virtual environment), or set CANDELA_PYTHON to a Python with \
         `pip install -r python/tests/requirements.txt`"
    );
    st
}

/// `candela` over `dir`'s sample data and runs, on a free port, with
/// sign-in on (`auth.always`); and a token of its tokens file.
fn serve_samples(dir: &Path) -> (Candela, String) {
    let folders = ["--data", "data", "--runs", "runs", "--plugins", "plugins.d"];
    let made = Candela::command()
        .current_dir(dir)
        .args(folders)
        .arg("sample-data")
        .output()
        .expect("run candela sample-data");
    assert!(made.status.success(), "sample-data: {made:?}");
    std::fs::create_dir_all(dir.join("plugins.d")).expect("plugin folder");
    std::fs::write(dir.join("candela.toml"), "[auth]\nalways = true\n").expect("config");
    let token = TokenSet::create(
        &dir.join("candela-tokens.toml"),
        "contract",
        chrono::Utc::now(),
    )
    .expect("token");
    let server = Candela::serve(
        Candela::command()
            .current_dir(dir)
            .args(folders)
            .args(["--bind", "127.0.0.1:0"])
            .env("RUST_LOG", "warn,candela_server=info,candela=info")
            .env("HOME", dir),
    );
    (server, token)
}

/// The seeds schemathesis runs at: the suite's own, and others.
const SEEDS: [u64; 5] = [20261203, 7, 11, 23, 101];

#[test]
fn the_api_does_what_its_openapi_document_says() {
    let st = schemathesis();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, token) = serve_samples(dir.path());
    for seed in SEEDS {
        check_at_seed(&st, dir.path(), &server, &token, seed);
    }
}

/// One schemathesis run at `seed`, which must pass every check of every case.
fn check_at_seed(st: &Path, dir: &Path, server: &Candela, token: &str, seed: u64) {
    let started = Instant::now();
    let out = Command::new(st)
        .current_dir(dir)
        .arg("--config-file")
        .arg(repo().join("tests/schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(format!("http://{}/api/openapi.json", server.address))
        .arg(format!("--seed={seed}"))
        .arg(format!("--header=Authorization: Bearer {token}"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    println!(
        "schemathesis at seed {seed} took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "schemathesis at seed {seed} found the API at odds with its document (above)"
    );
    // "559 generated, 559 passed[, 24 skipped]": every case made ran, and passed.
    let counts: Vec<u64> = report
        .lines()
        .find(|line| line.contains(" generated, "))
        .map(|line| {
            line.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        // With the token given on the command line, schemathesis skips the
        // cases it would make without one ("N skipped" follows).
        matches!(counts.as_slice(), [generated, passed, ..] if generated == passed && *generated >= 200),
        "schemathesis at seed {seed} ran at least 200 cases, all passed: {counts:?}"
    );
}
