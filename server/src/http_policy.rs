//! What a request must be before a handler sees it, and what every answer
//! carries:
//!
//! - addressed to this server: its `Host` is an IP address, a loopback name
//!   or a name the settings allow, so that a page on another domain cannot
//!   read the API by re-pointing its own name at this machine (DNS rebinding);
//! - for the API, sent by no page or by the server's own: a request a page of
//!   another site made (`Sec-Fetch-Site`, else `Origin`) is refused before it
//!   costs anything, while scripts, curl and pandas, which send neither, are
//!   served;
//! - answered with a `Content-Security-Policy` that lets the page load
//!   scripts, styles and data from its own origin only and be framed by
//!   nobody, `nosniff` and no referrer.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::web;

/// What the router asks of every request.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    pub hosts: HostAllowlist,
    /// Time a request has until its answer starts (a long answer may take
    /// longer to send).
    pub request_timeout: Duration,
    /// Largest request body (a `POST /api/sql`).
    pub max_body_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            hosts: HostAllowlist::default(),
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 1 << 20,
        }
    }
}

/// The host names requests may be addressed to.
#[derive(Debug, Clone)]
pub struct HostAllowlist {
    any: bool,
    /// Lower case, without a port or a trailing dot.
    names: Arc<[String]>,
}

impl Default for HostAllowlist {
    /// IP addresses and loopback names only.
    fn default() -> Self {
        HostAllowlist::new(&[])
    }
}

impl HostAllowlist {
    /// IP addresses, `localhost` (and its subdomains), and `names`; `"*"`
    /// among them allows any host (behind a proxy that checks it).
    pub fn new(names: &[String]) -> HostAllowlist {
        HostAllowlist {
            any: names.iter().any(|n| n == "*"),
            names: names.iter().map(|n| normalised(n)).collect(),
        }
    }

    /// Whether a request whose `Host` header is `host` is for this server.
    /// A name can be re-pointed by whoever owns it; an address cannot.
    pub fn allows(&self, host: &str) -> bool {
        let name = normalised(host_name(host));
        let name = name.as_str();
        self.any
            || name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.names.iter().any(|allowed| *allowed == name)
    }
}

/// `host` without its port (`[::1]:5000` → `::1`, `example.org:80` →
/// `example.org`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn normalised(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Refuses a request addressed to a host the allowlist does not name. A
/// request without `Host` (HTTP/1.0, or in-process) has no name to re-point.
pub async fn check_host(
    State(allowlist): State<HostAllowlist>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    match host {
        Some(host) if !allowlist.allows(host) => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "host_not_allowed",
            format!(
                "this server does not answer requests for host '{}'; reach it by its address \
                 or localhost, or add the name to allowed_hosts in the [http] settings",
                host.chars().take(64).collect::<String>()
            ),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Refuses an API request, or a sign-in, that a page of another site made
/// (a sign-in it posted would put the browser in the other site's session).
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let guarded =
        path.starts_with("/api/") || (path == "/signin" && request.method() == Method::POST);
    if guarded && made_by_another_site(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_refused",
            "the API and the sign-in form answer this server's own page, and programs that are \
             not web pages; a page of another site cannot use them",
        )
        .into_response();
    }
    next.run(request).await
}

/// Browsers say where a request comes from in `Sec-Fetch-Site`; older ones
/// only send `Origin`, which must then be this server's own.
fn made_by_another_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match text("sec-fetch-site") {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
            (Some(origin), Some(host)) => {
                let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
                !origin_host.eq_ignore_ascii_case(host)
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
    }
}

/// The policy of every answer: the page's own scripts (and the hashes of
/// its inline ones), styles and data only; never framed.
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hashes = |sources: Vec<String>| {
        sources
            .iter()
            .map(|s| format!(" 'sha256-{s}'"))
            .collect::<String>()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self'{}; style-src 'self'{}; img-src 'self' data: blob:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        hashes(web::inline_script_hashes()),
        hashes(web::inline_style_hashes()),
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
});

/// Adds the security headers to every answer.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY.clone(),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_allowed_by_address_loopback_name_or_setting() {
        let default = HostAllowlist::default();
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "LOCALHOST:5000",
            "[::1]:5000",
            "192.168.1.20:5000",
            "app.localhost:5000",
        ] {
            assert!(default.allows(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:5000",
            "localhost.evil.example",
            "",
        ] {
            assert!(!default.allows(host), "{host}");
        }
        let named = HostAllowlist::new(&["charts.internal".into()]);
        assert!(named.allows("Charts.Internal.:443"));
        assert!(HostAllowlist::new(&["*".into()]).allows("evil.example"));
    }

    #[test]
    fn requests_of_other_sites_are_told_from_programs_and_the_own_page() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert!(!made_by_another_site(&headers(&[])));
        assert!(!made_by_another_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!made_by_another_site(&headers(&[(
            "sec-fetch-site",
            "none"
        )])));
        assert!(made_by_another_site(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(made_by_another_site(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(!made_by_another_site(&headers(&[
            ("origin", "http://localhost:5000"),
            ("host", "localhost:5000")
        ])));
        assert!(made_by_another_site(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "localhost:5000")
        ])));
    }
}
