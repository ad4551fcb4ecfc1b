//! The data catalog: which symbols and timeframes are stored under the data
//! root (`<root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet`).
//!
//! Requests never build paths: a symbol or timeframe from a request is looked
//! up here, and only paths found by scanning — all inside the root, symlinks
//! included — are ever opened.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::storage::{ListedObject, StoredFile};
use crate::timeframe::Timeframe;
use crate::watch::{Stamp, is_hidden};

/// A symbol as `PROVIDER:SYMBOL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolId {
    pub provider: String,
    pub symbol: String,
}

impl fmt::Display for SymbolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.symbol)
    }
}

/// One stored symbol and the folders of its stored timeframes.
#[derive(Debug, Clone)]
pub struct SymbolEntry {
    pub id: SymbolId,
    pub timeframes: BTreeMap<Timeframe, SeriesFolder>,
}

/// Where the files of one stored series are.
#[derive(Debug, Clone)]
pub enum SeriesFolder {
    /// A folder of the data root, listed when a request needs it.
    Dir(PathBuf),
    /// A bucket's prefix, as the catalog's listing found it.
    Listed(FolderState),
}

impl SeriesFolder {
    /// The series' files now: a folder listed, a bucket's as listed last.
    pub fn state(&self, root: &Path) -> std::io::Result<FolderState> {
        match self {
            SeriesFolder::Dir(dir) => FolderState::read(root, dir),
            SeriesFolder::Listed(state) => Ok(state.clone()),
        }
    }
}

/// Why a requested symbol does not name exactly one stored symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown symbol '{0}'")]
    Unknown(String),
    #[error("'{symbol}' is stored by several providers; use one of: {}", .choices.join(", "))]
    Ambiguous {
        symbol: String,
        choices: Vec<String>,
    },
}

/// A snapshot of what the data root holds.
#[derive(Debug, Default)]
pub struct Catalog {
    root: PathBuf,
    symbols: BTreeMap<SymbolId, SymbolEntry>,
    by_symbol: HashMap<String, Vec<SymbolId>>,
}

impl Catalog {
    /// Scans `root`. Unreadable folders, folders that are not timeframes and
    /// links leading out of the root are skipped with a warning.
    pub fn scan(root: &Path) -> std::io::Result<Catalog> {
        let root = root.canonicalize()?;
        let mut catalog = Catalog {
            root: root.clone(),
            ..Catalog::default()
        };
        for (provider, provider_dir) in subfolders(&root, &root) {
            for (symbol, symbol_dir) in subfolders(&root, &provider_dir) {
                let id = SymbolId {
                    provider: provider.clone(),
                    symbol,
                };
                let mut timeframes = BTreeMap::new();
                for (name, dir) in subfolders(&root, &symbol_dir) {
                    match name.parse::<Timeframe>() {
                        Ok(tf) => {
                            timeframes.insert(tf, SeriesFolder::Dir(dir));
                        }
                        Err(e) => tracing::warn!(folder = %dir.display(), "skipped: {e}"),
                    }
                }
                catalog.add(id, timeframes);
            }
        }
        Ok(catalog)
    }

    /// The catalog of a bucket from its listing: the objects
    /// `<PROVIDER>/<SYMBOL>/<TIMEFRAME>/<name>.parquet` under its prefix.
    /// Hidden names, other objects and folders that are not timeframes are
    /// skipped, as in a folder.
    pub fn of_listing(objects: Vec<ListedObject>) -> Catalog {
        let mut series: BTreeMap<SymbolId, BTreeMap<Timeframe, Vec<(StoredFile, Stamp)>>> =
            BTreeMap::new();
        let mut skipped = BTreeMap::new();
        for listed in objects {
            let [provider, symbol, folder, name] = listed.parts.as_slice() else {
                continue;
            };
            let is_parquet = name
                .rsplit_once('.')
                .is_some_and(|(_, ending)| ending.eq_ignore_ascii_case("parquet"));
            if listed.parts.iter().any(|p| p.starts_with('.')) || !is_parquet {
                continue;
            }
            let timeframe = match folder.parse::<Timeframe>() {
                Ok(timeframe) => timeframe,
                Err(e) => {
                    skipped.insert(format!("{provider}/{symbol}/{folder}"), e);
                    continue;
                }
            };
            let id = SymbolId {
                provider: provider.clone(),
                symbol: symbol.clone(),
            };
            let stamp = Stamp {
                len: listed.object.size,
                modified: Some(listed.modified),
            };
            let files = series.entry(id).or_default().entry(timeframe).or_default();
            files.push((StoredFile::Object(listed.object), stamp));
        }
        for (folder, e) in skipped {
            tracing::warn!(%folder, "skipped: {e}");
        }
        let mut catalog = Catalog::default();
        for (id, timeframes) in series {
            let timeframes = timeframes
                .into_iter()
                .map(|(timeframe, mut files)| {
                    files.sort_by(|a, b| a.0.cmp(&b.0));
                    (timeframe, SeriesFolder::Listed(FolderState::of(files)))
                })
                .collect();
            catalog.add(id, timeframes);
        }
        catalog
    }

