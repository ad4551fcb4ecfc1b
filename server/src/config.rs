//! Configuration: built-in defaults, then `candela.toml` (or `--config`), then
//! command-line flags — each layer overriding the one before.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use std::time::Duration;

use candela_backtest::FileLimits;
use candela_cluster::{ClusterError, SchedulerUrl};
use candela_core::StoreConfig;
use candela_core::storage::{Bucket, DataRoot, StorageError, StorageSettings, StorageUrl};
use candela_core::watch::ChangeSource;
use candela_plugins::{FolderConfig, Limits};
use candela_sql::SqlLimits;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::budget::ResponseBudget;
use crate::http_policy::{HostAllowlist, HttpPolicy};
use crate::live::LiveConfig;
use crate::serve::ConnectionLimits;
use crate::state::DataLimits;
use crate::tls::TlsError;
use tokio_rustls::TlsAcceptor;

/// The file read from the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "candela.toml";

/// The plugin folder when none is configured, relative to the working
/// directory: outside the data root and the sources.
pub const DEFAULT_PLUGINS: &str = "plugins.d";

/// The runs folder when none is configured, relative to the working
/// directory.
pub const DEFAULT_RUNS: &str = "runs";

/// The tokens file when none is configured, relative to the working directory.
pub const DEFAULT_TOKENS_FILE: &str = "candela-tokens.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Root of `<PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet`: a folder, or
    /// an object store's `s3://`, `gs://`, `az://` or `file://` URL.
    pub data: StorageUrl,
    /// Address to listen on; loopback unless told otherwise.
    pub bind: SocketAddr,
    /// Time zone of providers not listed under `[providers]`.
    pub default_timezone: String,
    /// Memory bound of the frame cache, in MiB; 0 caches nothing.
    pub cache_mb: u64,
    /// Most bars one stored series may hold; a longer one is refused with
    /// an error saying so rather than read into memory.
    pub max_series_rows: u64,
    /// Threads that run queries, apart from the HTTP threads.
    pub query_threads: usize,
    /// Per-provider settings, e.g. `[providers.ALPACA] timezone = "America/New_York"`.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Folder of indicator plugins (`.wasm`, and native libraries if allowed).
    pub plugins: PathBuf,
    /// Compiled plugins, in a private folder; default: the user's cache
    /// folder (none without `HOME`: every start compiles).
    pub plugin_cache: Option<PathBuf>,
    /// Largest plugin file loaded, in MiB.
    pub max_plugin_mb: u64,
    /// Time one plugin may take to compile, in milliseconds.
    pub plugin_compile_time_limit_ms: u64,
    /// Load native libraries from the plugin folder. They run unsandboxed.
    pub allow_native_plugins: bool,
    /// Memory one WASM plugin instance may use, in MiB.
    pub plugin_memory_mb: u64,
    /// Time one WASM plugin call may take, in milliseconds.
    pub plugin_time_limit_ms: u64,
    /// Backtest runs, one subfolder each (see `docs/runs.md`): a folder, or
    /// a bucket's URL.
    pub runs: StorageUrl,
    /// Largest file a run may have, in MiB.
    pub max_run_file_mb: u64,
    /// Most rows a run's file may have.
    pub max_run_rows: u64,
    /// Bounds of `/api/sql`.
    pub sql: SqlConfig,
    /// Bounds of `/api/data`.
    pub api: ApiConfig,
    /// What the listener accepts.
    pub http: HttpConfig,
    /// How changes of the data root are followed.
    pub live: LiveSection,
    pub auth: AuthSection,
    pub tls: TlsSection,
    pub storage: StorageSection,
}

/// `[storage]`: how object stores are reached (credentials come from the
/// standard environment: `AWS_*`, `GOOGLE_*`, `AZURE_*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Another server than the cloud's own, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Allow an `http://` endpoint.
    pub allow_http: bool,
    /// Deadline of one storage operation, retries included.
    pub timeout_ms: u64,
    /// Retries of a failed request within the deadline.
    pub retries: usize,
    /// How often a bucket is listed again.
    pub list_interval_s: u64,
}

