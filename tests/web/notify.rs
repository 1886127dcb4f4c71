//! Mail to agents about their tickets (`[notifications]`): a ticket a colleague assigns
//! them, the customer writing on a ticket they own, a colleague's `@` mention, and (for
//! those who ask) a new ticket nobody owns. Never for what they did themselves, nor for
//! a ticket they read before the mail was due; each agent picks the kinds on their
//! account page (or `frontdeskctl users set --notify`). A notification pending when the
//! daemon is killed is mailed after the restart, once. An agent following a ticket
//! (the page's "Follow") hears of its mail, replies and notes, once per message, and
//! finds it in the Following view. Mail goes through the real SMTP receiver. With the
//! desk open in a tab, the same news shows at once as a desktop notification in Chromium
//! once the agent turns that on, mail or no mail.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon, Settings};
use crate::receiver::{Received, Receiver};
use crate::{
    add_agent, http_sign_in, olga_asks_about_the_hinge, olga_two_tickets, Agent, PASSWORD, SUPPORT,
};

const JANE: &str = "jane@acme.test";
const BEA: &str = "bea@acme.test";
const AL: &str = "al@acme.test";
const FROM: &str = "desk-noreply@acme.test";
const WITHIN: Duration = Duration::from_secs(20);

/// A daemon relaying to `rx`, with notifications from [`FROM`] after `delay` seconds.
fn daemon_notifying(rx: &Receiver, delay: u32) -> Daemon {
    Daemon::start_with(Settings {
        channels: crate::relaying(
            rx.port,
            "",
            &format!(
                "[notifications]\nfrom = \"{FROM}\"\nfrom_name = \"Acme desk\"\ndelay_seconds = {delay}\n\n{SUPPORT}"
            ),
        ),
        ..Settings::default()
    })
}

/// The decoded subject of a received mail.
fn subject(m: &Received) -> String {
    mail_parser::MessageParser::default()
        .parse(&m.raw)
        .and_then(|p| p.subject().map(str::to_string))
        .unwrap_or_default()
}

/// The decoded text of a received mail.
pub(crate) fn body(m: &Received) -> String {
    mail_parser::MessageParser::default()
        .parse(&m.raw)
        .and_then(|p| p.body_text(0).map(|t| t.to_string()))
        .unwrap_or_default()
}

/// The subjects of every mail `to` got so far, in order of arrival.
fn subjects(rx: &Receiver, to: &str) -> Vec<String> {
    rx.for_rcpt(to).iter().map(subject).collect()
}

