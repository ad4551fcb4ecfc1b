//! A prefix of an object store, read by the store's own client on a small
//! runtime of its own, every operation under one deadline.
//!
//! The callers are blocking (the loader runs on rayon's threads and the
//! blocking pool): each operation is spawned onto the bucket's runtime and
//! waited for, so it works from any thread, an async one included.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectMeta, ObjectStore, RetryConfig,
};
use url::Url;

use super::settings::StorageSettings;
use super::{ListedObject, StoredObject};

/// Ranges closer than this are fetched as one request (object_store's own
/// default): a request costs more than a few hundred KiB more of it.
const COALESCE: u64 = 1 << 20;

/// Why a storage operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The store is down, slow or failing: the request that needs it fails,
    /// the server goes on.
    #[error("{store} did not answer {what} within {timeout:?}{note}")]
    TimedOut {
        store: String,
        what: String,
        timeout: Duration,
        /// Where credentials come from, when the environment has none.
        note: String,
    },
    #[error("{store} failed {what}: {message}")]
    Unavailable {
        store: String,
        what: String,
        message: String,
    },
    /// The credentials are missing, wrong or not allowed to read.
    #[error("{store} refused {what}: {message}; {hint}")]
    Refused {
        store: String,
        what: String,
        message: String,
        hint: &'static str,
    },
    /// The object changed (or went) while it was read: read it again.
    #[error("{key} changed while it was read")]
    Changed { key: String },
    /// The client cannot be built from the settings.
    #[error("cannot reach {store}: {message}")]
    Settings { store: String, message: String },
}

/// The runtime the client runs on, stopped without waiting when the bucket
/// goes (a runtime dropped inside another would panic otherwise).
struct Io(Option<tokio::runtime::Runtime>);

