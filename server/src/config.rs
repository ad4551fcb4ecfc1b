//! Configuration: built-in defaults, then `candela.toml` (or `--config`), then
//! command-line flags — each layer overriding the one before.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use std::time::Duration;

use candela_backtest::FileLimits;
use candela_core::StoreConfig;
use candela_plugins::{FolderConfig, Limits};
use candela_sql::SqlLimits;
use chrono_tz::Tz;
use serde::Deserialize;

/// The file read from the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "candela.toml";

/// The plugin folder when none is configured, relative to the working
/// directory: outside the data root and the sources.
pub const DEFAULT_PLUGINS: &str = "plugins.d";

/// The runs folder when none is configured, relative to the working
/// directory.
pub const DEFAULT_RUNS: &str = "runs";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Root of `<PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet`.
    pub data: PathBuf,
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
    /// Compiled plugins; default: the user's cache folder.
    pub plugin_cache: Option<PathBuf>,
    /// Load native libraries from the plugin folder. They run unsandboxed.
    pub allow_native_plugins: bool,
    /// Memory one WASM plugin instance may use, in MiB.
    pub plugin_memory_mb: u64,
    /// Time one WASM plugin call may take, in milliseconds.
    pub plugin_time_limit_ms: u64,
    /// Folder of backtest runs, one subfolder each (see `docs/runs.md`).
    pub runs: PathBuf,
    /// Largest file a run may have, in MiB.
    pub max_run_file_mb: u64,
    /// Most rows a run's file may have.
    pub max_run_rows: u64,
    /// Bounds of `/api/sql`.
    pub sql: SqlConfig,
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
}

impl Default for SqlConfig {
    fn default() -> Self {
        let limits = SqlLimits::default();
        SqlConfig {
            max_rows: limits.max_rows,
            time_limit_ms: u64::try_from(limits.time_limit.as_millis()).unwrap_or(u64::MAX),
            memory_limit_mb: (limits.memory_bytes >> 20) as u64,
            max_concurrent: limits.max_concurrent,
            queue_timeout_ms: u64::try_from(limits.queue_timeout.as_millis()).unwrap_or(u64::MAX),
            max_query_bytes: limits.max_query_bytes,
            threads: limits.threads,
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
            data: default_data_root(),
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            default_timezone: "UTC".into(),
            cache_mb: 512,
            max_series_rows: candela_core::load::DEFAULT_MAX_SERIES_ROWS,
            query_threads: std::thread::available_parallelism().map_or(2, usize::from),
            providers: BTreeMap::new(),
            plugins: PathBuf::from(DEFAULT_PLUGINS),
            plugin_cache: None,
            allow_native_plugins: false,
            plugin_memory_mb: 256,
            plugin_time_limit_ms: 2000,
            runs: PathBuf::from(DEFAULT_RUNS),
            max_run_file_mb: FileLimits::default().max_bytes >> 20,
            max_run_rows: FileLimits::default().max_rows,
            sql: SqlConfig::default(),
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

    /// The store settings, with time zone names checked.
    pub fn store(&self) -> Result<StoreConfig, ConfigError> {
        let zone = |name: &str, whom: &str| {
            name.parse::<Tz>().map_err(|_| ConfigError::Zone {
                zone: name.to_owned(),
                whom: whom.to_owned(),
            })
        };
        let mut store = StoreConfig::new(&self.data);
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
        let (plugins, data) = (absolute(&self.plugins), absolute(&self.data));
        if plugins.starts_with(&data) {
            return Err(ConfigError::PluginsInData { plugins, data });
        }
        if self.plugin_memory_mb == 0 {
            return Err(ConfigError::Zero {
                what: "plugin_memory_mb",
            });
        }
        if self.plugin_time_limit_ms == 0 {
            return Err(ConfigError::Zero {
                what: "plugin_time_limit_ms",
            });
        }
        let memory_mb = usize::try_from(self.plugin_memory_mb).unwrap_or(usize::MAX);
        Ok(FolderConfig {
            cache_dir: self
                .plugin_cache
                .clone()
                .unwrap_or_else(|| user_cache().unwrap_or_else(|| plugins.join(".cache"))),
            dir: plugins,
            limits: Limits {
                memory_bytes: memory_mb.saturating_mul(1 << 20),
                time: Duration::from_millis(self.plugin_time_limit_ms),
            },
            allow_native: self.allow_native_plugins,
        })
    }
}

impl Config {
    /// The SQL bounds, checked: each above zero.
    pub fn sql_limits(&self) -> Result<SqlLimits, ConfigError> {
        let sql = &self.sql;
        for (what, value) in [
            ("sql.max_rows", sql.max_rows as u64),
            ("sql.time_limit_ms", sql.time_limit_ms),
            ("sql.memory_limit_mb", sql.memory_limit_mb),
            ("sql.max_concurrent", sql.max_concurrent as u64),
            ("sql.max_query_bytes", sql.max_query_bytes as u64),
            ("sql.threads", sql.threads as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { what });
            }
        }
        Ok(SqlLimits {
            max_rows: sql.max_rows,
            time_limit: Duration::from_millis(sql.time_limit_ms),
            memory_bytes: usize::try_from(sql.memory_limit_mb)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20),
            max_concurrent: sql.max_concurrent,
            queue_timeout: Duration::from_millis(sql.queue_timeout_ms),
            max_query_bytes: sql.max_query_bytes,
            threads: sql.threads,
        })
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
