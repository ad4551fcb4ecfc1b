//! A plugin that misbehaves on request, to prove that Candela contains it:
//! `faulty(mode=N)` computes normally with 0 and otherwise fails one way.

use std::sync::atomic::{AtomicU32, Ordering};

use candela_plugin_sdk::*;

/// Survives between calls only if instances are reused: mode 8 shows it.
static CALLS: AtomicU32 = AtomicU32::new(0);

struct Faulty;

const MODES: &str = "0 copies the close, 1 traps, 2 loops forever, 3 allocates without bound, \
                     4 returns a short series, 5 returns too few series, 6 panics, 7 refuses, \
                     8 returns how many calls this instance has seen";

impl Plugin for Faulty {
    fn describe() -> Metadata {
        Metadata::new("faulty", "Faulty (test plugin)", "Testing")
            .description(MODES)
            .param(Param::integer("mode", 0, 0, 8, MODES))
            .output(Output::line("value", Placement::Pane))
            .input(Input::Close)
    }

    fn prepare(_params: &Params) -> Result<History, String> {
        Ok(History::Bars(0))
    }

    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
        let close = bars.close().to_vec();
        let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        match params.count("mode") {
            1 => std::process::abort(),
            2 => {
                let mut spins = 0_u64;
                loop {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
            }
            3 => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            4 => Ok(vec![close[..close.len() / 2].to_vec()]),
            5 => Ok(Vec::new()),
            6 => panic!("mode 6 panics on purpose"),
            7 => Err("mode 7 refuses on purpose".to_owned()),
            8 => Ok(vec![vec![f64::from(calls); close.len()]]),
            _ => Ok(vec![close]),
        }
    }
}

export_plugin!(Faulty);