impl Default for StorageSection {
    fn default() -> Self {
        let settings = StorageSettings::default();
        StorageSection {
            endpoint: settings.endpoint,
            region: settings.region,
            allow_http: settings.allow_http,
            timeout_ms: millis(settings.timeout),
            retries: settings.retries,
            list_interval_s: settings.list_interval.as_secs(),
        }
    }
}

/// `[tls]`: the certificate the listener serves HTTPS with; none serves
/// plain HTTP (behind a proxy that terminates TLS, see `docs/deploy.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSection {
    /// The certificate chain in PEM, the server's own first.
    pub cert: Option<PathBuf>,
    /// Its private key in PEM.
    pub key: Option<PathBuf>,
}

/// `[live]`: how changes of the data root are followed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveSection {
    /// The data root is looked at this often even without file system
    /// events (network file systems send none), in milliseconds.
    pub poll_ms: u64,
    /// Whether the file system's events are used; `false` polls alone.
    pub events: bool,
}

impl Default for LiveSection {
    fn default() -> Self {
        LiveSection {
            poll_ms: millis(LiveConfig::default().poll),
            events: LiveConfig::default().source == ChangeSource::Events,
        }
    }
}

/// `[auth]`: who may sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// The tokens file `candela token new` writes and the server watches.
    pub tokens_file: PathBuf,
    /// How long a browser stays signed in, in hours.
    pub session_hours: u64,
    /// Ask for sign-in on loopback too (elsewhere it is always asked for,
    /// unless `--no-auth`).
    pub always: bool,
    /// Mark the session cookie `Secure`: browsers reach the server over
    /// HTTPS (a proxy in front terminates TLS).
    pub secure_cookies: bool,
}

impl Default for AuthSection {
    fn default() -> Self {
        AuthSection {
            tokens_file: PathBuf::from(DEFAULT_TOKENS_FILE),
            session_hours: 12,
            always: false,
            secure_cookies: false,
        }
    }
}

/// `[api]`: the bounds of `/api/data`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Indicator calls one request may make.
    pub max_indicator_calls: usize,
    /// Bars answered when a request names no `limit` (the last of its range).
    pub default_limit: usize,
    /// Memory all answers in flight may hold together, in MiB; a request
    /// over what is free gets a 503 with `Retry-After`.
    pub response_budget_mb: u64,
    /// Threads that compute indicators and encode answers.
    pub work_threads: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        let limits = DataLimits::default();
        ApiConfig {
            max_indicator_calls: limits.max_indicator_calls,
            default_limit: limits.default_limit,
            response_budget_mb: crate::state::DEFAULT_RESPONSE_BUDGET_MB,
            work_threads: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }
}

/// `[http]`: what the listener accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Host names requests may be addressed to besides IP addresses and
    /// `localhost`, e.g. `["charts.example.org"]` behind a proxy; `["*"]`
    /// allows any.
    pub allowed_hosts: Vec<String>,
    /// Connections open at once; more wait.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and the longest an
    /// idle connection is kept, in milliseconds.
    pub header_timeout_ms: u64,
    /// Time a request has until its answer starts, in milliseconds.
    pub request_timeout_ms: u64,
    /// Largest request body, in KiB.
    pub max_body_kb: usize,
    /// Time answers in flight have to finish on shutdown, in milliseconds.
    pub shutdown_grace_ms: u64,
    /// Streams of live bars (`/api/stream`) open at once; more are refused.
    pub max_streams: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let (policy, connections) = (HttpPolicy::default(), ConnectionLimits::default());
        HttpConfig {
            allowed_hosts: Vec::new(),
            max_connections: connections.max_connections,
            header_timeout_ms: millis(connections.header_timeout),
            request_timeout_ms: millis(policy.request_timeout),
            max_body_kb: policy.max_body_bytes >> 10,
            shutdown_grace_ms: millis(connections.shutdown_grace),
            max_streams: LiveConfig::default().max_streams,
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `[sql]`: the bounds every SQL query runs inside.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqlConfig {
    /// Rows returned at most; longer results are cut and marked truncated.
    pub max_rows: usize,
    /// Wall time a query may take, in milliseconds.
    pub time_limit_ms: u64,
    /// Memory one query's sorts, joins and aggregations may hold, in MiB.
    pub memory_limit_mb: u64,
    /// Queries running at once; more wait up to `queue_timeout_ms`, then get a 503.
    pub max_concurrent: usize,
    pub queue_timeout_ms: u64,
    /// Longest SQL text accepted, in bytes.
    pub max_query_bytes: usize,
    /// Threads that run SQL, apart from those serving `/api/data`.
    pub threads: usize,
    /// Rows a `generate_series` or `range` table may produce.
    pub max_generated_rows: u64,
    /// Values one call of `repeat`, `lpad`, `array_repeat` and the like may
    /// build, in MiB.
    pub max_value_mb: u64,
    /// A result's size, in memory and once encoded, in MiB; a larger one is
    /// cut and marked truncated.
    pub max_result_mb: u64,
    /// Where queries run: `local`, in this process, or `ballista`, on the
    /// Ballista cluster whose scheduler is `scheduler` (without one, on
    /// Ballista's standalone cluster inside this process).
    pub engine: EngineName,
    /// The Ballista scheduler, `df://HOST:PORT`.
    pub scheduler: Option<String>,
    /// Where Arrow Flight SQL is served (for ADBC and JDBC clients), e.g.
    /// `127.0.0.1:50051`; off when unset.
    pub flight_bind: Option<SocketAddr>,
}

/// `sql.engine`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    #[default]
    Local,
    Ballista,
}

