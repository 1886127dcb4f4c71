//! `[http] tls_cert_file` / `tls_key_file` and the session limits, over the wire:
//!
//! - the listener speaks https itself with a certificate from a CA the test makes (the
//!   `openssl` command, as in `tests/imap`): health check, sign-in with a `Secure` cookie,
//!   sign-out; plain http and clients that do not trust the CA get nothing; SIGHUP with a
//!   broken certificate keeps the running one, SIGHUP with a renewed one serves it to new
//!   connections;
//! - bad TLS and session settings are config errors (exit 78, `FILE:LINE: KEY: message`),
//!   for `--check-config` and for a real start;
//! - `session_idle_seconds` / `session_lifetime_seconds`: a session in use outlives the
//!   idle limit but not the lifetime; an unused one ends after the idle limit.
//!
//! Session times are whole seconds (`unix_now`), so the timing checks only assert what
//! holds for any rounding: "must be alive" when the previous use was under 1 s before and
//! the sign-in under `lifetime - 1` s before; "must have ended" once the limit has passed
//! in full. A run where the machine was too slow to keep uses under 1 s apart proves
//! nothing either way and is repeated (up to three times) instead of failing.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{output, Daemon, FRONTDESKD};
use crate::{
    add_agent, attribute, daemon, deliver, form_encode, http, post_login, show, text_mail,
    ticket_id, wire, Agent, PASSWORD,
};

#[path = "../imap/certs.rs"]
mod certs;

/// How long one https exchange may take (connect, handshake, answer).
const TLS_DEADLINE: Duration = Duration::from_secs(20);
/// Pause between two uses of a session that must stay alive.
const USE_EVERY: Duration = Duration::from_millis(300);
/// Uses further apart than this may legitimately let a 2 s idle limit end the session
/// (whole-second times): the run is inconclusive.
const MAX_GAP: Duration = Duration::from_secs(1);

/// A daemon on [`crate::SUPPORT`] started with `extra` added to its `[http]` table, after
/// `prepare` ran with the daemon's directory (where its config file is).
fn daemon_with_http(extra: &str, prepare: impl FnOnce(&Path)) -> Daemon {
    let mut d = daemon(None);
    d.signal(libc::SIGTERM);
    assert!(
        d.wait_exit(Duration::from_secs(30)).success(),
        "{}",
        d.log()
    );
    let text = std::fs::read_to_string(&d.config_path).expect("read config");
    assert!(text.contains("[http]\n"), "{text}");
    std::fs::write(
        &d.config_path,
        text.replacen("[http]\n", &format!("[http]\n{extra}"), 1),
    )
    .expect("write config");
    prepare(d.dir.path());
    d.restart();
    d
}

/// One https exchange: the answer, and the DER of the certificate the server showed.
struct Https {
    response: wire::Response,
    peer_cert: Vec<u8>,
}

/// Send one request over TLS to `addr` (an IP address and port), trusting the public
/// roots plus `trust` (the daemon's own client setup,
/// [`frontdesk::tls::client_connector`]), and read the whole answer (`Connection: close`).
/// Err says what failed: `connect: `, `handshake: `, `send: `, `read: ` or the answer.
fn https(
    addr: &str,
    trust: Option<&Path>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Https, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let sock: std::net::SocketAddr = addr.parse().expect("ip:port");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let connector = frontdesk::tls::client_connector(trust)?;
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect(sock)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let name = rustls::pki_types::ServerName::IpAddress(sock.ip().into());
            let mut tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            let peer_cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.as_ref().to_vec())
                .unwrap_or_default();
            tls.write_all(&request)
                .await
                .map_err(|e| format!("send: {e}"))?;
            tls.flush().await.map_err(|e| format!("send: {e}"))?;
            let mut raw = Vec::new();
            match tls.read_to_end(&mut raw).await {
                Ok(_) => {}
                // A close without close_notify after a whole answer is fine here.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
                Err(e) => return Err(format!("read: {e}")),
            }
            let response = parse(&raw).ok_or_else(|| {
                format!(
                    "not an HTTP response: {:?}",
                    String::from_utf8_lossy(&raw[..raw.len().min(300)])
                )
            })?;
            Ok::<Https, String>(Https {
                response,
                peer_cert,
            })
        };
        match tokio::time::timeout(TLS_DEADLINE, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {TLS_DEADLINE:?}")),
        }
    })
}

