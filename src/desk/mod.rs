//! Help desk rules that are decisions over plain values: routing, ticket lifecycle,
//! tags, snoozes, subjects, mentions, spam domains, agents' notifications, answer targets,
//! customers' ratings of replies, closing tickets left waiting, rules for new tickets,
//! macros agents apply by hand, the fields a desk records about each ticket and the
//! search box's filters.

pub mod auto_close;
pub mod contact_import;
pub mod lifecycle;
pub mod macros;
pub mod mentions;
pub mod notify;
pub mod ratings;
pub mod reports;
pub mod routing;
pub mod rules;
pub mod search;
pub mod sla;
pub mod snooze;
pub mod spam;
pub mod subject;
pub mod tags;
pub mod ticket_fields;
