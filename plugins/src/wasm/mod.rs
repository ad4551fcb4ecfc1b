//! The WebAssembly host: components implementing `plugins/wit/indicator.wit`,
//! compiled once (and cached on disk by content hash), pre-instantiated, and
//! run in a fresh store per call under a memory and a time limit.
//!
//! Sandbox: the linker provides only `candela:indicator/host`. A component
//! built for `wasm32-wasip2` also imports WASI interfaces that Rust's standard
//! library references; those are linked as stubs that trap when called, so a
//! plugin has no files, network, environment, clock or randomness.

mod cache;
mod call;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use candela_core::indicator::{
    ComputeError, History, Indicator, IndicatorSpec, Input, Origin, Params, Series,
};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::metadata::Description;
use crate::private_dir::PrivateDir;
use crate::{Limits, LoadError, lock};
use cache::ComponentCache;
use call::{CallState, Failure, LogRate, Ticker};

/// Types and calls generated from `plugins/wit/indicator.wit`.
#[allow(clippy::too_many_arguments)] // `compute` takes each column apart
mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "plugin",
    });
}

use bindings::candela::indicator::types as wit;
use bindings::{Plugin, PluginPre};

/// The version of the WIT package this host implements.
pub const WIT_VERSION: &str = "0.1.0";

/// Instances that may run at once; a call beyond this fails instead of
/// reserving more address space.
const MAX_INSTANCES: u32 = 128;

/// Linear memory kept mapped after an instance ends, so that the next
/// instance in that slot does not fault its pages in again: enough for a
/// plugin's copy of a million bars in and out. Where Linux has the
/// `PAGEMAP_SCAN` ioctl (6.7+), only pages a call dirtied are reset, so small
/// calls do not pay for it.
const KEEP_RESIDENT: usize = 64 << 20;

/// Compiles and runs WASM plugins. One per server: it owns the wasmtime
/// engine, the epoch ticker that enforces time limits and the compile cache.
#[derive(Clone)]
pub struct WasmRuntime {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Option<ComponentCache>,
    limits: Limits,
    deadline_ticks: u64,
    _ticker: Ticker,
}

impl std::fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRuntime")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl WasmRuntime {
    /// A runtime enforcing `limits`, caching compiled components in the
    /// `wasm` folder of `cache` (none: compile on every load).
    pub fn new(limits: Limits, cache: Option<&PrivateDir>) -> Result<WasmRuntime, LoadError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 8)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 4)
            .max_memory_size(limits.memory_bytes)
            .linear_memory_keep_resident(KEEP_RESIDENT.min(limits.memory_bytes))
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(LoadError::engine)?;
        let mut linker = Linker::new(&engine);
        Plugin::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(LoadError::engine)?;
        let cache = cache
            .map(|dir| {
                let dir = dir.child("wasm").map_err(LoadError::Cache)?;
                ComponentCache::open(dir, &engine)
            })
            .transpose()?;
        let ticker = Ticker::start(engine.clone()).map_err(LoadError::engine)?;
        Ok(WasmRuntime {
            shared: Arc::new(Shared {
                deadline_ticks: Ticker::ticks_for(limits.time),
                engine,
                linker,
                cache,
                limits,
                _ticker: ticker,
            }),
        })
    }

    /// Compiles (or takes from the cache) a component, checks what it
    /// imports, and asks it to describe itself.
    pub fn load(&self, bytes: &[u8], file: &str) -> Result<WasmIndicator, LoadError> {
        let shared = &self.shared;
        let component = match &shared.cache {
            Some(cache) => cache.component(&shared.engine, bytes)?,
            None => Component::new(&shared.engine, bytes).map_err(LoadError::compile)?,
        };
        let mut linker = shared.linker.clone();
        check_imports(&component, &shared.engine)?;
        linker
            .define_unknown_imports_as_traps(&component)
            .map_err(LoadError::link)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(PluginPre::new)
            .map_err(LoadError::link)?;
        let program = Program {
            pre,
            runtime: self.clone(),
            file: file.to_owned(),
            log_rate: LogRate::new(),
        };
        let metadata = program
            .call(|plugin, store| plugin.call_describe(store))
            .map_err(|failure| LoadError::Describe(failure.to_string()))?;
        let spec = describe(metadata)
            .validate(Origin::Wasm)
            .map_err(LoadError::Invalid)?;
        Ok(WasmIndicator {
            spec,
            program,
            histories: Mutex::new(HashMap::new()),
        })
    }
}

/// Refuses a component built against another version of the contract, or
/// importing something other than the contract and WASI.
fn check_imports(component: &Component, engine: &Engine) -> Result<(), LoadError> {
    for (name, _) in component.component_type().imports(engine) {
        if let Some(rest) = name.strip_prefix("candela:indicator/") {
            let version = rest.split_once('@').map_or("none", |(_, v)| v);
            if version != WIT_VERSION {
                return Err(LoadError::Version {
                    found: version.to_owned(),
                    supported: WIT_VERSION,
                });
            }
        } else if !name.starts_with("wasi:") {
            return Err(LoadError::Import(name.to_owned()));
        }
    }
    Ok(())
}

/// A compiled component, ready to instantiate, and where it came from.
struct Program {
    pre: PluginPre<CallState>,
    runtime: WasmRuntime,
    file: String,
    log_rate: LogRate,
}

