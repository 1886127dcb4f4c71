//! Delivering outbox entries to the relay with mail-send, one connection reused for
//! a run of messages.

use std::time::Duration;

use std::io::Write as _;

use mail_send::{Credentials, SmtpClient, SmtpClientBuilder};
use smtp_proto::{Response, EXT_PIPELINING};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

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
        mail_send::Error::UnexpectedReply(r) => classify_reply(r),
        other => Delivery::Temporary(other.to_string()),
    }
}

/// A refusing reply as an outcome: 5xx permanent, anything else temporary.
fn classify_reply(r: &Response<String>) -> Delivery {
    let words = format!("{} {}", r.code, r.message);
    if (500..600).contains(&r.code) {
        Delivery::Permanent(words)
    } else {
        Delivery::Temporary(words)
    }
}

fn positive(r: &Response<String>) -> bool {
    (200..300).contains(&r.code)
}

/// What the envelope replies decide before the body is sent: the recipients the relay
/// refused (address, its words), when MAIL and at least one RCPT were accepted; else
/// the outcome. Everyone refused is temporary if any refusal was, so it is tried again.
pub fn judge_envelope(
    mail: &Response<String>,
    rcpts: &[(&str, Response<String>)],
) -> Result<Vec<(String, String)>, Delivery> {
    if !positive(mail) {
        return Err(classify_reply(mail));
    }
    if rcpts.iter().any(|(_, r)| positive(r)) {
        return Ok(rcpts
            .iter()
            .filter(|(_, r)| !positive(r))
            .map(|(a, r)| (a.to_string(), format!("{} {}", r.code, r.message)))
            .collect());
    }
    let refusals: Vec<Delivery> = rcpts.iter().map(|(_, r)| classify_reply(r)).collect();
    Err(refusals
        .iter()
        .find(|d| matches!(d, Delivery::Temporary(_)))
        .or(refusals.first())
        .cloned()
        .unwrap_or_else(|| Delivery::Permanent("no recipients".into())))
}

