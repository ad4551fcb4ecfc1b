//! The C ABI from C: a plugin written against `candela_plugin.h` loads and
//! computes, and one that claims an ABI version Candela does not know is
//! refused before anything else in it is read. Needs a C compiler (`cc`).

use std::path::{Path, PathBuf};
use std::process::Command;

use candela_core::BarFrame;
use candela_core::indicator::{Indicator, Origin, Params};
use candela_plugins::{LoadError, native};

/// Compiles `negate.c` into a shared library in `dir`, with extra `cc` flags.
fn build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = dir.join(format!("{name}.so"));
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o"])
        .arg(&library)
        .arg("-I")
        .arg(here.join("native-abi"))
        .args(flags)
        .arg(here.join("tests/native/negate.c"))
        .status()
        .expect("a C compiler (cc) runs");
    assert!(status.success(), "cc failed on negate.c");
    library
}

#[test]
fn a_c_plugin_loads_and_an_unknown_abi_version_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copies = dir.path().join("copies");

    let library = build(dir.path(), "negate", &[]);
    let read = |path: &std::path::Path| std::fs::read(path).expect("built");
    let plugin =
        native::load(&library, &read(&library), &copies, "negate.so").expect("version 1 loads");
    assert_eq!(plugin.spec().origin, Origin::Native);
    let frame = BarFrame::from_columns(
        vec![0, 60_000_000_000, 120_000_000_000],
        [
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
            vec![1.5, 2.5, 3.5],
            vec![1.0; 3],
        ],
    )
    .expect("frame");
    let series = candela_core::indicator::Series {
        bars: (&frame).into(),
        zone: chrono_tz::UTC,
    };
    let outputs = plugin
        .compute(&series, &Params::defaults(plugin.spec()))
        .expect("computes");
    assert_eq!(outputs, [vec![-1.5, -2.5, -3.5]]);

    let future = build(dir.path(), "future", &["-DCANDELA_TEST_VERSION=99"]);
    let refused = native::load(&future, &read(&future), &copies, "future.so")
        .expect_err("version 99 is refused");
    assert!(matches!(refused, LoadError::Native(_)), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.contains("C ABI version 99") && message.contains("supports version 1"),
        "{message}"
    );
}
