//! Candela's server: the HTTP API and embedded web UI over the core engine,
//! configuration and the command line.

pub mod app;
pub mod as_of;
pub mod auth;
pub mod budget;
pub mod config;
pub mod error;
pub mod http_policy;
pub mod import;
mod json_stream;
pub mod live;
pub mod routes;
pub mod sample_data;
pub mod sample_runs;
pub mod serve;
pub mod state;
mod time_param;
pub mod tls;
mod web;
