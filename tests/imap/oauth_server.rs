//! A tiny OAuth2 provider on loopback for the XOAUTH2 test: a token endpoint that trades
//! a known refresh token for access tokens (what frontdesk calls), and an RFC 7662-style
//! introspection endpoint (what Dovecot's oauth2 passdb calls). `revoke` makes both say no.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the provider knows and has seen.
#[derive(Debug, Default)]
pub struct State {
    /// The only refresh token it accepts.
    pub refresh_token: String,
    pub client_id: String,
    pub client_secret: String,
    /// The user access tokens belong to.
    pub username: String,
    /// Access tokens issued and still valid.
    pub issued: Vec<String>,
    /// True after `revoke`: refresh answers invalid_grant, introspection inactive.
    pub revoked: bool,
    /// Token endpoint requests (form fields of each).
    pub token_requests: Vec<BTreeMap<String, String>>,
    /// Introspection requests: (token, answer was active).
    pub introspections: Vec<(String, bool)>,
}

/// The running provider.
pub struct OAuthServer {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
}

impl OAuthServer {
    pub fn start(username: &str, client_id: &str, client_secret: &str, refresh: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind oauth server");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            refresh_token: refresh.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            username: username.to_string(),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &state);
                });
            }
        });
        OAuthServer { port, state }
    }

    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn introspection_url(&self) -> String {
        format!("http://127.0.0.1:{}/introspect", self.port)
    }

    /// Revoke the refresh token and every access token.
    pub fn revoke(&self) {
        let mut s = self.state.lock().unwrap();
        s.revoked = true;
        s.issued.clear();
    }
}

fn form(body: &str) -> BTreeMap<String, String> {
    fn unescape(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => out.push(b),
                        Err(_) => out.push(b'%'),
                    }
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

/// Answer requests on one connection (keep-alive) until the peer closes it.
fn serve(conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection")
                    && value.eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let (status, json) = answer(path, &body, state);
        let text = json.to_string();
        write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{text}",
            text.len(),
            if close { "Connection: close\r\n" } else { "" }
        )?;
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}

fn answer(path: &str, body: &str, state: &Mutex<State>) -> (&'static str, serde_json::Value) {
    let fields = form(body);
    let mut s = state.lock().unwrap();
    match path {
        "/token" => {
            s.token_requests.push(fields.clone());
            let good = fields.get("grant_type").map(String::as_str) == Some("refresh_token")
                && fields.get("refresh_token") == Some(&s.refresh_token)
                && fields.get("client_id") == Some(&s.client_id)
                && fields.get("client_secret") == Some(&s.client_secret);
            if s.revoked || !good {
                return (
                    "400 Bad Request",
                    serde_json::json!({
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked."
                    }),
                );
            }
            let token = format!("at-{}-{}", s.issued.len() + 1, s.token_requests.len());
            s.issued.push(token.clone());
            (
                "200 OK",
                serde_json::json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "scope": "https://mail.google.com/"
                }),
            )
        }
        "/introspect" => {
            let token = fields.get("token").cloned().unwrap_or_default();
            let active = !s.revoked && s.issued.contains(&token);
            s.introspections.push((token, active));
            let json = if active {
                serde_json::json!({"active": true, "username": s.username})
            } else {
                serde_json::json!({"active": false})
            };
            ("200 OK", json)
        }
        _ => ("404 Not Found", serde_json::json!({"error": "not_found"})),
    }
}
