//! Macros (`[[macro]]`): one click applies a named set of changes to a ticket from its
//! page, or to the tickets ticked in the inbox: owner, status, priority, tags, an
//! internal note, a snooze. All of it or none: a ticket that cannot take one change
//! refuses the whole, and nothing changes on any ticket.

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::{add_agent, history, http_sign_in, olga_two_tickets, show, PASSWORD, SUPPORT};

/// Two pipelines: the usual Support one and Billing (`Triage`, then `Refunded`, closed).
pub const PIPELINES: &str = r#"
[[pipeline]]
name = "Support"
stages = [
  { name = "New" },
  { name = "Waiting on contact" },
  { name = "Waiting on us" },
  { name = "Closed", closed = true },
]

[[pipeline]]
name = "Billing"
stages = [
  { name = "Triage" },
  { name = "Refunded", closed = true },
]
"#;

const WAITING: &str = r#"
[[macro]]
name = "Waiting on the customer"
owner = "me"
status = "waiting on contact"
priority = "low"
tags = ["needs-info"]
untag = ["triage"]
note = "Asked for the order number."
snooze = "3d"
"#;

const ESCALATE: &str = r#"
[[macro]]
name = "Escalate"
owner = "nobody"
priority = "urgent"
tags = ["escalated"]
"#;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn settings(macros: &[&str]) -> Settings {
    Settings {
        channels: format!("{PIPELINES}{SUPPORT}{}", macros.concat()),
        ..Settings::default()
    }
}

