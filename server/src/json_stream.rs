//! Answers computed on the work pool and written as JSON while they are
//! serialised: chunks stream to the client as they are encoded, so that no
//! answer is ever held whole, and the work stops as soon as the client goes
//! away — before computing, between steps, or while encoding.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// Bytes encoded before they are handed to the connection.
pub const CHUNK_BYTES: usize = 64 << 10;

/// Chunks encoded ahead of what the client has taken: the most a slow
/// client makes the server hold.
pub const CHUNKS_AHEAD: usize = 4;

/// Whether the client still waits for the answer; work in progress asks it
/// between steps.
#[derive(Debug)]
pub struct Client<'a>(&'a oneshot::Sender<Result<(), ApiError>>);

impl Client<'_> {
    pub fn gone(&self) -> bool {
        self.0.is_closed()
    }
}

/// Runs `work` on the blocking pool and answers what it returns as JSON
/// written as it is encoded, or its error with the error's status.
pub async fn answer<T, F>(work: F) -> Result<Response, ApiError>
where
    T: Serialize,
    F: FnOnce(&Client<'_>) -> Result<T, ApiError> + Send + 'static,
{
    let (head, head_ready) = oneshot::channel();
    let (chunks, body) = mpsc::channel(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let value = match work(&Client(&head)) {
            Ok(value) => value,
            Err(error) => {
                let _ = head.send(Err(error));
                return;
            }
        };
        if head.send(Ok(())).is_err() {
            return;
        }
        let mut writer = ChunkWriter {
            chunks,
            chunk: Vec::with_capacity(CHUNK_BYTES),
        };
        let written = serde_json::to_writer(&mut writer, &value)
            .map_err(io::Error::from)
            .and_then(|()| writer.flush());
        if let Err(e) = written {
            // The client left, or the answer could not be encoded: the body
            // ends in an error, so that no client takes it for a whole one.
            tracing::debug!("answer not sent whole: {e}");
            let _ = writer.chunks.blocking_send(Err(e));
        }
    });
    head_ready
        .await
        .map_err(|_| ApiError::internal("the task computing the answer ended without one"))??;
    // Fused: the body may be polled again once it has ended.
    let stream = futures::StreamExt::fuse(futures::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    }));
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Encoded bytes, handed on a chunk at a time; writing fails once the
/// client has gone.
struct ChunkWriter {
    chunks: mpsc::Sender<Result<Bytes, io::Error>>,
    chunk: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_BYTES));
        self.chunks
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client has gone"))
    }
}
