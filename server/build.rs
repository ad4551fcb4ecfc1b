//! Makes sure the pinned browser libraries are installed before the web
//! assets are embedded: runs `npm ci` in `web/` when they are missing.

use std::path::Path;
use std::process::Command;

const LIBRARY: &str =
    "node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs";

fn main() {
    println!("cargo:rerun-if-changed=../web/package-lock.json");
    println!("cargo:rerun-if-changed=../web/{LIBRARY}");
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    if web.join(LIBRARY).exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web)
        .status();
    match status {
        Ok(s) if s.success() && web.join(LIBRARY).exists() => {}
        Ok(s) => panic!("`npm ci` in web/ failed ({s}); run it by hand to see why"),
        Err(e) => panic!("the web UI needs npm (Node.js) to install its pinned libraries: {e}"),
    }
}
