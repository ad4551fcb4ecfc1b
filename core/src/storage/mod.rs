//! Where bars are stored: a folder of the local file system, or a prefix of
//! an object store (S3, Google Cloud Storage, Azure, or a folder read as
//! one through `file://`), reached through the `object_store` crate that
//! DataFusion uses.
//!
//! A folder is read with the file system's own calls and followed by its
//! events. A bucket is listed whole, every `list_interval` or on demand,
//! and its files are read by ranges: the footer, then only the column
//! chunks a read needs.

mod bucket;
mod settings;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

pub use bucket::{Bucket, StorageError};
pub use object_store::ObjectStore;
pub use object_store::path::Path as ObjectPath;
pub use settings::{StorageSettings, StorageUrl, StorageUrlError};

/// The data root: where `<PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet` lie.
#[derive(Debug, Clone)]
pub enum DataRoot {
    Folder(PathBuf),
    Bucket(Arc<Bucket>),
}

impl fmt::Display for DataRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataRoot::Folder(path) => write!(f, "{}", path.display()),
            DataRoot::Bucket(bucket) => write!(f, "{bucket}"),
        }
    }
}

/// One parquet file of a stored series, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoredFile {
    /// A file of a data folder (canonical, inside the root).
    Path(PathBuf),
    /// An object of a bucket, with what identifies its version.
    Object(StoredObject),
}

/// An object as the listing gave it, and the bucket it is in. A changed
/// object has another ETag (or, for stores without one, another size).
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub bucket: Arc<Bucket>,
    pub key: ObjectPath,
    pub size: u64,
    pub e_tag: Option<String>,
}

/// An object under a bucket's prefix, as a listing gave it.
#[derive(Debug, Clone)]
pub struct ListedObject {
    /// Its path under the prefix, part by part.
    pub parts: Vec<String>,
    pub object: StoredObject,
    pub modified: SystemTime,
}

impl StoredObject {
    /// What tells one version of the object from another.
    fn version(&self) -> (&ObjectPath, u64, Option<&str>) {
        (&self.key, self.size, self.e_tag.as_deref())
    }
}

impl PartialEq for StoredObject {
    fn eq(&self, other: &StoredObject) -> bool {
        self.version() == other.version()
    }
}

impl Eq for StoredObject {}

impl std::hash::Hash for StoredObject {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.version().hash(state);
    }
}

impl PartialOrd for StoredObject {
    fn partial_cmp(&self, other: &StoredObject) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoredObject {
    fn cmp(&self, other: &StoredObject) -> std::cmp::Ordering {
        self.version().cmp(&other.version())
    }
}

impl StoredFile {
    /// The file as errors name it: its path under the data root `root`
    /// (a folder's), or its key under the bucket's prefix.
    pub fn describe(&self, root: &std::path::Path) -> String {
        match self {
            StoredFile::Path(path) => path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string(),
            StoredFile::Object(object) => {
                let parts = object.key.prefix_match(object.bucket.prefix());
                parts.map_or_else(
                    || object.key.to_string(),
                    |parts| {
                        parts
                            .map(|p| p.as_ref().to_owned())
                            .collect::<Vec<_>>()
                            .join("/")
                    },
                )
            }
        }
    }
}
