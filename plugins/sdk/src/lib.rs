//! Write a Candela indicator plugin: one struct, one [`Plugin`] impl, one
//! [`export_plugin!`] call, then `cargo build --release --target wasm32-wasip2`.
//!
//! ```ignore
//! use candela_plugin_sdk::*;
//!
//! struct Momentum;
//!
//! impl Plugin for Momentum {
//!     fn describe() -> Metadata {
//!         Metadata::new("momentum", "Momentum", "Momentum")
//!             .description("Close minus the close `period` bars earlier")
//!             .param(Param::integer("period", 10, 1, 1000, "Bars back"))
//!             .output(Output::line("momentum", Placement::Pane))
//!             .input(Input::Close)
//!     }
//!
//!     fn prepare(params: &Params) -> Result<History, String> {
//!         Ok(History::Bars(params.count("period") as u32))
//!     }
//!
//!     fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String> {
//!         let period = params.count("period");
//!         let close = bars.close();
//!         let mut out = nan(close.len());
//!         for i in period..close.len() {
//!             out[i] = close[i] - close[i - period];
//!         }
//!         Ok(vec![out])
//!     }
//! }
//!
//! export_plugin!(Momentum);
//! ```
//!
//! The contract behind this crate is `plugins/wit/indicator.wit`; `docs/plugins.md`
//! is the tutorial.

extern crate self as candela_plugin_sdk;

mod bars;
mod metadata;
pub mod series;

pub use bars::{Bars, Params};
pub use bindings::candela::indicator::types::{
    History, Input, Metadata, Output, Param, ParamKind, Placement, Style,
};
pub use series::nan;

/// What a plugin implements. Every function is called in a fresh instance:
/// a `static` set in one call is gone in the next.
pub trait Plugin {
    /// Who the plugin is. Called once when Candela loads the file.
    fn describe() -> Metadata;

    /// Checks rules across parameters that their ranges cannot express (an
    /// `Err` tells the user what to change) and says how many bars before a
    /// window the values need. The default, the whole series, is always
    /// right but makes every window compute from the first bar.
    fn prepare(_params: &Params) -> Result<History, String> {
        Ok(History::Whole)
    }

    /// One series per declared output, each `bars.len()` long, NaN where there
    /// is no value.
    fn compute(bars: &Bars, params: &Params) -> Result<Vec<Vec<f64>>, String>;
}

/// Exports a [`Plugin`] implementation as the component's `plugin` world.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            struct Export;

            impl $crate::bindings::Guest for Export {
                fn describe() -> $crate::Metadata {
                    $crate::adapter::describe::<$plugin>()
                }

                fn prepare(
                    params: ::std::vec::Vec<f64>,
                ) -> ::std::result::Result<$crate::History, ::std::string::String> {
                    $crate::adapter::prepare::<$plugin>(params)
                }

                fn compute(
                    time: ::std::vec::Vec<i64>,
                    open: ::std::vec::Vec<f64>,
                    high: ::std::vec::Vec<f64>,
                    low: ::std::vec::Vec<f64>,
                    close: ::std::vec::Vec<f64>,
                    volume: ::std::vec::Vec<f64>,
                    params: ::std::vec::Vec<f64>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<::std::vec::Vec<f64>>,
                    ::std::string::String,
                > {
                    $crate::adapter::compute::<$plugin>(
                        time,
                        [open, high, low, close, volume],
                        params,
                    )
                }
            }

    $crate::bindings::export!(Export with_types_in $crate::bindings);
        };
    };
}

/// The bindings `wit-bindgen` generates from the WIT; plugin code uses the
/// re-exports above instead.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // `compute` takes each column apart
pub mod bindings {
    pub use wit_bindgen;

    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        default_bindings_module: "candela_plugin_sdk::bindings",
        runtime_path: "candela_plugin_sdk::bindings::wit_bindgen::rt",
    });
}

/// Glue between the generated `Guest` trait and [`Plugin`], used by
/// [`export_plugin!`].
#[doc(hidden)]
pub mod adapter {
    use super::bindings::candela::indicator::host;
    use super::{Bars, History, Metadata, Params, Plugin};

    pub fn describe<P: Plugin>() -> Metadata {
        report_panics();
        P::describe()
    }

    pub fn prepare<P: Plugin>(params: Vec<f64>) -> Result<History, String> {
        report_panics();
        let metadata = P::describe();
        P::prepare(&Params::new(&metadata, params))
    }

    pub fn compute<P: Plugin>(
        time: Vec<i64>,
        values: [Vec<f64>; 5],
        params: Vec<f64>,
    ) -> Result<Vec<Vec<f64>>, String> {
        report_panics();
        let metadata = P::describe();
        let params = Params::new(&metadata, params);
        P::compute(&Bars::new(metadata.inputs, time, values), &params)
    }

    /// Sends a panic's message to the host, which puts it in the error of the
    /// failed call; the panic then aborts the instance as usual.
    fn report_panics() {
        std::panic::set_hook(Box::new(|info| host::log(&info.to_string())));
    }
}
