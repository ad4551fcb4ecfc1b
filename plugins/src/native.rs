//! The native host: shared libraries behind the C ABI of `candela-native-abi`,
//! loaded with libloading only when the configuration allows them.
//!
//! Nothing contains a native plugin: it runs in the server's process with the
//! server's rights, and a crash in it is a crash of the server. What the host
//! does ensure is that the file on disk can be replaced safely: it loads a
//! private copy named by content hash, so overwriting the original never
//! changes code that is mapped and running.
#![allow(unsafe_code)] // loading and calling a C ABI

use std::ffi::{CStr, c_char};
use std::path::Path;
use std::sync::Arc;

use candela_core::indicator::{
    ComputeError, ComputeErrorKind, History, Indicator, IndicatorSpec, Origin, Params, Series,
};
use candela_native_abi::{ABI_VERSION, Bars, ENTRY_POINT, EntryPoint, ErrorBuffer, PluginTable};

use crate::metadata::Description;
use crate::{LoadError, content_hash, write_atomically};

/// Room for a plugin's error message.
const ERROR_CAPACITY: usize = 1024;

/// A loaded library and the table it exported. The table lives in the
/// library, so the two are kept together.
#[derive(Debug)]
struct NativeLibrary {
    table: *const PluginTable,
    _library: libloading::Library,
}

// SAFETY: the table is immutable data inside the library, which stays loaded
// as long as this value; the ABI requires its functions to be thread-safe.
unsafe impl Send for NativeLibrary {}
unsafe impl Sync for NativeLibrary {}

impl NativeLibrary {
    fn table(&self) -> &PluginTable {
        // SAFETY: checked non-null and of our version in `load`; valid while
        // `_library` is loaded, which is as long as `self`.
        unsafe { &*self.table }
    }
}

/// Loads the library at `path`, whose content is `bytes`, from a private
/// copy in `copies`.
pub fn load(
    path: &Path,
    bytes: &[u8],
    copies: &Path,
    file: &str,
) -> Result<NativeIndicator, LoadError> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("so");
    let copy = copies.join(format!("{}.{extension}", content_hash(bytes)));
    if !copy.exists() {
        write_atomically(&copy, bytes)?;
    }
    let native = |e: libloading::Error| LoadError::Native(e.to_string());
    // SAFETY: loading a library runs its initialisers: this is the trust the
    // operator grants by setting `allow_native_plugins`.
    let library = unsafe { libloading::Library::new(&copy) }.map_err(native)?;
    // SAFETY: the symbol has the ABI's entry-point type, per the contract.
    let entry: EntryPoint =
        *unsafe { library.get::<EntryPoint>(ENTRY_POINT.as_bytes()) }.map_err(native)?;
    // SAFETY: calling the entry point, which takes nothing and returns a pointer.
    let table = unsafe { entry() };
    if table.is_null() {
        return Err(LoadError::Native(format!("{ENTRY_POINT}() returned null")));
    }
    // SAFETY: every version of the table starts with a u32 version number.
    let version = unsafe { (*table).abi_version };
    if version != ABI_VERSION {
        return Err(LoadError::Native(format!(
            "it uses C ABI version {version}, and this Candela supports version {ABI_VERSION}; rebuild it against candela_plugin.h version {ABI_VERSION}"
        )));
    }
    let library = NativeLibrary {
        table,
        _library: library,
    };
    let json = library.table().metadata_json;
    if json.is_null() {
        return Err(LoadError::Invalid("metadata_json is null".into()));
    }
    // SAFETY: the ABI makes metadata_json a NUL-terminated string.
    let json = unsafe { CStr::from_ptr(json) }
        .to_str()
        .map_err(|_| LoadError::Invalid("metadata_json is not UTF-8".into()))?;
    let spec = serde_json::from_str::<Description>(json)
        .map_err(|e| LoadError::Invalid(format!("metadata_json: {e}")))?
        .validate(Origin::Native)
        .map_err(LoadError::Invalid)?;
    Ok(NativeIndicator {
        spec,
        file: file.to_owned(),
        library: Arc::new(library),
    })
}

/// A loaded native plugin, an [`Indicator`] like any built-in.
#[derive(Debug)]
pub struct NativeIndicator {
    spec: IndicatorSpec,
    file: String,
    library: Arc<NativeLibrary>,
}

impl NativeIndicator {
    fn prepare(&self, params: &Params) -> Result<History, String> {
        let params: Vec<f64> = params.values().collect();
        let mut history: i64 = -1;
        let mut message = [0 as c_char; ERROR_CAPACITY];
        // SAFETY: the pointers are valid for the lengths passed, per the ABI.
        let status = unsafe {
            (self.library.table().prepare)(
                params.as_ptr(),
                params.len(),
                &mut history,
                error_buffer(&mut message),
            )
        };
        if status != 0 {
            return Err(text(&message));
        }
        Ok(usize::try_from(history).map_or(History::Whole, History::Bars))
    }
}

impl Indicator for NativeIndicator {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn check(&self, params: &Params) -> Result<(), String> {
        self.prepare(params).map(drop)
    }

    fn history(&self, params: &Params) -> History {
        self.prepare(params).unwrap_or(History::Whole)
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        let b = series.bars;
        let bars = Bars {
            len: b.len(),
            time: b.time.as_ptr(),
            open: b.open.as_ptr(),
            high: b.high.as_ptr(),
            low: b.low.as_ptr(),
            close: b.close.as_ptr(),
            volume: b.volume.as_ptr(),
        };
        let params: Vec<f64> = params.values().collect();
        let mut outputs = vec![vec![f64::NAN; b.len()]; self.spec.outputs.len()];
        let pointers: Vec<*mut f64> = outputs.iter_mut().map(|o| o.as_mut_ptr()).collect();
        let mut message = [0 as c_char; ERROR_CAPACITY];
        // SAFETY: every pointer is valid for the length passed with it, per the ABI.
        let status = unsafe {
            (self.library.table().compute)(
                &bars,
                params.as_ptr(),
                params.len(),
                pointers.as_ptr(),
                pointers.len(),
                error_buffer(&mut message),
            )
        };
        if status != 0 {
            return Err(ComputeError {
                indicator: format!("plugin '{}' ({})", self.spec.id, self.file),
                message: text(&message),
                kind: ComputeErrorKind::Refused,
            });
        }
        Ok(outputs)
    }
}

fn error_buffer(message: &mut [c_char]) -> ErrorBuffer {
    ErrorBuffer {
        text: message.as_mut_ptr(),
        capacity: message.len(),
    }
}

/// The message a plugin wrote, up to its NUL (or the end of the buffer).
fn text(message: &[c_char]) -> String {
    let bytes: Vec<u8> = message
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if text.is_empty() {
        "failed without saying why".into()
    } else {
        text
    }
}