/// Status line, headers (names lower-cased) and body (de-chunked) of a whole answer.
fn parse(raw: &[u8]) -> Option<wire::Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    if !status_line.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let mut rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        let mut out = Vec::new();
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size_text = std::str::from_utf8(&rest[..eol]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..).unwrap_or(&[]);
        }
        out
    } else {
        rest.to_vec()
    };
    Some(wire::Response {
        status,
        headers,
        body,
    })
}

/// The DER of the first certificate in a PEM file.
fn cert_der(pem_file: &Path) -> Vec<u8> {
    let pem = std::fs::read(pem_file).expect("read certificate");
    let first = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .expect("a certificate in the file")
        .expect("a readable certificate");
    first.as_ref().to_vec()
}

/// `GET /healthz` over https trusting `ca`: must answer 200; the certificate shown.
fn healthz_over_tls(d: &Daemon, ca: &Path) -> Vec<u8> {
    let r = https(&d.http, Some(ca), "GET", "/healthz", &[], b"")
        .unwrap_or_else(|e| panic!("GET /healthz over https trusting {}: {e}", ca.display()));
    assert_eq!(r.response.status, 200, "{}", r.response.text());
    r.peer_cert
}

/// Copy `from` over `to` through a temp file and a rename, as a renewal tool would.
fn replace_file(from: &Path, to: &Path) {
    let tmp = to.with_extension("new");
    std::fs::copy(from, &tmp).expect("copy");
    std::fs::rename(&tmp, to).expect("rename");
}

