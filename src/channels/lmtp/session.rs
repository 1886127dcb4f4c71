//! LMTP sessions over TCP: the I/O shell around [`super::proto`].

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::proto::{self, Command, DataReader};
use crate::ingest::Inbound;
use crate::model::Source;
use crate::pipeline::{IngestFailure, Pipeline};

/// Longest command line accepted (RFC 5321 allows 512; be generous).
const MAX_COMMAND_LINE: usize = 4096;
/// Most recipients per transaction.
const MAX_RECIPIENTS: usize = 100;

/// Accept LMTP sessions until `shutdown`; each session is tracked so the caller can
/// wait for in-flight deliveries to finish.
pub async fn serve(
    listener: TcpListener,
    pipeline: Pipeline,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let limit = Arc::new(Semaphore::new(pipeline.config().lmtp.max_sessions));
    let hostname = crate::daemon::hostname();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                log::warn!("lmtp: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let permit = limit.clone().try_acquire_owned();
        let pipeline = pipeline.clone();
        let shutdown = shutdown.clone();
        let hostname = hostname.clone();
        tracker.spawn(async move {
            let Ok(_permit) = permit else {
                let mut s = stream;
                let _ = s
                    .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                    .await;
                return;
            };
            let mut session = Session::new(stream, pipeline, hostname);
            if let Err(e) = session.run(&shutdown).await {
                log::debug!("lmtp: session with {peer} ended: {e}");
            }
        });
    }
}

struct Session {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    pipeline: Pipeline,
    hostname: String,
    greeted: bool,
    mail_from: Option<String>,
    /// Accepted recipients with the channel each maps to.
    recipients: Vec<(String, String)>,
}

/// How reading one line went.
enum Line {
    /// A line (possibly cut at the limit; then `true`).
    Read(bool),
    /// The peer closed the connection.
    Eof,
}

/// Read through the next `\n`, keeping at most `max` bytes in `buf` and dropping the rest.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut truncated = false;
    let mut any = false;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(if any {
                Line::Read(truncated)
            } else {
                Line::Eof
            });
        }
        any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = max.saturating_sub(buf.len());
        if chunk.len() > room {
            truncated = true;
            buf.extend_from_slice(&chunk[..room]);
        } else {
            buf.extend_from_slice(chunk);
        }
        let used = chunk.len();
        r.consume(used);
        if done {
            return Ok(Line::Read(truncated));
        }
    }
}

impl Session {
    fn new(stream: TcpStream, pipeline: Pipeline, hostname: String) -> Self {
        let (r, w) = stream.into_split();
        Session {
            reader: BufReader::with_capacity(64 * 1024, r),
            writer: BufWriter::with_capacity(16 * 1024, w),
            pipeline,
            hostname,
            greeted: false,
            mail_from: None,
            recipients: Vec::new(),
        }
    }

    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        if !text.ends_with("\r\n") {
            self.writer.write_all(b"\r\n").await?;
        }
        // PIPELINING: hold replies while the client has sent more commands.
        if self.reader.buffer().is_empty() {
            self.writer.flush().await?;
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.recipients.clear();
    }

