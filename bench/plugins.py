#!/usr/bin/env python3
"""Plugins against the built-in they imitate: runs `plugins/benches/plugins.rs`
and prints its medians side by side with the ratios the plugin issue targets.

    python bench/plugins.py             # builds and runs the benchmark first
    python bench/plugins.py --no-cargo  # only reads the last run's medians
"""

from __future__ import annotations

from timing import criterion_ms, run_cargo_bench


def main() -> None:
    run_cargo_bench("plugins", profile="bench-plugins")
    print("SMA(20), medians in ms (time limit and memory limit active for WASM)")
    print(f"{'bars':>10} {'built-in':>9} {'wasm':>9} {'native':>9} {'wasm/built-in':>14} {'native/built-in':>16}")
    for group, bars in [("sma_1m", "1,000,000"), ("call_1k", "1,000")]:
        builtin, wasm, native = (criterion_ms(group, kind) for kind in ["builtin", "wasm", "native"])
        print(f"{bars:>10} {builtin:9.4f} {wasm:9.4f} {native:9.4f} {wasm / builtin:13.2f}x {native / builtin:15.2f}x")
    overhead_us = (criterion_ms("call_1k", "wasm") - criterion_ms("call_1k", "builtin")) * 1e3
    print(f"WASM per-call overhead at 1,000 bars (instantiation included): {overhead_us:.1f} us (target: <= 50 us)")
    print(f"WASM SMA at 1,000,000 bars: {criterion_ms('sma_1m', 'wasm') / criterion_ms('sma_1m', 'builtin'):.2f}x the built-in (target: <= 1.5x)")
    compile_ms, cached_ms = criterion_ms("load", "compile"), criterion_ms("load", "cached")
    print(f"plugin load: first (compile) {compile_ms:.1f} ms, cached {cached_ms:.2f} ms ({compile_ms / cached_ms:.0f}x faster)")


if __name__ == "__main__":
    main()
