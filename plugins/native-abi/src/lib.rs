//! The C ABI of Candela's native indicator plugins, version 1, as Rust types.
//! `candela_plugin.h` beside this crate is the same contract for C.
//!
//! A native plugin is a shared library exporting
//! `const CandelaPlugin *candela_plugin(void)`. The table it returns starts
//! with the ABI version; Candela reads that first and refuses a version it
//! does not know before touching anything else. Native plugins run inside the
//! server, unsandboxed: Candela loads them only when the configuration sets
//! `allow_native_plugins = true`. Their functions may be called from several
//! threads at once.
#![allow(unsafe_code)] // a C ABI is raw pointers by nature

use std::ffi::c_char;

/// The version this crate describes.
pub const ABI_VERSION: u32 = 1;

/// The symbol every native plugin exports.
pub const ENTRY_POINT: &str = "candela_plugin";

/// The signature of [`ENTRY_POINT`].
pub type EntryPoint = unsafe extern "C" fn() -> *const PluginTable;

/// What a plugin's entry point returns; it must stay valid while the library
/// is loaded (a `static` is the natural home).
#[repr(C)]
#[derive(Debug)]
pub struct PluginTable {
    /// [`ABI_VERSION`].
    pub abi_version: u32,
    /// NUL-terminated UTF-8 JSON with the same fields as the WIT `metadata`
    /// record: `{"id", "name", "category", "description", "params": [{"name",
    /// "type": "integer"|"number", "default", "min", "max", "description"}],
    /// "outputs": [{"name", "placement": "overlay"|"pane", "style":
    /// "line"|"histogram"|"band"}], "inputs": ["close", …]}`.
    pub metadata_json: *const c_char,
    /// Checks the parameters (one per declared parameter, in order, already
    /// in range) and writes to `*history` the bars a window needs before it,
    /// or -1 for the whole series. Returns 0, or non-zero after writing a
    /// message for the user to `error`.
    pub prepare: unsafe extern "C" fn(
        params: *const f64,
        param_count: usize,
        history: *mut i64,
        error: ErrorBuffer,
    ) -> i32,
    /// Fills `outputs`: one buffer per declared output, each `bars.len`
    /// values, pre-filled with NaN by Candela. Returns 0, or non-zero after
    /// writing a message to `error`.
    pub compute: unsafe extern "C" fn(
        bars: *const Bars,
        params: *const f64,
        param_count: usize,
        outputs: *const *mut f64,
        output_count: usize,
        error: ErrorBuffer,
    ) -> i32,
}

// SAFETY: a table is immutable and points at immutable data for as long as
// its library is loaded, so sharing it between threads is sound.
unsafe impl Sync for PluginTable {}
unsafe impl Send for PluginTable {}

/// Every column of a series of bars, each `len` values long.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Bars {
    pub len: usize,
    /// UTC nanoseconds since the Unix epoch.
    pub time: *const i64,
    pub open: *const f64,
    pub high: *const f64,
    pub low: *const f64,
    pub close: *const f64,
    pub volume: *const f64,
}

/// Where a failing function writes its message: at most `capacity` bytes of
/// UTF-8, NUL included.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ErrorBuffer {
    pub text: *mut c_char,
    pub capacity: usize,
}

impl ErrorBuffer {
    /// Writes `message`, cut at a character boundary to fit, and a NUL.
    ///
    /// # Safety
    /// `text` must point to `capacity` writable bytes, as Candela's do.
    pub unsafe fn write(self, message: &str) {
        if self.text.is_null() || self.capacity == 0 {
            return;
        }
        let mut end = message.len().min(self.capacity - 1);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        // SAFETY: `end < capacity` bytes plus the NUL fit, per the contract.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), self.text.cast::<u8>(), end);
            *self.text.add(end) = 0;
        }
    }
}