    async fn run(&mut self, shutdown: &CancellationToken) -> io::Result<()> {
        let greeting = format!("220 {} frontdesk LMTP ready", self.hostname);
        self.reply(&greeting).await?;
        let mut line = Vec::with_capacity(256);
        loop {
            let idle = self.pipeline.config().lmtp.idle_timeout;
            let read = tokio::select! {
                _ = shutdown.cancelled() => {
                    self.reply("421 4.3.2 Service shutting down").await?;
                    self.writer.flush().await?;
                    return Ok(());
                }
                r = tokio::time::timeout(idle, read_line(&mut self.reader, &mut line, MAX_COMMAND_LINE)) => r,
            };
            let truncated = match read {
                Err(_) => {
                    self.reply("421 4.4.2 Idle timeout, closing connection")
                        .await?;
                    self.writer.flush().await?;
                    return Ok(());
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Line::Eof)) => return Ok(()),
                Ok(Ok(Line::Read(truncated))) => truncated,
            };
            if truncated {
                self.reply("500 5.5.2 Line too long").await?;
                continue;
            }
            let command = match proto::parse_command(&line) {
                Ok(c) => c,
                Err(e) => {
                    self.reply(&e.to_string()).await?;
                    continue;
                }
            };
            if !self.handle(command, shutdown).await? {
                self.writer.flush().await?;
                return Ok(());
            }
        }
    }

    /// Act on one command; false when the session should end.
    async fn handle(
        &mut self,
        command: Command,
        _shutdown: &CancellationToken,
    ) -> io::Result<bool> {
        let config = self.pipeline.config();
        let max = config.lmtp.max_message_bytes;
        match command {
            Command::Lhlo(_) => {
                self.reset();
                self.greeted = true;
                let r = proto::lhlo_reply(&self.hostname, max);
                self.reply(&r).await?;
            }
            Command::Helo => self.reply("500 5.5.1 This is LMTP: use LHLO").await?,
            Command::Noop => self.reply("250 2.0.0 OK").await?,
            Command::Vrfy => {
                self.reply("252 2.5.0 Cannot verify, but will try delivery")
                    .await?
            }
            Command::Help => {
                self.reply("214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT")
                    .await?
            }
            Command::Quit => {
                self.reply("221 2.0.0 Bye").await?;
                return Ok(false);
            }
            Command::Rset => {
                self.reset();
                self.reply("250 2.0.0 OK").await?;
            }
            Command::Mail { from, size } => {
                if !self.greeted {
                    self.reply("503 5.5.1 Send LHLO first").await?;
                } else if self.mail_from.is_some() {
                    self.reply("503 5.5.1 Nested MAIL command").await?;
                } else if size.is_some_and(|s| s > max as u64) {
                    self.reply(&format!("552 5.3.4 Message too big (limit {max} bytes)"))
                        .await?;
                } else {
                    self.mail_from = Some(from);
                    self.reply("250 2.1.0 OK").await?;
                }
            }
            Command::Rcpt(to) => {
                if self.mail_from.is_none() {
                    self.reply("503 5.5.1 Send MAIL first").await?;
                } else if self.recipients.len() >= MAX_RECIPIENTS {
                    self.reply("452 4.5.3 Too many recipients").await?;
                } else {
                    match config.channel_for_recipient(&to) {
                        Some(channel) => {
                            self.recipients.push((to, channel.name.clone()));
                            self.reply("250 2.1.5 OK").await?;
                        }
                        None => {
                            self.reply(&format!("550 5.1.1 <{to}>: no such mailbox here"))
                                .await?;
                        }
                    }
                }
            }
            Command::Data => {
                if self.mail_from.is_none() {
                    self.reply("503 5.5.1 Send MAIL first").await?;
                } else if self.recipients.is_empty() {
                    self.reply("503 5.5.1 No valid recipients").await?;
                } else {
                    self.reply("354 Start mail input; end with <CRLF>.<CRLF>")
                        .await?;
                    self.writer.flush().await?;
                    self.data(max).await?;
                }
            }
        }
        Ok(true)
    }

    async fn data(&mut self, max: usize) -> io::Result<()> {
        let idle = self.pipeline.config().lmtp.idle_timeout;
        let mut data = DataReader::new(max);
        let mut line = Vec::with_capacity(1024);
        loop {
            match tokio::time::timeout(
                idle,
                read_line(&mut self.reader, &mut line, max.saturating_add(3)),
            )
            .await
            {
                Err(_) => {
                    self.reply("421 4.4.2 Timeout during DATA").await?;
                    self.writer.flush().await?;
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "timeout during DATA",
                    ));
                }
                Ok(Err(e)) => return Err(e),
                // The client hung up mid-message: nothing was acknowledged, nothing stored.
                Ok(Ok(Line::Eof)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "eof during DATA",
                    ))
                }
                Ok(Ok(Line::Read(truncated))) => {
                    if truncated {
                        data.oversized = true;
                    }
                    if data.push_line(&line) {
                        break;
                    }
                }
            }
        }
        let recipients = std::mem::take(&mut self.recipients);
        let mail_from = self.mail_from.take();
        if data.oversized {
            for _ in &recipients {
                self.reply(&format!(
                    "552 5.3.4 Message exceeds the size limit of {max} bytes"
                ))
                .await?;
            }
            return Ok(());
        }
        let raw = data.message;
        let all_recipients: Vec<String> = recipients.iter().map(|(r, _)| r.clone()).collect();
        // One reply per accepted recipient, each only after its commit (RFC 2033 §4.2).
        for (rcpt, channel) in &recipients {
            let inbound = Inbound {
                channel: channel.clone(),
                raw: raw.clone(),
                envelope_from: mail_from.clone(),
                recipients: all_recipients.clone(),
                source: Source::Lmtp,
                historical: false,
                imap: None,
            };
            let reply = match self.pipeline.ingest(inbound).await {
                Ok(outcome) => {
                    format!("250 2.0.0 <{rcpt}> stored in ticket #{}", outcome.ticket_id)
                }
                Err(IngestFailure::Store(e)) if e.is_disk_full() => {
                    log::error!("lmtp: disk full, deferring mail for {rcpt}: {e}");
                    format!("452 4.3.1 <{rcpt}> insufficient storage, try again later")
                }
                Err(e) if e.is_temporary() => {
                    log::error!("lmtp: deferring mail for {rcpt}: {e}");
                    format!(
                        "451 4.3.0 <{rcpt}> temporary failure storing the message, try again later"
                    )
                }
                Err(IngestFailure::UnknownChannel(_)) => {
                    format!("450 4.2.1 <{rcpt}> mailbox unavailable during reload, try again later")
                }
                Err(e) => format!("554 5.6.0 <{rcpt}> {e}"),
            };
            self.reply(&reply).await?;
        }
        self.writer.flush().await?;
        Ok(())
    }
}
