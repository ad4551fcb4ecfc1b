//! Data-parallel steps (decoding columns, folding stretches of a series): how
//! many threads they may use, and running them.

use std::sync::OnceLock;

/// The cores this process may run on. Asked once: the answer comes from
/// cgroup files, whose reads cost more than a small fold.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `tasks` at once, the first on this thread (which would otherwise
/// only wait), and returns their results in order; a task that panicked
/// gives `Err` with its panic.
pub(crate) fn on_threads<T: Send>(
    tasks: Vec<impl FnOnce() -> T + Send>,
) -> Vec<std::thread::Result<T>> {
    std::thread::scope(|scope| {
        let mut tasks = tasks.into_iter();
        let here = tasks.next();
        let spawned: Vec<_> = tasks.map(|task| scope.spawn(task)).collect();
        let mut results: Vec<_> = here
            .into_iter()
            .map(|task| std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)))
            .collect();
        results.extend(spawned.into_iter().map(|handle| handle.join()));
        results
    })
}

/// The results of [`on_threads`] for tasks that never panic but by a bug:
/// the panic carries on in the caller.
pub(crate) fn on_threads_or_panic<T: Send>(tasks: Vec<impl FnOnce() -> T + Send>) -> Vec<T> {
    on_threads(tasks)
        .into_iter()
        .map(|result| result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect()
}
