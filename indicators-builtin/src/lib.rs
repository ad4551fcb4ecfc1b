//! Candela's built-in technical indicators. They register themselves with the core's
//! indicator registry; the registry and the eleven built-ins arrive with the
//! indicator engine (issue #3), so this crate is empty for now.
