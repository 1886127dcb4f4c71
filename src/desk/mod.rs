//! Help desk rules that are decisions over plain values: routing, ticket lifecycle,
//! tags, snoozes, subjects and mentions.

pub mod lifecycle;
pub mod mentions;
pub mod routing;
pub mod snooze;
pub mod subject;
pub mod tags;
