//! Following a folder that users edit while the server runs (the plugin
//! folder, the runs folder): a callback after each burst of changes, and on
//! a timer in case a change was missed (some network file systems send no
//! notifications).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher};

/// How a folder is followed.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    /// Changes closer together than this are one change (a copy writes a
    /// file in several steps).
    pub quiet: Duration,
    /// The folder is looked at this often even without notifications.
    pub poll: Duration,
    /// Follow changes in subfolders too.
    pub recursive: bool,
    /// Where notifications come from.
    pub source: ChangeSource,
}

/// What tells of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// The file system's notifications, and the poll besides.
    Events,
    /// The poll alone: for file systems whose notifications are missing or
    /// wrong, and to measure what the poll alone gives.
    Poll,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {source}", dir.display())]
pub struct WatchError {
    pub dir: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A folder being followed. Dropping it stops the following (the thread
/// ends at its next wake-up).
#[derive(Debug)]
pub struct FolderWatch {
    /// None when polling alone; the sender then keeps the thread waiting.
    _watcher: Option<notify::RecommendedWatcher>,
    _changed: mpsc::Sender<()>,
}

/// Calls `on_change` after each burst of changes in `dir`, and every
/// `cadence.poll`, on a thread named `thread`, until the returned watch is
/// dropped.
pub fn follow(
    dir: &Path,
    thread: &str,
    cadence: Cadence,
    on_change: impl FnMut() + Send + 'static,
) -> Result<FolderWatch, WatchError> {
    let failed = |source: std::io::Error| WatchError {
        dir: dir.to_owned(),
        source,
    };
    let (changed, changes) = mpsc::channel::<()>();
    let watcher = match cadence.source {
        ChangeSource::Poll => None,
        ChangeSource::Events => {
            let notified = changed.clone();
            let mut watcher =
                notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                    let relevant = event.map_or(true, |e| !matches!(e.kind, EventKind::Access(_)));
                    if relevant {
                        let _ = notified.send(());
                    }
                })
                .map_err(|e| failed(std::io::Error::other(e)))?;
            let mode = if cadence.recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            watcher
                .watch(dir, mode)
                .map_err(|e| failed(std::io::Error::other(e)))?;
            Some(watcher)
        }
    };
    spawn(thread, cadence, changes, on_change).map_err(failed)?;
    Ok(FolderWatch {
        _watcher: watcher,
        _changed: changed,
    })
}

/// Calls `on_change` every `poll`, on a thread named `thread`, until the
/// returned watch is dropped: for what sends no events (a bucket).
pub fn every(
    thread: &str,
    poll: Duration,
    on_change: impl FnMut() + Send + 'static,
) -> std::io::Result<FolderWatch> {
    let cadence = Cadence {
        quiet: Duration::ZERO,
        poll,
        recursive: false,
        source: ChangeSource::Poll,
    };
    let (changed, changes) = mpsc::channel::<()>();
    spawn(thread, cadence, changes, on_change)?;
    Ok(FolderWatch {
        _watcher: None,
        _changed: changed,
    })
}

/// The thread that calls `on_change` after each burst of `changes` and on
/// every poll, until the sender of `changes` is gone.
fn spawn(
    thread: &str,
    cadence: Cadence,
    changes: mpsc::Receiver<()>,
    mut on_change: impl FnMut() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            loop {
                match changes.recv_timeout(cadence.poll) {
                    // Quiet after a burst, but never longer than a poll: a
                    // folder written to without pause is still read.
                    Ok(()) => {
                        let burst = std::time::Instant::now();
                        while burst.elapsed() < cadence.poll
                            && changes.recv_timeout(cadence.quiet).is_ok()
                        {}
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                on_change();
            }
        })
        .map(drop)
}

/// Size and modification time: a file whose stamp is unchanged is not read
/// again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Stamp {
    /// The stamp of a regular file, or `None` for anything else (or a file
    /// removed since it was listed).
    pub fn of_file(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        meta.is_file().then(|| Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// Whether a directory entry's name marks it hidden: editors' and copies'
/// temporaries, and folders being written (`.name.partial`).
pub fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'))
}
