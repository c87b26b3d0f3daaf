//! What every bankmkt service shares. A service binary is: [`settings`] → [`telemetry`] →
//! [`db::connect`] + migrate → bind → [`serve::serve_grpc`] until [`shutdown`].
//!
//! Layout:
//! - [`bootstrap`]: the start-up steps every binary shares, and a standalone service `main`.
//! - [`settings`]: typed, layered configuration (defaults, file, `BANKMKT_*`), every bad key at once.
//! - [`telemetry`]: tracing subscriber, OTLP export, W3C trace-context propagation.
//! - [`metrics`]: the process-wide Prometheus registry and `/metrics`.
//! - [`auth`]: JWT verification and minting, the typed [`auth::Caller`].
//! - [`stack`]: the tower stack on every port (request id, span + metrics, auth, load shedding, deadline).
//! - [`serve`]: one gRPC port with health and reflection, drained on shutdown.
//! - [`shutdown`]: SIGTERM / Ctrl-C handling and a programmatic trigger.
//! - [`clock`]: the current instant and business date, controllable in tests.
//! - [`client`]: outbound channels that forward the end user's identity and the trace context.
//! - [`db`]: connect (SQLite WAL or Postgres schema) and migrate; [`migrations`] holds the shared tables.
//! - [`outbox`], [`idempotency`], [`audit`]: the shared tables' one API; [`trail`] writes a
//!   change's audit entry and outbox event together.
//! - [`status`]: rich gRPC errors (field violations, preconditions, conflicts); [`paging`]: keyset page tokens.
//! - [`pii`]: encryption at rest (AES-GCM with key ids) and blind indexes for personal data.
//! - [`cache`]: the cache trait, its Redis and in-process backends, and read-through use.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod client;
pub mod clock;
pub mod db;
pub mod idempotency;
pub mod metrics;
pub mod migrations;
pub mod outbox;
pub mod paging;
pub mod pii;
pub mod serve;
pub mod settings;
pub mod shutdown;
pub mod stack;
pub mod status;
pub mod telemetry;
pub mod trail;

pub use auth::Caller;
pub use settings::{ServiceKind, Settings};
