//! Who gets a new ticket (pure).
//!
//! A channel's rule names a mode and a pool. An agent is *eligible* when active, with a
//! seat, in the pool (listed, or in a listed team) and — when `available_only` — available.
//! - `nobody`: tickets stay unassigned.
//! - `users_and_teams`: the eligible agent with the fewest open tickets; ties go
//!   round-robin: the first tied agent (by address) after the one assigned last on this
//!   channel, wrapping around.
//! - `contact_owner`: the contact's owner when they are active, with a seat and (when
//!   `available_only`) available; otherwise the `users_and_teams` choice over the listed
//!   pool if the rule lists any; otherwise unassigned.
//!
//! No eligible agent means unassigned, never an error.

use serde::{Deserialize, Serialize};

/// How a channel routes new tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// Leave unassigned.
    Nobody,
    /// Balance over listed users and teams.
    UsersAndTeams,
    /// The contact's owner first.
    ContactOwner,
}

/// A channel's routing rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    /// Mode.
    pub mode: RoutingMode,
    /// Listed agents (addresses).
    pub users: Vec<String>,
    /// Listed teams.
    pub teams: Vec<String>,
    /// Only available agents.
    pub available_only: bool,
}

impl Default for RoutingRule {
    fn default() -> Self {
        RoutingRule {
            mode: RoutingMode::Nobody,
            users: Vec::new(),
            teams: Vec::new(),
            available_only: true,
        }
    }
}

/// What routing needs to know about one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    /// Address.
    pub email: String,
    /// Not deactivated.
    pub active: bool,
    /// Has a seat.
    pub seat: bool,
    /// Available now.
    pub available: bool,
    /// Open tickets they own.
    pub open_tickets: u32,
    /// Their teams.
    pub teams: Vec<String>,
}

fn can_take(agent: &AgentState, available_only: bool) -> bool {
    agent.active && agent.seat && (!available_only || agent.available)
}

fn in_pool(agent: &AgentState, rule: &RoutingRule) -> bool {
    rule.users
        .iter()
        .any(|u| u.eq_ignore_ascii_case(&agent.email))
        || agent
            .teams
            .iter()
            .any(|t| rule.teams.iter().any(|r| r.eq_ignore_ascii_case(t)))
}

/// The fewest-open, round-robin choice among eligible pool members.
fn balance<'a>(
    rule: &RoutingRule,
    agents: &'a [AgentState],
    last_assigned: Option<&str>,
) -> Option<&'a AgentState> {
    let mut pool: Vec<&AgentState> = agents
        .iter()
        .filter(|a| in_pool(a, rule) && can_take(a, rule.available_only))
        .collect();
    let fewest = pool.iter().map(|a| a.open_tickets).min()?;
    pool.retain(|a| a.open_tickets == fewest);
    pool.sort_by(|a, b| a.email.cmp(&b.email));
    let after = last_assigned.and_then(|last| pool.iter().position(|a| a.email.as_str() > last));
    match (last_assigned, after) {
        (Some(_), Some(i)) => Some(pool[i]),
        _ => pool.first().copied(),
    }
}

/// Why routing picked an agent (recorded in the ticket's event log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteReason {
    /// The contact's owner.
    ContactOwner,
    /// The eligible agent with the fewest open tickets (round-robin among ties).
    FewestOpen,
}

impl RouteReason {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteReason::ContactOwner => "contact owner",
            RouteReason::FewestOpen => "fewest open tickets",
        }
    }
}

/// The agent a new ticket goes to, if any, and why.
pub fn route_with_reason(
    rule: &RoutingRule,
    agents: &[AgentState],
    contact_owner: Option<&str>,
    last_assigned: Option<&str>,
) -> Option<(String, RouteReason)> {
    let balanced =
        || balance(rule, agents, last_assigned).map(|a| (a.email.clone(), RouteReason::FewestOpen));
    match rule.mode {
        RoutingMode::Nobody => None,
        RoutingMode::UsersAndTeams => balanced(),
        RoutingMode::ContactOwner => {
            let owner =
                contact_owner.and_then(|o| agents.iter().find(|a| a.email.eq_ignore_ascii_case(o)));
            match owner {
                Some(a) if can_take(a, rule.available_only) => {
                    Some((a.email.clone(), RouteReason::ContactOwner))
                }
                _ if rule.users.is_empty() && rule.teams.is_empty() => None,
                _ => balanced(),
            }
        }
    }
}

/// The agent a new ticket goes to, if any.
pub fn route(
    rule: &RoutingRule,
    agents: &[AgentState],
    contact_owner: Option<&str>,
    last_assigned: Option<&str>,
) -> Option<String> {
    route_with_reason(rule, agents, contact_owner, last_assigned).map(|(email, _)| email)
}

#[cfg(test)]
mod tests;
