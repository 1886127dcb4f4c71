//! An open page says when it is not live: while the desk cannot be reached (and stops
//! saying so once it is back, catching up on what it missed), and when its session has
//! ended, with a link to sign in again, instead of a page that quietly stops changing.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, http_sign_in, text_mail, PASSWORD};

/// The banner's text, or `None` while it is hidden.
fn banner(b: &Browser) -> Option<String> {
    let v = b.js(
        "var e = document.getElementById('connection'); return e && !e.hidden ? e.textContent : null;",
        json!([]),
    );
    v.as_str().map(str::to_string)
}

fn mail(d: &crate::harness::Daemon, subject: &str, n: u32) {
    deliver(
        d,
        "kim@customer.example.org",
        "support@example.com",
        &text_mail(
            "Kim <kim@customer.example.org>",
            subject,
            &format!("conn.{n}@customer.example.org"),
            "Hello.",
        ),
    );
}

#[test]
fn a_page_says_when_the_desk_is_unreachable_and_catches_up_when_it_is_back() {
    let mut d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    // The same port after a restart, as under systemd: the open page reconnects there.
    let config = std::fs::read_to_string(&d.config_path).expect("config");
    let fixed = config.replacen(
        "[http]\nlisten = \"127.0.0.1:0\"",
        &format!("[http]\nlisten = {:?}", d.http),
        1,
    );
    assert_ne!(fixed, config, "the [http] listen line moved");
    std::fs::write(&d.config_path, fixed).expect("write config");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    b.wait_event_stream();
    assert_eq!(banner(&b), None, "a live page shows no banner");

    d.crash();
    b.wait_until("the page to say it lost the desk", |b| {
        banner(b).is_some_and(|t| t.contains("connection to the desk is lost"))
    });
    d.restart();
    // Mail that came while the page was cut off shows once it is back.
    mail(&d, "Sent while the page was cut off", 1);
    b.wait_until("the banner to go once the desk is back", |b| {
        banner(b).is_none()
    });
    b.wait_text("#main table.tickets", "Sent while the page was cut off");
    mail(&d, "Sent once it was back", 2);
    b.wait_text("#main table.tickets", "Sent once it was back");
}

#[test]
fn a_page_whose_session_ended_says_so_and_links_to_sign_in() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    b.wait_event_stream();

    // Jane changes her password on her phone: every other session ends.
    let phone = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let new = "a much longer passphrase";
    let r = phone.post(
        "/me/password",
        &[
            ("csrf", &phone.csrf),
            ("current", PASSWORD),
            ("new", new),
            ("repeat", new),
        ],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    // The next event on the page's stream finds the session gone.
    mail(&d, "After the password change", 3);
    b.wait_until("the page to say its session ended", |b| {
        banner(b).is_some_and(|t| t.contains("You are signed out"))
    });
    assert!(
        !b.text("#main").contains("After the password change"),
        "a page without a session showed new mail"
    );
    b.click_css("#connection a");
    b.wait_path("/login");
    // Signed in again, Jane is back on the page she was on.
    b.fill_login("jane@acme.test", new);
    b.wait_path("/inbox?view=all");
    b.wait_text("#main table.tickets", "After the password change");
    b.wait_event_stream();
    assert_eq!(banner(&b), None);
}
