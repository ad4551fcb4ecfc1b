//! What the machine has, and installing what it lacks: with `rustup` and
//! `npm` always, with Debian's `apt-get` when we are root or may `sudo`
//! without a password. Whatever cannot be installed is one line saying what
//! to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::Failure;

/// The WebAssembly target the plugin tests build their guests for.
const WASM_TARGET: &str = "wasm32-wasip2";

#[derive(Debug)]
pub struct Machine {
    /// How to run `apt-get` as root, if we can.
    apt: Option<Apt>,
}

#[derive(Debug)]
enum Apt {
    Root,
    Sudo,
}

impl Machine {
    pub fn detect() -> Machine {
        let apt = if !succeeds(Command::new("apt-get").arg("--version")) {
            None
        } else if output(Command::new("id").arg("-u")).as_deref() == Some("0") {
            Some(Apt::Root)
        } else if succeeds(Command::new("sudo").args(["-n", "true"])) {
            Some(Apt::Sudo)
        } else {
            None
        };
        Machine { apt }
    }

    pub fn wasm_target(&self) -> Result<(), Failure> {
        let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
            .ok_or_else(|| {
                Failure::Missing(format!(
                    "the plugin tests build WebAssembly, and rustup is not here to add its \
                     target: add {WASM_TARGET} to your Rust toolchain"
                ))
            })?;
        if installed.lines().any(|t| t.trim() == WASM_TARGET) {
            println!("ok   Rust target {WASM_TARGET}");
            return Ok(());
        }
        println!("...  adding the Rust target {WASM_TARGET}");
        if succeeds(Command::new("rustup").args(["target", "add", WASM_TARGET])) {
            Ok(())
        } else {
            Err(Failure::Missing(format!(
                "`rustup target add {WASM_TARGET}` failed; run it by hand to see why"
            )))
        }
    }

    pub fn c_compiler(&self) -> Result<(), Failure> {
        self.tool(
            "C compiler (the native plugin test)",
            Command::new("cc").arg("--version"),
            &["gcc", "libc6-dev"],
            "install a C compiler (Debian/Ubuntu: sudo apt-get install gcc)",
        )
    }

    pub fn node(&self) -> Result<(), Failure> {
        self.tool(
            "Node.js (the web UI's checks and browser tests)",
            Command::new("node").arg("--version"),
            &["nodejs", "npm"],
            "install Node.js 20.19 or later with npm (Debian/Ubuntu: sudo apt-get install nodejs npm)",
        )?;
        self.tool(
            "npm",
            Command::new("npm").arg("--version"),
            &["npm"],
            "install npm (Debian/Ubuntu: sudo apt-get install npm)",
        )
    }

    /// The Chromium the browser tests drive: `CHROMIUM` if set, else one on
    /// the `PATH`, else Debian's, installed.
    pub fn chromium(&self) -> Result<PathBuf, Failure> {
        if let Some(path) = std::env::var_os("CHROMIUM") {
            let path = PathBuf::from(path);
            return if path.is_file() {
                println!("ok   Chromium {} (CHROMIUM)", path.display());
                Ok(path)
            } else {
                Err(Failure::Missing(format!(
                    "CHROMIUM={} is not a file: point it at a Chromium or Chrome binary",
                    path.display()
                )))
            };
        }
        let found = || find_on_path(&["chromium", "chromium-browser"]);
        if found().is_none() {
            self.install(&["chromium"]);
        }
        let path = found().ok_or_else(|| {
            Failure::Missing(
                "the browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get \
                 install chromium), or set CHROMIUM=/path/to/chromium, or pass --no-browser"
                    .into(),
            )
        })?;
        println!("ok   Chromium {}", path.display());
        Ok(path)
    }

    /// The libraries `web/package-lock.json` pins, installed by `npm ci`
    /// unless what is installed already matches the lockfile.
    pub fn web_libraries(&self, web: &Path) -> Result<(), Failure> {
        let lock = std::fs::read(web.join("package-lock.json")).ok();
        let installed = std::fs::read(web.join("node_modules/.package-lock.json")).ok();
        if lock.is_some() && same_packages(lock.as_deref(), installed.as_deref()) {
            println!("ok   web libraries (web/node_modules matches the lockfile)");
            return Ok(());
        }
        println!("...  installing the web libraries (npm ci)");
        let installed = succeeds(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(web),
        );
        if installed {
            Ok(())
        } else {
            Err(Failure::Missing(
                "`npm ci` in web/ failed; run it there by hand to see why".into(),
            ))
        }
    }

    /// A Python virtual environment in `dir` with the libraries the Python
    /// integration tests use (`python/tests/requirements.txt`); its
    /// interpreter. The package itself is installed from its wheel
    /// ([`install_wheel`]).
    pub fn python_env(&self, repo: &Path, dir: &Path) -> Result<PathBuf, Failure> {
        let requirements = repo.join("python/tests/requirements.txt");
        let python = dir.join("bin/python");
        let wanted = std::fs::read(&requirements).ok();
        let stamp = dir.join("requirements.txt");
        let current = python.is_file() && wanted.is_some() && std::fs::read(&stamp).ok() == wanted;
        if !current {
            if !self.venv(dir) {
                return Err(Failure::Missing(
                    "the Python integration test needs Python 3.9+ with venv (Debian/Ubuntu: sudo apt-get install python3-venv)"
                        .into(),
                ));
            }
            println!(
                "...  installing backtrader, backtesting.py, pandas, polars, moto and the ADBC driver into {}",
                dir.display()
            );
            if !pip_install(&python, &["-r"], &requirements) {
                return Err(Failure::Missing(format!(
                    "`pip install -r {}` failed; run it by hand to see why",
                    requirements.display()
                )));
            }
            if let Some(wanted) = &wanted {
                let _ = std::fs::write(&stamp, wanted);
            }
        }
        println!("ok   Python environment {}", dir.display());
        Ok(python)
    }

