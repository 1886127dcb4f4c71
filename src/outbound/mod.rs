//! Outgoing mail: templates and composition (pure), the durable outbox and its
//! SMTP worker.

pub mod compose;
pub mod template;