/// Where SQL runs, checked ([`Config::sql_engine`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlEngine {
    Local,
    /// Ballista's standalone cluster, in this process.
    Standalone,
    Cluster(SchedulerUrl),
}

impl Default for SqlConfig {
    fn default() -> Self {
        let limits = SqlLimits::default();
        SqlConfig {
            max_rows: limits.max_rows,
            time_limit_ms: millis(limits.time_limit),
            memory_limit_mb: (limits.memory_bytes >> 20) as u64,
            max_concurrent: limits.max_concurrent,
            queue_timeout_ms: millis(limits.queue_timeout),
            max_query_bytes: limits.max_query_bytes,
            threads: limits.threads,
            max_generated_rows: limits.max_generated_rows,
            max_value_mb: (limits.max_value_bytes >> 20) as u64,
            max_result_mb: (limits.max_result_bytes >> 20) as u64,
            engine: EngineName::Local,
            scheduler: None,
            flight_bind: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub timezone: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: StorageUrl::Folder(default_data_root()),
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            default_timezone: "UTC".into(),
            cache_mb: 512,
            max_series_rows: candela_core::load::DEFAULT_MAX_SERIES_ROWS,
            query_threads: std::thread::available_parallelism().map_or(2, usize::from),
            providers: BTreeMap::new(),
            plugins: PathBuf::from(DEFAULT_PLUGINS),
            plugin_cache: None,
            max_plugin_mb: 64,
            plugin_compile_time_limit_ms: 30_000,
            allow_native_plugins: false,
            plugin_memory_mb: 256,
            plugin_time_limit_ms: 2000,
            runs: StorageUrl::Folder(PathBuf::from(DEFAULT_RUNS)),
            max_run_file_mb: FileLimits::default().max_bytes >> 20,
            max_run_rows: FileLimits::default().max_rows,
            sql: SqlConfig::default(),
            api: ApiConfig::default(),
            http: HttpConfig::default(),
            live: LiveSection::default(),
            auth: AuthSection::default(),
            tls: TlsSection::default(),
            storage: StorageSection::default(),
        }
    }
}

