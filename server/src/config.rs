//! Configuration: built-in defaults, then `candela.toml` (or `--config`), then
//! command-line flags — each layer overriding the one before.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use candela_core::StoreConfig;
use chrono_tz::Tz;
use serde::Deserialize;

/// The file read from the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "candela.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Root of `<PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet`.
    pub data: PathBuf,
    /// Address to listen on; loopback unless told otherwise.
    pub bind: SocketAddr,
    /// Time zone of providers not listed under `[providers]`.
    pub default_timezone: String,
    /// Memory bound of the frame cache, in MiB.
    pub cache_mb: u64,
    /// Threads that run queries, apart from the HTTP threads.
    pub query_threads: usize,
    /// Per-provider settings, e.g. `[providers.ALPACA] timezone = "America/New_York"`.
    pub providers: BTreeMap<String, ProviderConfig>,
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
            query_threads: std::thread::available_parallelism().map_or(2, usize::from),
            providers: BTreeMap::new(),
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
        Ok(store)
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
