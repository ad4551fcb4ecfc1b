//! The folder of compiled plugins and of native libraries' private copies.
//! The server runs what it finds there as native code, so nobody but the
//! server's user may be able to write it: it is created `0700`, and refused
//! when another user owns it or its group or others may write it. Beside the
//! entries it keeps a secret key (`0600`) that signs each entry the server
//! writes, so that an entry is trusted only if this server wrote it.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The key that signs cache entries.
pub(crate) type Key = [u8; 32];

/// A folder only the server's user can write.
#[derive(Debug, Clone)]
pub struct PrivateDir {
    path: PathBuf,
}

/// Why a folder cannot hold what the server runs.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    #[error("cannot create or read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a folder (a symbolic link or a file); choose another plugin_cache",
        path.display()
    )]
    NotAFolder { path: PathBuf },
    #[error(
        "{} may be written by other users (mode {mode:o}), who could plant code there for the \
         server to run; make it private (chmod 700) or choose another plugin_cache",
        path.display()
    )]
    Shared { path: PathBuf, mode: u32 },
    #[error(
        "{} belongs to another user, who could plant code there for the server to run; \
         choose a plugin_cache of the user the server runs as",
        path.display()
    )]
    NotOwned { path: PathBuf },
    #[error(
        "the signing key {} is not the server's own (readable by others, another owner, or \
         not 32 bytes); delete it and the server makes a new one",
        path.display()
    )]
    Key { path: PathBuf },
}

impl PrivateDir {
    /// Opens `path` (creating it `0700`), checked to be private.
    pub fn open(path: impl Into<PathBuf>) -> Result<PrivateDir, PrivateDirError> {
        let path = path.into();
        let io = |source| PrivateDirError::Io {
            path: path.clone(),
            source,
        };
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(io)?;
        let metadata = std::fs::symlink_metadata(&path).map_err(io)?;
        if !metadata.is_dir() {
            return Err(PrivateDirError::NotAFolder { path });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mode = metadata.mode() & 0o777;
            if mode & 0o022 != 0 {
                return Err(PrivateDirError::Shared { path, mode });
            }
            if metadata.uid() != own_uid(&path).map_err(io)? {
                return Err(PrivateDirError::NotOwned { path });
            }
        }
        Ok(PrivateDir { path })
    }

    /// The private subfolder `name`.
    pub fn child(&self, name: &str) -> Result<PrivateDir, PrivateDirError> {
        PrivateDir::open(self.path.join(name))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder's signing key, made (from the system's randomness) the
    /// first time. Made whole beside its place and linked in, so that a
    /// server starting at the same moment never reads half a key.
    pub(crate) fn key(&self) -> Result<Key, PrivateDirError> {
        let path = self.path.join("key");
        let io = |source| PrivateDirError::Io {
            path: path.clone(),
            source,
        };
        if !path.exists() {
            let mut key = Key::default();
            getrandom::fill(&mut key).map_err(|e| io(std::io::Error::other(e)))?;
            // Named by the new key itself, so that no two makers share it.
            let suffix: String = key[..8].iter().map(|b| format!("{b:02x}")).collect();
            let partial = self.path.join(format!(".key-{suffix}"));
            let mut options = OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let made = options
                .open(&partial)
                .and_then(|mut file| file.write_all(&key))
                .and_then(|()| std::fs::hard_link(&partial, &path));
            let _ = std::fs::remove_file(&partial);
            match made {
                Ok(()) => return Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        let refused = || PrivateDirError::Key { path: path.clone() };
        let metadata = std::fs::symlink_metadata(&path).map_err(io)?;
        if !metadata.is_file() || metadata.len() != 32 {
            return Err(refused());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if metadata.mode() & 0o077 != 0 || metadata.uid() != own_uid(&self.path).map_err(io)? {
                return Err(refused());
            }
        }
        let mut key = Key::default();
        std::fs::File::open(&path)
            .and_then(|mut file| file.read_exact(&mut key))
            .map_err(io)?;
        Ok(key)
    }
}

/// The user the server runs as: the owner of a file it creates (in `dir`,
/// then removed), which the standard library can tell without `unsafe`.
#[cfg(unix)]
fn own_uid(dir: &Path) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let probe = dir.join(format!(
        ".owner-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)?;
    let uid = file.metadata().map(|m| m.uid());
    drop(file);
    let _ = std::fs::remove_file(&probe);
    uid
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_folder_others_may_write_is_refused_and_a_private_one_keeps_its_key() {
        let root = tempfile::tempdir().expect("temp dir");
        let private = PrivateDir::open(root.path().join("cache")).expect("created private");
        let mode = std::fs::metadata(private.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let key = private.key().expect("made");
        assert_eq!(private.key().expect("read again"), key);
        let key_mode = std::fs::metadata(private.path().join("key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600);

        std::fs::set_permissions(
            private.path().join("key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        assert!(matches!(private.key(), Err(PrivateDirError::Key { .. })));

        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).expect("mkdir");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(matches!(
            PrivateDir::open(&shared),
            Err(PrivateDirError::Shared { .. })
        ));

        let link = root.path().join("link");
        std::os::unix::fs::symlink(private.path(), &link).expect("symlink");
        assert!(matches!(
            PrivateDir::open(&link),
            Err(PrivateDirError::NotAFolder { .. })
        ));
    }
}
