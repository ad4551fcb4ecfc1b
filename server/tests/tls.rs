//! TLS: with `[tls] cert` and `key`, the binary serves HTTPS with that
//! certificate (one the test makes with rcgen), its session cookie is
//! `Secure` without being told, a plain-HTTP client gets no answer and
//! changes nothing, and a certificate without its key does not start.

mod process;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_server::auth::tokens::TokenSet;
use process::Candela;
use rcgen::CertifiedKey;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A self-signed certificate for `localhost` and 127.0.0.1, written as
/// `NAME.pem` and `NAME.key` in `dir`.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, CertificateDer<'static>) {
    let CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("certificate");
    let (cert_file, key_file) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert_file, cert.pem()).expect("write certificate");
    std::fs::write(&key_file, signing_key.serialize_pem()).expect("write key");
    (cert_file, key_file, cert.der().clone())
}

/// A client trusting `roots` only.
#[expect(deprecated, reason = "the ring provider the server uses")]
fn client(roots: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    Arc::new(config)
}

fn port_of(address: &str) -> u16 {
    address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// Sends `request` over TLS to `host` (checked against the certificate) at
/// the server's port and reads the answer to the end.
fn https(
    config: &Arc<ClientConfig>,
    host: &str,
    address: &str,
    request: &str,
) -> std::io::Result<String> {
    let tcp = TcpStream::connect(("127.0.0.1", port_of(address)))?;
    let name = ServerName::try_from(host.to_owned()).expect("server name");
    let connection =
        ClientConnection::new(Arc::clone(config), name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(connection, tcp);
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        // A peer that closes without close_notify, after the whole answer.
        Err(e) if e.kind() == ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        other => {
            other?;
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

fn get(path: &str, token: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

#[test]
fn https_is_served_with_the_configured_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, der) = certificate(dir.path(), "server");
    std::fs::write(
        dir.path().join("candela.toml"),
        format!(
            "[tls]\ncert = {cert:?}\nkey = {key:?}\n[auth]\nalways = true\n",
            cert = cert.display().to_string(),
            key = key.display().to_string()
        ),
    )
    .expect("config");
    let token = TokenSet::create(
        &dir.path().join("candela-tokens.toml"),
        "ci",
        chrono::Utc::now(),
    )
    .expect("token");
    let server = Candela::serve(&mut Candela::on_test_market(dir.path(), "127.0.0.1:0"));
    assert!(server.tls, "the log does not say https");
    let trusting = client(&[der]);

    // The API over TLS, by host name and by address.
    for host in ["localhost", "127.0.0.1"] {
        let answer = https(
            &trusting,
            host,
            &server.address,
            &get("/api/symbols", &token),
        )
        .expect("https");
        assert_eq!(status(&answer), 200, "{answer}");
        assert!(answer.contains("ALPACA:NVDA"), "{answer}");
    }

    // The browser's session cookie is Secure, as the page came over HTTPS.
    let form = format!("token={token}&next=%2F");
    let signed_in = https(
        &trusting,
        "localhost",
        &server.address,
        &format!(
            "POST /signin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .expect("sign in");
    assert_eq!(status(&signed_in), 303, "{signed_in}");
    let cookie = signed_in
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    // Plain HTTP on the TLS port gets no HTTP answer, and the server goes on.
    let mut plain = TcpStream::connect(("127.0.0.1", port_of(&server.address))).expect("connect");
    plain
        .write_all(get("/api/symbols", &token).as_bytes())
        .expect("request");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("ALPACA:NVDA"),
        "plain HTTP was answered with data"
    );

    // A client that does not trust this certificate stops at the handshake;
    // one that does is still served.
    let health = |client| {
        https(
            client,
            "localhost",
            &server.address,
            &get("/healthz", &token),
        )
    };
    let wary = client(&[]);
    let refused = health(&wary).expect_err("an untrusted certificate was accepted");
    assert!(
        refused.to_string().to_lowercase().contains("certificate"),
        "{refused}"
    );

    let answer = health(&trusting).expect("still serving");
    assert_eq!(status(&answer), 200, "{answer}");
}

#[test]
fn a_certificate_without_its_own_key_does_not_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, _, _) = certificate(dir.path(), "server");
    let (_, other_key, _) = certificate(dir.path(), "other");
    let not_pem = dir.path().join("notes.txt");
    std::fs::write(&not_pem, "not a certificate\n").expect("write");
    let refusal = |args: &[&Path]| {
        let mut command = Candela::on_test_market(dir.path(), "127.0.0.1:0");
        let flags = ["--tls-cert", "--tls-key"];
        for (flag, file) in flags.iter().zip(args) {
            command.arg(flag).arg(file);
        }
        let output = command.output().expect("run candela");
        assert!(!output.status.success(), "started with {args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = refusal(&[&cert]);
    assert!(said.contains("tls.key"), "{said}");
    let said = refusal(&[&cert, &other_key]);
    assert!(said.contains("cannot be served together"), "{said}");
    let said = refusal(&[&not_pem, &other_key]);
    assert!(said.contains("holds no certificate"), "{said}");
}