fn assign(who: &Agent, id: i64, to: &str) {
    let r = who.post(
        &format!("/tickets/{id}/assign"),
        &[("csrf", &who.csrf), ("to", to)],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
}

fn note(who: &Agent, id: i64, text: &str) {
    let r = who.post(
        &format!("/tickets/{id}/note"),
        &[("csrf", &who.csrf), ("body", text)],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
}

/// The `notify` list `users list` shows for `email`.
fn notify_of(d: &Daemon, email: &str) -> String {
    let users = d.ctl_json(&["users", "list"]);
    users["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == email))
        .and_then(|u| u["notify"].as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn agents_hear_of_assignments_customer_mail_and_mentions_but_not_their_own_doing() {
    let rx = Receiver::start();
    let d = daemon_notifying(&rx, 0);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, AL, "Al Brandt");
    let (code, out, err) = d.ctl(&["users", "set", AL, "--notify", "all"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(
        notify_of(&d, AL),
        "assigned,customer-reply,mention,followed,new-ticket,overdue,bad-rating"
    );
    assert_eq!(
        notify_of(&d, JANE),
        "assigned,customer-reply,mention,followed,overdue,bad-rating"
    );

    // Two new tickets nobody owns: Al asked to hear of those (in one mail or two,
    // as the notifier finds them), the others did not.
    let (hinge, invoice) = olga_two_tickets(&d, "notify");
    let al_said = || -> String {
        rx.for_rcpt(AL)
            .iter()
            .map(body)
            .collect::<Vec<_>>()
            .join("\n")
    };
    wait_until("Al hears of both new tickets", WITHIN, || {
        al_said().matches("New ticket #").count() == 2
    });
    let said = al_said();
    for (id, subject) in [(hinge, "Broken hinge"), (invoice, "Invoice copy")] {
        let line = format!("New ticket #{id} from Olga; nobody owns it yet: {subject}");
        assert!(said.contains(&line), "{said}");
    }

    // Bea hands the hinge ticket to Jane: Jane hears of it, from the notification
    // address, marked automatic, with a link to the ticket; Bea does not.
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let bea = http_sign_in(&d, BEA, PASSWORD);
    assign(&bea, hinge, &format!("agent:{JANE}"));
    let got = rx.wait_rcpt(JANE, 1, WITHIN);
    assert_eq!(
        subject(&got[0]),
        format!("Bea Kowalczyk assigned ticket #{hinge} to you: Broken hinge")
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].raw)
        .expect("parse");
    let from = parsed.from().and_then(|f| f.first()).expect("From");
    assert_eq!(from.address(), Some(FROM));
    assert_eq!(from.name(), Some("Acme desk"));
    assert_eq!(got[0].mail_from, FROM);
    assert!(got[0].contains("Auto-Submitted: auto-generated"));
    let text = body(&got[0]);
    assert!(text.starts_with("Hello Jane,"), "{text}");
    assert!(
        text.contains(&format!("http://{}/tickets/{hinge}", d.http)),
        "{text}"
    );
    // The mail belongs to no thread: the ticket's history and messages stay as they were.
    let shown = d.ctl_json(&["tickets", "show", &hinge.to_string()]);
    let history = shown.to_string();
    assert!(!history.contains(FROM), "{history}");

    // Olga writes again on Jane's ticket: Jane gets her new words, not the quote.
    olga_asks_about_the_hinge(&d, "notify");
    let got = rx.wait_rcpt(JANE, 2, WITHIN);
    assert_eq!(
        subject(&got[1]),
        format!("Olga wrote on ticket #{hinge}: Broken hinge")
    );
    assert!(body(&got[1]).contains("> Any news?"), "{}", body(&got[1]));

    // Bea names Jane in a note: Jane gets the note's words.
    note(&bea, hinge, "@jane she called too, please ring her back.");
    let got = rx.wait_rcpt(JANE, 3, WITHIN);
    assert_eq!(
        subject(&got[2]),
        format!("Bea Kowalczyk mentioned you on ticket #{hinge}: Broken hinge")
    );
    assert!(
        body(&got[2]).contains("> @jane she called too"),
        "{}",
        body(&got[2])
    );

    // What Jane does herself tells her nothing: taking the invoice ticket, a note of
    // hers naming herself. Bea's next mention is then the only new mail, alone.
    assign(&jane, invoice, &format!("agent:{JANE}"));
    note(&jane, invoice, "@jane remember the VAT number.");
    note(&bea, invoice, "@jane the VAT number is on the form.");
    let got = rx.wait_rcpt(JANE, 4, WITHIN);
    assert_eq!(
        subject(&got[3]),
        format!("Bea Kowalczyk mentioned you on ticket #{invoice}: Invoice copy")
    );
    // Bea was never told anything: every change was hers or not about her.
    assert_eq!(subjects(&rx, BEA), Vec::<String>::new());
    assert_eq!(subjects(&rx, JANE).len(), 4, "{:?}", subjects(&rx, JANE));
    // Al owns nothing and was named by nobody: only the two new tickets.
    let said = al_said();
    assert_eq!(said.matches("New ticket #").count(), 2, "{said}");
    for other in [" wrote on ", " assigned ", " mentioned "] {
        assert!(!said.contains(other), "{said}");
    }
}

#[test]
fn read_tickets_and_unticked_kinds_send_nothing_and_a_crash_loses_nothing() {
    let rx = Receiver::start();
    let mut d = daemon_notifying(&rx, 3);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    let (hinge, invoice) = olga_two_tickets(&d, "quiet");
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let bea = http_sign_in(&d, BEA, PASSWORD);

    // Assigned, but Jane opens the ticket before the mail is due: no mail for that.
    // Bea's mention a moment later is then the only mail, alone.
    assign(&bea, hinge, &format!("agent:{JANE}"));
    assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 200);
    note(&bea, invoice, "@jane can you take this one?");
    let got = rx.wait_rcpt(JANE, 1, WITHIN);
    assert_eq!(
        subject(&got[0]),
        format!("Bea Kowalczyk mentioned you on ticket #{invoice}: Invoice copy")
    );

    // The account page says what she gets; she unticks the customer's mail in the page.
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open("/me");
    let boxes = b.js(
        "return Array.from(document.querySelectorAll('form.notify input[name=notify]'))
            .map(i => i.value + '=' + i.checked);",
        serde_json::json!([]),
    );
    assert_eq!(
        boxes,
        serde_json::json!([
            "assigned=true",
            "customer-reply=true",
            "mention=true",
            "followed=true",
            "new-ticket=false",
            "overdue=true",
            "bad-rating=true"
        ])
    );
    b.click_css("form.notify input[value='customer-reply']");
    b.click_css("form.notify button[type=submit]");
    b.wait_text(".flash", "Saved");
    assert_eq!(
        notify_of(&d, JANE),
        "assigned,mention,followed,overdue,bad-rating"
    );
    assert!(
        b.find("form.notify input[value='customer-reply']:not(:checked)")
            .is_some(),
        "the page does not show the box unticked"
    );

    // Refused without the CSRF token, or with a kind that does not exist: unchanged.
    let r = jane.post("/me/notifications", &[("notify", "assigned")], &[]);
    assert_eq!(r.status, 403);
    let r = jane.post(
        "/me/notifications",
        &[
            ("csrf", &jane.csrf),
            ("notify", "assigned"),
            ("notify", "everything"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("everything"), "{}", r.text());
    let (code, _, err) = d.ctl(&["users", "set", JANE, "--notify", "assigned,bogus"]);
    assert_ne!(code, 0);
    assert!(err.contains("bogus"), "{err}");
    assert_eq!(
        notify_of(&d, JANE),
        "assigned,mention,followed,overdue,bad-rating"
    );

    // Olga writes on Jane's ticket: nothing, as chosen. Bea's next mention comes alone.
    olga_asks_about_the_hinge(&d, "quiet");
    note(&bea, hinge, "@jane Olga wrote again.");
    let got = rx.wait_rcpt(JANE, 2, WITHIN);
    assert_eq!(
        subject(&got[1]),
        format!("Bea Kowalczyk mentioned you on ticket #{hinge}: Broken hinge")
    );

    // A notification pending when the daemon is killed is mailed after the restart,
    // once. (First every mail so far is recorded as sent: one delivered in the instant
    // before its result is committed goes again after a crash, by design.)
    wait_until("the outbox has sent everything", WITHIN, || {
        d.ctl_json(&["outbox", "list", "--status", "queued"])["outbox"]
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    note(&bea, hinge, "@jane before the crash");
    d.crash();
    assert_eq!(rx.for_rcpt(JANE).len(), 2, "mailed before its delay");
    d.restart();
    let got = rx.wait_rcpt(JANE, 3, WITHIN);
    assert!(
        body(&got[2]).contains("> @jane before the crash"),
        "{}",
        body(&got[2])
    );
    // Nothing twice: another mention, after the first, is the fourth and last.
    let bea = http_sign_in(&d, BEA, PASSWORD);
    note(&bea, invoice, "@jane after the crash");
    let got = rx.wait_rcpt(JANE, 4, WITHIN);
    assert!(
        body(&got[3]).contains("after the crash"),
        "{}",
        body(&got[3])
    );
    assert_eq!(rx.for_rcpt(JANE).len(), 4);
    assert_eq!(rx.for_rcpt(BEA).len(), 0);

    // Bea takes the hinge ticket and later hands it to Jane's team, which has only
    // Jane: she read that ticket long before, yet being handed it is news to her.
    d.ctl_json(&["teams", "add", "tier1"]);
    d.ctl_json(&["teams", "members", "tier1", "--add", JANE]);
    let jane = http_sign_in(&d, JANE, PASSWORD);
    assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 200);
    assign(&bea, hinge, &format!("agent:{BEA}"));
    assign(&bea, hinge, "team:tier1");
    let got = rx.wait_rcpt(JANE, 5, WITHIN);
    assert_eq!(
        subject(&got[4]),
        format!("Bea Kowalczyk assigned ticket #{hinge} to you: Broken hinge")
    );
}

#[test]
fn without_notifications_the_account_page_says_so_and_no_mail_goes() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "", SUPPORT),
        ..Settings::default()
    });
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    let (hinge, _) = olga_two_tickets(&d, "off");
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let page = jane.get("/me").text();
    assert!(page.contains("sends no such mail yet"), "{page}");
    let bea = http_sign_in(&d, BEA, PASSWORD);
    assign(&bea, hinge, &format!("agent:{JANE}"));
    note(&bea, hinge, "@jane look");
    // A reply Bea sends is the sentinel: once it arrives, a notification queued before
    // it would have arrived too.
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &hinge.to_string(), "--as", BEA],
        Some(b"We are on it."),
    );
    assert_eq!(code, 0, "{err}{out}");
    rx.wait_rcpt("olga@customer.example.org", 1, WITHIN);
    assert_eq!(rx.for_rcpt(JANE).len(), 0);
}

#[test]
fn following_a_ticket_brings_its_news_and_lists_it_under_following() {
    let rx = Receiver::start();
    let d = daemon_notifying(&rx, 0);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, AL, "Al Brandt");
    let (hinge, invoice) = olga_two_tickets(&d, "follow");
    let (code, out, err) = d.ctl(&["tickets", "assign", &hinge.to_string(), AL]);
    assert_eq!(code, 0, "{err}{out}");
    rx.wait_rcpt(AL, 1, WITHIN);

    // Bea follows Al's ticket from its page: the button turns, the panel names her,
    // and her Following view lists it.
    let b = Browser::start(&d.http);
    b.sign_in(BEA, PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    assert_eq!(b.text("#follow-ticket"), "Follow");
    b.click_css("#follow-ticket");
    b.wait_text("#follow-ticket", "Unfollow");
    assert_eq!(b.text("p.followers"), "Followed by Bea Kowalczyk");
    assert!(b.text("ol.events").contains("follows this ticket"));
    // She goes on with other work: a ticket page left open would show her the news
    // live, and what she has seen is not mailed to her.
    b.open("/inbox");
    let bea = http_sign_in(&d, BEA, PASSWORD);
    assert_eq!(crate::inbox_view(&bea, "following"), (vec![hinge], 1));
    let jane = http_sign_in(&d, JANE, PASSWORD);
    assert_eq!(crate::inbox_view(&jane, "following"), (vec![], 0));

    // Olga writes: Al hears as the owner, Bea as a follower; one mail each.
    olga_asks_about_the_hinge(&d, "follow");
    let got = rx.wait_rcpt(BEA, 1, WITHIN);
    assert_eq!(
        subject(&got[0]),
        format!("Olga wrote on ticket #{hinge}, which you follow: Broken hinge")
    );
    assert!(body(&got[0]).contains("> Any news?"), "{}", body(&got[0]));
    let got = rx.wait_rcpt(AL, 2, WITHIN);
    assert_eq!(
        subject(&got[1]),
        format!("Olga wrote on ticket #{hinge}: Broken hinge")
    );

    // Jane's note and Jane's reply reach Bea; a note naming Bea is one mail, the mention.
    note(&jane, hinge, "Ordered a new hinge.");
    let got = rx.wait_rcpt(BEA, 2, WITHIN);
    assert_eq!(
        subject(&got[1]),
        format!("Jane Doe added a note on ticket #{hinge}, which you follow: Broken hinge")
    );
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &hinge.to_string(), "--as", JANE],
        Some(b"Olga, a new hinge is on its way."),
    );
    assert_eq!(code, 0, "{err}{out}");
    let got = rx.wait_rcpt(BEA, 3, WITHIN);
    assert_eq!(
        subject(&got[2]),
        format!("Jane Doe replied on ticket #{hinge}, which you follow: Broken hinge")
    );
    note(&jane, hinge, "@bea can you check the stock?");
    let got = rx.wait_rcpt(BEA, 4, WITHIN);
    assert_eq!(
        subject(&got[3]),
        format!("Jane Doe mentioned you on ticket #{hinge}: Broken hinge")
    );
    // Her own note tells her nothing; after she unfollows, neither does Olga's mail.
    note(&bea, hinge, "Stock checked: two left.");
    b.open(&format!("/tickets/{hinge}"));
    b.click_css("#follow-ticket");
    b.wait_text("#follow-ticket", "Follow");
    assert!(b.find("p.followers").is_none());
    assert_eq!(crate::inbox_view(&bea, "following"), (vec![], 0));
    crate::deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &crate::text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: Broken hinge",
            "follow.9@customer.example.org",
            "Thanks!",
            "In-Reply-To: <follow.1@customer.example.org>\r\n",
        ),
    );
    // Al's mail about it is the sentinel: Bea's would have been queued with it.
    rx.wait_rcpt(AL, 3, WITHIN);
    assert_eq!(rx.for_rcpt(BEA).len(), 4, "{:?}", subjects(&rx, BEA));

    // Refused without the token, or without saying on or off: nothing changes.
    let r = bea.post(&format!("/tickets/{invoice}/follow"), &[("on", "1")], &[]);
    assert_eq!(r.status, 403);
    let r = bea.post(
        &format!("/tickets/{invoice}/follow"),
        &[("csrf", &bea.csrf), ("on", "yes")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(crate::inbox_view(&bea, "following"), (vec![], 0));
    // A merge takes the followers along.
    let r = bea.post(
        &format!("/tickets/{invoice}/follow"),
        &[("csrf", &bea.csrf), ("on", "1")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let (code, out, err) = d.ctl(&[
        "tickets",
        "merge",
        &invoice.to_string(),
        "--into",
        &hinge.to_string(),
    ]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(crate::inbox_view(&bea, "following"), (vec![hinge], 1));

    // The sysadmin does the same for an agent with frontdeskctl; an unknown agent or
    // ticket is refused.
    let follow = |args: &[&str]| d.ctl(&[&["tickets", "follow"], args].concat());
    let (code, out, err) = follow(&[&hinge.to_string(), "--as", JANE]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(crate::inbox_view(&jane, "following"), (vec![hinge], 1));
    let (code, out, err) = follow(&[&hinge.to_string(), "--as", JANE]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("already follows"), "{out}");
    let (code, out, err) = follow(&[&hinge.to_string(), "--as", JANE, "--stop"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(crate::inbox_view(&jane, "following"), (vec![], 0));
    for args in [
        vec![hinge.to_string(), "--as".into(), "nobody@acme.test".into()],
        vec!["999".into(), "--as".into(), JANE.into()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, _) = follow(&args);
        assert_ne!(code, 0, "{out}");
    }
    assert_eq!(crate::inbox_view(&jane, "following"), (vec![], 0));
}

/// The desktop notifications the page's service worker shows now: (title, body, url).
pub(crate) fn on_screen(b: &Browser) -> Vec<(String, String, String)> {
    let shown = b.js_async(
        "var done = arguments[arguments.length - 1];
         navigator.serviceWorker.getRegistration('/').then(function (r) {
           return r ? r.getNotifications() : [];
         }).then(function (list) {
           done(list.map(function (n) { return [n.title, n.body, n.data && n.data.url]; }));
         }, function (e) { done('failed: ' + e); });",
        serde_json::json!([]),
    );
    shown
        .as_array()
        .unwrap_or_else(|| panic!("getNotifications: {shown}"))
        .iter()
        .map(|n| {
            let field = |i: usize| n[i].as_str().unwrap_or("").to_string();
            (field(0), field(1), field(2))
        })
        .collect()
}

/// Wait until the page's notification worker is running.
pub(crate) fn wait_for_worker(b: &Browser) {
    b.wait_until("the notification worker", |b| {
        b.js_async(
            "var done = arguments[arguments.length - 1];
             navigator.serviceWorker.getRegistration('/').then(function (r) { done(!!(r && r.active)); });",
            serde_json::json!([]),
        ) == true
    });
}

#[test]
fn an_agent_who_turns_them_on_sees_their_news_on_screen_at_once() {
    // No [notifications]: desktop notifications need no mail.
    let d = crate::daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    let (hinge, invoice) = olga_two_tickets(&d, "screen");
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);

    // Off until Jane turns it on; the browser then asks her (answered yes here).
    b.open("/me");
    b.wait_text("#desktop-state", "Off in this browser");
    b.set_permission("notifications", "granted");
    b.click_css("#desktop-on");
    b.wait_text("#desktop-state", "On in this browser");
    assert!(b.find("#desktop-on[hidden]").is_some(), "the button stays");

    b.open("/inbox");
    b.wait_event_stream();
    wait_for_worker(&b);
    // News for Bea is not Jane's; Jane's own doing tells her nothing.
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let bea = http_sign_in(&d, BEA, PASSWORD);
    assign(&jane, invoice, &format!("agent:{BEA}"));
    assign(&jane, hinge, &format!("agent:{JANE}"));
    note(&jane, hinge, "@jane ring Olga tomorrow.");
    // Bea names Jane: that shows, with the ticket's subject, the note, and its link.
    note(
        &bea,
        hinge,
        "@jane she called again, please ring her back today.",
    );
    b.wait_until("Bea's mention reaching Jane's page", |b| told(b) != 0);
    b.wait_until("Bea's mention on Jane's screen", |b| {
        !on_screen(b).is_empty()
    });
    let shown = on_screen(&b);
    assert_eq!(
        shown,
        vec![(
            format!("Bea Kowalczyk mentioned you on ticket #{hinge}"),
            "Broken hinge\n@jane she called again, please ring her back today.".to_string(),
            format!("/tickets/{hinge}"),
        )]
    );
    // Bea hands the invoice back to Jane: a second one. (Waited for by its title alone:
    // under load headless Chromium sometimes lets go of the first one by now, which a
    // desktop's notification centre would keep.)
    assign(&bea, invoice, &format!("agent:{JANE}"));
    let assigned = format!("Bea Kowalczyk assigned ticket #{invoice} to you");
    b.wait_until("the assignment on Jane's screen", |b| {
        on_screen(b).iter().any(|(title, ..)| *title == assigned)
    });
    let mentions = on_screen(&b)
        .iter()
        .filter(|(title, ..)| title.contains("mentioned you"))
        .count();
    assert!(
        mentions <= 1,
        "the mention is not shown twice: {:?}",
        on_screen(&b)
    );
    // The worker that shows them is served to anyone (it holds nothing) as a script.
    let r = crate::http(&d.http, "GET", "/notify-worker.js", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}

/// How many notices the current tab was told (`window.__fdNotices`).
fn told(b: &Browser) -> usize {
    b.js(
        "return (window.__fdNotices || []).length;",
        serde_json::json!([]),
    )
    .as_u64()
    .unwrap_or(0) as usize
}

#[test]
fn two_tabs_show_a_notification_once_and_none_for_the_ticket_on_screen() {
    let d = crate::daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    let (hinge, invoice) = olga_two_tickets(&d, "tabs");
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.set_permission("notifications", "granted");
    // The inbox in one tab, the hinge ticket in front in another.
    b.open("/inbox");
    b.wait_event_stream();
    wait_for_worker(&b);
    let inbox_tab = b.tab();
    b.new_tab();
    b.open(&format!("/tickets/{hinge}"));
    b.wait_event_stream();

    let bea = http_sign_in(&d, BEA, PASSWORD);
    // The test stays in the ticket's tab until the end: looking into another tab would
    // bring it to the front, and the ticket off screen.
    // On the ticket Jane is reading: her tabs hear of it, the screen shows nothing.
    note(&bea, hinge, "@jane the hinge ships Monday.");
    b.wait_until("the hinge mention reaching the ticket's tab", |b| {
        told(b) == 1
    });
    // On the other ticket: both tabs pass it on, the screen shows it once.
    note(&bea, invoice, "@jane the invoice is paid.");
    b.wait_until("the invoice mention reaching the ticket's tab", |b| {
        told(b) == 2
    });
    b.wait_until("the invoice mention on Jane's screen", |b| {
        !on_screen(b).is_empty()
    });
    // Give a second copy or the hinge's a moment to show up, if either were going to
    // (each tab passes its notices on in order, so the hinge's was decided first).
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        on_screen(&b),
        vec![(
            format!("Bea Kowalczyk mentioned you on ticket #{invoice}"),
            "Invoice copy\n@jane the invoice is paid.".to_string(),
            format!("/tickets/{invoice}"),
        )],
        "one notification, for the ticket not on screen"
    );
    // The ticket's tab answers, from behind, whether it is on screen: the worker asks
    // the same of every tab, and a loaded machine can be slow to hide one.
    b.js(
        "var c = new BroadcastChannel('fd-test-visibility');
         c.onmessage = function () { c.postMessage(document.visibilityState); };",
        serde_json::json!([]),
    );
    // Jane goes back to the inbox tab, which had passed both on as well: the hinge
    // ticket is off screen, and its news shows.
    b.switch_to(&inbox_tab);
    assert_eq!(told(&b), 2, "the inbox tab was told both");
    // (One tab of a window is in front: the inbox's, so the ticket's is hidden.)
    b.wait_until("the inbox tab in front", |b| {
        b.js("return document.visibilityState;", serde_json::json!([])) == "visible"
    });
    b.wait_until("the ticket's tab hidden behind it", |b| {
        b.js_async(
            "var done = arguments[arguments.length - 1];
             var c = new BroadcastChannel('fd-test-visibility');
             var t = setTimeout(function () { c.close(); done('no answer'); }, 1000);
             c.onmessage = function (e) { clearTimeout(t); c.close(); done(e.data); };
             c.postMessage('?');",
            serde_json::json!([]),
        ) == "hidden"
    });
    note(&bea, hinge, "@jane the hinge ships Tuesday after all.");
    b.wait_until("the second hinge mention reaching the inbox tab", |b| {
        told(b) == 3
    });
    b.wait_until("the second hinge mention on Jane's screen", |b| {
        on_screen(b).len() == 2
    });
    assert_eq!(
        on_screen(&b)[1],
        (
            format!("Bea Kowalczyk mentioned you on ticket #{hinge}"),
            "Broken hinge\n@jane the hinge ships Tuesday after all.".to_string(),
            format!("/tickets/{hinge}"),
        )
    );
}

/// The worker's click handler, run in a page of the desk with the worker's browser APIs
/// (`clients`, `registration`) stood in for: headless Chromium cannot click a desktop
/// notification, so this is as near as a test gets. A click closes the notification and
/// brings the tab already showing its ticket to the front, or opens the ticket in a new
/// one; a notification without a link opens the inbox.
#[test]
fn a_click_on_a_notification_focuses_or_opens_its_ticket() {
    let d = crate::daemon(None);
    let b = Browser::start(&d.http);
    b.open("/login");
    let run = |tabs: serde_json::Value, data: serde_json::Value| -> serde_json::Value {
        b.js_async(
            "var done = arguments[arguments.length - 1];
             var tabs = arguments[0], data = arguments[1];
             var seen = { focused: null, opened: null, closed: false };
             window.clients = {
               matchAll: function () {
                 return Promise.resolve(tabs.map(function (u) {
                   return { url: u, focus: function () { seen.focused = u; return Promise.resolve(); } };
                 }));
               },
               openWindow: function (u) { seen.opened = u; return Promise.resolve(); }
             };
             function click() {
               var e = new Event('notificationclick');
               e.notification = { data: data, close: function () { seen.closed = true; } };
               var waited = null;
               e.waitUntil = function (p) { waited = p; };
               window.dispatchEvent(e);
               Promise.resolve(waited).then(function () { done(seen); }, function (err) { done('failed: ' + err); });
             }
             if (window.__workerLoaded) { click(); return; }
             var s = document.createElement('script');
             s.src = '/notify-worker.js';
             s.onload = function () { window.__workerLoaded = true; click(); };
             s.onerror = function () { done('the worker script did not load'); };
             document.head.appendChild(s);",
            serde_json::json!([tabs, data]),
        )
    };
    let origin = format!("http://{}", d.http);
    let ticket = format!("{origin}/tickets/7");
    // A tab already on the ticket comes to the front; nothing new opens.
    let seen = run(
        serde_json::json!([format!("{origin}/inbox"), ticket.clone()]),
        serde_json::json!({"url": "/tickets/7"}),
    );
    assert_eq!(seen["closed"], true, "{seen}");
    assert_eq!(seen["focused"], ticket.as_str(), "{seen}");
    assert!(seen["opened"].is_null(), "{seen}");
    // No tab on it: the ticket opens.
    let seen = run(
        serde_json::json!([format!("{origin}/inbox")]),
        serde_json::json!({"url": "/tickets/7"}),
    );
    assert!(seen["focused"].is_null(), "{seen}");
    assert_eq!(seen["opened"], ticket.as_str(), "{seen}");
    // Without a link: the inbox, on this desk.
    let seen = run(serde_json::json!([]), serde_json::Value::Null);
    assert_eq!(seen["opened"], format!("{origin}/inbox"), "{seen}");
}
