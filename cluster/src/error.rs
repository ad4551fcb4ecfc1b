/// What went wrong starting a cluster, or reaching one.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "{0:?} is not a scheduler address: write df://HOST:PORT (the scheduler's gRPC port, 50050 by default)"
    )]
    BadScheduler(String),
    #[error("cannot reach the Ballista scheduler at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot start {what}: {reason}")]
    Start { what: &'static str, reason: String },
}