/// `./data` when it exists, else the sample data bundled with the source.
fn default_data_root() -> PathBuf {
    let local = PathBuf::from("data");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0} is not valid: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error(
        "unknown time zone '{zone}' for {whom}; use an IANA name such as America/New_York or UTC"
    )]
    Zone { zone: String, whom: String },
    #[error(
        "the plugin folder {plugins} is inside the data root {data}, where its files would be taken for data; choose a folder outside it with --plugins"
    )]
    PluginsInData { plugins: PathBuf, data: PathBuf },
    #[error("{what} must be at least 1, got 0")]
    Zero { what: &'static str },
    #[error("{given} is set but {missing} is not; give both (or neither, to serve plain HTTP)")]
    TlsHalf {
        given: &'static str,
        missing: &'static str,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(
        "{what} writes into a folder, and the {root} is {url}; write into a folder, then copy it into the bucket (e.g. aws s3 sync)"
    )]
    NotAFolder {
        what: &'static str,
        root: &'static str,
        url: String,
    },
    #[error("sql.scheduler: {0}")]
    Scheduler(#[from] ClusterError),
    #[error(
        "sql.scheduler is {0} but sql.engine is local; set engine = \"ballista\" to run SQL there, or remove the scheduler"
    )]
    SchedulerUnused(String),
}

impl Config {
    /// Reads `path`, or `candela.toml` in the working directory if present.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_FILE), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse(path, e)),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError::Read(path, e)),
        }
    }

    /// The data root: the folder, or the bucket's client (which has made
    /// no request yet).
    pub fn data_root(&self) -> Result<DataRoot, ConfigError> {
        self.root(&self.data)
    }

    /// Where the runs are, as [`Config::data_root`].
    pub fn runs_root(&self) -> Result<DataRoot, ConfigError> {
        self.root(&self.runs)
    }

    fn root(&self, url: &StorageUrl) -> Result<DataRoot, ConfigError> {
        match url {
            StorageUrl::Folder(folder) => Ok(DataRoot::Folder(folder.clone())),
            StorageUrl::Store(url) => {
                let bucket = Bucket::open(url, &self.storage_settings()?)?;
                Ok(DataRoot::Bucket(Arc::new(bucket)))
            }
        }
    }

    /// The data root's folder, for a command (`what`) that writes into it.
    pub fn data_folder(&self, what: &'static str) -> Result<&Path, ConfigError> {
        folder(&self.data, "data root", what)
    }

    /// The runs folder, for a command (`what`) that writes into it.
    pub fn runs_folder(&self, what: &'static str) -> Result<&Path, ConfigError> {
        folder(&self.runs, "runs folder", what)
    }

    /// `[storage]`, checked: the deadline and interval above zero.
    pub fn storage_settings(&self) -> Result<StorageSettings, ConfigError> {
        let storage = &self.storage;
        nonzero(&[
            ("storage.timeout_ms", storage.timeout_ms),
            ("storage.list_interval_s", storage.list_interval_s),
        ])?;
        Ok(StorageSettings {
            endpoint: storage.endpoint.clone(),
            region: storage.region.clone(),
            allow_http: storage.allow_http,
            timeout: Duration::from_millis(storage.timeout_ms),
            retries: storage.retries,
            list_interval: Duration::from_secs(storage.list_interval_s),
        })
    }

    /// The store settings, with time zone names checked.
    pub fn store(&self) -> Result<StoreConfig, ConfigError> {
        let zone = |name: &str, whom: &str| {
            name.parse::<Tz>().map_err(|_| ConfigError::Zone {
                zone: name.to_owned(),
                whom: whom.to_owned(),
            })
        };
        let mut store = StoreConfig::in_root(self.data_root()?);
        store.default_zone = zone(&self.default_timezone, "default_timezone")?;
        for (provider, settings) in &self.providers {
            store.zones.insert(
                provider.clone(),
                zone(&settings.timezone, &format!("provider {provider}"))?,
            );
        }
        store.cache_bytes = self.cache_mb.saturating_mul(1 << 20);
        store.max_series_rows = self.max_series_rows;
        Ok(store)
    }
}

impl Config {
    /// What a run's files may hold.
    pub fn run_limits(&self) -> FileLimits {
        FileLimits {
            max_bytes: self.max_run_file_mb.saturating_mul(1 << 20),
            max_rows: self.max_run_rows,
        }
    }