    /// A new virtual environment in `dir` (what was there is cleared),
    /// with Debian's venv module installed first if need be; whether made.
    fn venv(&self, dir: &Path) -> bool {
        let make = || {
            succeeds(
                Command::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(dir),
            )
        };
        make() || (self.install(&["python3-venv"]) && make())
    }

    /// maturin, in a virtual environment of its own in `dir`: what builds
    /// the wheel (`python/pyproject.toml`). Its interpreter.
    pub fn maturin(&self, dir: &Path) -> Result<PathBuf, Failure> {
        let python = dir.join("bin/python");
        let ready =
            |python: &Path| succeeds(Command::new(python).args(["-m", "maturin", "--version"]));
        if !ready(&python) {
            let made = self.venv(dir);
            println!("...  installing maturin {MATURIN} into {}", dir.display());
            if !made
                || !pip_install(&python, &[], Path::new(&format!("maturin=={MATURIN}")))
                || !ready(&python)
            {
                return Err(Failure::Missing(format!(
                    "maturin {MATURIN} could not be installed into {}; `pip install maturin=={MATURIN}` by hand shows why",
                    dir.display()
                )));
            }
        }
        println!("ok   maturin {}", dir.display());
        Ok(python)
    }

    /// A tool that `probe` shows to be present, installed from `packages`
    /// when it is not and we can.
    fn tool(
        &self,
        name: &str,
        probe: &mut Command,
        packages: &[&str],
        advice: &str,
    ) -> Result<(), Failure> {
        let present = succeeds(probe) || (self.install(packages) && succeeds(probe));
        if !present {
            return Err(Failure::Missing(format!("{name} is missing: {advice}")));
        }
        println!("ok   {name}");
        Ok(())
    }

    /// Installs Debian packages, if this machine lets us; whether it did.
    fn install(&self, packages: &[&str]) -> bool {
        let Some(apt) = &self.apt else { return false };
        println!("...  installing {} with apt-get", packages.join(" "));
        let apt_get = |args: &[&str]| {
            let mut command = match apt {
                Apt::Root => Command::new("apt-get"),
                Apt::Sudo => {
                    let mut sudo = Command::new("sudo");
                    sudo.args(["-n", "apt-get"]);
                    sudo
                }
            };
            command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            succeeds(&mut command)
        };
        // The package lists are fetched once per run, before the first install.
        static UPDATED: OnceLock<bool> = OnceLock::new();
        *UPDATED.get_or_init(|| apt_get(&["update", "-qq"]))
            && apt_get(
                &[
                    &["install", "-y", "-qq", "--no-install-recommends"],
                    packages,
                ]
                .concat(),
            )
    }
}

/// `python -m pip install` of `target` with `options`, quietly; whether it
/// succeeded.
fn pip_install(python: &Path, options: &[&str], target: &Path) -> bool {
    succeeds(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(options)
            .arg(target),
    )
}

/// Whether npm's record of what it installed names the same packages at
/// the same versions as the lockfile (npm writes both from one resolution).
fn same_packages(lock: Option<&[u8]>, installed: Option<&[u8]>) -> bool {
    let packages = |text: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(text)
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("\"node_modules/") || l.starts_with("\"version\""))
            .map(str::to_owned)
            .collect()
    };
    match (lock, installed) {
        (Some(lock), Some(installed)) => {
            let wanted = packages(lock);
            !wanted.is_empty() && wanted == packages(installed)
        }
        _ => false,
    }
}

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs `command` quietly; whether it succeeded.
fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What `command` prints, trimmed, if it succeeds.
fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The maturin that builds the wheel.
const MATURIN: &str = "1.16.0";

/// Installs `wheel` into the environment of `python`, over what it held:
/// it is the code under test.
pub fn install_wheel(python: &Path, wheel: &Path) -> Result<(), Failure> {
    if pip_install(python, &["--no-deps", "--force-reinstall"], wheel) {
        Ok(())
    } else {
        Err(Failure::Step(format!("pip install {}", wheel.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_libraries_match_the_lockfile_only_when_versions_agree() {
        let lock = br#"{
  "name": "candela-web",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "candela-web" },
    "node_modules/lightweight-charts": {
      "version": "5.2.1",
      "resolved": "x"
    }
  }
}"#;
        let installed = br#"{
  "name": "candela-web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/lightweight-charts": {
      "version": "5.2.1",
      "resolved": "x"
    }
  }
}"#;
        assert!(same_packages(Some(lock), Some(installed)));
        let older = String::from_utf8_lossy(installed).replace("5.2.1", "5.0.0");
        assert!(!same_packages(Some(lock), Some(older.as_bytes())));
        assert!(!same_packages(Some(lock), None));
        assert!(!same_packages(None, Some(installed)));
    }
}
