//! A query's error as a Flight status: the code a driver maps to its own
//! error class, the message `/api/sql` gives, and in the metadata the same
//! stable code (`candela-code`) and, for a parse or plan error, where in the
//! query (`candela-line`, `candela-column`).

use candela_sql::SqlError;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

pub(crate) fn of_sql(error: &SqlError) -> Status {
    let code = match error {
        SqlError::Refused(_) => Code::PermissionDenied,
        SqlError::Invalid { .. } | SqlError::Failed(_) => Code::InvalidArgument,
        SqlError::Indicator(_) if error.is_client_error() => Code::InvalidArgument,
        SqlError::TimeLimit(_) => Code::DeadlineExceeded,
        SqlError::MemoryLimit { .. } | SqlError::OutputLimit(_) => Code::ResourceExhausted,
        SqlError::Busy(_) => Code::Unavailable,
        SqlError::Indicator(_) | SqlError::Internal(_) => Code::Internal,
    };
    let mut metadata = MetadataMap::new();
    metadata.insert("candela-code", MetadataValue::from_static(error.code()));
    if let Some(position) = error.position() {
        metadata.insert("candela-line", position.line.into());
        metadata.insert("candela-column", position.column.into());
    }
    Status::with_metadata(code, error.to_string(), metadata)
}
