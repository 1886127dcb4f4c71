//! An agent changes their own password on their account page (the name in the header
//! leads there): the current one first, the new one twice. Their other sessions end and
//! this one stays; the old password no longer signs in, the new one does. A wrong
//! current password, two different new ones, a short one or a missing CSRF token change
//! nothing, and wrong current passwords count against the account's sign-in limit. A
//! password set by the sysadmin with frontdeskctl ends every session of the agent.

use crate::browser::Browser;
use crate::{add_agent, daemon, http_sign_in, post_login, Agent, PASSWORD};

const NEW: &str = "a much longer passphrase";

/// Whether the agent's session still opens the inbox.
fn signed_in(agent: &Agent) -> bool {
    let r = agent.get("/inbox");
    match r.status {
        200 => true,
        303 => false,
        other => panic!("unexpected {other}: {}", r.text()),
    }
}

#[test]
fn an_agent_changes_their_password_and_their_other_sessions_end() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let phone = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let laptop = http_sign_in(&d, "jane@acme.test", PASSWORD);

    // Refused, nothing changes.
    for (form, says) in [
        (
            [
                ("current", "not my password"),
                ("new", NEW),
                ("repeat", NEW),
            ],
            "the current password is wrong",
        ),
        (
            [
                ("current", PASSWORD),
                ("new", NEW),
                ("repeat", "a much longer passphrasE"),
            ],
            "the two new passwords differ",
        ),
        (
            [("current", PASSWORD), ("new", "short"), ("repeat", "short")],
            "at least 8 characters",
        ),
    ] {
        let mut fields = form.to_vec();
        fields.push(("csrf", &laptop.csrf));
        let r = laptop.post("/me/password", &fields, &[]);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(says), "{says}: {}", r.text());
    }
    let r = laptop.post(
        "/me/password",
        &[("current", PASSWORD), ("new", NEW), ("repeat", NEW)],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(signed_in(&phone) && signed_in(&laptop));
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 303);

    // In Chromium, from the header's link.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.click_css("header a.me");
    b.wait_path("/me");
    for (name, value) in [("current", PASSWORD), ("new", NEW), ("repeat", NEW)] {
        let input = b.wait_find(&format!("form.password input[name={name}]"));
        b.type_into(&input, value);
    }
    b.click_css("form.password button[type=submit]");
    b.wait_text("p.flash", "Your password is changed");
    // This session stays; the two others are over.
    b.open("/inbox");
    b.wait_path("/inbox");
    assert!(!signed_in(&phone) && !signed_in(&laptop));
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 401);
    assert_eq!(post_login(&d, "jane@acme.test", NEW).status, 303);

    // The sysadmin sets a new one: every session ends, the browser's too.
    let (code, out, err) = d.ctl_stdin(
        &["users", "passwd", "jane@acme.test"],
        Some(format!("{PASSWORD}\n").as_bytes()),
    );
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("session(s) signed out"), "{out}");
    b.open("/inbox");
    b.wait_path("/login");
}

#[test]
fn wrong_current_passwords_count_against_the_sign_in_limit() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = jane.post(
            "/me/password",
            &[
                ("csrf", &jane.csrf),
                ("current", "guess"),
                ("new", NEW),
                ("repeat", NEW),
            ],
            &[],
        );
        statuses.push(r.status);
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429]);
    // The account is held at the sign-in page too, even with the right password.
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 429);
}

/// Sign in over plain HTTP from a browser that says `user_agent`.
fn sign_in_from(d: &crate::harness::Daemon, user_agent: &str) -> Agent {
    let body = format!(
        "email={}&password={}",
        crate::form_encode("jane@acme.test"),
        crate::form_encode(PASSWORD)
    );
    let r = crate::http(
        &d.http,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("User-Agent", user_agent),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    crate::signed_in_by(d, &r, "/inbox")
}

#[test]
fn an_agent_sees_where_they_are_signed_in_and_signs_the_others_out() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    let phone = sign_in_from(
        &d,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    );
    let laptop = sign_in_from(
        &d,
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    );
    let bob = http_sign_in(&d, "bob@acme.test", PASSWORD);
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/me#sessions");
    b.wait_text("table.sessions", "Safari on iPhone");
    let rows = b.js(
        "return Array.from(document.querySelectorAll('table.sessions tbody tr')).map(function (r) { return r.cells[0].textContent + ' | ' + r.cells[1].textContent + ' | ' + r.cells[4].textContent; });",
        serde_json::json!([]),
    );
    let rows: Vec<String> = serde_json::from_value(rows).expect("rows");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("Chrome on Linux | 127.0.0.1 | This browser")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("Firefox on Linux | 127.0.0.1 | Sign out")),
        "{rows:?}"
    );
    assert!(
        !b.text("table.sessions").contains("bob"),
        "another agent's sessions"
    );

    // Sign the phone out: only the phone.
    b.js(
        "Array.from(document.querySelectorAll('table.sessions tbody tr')).find(function (r) { return r.cells[0].textContent.indexOf('iPhone') >= 0; }).querySelector('button').click(); return true;",
        serde_json::json!([]),
    );
    b.wait_text("p.flash", "That session is signed out.");
    assert!(!signed_in(&phone), "the phone is still signed in");
    assert!(signed_in(&laptop) && signed_in(&bob));
    // Without the form's token nothing happens; another agent's session is not hers.
    let jane = sign_in_from(&d, "curl/8.5.0");
    let r = jane.post("/me/sessions/others", &[], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(signed_in(&laptop));
    let bobs_token = bob.cookie.trim_start_matches("fd_session=");
    let bobs_hash = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(bobs_token.as_bytes()))
    };
    let r = jane.post(
        "/me/sessions/end",
        &[("csrf", &jane.csrf), ("session", &bobs_hash)],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(signed_in(&bob), "jane signed bob out");

    // Everywhere else: the laptop and the curl session go, this browser stays.
    b.open("/me#sessions");
    b.click_css("form.end-other-sessions button[type=submit]");
    b.wait_text("p.flash", "Signed out everywhere else.");
    assert!(!signed_in(&laptop) && !signed_in(&jane));
    assert!(signed_in(&bob));
    b.open("/inbox");
    b.wait_path("/inbox");
    // Nothing else to sign out.
    b.open("/me");
    b.wait_find("table.sessions");
    assert!(
        b.find("form.end-other-sessions").is_none(),
        "{}",
        b.source()
    );
}
