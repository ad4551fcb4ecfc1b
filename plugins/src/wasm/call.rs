//! One call into a plugin: its store, the limits it runs under, what it logs,
//! and how a failure is told to the user.

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use candela_core::indicator::ComputeErrorKind;
use wasmtime::{Engine, ResourceLimiter, Store, Trap};

use super::bindings::candela::indicator::{host, types};
use crate::Limits;

/// How often the epoch advances; a call overruns its limit by at most this.
const TICK: Duration = Duration::from_millis(10);

/// What a plugin may log per call; the rest is dropped.
const LOG_CAPACITY: usize = 4096;

/// Lines one plugin may write to the server's log per second, over all its
/// calls; the rest are counted, and the count logged.
const LOG_LINES_PER_SECOND: u32 = 50;

/// Characters of a plugin's reason for refusing an input that reach the
/// user; a plugin could otherwise answer megabytes.
const REASON_CHARS: usize = 500;

/// The data of one call's store.
pub(super) struct CallState {
    limiter: MemoryLimiter,
    log: String,
    log_dropped: bool,
}

impl CallState {
    /// A fresh store: a limiter for its memories and a deadline for its run.
    pub(super) fn store(engine: &Engine, limits: Limits, deadline_ticks: u64) -> Store<CallState> {
        let state = CallState {
            limiter: MemoryLimiter {
                limit: limits.memory_bytes,
                exceeded: false,
            },
            log: String::new(),
            log_dropped: false,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(deadline_ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Writes the plugin's log lines to the server's log, as many as `rate`
    /// lets through.
    pub(super) fn log_lines(&self, file: &str, rate: &LogRate) {
        for line in self.log.lines() {
            if rate.admit(file) {
                tracing::info!(plugin = file, "{line}");
            }
        }
        if self.log_dropped && rate.admit(file) {
            tracing::info!(
                plugin = file,
                "(more than {LOG_CAPACITY} bytes logged in one call; the rest was dropped)"
            );
        }
    }

    /// What went wrong, in words a user can act on.
    pub(super) fn failure(&self, error: wasmtime::Error, limits: Limits) -> Failure {
        if self.limiter.exceeded {
            return Failure::Memory(limits.memory_bytes);
        }
        let last_words = self.log.lines().last().map(str::to_owned);
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::Time(limits.time),
            Some(trap) => Failure::Trap {
                trap: trap.to_string(),
                last_words,
            },
            None => Failure::Trap {
                trap: format!("{error:#}"),
                last_words,
            },
        }
    }
}

impl host::Host for CallState {
    fn log(&mut self, message: String) {
        if self.log.len() + message.len() + 1 > LOG_CAPACITY {
            self.log_dropped = true;
            return;
        }
        self.log.push_str(&message);
        self.log.push('\n');
    }
}

impl types::Host for CallState {}

/// How many lines a plugin has logged this second.
#[derive(Debug)]
pub(super) struct LogRate(Mutex<LogWindow>);

#[derive(Debug)]
struct LogWindow {
    started: Instant,
    lines: u32,
    dropped: u64,
}

impl LogRate {
    pub(super) fn new() -> LogRate {
        LogRate(Mutex::new(LogWindow {
            started: Instant::now(),
            lines: 0,
            dropped: 0,
        }))
    }

    /// Whether one more line may be logged now; when a second has passed,
    /// says how many were dropped in the one before.
    fn admit(&self, file: &str) -> bool {
        let mut window = crate::lock(&self.0);
        if window.started.elapsed() >= Duration::from_secs(1) {
            if window.dropped > 0 {
                tracing::info!(
                    plugin = file,
                    "({} lines dropped: a plugin may log {LOG_LINES_PER_SECOND} lines a second)",
                    window.dropped
                );
            }
            *window = LogWindow {
                started: Instant::now(),
                lines: 0,
                dropped: 0,
            };
        }
        if window.lines < LOG_LINES_PER_SECOND {
            window.lines += 1;
            true
        } else {
            window.dropped += 1;
            false
        }
    }
}

/// Refuses growth beyond the limit, and remembers that it did so the error
/// can name the limit rather than a bare trap.
struct MemoryLimiter {
    limit: usize,
    exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            wasmtime::bail!("memory limit of {} MiB reached", self.limit >> 20);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// Why a call into a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Failure {
    /// The plugin declined with a reason of its own.
    #[error("{0}")]
    Refused(String),
    #[error("{}", trap_message(.trap, .last_words.as_deref()))]
    Trap {
        trap: String,
        /// The last line the plugin logged (a panic's message, via the SDK).
        last_words: Option<String>,
    },
    #[error("broke the contract: {0}")]
    Contract(String),
    #[error(
        "ran past its time limit of {0:?} and was stopped; raise `plugin_time_limit_ms` if the input is large"
    )]
    Time(Duration),
    #[error("tried to use more than its memory limit of {} MiB and was stopped; raise `plugin_memory_mb` if the input is large", .0 >> 20)]
    Memory(usize),
}

fn trap_message(trap: &str, last_words: Option<&str>) -> String {
    match last_words {
        Some(words) => format!("crashed: {words} ({trap})"),
        None => format!("crashed: {trap}"),
    }
}

impl Failure {
    /// The plugin declined, for `reason` cut to [`REASON_CHARS`].
    pub(super) fn refused(mut reason: String) -> Failure {
        if let Some((cut, _)) = reason.char_indices().nth(REASON_CHARS) {
            reason.truncate(cut);
            reason.push('…');
        }
        Failure::Refused(reason)
    }

    pub(super) fn kind(&self) -> ComputeErrorKind {
        match self {
            Failure::Refused(_) => ComputeErrorKind::Refused,
            Failure::Trap { .. } | Failure::Contract(_) => ComputeErrorKind::Failed,
            Failure::Time(_) | Failure::Memory(_) => ComputeErrorKind::Limit,
        }
    }
}

/// Advances the engine's epoch every [`TICK`] until dropped; a store's
/// deadline is counted in these ticks.
pub(super) struct Ticker {
    _stop: mpsc::Sender<()>,
}

impl Ticker {
    pub(super) fn start(engine: Engine) -> std::io::Result<Ticker> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { _stop: stop })
    }

    /// Ticks covering `time`, plus one for the tick in progress.
    pub(super) fn ticks_for(time: Duration) -> u64 {
        (time.as_nanos().div_ceil(TICK.as_nanos()) as u64).saturating_add(1)
    }
}
