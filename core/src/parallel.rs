//! How many threads a data-parallel step (decoding columns, folding halves of
//! a series) may use.

use std::sync::OnceLock;

/// The cores this process may run on. Asked once: the answer comes from
/// cgroup files, whose reads cost more than a small fold.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
