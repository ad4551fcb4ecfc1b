//! Keltner channels: an EMA of the close with bands a multiple of the average
//! true range above and below it.

use candela_plugin_sdk::series::{atr, ema};
use candela_plugin_sdk::*;

struct Keltner;

impl Plugin for Keltner {
    fn describe() -> Metadata {
        Metadata::new("keltner", "Keltner Channels", "Volatility")
            .description("EMA(period) of the close ± multiplier × ATR(atr_period)")
            .param(Param::integer(
                "period",
                20,
                1,
                10_000,
                "Bars in the middle line's EMA",
            ))
            .param(Param::number(
                "multiplier",
                2.0,
                0.1,
                10.0,
                "Band width in ATRs",
            ))
            .param(Param::integer(
                "atr_period",
                10,
                1,
                10_000,
                "Bars in the ATR",
            ))
            .output(Output::band("upper", Placement::Overlay))
            .output(Output::line("middle", Placement::Overlay))
            .output(Output::band("lower", Placement::Overlay))
            .input(Input::High)
            .input(Input::Low)
            .input(Input::Close)
    }

    fn prepare(params: &Params) -> Result<History, String> {
        // Both averages remember every bar; this many bars make the seed's
        // weight fall below f64 precision.
        let longest = params.count("period").max(params.count("atr_period")) as f64;
        let memory = (1e-16_f64.ln() / (1.0 - 1.0 / longest).ln()).ceil();
        Ok(History::Bars(longest as u32 + memory.min(4e9) as u32))
    }

    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
        let multiplier = params.get("multiplier");
        let middle = ema(bars.close(), params.count("period"));
        let range = atr(
            bars.high(),
            bars.low(),
            bars.close(),
            params.count("atr_period"),
        );
        let band = |sign: f64| -> Vec<f64> {
            middle
                .iter()
                .zip(&range)
                .map(|(m, r)| m + sign * multiplier * r)
                .collect()
        };
        Ok(vec![band(1.0), middle.clone(), band(-1.0)])
    }
}

export_plugin!(Keltner);
