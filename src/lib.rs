//! frontdesk: a self-hosted help desk daemon.
//!
//! # Layout
//! - [`config`]: TOML file to a validated [`config::Config`]; every problem reported with file, line and key.
//! - [`model`]: ids and small enums shared by every layer.
//! - [`ingest`]: pure decisions over one message: parse, classify, forward detection, threading.
//! - [`store`]: the only module with SQL: migrations, the group-commit writer thread, read queries.
//! - [`channels`]: ingress edges; [`channels::lmtp`] is the RFC 2033 listener.
//! - [`control`]: the JSON-lines control socket (protocol, server, client) used by `frontdeskctl`.
//! - [`web`]: the HTTP listener (`/healthz` for now).
//! - [`daemon`]: wiring only: store, listeners, signals, sd_notify, shutdown.

pub mod auth;
pub mod channels;
pub mod config;
pub mod control;
pub mod daemon;
pub mod desk;
pub mod ingest;
pub mod logging;
pub mod model;
pub mod outbound;
pub mod pipeline;
pub mod store;
pub mod tls;
pub mod web;
