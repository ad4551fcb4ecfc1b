//! The HTTP API, one module per route family. Handlers are thin: they parse
//! parameters, ask the engine, and shape the answer as `docs/api.md`
//! specifies. Families share only [`crate::state`] and [`crate::error`];
//! `stream` is the live side of `data` and `runs`, and answers as they do.

pub mod catalog;
pub mod compare;
pub mod data;
pub mod health;
pub mod openapi;
pub mod runs;
pub mod sql;
pub mod stream;