    /// The plugin folder's settings, checked: outside the data root, limits
    /// above zero.
    pub fn plugin_folder(&self) -> Result<FolderConfig, ConfigError> {
        let plugins = absolute(&self.plugins);
        if let StorageUrl::Folder(data) = &self.data {
            let data = absolute(data);
            if plugins.starts_with(&data) {
                return Err(ConfigError::PluginsInData { plugins, data });
            }
        }
        nonzero(&[
            ("plugin_memory_mb", self.plugin_memory_mb),
            ("plugin_time_limit_ms", self.plugin_time_limit_ms),
            ("max_plugin_mb", self.max_plugin_mb),
            (
                "plugin_compile_time_limit_ms",
                self.plugin_compile_time_limit_ms,
            ),
        ])?;
        let memory_mb = usize::try_from(self.plugin_memory_mb).unwrap_or(usize::MAX);
        let cache_dir = self.plugin_cache.clone().or_else(user_cache);
        if cache_dir.is_none() {
            tracing::info!(
                "no plugin cache (neither plugin_cache nor HOME is set): plugins compile at every start"
            );
        }
        Ok(FolderConfig {
            cache_dir,
            dir: plugins,
            limits: Limits {
                memory_bytes: memory_mb.saturating_mul(1 << 20),
                time: Duration::from_millis(self.plugin_time_limit_ms),
            },
            allow_native: self.allow_native_plugins,
            max_file_bytes: self.max_plugin_mb.saturating_mul(1 << 20),
            compile_time: Duration::from_millis(self.plugin_compile_time_limit_ms),
        })
    }
}

impl Config {
    /// The SQL bounds, checked: each above zero.
    pub fn sql_limits(&self) -> Result<SqlLimits, ConfigError> {
        let sql = &self.sql;
        nonzero(&[
            ("sql.max_rows", sql.max_rows as u64),
            ("sql.time_limit_ms", sql.time_limit_ms),
            ("sql.memory_limit_mb", sql.memory_limit_mb),
            ("sql.max_concurrent", sql.max_concurrent as u64),
            ("sql.max_query_bytes", sql.max_query_bytes as u64),
            ("sql.threads", sql.threads as u64),
            ("sql.max_generated_rows", sql.max_generated_rows),
            ("sql.max_value_mb", sql.max_value_mb),
            ("sql.max_result_mb", sql.max_result_mb),
        ])?;
        let mebibytes = |mb: u64| {
            usize::try_from(mb)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20)
        };
        Ok(SqlLimits {
            max_rows: sql.max_rows,
            time_limit: Duration::from_millis(sql.time_limit_ms),
            memory_bytes: mebibytes(sql.memory_limit_mb),
            max_concurrent: sql.max_concurrent,
            queue_timeout: Duration::from_millis(sql.queue_timeout_ms),
            max_query_bytes: sql.max_query_bytes,
            threads: sql.threads,
            max_generated_rows: sql.max_generated_rows,
            max_value_bytes: mebibytes(sql.max_value_mb),
            max_result_bytes: mebibytes(sql.max_result_mb),
        })
    }
}

impl Config {
    /// Where SQL runs, checked.
    pub fn sql_engine(&self) -> Result<SqlEngine, ConfigError> {
        match (self.sql.engine, &self.sql.scheduler) {
            (EngineName::Local, None) => Ok(SqlEngine::Local),
            (EngineName::Local, Some(url)) => Err(ConfigError::SchedulerUnused(url.clone())),
            (EngineName::Ballista, None) => Ok(SqlEngine::Standalone),
            (EngineName::Ballista, Some(url)) => Ok(SqlEngine::Cluster(url.parse()?)),
        }
    }
}

impl Config {
    /// The bounds of `/api/data`, checked: each above zero.
    pub fn data_limits(&self) -> Result<DataLimits, ConfigError> {
        let api = &self.api;
        nonzero(&[
            ("api.max_indicator_calls", api.max_indicator_calls as u64),
            ("api.default_limit", api.default_limit as u64),
            ("api.response_budget_mb", api.response_budget_mb),
            ("api.work_threads", api.work_threads as u64),
        ])?;
        Ok(DataLimits {
            max_indicator_calls: api.max_indicator_calls,
            default_limit: api.default_limit.min(crate::routes::data::MAX_LIMIT),
            budget: ResponseBudget::new(api.response_budget_mb.saturating_mul(1 << 20)),
        })
    }

