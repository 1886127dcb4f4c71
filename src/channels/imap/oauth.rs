//! OAuth2 access tokens for XOAUTH2: refreshed from the provider's token endpoint with
//! the stored refresh token, before they expire and after a refused login.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::connect::{read_secret, ConnectError};
use crate::config::{ImapAuth, ImapConfig};

/// Refresh this long before the provider says the token expires.
const EARLY: Duration = Duration::from_secs(120);
/// Longest wait for the token endpoint.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A cached access token for one account.
#[derive(Default)]
pub struct TokenCache {
    current: Mutex<Option<(String, Instant)>>,
}

/// The parts of a token endpoint URL we need.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Option<Endpoint> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    Some(Endpoint {
        tls,
        host: host.trim_matches(['[', ']']).to_string(),
        port,
        path: path.to_string(),
    })
}

impl TokenCache {
    /// Forget the cached token (after the server refused it).
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.current.lock() {
            *c = None;
        }
    }

    /// A valid access token, refreshed when missing, near expiry, or `force`d.
    pub async fn access_token(
        &self,
        config: &ImapConfig,
        force: bool,
    ) -> Result<String, ConnectError> {
        if !force {
            if let Ok(c) = self.current.lock() {
                if let Some((token, expires)) = c.as_ref() {
                    if Instant::now() + EARLY < *expires {
                        return Ok(token.clone());
                    }
                }
            }
        }
        let (token, lifetime) = refresh(config).await?;
        if let Ok(mut c) = self.current.lock() {
            *c = Some((token.clone(), Instant::now() + lifetime));
        }
        Ok(token)
    }
}

async fn refresh(config: &ImapConfig) -> Result<(String, Duration), ConnectError> {
    let ImapAuth::XOAuth2 {
        client_id,
        client_secret_file,
        refresh_token_file,
        token_url,
    } = &config.auth
    else {
        return Err(ConnectError::OAuth("not an XOAUTH2 account".into()));
    };
    let refresh_token = read_secret("refresh_token_file", refresh_token_file)?;
    let mut body = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={}",
        crate::model::percent_encode(&refresh_token),
        crate::model::percent_encode(client_id)
    );
    if let Some(f) = client_secret_file {
        body.push_str(&format!(
            "&client_secret={}",
            crate::model::percent_encode(&read_secret("client_secret_file", f)?)
        ));
    }
    let fail = |why: String| {
        ConnectError::OAuth(format!(
            "OAuth2 token refresh for {} at {token_url} failed: {why}",
            config.username
        ))
    };
    let endpoint = parse_url(token_url).ok_or_else(|| fail("bad token_url".into()))?;
    let (status, text) = tokio::time::timeout(TIMEOUT, post(config, &endpoint, body))
        .await
        .map_err(|_| fail("timed out".into()))?
        .map_err(fail)?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).map_err(|_| fail(format!("HTTP {status}, not JSON")))?;
    if let Some(error) = json.get("error").and_then(|e| e.as_str()) {
        let detail = json
            .get("error_description")
            .and_then(|d| d.as_str())
            .unwrap_or("");
        let hint = if error == "invalid_grant" {
            " (the refresh token was revoked or expired: authorize the mailbox again)"
        } else {
            ""
        };
        return Err(fail(format!("{error} {detail}{hint}").trim().to_string()));
    }
    let token = json
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail(format!("HTTP {status} without an access_token")))?;
    let lifetime = json
        .get("expires_in")
        .and_then(|e| e.as_u64())
        .unwrap_or(3600);
    Ok((token.to_string(), Duration::from_secs(lifetime)))
}

async fn post(
    config: &ImapConfig,
    endpoint: &Endpoint,
    body: String,
) -> Result<(u16, Bytes), String> {
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", endpoint.host, endpoint.port))?;
    let request = hyper::Request::post(&endpoint.path)
        .header(hyper::header::HOST, &endpoint.host)
        .header(
            hyper::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    if endpoint.tls {
        let connector = super::connect::tls_connector(config).map_err(|e| e.to_string())?;
        let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(TokioIo::new(tls), request).await
    } else {
        send(TokioIo::new(tcp), request).await
    }
}

async fn send<S>(
    io: TokioIo<S>,
    request: hyper::Request<Full<Bytes>>,
) -> Result<(u16, Bytes), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("https://oauth2.googleapis.com/token"),
            Some(Endpoint {
                tls: true,
                host: "oauth2.googleapis.com".into(),
                port: 443,
                path: "/token".into()
            })
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8080/t?x=1"),
            Some(Endpoint {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/t?x=1".into()
            })
        );
        assert_eq!(parse_url("ftp://x"), None);
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(
            crate::model::percent_encode("a b&c=d/é"),
            "a%20b%26c%3Dd%2F%C3%A9"
        );
    }
}
