//! Help desk rules that are decisions over plain values: routing and ticket lifecycle.

pub mod lifecycle;
pub mod routing;
