//! # sockeye-tests
//!
//! Hosts Sockeye's cross-component and interop tests: the server against the wasm client,
//! and both against the reference JavaScript and Python Socket.IO implementations. Shared
//! helpers (spawning `sockeye-demo`, Redis, RabbitMQ, headless Chromium) will live in this
//! library; the tests themselves under `tests/tests/`.
//!
//! There are no tests here yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
