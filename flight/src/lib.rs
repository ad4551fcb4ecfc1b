//! Arrow Flight SQL in front of Candela's read-only SQL engine, so that ADBC
//! and JDBC drivers and database tools reach the same tables, limits and
//! errors as `/api/sql`, in Arrow all the way.
//!
//! Everything is arrow-flight's [`FlightSqlService`]; what is Candela's own
//! is small: the service over [`SqlService`] (`service.rs`), the handles a
//! client holds between calls, which carry the query and its parameters so
//! that any replica can answer the next call (`handle.rs`), and the mapping
//! of [`candela_sql::SqlError`] to status codes (`status.rs`). Sign-in is a
//! bearer token checked on every call ([`Tokens`]).
//!
//! [`FlightSqlService`]: arrow_flight::sql::server::FlightSqlService
//! [`SqlService`]: candela_sql::SqlService

mod handle;
mod service;
mod status;

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Status};

pub use service::FlightSql;

/// Why the Flight SQL listener stopped.
pub type ServeError = tonic::transport::Error;

/// The tokens a client may sign in with: the HTTP API's.
pub trait Tokens: Send + Sync + 'static {
    /// Whether `token` (the part after `Bearer `) is one of them.
    fn accepts(&self, token: &str) -> bool;
}

/// Serves `flight` on `listener` until `shutdown` completes. With `tokens`,
/// every call must carry `authorization: Bearer TOKEN` with one of them.
pub async fn serve(
    listener: tokio::net::TcpListener,
    flight: FlightSql,
    tokens: Option<Arc<dyn Tokens>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let service =
        FlightServiceServer::with_interceptor(flight, move |request: Request<()>| match &tokens {
            Some(tokens) => signed_in(tokens.as_ref(), request),
            None => Ok(request),
        });
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}

fn signed_in(tokens: &dyn Tokens, request: Request<()>) -> Result<Request<()>, Status> {
    let presented = request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if tokens.accepts(token.trim()) => Ok(request),
        Some(_) => Err(Status::unauthenticated(
            "the token is not one of the server's tokens file (revoked, or mistyped)",
        )),
        None => Err(Status::unauthenticated(
            "sign-in is on: send the header authorization: Bearer TOKEN \
             (ADBC: db_kwargs adbc.flight.sql.authorization_header); \
             make a token with `candela token new NAME`",
        )),
    }
}
