//! Authentication: a wrong password, and XOAUTH2 through Dovecot's oauth2 passdb with a
//! local token endpoint, including a revoked refresh token.

use std::time::Duration;

use crate::dovecot::{Dovecot, Options, User};
use crate::harness::RawLmtp;
use crate::oauth_server::OAuthServer;
use crate::*;

/// Deliver one message to frontdesk's own LMTP listener for `rcpt`.
fn lmtp_to_frontdesk(d: &crate::harness::Daemon, rcpt: &str, raw: &[u8]) {
    let mut c = RawLmtp::connect(&d.lmtp);
    c.expect(220);
    c.send(b"LHLO test.example\r\n");
    c.expect(250);
    c.send(b"MAIL FROM:<someone@test.example>\r\n");
    c.expect(250);
    c.send(format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
    c.expect(250);
    c.send(b"DATA\r\n");
    c.expect(354);
    c.send(raw);
    c.send(b".\r\n");
    c.expect(250);
    c.send(b"QUIT\r\n");
}

/// A channel whose password is wrong shows `failing` and "authentication failed for
/// USER"; the daemon keeps running, a second channel with the right password (another
/// Dovecot user) keeps importing, LMTP ingest still works, and no password is logged.
#[test]
fn wrong_password_fails_one_channel_only() {
    let dovecot = Dovecot::start(Options {
        users: vec![
            User::new("good@test.example", "right-password-1"),
            User::new("bad@test.example", "right-password-2"),
        ],
        ..Options::default()
    });
    dovecot.save("good@test.example", "INBOX", &test_mail("good-old", 0));
    dovecot.save("bad@test.example", "INBOX", &test_mail("bad-old", 0));
    let good = ImapChannel::plain("good", &dovecot, "good@test.example");
    let mut bad = ImapChannel::plain("bad", &dovecot, "bad@test.example");
    bad.password_file = Some(dovecot.secret_file("bad.wrong", "wrong-password-xyz"));
    let mut d = daemon(&[&good, &bad]);

    let c = wait_channel(&d, "bad", "failing", SYNC_DEADLINE, |c| {
        c["state"] == "failing"
    });
    let error = folder0(&c)["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("authentication failed for bad@test.example"),
        "last_error does not say whose login failed: {error:?}"
    );
    assert!(folder0(&c)["last_error_at"].is_i64(), "{c:#}");
    // The health endpoint a monitor polls says so too, without failing the whole daemon.
    let health = http_get(&d.http, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""status":"degraded""#), "{health}");
    assert!(
        health.contains("authentication failed for bad@test.example"),
        "{health}"
    );
    wait_channel(&d, "good", "caught up", SYNC_DEADLINE, caught_up);
    wait_stored(&d, 1, SYNC_DEADLINE);

    dovecot.lmtp_deliver("good@test.example", &test_mail("good-new", 0));
    wait_stored(&d, 2, SYNC_DEADLINE);
    lmtp_to_frontdesk(&d, "good@example.com", &test_mail("lmtp-direct", 0));
    assert_eq!(stored_messages(&d), 3);
    assert!(d.is_running(), "daemon died");
    // It stays `failing` through its next retry: a refused login is not "connecting".
    let first = channel(&d, "bad");
    let since = folder0(&first)["last_error_at"].as_i64().unwrap_or(0);
    let c = wait_channel(&d, "bad", "a retry", SYNC_DEADLINE, |c| {
        assert_eq!(
            c["state"], "failing",
            "a channel with a wrong password left state failing while retrying: {c:#}"
        );
        folder0(c)["last_error_at"].as_i64().unwrap_or(0) > since
    });
    assert_eq!(folder0(&c)["imported"], 0);
    let log = d.log();
    for secret in ["wrong-password-xyz", "right-password-1", "right-password-2"] {
        assert!(!log.contains(secret), "a password is in the daemon log");
    }
    // The status line for humans says it too.
    let (code, out, err) = d.ctl(&["channels", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("authentication failed for bad@test.example"),
        "channels list:\n{out}"
    );

    // The sysadmin fixes the password file and asks for a sync now: the channel
    // recovers at once instead of at its next scheduled retry.
    // Wait for a retry scheduled far enough ahead (backoff grows) to tell the two apart.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let before = wait_channel(&d, "bad", "a distant retry", Duration::from_secs(60), |c| {
        folder0(c)["retry_at"]
            .as_i64()
            .is_some_and(|t| t >= now() + 6)
    });
    let retry_at = folder0(&before)["retry_at"].as_i64().unwrap_or(i64::MAX);
    let password_file = bad
        .password_file
        .clone()
        .expect("bad channel has a password file");
    std::fs::write(&password_file, "right-password-2").unwrap();
    let (code, out, err) = d.ctl(&["channels", "sync", "bad"]);
    assert_eq!(code, 0, "channels sync: {out}{err}");
    let c = wait_channel(&d, "bad", "recovered", SYNC_DEADLINE, |c| {
        c["state"] == "connected" && folder0(c)["imported"].as_u64().unwrap_or(0) >= 1
    });
    let synced = folder0(&c)["last_success"].as_i64().unwrap_or(i64::MAX);
    assert!(
        synced < retry_at,
        "recovered at {synced}, not before the scheduled retry at {retry_at}: {c:#}"
    );
    let (code, _, err) = d.ctl(&["channels", "sync", "nonexistent"]);
    assert_ne!(code, 0);
    assert!(err.contains("no channel named"), "{err}");
}

/// XOAUTH2 against Dovecot's oauth2 passdb: frontdesk trades the refresh token (with
/// client id and secret) for an access token at `token_url`, Dovecot checks it at the
/// introspection endpoint, and mail is imported (history, then new mail via IDLE). Then
/// the provider revokes the token and the session is kicked: the channel shows `failing`
/// with an error naming the refresh token, keeps the daemon up, and logs no token.
#[test]
fn xoauth2_imports_and_a_revoked_token_is_reported() {
    let user = "oauth@test.example";
    let oauth = OAuthServer::start(user, "frontdesk-test", "client-s3cret", "refresh-abc-123");
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "no-password-login-here")],
        oauth2_introspection_url: Some(oauth.introspection_url()),
        ..Options::default()
    });
    dovecot.save(user, "INBOX", &test_mail("oauth-old", 0));
    let mut ch = ImapChannel::plain("oauth", &dovecot, user);
    ch.password_file = None;
    ch.xoauth2 = Some((
        "frontdesk-test".into(),
        dovecot.secret_file("refresh-token", "refresh-abc-123"),
        oauth.token_url(),
        Some(dovecot.secret_file("client-secret", "client-s3cret")),
    ));
    let mut d = daemon(&[&ch]);
    wait_stored(&d, 1, SYNC_DEADLINE);
    wait_channel(&d, "oauth", "caught up", SYNC_DEADLINE, caught_up);
    {
        let s = oauth.state.lock().unwrap();
        assert!(!s.token_requests.is_empty(), "no token refresh");
        let r = &s.token_requests[0];
        assert_eq!(
            r.get("grant_type").map(String::as_str),
            Some("refresh_token")
        );
        assert_eq!(
            r.get("client_id").map(String::as_str),
            Some("frontdesk-test")
        );
        assert!(
            s.introspections.iter().any(|(_, active)| *active),
            "Dovecot never introspected a valid token: {:?}",
            s.introspections
        );
    }
    assert!(
        dovecot.log().contains("method=XOAUTH2"),
        "Dovecot did not log an XOAUTH2 login"
    );
    dovecot.lmtp_deliver(user, &test_mail("oauth-new", 0));
    wait_stored(&d, 2, SYNC_DEADLINE);

    oauth.revoke();
    dovecot.doveadm(&["kick", user]);
    let c = wait_channel(
        &d,
        "oauth",
        "failing with a refresh-token error",
        Duration::from_secs(45),
        |c| {
            c["state"] == "failing"
                && folder0(c)["last_error"]
                    .as_str()
                    .is_some_and(|e| e.to_lowercase().contains("refresh token"))
        },
    );
    let error = folder0(&c)["last_error"].as_str().unwrap().to_string();
    eprintln!("after revocation: {error}");
    assert!(
        error.contains("invalid_grant") || error.to_lowercase().contains("authoriz"),
        "error does not say the grant is gone: {error:?}"
    );
    assert!(d.is_running());
    let log = d.log();
    assert!(!log.contains("refresh-abc-123"), "refresh token logged");
    assert!(!log.contains("client-s3cret"), "client secret logged");
    assert!(!log.contains("at-1-"), "access token logged");
    assert_eq!(stored_messages(&d), 2);
}

/// A raw HTTP/1.1 GET, the whole response as text.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the HTTP listener");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}
