//! Help desk rules that are decisions over plain values: routing, ticket lifecycle,
//! tags, snoozes and subjects.

pub mod lifecycle;
pub mod routing;
pub mod snooze;
pub mod subject;
pub mod tags;
