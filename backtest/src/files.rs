//! Where a run's files are: a folder of the local file system, or objects
//! under one prefix of a bucket. A run is read from the files as they were
//! listed, and read again only when one of them lists otherwise.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use candela_core::storage::{Bucket, DataRoot, StorageError, StoredObject};
use candela_core::watch::{self, Stamp};

use crate::error::Problem;
use crate::run::{EQUITY_FILES, MANIFEST_FILE, TRADES_FILES};

/// The files of one run that Candela reads, by name (`trades.parquet`,
/// `run.toml`, …), each as it was listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunFiles {
    files: BTreeMap<&'static str, RunFile>,
}

/// One file of a run, and what tells its versions apart.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RunFile {
    Local { path: PathBuf, stamp: Stamp },
    Object(StoredObject),
}

/// A file's content, opened.
pub(crate) enum Opened {
    File(File),
    Bytes(Bytes),
}

/// Every name a run's file may have.
fn names() -> impl Iterator<Item = &'static str> {
    TRADES_FILES
        .into_iter()
        .chain(EQUITY_FILES)
        .chain(std::iter::once(MANIFEST_FILE))
}

impl RunFiles {
    /// The files of the run folder `dir`.
    pub fn in_folder(dir: &Path) -> RunFiles {
        let files = names()
            .filter_map(|name| {
                let path = dir.join(name);
                let stamp = Stamp::of_file(&path)?;
                Some((name, RunFile::Local { path, stamp }))
            })
            .collect();
        RunFiles { files }
    }

    /// The first of `names` that the run has, with its name.
    pub(crate) fn first(&self, names: &[&'static str]) -> Option<(&'static str, FileRef<'_>)> {
        names
            .iter()
            .find_map(|name| self.get(name).map(|file| (*name, file)))
    }

    pub(crate) fn get(&self, name: &str) -> Option<FileRef<'_>> {
        self.files.get(name).map(FileRef)
    }
}

/// A run's file, to be read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileRef<'a>(&'a RunFile);

impl FileRef<'_> {
    /// Its size as listed.
    pub(crate) fn size(self) -> u64 {
        match self.0 {
            RunFile::Local { stamp, .. } => stamp.len,
            RunFile::Object(object) => object.size,
        }
    }

    /// Opens a local file; reads an object whole, of the version listed.
    pub(crate) fn open(self) -> Result<Opened, Problem> {
        match self.0 {
            RunFile::Local { path, .. } => File::open(path)
                .map(Opened::File)
                .map_err(|e| Problem::Io(e.to_string())),
            RunFile::Object(object) => object
                .bucket
                .read(object)
                .map(Opened::Bytes)
                .map_err(storage_problem),
        }
    }

    /// The file as text.
    pub(crate) fn text(self) -> Result<String, Problem> {
        let bytes = match self.open()? {
            Opened::File(mut file) => {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut bytes)
                    .map_err(|e| Problem::Io(e.to_string()))?;
                bytes
            }
            Opened::Bytes(bytes) => bytes.to_vec(),
        };
        String::from_utf8(bytes).map_err(|_| Problem::Io("the file is not UTF-8 text".into()))
    }
}

fn storage_problem(e: StorageError) -> Problem {
    Problem::Io(e.to_string())
}

/// The runs under `root`, by name: its visible subfolders, or the visible
/// first parts of a bucket's keys. A run being written under a hidden name
/// (`.name.partial`) shows when renamed.
pub(crate) fn list_runs(root: &DataRoot) -> Result<BTreeMap<String, RunFiles>, String> {
    match root {
        DataRoot::Folder(dir) => run_folders(dir).map_err(|e| e.to_string()),
        DataRoot::Bucket(bucket) => run_prefixes(bucket).map_err(|e| e.to_string()),
    }
}

fn run_folders(dir: &Path) -> std::io::Result<BTreeMap<String, RunFiles>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if watch::is_hidden(&path) || !path.is_dir() {
            continue;
        }
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            found.insert(name.to_owned(), RunFiles::in_folder(&path));
        }
    }
    Ok(found)
}

fn run_prefixes(bucket: &Arc<Bucket>) -> Result<BTreeMap<String, RunFiles>, StorageError> {
    let mut found: BTreeMap<String, RunFiles> = BTreeMap::new();
    for listed in bucket.list()? {
        let [run, file] = listed.parts.as_slice() else {
            continue;
        };
        if run.starts_with('.') {
            continue;
        }
        let Some(name) = names().find(|name| name == file) else {
            continue;
        };
        found
            .entry(run.clone())
            .or_default()
            .files
            .insert(name, RunFile::Object(listed.object));
    }
    Ok(found)
}
