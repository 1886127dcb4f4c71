//! Reaching an IMAP server: TCP, TLS (implicit or STARTTLS) and login.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::oauth::TokenCache;
use crate::config::{ImapAuth, ImapConfig, TlsMode};

/// How long connecting (TCP + TLS + greeting) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection that is plain or TLS, so one session type serves every mode.
pub enum ImapStream {
    /// No TLS (loopback only).
    Plain(TcpStream),
    /// TLS.
    Tls(Box<TlsStream<TcpStream>>),
}

impl fmt::Debug for ImapStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImapStream::Plain(_) => f.write_str("ImapStream::Plain"),
            ImapStream::Tls(_) => f.write_str("ImapStream::Tls"),
        }
    }
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in IMAP session.
pub type ImapSession = Session<ImapStream>;

/// Why a connection attempt failed, in words a sysadmin can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP failed.
    #[error("cannot connect to {addr}: {source}")]
    Tcp {
        /// host:port.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Took too long.
    #[error("timed out connecting to {0}")]
    Timeout(String),
    /// TLS setup or handshake failed (certificate, protocol).
    #[error("TLS with {host} failed: {reason}")]
    Tls {
        /// Host.
        host: String,
        /// Cause.
        reason: String,
    },
    /// The server refused our credentials.
    #[error("authentication failed for {user}: {reason}")]
    Auth {
        /// Login name.
        user: String,
        /// The server's words.
        reason: String,
    },
    /// A secret file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    Secret {
        /// Which secret.
        what: &'static str,
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The OAuth2 token endpoint refused or failed.
    #[error("{0}")]
    OAuth(String),
    /// The server spoke IMAP badly or hung up.
    #[error("IMAP error from {host}: {reason}")]
    Protocol {
        /// Host.
        host: String,
        /// Cause.
        reason: String,
    },
}

impl ConnectError {
    /// Credentials problems will not fix themselves by retrying soon.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ConnectError::Auth { .. } | ConnectError::OAuth(_) | ConnectError::Secret { .. }
        )
    }
}

/// Read a secret file, trimming the trailing newline editors add.
pub fn read_secret(what: &'static str, path: &std::path::Path) -> Result<String, ConnectError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|source| ConnectError::Secret {
            what,
            path: path.display().to_string(),
            source,
        })
}

/// TLS settings: the public web roots plus the configured `ca_file`.
pub fn tls_connector(config: &ImapConfig) -> Result<TlsConnector, ConnectError> {
    crate::tls::client_connector(config.ca_file.as_deref()).map_err(|reason| ConnectError::Tls {
        host: config.host.clone(),
        reason,
    })
}

async fn start_tls(config: &ImapConfig, tcp: TcpStream) -> Result<ImapStream, ConnectError> {
    let connector = tls_connector(config)?;
    let name = rustls::pki_types::ServerName::try_from(config.host.clone()).map_err(|e| {
        ConnectError::Tls {
            host: config.host.clone(),
            reason: format!("bad server name: {e}"),
        }
    })?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| ConnectError::Tls {
            host: config.host.clone(),
            reason: e.to_string(),
        })?;
    Ok(ImapStream::Tls(Box::new(tls)))
}

fn protocol(config: &ImapConfig, e: impl fmt::Display) -> ConnectError {
    ConnectError::Protocol {
        host: config.host.clone(),
        reason: e.to_string(),
    }
}

async fn connect_stream(config: &ImapConfig) -> Result<Client<ImapStream>, ConnectError> {
    let addr = format!("{}:{}", config.host, config.port);
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|source| ConnectError::Tcp {
            addr: addr.clone(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    match config.tls {
        TlsMode::Implicit => {
            let mut client = Client::new(start_tls(config, tcp).await?);
            client
                .read_response()
                .await
                .map_err(|e| protocol(config, e))?;
            Ok(client)
        }
        TlsMode::None => {
            let mut client = Client::new(ImapStream::Plain(tcp));
            client
                .read_response()
                .await
                .map_err(|e| protocol(config, e))?;
            Ok(client)
        }
        TlsMode::Starttls => {
            let mut client = Client::new(ImapStream::Plain(tcp));
            client
                .read_response()
                .await
                .map_err(|e| protocol(config, e))?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| ConnectError::Tls {
                    host: config.host.clone(),
                    reason: format!("STARTTLS refused: {e}"),
                })?;
            let ImapStream::Plain(tcp) = client.into_inner() else {
                return Err(protocol(config, "unexpected stream state"));
            };
            Ok(Client::new(start_tls(config, tcp).await?))
        }
    }
}

/// SASL XOAUTH2 initial response.
struct XOAuth2 {
    user: String,
    token: String,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
    }
}

/// Connect, secure and log in.
pub async fn connect(
    config: &ImapConfig,
    tokens: &TokenCache,
) -> Result<ImapSession, ConnectError> {
    let addr = format!("{}:{}", config.host, config.port);
    let client = tokio::time::timeout(CONNECT_TIMEOUT, connect_stream(config))
        .await
        .map_err(|_| ConnectError::Timeout(addr))??;
    let auth_err = |reason: String| ConnectError::Auth {
        user: config.username.clone(),
        reason,
    };
    match &config.auth {
        ImapAuth::Password { password_file } => {
            let password = read_secret("password_file", password_file)?;
            client
                .login(&config.username, &password)
                .await
                .map_err(|(e, _)| auth_err(imap_reason(&e)))
        }
        ImapAuth::XOAuth2 { .. } => {
            let token = tokens.access_token(config, false).await?;
            match client
                .authenticate(
                    "XOAUTH2",
                    XOAuth2 {
                        user: config.username.clone(),
                        token,
                    },
                )
                .await
            {
                Ok(session) => Ok(session),
                Err((e, _)) => {
                    // The token may have been revoked or expired early: refresh once, then
                    // report; the next attempt starts from a fresh connection.
                    tokens.invalidate();
                    Err(auth_err(imap_reason(&e)))
                }
            }
        }
    }
}

/// The server's own words for an error, without the crate's prefixes.
pub fn imap_reason(e: &async_imap::error::Error) -> String {
    match e {
        async_imap::error::Error::No(s) | async_imap::error::Error::Bad(s) => server_words(s),
        other => other.to_string(),
    }
}

/// async-imap formats a NO/BAD as `code: .., info: Some("text")`: keep the text.
fn server_words(s: &str) -> String {
    match s.split_once("info: Some(\"") {
        Some((_, rest)) => rest
            .rsplit_once("\")")
            .map(|(t, _)| t)
            .unwrap_or(rest)
            .replace("\\\"", "\"")
            .trim()
            .to_string(),
        None => s.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::server_words;

    #[test]
    fn server_words_are_kept() {
        assert_eq!(
            server_words(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_words("plain words"), "plain words");
    }
}
