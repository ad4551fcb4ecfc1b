//! Hull moving average: a weighted average of a de-lagged weighted average,
//! smoother than an EMA of the same period and with less lag.

use candela_plugin_sdk::series::wma;
use candela_plugin_sdk::*;

struct Hull;

impl Plugin for Hull {
    fn describe() -> Metadata {
        Metadata::new("hma", "Hull Moving Average", "Trend")
            .description("WMA over √period bars of 2·WMA(period/2) − WMA(period)")
            .param(Param::integer("period", 20, 2, 10_000, "Bars averaged"))
            .output(Output::line("hma", Placement::Overlay))
            .input(Input::Close)
    }

    fn prepare(params: &Params) -> Result<History, String> {
        let (period, _, smooth) = periods(params.count("period"));
        Ok(History::Bars((period + smooth - 2) as u32))
    }

    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
        let (period, half, smooth) = periods(params.count("period"));
        let close = bars.close();
        let slow = wma(close, period);
        let fast = wma(close, half);
        // Both averages exist from index period - 1 on; the outer WMA starts there.
        let start = (period - 1).min(close.len());
        let raw: Vec<f64> = fast[start..]
            .iter()
            .zip(&slow[start..])
            .map(|(f, s)| 2.0 * f - s)
            .collect();
        let mut hull = nan(start);
        hull.extend(wma(&raw, smooth));
        Ok(vec![hull])
    }
}

/// The period, its half and its square root, as the usual definition rounds them.
fn periods(period: usize) -> (usize, usize, usize) {
    let half = (period / 2).max(1);
    let smooth = ((period as f64).sqrt().floor() as usize).max(1);
    (period, half, smooth)
}

export_plugin!(Hull);
