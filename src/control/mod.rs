//! The control socket: JSON lines over a Unix socket, shared by the daemon ([`server`])
//! and `frontdeskctl` ([`client`]).

pub mod client;
pub mod import;
pub mod proto;
pub mod server;
