//! What the configuration says about storage: `data` and `runs` as a path
//! or a URL, and `[storage]`, which the object stores' clients are built
//! with (their credentials come from the standard environment).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

/// The schemes an object store is reached by.
const SCHEMES: [&str; 6] = ["s3", "gs", "az", "abfs", "abfss", "file"];

/// `data` or `runs` as given: a folder, or the URL of an object store prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    Folder(PathBuf),
    Store(Url),
}

/// Why a `data` or `runs` value names no storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageUrlError {
    #[error("'{given}' is not a URL: {reason}")]
    Malformed { given: String, reason: String },
    #[error(
        "'{scheme}://' is not a storage Candela reads; use a path, or s3://, gs://, az:// or file://"
    )]
    Scheme { scheme: String },
    #[error("'{given}' names no bucket; write it as {scheme}://BUCKET/PREFIX")]
    NoBucket { given: String, scheme: String },
}

impl<'de> serde::Deserialize<'de> for StorageUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<StorageUrl, D::Error> {
        let given = String::deserialize(deserializer)?;
        given.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageUrl::Folder(path) => write!(f, "{}", path.display()),
            StorageUrl::Store(url) => write!(f, "{url}"),
        }
    }
}

impl FromStr for StorageUrl {
    type Err = StorageUrlError;

    fn from_str(given: &str) -> Result<StorageUrl, StorageUrlError> {
        let Some((scheme, _)) = given.split_once("://") else {
            return Ok(StorageUrl::Folder(PathBuf::from(given)));
        };
        let scheme = scheme.to_ascii_lowercase();
        if !SCHEMES.contains(&scheme.as_str()) {
            return Err(StorageUrlError::Scheme { scheme });
        }
        let url = Url::parse(given).map_err(|e| StorageUrlError::Malformed {
            given: given.to_owned(),
            reason: e.to_string(),
        })?;
        if scheme != "file" && url.host_str().is_none_or(str::is_empty) {
            return Err(StorageUrlError::NoBucket {
                given: given.to_owned(),
                scheme,
            });
        }
        Ok(StorageUrl::Store(url))
    }
}

/// `[storage]`: how the object stores' clients reach their servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// Another server than the cloud's own (MinIO, moto, a proxy), e.g.
    /// `http://127.0.0.1:9000`; default from the environment
    /// (`AWS_ENDPOINT_URL`, …).
    pub endpoint: Option<String>,
    /// The region (S3); default from `AWS_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Allow `http://` endpoints (local servers).
    pub allow_http: bool,
    /// Deadline of one storage operation, retries included: a store slower
    /// than this fails the requests that need it (503).
    pub timeout: Duration,
    /// Retries of a failed request within the deadline.
    pub retries: usize,
    /// The bucket is listed again this often (and on demand).
    pub list_interval: Duration,
}

impl Default for StorageSettings {
    fn default() -> StorageSettings {
        StorageSettings {
            endpoint: None,
            region: None,
            allow_http: false,
            timeout: Duration::from_secs(10),
            retries: 3,
            list_interval: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_paths_and_urls_name_their_bucket() {
        assert_eq!(
            "bars/daily".parse(),
            Ok(StorageUrl::Folder(PathBuf::from("bars/daily")))
        );
        for good in [
            "s3://bars/prefix",
            "gs://bars",
            "az://container/p",
            "file:///srv/bars",
        ] {
            assert!(
                matches!(good.parse::<StorageUrl>(), Ok(StorageUrl::Store(_))),
                "{good}"
            );
        }
        assert!(matches!(
            "http://example.com/bars".parse::<StorageUrl>(),
            Err(StorageUrlError::Scheme { .. })
        ));
        assert!(matches!(
            "s3:///prefix".parse::<StorageUrl>(),
            Err(StorageUrlError::NoBucket { .. })
        ));
    }
}