impl Drop for Io {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A prefix of an object store: the data root or the runs folder.
pub struct Bucket {
    /// As the user wrote it, for logs and errors.
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    io: Io,
    timeout: Duration,
    list_interval: Duration,
    /// Where credentials come from, for errors that refuse them.
    hint: &'static str,
    /// The environment holds credentials; without, the client asks the
    /// machine (an instance role), which may have none.
    env_credentials: bool,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl Bucket {
    /// The store of `url` (`s3://`, `gs://`, `az://` or `file://`), its
    /// client configured by `settings` and the standard environment.
    pub fn open(url: &Url, settings: &StorageSettings) -> Result<Bucket, StorageError> {
        let refused = |message: String| StorageError::Settings {
            store: url.to_string(),
            message,
        };
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: settings.retries,
            retry_timeout: settings.timeout,
        };
        let client = ClientOptions::new()
            .with_timeout(settings.timeout)
            .with_connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .with_allow_http(settings.allow_http);
        let (store, hint, variables): (Arc<dyn ObjectStore>, _, &[&str]) = match url.scheme() {
            "s3" => {
                half_given("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY").map_err(refused)?;
                let mut builder = AmazonS3Builder::from_env()
                    .with_url(url.as_str())
                    .with_retry(retry)
                    .with_client_options(client)
                    .with_allow_http(settings.allow_http);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(region) = &settings.region {
                    builder = builder.with_region(region);
                }
                let store = builder.build().map_err(|e| refused(e.to_string()))?;
                (Arc::new(store) as _, S3_CREDENTIALS, &S3_VARIABLES)
            }
            "gs" => {
                let store = GoogleCloudStorageBuilder::from_env()
                    .with_url(url.as_str())
                    .with_retry(retry)
                    .with_client_options(client)
                    .build()
                    .map_err(|e| refused(e.to_string()))?;
                (Arc::new(store) as _, GCS_CREDENTIALS, &GCS_VARIABLES)
            }
            "az" | "abfs" | "abfss" => {
                let mut builder = MicrosoftAzureBuilder::from_env()
                    .with_url(url.as_str())
                    .with_retry(retry)
                    .with_client_options(client)
                    .with_allow_http(settings.allow_http);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint.clone());
                }
                let store = builder.build().map_err(|e| refused(e.to_string()))?;
                (Arc::new(store) as _, AZURE_CREDENTIALS, &AZURE_VARIABLES)
            }
            "file" => {
                let folder = url
                    .to_file_path()
                    .map_err(|()| refused("a file:// URL needs an absolute path".into()))?;
                let store = LocalFileSystem::new_with_prefix(&folder)
                    .map_err(|e| refused(e.to_string()))?;
                (
                    Arc::new(store) as _,
                    "the folder must be readable by this user",
                    &[],
                )
            }
            other => return Err(refused(format!("'{other}://' is not an object store"))),
        };
        let prefix = match url.scheme() {
            "file" => ObjectPath::default(),
            _ => ObjectPath::parse(url.path().trim_matches('/'))
                .map_err(|e| refused(e.to_string()))?,
        };
        let env_credentials = variables.is_empty() || variables.iter().any(|v| set(v));
        Bucket::with_store(url.to_string(), store, prefix, settings).map(|b| Bucket {
            hint,
            env_credentials,
            ..b
        })
    }

    /// `prefix` of `store` under the name `url`: a store made elsewhere
    /// (tests wrap one to count what is fetched).
    pub fn with_store(
        url: String,
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        settings: &StorageSettings,
    ) -> Result<Bucket, StorageError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("storage-io")
            .enable_all()
            .build()
            .map_err(|e| StorageError::Settings {
                store: url.clone(),
                message: format!("cannot start its client: {e}"),
            })?;
        Ok(Bucket {
            url,
            store,
            prefix,
            io: Io(Some(runtime)),
            timeout: settings.timeout,
            list_interval: settings.list_interval,
            hint: "check the store's credentials",
            env_credentials: true,
        })
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Where the layout starts in the store.
    pub fn prefix(&self) -> &ObjectPath {
        &self.prefix
    }

    /// How long a listing is trusted.
    pub fn list_interval(&self) -> Duration {
        self.list_interval
    }

    /// Whether the store answers and lets this client list the prefix, in
    /// one request (a readiness probe's).
    pub fn reachable(&self) -> Result<(), StorageError> {
        let (store, prefix) = (Arc::clone(&self.store), self.prefix.clone());
        self.run("a listing", None, async move {
            store.list_with_delimiter(Some(&prefix)).await.map(drop)
        })
    }

    /// Every object under the prefix, with its path under it.
    pub fn list(self: &Arc<Bucket>) -> Result<Vec<ListedObject>, StorageError> {
        let (store, prefix) = (Arc::clone(&self.store), self.prefix.clone());
        let objects: Vec<ObjectMeta> = self.run("the listing", None, async move {
            store.list(Some(&prefix)).try_collect().await
        })?;
        Ok(objects
            .into_iter()
            .filter_map(|meta| {
                let parts = meta
                    .location
                    .prefix_match(&self.prefix)?
                    .map(|p| p.as_ref().to_owned())
                    .collect();
                Some(ListedObject {
                    parts,
                    modified: SystemTime::from(meta.last_modified),
                    object: StoredObject {
                        bucket: Arc::clone(self),
                        key: meta.location,
                        size: meta.size,
                        e_tag: meta.e_tag,
                    },
                })
            })
            .collect())
    }

    /// The whole of `object`, of the version listed.
    pub fn read(&self, object: &StoredObject) -> Result<Bytes, StorageError> {
        let (store, object_) = (Arc::clone(&self.store), object.clone());
        self.run("a read", Some(&object.key), async move {
            let options = GetOptions {
                if_match: object_.e_tag.clone(),
                ..GetOptions::default()
            };
            store.get_opts(&object_.key, options).await?.bytes().await
        })
    }

    /// The last `length` bytes of `object` (all of it if shorter).
    pub fn tail(&self, object: &StoredObject, length: u64) -> Result<Bytes, StorageError> {
        let start = object.size.saturating_sub(length);
        self.range(object, start..object.size)
    }

    /// The bytes of `range` of `object`, of the version listed.
    pub fn range(&self, object: &StoredObject, range: Range<u64>) -> Result<Bytes, StorageError> {
        self.ranges(object, std::slice::from_ref(&range))
            .map(|mut parts| parts.pop().unwrap_or_default())
    }

    /// The bytes of `ranges` of `object`, nearby ones fetched together, all
    /// of the version listed (its ETag), or [`StorageError::Changed`].
    pub fn ranges(
        &self,
        object: &StoredObject,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Bytes>, StorageError> {
        let (store, object_) = (Arc::clone(&self.store), object.clone());
        let ranges = ranges.to_vec();
        self.run("a read", Some(&object.key), async move {
            object_store::coalesce_ranges(
                &ranges,
                |range| {
                    let (store, object) = (Arc::clone(&store), object_.clone());
                    async move {
                        let options = GetOptions {
                            if_match: object.e_tag.clone(),
                            range: Some(GetRange::Bounded(range)),
                            ..GetOptions::default()
                        };
                        store.get_opts(&object.key, options).await?.bytes().await
                    }
                },
                COALESCE,
            )
            .await
        })
    }

    /// Runs `operation` on the bucket's runtime under the deadline, from
    /// any thread.
    fn run<T: Send + 'static>(
        &self,
        what: &str,
        key: Option<&ObjectPath>,
        operation: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> Result<T, StorageError> {
        let Some(runtime) = &self.io.0 else {
            return Err(self.unavailable(what, "its client has stopped".into()));
        };
        let deadline = self.timeout;
        // The deadline's timer is made on the runtime, not on the caller's thread.
        let task = runtime.spawn(async move { tokio::time::timeout(deadline, operation).await });
        match futures::executor::block_on(task) {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(self.failed(what, key, e)),
            Ok(Err(_)) => Err(StorageError::TimedOut {
                store: self.url.clone(),
                what: what.to_owned(),
                timeout: deadline,
                note: self.without_credentials(),
            }),
            Err(e) => Err(self.unavailable(what, e.to_string())),
        }
    }

    fn failed(&self, what: &str, key: Option<&ObjectPath>, e: object_store::Error) -> StorageError {
        match e {
            object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }
                if key.is_some() =>
            {
                StorageError::Changed {
                    key: key.map(ToString::to_string).unwrap_or_default(),
                }
            }
            e if refused(&e) => StorageError::Refused {
                store: self.url.clone(),
                what: what.to_owned(),
                message: e.to_string(),
                hint: self.hint,
            },
            e => self.unavailable(what, e.to_string()),
        }
    }

    /// A failure to reach the store. Without credentials in the environment
    /// it may be the machine's having none to give: the error says where
    /// credentials come from.
    fn unavailable(&self, what: &str, message: String) -> StorageError {
        StorageError::Unavailable {
            store: self.url.clone(),
            what: what.to_owned(),
            message: message + &self.without_credentials(),
        }
    }

    fn without_credentials(&self) -> String {
        if self.env_credentials {
            String::new()
        } else {
            format!("; no credentials are in the environment: {}", self.hint)
        }
    }
}