    /// What the router asks of every request, checked.
    pub fn http_policy(&self) -> Result<HttpPolicy, ConfigError> {
        let http = &self.http;
        nonzero(&[
            ("http.request_timeout_ms", http.request_timeout_ms),
            ("http.max_body_kb", http.max_body_kb as u64),
        ])?;
        Ok(HttpPolicy {
            hosts: HostAllowlist::new(&http.allowed_hosts),
            request_timeout: Duration::from_millis(http.request_timeout_ms),
            max_body_bytes: http.max_body_kb.saturating_mul(1 << 10),
        })
    }

    /// How live bars are followed and streamed, checked.
    pub fn live(&self) -> Result<LiveConfig, ConfigError> {
        nonzero(&[
            ("live.poll_ms", self.live.poll_ms),
            ("http.max_streams", self.http.max_streams as u64),
        ])?;
        Ok(LiveConfig {
            poll: Duration::from_millis(self.live.poll_ms),
            source: if self.live.events {
                ChangeSource::Events
            } else {
                ChangeSource::Poll
            },
            max_streams: self.http.max_streams,
            ..LiveConfig::default()
        })
    }

    /// How the listener bounds connections, checked.
    /// The TLS handshake of the listener, if a certificate is configured.
    pub fn tls(&self) -> Result<Option<TlsAcceptor>, ConfigError> {
        match (&self.tls.cert, &self.tls.key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(crate::tls::acceptor(cert, key)?)),
            (Some(_), None) => Err(ConfigError::TlsHalf {
                given: "tls.cert",
                missing: "tls.key",
            }),
            (None, Some(_)) => Err(ConfigError::TlsHalf {
                given: "tls.key",
                missing: "tls.cert",
            }),
        }
    }

    pub fn connection_limits(&self) -> Result<ConnectionLimits, ConfigError> {
        let http = &self.http;
        nonzero(&[
            ("http.max_connections", http.max_connections as u64),
            ("http.header_timeout_ms", http.header_timeout_ms),
        ])?;
        Ok(ConnectionLimits {
            max_connections: http.max_connections,
            header_timeout: Duration::from_millis(http.header_timeout_ms),
            shutdown_grace: Duration::from_millis(http.shutdown_grace_ms),
        })
    }
}

/// The first of `settings` that is zero, as an error.
fn nonzero(settings: &[(&'static str, u64)]) -> Result<(), ConfigError> {
    match settings.iter().find(|(_, value)| *value == 0) {
        Some(&(what, _)) => Err(ConfigError::Zero { what }),
        None => Ok(()),
    }
}

/// `path` made absolute and free of `.` and `..`, with symlinks resolved as
/// far as the path exists, so that a containment check cannot be fooled.
fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                }
            }
        }
    }
    resolved
}

/// `$XDG_CACHE_HOME/candela`, else `~/.cache/candela`.
fn user_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("candela"))
}

/// `url`'s folder, or an error for `what`, which writes into the `root`.
fn folder<'a>(
    url: &'a StorageUrl,
    root: &'static str,
    what: &'static str,
) -> Result<&'a Path, ConfigError> {
    match url {
        StorageUrl::Folder(folder) => Ok(folder),
        StorageUrl::Store(url) => Err(ConfigError::NotAFolder {
            what,
            root,
            url: url.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_file_and_rejects_unknown_keys_and_zones() {
        let config: Config = toml::from_str(
            "data = \"/srv/bars\"\nbind = \"0.0.0.0:8080\"\ncache_mb = 64\n[providers.ALPACA]\ntimezone = \"America/New_York\"\n",
        )
        .expect("valid");
        assert_eq!(config.bind.port(), 8080);
        let store = config.store().expect("zones are valid");
        assert_eq!(store.zones["ALPACA"], chrono_tz::America::New_York);
        assert_eq!(store.cache_bytes, 64 << 20);
        assert!(toml::from_str::<Config>("dta = 1").is_err());
        let bad: Config =
            toml::from_str("[providers.X]\ntimezone = \"Mars/Olympus\"").expect("parses");
        assert!(
            bad.store()
                .expect_err("bad zone")
                .to_string()
                .contains("Mars/Olympus")
        );
    }
}
