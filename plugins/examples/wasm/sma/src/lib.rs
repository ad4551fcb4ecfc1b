//! The built-in simple moving average again, as a plugin: the benchmarks
//! compare the two.

use candela_plugin_sdk::*;

struct Sma;

impl Plugin for Sma {
    fn describe() -> Metadata {
        Metadata::new("plugin_sma", "Simple Moving Average (plugin)", "Trend")
            .description("Mean of the last `period` closes, computed by a WebAssembly plugin")
            .param(Param::integer("period", 20, 1, 100_000, "Bars averaged"))
            .output(Output::line("sma", Placement::Overlay))
            .input(Input::Close)
    }

    fn prepare(params: &Params) -> Result<History, String> {
        Ok(History::Bars(params.count("period") as u32 - 1))
    }

    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
        Ok(vec![series::sma(bars.close(), params.count("period"))])
    }
}

export_plugin!(Sma);