/// Whether the store refused the client's credentials. object_store names
/// a refused read `PermissionDenied` or `Unauthenticated`, but a refused
/// listing only a generic error whose message carries the HTTP status.
fn refused(e: &object_store::Error) -> bool {
    match e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => true,
        object_store::Error::Generic { .. } => {
            let message = e.to_string();
            message.contains("403 Forbidden") || message.contains("401 Unauthorized")
        }
        _ => false,
    }
}

const S3_CREDENTIALS: &str = "credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
    (with AWS_SESSION_TOKEN), AWS_WEB_IDENTITY_TOKEN_FILE, or the machine's role";
const GCS_CREDENTIALS: &str = "credentials come from GOOGLE_SERVICE_ACCOUNT (a key file), \
    GOOGLE_APPLICATION_CREDENTIALS, or the machine's service account";
const AZURE_CREDENTIALS: &str = "credentials come from AZURE_STORAGE_ACCOUNT_NAME with \
    AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_KEY or AZURE_CLIENT_ID and its secret";

/// Any of these in the environment gives the client its credentials.
const S3_VARIABLES: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SKIP_SIGNATURE",
];
const GCS_VARIABLES: [&str; 4] = [
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_PATH",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
];
const AZURE_VARIABLES: [&str; 6] = [
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_STORAGE_USE_EMULATOR",
];

fn set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// An error when one of a pair of variables that go together is set alone.
fn half_given(a: &str, b: &str) -> Result<(), String> {
    match (set(a), set(b)) {
        (true, false) => Err(format!("{a} is set but {b} is not; set both")),
        (false, true) => Err(format!("{b} is set but {a} is not; set both")),
        _ => Ok(()),
    }
}
