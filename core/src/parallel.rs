//! Data-parallel steps (decoding columns, folding stretches of a series): how
//! many threads they may use, and running them.
//!
//! They run on rayon's pool, whose threads live as long as the process: a
//! thread spawned per call costs its start-up, and its allocator heap dies
//! with it, so that every call faults in fresh pages for the tens of
//! megabytes a million bars take.

use std::sync::OnceLock;

use rayon::iter::{IntoParallelIterator, ParallelIterator};

/// The cores this process may run on. Asked once: the answer comes from
/// cgroup files, whose reads cost more than a small fold.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `tasks` at once and returns their results in order. A single task
/// runs on this thread. A panic in a task carries on in the caller.
pub(crate) fn on_threads<T: Send>(tasks: Vec<impl FnOnce() -> T + Send>) -> Vec<T> {
    if tasks.len() <= 1 {
        return tasks.into_iter().map(|task| task()).collect();
    }
    tasks.into_par_iter().map(|task| task()).collect()
}
