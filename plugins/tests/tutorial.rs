//! `docs/plugins.md` works as written: its `sh run` blocks run in order, its
//! `file=` blocks are written where they say (with `../candela` pointing at
//! this repository), and the plugin that results loads through a watched
//! plugin folder and computes what the tutorial says it does.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use candela_core::BarFrame;
use candela_core::indicator::Origin;
use candela_plugins::PluginFolder;

/// A fenced block of the tutorial and what its info string asks for.
enum Step {
    Run(String),
    File { path: String, text: String },
}

fn steps(markdown: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        let text = body.join("\n") + "\n";
        let words: Vec<&str> = info.split_whitespace().collect();
        if words.contains(&"run") {
            steps.push(Step::Run(text));
        } else if let Some(path) = words.iter().find_map(|w| w.strip_prefix("file=")) {
            steps.push(Step::File {
                path: path.to_owned(),
                text,
            });
        }
    }
    steps
}

/// Runs a block with `sh -e` in `dir`; returns the directory it ends in.
fn run(block: &str, dir: &Path, target: &Path) -> PathBuf {
    let output = Command::new("sh")
        .arg("-ec")
        .arg(format!("{block}\npwd"))
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "the tutorial's step\n{block}\nfailed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(stdout.lines().last().expect("pwd").trim())
}

#[test]
fn the_plugin_tutorial_works_as_written() {
    let repo = support::repo().canonicalize().expect("repo");
    let markdown = std::fs::read_to_string(repo.join("docs/plugins.md")).expect("tutorial");
    let steps = steps(&markdown);
    assert!(steps.len() >= 5, "the tutorial has its runnable steps");

    let workspace = tempfile::tempdir().expect("temp dir");
    // The author's build folder, kept between test runs so that the SDK's
    // dependencies are compiled once.
    let target = support::target_dir("tutorial");
    let mut dir = workspace.path().to_path_buf();
    for step in &steps {
        match step {
            Step::Run(block) => dir = run(block, &dir, &target),
            Step::File { path, text } => {
                let text = text.replace("../candela", &repo.display().to_string());
                std::fs::write(dir.join(path), text).expect("write the tutorial's file");
            }
        }
    }
    let wasm = target.join("wasm32-wasip2/release/momentum.wasm");
    assert!(wasm.exists(), "the build leaves {}", wasm.display());

    // Step 5: into a plugin folder, then on call like any indicator.
    let plugins = tempfile::tempdir().expect("plugin folder");
    std::fs::copy(&wasm, plugins.path().join("momentum.wasm")).expect("copy");
    let registry = Arc::new(candela_indicators::registry());
    PluginFolder::open(
        support::folder(plugins.path(), false),
        Arc::clone(&registry),
    )
    .expect("folder")
    .rescan();
    let momentum = registry
        .get("momentum")
        .expect("the tutorial's plugin is loaded");
    assert_eq!(momentum.spec().origin, Origin::Wasm);
    assert_eq!(momentum.spec().category, "Momentum");

    let close: Vec<f64> = (0..300)
        .map(|i| (f64::from(i) * 0.37).sin() * 10.0 + 100.0)
        .collect();
    let frame = BarFrame::from_columns(
        (0..300).map(|i| i * 86_400_000_000_000).collect(),
        [
            close.clone(),
            close.clone(),
            close.clone(),
            close.clone(),
            vec![1.0; 300],
        ],
    )
    .expect("frame");
    let call = registry.resolve("momentum(14)").expect("valid").remove(0);
    let values = call
        .compute_window(&frame, chrono_tz::UTC, 100..300)
        .expect("computes")
        .remove(0);
    for (i, value) in (100..300).zip(values) {
        assert!(
            (value - (close[i] - close[i - 14])).abs() < 1e-12,
            "[{i}] {value}"
        );
    }
    let error = registry
        .resolve("momentum(0)")
        .expect_err("out of range")
        .to_string();
    assert!(error.contains("from 1 to 1000"), "{error}");
}