/// The texts of a ticket's internal notes.
fn notes(d: &Daemon, id: i64) -> Vec<String> {
    show(d, id)["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["direction"] == "note")
                .map(|m| m["text"].as_str().unwrap_or("").trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_macro_applies_all_its_changes_in_one_click_or_none() {
    let d = Daemon::start_with(settings(&[WAITING, ESCALATE]));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "mac");
    d.ctl_json(&["tickets", "tag", &hinge.to_string(), "--add", "triage"]);
    assert_eq!(show(&d, hinge)["tags"], serde_json::json!(["triage"]));

    // On the ticket page: the menu says what the picked macro does.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    b.wait_text("form.macro", "Apply");
    assert_eq!(
        b.text("form.macro .macro-does"),
        "owner: whoever applies it · status Waiting on contact · priority low · tags +needs-info −triage · snooze 3 days · an internal note"
    );
    // `m` picks a macro from the keyboard.
    b.press("m");
    assert_eq!(b.focused_id(), "macro-menu");
    b.click_css("#macro-menu option[value='Escalate']");
    b.wait_until("the hint follows the menu", |b| {
        b.text("form.macro .macro-does") == "unassigned · priority urgent · tags +escalated"
    });
    b.click_css("#macro-menu option[value='Waiting on the customer']");
    let started = unix_now();
    b.click_css("#apply-macro");
    b.wait_until("the ticket page after the macro", |b| {
        b.ready() && b.text("main").contains("Asked for the order number.")
    });

    let t = show(&d, hinge);
    assert_eq!(t["owner"], "jane@acme.test", "{t}");
    assert_eq!(t["status"], "Waiting on contact");
    assert_eq!(t["priority"], "low");
    assert_eq!(t["tags"], serde_json::json!(["needs-info"]));
    assert_eq!(
        notes(&d, hinge),
        vec!["Asked for the order number.".to_string()]
    );
    let until = t["snoozed_until"].as_str().expect("snoozed").to_string();
    let until_unix =
        time::OffsetDateTime::parse(&until, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    assert!(
        (started + 3 * 86_400 - 5..=unix_now() + 3 * 86_400).contains(&until_unix),
        "snoozed three days: {until}"
    );
    // The history names the macro, then each change, by Jane.
    let h = history(&t);
    let at = |words: &str| {
        h.find(words)
            .unwrap_or_else(|| panic!("{words:?} not in the history:\n{h}"))
    };
    let named = at("applied macro \"Waiting on the customer\"");
    for change in [
        "assigned to jane@acme.test",
        "New → Waiting on contact",
        "priority medium → low",
        "+needs-info",
        "snoozed until",
    ] {
        assert!(at(change) > named, "{change} after the macro's name:\n{h}");
    }
    // The page shows it: the snooze, the note, the tags.
    let page = b.text("main");
    assert!(page.contains("Snoozed until"), "{page}");
    assert!(page.contains("needs-info"), "{page}");
    // Applied again, it changes nothing it need not: no second status or priority change.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post(
        &format!("/tickets/{hinge}/macro"),
        &[("csrf", &jane.csrf), ("macro", "waiting on the customer")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let again = history(&show(&d, hinge));
    assert_eq!(again.matches("→ Waiting on contact").count(), 1, "{again}");
    assert_eq!(again.matches("priority medium → low").count(), 1, "{again}");
    assert_eq!(again.matches("applied macro").count(), 2, "{again}");

    // From the inbox, to the ticked tickets at once.
    b.open("/inbox?view=all");
    b.wait_text("#main table.tickets", "Invoice copy");
    b.click_css(&format!("input[name=ticket][value='{hinge}']"));
    b.click_css(&format!("input[name=ticket][value='{invoice}']"));
    b.click_css("#bulk-macro option[value='Escalate']");
    b.click_css("#bulk-apply");
    b.wait_until("the inbox after the bulk macro", |b| {
        b.path() == "/inbox?view=all" && b.ready() && b.text("#bulk-count") == "none selected"
    });
    for id in [hinge, invoice] {
        let t = show(&d, id);
        assert_eq!(t["priority"], "urgent", "#{id}: {t}");
        assert!(t["owner"].is_null(), "#{id}: {t}");
        assert!(
            t["tags"].as_array().unwrap().contains(&"escalated".into()),
            "#{id}: {t}"
        );
        assert!(history(&t).contains("applied macro \"Escalate\""), "#{id}");
    }

    // All or none: the invoice moves to Billing, which has no "Waiting on contact";
    // the macro for both is refused, naming the ticket, and the hinge is untouched.
    let r = jane.post(
        &format!("/tickets/{invoice}/pipeline"),
        &[("csrf", &jane.csrf), ("pipeline", "Billing")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    d.ctl_json(&["tickets", "tag", &hinge.to_string(), "--add", "triage"]);
    let (hinge_s, invoice_s) = (hinge.to_string(), invoice.to_string());
    let before = (show(&d, hinge), show(&d, invoice));
    let r = jane.post(
        "/tickets/bulk",
        &[
            ("csrf", &jane.csrf),
            ("ticket", &hinge_s),
            ("ticket", &invoice_s),
            ("macro", "Waiting on the customer"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains(&format!("#{invoice}")) && r.text().contains("Waiting on contact"),
        "{}",
        r.text()
    );
    assert_eq!((show(&d, hinge), show(&d, invoice)), before);
    // The same from the invoice's page.
    let r = jane.post(
        &format!("/tickets/{invoice}/macro"),
        &[("csrf", &jane.csrf), ("macro", "Waiting on the customer")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Nothing was changed"), "{}", r.text());
    // No token, an unknown macro, no macro: refused, nothing changes.
    for (form, status, says) in [
        (vec![("macro", "Escalate")], 403, ""),
        (
            vec![("csrf", jane.csrf.as_str()), ("macro", "Close politely")],
            400,
            "no macro named \"Close politely\"",
        ),
        (vec![("csrf", jane.csrf.as_str())], 400, "Choose a macro"),
    ] {
        let r = jane.post(&format!("/tickets/{hinge}/macro"), &form, &[]);
        assert_eq!(r.status, status, "{form:?}: {}", r.text());
        assert!(r.text().contains(says), "{form:?}: {}", r.text());
    }
    assert_eq!(show(&d, hinge), before.0);

    // A reload that drops a macro: the page no longer offers it, and a page opened
    // before the reload is refused.
    d.write_config(&settings(&[WAITING]));
    let (code, out, err) = d.ctl(&["reload"]);
    assert_eq!(code, 0, "reload refused: {err}{out}");
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(page.contains("Waiting on the customer"), "still offered");
    assert!(!page.contains(r#"value="Escalate""#), "gone from the menu");
    let r = jane.post(
        &format!("/tickets/{hinge}/macro"),
        &[("csrf", &jane.csrf), ("macro", "Escalate")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(show(&d, hinge), before.0);

    // frontdeskctl applies one too; a macro giving the ticket to "me" needs --as.
    let ctl = |args: &[&str]| {
        let mut all = vec!["tickets", "macro", hinge_s.as_str()];
        all.extend_from_slice(args);
        let (code, out, err) = d.ctl(&all);
        (code, format!("{out}{err}"))
    };
    let (code, said) = ctl(&["Waiting on the customer"]);
    assert_ne!(code, 0, "{said}");
    assert!(said.contains("--as"), "{said}");
    let (code, said) = ctl(&["Escalate", "--as", "jane@acme.test"]);
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("no macro named \"Escalate\" (macros: Waiting on the customer)"),
        "{said}"
    );
    assert_eq!(show(&d, hinge), before.0);
    let (code, said) = ctl(&["waiting on the customer", "--as", "jane@acme.test"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("applied macro"), "{said}");
    let t = show(&d, hinge);
    assert!(
        t["tags"].as_array().unwrap().contains(&"needs-info".into()),
        "{t}"
    );
    assert!(
        !t["tags"].as_array().unwrap().contains(&"triage".into()),
        "{t}"
    );
}

#[test]
fn without_macros_the_page_offers_none() {
    let d = Daemon::start_with(settings(&[]));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, _) = olga_two_tickets(&d, "nomac");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    assert!(!jane
        .get(&format!("/tickets/{hinge}"))
        .text()
        .contains("form class=\"macro\""));
    assert!(!jane.get("/inbox?view=all").text().contains("bulk-macro"));
}

const HINGE_SENT: &str = r#"
[[macro]]
name = "Hinge sent"
status = "waiting on contact"
tags = ["hinge"]
reply = "Hi {{contact.first_name}},\n\nA new hinge for ticket {{ticket.id}} is on its way.\n\n{{agent.first_name}}"
"#;

#[test]
fn a_macro_with_a_reply_puts_it_in_the_reply_box_to_read_and_send() {
    let d = Daemon::start_with(settings(&[ESCALATE, HINGE_SENT]));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "macreply");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    // A half-written reply is kept; the macro's comes after it.
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "Sorry for the wait.");
    b.click_css("#macro-menu option[value='Hinge sent']");
    b.wait_until("the hint names the reply", |b| {
        b.text("form.macro .macro-does")
            == "status Waiting on contact · tags +hinge · a reply to review and send"
    });
    b.click_css("#apply-macro");
    let expected = format!(
        "Sorry for the wait.\n\nHi Olga,\n\nA new hinge for ticket {hinge} is on its way.\n\nJane"
    );
    b.wait_until("the reply box holds the macro's reply", |b| {
        b.ready() && b.value("#reply-body") == expected
    });
    assert_eq!(b.focused_id(), "reply-body");
    // The changes applied; nothing went to the customer.
    let t = show(&d, hinge);
    assert_eq!(t["status"], "Waiting on contact", "{t}");
    assert_eq!(t["tags"], serde_json::json!(["hinge"]));
    assert!(
        crate::message_rows(&t, "outbound").is_empty(),
        "a macro sends nothing: {t}"
    );
    // The preview follows, and the fragment is gone: a reload adds nothing twice.
    assert!(b.text("#body-preview").contains("A new hinge for ticket"));
    assert!(!b.url().contains("macro-reply"), "{}", b.url());
    b.open(&format!("/tickets/{hinge}"));
    b.wait_find("#reply-body");
    assert_eq!(b.value("#reply-body"), expected, "kept once, as a draft");

    // Ticked in the inbox it is neither offered nor taken: each reply is read on its
    // own ticket.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let inbox = jane.get("/inbox?view=all").text();
    assert!(inbox.contains("bulk-macro"), "Escalate is offered");
    assert!(!inbox.contains("value=\"Hinge sent\""), "{inbox}");
    let before = show(&d, invoice);
    let r = jane.post(
        "/tickets/bulk",
        &[
            ("csrf", &jane.csrf),
            ("ticket", &invoice.to_string()),
            ("macro", "Hinge sent"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("each ticket's page"), "{}", r.text());
    assert_eq!(show(&d, invoice), before);
    // From the shell the changes apply and it says the reply was not written.
    let (code, out, err) = d.ctl(&[
        "tickets",
        "macro",
        &invoice.to_string(),
        "hinge sent",
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("its reply was not written"), "{out}");
    let t = show(&d, invoice);
    assert_eq!(t["tags"], serde_json::json!(["hinge"]));
    assert!(crate::message_rows(&t, "outbound").is_empty());
}
