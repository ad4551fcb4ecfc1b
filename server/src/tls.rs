//! TLS for the listener: a certificate chain and its private key in PEM
//! (`tls.cert`, `tls.key`), served through rustls with the ring provider —
//! no OpenSSL to install or link.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the certificate or key cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert {}: {source}", path.display())]
    Certificate { path: PathBuf, source: pem::Error },
    #[error(
        "tls.cert {} holds no certificate; give the chain in PEM (-----BEGIN CERTIFICATE-----), the server's first",
        path.display()
    )]
    NoCertificate { path: PathBuf },
    #[error(
        "tls.key {}: {source}; give the private key in PEM (PKCS#8, PKCS#1 or SEC1)",
        path.display()
    )]
    Key { path: PathBuf, source: pem::Error },
    #[error("tls.cert {} and tls.key {} cannot be served together: {source}", cert.display(), key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// The handshake side of the listener, for the chain in `cert` and the key
/// in `key`. Only HTTP/1.1 is offered, as the listener speaks no other.
// rustls 0.23.48 deprecates ring's provider for its lack of post-quantum key
// exchange. The alternative, aws-lc, is a C and assembler build on every
// machine that builds Candela; ring is linked anyway by the object stores'
// HTTPS client, and its TLS 1.3 with X25519 is what browsers negotiate today.
#[expect(deprecated, reason = "ring, not aws-lc: see above")]
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate {
            path: cert.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_owned(),
        });
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.to_owned(),
        source,
    })?;
    let unusable = |source| TlsError::Unusable {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    };
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(unusable)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
