//! A native plugin: the simple moving average behind Candela's C ABI, for the
//! benchmarks that compare built-in, WASM and native, and for the tests that
//! load a native library. Candela loads it only with
//! `allow_native_plugins = true`.
#![allow(unsafe_code)] // a C ABI is raw pointers by nature

use std::ffi::c_char;

use candela_native_abi::{ABI_VERSION, Bars, ErrorBuffer, PluginTable};

const METADATA: &str = concat!(
    r#"{"id": "native_sma", "name": "Simple Moving Average (native)", "category": "Trend","#,
    r#""description": "Mean of the last `period` closes, computed by a native plugin","#,
    r#""params": [{"name": "period", "type": "integer", "default": 20, "min": 1, "max": 100000, "description": "Bars averaged"}],"#,
    r#""outputs": [{"name": "sma", "placement": "overlay", "style": "line"}],"#,
    r#""inputs": ["close"]}"#,
    "\0"
);

static TABLE: PluginTable = PluginTable {
    abi_version: ABI_VERSION,
    metadata_json: METADATA.as_ptr().cast::<c_char>(),
    prepare,
    compute,
};

#[unsafe(no_mangle)]
pub extern "C" fn candela_plugin() -> *const PluginTable {
    &TABLE
}

/// The period from the parameters, which Candela has range-checked.
fn period(params: &[f64]) -> Result<usize, &'static str> {
    match params {
        [period] if *period >= 1.0 => Ok(*period as usize),
        _ => Err("expected one parameter, the period"),
    }
}

unsafe extern "C" fn prepare(
    params: *const f64,
    param_count: usize,
    history: *mut i64,
    error: ErrorBuffer,
) -> i32 {
    // SAFETY: Candela passes `param_count` values and a writable `history`.
    let params = unsafe { std::slice::from_raw_parts(params, param_count) };
    match period(params) {
        Ok(period) => {
            unsafe { *history = period as i64 - 1 };
            0
        }
        Err(message) => {
            unsafe { error.write(message) };
            1
        }
    }
}

unsafe extern "C" fn compute(
    bars: *const Bars,
    params: *const f64,
    param_count: usize,
    outputs: *const *mut f64,
    output_count: usize,
    error: ErrorBuffer,
) -> i32 {
    // SAFETY: Candela passes valid bars, `param_count` parameters and
    // `output_count` buffers of `bars.len` values each.
    let (bars, params) = unsafe { (&*bars, std::slice::from_raw_parts(params, param_count)) };
    let period = match (period(params), output_count) {
        (Ok(period), 1) => period,
        (Err(message), _) => {
            unsafe { error.write(message) };
            return 1;
        }
        (Ok(_), _) => {
            unsafe { error.write("expected one output buffer") };
            return 1;
        }
    };
    let (close, out) = unsafe {
        (
            std::slice::from_raw_parts(bars.close, bars.len),
            std::slice::from_raw_parts_mut(*outputs, bars.len),
        )
    };
    if close.len() < period {
        return 0;
    }
    let scale = 1.0 / period as f64;
    let mut sum: f64 = close[..period].iter().sum();
    out[period - 1] = sum * scale;
    for i in period..close.len() {
        sum += close[i] - close[i - period];
        out[i] = sum * scale;
    }
    0
}
