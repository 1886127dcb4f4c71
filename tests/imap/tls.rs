//! TLS: implicit and STARTTLS to a Dovecot with `ssl = required` and a certificate from a
//! CA the test makes, trusted through `ca_file`; a certificate from another CA, or for
//! another name, is refused with a clear error.

use crate::certs;
use crate::dovecot::{Dovecot, Options, ServerTls, User};
use crate::*;

/// Four channels against one TLS-only Dovecot whose certificate names only 127.0.0.1:
/// `implicit` (port of the imaps listener) and `starttls` (the imap listener) import the
/// existing message and a new one delivered later (IDLE over TLS); `wrongca` (ca_file is
/// another CA) and `wrongname` (host = "localhost") show state `failing` with an error
/// naming TLS and the certificate, store nothing, and do not disturb the others.
#[test]
fn implicit_tls_and_starttls_with_ca_file_and_bad_certificates_refused() {
    let pki = tempfile::tempdir().expect("temp dir");
    let good = certs::ca(pki.path(), "good-ca");
    let other = certs::ca(pki.path(), "other-ca");
    let (cert, key) = certs::server(pki.path(), &good, "server", "IP:127.0.0.1");
    let names = ["implicit", "starttls", "wrongca", "wrongname"];
    let dovecot = Dovecot::start(Options {
        users: names
            .iter()
            .map(|n| User::new(&format!("{n}@test.example"), &format!("pw-{n}")))
            .collect(),
        tls: Some(ServerTls { cert, key }),
        ..Options::default()
    });
    for n in names {
        dovecot.save(
            &format!("{n}@test.example"),
            "INBOX",
            &test_mail(&format!("{n}-old"), 0),
        );
    }
    let channel_for = |n: &str| {
        let mut ch = ImapChannel::plain(n, &dovecot, &format!("{n}@test.example"));
        ch.tls = "implicit";
        ch.port = dovecot.imaps_port;
        ch.ca_file = Some(good.cert.clone());
        ch
    };
    let implicit = channel_for("implicit");
    let mut starttls = channel_for("starttls");
    starttls.tls = "starttls";
    starttls.port = dovecot.imap_port;
    let mut wrongca = channel_for("wrongca");
    wrongca.ca_file = Some(other.cert.clone());
    let mut wrongname = channel_for("wrongname");
    wrongname.host = "localhost".into();

    let d = daemon(&[&implicit, &starttls, &wrongca, &wrongname]);
    wait_stored(&d, 2, SYNC_DEADLINE);
    for n in ["implicit", "starttls"] {
        let c = wait_channel(&d, n, "connected", SYNC_DEADLINE, caught_up);
        assert_eq!(folder0(&c)["idle_supported"], true, "{c:#}");
    }
    for (n, why) in [
        ("wrongca", "a certificate from another CA"),
        ("wrongname", "a certificate for another name"),
    ] {
        let c = wait_channel(&d, n, "failing", SYNC_DEADLINE, |c| c["state"] == "failing");
        let error = folder0(&c)["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let lower = error.to_lowercase();
        assert!(
            lower.contains("tls") && lower.contains("certificate"),
            "{n} ({why}): last_error does not name TLS and the certificate: {error:?}"
        );
        eprintln!("{n}: {error}");
    }
    for n in ["implicit", "starttls"] {
        dovecot.lmtp_deliver(
            &format!("{n}@test.example"),
            &test_mail(&format!("{n}-new"), 0),
        );
    }
    wait_stored(&d, 4, SYNC_DEADLINE);
    for n in ["implicit", "starttls"] {
        wait_channel(&d, n, "caught up", SYNC_DEADLINE, caught_up);
    }
    for n in ["wrongca", "wrongname"] {
        let c = channel(&d, n);
        assert_eq!(c["state"], "failing", "{c:#}");
        assert_eq!(folder0(&c)["imported"], 0, "{c:#}");
    }
    assert_eq!(stored_messages(&d), 4);
    // The server saw TLS sessions from frontdesk.
    assert!(
        dovecot.log().contains("TLS"),
        "no TLS session in the Dovecot log"
    );
}
