//! Ingress edges: each turns its input into an [`crate::ingest::Inbound`] and hands it to
//! [`crate::daemon::Ingestor`].

pub mod imap;
pub mod lmtp;
pub mod status;