/// Send SIGHUP and wait until the daemon log has one more `needle` ("config reloaded"
/// or "reload refused").
fn sighup_and_wait(d: &Daemon, needle: &str) {
    let count = || d.log().matches(needle).count();
    let before = count();
    d.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(20);
    while count() <= before {
        assert!(
            Instant::now() < deadline,
            "no new {needle:?} in the log within 20 s of SIGHUP\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `email=..&password=..` form of a sign-in.
fn login_form(email: &str) -> String {
    format!(
        "email={}&password={}",
        form_encode(email),
        form_encode(PASSWORD)
    )
}

/// The `Max-Age` of a `Set-Cookie` value.
fn max_age(set_cookie: &str) -> Option<i64> {
    set_cookie
        .split(';')
        .find_map(|p| p.trim().strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
}

/// True when a `Set-Cookie` value has the `Secure` attribute.
fn is_secure(set_cookie: &str) -> bool {
    set_cookie
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("secure"))
}

#[test]
fn https_listener_secure_cookie_no_plain_http_and_renewal_on_sighup() {
    let pki_dir = tempfile::tempdir().expect("temp dir");
    let pki = pki_dir.path();
    let ca = certs::ca(pki, "ca");
    let other_ca = certs::ca(pki, "other-ca");
    let renewed_ca = certs::ca(pki, "renewed-ca");
    let (cert, key) = certs::server(pki, &ca, "server", "IP:127.0.0.1");
    let (renewed_cert, renewed_key) =
        certs::server(pki, &renewed_ca, "server-renewed", "IP:127.0.0.1");

    // The pair lives in tls/ next to the config file (relative paths).
    let live = |dir: &Path| (dir.join("tls/listener.pem"), dir.join("tls/listener.key"));
    let d = daemon_with_http(
        "tls_cert_file = \"tls/listener.pem\"\ntls_key_file = \"tls/listener.key\"\n",
        |dir| {
            std::fs::create_dir(dir.join("tls")).expect("mkdir tls");
            let (c, k) = live(dir);
            std::fs::copy(&cert, c).expect("copy cert");
            std::fs::copy(&key, k).expect("copy key");
        },
    );
    let (live_cert, live_key) = live(d.dir.path());
    add_agent(&d, "jane@acme.test", "Jane Doe");

    // https on the listener itself, with our certificate.
    assert_eq!(
        healthz_over_tls(&d, &ca.cert),
        cert_der(&cert),
        "the listener showed another certificate"
    );

    // Sign in over https: the cookie is Secure (no public_url needed), and works.
    let r = https(
        &d.http,
        Some(&ca.cert),
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        login_form("jane@acme.test").as_bytes(),
    )
    .unwrap_or_else(|e| panic!("POST /login over https: {e}"))
    .response;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/inbox"));
    let set = r
        .header("set-cookie")
        .expect("Set-Cookie on sign-in")
        .to_string();
    assert!(
        is_secure(&set),
        "no Secure on the cookie with tls on: {set}"
    );
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert_eq!(
        max_age(&set),
        Some(604_800),
        "the default lifetime is a week: {set}"
    );
    let cookie = set.split(';').next().unwrap().trim().to_string();
    let page = https(
        &d.http,
        Some(&ca.cert),
        "GET",
        "/inbox",
        &[("Cookie", &cookie)],
        b"",
    )
    .unwrap_or_else(|e| panic!("GET /inbox over https: {e}"))
    .response;
    assert_eq!(page.status, 200, "{}", page.text());
    let csrf = attribute(&page.text(), "data-csrf=\"").expect("data-csrf on the page");

    // Plain http to the same port gets no HTTP answer (the server wants a handshake),
    // with or without the session cookie.
    for headers in [vec![], vec![("Cookie", cookie.as_str())]] {
        let plain = wire::request(
            &d.http,
            "GET",
            "/inbox",
            &headers,
            b"",
            Duration::from_secs(15),
        );
        if let Ok(r) = plain {
            panic!(
                "plain http on the https listener was answered: {} {:?}\n{}",
                r.status,
                r.headers,
                r.text()
            );
        }
    }

    // Clients that do not trust the CA fail the handshake: the public roots only, and
    // another private CA.
    for (who, trust) in [
        ("the public roots", None),
        ("another CA", Some(other_ca.cert.as_path())),
    ] {
        match https(&d.http, trust, "GET", "/healthz", &[], b"") {
            Ok(r) => panic!(
                "a client trusting {who} got an answer: {}",
                r.response.status
            ),
            Err(e) => assert!(
                e.starts_with("handshake: ") && e.contains("certificate"),
                "a client trusting {who}: {e}"
            ),
        }
    }
    // None of that disturbed the listener.
    assert_eq!(healthz_over_tls(&d, &ca.cert), cert_der(&cert));

    // SIGHUP with a broken certificate file: refused, naming the key; the running pair
    // stays in use.
    std::fs::write(&live_cert, "renewal went wrong\n").expect("break cert");
    sighup_and_wait(&d, "reload refused");
    assert!(
        d.log().contains("http.tls_cert_file"),
        "the refused reload does not name http.tls_cert_file:\n{}",
        d.log()
    );
    assert_eq!(
        healthz_over_tls(&d, &ca.cert),
        cert_der(&cert),
        "a refused reload changed the certificate"
    );

    // SIGHUP with a renewed pair (another CA): new connections get it at once.
    replace_file(&renewed_key, &live_key);
    replace_file(&renewed_cert, &live_cert);
    sighup_and_wait(&d, "config reloaded: https certificate reloaded from");
    assert_eq!(
        healthz_over_tls(&d, &renewed_ca.cert),
        cert_der(&renewed_cert),
        "new connections after SIGHUP do not get the renewed certificate"
    );
    match https(&d.http, Some(&ca.cert), "GET", "/healthz", &[], b"") {
        Ok(r) => panic!(
            "a client trusting only the old CA still connects after renewal (certificate {}the old one)",
            if r.peer_cert == cert_der(&cert) { "is " } else { "is not " }
        ),
        Err(e) => assert!(e.starts_with("handshake: "), "{e}"),
    }

    // The session survives the renewal; signing out over https clears a Secure cookie.
    let r = https(
        &d.http,
        Some(&renewed_ca.cert),
        "GET",
        "/inbox",
        &[("Cookie", &cookie)],
        b"",
    )
    .unwrap_or_else(|e| panic!("GET /inbox after renewal: {e}"))
    .response;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = https(
        &d.http,
        Some(&renewed_ca.cert),
        "POST",
        "/logout",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("csrf={}", form_encode(&csrf)).as_bytes(),
    )
    .unwrap_or_else(|e| panic!("POST /logout over https: {e}"))
    .response;
    assert_eq!(r.status, 303, "{}", r.text());
    let set = r.header("set-cookie").expect("Set-Cookie on sign-out");
    assert!(is_secure(set) && max_age(set) == Some(0), "{set}");
    let r = https(
        &d.http,
        Some(&renewed_ca.cert),
        "GET",
        "/inbox",
        &[("Cookie", &cookie)],
        b"",
    )
    .unwrap_or_else(|e| panic!("GET /inbox after sign-out: {e}"))
    .response;
    assert_eq!(r.status, 303, "the cookie still works after sign-out");
    assert_eq!(r.header("location"), Some("/login?next=%2Finbox"));
}

/// A good config with TLS and session limits; `{dir}` is the test's temp dir, and the
/// pair is in `{dir}/tls/` (named relative to the config file).
const TLS_GOOD: &str = r#"[daemon]
data_dir = "{dir}/data"
control_socket = "{dir}/control.sock"
company_name = "Acme"

[http]
listen = "127.0.0.1:0"
tls_cert_file = "tls/server.pem"
tls_key_file = "tls/server.key"
session_idle_seconds = 600
session_lifetime_seconds = 3600

[lmtp]
listen = "127.0.0.1:0"

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

/// One way to break [`TLS_GOOD`].
struct Case {
    name: &'static str,
    /// Replace the first occurrence of this text ...
    find: &'static str,
    /// ... with this.
    replace: &'static str,
    /// Where the message may point: (text on the line, key). Any one of them will do.
    at: &'static [(&'static str, &'static str)],
    /// The message must contain each of these.
    says: &'static [&'static str],
}

/// A problem with the key file (or a key that is not the certificate's) is reported at
/// `tls_key_file`.
const KEY_PROBLEM: &[(&str, &str)] = &[("tls_key_file", "http.tls_key_file")];

const CASES: &[Case] = &[
    Case {
        name: "only tls_cert_file",
        find: "tls_key_file = \"tls/server.key\"\n",
        replace: "",
        at: &[("tls_cert_file", "http")],
        says: &["tls_cert_file and tls_key_file go together"],
    },
    Case {
        name: "only tls_key_file",
        find: "tls_cert_file = \"tls/server.pem\"\n",
        replace: "",
        at: &[("tls_key_file", "http")],
        says: &["tls_cert_file and tls_key_file go together"],
    },
    Case {
        name: "missing certificate file",
        find: "tls/server.pem",
        replace: "tls/nowhere.pem",
        at: &[("tls_cert_file", "http.tls_cert_file")],
        says: &["cannot read", "tls/nowhere.pem"],
    },
    Case {
        name: "certificate path is a directory",
        find: "\"tls/server.pem\"",
        replace: "\"tls\"",
        at: &[("tls_cert_file", "http.tls_cert_file")],
        says: &["cannot read"],
    },
    Case {
        name: "certificate file is not PEM",
        find: "tls/server.pem",
        replace: "tls/garbage.pem",
        at: &[("tls_cert_file", "http.tls_cert_file")],
        says: &["no certificate found", "tls/garbage.pem"],
    },
    Case {
        name: "PEM certificate with broken base64",
        find: "tls/server.pem",
        replace: "tls/badbase64.pem",
        at: &[("tls_cert_file", "http.tls_cert_file")],
        says: &["tls/badbase64.pem"],
    },
    Case {
        name: "PEM certificate that is not a certificate",
        find: "tls/server.pem",
        replace: "tls/junkder.pem",
        at: &[("tls_cert_file", "http.tls_cert_file")],
        says: &["tls/junkder.pem"],
    },
    Case {
        name: "key of another certificate",
        find: "tls/server.key",
        replace: "tls/other.key",
        at: KEY_PROBLEM,
        says: &["does not belong to the certificate", "tls/other.key"],
    },
    Case {
        name: "missing key file",
        find: "tls/server.key",
        replace: "tls/nowhere.key",
        at: KEY_PROBLEM,
        says: &["cannot read", "tls/nowhere.key"],
    },
    Case {
        name: "key file without a key",
        find: "tls/server.key",
        replace: "tls/server.pem",
        at: KEY_PROBLEM,
        says: &["no private key found"],
    },
    Case {
        name: "zero idle seconds",
        find: "session_idle_seconds = 600",
        replace: "session_idle_seconds = 0",
        at: &[("session_idle_seconds", "http.session_idle_seconds")],
        says: &["out of range"],
    },
    Case {
        name: "negative lifetime",
        find: "session_lifetime_seconds = 3600",
        replace: "session_lifetime_seconds = -1",
        at: &[("session_lifetime_seconds", "http.session_lifetime_seconds")],
        says: &["out of range"],
    },
    Case {
        name: "idle limit over a year",
        find: "session_idle_seconds = 600",
        replace: "session_idle_seconds = 31536001",
        at: &[("session_idle_seconds", "http.session_idle_seconds")],
        says: &["out of range"],
    },
];

/// Run `frontdeskd ARGS`: (exit code, stdout, stderr).
fn frontdeskd(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(FRONTDESKD);
    cmd.args(args)
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("CREDENTIALS_DIRECTORY");
    output(cmd, None)
}

/// `dir/tls/`: a good pair (`server.*`), the key of another certificate (`other.key`),
/// and broken certificate files.
fn tls_files(dir: &Path) {
    use base64::Engine;

    let tls = dir.join("tls");
    std::fs::create_dir(&tls).expect("mkdir tls");
    let ca = certs::ca(&tls, "ca");
    certs::server(&tls, &ca, "server", "IP:127.0.0.1");
    certs::server(&tls, &ca, "other", "IP:127.0.0.1");
    std::fs::write(tls.join("garbage.pem"), "this is not a certificate\n").unwrap();
    std::fs::write(
        tls.join("badbase64.pem"),
        "-----BEGIN CERTIFICATE-----\n!!not*base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let junk = base64::engine::general_purpose::STANDARD
        .encode(b"these bytes are no DER certificate at all, just some text");
    std::fs::write(
        tls.join("junkder.pem"),
        format!("-----BEGIN CERTIFICATE-----\n{junk}\n-----END CERTIFICATE-----\n"),
    )
    .unwrap();
}

fn line_number(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// A client that connects to the https listener and never says hello must not hold up
/// SIGTERM (the handshake waits up to 10 s on its own).
#[test]
fn a_stalled_tls_handshake_does_not_delay_a_stop() {
    let pki_dir = tempfile::tempdir().expect("temp dir");
    let ca = certs::ca(pki_dir.path(), "ca");
    let (cert, key) = certs::server(pki_dir.path(), &ca, "server", "IP:127.0.0.1");
    let mut d = daemon_with_http(
        &format!(
            "tls_cert_file = {:?}\ntls_key_file = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
        |_| {},
    );
    let silent = std::net::TcpStream::connect(&d.http).expect("connect");
    // Let the daemon accept it and start waiting for the ClientHello.
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    d.signal(libc::SIGTERM);
    assert!(
        d.wait_exit(Duration::from_secs(30)).success(),
        "{}",
        d.log()
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?} with a handshake pending",
        asked.elapsed()
    );
    drop(silent);
}

#[test]
fn bad_tls_and_session_settings_are_config_errors_with_line_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    tls_files(dir.path());
    let good = TLS_GOOD.replace("{dir}", dir.path().to_str().unwrap());
    let data = dir.path().join("data");
    let socket = dir.path().join("control.sock");

    // The good file checks clean (relative pair found next to it), creating nothing.
    let path = dir.path().join("good.toml");
    std::fs::write(&path, &good).unwrap();
    let (code, out, err) = frontdeskd(&["--check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "the good TLS config: {out}{err}");
    assert!(!data.exists(), "--check-config created the data dir");

    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        assert!(
            good.contains(case.find),
            "{}: {:?} not in the good file",
            case.name,
            case.find
        );
        let bad = good.replacen(case.find, case.replace, 1);
        let path = dir.path().join(format!("bad-{i}.toml"));
        std::fs::write(&path, &bad).unwrap();
        let path_str = path.to_str().unwrap();
        let wants: Vec<String> = case
            .at
            .iter()
            .filter_map(|(needle, key)| {
                let line = line_number(&bad, needle)?;
                Some(format!("{path_str}:{line}: {key}: "))
            })
            .collect();
        assert!(!wants.is_empty(), "{}: no line to point at", case.name);
        for args in [
            vec!["--check-config", "--config", path_str],
            vec!["--config", path_str],
        ] {
            let (code, out, err) = frontdeskd(&args);
            if code != 78 {
                failures.push(format!(
                    "{} {args:?}: exit code {code}, want 78\n{out}{err}",
                    case.name
                ));
            }
            match err.lines().find(|l| wants.iter().any(|w| l.contains(w))) {
                None => failures.push(format!(
                    "{} {args:?}: stderr has none of {wants:?}:\n{err}",
                    case.name
                )),
                Some(line) => {
                    for s in case.says {
                        if !line.contains(s) {
                            failures.push(format!(
                                "{} {args:?}: the message lacks {s:?}: {line}",
                                case.name
                            ));
                        }
                    }
                }
            }
            // Refused before anything was opened or bound (the process has exited, so
            // nothing listens either).
            if data.exists() || socket.exists() {
                failures.push(format!(
                    "{} {args:?}: the data dir or control socket was created",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A session made by a plain http sign-in.
struct SignedIn {
    agent: Agent,
    /// The `Set-Cookie` value of the sign-in.
    set_cookie: String,
    /// Before the sign-in request was sent (the session is made after this).
    sent: Instant,
    /// When the sign-in answer was in (the session was made before this).
    answered: Instant,
    /// When the last use (first the `GET /inbox` for the CSRF token) was sent.
    last_use: Instant,
    /// When the answer to the first `GET /inbox` was in (the last use of an agent that
    /// then leaves the session alone).
    first_page: Instant,
}

fn sign_in(d: &Daemon, email: &str) -> SignedIn {
    let sent = Instant::now();
    let r = post_login(d, email, PASSWORD);
    let answered = Instant::now();
    assert_eq!(r.status, 303, "sign-in as {email}: {}", r.text());
    let set_cookie = r.header("set-cookie").expect("Set-Cookie").to_string();
    let mut agent = Agent {
        addr: d.http.clone(),
        cookie: set_cookie.split(';').next().unwrap().trim().to_string(),
        csrf: String::new(),
    };
    let last_use = Instant::now();
    let page = agent.get("/inbox");
    let first_page = Instant::now();
    assert_eq!(page.status, 200, "{}", page.text());
    agent.csrf = attribute(&page.text(), "data-csrf=\"").expect("data-csrf on the page");
    SignedIn {
        agent,
        set_cookie,
        sent,
        answered,
        last_use,
        first_page,
    }
}

/// A daemon on `limits` with one agent page user per name and one ticket; its id.
fn session_daemon(limits: &str, agents: &[&str]) -> (Daemon, i64) {
    let d = daemon_with_http(limits, |_| {});
    for a in agents {
        add_agent(&d, &format!("{a}@acme.test"), a);
    }
    deliver(
        &d,
        "c@customer.example.org",
        "support@example.com",
        &text_mail(
            "c@customer.example.org",
            "Session limits",
            "limits.1@customer.example.org",
            "hello",
        ),
    );
    let id = ticket_id(&d, "Session limits");
    (d, id)
}

/// A session that has ended: a POST of a note with its valid CSRF token is 401 and adds
/// nothing, an agent page redirects to /login, and the event stream is refused.
fn assert_ended(d: &Daemon, who: &Agent, id: i64, what: &str) {
    let before = show(d, id);
    let r = who.post(
        &format!("/tickets/{id}/note"),
        &[
            ("body", "written with an ended session"),
            ("csrf", &who.csrf),
        ],
        &[],
    );
    assert_eq!(
        r.status,
        401,
        "{what}: POST with a valid token: {}",
        r.text()
    );
    assert_eq!(
        show(d, id),
        before,
        "{what}: the refused POST changed the ticket"
    );
    let r = who.get("/inbox");
    assert_eq!(r.status, 303, "{what}: GET /inbox: {}", r.text());
    assert_eq!(r.header("location"), Some("/login?next=%2Finbox"), "{what}");
    let r = http(&who.addr, "GET", "/events", &[("Cookie", &who.cookie)], b"");
    assert_eq!(r.status, 401, "{what}: GET /events: {}", r.text());
}

/// Use `s` (GET /inbox) every [`USE_EVERY`], the last time at `until` or later; every
/// answer must be 200. Err when two uses were too far apart for the idle limit to be sure
/// to spare the session, and it ended.
fn keep_using(s: &mut SignedIn, until: Instant) -> Result<(), String> {
    loop {
        std::thread::sleep(USE_EVERY);
        let sent = Instant::now();
        let r = s.agent.get("/inbox");
        let gap = sent.elapsed() + (sent - s.last_use);
        if r.status != 200 {
            if gap >= MAX_GAP {
                return Err(format!(
                    "uses {gap:?} apart, the session ended: too slow to tell"
                ));
            }
            panic!(
                "a session used {gap:?} before ended: {} {:?} {}",
                r.status,
                r.header("location"),
                r.text()
            );
        }
        s.last_use = sent;
        if sent >= until {
            return Ok(());
        }
    }
}

/// Try `scenario` up to three times; a run that was too slow to prove anything
/// (Err) is repeated.
fn up_to_three_times(mut scenario: impl FnMut() -> Result<(), String>) {
    for attempt in 1..=3 {
        match scenario() {
            Ok(()) => return,
            Err(why) if attempt < 3 => eprintln!("attempt {attempt} inconclusive: {why}"),
            Err(why) => panic!("three inconclusive attempts, the last: {why}"),
        }
    }
}

/// `session_idle_seconds = 2`: a session used every 0.3 s lives on past 2 s; one left
/// alone for 3 s is gone (and a POST with its valid token changes nothing).
#[test]
fn an_unused_session_ends_after_the_idle_limit_a_used_one_lives_on() {
    let (d, id) = session_daemon(
        "session_idle_seconds = 2\nsession_lifetime_seconds = 3600\n",
        &["jane", "bob"],
    );
    up_to_three_times(|| {
        let bob = sign_in(&d, "bob@acme.test");
        assert_eq!(max_age(&bob.set_cookie), Some(3600), "{}", bob.set_cookie);
        assert!(!is_secure(&bob.set_cookie), "{}", bob.set_cookie);
        let mut jane = sign_in(&d, "jane@acme.test");
        // Jane works for 3.5 s (well past the 2 s idle limit), and at least until Bob has
        // left his session alone for 3 s.
        let until = (jane.answered + Duration::from_millis(3500))
            .max(bob.first_page + Duration::from_secs(3));
        keep_using(&mut jane, until)?;
        // Bob's session is gone (lifetime is an hour: it was the idle limit).
        assert!(bob.first_page.elapsed() >= Duration::from_secs(3));
        assert_ended(&d, &bob.agent, id, "a session idle for 3 s (limit 2 s)");
        Ok(())
    });
}

/// `session_lifetime_seconds = 5` (idle 2): a session used every 0.3 s ends 5 s after
/// sign-in anyway; the cookie's Max-Age is 5.
#[test]
fn a_session_in_use_ends_at_its_lifetime() {
    let (d, id) = session_daemon(
        "session_idle_seconds = 2\nsession_lifetime_seconds = 5\n",
        &["jane"],
    );
    up_to_three_times(|| {
        let mut jane = sign_in(&d, "jane@acme.test");
        assert_eq!(max_age(&jane.set_cookie), Some(5), "{}", jane.set_cookie);
        assert!(!is_secure(&jane.set_cookie), "{}", jane.set_cookie);
        let lifetime = Duration::from_secs(5);
        // Used every 0.3 s: alive for sure while the previous use is under 1 s before and
        // the sign-in under 4 s before; ended for sure once 5 s have passed since the
        // sign-in answer.
        loop {
            std::thread::sleep(USE_EVERY);
            let sent = Instant::now();
            let r = jane.agent.get("/inbox");
            let gap = sent.elapsed() + (sent - jane.last_use);
            if r.status == 200 {
                assert!(
                    sent < jane.answered + lifetime,
                    "the session still works {:?} after sign-in (lifetime 5 s)",
                    sent - jane.answered
                );
                jane.last_use = sent;
                continue;
            }
            assert_eq!(r.status, 303, "{}", r.text());
            assert_eq!(r.header("location"), Some("/login?next=%2Finbox"));
            if gap >= MAX_GAP {
                return Err(format!(
                    "uses {gap:?} apart, the session ended: idle or lifetime?"
                ));
            }
            let age = sent.elapsed() + (sent - jane.sent);
            assert!(
                age >= Duration::from_secs(4),
                "a session in use ended {age:?} after sign-in, before its 5 s lifetime"
            );
            break;
        }
        assert_ended(&d, &jane.agent, id, "a session past its lifetime");
        Ok(())
    });
}
