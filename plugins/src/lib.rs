//! Hosts for WebAssembly and native indicator plugins (issue #4); empty until then.
