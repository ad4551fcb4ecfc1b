//! The gate in front of every route while sign-in is on. A request passes
//! with a token of the tokens file (`Authorization: Bearer …`, for scripts)
//! or a session cookie the sign-in page gave (for the browser). The probes,
//! the sign-in page and the files it needs are open. The tokens file is
//! watched: a token removed stops working within 2 s, its sessions with it.
//!
//! A session is `NAME.EXPIRES.MAC`: the MAC (HMAC-SHA256 under the file's
//! session key) covers the name, the expiry and the token's digest. Any
//! server reading the same file accepts it, and none keeps session state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use candela_core::watch::{self, Cadence, ChangeSource, FolderWatch, Stamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::tokens::{TokenError, TokenSet, digest_of_hex, hex};
use crate::error::ApiError;
use crate::state::AppState;

/// The cookie that holds a browser's session.
pub const SESSION_COOKIE: &str = "candela_session";

/// Paths any request may reach: the probes, and the sign-in page with
/// what it draws with.
const OPEN_PATHS: [&str; 5] = [
    "/healthz",
    "/readyz",
    "/signin",
    "/style.css",
    "/favicon.svg",
];

/// A removed token stops working within 2 s: the file is looked at every
/// second even where the file system sends no notifications.
const CADENCE: Cadence = Cadence {
    quiet: Duration::from_millis(100),
    poll: Duration::from_secs(1),
    recursive: false,
    source: ChangeSource::Events,
};

/// The sign-in page; `{message}` is replaced by the (escaped) reason shown.
const SIGN_IN_PAGE: &str = include_str!("signin.html");

/// Who may come in, as the tokens file says now.
#[derive(Debug)]
pub struct Gate {
    tokens: Arc<RwLock<TokenSet>>,
    session: Duration,
    /// Cookies are marked `Secure`: the server is reached over TLS.
    secure: bool,
    _watch: FolderWatch,
}

/// How a request showed who it is.
enum Admission {
    Token,
    Session,
    /// A token was shown, and it is not one of the file's.
    WrongToken,
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error(
        "sign-in is on and {0} holds no token: make one with `candela token new NAME`, or serve without sign-in on loopback, or with --no-auth"
    )]
    NoTokens(PathBuf),
    #[error("cannot watch the tokens file {0}: {1}")]
    Watch(PathBuf, String),
}

impl Gate {
    /// The gate of the tokens file at `path`, which must hold a token;
    /// browsers stay signed in for `session`.
    pub fn open(path: &Path, session: Duration, secure: bool) -> Result<Gate, GateError> {
        // Stamped before it is read: a change in between is read again.
        let stamp = Stamp::of_file(path);
        let set = TokenSet::read(path)?;
        if set.tokens.is_empty() || set.session_key().is_none() {
            return Err(GateError::NoTokens(path.to_owned()));
        }
        let tokens = Arc::new(RwLock::new(set));
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        let watched = (Arc::clone(&tokens), path.to_owned());
        // The folder is looked at every second: the file is read again only
        // when its stamp changed, and the tokens swapped only when they did.
        let mut read = stamp;
        let watch = watch::follow(&dir, "tokens-file", CADENCE, move || {
            let (tokens, path) = &watched;
            let stamp = Stamp::of_file(path);
            if stamp == read {
                return;
            }
            read = stamp;
            let now = TokenSet::read(path).unwrap_or_else(|error| {
                // A broken file admits no one rather than the tokens of before.
                tracing::error!("{error}; no token is accepted until it is mended");
                TokenSet::default()
            });
            let mut current = tokens.write().unwrap_or_else(PoisonError::into_inner);
            if *current != now {
                tracing::info!(
                    tokens = now.tokens.len(),
                    "tokens file {} read again",
                    path.display()
                );
                *current = now;
            }
        })
        .map_err(|e| GateError::Watch(path.to_owned(), e.to_string()))?;
        Ok(Gate {
            tokens,
            session,
            secure,
            _watch: watch,
        })
    }

