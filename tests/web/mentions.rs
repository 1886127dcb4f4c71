//! Mentions: an internal note naming a colleague with `@` (first name, the part of their
//! address before the `@`, or the whole address) puts the ticket in that colleague's
//! Mentions view, live, until it is closed; the history says who was named. The author,
//! unknown names and names two agents share mention no one; a merge carries the
//! mention along.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, history, http_sign_in, inbox_view, olga_two_tickets, show, PASSWORD,
};

const JANE: &str = "jane@acme.test";
const BEA: &str = "bea.k@acme.test";

#[test]
fn a_note_naming_a_colleague_brings_the_ticket_to_their_mentions_view() {
    let d = daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, "al@acme.test", "Alex Morgan");
    add_agent(&d, "alex@acme.test", "Alexander Brandt");
    let (hinge, invoice) = olga_two_tickets(&d, "mention");
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let bea = http_sign_in(&d, BEA, PASSWORD);
    let note = |id: i64, body: &str| {
        let r = jane.post(
            &format!("/tickets/{id}/note"),
            &[("csrf", &jane.csrf), ("body", body)],
            &[],
        );
        assert!(r.status < 400, "{}", r.text());
    };

    // Words that name no one, or two agents, or the author: nobody is mentioned.
    note(
        hinge,
        "@everyone see @alex, mail jane@acme.test, and @jane herself",
    );
    assert_eq!(inbox_view(&bea, "mentions"), (vec![], 0));
    assert_eq!(inbox_view(&jane, "mentions"), (vec![], 0));
    assert!(!history(&show(&d, hinge)).contains("mentioned"));

    // By first name, from the page's note box: Bea has it, the history says so.
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    let hint = b.text("form.note .hint");
    assert!(hint.contains('@'), "{hint}");
    let box_ = b.wait_find("#note-body");
    b.type_into(&box_, "@Bea could you check the hinge stock?");
    b.click_css("form.note button[type=submit]");
    b.wait_until("the note in the thread", |b| {
        b.js(
            "return Array.from(document.querySelectorAll('article.message.note')).map(a => a.textContent).join('|');",
            serde_json::json!([]),
        )
        .as_str()
        .is_some_and(|t| t.contains("hinge stock"))
    });
    assert_eq!(inbox_view(&bea, "mentions"), (vec![hinge], 1));
    assert_eq!(inbox_view(&jane, "mentions"), (vec![], 0));
    let words = history(&show(&d, hinge));
    assert!(words.contains("mentioned Bea Kowalczyk"), "{words}");

    // By address, while Bea watches her Mentions view: it arrives without a reload,
    // marked new.
    let bb = Browser::start(&d.http);
    bb.sign_in(BEA, PASSWORD);
    bb.open("/inbox?view=mentions");
    bb.wait_event_stream();
    note(invoice, "Is this one for @bea.k@acme.test?");
    bb.wait_until("the invoice in Bea's mentions", |b| {
        b.row_ids() == [invoice, hinge]
    });
    assert!(
        bb.find(&format!("tr.ticket.unread[data-ticket=\"{invoice}\"]"))
            .is_some(),
        "the mentioned ticket is not marked new"
    );

    // frontdeskctl's notes mention too; a merge carries the mention to the kept ticket.
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "note", &invoice.to_string(), "--as", BEA],
        Some(b"@al this is the hinge order, merging."),
    );
    assert_eq!(code, 0, "{err}{out}");
    let (code, out, err) = d.ctl(&[
        "tickets",
        "merge",
        &invoice.to_string(),
        "--into",
        &hinge.to_string(),
    ]);
    assert_eq!(code, 0, "{err}{out}");
    let al = http_sign_in(&d, "al@acme.test", PASSWORD);
    assert_eq!(inbox_view(&al, "mentions"), (vec![hinge], 1));
    assert_eq!(inbox_view(&bea, "mentions"), (vec![hinge], 1));

    // Closed, it leaves the view.
    let (code, out, err) = d.ctl(&["tickets", "status", &hinge.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(inbox_view(&bea, "mentions"), (vec![], 0));
    assert_eq!(inbox_view(&al, "mentions"), (vec![], 0));
}

#[test]
fn the_note_box_suggests_colleagues_after_an_at() {
    let d = daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, "al@acme.test", "Alex Morgan");
    add_agent(&d, "alex@acme.test", "Alexander Brandt");
    let (hinge, _) = olga_two_tickets(&d, "suggest");
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    let shown = |b: &Browser| -> Vec<String> {
        b.js(
            "var l = document.getElementById('mention-list');
             return l.hidden ? [] : Array.from(l.querySelectorAll('li')).map(i => i.textContent);",
            serde_json::json!([]),
        )
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
    };
    let box_ = b.wait_find("#note-body");

    // "@be": Bea alone; Enter puts her handle in, the list closes, no new line.
    b.type_into(&box_, "Please check @be");
    b.wait_until("Bea suggested", |b| {
        shown(b) == ["@bea — Bea Kowalczyk · bea.k@acme.test"]
    });
    b.press("\u{E007}");
    assert_eq!(b.value("#note-body"), "Please check @bea ");
    assert!(shown(&b).is_empty());

    // "@al": both Alexes, each by the word that names only them; the arrow picks the
    // second, Tab takes it.
    b.type_into(&box_, "and @al");
    b.wait_until("both suggested", |b| {
        shown(b)
            == [
                "@al — Alex Morgan · al@acme.test",
                "@alexander — Alexander Brandt · alex@acme.test",
            ]
    });
    b.press("\u{E015}\u{E004}");
    assert_eq!(b.value("#note-body"), "Please check @bea and @alexander ");

    // Nobody answers to "@zz"; Esc closes a list without leaving the box.
    b.type_into(&box_, "@zz ");
    assert!(shown(&b).is_empty());
    b.type_into(&box_, "@j");
    b.wait_until("Jane suggested", |b| shown(b).len() == 1);
    b.press("\u{E00C}");
    assert!(shown(&b).is_empty());
    assert_eq!(b.focused_id(), "note-body");

    b.click_css("form.note button[type=submit]");
    b.wait_until("the note saved", |_| {
        history(&show(&d, hinge)).contains("mentioned")
    });
    let words = history(&show(&d, hinge));
    assert!(
        words.contains("mentioned Bea Kowalczyk, Alexander Brandt"),
        "{words}"
    );
}
