//! `cargo xtask test`: the one command that checks and tests Candela.
//!
//! It first makes sure the machine has what the tests use — the
//! `wasm32-wasip2` target (plugins are built from source), a C compiler (the
//! native plugin test), Node.js with the pinned web libraries, and Chromium
//! (the browser tests) — installing what it can and otherwise saying in one
//! line what to install. Then it runs every check and test, cheapest first,
//! and stops at the first that fails.

mod machine;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use machine::Machine;

const USAGE: &str = "\
usage: cargo xtask test [--no-browser]
       cargo xtask wheel

Installs or checks what the tests need, then runs, in order: formatting,
the web UI's type check, lint and unit tests, clippy, every Rust test
(unit, integration, the pandas and TA-Lib fixtures, the plugins built from
source, the UI in headless Chromium), the plugin SDK's tests, and the docs.

  --no-browser   skip the browser tests (said so at the end); for machines
                 without Chromium

`wheel` builds the Python wheel with the server inside, release profile,
for this machine: target/wheels/release/candela-*.whl. `pip install` it
and `candela` runs from that environment, no Rust needed.";

/// Why the run stopped.
#[derive(Debug)]
enum Failure {
    /// The machine lacks something that cannot be installed from here.
    Missing(String),
    /// A check or test failed; its output said why.
    Step(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Missing(what) => write!(f, "{what}"),
            Failure::Step(name) => write!(f, "{name} failed (its output is above)"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let browser = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["test"] => true,
        ["test", "--no-browser"] => false,
        ["wheel"] => return release_wheel(),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match test(browser) {
        Ok(()) => {
            let minutes = started.elapsed().as_secs_f64() / 60.0;
            println!("\nxtask: every check and test passed in {minutes:.1} min");
            if !browser {
                println!("xtask: the browser tests were skipped (--no-browser)");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn test(browser: bool) -> Result<(), Failure> {
    let repo = repository();
    let machine = Machine::detect();
    heading("What the tests need");
    machine.wasm_target()?;
    machine.c_compiler()?;
    machine.node()?;
    let chromium = if browser {
        Some(machine.chromium()?)
    } else {
        None
    };
    machine.web_libraries(&repo.join("web"))?;
    let target = target_dir(&repo);
    let python = machine.python_env(&repo, &target.join("python-venv"))?;
    let maturin = machine.maturin(&target.join("maturin-venv"))?;
    let wheel = build_wheel(&repo, &maturin, &target.join("wheels/dev"), "dev")?;
    machine::install_wheel(&python, &wheel)?;

    let npm = || {
        let mut command = Command::new("npm");
        command.arg("--prefix").arg(repo.join("web"));
        command
    };
    step(
        "Formatting",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    for manifest in ["plugins/sdk/Cargo.toml", "plugins/examples/wasm/Cargo.toml"] {
        step(
            &format!("Formatting of {manifest}"),
            cargo()
                .args(["fmt", "--all", "--manifest-path"])
                .arg(repo.join(manifest))
                .args(["--", "--check"]),
        )?;
    }
    step(
        "Web UI: type check (tsc) and lint (eslint)",
        npm().args(["run", "check"]),
    )?;
    step("Web UI: unit tests (node --test)", npm().arg("test"))?;
    step(
        "Clippy, warnings denied",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let mut tests = cargo();
    // Every failing test binary is reported, not only the first.
    tests
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("CANDELA_PYTHON", &python)
        .env("CANDELA_WHEEL", &wheel);
    match &chromium {
        Some(path) => {
            tests.env("CHROMIUM", path);
        }
        None => {
            tests.args(["--", "--skip", "chart_page_works_in_headless_chromium"]);
        }
    }
    step("Tests: cargo test --workspace", &mut tests)?;
    step(
        "Plugin SDK tests (a workspace of its own)",
        cargo()
            .args(["test", "--manifest-path"])
            .arg(repo.join("plugins/sdk/Cargo.toml")),
    )?;
    step(
        "Docs, warnings denied",
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    Ok(())
}

/// `cargo`, without the variables `cargo xtask` runs us with: build scripts
/// that watch them (ring's watches `CARGO_MANIFEST_DIR`) would rerun, and
/// everything above them rebuild, whenever the cargo that shares the build
/// cache was started otherwise or from another clone.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    without_our_package(&mut command);
    command
}

fn without_our_package(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
}

/// Builds the wheel of `python/` with `profile` into `out` (emptied first)
/// with the maturin of `maturin`; the wheel's path.
fn build_wheel(repo: &Path, maturin: &Path, out: &Path, profile: &str) -> Result<PathBuf, Failure> {
    let _ = std::fs::remove_dir_all(out);
    let mut command = Command::new(maturin);
    without_our_package(&mut command);
    command
        .args(["-m", "maturin", "build", "--profile", profile, "--out"])
        .arg(out)
        .current_dir(repo.join("python"));
    step(
        &format!("Wheel: maturin build --profile {profile}"),
        &mut command,
    )?;
    std::fs::read_dir(out)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| Failure::Step(format!("maturin wrote no wheel into {}", out.display())))
}

/// `cargo xtask wheel`: the release wheel for this machine.
fn release_wheel() -> ExitCode {
    let repo = repository();
    let target = target_dir(&repo);
    let built = Machine::detect()
        .maturin(&target.join("maturin-venv"))
        .and_then(|maturin| {
            build_wheel(&repo, &maturin, &target.join("wheels/release"), "release")
        });
    match built {
        Ok(wheel) => {
            println!(
                "\nxtask: built {}\n  pip install {0}\n  candela sample-data bars && candela serve --data bars",
                wheel.display()
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Cargo's target directory (where the Python environment is kept between
/// runs, as the build is): from `cargo metadata`, else `target/`.
fn target_dir(repo: &Path) -> PathBuf {
    let metadata = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let key = "\"target_directory\":\"";
    metadata
        .split_once(key)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(
            || repo.join("target"),
            |(dir, _)| PathBuf::from(dir.replace("\\\\", "\\")),
        )
}

/// The repository root: this crate's parent.
fn repository() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn heading(name: &str) {
    println!("\n== {name}");
}

/// Runs one check or test in the repository, its output passed through.
fn step(name: &str, command: &mut Command) -> Result<(), Failure> {
    heading(name);
    let started = Instant::now();
    if command.get_current_dir().is_none() {
        command.current_dir(repository());
    }
    let status = command
        .status()
        .map_err(|e| Failure::Missing(format!("{name}: cannot run {command:?}: {e}")))?;
    println!("-- {name}: {:.0} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Step(name.to_owned()))
    }
}