    fn tokens(&self) -> std::sync::RwLockReadGuard<'_, TokenSet> {
        self.tokens.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn admits(&self, headers: &HeaderMap, now: i64) -> Admission {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
            return match token.map(|t| self.tokens().verify(t.trim()).is_some()) {
                Some(true) => Admission::Token,
                _ => Admission::WrongToken,
            };
        }
        match session_cookie(headers) {
            Some(cookie) if self.session_name(cookie, now).is_some() => Admission::Session,
            _ => Admission::Nothing,
        }
    }

    /// A new session for the token `presented`, if it is one: the cookie's value.
    fn sign_in(&self, presented: &str, now: i64) -> Option<String> {
        let tokens = self.tokens();
        let entry = tokens.verify(presented)?;
        let expires = now.saturating_add(i64::try_from(self.session.as_secs()).unwrap_or(i64::MAX));
        let mac = session_mac(&tokens, &entry.name, expires)?;
        Some(format!(
            "{}.{expires}.{}",
            entry.name,
            hex(&mac.finalize().into_bytes())
        ))
    }

    /// The name of the token behind a session cookie still valid at `now`.
    fn session_name(&self, cookie: &str, now: i64) -> Option<String> {
        let mut parts = cookie.rsplitn(3, '.');
        let (mac, expires, name) = (parts.next()?, parts.next()?, parts.next()?);
        let expires: i64 = expires.parse().ok()?;
        if expires <= now {
            return None;
        }
        let tokens = self.tokens();
        let expected = session_mac(&tokens, name, expires)?;
        expected.verify_slice(&digest_of_hex(mac)?).ok()?;
        Some(name.to_owned())
    }

    fn cookie(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("candela_session=; Max-Age=0"))
    }
}

/// Flight SQL's clients sign in with the same tokens, as bearer tokens.
impl candela_flight::Tokens for Gate {
    fn accepts(&self, token: &str) -> bool {
        self.tokens().verify(token).is_some()
    }
}

/// The MAC of a session of token `name` until `expires`, ready to finalise
/// or verify; none when no such token (or no session key) is in the file.
fn session_mac(tokens: &TokenSet, name: &str, expires: i64) -> Option<Hmac<Sha256>> {
    let key = tokens.session_key()?;
    let entry = tokens.named(name)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{name}.{expires}.{}", entry.sha256).as_bytes());
    Some(mac)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The gate as middleware: a request without a valid token or session gets
/// 401, as JSON under `/api/`, else the sign-in page.
pub async fn require(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if OPEN_PATHS.contains(&path) {
        return next.run(request).await;
    }
    let api = path.starts_with("/api/");
    match gate.admits(request.headers(), now()) {
        Admission::Token | Admission::Session => next.run(request).await,
        Admission::WrongToken => unauthorized(
            "that token is not one of this server's; check it, or make one with `candela token new NAME`",
        ),
        Admission::Nothing if api => unauthorized(
            "sign-in required: send `Authorization: Bearer TOKEN` (candela token new NAME makes one)",
        ),
        Admission::Nothing => {
            let asked = request.uri().path_and_query().map_or("/", |p| p.as_str());
            sign_in_page(StatusCode::UNAUTHORIZED, "", asked)
        }
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"candela\""),
    );
    response
}

/// The sign-in page saying `message`, which goes on to `next` once signed in.
fn sign_in_page(status: StatusCode, message: &str, next: &str) -> Response {
    let escaped = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = SIGN_IN_PAGE
        .replace("{message}", &escaped(message))
        .replace("{next}", &escaped(local_path(next)));
    (status, Html(page)).into_response()
}

/// `next` if it is a path of this server, else `/`: a sign-in never sends
/// the browser to another site.
fn local_path(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local { next } else { "/" }
}

/// The sign-in form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct SignIn {
    token: String,
    /// Where to go once signed in (a path of this server).
    #[serde(default)]
    next: String,
}

/// Where the sign-in page goes after: `?next=`.
#[derive(Debug, serde::Deserialize)]
pub struct AfterSignIn {
    #[serde(default)]
    next: String,
}

/// `GET /signin`: the page, while sign-in is on.
pub async fn page(State(state): State<AppState>, Query(after): Query<AfterSignIn>) -> Response {
    match state.gate {
        Some(_) => sign_in_page(StatusCode::OK, "", &after.next),
        None => Redirect::to("/").into_response(),
    }
}

/// `POST /signin`: a valid token gets a session cookie and goes to the chart.
pub async fn sign_in(
    State(state): State<AppState>,
    axum::Form(form): axum::Form<SignIn>,
) -> Response {
    let Some(gate) = &state.gate else {
        return Redirect::to("/").into_response();
    };
    let Some(session) = gate.sign_in(form.token.trim(), now()) else {
        tracing::warn!("a sign-in with a token that is not one of this server's");
        return sign_in_page(
            StatusCode::UNAUTHORIZED,
            "That token is not one of this server's.",
            &form.next,
        );
    };
    let mut response = Redirect::to(local_path(&form.next)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        gate.cookie(&session, gate.session.as_secs()),
    );
    response
}
