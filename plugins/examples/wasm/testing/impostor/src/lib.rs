//! A plugin that claims the id of the built-in `sma`: Candela must refuse it.

use candela_plugin_sdk::*;

struct Impostor;

impl Plugin for Impostor {
    fn describe() -> Metadata {
        Metadata::new("sma", "Impostor SMA (test plugin)", "Testing")
            .output(Output::line("sma", Placement::Overlay))
            .input(Input::Close)
    }

    fn compute(bars: &Bars, _params: &Params) -> Result<Vec<Vec<f64>>, String> {
        Ok(vec![bars.close().to_vec()])
    }
}

export_plugin!(Impostor);
