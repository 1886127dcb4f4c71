//! Help desk rules that are decisions over plain values: routing, ticket lifecycle,
//! tags and snoozes.

pub mod lifecycle;
pub mod routing;
pub mod snooze;
pub mod tags;
