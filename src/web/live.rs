//! Who is looking at which ticket, for "Jane is viewing / replying" on the ticket page.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

/// One agent on one ticket page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Viewer {
    /// Agent address.
    pub email: String,
    /// Name shown.
    pub name: String,
    /// They focused the reply box.
    pub replying: bool,
}

/// Viewers per ticket, keyed by connection.
#[derive(Default)]
pub struct Presence {
    tickets: Mutex<HashMap<i64, HashMap<u64, Viewer>>>,
    next: Mutex<u64>,
}

impl Presence {
    /// Register a page; the id unregisters it.
    pub fn join(&self, ticket: i64, viewer: Viewer) -> u64 {
        let id = match self.next.lock() {
            Ok(mut n) => {
                *n += 1;
                *n
            }
            Err(_) => 0,
        };
        if let Ok(mut t) = self.tickets.lock() {
            t.entry(ticket).or_default().insert(id, viewer);
        }
        id
    }

    /// The page closed.
    pub fn leave(&self, ticket: i64, id: u64) {
        if let Ok(mut t) = self.tickets.lock() {
            if let Some(v) = t.get_mut(&ticket) {
                v.remove(&id);
                if v.is_empty() {
                    t.remove(&ticket);
                }
            }
        }
    }

    /// An agent started a reply on a ticket.
    pub fn replying(&self, ticket: i64, email: &str) {
        if let Ok(mut t) = self.tickets.lock() {
            if let Some(v) = t.get_mut(&ticket) {
                for viewer in v.values_mut().filter(|v| v.email == email) {
                    viewer.replying = true;
                }
            }
        }
    }

    /// Everyone on a ticket, one entry per agent (replying wins).
    pub fn on(&self, ticket: i64) -> Vec<Viewer> {
        let mut out: Vec<Viewer> = Vec::new();
        if let Ok(t) = self.tickets.lock() {
            for v in t
                .get(&ticket)
                .map(|m| m.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                match out.iter_mut().find(|o| o.email == v.email) {
                    Some(o) => o.replying |= v.replying,
                    None => out.push(v),
                }
            }
        }
        out.sort_by(|a, b| a.email.cmp(&b.email));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_reply_leave() {
        let p = Presence::default();
        let v = |e: &str| Viewer {
            email: e.into(),
            name: e.into(),
            replying: false,
        };
        let a = p.join(1, v("a@x"));
        let b1 = p.join(1, v("b@x"));
        let _b2 = p.join(1, v("b@x"));
        assert_eq!(p.on(1).len(), 2);
        p.replying(1, "b@x");
        assert!(p.on(1).iter().any(|x| x.email == "b@x" && x.replying));
        p.leave(1, a);
        p.leave(1, b1);
        assert_eq!(p.on(1).len(), 1);
        assert!(p.on(2).is_empty());
    }
}
