//! Help desk rules that are decisions over plain values: routing, ticket lifecycle and
//! tags.

pub mod lifecycle;
pub mod routing;
pub mod tags;
