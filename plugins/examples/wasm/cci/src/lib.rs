//! Commodity channel index: how far the typical price is from its mean, in
//! units of its mean absolute deviation.

use candela_plugin_sdk::series::sma;
use candela_plugin_sdk::*;

struct Cci;

impl Plugin for Cci {
    fn describe() -> Metadata {
        Metadata::new("cci", "Commodity Channel Index", "Momentum")
            .description("(typical price − its SMA) / (0.015 × mean absolute deviation)")
            .param(Param::integer(
                "period",
                20,
                2,
                10_000,
                "Bars in the window",
            ))
            .output(Output::line("cci", Placement::Pane))
            .input(Input::High)
            .input(Input::Low)
            .input(Input::Close)
    }

    fn prepare(params: &Params) -> Result<History, String> {
        Ok(History::Bars(params.count("period") as u32 - 1))
    }

    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
        let period = params.count("period");
        let typical: Vec<f64> = bars
            .high()
            .iter()
            .zip(bars.low())
            .zip(bars.close())
            .map(|((h, l), c)| (h + l + c) / 3.0)
            .collect();
        let mean = sma(&typical, period);
        let mut cci = nan(typical.len());
        for i in period.saturating_sub(1)..typical.len() {
            let window = &typical[i + 1 - period..=i];
            let deviation = window.iter().map(|x| (x - mean[i]).abs()).sum::<f64>() / period as f64;
            let distance = typical[i] - mean[i];
            cci[i] = if deviation == 0.0 {
                0.0
            } else {
                distance / (0.015 * deviation)
            };
        }
        Ok(vec![cci])
    }
}

export_plugin!(Cci);
