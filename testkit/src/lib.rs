//! What Candela's tests share across crates: the Python of `cargo xtask
//! test`'s virtual environment, the servers started from it for one test
//! (moto's S3 server), and an object store that counts what is read.

pub mod counting;
pub mod moto;

/// The Python of `cargo xtask test`'s virtual environment (`CANDELA_PYTHON`,
/// else `python3`), checked to import `modules`, which `test` needs.
pub fn python_with(modules: &[&str], test: &str) -> String {
    let python = std::env::var("CANDELA_PYTHON").unwrap_or_else(|_| "python3".into());
    let modules = modules.join(", ");
    let ready = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ready,
        "{test} needs {modules}: run `cargo xtask test` (which makes a virtual environment), \
         or set CANDELA_PYTHON to a Python with \
         `pip install -r python/tests/requirements.txt` and the wheel (`cargo xtask wheel`)"
    );
    python
}
