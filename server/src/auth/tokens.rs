//! The tokens file: who may sign in. It holds each token's name, SHA-256
//! and creation time, never the token: `candela token new` prints a token
//! once, and the server only ever compares digests, in constant time.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every token starts with, so that a leaked one is recognisable.
const PREFIX: &str = "cdl_";
/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// The tokens file is read whole: more than this is not a tokens file.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// One token as the file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    /// The SHA-256 of the token, in hex.
    pub sha256: String,
    /// When it was made, RFC 3339 in UTC.
    pub created: String,
}

/// The tokens of the file, as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSet {
    /// Signs the browsers' sessions, in hex: shared by every server that
    /// reads the file, so any replica accepts a session another gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the tokens file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("the tokens file {0} is larger than 1 MiB: is it the right file?")]
    TooLarge(PathBuf),
    #[error("the tokens file {0} is not valid: {1}")]
    Parse(PathBuf, String),
    #[error("cannot write the tokens file {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error(
        "a token named '{0}' exists already; revoke it first (candela token revoke {0}) or choose another name"
    )]
    Exists(String),
    #[error("no token is named '{0}'; candela token list shows them")]
    Unknown(String),
    #[error(
        "a token's name is 1 to 64 letters, digits, '.', '_' or '-' (it names who uses it, e.g. ci or alice), got '{0}'"
    )]
    BadName(String),
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

impl TokenSet {
    /// The tokens of `path`; none when the file does not exist yet.
    pub fn read(path: &Path) -> Result<TokenSet, TokenError> {
        let text = match std::fs::File::open(path) {
            Ok(file) => {
                use std::io::Read;
                let mut text = String::new();
                file.take(MAX_FILE_BYTES + 1)
                    .read_to_string(&mut text)
                    .map_err(|e| TokenError::Read(path.to_owned(), e))?;
                if text.len() as u64 > MAX_FILE_BYTES {
                    return Err(TokenError::TooLarge(path.to_owned()));
                }
                text
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenSet::default()),
            Err(e) => return Err(TokenError::Read(path.to_owned(), e)),
        };
        let set: TokenSet =
            toml::from_str(&text).map_err(|e| TokenError::Parse(path.to_owned(), e.to_string()))?;
        if let Some(bad) = set
            .tokens
            .iter()
            .find(|t| digest_of_hex(&t.sha256).is_none())
        {
            return Err(TokenError::Parse(
                path.to_owned(),
                format!("token '{}' has no SHA-256 of 64 hex digits", bad.name),
            ));
        }
        Ok(set)
    }

