//! Delivering outbox entries to the relay with mail-send, one connection reused for
//! a run of messages.

use std::time::Duration;

use mail_send::smtp::message::Parameters;
use mail_send::{SmtpClient, SmtpClientBuilder};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::{SmtpConfig, TlsMode};
use crate::store::OutboxItem;

/// How one delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the relay for at least one recipient: its reply, and the recipients
    /// it refused (address, the server's words), which the ticket is told about.
    Sent(String, Vec<(String, String)>),
    /// Try again later (4xx, network, TLS, authentication).
    Temporary(String),
    /// The relay refused it for good (5xx).
    Permanent(String),
}

/// Classify a mail-send error: 5xx replies are permanent, everything else temporary.
pub fn classify_error(e: &mail_send::Error) -> Delivery {
    match e {
        mail_send::Error::UnexpectedReply(r) if (500..600).contains(&r.code) => {
            Delivery::Permanent(format!("{} {}", r.code, r.message))
        }
        mail_send::Error::UnexpectedReply(r) => {
            Delivery::Temporary(format!("{} {}", r.code, r.message))
        }
        other => Delivery::Temporary(other.to_string()),
    }
}

/// One message: MAIL FROM, a RCPT per recipient (a refused Cc does not stop the
/// rest), DATA when anyone was accepted.
async fn send_one<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    item: &OutboxItem,
) -> Delivery {
    let none = Parameters::default();
    if let Err(e) = client.mail_from(&item.mail_from, &none).await {
        return classify_error(&e);
    }
    let mut accepted = 0;
    let mut refused: Vec<(String, Delivery)> = Vec::new();
    for rcpt in &item.recipients {
        match client.rcpt_to(rcpt, &none).await {
            Ok(()) => accepted += 1,
            Err(e) => refused.push((rcpt.clone(), classify_error(&e))),
        }
    }
    if accepted == 0 {
        // Everyone refused: temporary if any refusal was, so it is tried again.
        let temporary = refused
            .iter()
            .find(|(_, d)| matches!(d, Delivery::Temporary(_)));
        return match temporary.or(refused.first()) {
            Some((_, d)) => d.clone(),
            None => Delivery::Permanent("no recipients".into()),
        };
    }
    match client.data(item.raw.as_slice()).await {
        Ok(reply) => Delivery::Sent(
            format!("{} {}", reply.code, reply.message),
            refused
                .into_iter()
                .map(|(r, d)| {
                    let words = match d {
                        Delivery::Temporary(w) | Delivery::Permanent(w) => w,
                        Delivery::Sent(w, _) => w,
                    };
                    (r, words)
                })
                .collect(),
        ),
        Err(e) => classify_error(&e),
    }
}

/// Items waiting in a delivery round, shared by its connections.
pub type Queue = std::sync::Mutex<std::collections::VecDeque<OutboxItem>>;

fn next(queue: &Queue) -> Option<OutboxItem> {
    queue.lock().ok()?.pop_front()
}

/// Send items taken from `queue` over one connection until it is empty, reporting each
/// result on `done` as soon as the relay answers. Returns why the connection could not
/// be made, if it could not (the items stay in the queue for the other connections).
async fn send_from<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    queue: &Queue,
    done: &tokio::sync::mpsc::UnboundedSender<(OutboxItem, Delivery)>,
) {
    while let Some(item) = next(queue) {
        let outcome = send_one(client, &item).await;
        if !matches!(outcome, Delivery::Sent(..)) {
            // Leave the session clean for the next message.
            let _ = client.rset().await;
        }
        let broken = matches!(&outcome, Delivery::Temporary(_));
        let _ = done.send((item, outcome));
        if broken {
            // The connection may be gone: leave the rest to the other connections.
            return;
        }
    }
}

/// One connection to `relay`, draining `queue`; `Err` with the reason when it could
/// not connect at all.
pub async fn deliver(
    relay: &SmtpConfig,
    queue: &Queue,
    done: &tokio::sync::mpsc::UnboundedSender<(OutboxItem, Delivery)>,
) -> Result<(), String> {
    let connector = crate::tls::client_connector(relay.ca_file.as_deref())?;
    let mut builder =
        SmtpClientBuilder::new_with_tls_connector(relay.host.clone(), relay.port, connector)
            .implicit_tls(relay.tls == TlsMode::Implicit)
            .helo_host(relay.hello_name.clone())
            .timeout(Duration::from_secs(60));
    if let Some((user, password_file)) = &relay.login {
        let p = std::fs::read_to_string(password_file)
            .map_err(|e| format!("cannot read {}: {e}", password_file.display()))?;
        builder = builder.credentials((user.clone(), p.trim_end_matches(['\r', '\n']).to_string()));
    }
    // A refused connection or greeting is the relay's state, not the message's: retry.
    let failed = |e: mail_send::Error| format!("relay {}:{}: {e}", relay.host, relay.port);
    match relay.tls {
        TlsMode::None => {
            let mut client = builder.connect_plain().await.map_err(failed)?;
            // The body and the final dot are separate writes: without this each
            // message waits for the relay's delayed ACK (~40 ms).
            let _ = client.stream.set_nodelay(true);
            send_from(&mut client, queue, done).await;
            let _ = client.quit().await;
        }
        TlsMode::Implicit | TlsMode::Starttls => {
            let mut client = builder.connect().await.map_err(failed)?;
            let _ = client.stream.get_ref().0.set_nodelay(true);
            send_from(&mut client, queue, done).await;
            let _ = client.quit().await;
        }
    }
    Ok(())
}

/// Seconds to wait before attempt `attempts + 1`: 1, 2, 4 … minutes, at most an hour.
pub fn retry_delay(attempts: i64) -> i64 {
    (60i64 << attempts.clamp(0, 6)).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_to_an_hour() {
        assert_eq!(retry_delay(0), 60);
        assert_eq!(retry_delay(1), 120);
        assert_eq!(retry_delay(5), 1920);
        assert_eq!(retry_delay(6), 3600);
        assert_eq!(retry_delay(40), 3600);
    }

    #[test]
    fn replies_are_classified() {
        let r = |code| {
            mail_send::Error::UnexpectedReply(smtp_proto::Response {
                code,
                esc: [0, 0, 0],
                message: "x".to_string(),
            })
        };
        assert!(matches!(classify_error(&r(550)), Delivery::Permanent(_)));
        assert!(matches!(classify_error(&r(451)), Delivery::Temporary(_)));
        assert!(matches!(
            classify_error(&mail_send::Error::Timeout),
            Delivery::Temporary(_)
        ));
    }
}