    fn add(&mut self, id: SymbolId, timeframes: BTreeMap<Timeframe, SeriesFolder>) {
        if timeframes.is_empty() {
            return;
        }
        self.by_symbol
            .entry(id.symbol.clone())
            .or_default()
            .push(id.clone());
        self.symbols
            .insert(id.clone(), SymbolEntry { id, timeframes });
    }

    /// The canonical data root (empty for a bucket's catalog).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All symbols, sorted by provider then symbol.
    pub fn symbols(&self) -> impl Iterator<Item = &SymbolEntry> {
        self.symbols.values()
    }

    /// Finds `PROVIDER:SYMBOL`, or a bare `SYMBOL` that one provider holds.
    /// Matching is exact first, then case-insensitive.
    pub fn resolve(&self, query: &str) -> Result<&SymbolEntry, ResolveError> {
        let unknown = || ResolveError::Unknown(query.chars().take(64).collect());
        let candidates: Vec<&SymbolEntry> = match query.split_once(':') {
            Some((provider, symbol)) => self
                .symbols
                .values()
                .filter(|e| {
                    e.id.provider.eq_ignore_ascii_case(provider)
                        && e.id.symbol.eq_ignore_ascii_case(symbol)
                })
                .collect(),
            None => self
                .symbols
                .values()
                .filter(|e| e.id.symbol.eq_ignore_ascii_case(query))
                .collect(),
        };
        let exact = candidates
            .iter()
            .copied()
            .filter(|e| e.id.symbol == query || e.id.to_string() == query)
            .collect::<Vec<_>>();
        let matches = if exact.is_empty() { candidates } else { exact };
        match matches.as_slice() {
            [] => Err(unknown()),
            [one] => Ok(one),
            many => Err(ResolveError::Ambiguous {
                symbol: query.to_owned(),
                choices: many.iter().map(|e| e.id.to_string()).collect(),
            }),
        }
    }
}

/// The visible subfolders of `dir` that really lie inside `root`, by name.
fn subfolders(root: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(folder = %dir.display(), "skipped, cannot be read: {e}");
            return Vec::new();
        }
    };
    let mut folders: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
                return None;
            }
            let path = inside_root(root, &entry.path())?;
            path.is_dir().then_some((name, path))
        })
        .collect();
    folders.sort();
    folders
}

/// The canonical form of `path` if it resolves inside `root`.
fn inside_root(root: &Path, path: &Path) -> Option<PathBuf> {
    let canonical = path.canonicalize().ok()?;
    if canonical.starts_with(root) {
        Some(canonical)
    } else {
        tracing::warn!(path = %path.display(), "skipped: it links outside the data root");
        None
    }
}

/// The parquet files of a timeframe folder as they are now: what a cached
/// frame was built from, so that any change shows as a new fingerprint.
/// Hidden files (`.name.parquet`) and files being written (`*.partial`)
/// are not among them until renamed into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    pub files: Vec<StoredFile>,
    /// Each file's size and modification time, in the order of `files`.
    pub stamps: Vec<Stamp>,
    pub fingerprint: u64,
}