/// The DATA payload: `raw` with SMTP transparency (a dot that starts a line is
/// doubled, RFC 5321 4.5.2) and the terminating dot line, appended to `out`.
pub fn dot_stuff_into(raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(raw.len() + 5);
    let mut copied = 0;
    for dot in memchr::memchr_iter(b'.', raw) {
        let line_start = dot == 0 || matches!(raw[dot - 1], b'\n' | b'\r');
        if line_start {
            out.extend_from_slice(&raw[copied..dot]);
            out.push(b'.');
            copied = dot;
        }
    }
    out.extend_from_slice(&raw[copied..]);
    if !raw.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

/// One open session with the relay: what it offers, and a reused write buffer.
struct Session<T: AsyncRead + AsyncWrite> {
    client: SmtpClient<T>,
    /// RFC 2920: the envelope goes in one write and its replies come back together.
    pipelining: bool,
    buf: Vec<u8>,
    /// A write or read failed or timed out: where the relay is in the dialogue is
    /// unknown, so nothing more may be sent on this connection.
    broken: bool,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Session<T> {
    /// Write the buffer and read `replies` replies, within the client's timeout.
    async fn exchange(
        &mut self,
        replies: usize,
    ) -> Result<Vec<Response<String>>, mail_send::Error> {
        if self.broken {
            return Err(mail_send::Error::Timeout);
        }
        let (client, buf) = (&mut self.client, &self.buf);
        let result = tokio::time::timeout(client.timeout, async {
            client.stream.write_all(buf).await?;
            client.stream.flush().await?;
            client.read_many(replies).await
        })
        .await
        .map_err(|_| mail_send::Error::Timeout)
        .and_then(|r| r);
        self.broken = result.is_err();
        result
    }

    /// Send `line` (a command with its CRLF) and read its reply.
    async fn command(&mut self, line: &str) -> Result<Response<String>, mail_send::Error> {
        self.buf.clear();
        self.buf.extend_from_slice(line.as_bytes());
        let mut replies = self.exchange(1).await?;
        replies.pop().ok_or(mail_send::Error::UnparseableReply)
    }

    /// MAIL, a RCPT per recipient and DATA: in one write when the relay pipelines,
    /// else one at a time, stopping where the relay said no.
    async fn envelope(&mut self, item: &OutboxItem) -> Result<Envelope, mail_send::Error> {
        if self.pipelining {
            self.buf.clear();
            let _ = write!(self.buf, "MAIL FROM:<{}>\r\n", item.mail_from);
            for rcpt in &item.recipients {
                let _ = write!(self.buf, "RCPT TO:<{rcpt}>\r\n");
            }
            self.buf.extend_from_slice(b"DATA\r\n");
            let mut replies = self.exchange(item.recipients.len() + 2).await?.into_iter();
            let mail = replies.next().ok_or(mail_send::Error::UnparseableReply)?;
            let rcpts: Vec<Response<String>> =
                replies.by_ref().take(item.recipients.len()).collect();
            let data = replies.next().ok_or(mail_send::Error::UnparseableReply)?;
            return Ok(Envelope {
                mail,
                rcpts,
                data: Some(data),
            });
        }
        let mail = self
            .command(&format!("MAIL FROM:<{}>\r\n", item.mail_from))
            .await?;
        let mut rcpts = Vec::new();
        if positive(&mail) {
            for rcpt in &item.recipients {
                rcpts.push(self.command(&format!("RCPT TO:<{rcpt}>\r\n")).await?);
            }
        }
        let data = if rcpts.iter().any(positive) {
            Some(self.command("DATA\r\n").await?)
        } else {
            None
        };
        Ok(Envelope { mail, rcpts, data })
    }

    /// One message: a refused Cc does not stop the rest; the body goes when anyone
    /// was accepted.
    async fn send(&mut self, item: &OutboxItem) -> Delivery {
        let envelope = match self.envelope(item).await {
            Ok(e) => e,
            Err(e) => return classify_error(&e),
        };
        let rcpts: Vec<(&str, Response<String>)> = item
            .recipients
            .iter()
            .map(String::as_str)
            .zip(envelope.rcpts)
            .collect();
        let judged = judge_envelope(&envelope.mail, &rcpts);
        let go_ahead = envelope.data.as_ref().is_some_and(|d| d.code == 354);
        let refused = match judged {
            Ok(refused) if go_ahead => refused,
            Ok(_) => {
                return match envelope.data {
                    Some(d) => classify_reply(&d),
                    None => Delivery::Temporary("no reply to DATA".into()),
                }
            }
            Err(outcome) => {
                if go_ahead {
                    // A pipelining relay said go to DATA although nobody was accepted:
                    // end the empty message (RFC 2920 3.1).
                    let _ = self.command(".\r\n").await;
                }
                return outcome;
            }
        };
        self.buf.clear();
        dot_stuff_into(&item.raw, &mut self.buf);
        match self.exchange(1).await.map(|mut r| r.pop()) {
            Ok(Some(reply)) if positive(&reply) => {
                Delivery::Sent(format!("{} {}", reply.code, reply.message), refused)
            }
            Ok(Some(reply)) => classify_reply(&reply),
            Ok(None) => Delivery::Temporary("no reply after the message".into()),
            Err(e) => classify_error(&e),
        }
    }

    /// Leave the session clean for the next message; false when it cannot be used again.
    async fn reset(&mut self) -> bool {
        matches!(self.command("RSET\r\n").await, Ok(r) if positive(&r))
    }

    async fn quit(&mut self) {
        let _ = self.command("QUIT\r\n").await;
    }
}

/// The relay's replies to one envelope; `data` is absent when it was not sent.
struct Envelope {
    mail: Response<String>,
    rcpts: Vec<Response<String>>,
    data: Option<Response<String>>,
}

/// Where a connection takes its next message from; `None` ends the session.
pub trait Source: Send + Sync {
    /// The next message to send.
    fn next(&self) -> Option<OutboxItem>;
}

/// Results as the relay gives them: the entry and how it went.
pub type Results = tokio::sync::mpsc::UnboundedSender<(OutboxItem, Delivery)>;

/// Send messages from `source` over one session until it runs dry, reporting each
/// result on `done` as soon as the relay answers. A refusal leaves the session usable
/// (RSET); `Err` says why the connection cannot go on.
async fn send_from<T: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<T>,
    source: &dyn Source,
    done: &Results,
) -> Result<(), String> {
    while let Some(item) = source.next() {
        let outcome = session.send(&item).await;
        let usable = matches!(outcome, Delivery::Sent(..)) || session.reset().await;
        let why = match &outcome {
            Delivery::Temporary(w) | Delivery::Permanent(w) => w.clone(),
            Delivery::Sent(..) => String::new(),
        };
        let _ = done.send((item, outcome));
        if !usable {
            return Err(why);
        }
    }
    Ok(())
}

/// EHLO (after STARTTLS, when that was done), AUTH when configured, then the queue.
async fn run_session<T: AsyncRead + AsyncWrite + Unpin>(
    mut client: SmtpClient<T>,
    relay: &SmtpConfig,
    password: Option<String>,
    source: &dyn Source,
    done: &Results,
) -> Result<(), String> {
    let failed = |e: mail_send::Error| format!("relay {}:{}: {e}", relay.host, relay.port);
    let offered = client.ehlo(&relay.hello_name).await.map_err(failed)?;
    if let (Some((user, _)), Some(password)) = (&relay.login, password) {
        let credentials = Credentials::new(user.clone(), password);
        client
            .authenticate(&credentials, &offered)
            .await
            .map_err(failed)?;
    }
    let mut session = Session {
        client,
        pipelining: offered.has_capability(EXT_PIPELINING),
        buf: Vec::with_capacity(8192),
        broken: false,
    };
    let result = send_from(&mut session, source, done).await;
    if !session.broken {
        session.quit().await;
    }
    result
}

/// One connection to `relay`, sending what `source` gives until it runs dry; `Err`
/// with the reason when it could not connect or the connection broke.
pub async fn deliver(
    relay: &SmtpConfig,
    source: &dyn Source,
    done: &Results,
) -> Result<(), String> {
    let connector = crate::tls::client_connector(relay.ca_file.as_deref())?;
    // EHLO and AUTH are ours (run_session), to learn whether the relay pipelines.
    let builder =
        SmtpClientBuilder::new_with_tls_connector(relay.host.clone(), relay.port, connector)
            .implicit_tls(relay.tls == TlsMode::Implicit)
            .helo_host(relay.hello_name.clone())
            .say_ehlo(false)
            .timeout(Duration::from_secs(60));
    let password = match &relay.login {
        Some((_, password_file)) => Some(
            std::fs::read_to_string(password_file)
                .map_err(|e| format!("cannot read {}: {e}", password_file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
        ),
        None => None,
    };
    // A refused connection or greeting is the relay's state, not the message's: retry.
    let failed = |e: mail_send::Error| format!("relay {}:{}: {e}", relay.host, relay.port);
    match relay.tls {
        TlsMode::None => {
            let client = builder.connect_plain().await.map_err(failed)?;
            // The envelope and the body are separate writes: without this each
            // message waits for the relay's delayed ACK (~40 ms).
            let _ = client.stream.set_nodelay(true);
            run_session(client, relay, password, source, done).await
        }
        TlsMode::Implicit | TlsMode::Starttls => {
            let client = builder.connect().await.map_err(failed)?;
            let _ = client.stream.get_ref().0.set_nodelay(true);
            run_session(client, relay, password, source, done).await
        }
    }
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

    fn reply(code: u16, words: &str) -> Response<String> {
        Response {
            code,
            esc: [0, 0, 0],
            message: words.to_string(),
        }
    }

    fn stuffed(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        dot_stuff_into(raw, &mut out);
        out
    }

    #[test]
    fn dots_that_start_a_line_are_doubled() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b"\r\n.\r\n"),
            (b"Hi\r\n", b"Hi\r\n.\r\n"),
            (b"Hi", b"Hi\r\n.\r\n"),
            (b".", b"..\r\n.\r\n"),
            (b".\r\n", b"..\r\n.\r\n"),
            (b"a\r\n.\r\nb\r\n", b"a\r\n..\r\nb\r\n.\r\n"),
            (b"a\r\n..x\r\n", b"a\r\n...x\r\n.\r\n"),
            (b"a.b. c.\r\n", b"a.b. c.\r\n.\r\n"),
            (b"x\n.y\n", b"x\n..y\n\r\n.\r\n"),
            (b"x\r.y\r\n", b"x\r..y\r\n.\r\n"),
            (b"...\r\n...", b"....\r\n....\r\n.\r\n"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                String::from_utf8_lossy(&stuffed(raw)),
                String::from_utf8_lossy(want),
                "for {:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn envelope_replies_decide_whether_the_body_goes() {
        let ok = || reply(250, "Ok");
        // Everyone accepted.
        assert_eq!(judge_envelope(&ok(), &[("a@x", ok())]), Ok(vec![]));
        // A refused Cc is reported, the rest goes.
        assert_eq!(
            judge_envelope(&ok(), &[("a@x", ok()), ("b@x", reply(550, "No such user"))]),
            Ok(vec![("b@x".into(), "550 No such user".into())])
        );
        // MAIL refused: its reply decides, permanent or temporary.
        assert_eq!(
            judge_envelope(&reply(553, "Sender refused"), &[("a@x", ok())]),
            Err(Delivery::Permanent("553 Sender refused".into()))
        );
        assert_eq!(
            judge_envelope(&reply(421, "Closing"), &[]),
            Err(Delivery::Temporary("421 Closing".into()))
        );
        // Everyone refused: temporary when any refusal was, so it is tried again.
        assert_eq!(
            judge_envelope(
                &ok(),
                &[("a@x", reply(550, "No")), ("b@x", reply(451, "Later"))]
            ),
            Err(Delivery::Temporary("451 Later".into()))
        );
        assert_eq!(
            judge_envelope(&ok(), &[("a@x", reply(550, "No"))]),
            Err(Delivery::Permanent("550 No".into()))
        );
        assert_eq!(
            judge_envelope(&ok(), &[]),
            Err(Delivery::Permanent("no recipients".into()))
        );
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
