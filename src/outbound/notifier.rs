//! The notifier: turns agents' due notifications into one mail per agent in the outbox.
//!
//! The store writes a notification in the transaction of the change it tells about;
//! this task waits `[notifications] delay_seconds`, drops those made moot meanwhile (the
//! agent read the ticket, it changed hands), and swaps the rest for queued mail in one
//! transaction, so each is mailed once even across a crash. Without `[notifications]`
//! it only clears them away now and then.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::new_message_id;
use super::notice::{compose_notice, Notice, NoticeInput};
use crate::config::Config;
use crate::model::unix_now;
use crate::pipeline::Pipeline;
use crate::store::{DueNotice, NoticeMail, StoreError};

/// Most notifications read at once.
const READ: u32 = 500;
/// Longest sleep when nothing is pending, so a missed wake-up is noticed.
const IDLE_WAKE: i64 = 60;
/// How often pending notifications are cleared away when none are mailed.
const SWEEP_EVERY: i64 = 600;

/// Where agents open the desk, for links: `[http] public_url`, else the listener's
/// own address (the host name when it listens on every address).
pub fn base_url(config: &Config, http_listen: Option<SocketAddr>) -> String {
    if let Some(url) = &config.http.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let scheme = if config.http.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let addr = http_listen.unwrap_or(config.http.listen);
    let host = if addr.ip().is_unspecified() {
        crate::daemon::hostname()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("{scheme}://{host}:{}", addr.port())
}

/// Run until `shutdown`. `http_listen` is the bound web address (for links).
pub async fn run(pipeline: Pipeline, http_listen: Option<SocketAddr>, shutdown: CancellationToken) {
    let mut changes = pipeline.subscribe_changes();
    let mut last_sweep = 0;
    loop {
        let config = pipeline.config();
        let now = unix_now();
        let wait = match &config.notifications {
            None if now - last_sweep >= SWEEP_EVERY => {
                last_sweep = now;
                if let Err(e) = handle_due(&pipeline, &config, http_listen, now).await {
                    log::warn!("cannot clear agents' notifications: {e}");
                }
                SWEEP_EVERY
            }
            None => SWEEP_EVERY - (now - last_sweep),
            Some(n) => {
                let delay = n.delay.as_secs() as i64;
                match pipeline.store().read(|r| r.oldest_notice()).await {
                    Ok(Some(oldest)) if oldest + delay <= now => {
                        match handle_due(&pipeline, &config, http_listen, now - delay).await {
                            Ok(()) => continue,
                            Err(e) => {
                                // Not in a tight loop: try again in a while.
                                log::warn!("cannot mail agents' notifications: {e}");
                                5
                            }
                        }
                    }
                    Ok(Some(oldest)) => (oldest + delay - now).min(IDLE_WAKE),
                    Ok(None) => IDLE_WAKE,
                    Err(e) => {
                        log::warn!("cannot read agents' notifications: {e}");
                        5
                    }
                }
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            // Any committed change may have written a notification (lagging behind
            // many changes is the same as hearing of one).
            _ = changes.recv() => {}
            _ = tokio::time::sleep(Duration::from_secs(wait.max(1) as u64)) => {}
        }
    }
}

/// Mail (or, without `[notifications]`, just forget) every notification created at or
/// before `due_by`.
async fn handle_due(
    pipeline: &Pipeline,
    config: &Config,
    http_listen: Option<SocketAddr>,
    due_by: i64,
) -> Result<(), StoreError> {
    let store = pipeline.store();
    loop {
        let due = store.read(move |r| r.due_notices(due_by, READ)).await?;
        if due.is_empty() {
            return Ok(());
        }
        let done: Vec<i64> = due.iter().map(|n| n.id).collect();
        let full = due.len() == READ as usize;
        let mails = match (&config.notifications, &config.smtp) {
            (Some(_), Some(_)) => mails_for(config, &base_url(config, http_listen), due),
            _ => Vec::new(),
        };
        let queued = store.queue_notices(done, mails).await?;
        if queued > 0 {
            log::info!("queued {queued} notification mail(s) to agents");
            pipeline.kick_outbox();
        }
        if !full {
            return Ok(());
        }
    }
}

/// One mail per agent for the notifications that still tell them something.
fn mails_for(config: &Config, base_url: &str, due: Vec<DueNotice>) -> Vec<NoticeMail> {
    let (Some(settings), Some(relay)) = (&config.notifications, &config.smtp) else {
        return Vec::new();
    };
    let mut order: Vec<String> = Vec::new();
    let mut by_agent: HashMap<String, (String, Vec<Notice>)> = HashMap::new();
    for d in due.into_iter().filter(|d| !d.moot) {
        let entry = by_agent.entry(d.email.clone()).or_insert_with(|| {
            order.push(d.email.clone());
            (d.name.clone(), Vec::new())
        });
        entry.1.push(Notice::of(&d));
    }
    let now = unix_now();
    let mut mails = Vec::new();
    for email in order {
        let Some((name, notices)) = by_agent.remove(&email) else {
            continue;
        };
        let message_id = new_message_id(&settings.from, now);
        let composed = compose_notice(&NoticeInput {
            to: &email,
            to_name: &name,
            from: &settings.from,
            from_name: &settings.from_name,
            base_url,
            notices: &notices,
            message_id: &message_id,
            now,
        });
        match composed {
            Ok(raw) => mails.push(NoticeMail {
                ticket: notices[0].ticket,
                mail_from: settings.from.clone(),
                recipient: email,
                raw,
                max_queue_seconds: relay.max_queue.as_secs() as i64,
            }),
            // Dropped with the rest of this batch: retrying would fail the same way.
            Err(e) => log::error!("cannot build the notification mail to {email}: {e}"),
        }
    }
    mails
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(http: &str) -> Config {
        let text = format!(
            "[daemon]\ndata_dir = \"d\"\ncompany_name = \"Acme\"\n[http]\n{http}\n\
             [[channel]]\nkind = \"email\"\nname = \"s\"\naddress = \"s@example.com\"\n"
        );
        Config::parse(std::path::Path::new("t.toml"), &text).unwrap()
    }

    #[test]
    fn links_use_the_public_url_without_its_trailing_slash() {
        let c = config("listen = \"127.0.0.1:8025\"\npublic_url = \"https://desk.acme.test/\"");
        assert_eq!(base_url(&c, None), "https://desk.acme.test");
    }

    #[test]
    fn without_a_public_url_links_use_the_bound_address() {
        let c = config("listen = \"127.0.0.1:0\"");
        let bound: SocketAddr = "127.0.0.1:40123".parse().unwrap();
        assert_eq!(base_url(&c, Some(bound)), "http://127.0.0.1:40123");
        let v6: SocketAddr = "[::1]:8025".parse().unwrap();
        assert_eq!(base_url(&c, Some(v6)), "http://[::1]:8025");
    }

    #[test]
    fn listening_everywhere_links_use_the_host_name() {
        let c = config("listen = \"0.0.0.0:8025\"");
        assert_eq!(
            base_url(&c, None),
            format!("http://{}:8025", crate::daemon::hostname())
        );
    }
}