    /// Makes a token named `name`, adds it and writes the set to `path`;
    /// returns the token, which is shown once and kept nowhere.
    pub fn create(
        path: &Path,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, TokenError> {
        check_name(name)?;
        let mut set = TokenSet::read(path)?;
        if set.tokens.iter().any(|t| t.name == name) {
            return Err(TokenError::Exists(name.to_owned()));
        }
        if set.session_key.is_none() {
            set.session_key = Some(hex(&random_bytes()?));
        }
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes()?));
        set.tokens.push(TokenEntry {
            name: name.to_owned(),
            sha256: hex(&Sha256::digest(token.as_bytes())),
            created: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        set.write(path)?;
        Ok(token)
    }

    /// Removes the token named `name` from the file at `path`.
    pub fn revoke(path: &Path, name: &str) -> Result<(), TokenError> {
        let mut set = TokenSet::read(path)?;
        let before = set.tokens.len();
        set.tokens.retain(|t| t.name != name);
        if set.tokens.len() == before {
            return Err(TokenError::Unknown(name.to_owned()));
        }
        set.write(path)
    }

    /// The entry of the token `presented`, if it is one of the set. Every
    /// entry is compared, in constant time, whichever matches.
    pub fn verify(&self, presented: &str) -> Option<&TokenEntry> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for entry in &self.tokens {
            let stored = digest_of_hex(&entry.sha256).unwrap_or([0; 32]);
            if bool::from(stored.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found
    }

    /// The key that signs sessions, once a token was made.
    pub fn session_key(&self) -> Option<[u8; 32]> {
        self.session_key.as_deref().and_then(digest_of_hex)
    }

    /// The entry named `name`.
    pub fn named(&self, name: &str) -> Option<&TokenEntry> {
        self.tokens.iter().find(|t| t.name == name)
    }

    /// Written beside `path`, readable by its owner only, then renamed over it.
    fn write(&self, path: &Path) -> Result<(), TokenError> {
        let failed = |e| TokenError::Write(path.to_owned(), e);
        let text = format!(
            "# Candela's sign-in tokens (candela token new NAME): the SHA-256 of each, never the token.\n{}",
            toml::to_string(self).map_err(|e| failed(std::io::Error::other(e)))?
        );
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let name = path
            .file_name()
            .map_or_else(|| "tokens".into(), |n| n.to_string_lossy().into_owned());
        let staged = dir.join(format!(".{name}.partial"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        {
            use std::io::Write;
            let mut file = options.open(&staged).map_err(failed)?;
            file.write_all(text.as_bytes()).map_err(failed)?;
            file.sync_all().map_err(failed)?;
        }
        std::fs::rename(&staged, path).map_err(failed)
    }
}

fn random_bytes() -> Result<[u8; TOKEN_BYTES], TokenError> {
    let mut random = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut random).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(random)
}

fn check_name(name: &str) -> Result<(), TokenError> {
    let fine = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(TokenError::BadName(name.chars().take(80).collect()))
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn digest_of_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (k, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * k..2 * k + 2)?, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_796_000_000, 0).expect("time")
    }

    #[test]
    fn a_token_made_is_kept_as_its_digest_and_verifies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.toml");
        let ci = TokenSet::create(&path, "ci", now()).expect("create");
        let alice = TokenSet::create(&path, "alice", now()).expect("create");
        assert!(
            ci.starts_with(PREFIX) && ci.len() == PREFIX.len() + 43,
            "{ci}"
        );
        assert_ne!(ci, alice);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains(&ci) && !text.contains(&ci[PREFIX.len()..]),
            "the file holds no token"
        );
        let set = TokenSet::read(&path).expect("read");
        assert_eq!(set.verify(&ci).map(|t| t.name.as_str()), Some("ci"));
        assert_eq!(set.verify(&alice).map(|t| t.name.as_str()), Some("alice"));
        assert_eq!(set.tokens[0].created, "2026-11-30T00:53:20Z");
        // A token one character off, a prefix of one, nothing: refused.
        let mut off = ci.clone().into_bytes();
        off[10] = if off[10] == b'A' { b'B' } else { b'A' };
        assert!(set.verify(&String::from_utf8(off).expect("utf8")).is_none());
        assert!(set.verify(&ci[..ci.len() - 1]).is_none());
        assert!(set.verify("").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only its owner reads the tokens file");
        }
    }

    #[test]
    fn names_are_checked_and_revoking_removes_one_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.toml");
        let ci = TokenSet::create(&path, "ci", now()).expect("create");
        let bob = TokenSet::create(&path, "bob", now()).expect("create");
        assert!(matches!(
            TokenSet::create(&path, "ci", now()),
            Err(TokenError::Exists(_))
        ));
        for bad in ["", "a b", "../x", &"x".repeat(65)] {
            assert!(
                matches!(
                    TokenSet::create(&path, bad, now()),
                    Err(TokenError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        TokenSet::revoke(&path, "ci").expect("revoke");
        assert!(matches!(
            TokenSet::revoke(&path, "ci"),
            Err(TokenError::Unknown(_))
        ));
        let set = TokenSet::read(&path).expect("read");
        assert!(set.verify(&ci).is_none());
        assert_eq!(set.verify(&bob).map(|t| t.name.as_str()), Some("bob"));
    }

    #[test]
    fn a_missing_file_has_no_tokens_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.toml");
        assert_eq!(TokenSet::read(&path).expect("missing"), TokenSet::default());
        for broken in [
            "[[token]]\nname = \"x\"\n",
            "[[token]]\nname = \"x\"\nsha256 = \"zz\"\ncreated = \"\"\n",
            "not toml",
        ] {
            std::fs::write(&path, broken).expect("write");
            assert!(
                matches!(TokenSet::read(&path), Err(TokenError::Parse(..))),
                "{broken}"
            );
        }
        std::fs::write(&path, vec![b'#'; (MAX_FILE_BYTES + 1) as usize]).expect("write");
        assert!(matches!(
            TokenSet::read(&path),
            Err(TokenError::TooLarge(_))
        ));
    }
}