impl Program {
    /// Runs `f` on a fresh instance in a fresh store, under the limits; what
    /// the plugin logged goes to the server's log.
    fn call<R>(
        &self,
        f: impl FnOnce(&Plugin, &mut wasmtime::Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
        let shared = &self.runtime.shared;
        let mut store = CallState::store(&shared.engine, shared.limits, shared.deadline_ticks);
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|plugin| f(&plugin, &mut store));
        let state = store.into_data();
        state.log_lines(&self.file, &self.log_rate);
        result.map_err(|error| state.failure(error, shared.limits))
    }
}

/// A loaded WASM plugin, an [`Indicator`] like any built-in.
pub struct WasmIndicator {
    spec: IndicatorSpec,
    program: Program,
    /// `prepare`'s answers by parameter values, so that validating and
    /// windowing a call does not run the plugin twice.
    histories: Mutex<HashMap<Vec<u64>, History>>,
}

impl std::fmt::Debug for WasmIndicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmIndicator")
            .field("id", &self.spec.id)
            .field("file", &self.program.file)
            .finish_non_exhaustive()
    }
}

/// How many distinct parameter sets `histories` remembers before it forgets.
const HISTORY_MEMORY: usize = 1024;

impl WasmIndicator {
    fn prepare(&self, params: &Params) -> Result<History, Failure> {
        let key: Vec<u64> = params.values().map(f64::to_bits).collect();
        if let Some(&history) = lock(&self.histories).get(&key) {
            return Ok(history);
        }
        let values: Vec<f64> = params.values().collect();
        let history = match self
            .program
            .call(|plugin, store| plugin.call_prepare(store, &values))?
        {
            Ok(wit::History::Bars(n)) => History::Bars(n as usize),
            Ok(wit::History::Whole) => History::Whole,
            Err(reason) => return Err(Failure::refused(reason)),
        };
        let mut histories = lock(&self.histories);
        if histories.len() >= HISTORY_MEMORY {
            histories.clear();
        }
        histories.insert(key, history);
        Ok(history)
    }

    fn error(&self, failure: Failure) -> ComputeError {
        let kind = failure.kind();
        ComputeError {
            indicator: format!("plugin '{}' ({})", self.spec.id, self.program.file),
            message: failure.to_string(),
            kind,
        }
    }
}

impl Indicator for WasmIndicator {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    /// Asks the plugin; a plugin that fails here is not the caller's fault,
    /// so the call goes on and fails in `compute` with the plugin named.
    fn check(&self, params: &Params) -> Result<(), String> {
        match self.prepare(params) {
            Err(Failure::Refused(reason)) => Err(reason),
            _ => Ok(()),
        }
    }

    fn history(&self, params: &Params) -> History {
        self.prepare(params).unwrap_or(History::Whole)
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        let bars = series.bars;
        let inputs = &self.spec.inputs;
        let values = |input: Input, column| declared_only(inputs, input, column);
        let time = declared_only(inputs, Input::Time, bars.time);
        let params: Vec<f64> = params.values().collect();
        let outputs = self
            .program
            .call(|plugin, store| {
                plugin.call_compute(
                    store,
                    time,
                    values(Input::Open, bars.open),
                    values(Input::High, bars.high),
                    values(Input::Low, bars.low),
                    values(Input::Close, bars.close),
                    values(Input::Volume, bars.volume),
                    &params,
                )
            })
            .map_err(|failure| self.error(failure))?;
        let outputs = outputs.map_err(|reason| self.error(Failure::refused(reason)))?;
        let (expected, len) = (self.spec.outputs.len(), bars.len());
        if outputs.len() != expected || outputs.iter().any(|o| o.len() != len) {
            let lengths: Vec<usize> = outputs.iter().map(Vec::len).collect();
            return Err(self.error(Failure::Contract(format!(
                "returned {} series of lengths {lengths:?}; expected {expected} (one per output) of {len} values",
                outputs.len()
            ))));
        }
        Ok(outputs)
    }
}

/// `column` if the plugin reads `input`, else nothing: undeclared columns
/// are not copied into the plugin.
fn declared_only<'a, T>(inputs: &[Input], input: Input, column: &'a [T]) -> &'a [T] {
    if inputs.contains(&input) { column } else { &[] }
}

/// The WIT record as the host-neutral description both hosts validate.
fn describe(metadata: wit::Metadata) -> Description {
    use candela_core::indicator::{OutputSpec, ParamKind, ParamSpec, Placement, Style};
    Description {
        id: metadata.id,
        name: metadata.name,
        category: metadata.category,
        description: metadata.description,
        params: metadata
            .params
            .into_iter()
            .map(|p| ParamSpec {
                name: p.name,
                kind: match p.kind {
                    wit::ParamKind::Integer => ParamKind::Integer,
                    wit::ParamKind::Number => ParamKind::Number,
                },
                default: p.default,
                min: p.min,
                max: p.max,
                description: p.description,
            })
            .collect(),
        outputs: metadata
            .outputs
            .into_iter()
            .map(|o| OutputSpec {
                name: o.name,
                placement: match o.placement {
                    wit::Placement::Overlay => Placement::Overlay,
                    wit::Placement::Pane => Placement::Pane,
                },
                style: match o.style {
                    wit::Style::Line => Style::Line,
                    wit::Style::Histogram => Style::Histogram,
                    wit::Style::Band => Style::Band,
                },
            })
            .collect(),
        inputs: metadata
            .inputs
            .into_iter()
            .map(|i| match i {
                wit::Input::Time => Input::Time,
                wit::Input::Open => Input::Open,
                wit::Input::High => Input::High,
                wit::Input::Low => Input::Low,
                wit::Input::Close => Input::Close,
                wit::Input::Volume => Input::Volume,
            })
            .collect(),
    }
}
