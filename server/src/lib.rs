//! Candela's server: the HTTP API and embedded web UI over the core engine,
//! configuration and the command line.

pub mod api;
pub mod app;
pub mod budget;
pub mod config;
pub mod error;
pub mod http_policy;
pub mod import;
mod json_stream;
mod runs_api;
pub mod sample_data;
pub mod sample_runs;
pub mod serve;
mod sql_api;
mod time_param;
mod web;
