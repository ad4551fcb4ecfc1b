//! The wheel (`python/pyproject.toml`, built by maturin): installed into a
//! fresh virtual environment, its `candela` runs from there with no Rust
//! toolchain on the path, writes the sample data and serves it, and its
//! `candela_runs` imports. `cargo xtask test` builds the wheel with the dev
//! profile and names it in `CANDELA_WHEEL`.

mod process;

use std::path::PathBuf;
use std::process::Command;

use process::Candela;

fn wheel() -> PathBuf {
    let wheel = std::env::var_os("CANDELA_WHEEL").map(PathBuf::from);
    wheel.filter(|w| w.is_file()).unwrap_or_else(|| {
        panic!(
            "the wheel test needs the wheel: run `cargo xtask test` (which builds it), \
             or set CANDELA_WHEEL to a wheel built by `maturin build --profile dev` in python/"
        )
    })
}

fn succeeded(command: &mut Command) -> String {
    let output = command.output().expect("run");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_wheel_installs_a_candela_that_serves_the_sample_data() {
    let wheel = wheel();
    let dir = tempfile::tempdir().expect("tempdir");
    let venv = dir.path().join("venv");
    succeeded(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    succeeded(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--no-index"])
            .arg(&wheel),
    );
    let candela = venv.join("bin/candela");
    // Only the environment's own bin and the system's: no cargo, no rustc.
    let path = format!("{}:/usr/bin:/bin", venv.join("bin").display());
    let version = succeeded(Command::new(&candela).arg("--version").env("PATH", &path));
    assert!(
        version.starts_with(&format!("candela {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let imported = succeeded(
        Command::new(venv.join("bin/python"))
            .args(["-c", "import candela_runs; print(candela_runs.__file__)"])
            .current_dir(dir.path()),
    );
    assert!(imported.contains("site-packages"), "{imported}");

    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work");
    succeeded(
        Command::new(&candela)
            .args(["sample-data", "--data", "bars"])
            .current_dir(&work)
            .env("PATH", &path),
    );
    let mut serve = Command::new(&candela);
    serve
        .args(["--data", "bars", "--bind", "127.0.0.1:0"])
        .current_dir(&work)
        .env("PATH", &path)
        .env("RUST_LOG", "info");
    let server = Candela::serve(&mut serve);
    let (status, symbols) = server.get("/api/symbols");
    assert_eq!(status, 200, "{symbols}");
    for symbol in ["NFLX", "AAPL", "EXPE"] {
        assert!(symbols.contains(symbol), "{symbols}");
    }
    let (status, bars) = server.get("/api/data?symbol=NFLX&timeframe=1d&limit=5");
    assert_eq!(status, 200, "{bars}");
    let (status, runs) = server.get("/api/runs");
    assert_eq!(status, 200, "{runs}");
    println!("the wheel's candela served {symbols}");
}