impl FolderState {
    /// Lists `*.parquet` in `dir` (sorted by name) with their sizes and
    /// modification times. Files linking outside `root` are skipped.
    pub fn read(root: &Path, dir: &Path) -> std::io::Result<FolderState> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let is_parquet = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
            if !is_parquet || is_hidden(&path) {
                continue;
            }
            if let Some(path) = inside_root(root, &path) {
                files.push(path);
            }
        }
        files.sort();
        // A file removed between the listing and its stamp is not there.
        let stamped = files
            .into_iter()
            .filter_map(|path| Stamp::of_file(&path).map(|stamp| (StoredFile::Path(path), stamp)));
        Ok(FolderState::of(stamped.collect()))
    }

    /// The state of `files` (sorted by name), as listed.
    pub fn of(files: Vec<(StoredFile, Stamp)>) -> FolderState {
        let (files, stamps): (Vec<StoredFile>, Vec<Stamp>) = files.into_iter().unzip();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (file, stamp) in files.iter().zip(&stamps) {
            file.hash(&mut hasher);
            stamp.len.hash(&mut hasher);
            stamp
                .modified
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .hash(&mut hasher);
        }
        FolderState {
            files,
            stamps,
            fingerprint: hasher.finish(),
        }
    }

    /// The files this state holds beyond `earlier`'s, when it holds all of
    /// `earlier`'s unchanged and the new ones sort after them: a series
    /// grown by new part files, which can be read alone.
    pub fn added_since(&self, earlier: &FolderState) -> Option<&[StoredFile]> {
        let kept = earlier.files.len();
        let grown = self.files.len() > kept
            && self.files[..kept] == earlier.files[..]
            && self.stamps[..kept] == earlier.stamps[..];
        grown.then(|| &self.files[kept..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for p in paths {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"").expect("write");
        }
        dir
    }

    #[test]
    fn scans_layout_and_skips_non_timeframe_folders() {
        let dir = tree(&[
            "ALPACA/NFLX/1h/a.parquet",
            "ALPACA/NFLX/notes/x.parquet",
            "ALPACA/EXPE/1m/a.parquet",
            "OTHER/NFLX/1d/a.parquet",
            ".hidden/X/1d/a.parquet",
        ]);
        let catalog = Catalog::scan(dir.path()).expect("scan");
        let ids: Vec<String> = catalog.symbols().map(|e| e.id.to_string()).collect();
        assert_eq!(ids, ["ALPACA:EXPE", "ALPACA:NFLX", "OTHER:NFLX"]);
        let nflx = catalog.resolve("ALPACA:NFLX").expect("resolves");
        assert_eq!(
            nflx.timeframes
                .keys()
                .map(|t| t.to_string())
                .collect::<Vec<_>>(),
            ["1h"]
        );
    }

    #[test]
    fn bare_symbols_resolve_only_when_unambiguous() {
        let dir = tree(&[
            "ALPACA/NFLX/1h/a.parquet",
            "OTHER/NFLX/1d/a.parquet",
            "ALPACA/EXPE/1m/a.parquet",
        ]);
        let catalog = Catalog::scan(dir.path()).expect("scan");
        assert_eq!(
            catalog.resolve("EXPE").expect("one").id.to_string(),
            "ALPACA:EXPE"
        );
        assert_eq!(
            catalog.resolve("expe").expect("case").id.to_string(),
            "ALPACA:EXPE"
        );
        match catalog.resolve("NFLX") {
            Err(ResolveError::Ambiguous { choices, .. }) => {
                assert_eq!(choices, ["ALPACA:NFLX", "OTHER:NFLX"])
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        for bad in ["../../etc", "ALPACA:../NFLX", "/etc/passwd", "ALPACA:", ""] {
            assert!(
                matches!(catalog.resolve(bad), Err(ResolveError::Unknown(_))),
                "{bad}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_root_are_ignored() {
        let outside = tree(&["1d/secret.parquet"]);
        let dir = tree(&["ALPACA/NFLX/1h/a.parquet"]);
        std::os::unix::fs::symlink(outside.path(), dir.path().join("ALPACA/EVIL")).expect("link");
        std::os::unix::fs::symlink(
            outside.path().join("1d/secret.parquet"),
            dir.path().join("ALPACA/NFLX/1h/b.parquet"),
        )
        .expect("link");
        let catalog = Catalog::scan(dir.path()).expect("scan");
        assert!(catalog.resolve("EVIL").is_err());
        let nflx = catalog.resolve("NFLX").expect("nflx");
        let state = nflx.timeframes[&"1h".parse().expect("tf")]
            .state(catalog.root())
            .expect("state");
        assert_eq!(state.files.len(), 1);
    }

    #[test]
    fn fingerprint_changes_when_files_change() {
        let dir = tree(&["P/S/1d/a.parquet"]);
        let root = dir.path().canonicalize().expect("root");
        let folder = root.join("P/S/1d");
        let before = FolderState::read(&root, &folder).expect("state");
        std::fs::write(folder.join("b.parquet"), b"x").expect("write");
        let added = FolderState::read(&root, &folder).expect("state");
        assert_ne!(before.fingerprint, added.fingerprint);
        std::fs::write(folder.join("b.parquet"), b"xy").expect("write");
        let grown = FolderState::read(&root, &folder).expect("state");
        assert_ne!(added.fingerprint, grown.fingerprint);
    }
}
