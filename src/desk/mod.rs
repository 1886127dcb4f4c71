//! Help desk rules that are decisions over plain values: routing, ticket lifecycle,
//! tags, snoozes, subjects, mentions, spam domains and agents' notifications.

pub mod lifecycle;
pub mod mentions;
pub mod notify;
pub mod routing;
pub mod snooze;
pub mod spam;
pub mod subject;
pub mod tags;
