//! The LMTP listener (RFC 2033): an MTA hands mail over; 250 only after the commit.

pub mod proto;
mod session;

pub use session::serve;
