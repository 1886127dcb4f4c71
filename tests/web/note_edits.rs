//! An agent corrects or deletes their own internal note. The corrected text replaces the
//! old in the thread (marked "edited"), in search and in whom it mentions: someone no
//! longer named leaves the Mentions view, someone newly named enters it. A deleted note
//! is gone from the thread, search and Mentions; the history keeps who did what. Only
//! the note's author may; a customer's mail is never changed; no CSRF token, nothing.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, history, http_sign_in, inbox_view, message_rows, olga_two_tickets, show,
    Agent, PASSWORD,
};

const JANE: &str = "jane@acme.test";
const BEA: &str = "bea@acme.test";
const AL: &str = "al@acme.test";

/// Whether a search for `q` lists ticket `id`.
fn finds(agent: &Agent, q: &str, id: i64) -> bool {
    agent
        .get(&format!("/search?q={q}"))
        .text()
        .contains(&format!("href=\"/tickets/{id}\""))
}

#[test]
fn an_agent_corrects_or_deletes_their_own_note() {
    let d = daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, AL, "Al Brandt");
    let (hinge, _) = olga_two_tickets(&d, "edits");
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let bea = http_sign_in(&d, BEA, PASSWORD);
    let al = http_sign_in(&d, AL, PASSWORD);
    let r = jane.post(
        &format!("/tickets/{hinge}/note"),
        &[
            ("csrf", &jane.csrf),
            ("body", "@bea please ask about the refnud."),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let note = *message_rows(&show(&d, hinge), "note")
        .last()
        .expect("the note");
    assert_eq!(inbox_view(&bea, "mentions"), (vec![hinge], 1));
    assert!(finds(&jane, "refnud", hinge));

    // Jane corrects it in the page: new words, marked edited; Bea is no longer named,
    // Al now is; search finds the new words only.
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    b.click_css(&format!("#m{note} details.edit-note summary"));
    let area = b.wait_find(&format!("#m{note} details.edit-note textarea"));
    assert_eq!(
        b.value(&format!("#m{note} details.edit-note textarea")),
        "@bea please ask about the refnud."
    );
    b.clear(&area);
    b.type_into(&area, "@al please ask about the refund.");
    b.click_css(&format!("#m{note} details.edit-note button[type=submit]"));
    b.wait_text(
        &format!("#m{note} .body"),
        "@al please ask about the refund.",
    );
    assert!(b.text(&format!("#m{note} .marks")).contains("edited"));
    assert_eq!(inbox_view(&bea, "mentions"), (vec![], 0));
    assert_eq!(inbox_view(&al, "mentions"), (vec![hinge], 1));
    assert!(!finds(&jane, "refnud", hinge));
    assert!(finds(&jane, "refund", hinge));
    let words = history(&show(&d, hinge));
    assert!(
        words.contains(&format!("internal note {note} edited")),
        "{words}"
    );
    assert!(words.contains("mentioned Al Brandt"), "{words}");

    // Nobody else may change it, a customer's mail is never a note, an empty text or
    // no CSRF token is refused: nothing changes.
    let mail = message_rows(&show(&d, hinge), "inbound")[0];
    let before = show(&d, hinge);
    for (who, path, form, status, says) in [
        (
            &bea,
            format!("/messages/{note}/edit"),
            vec![("body", "mine now")],
            400,
            "not yours",
        ),
        (
            &bea,
            format!("/messages/{note}/delete"),
            vec![],
            400,
            "not yours",
        ),
        (
            &jane,
            format!("/messages/{mail}/edit"),
            vec![("body", "x")],
            400,
            "not an internal note",
        ),
        (
            &jane,
            format!("/messages/{mail}/delete"),
            vec![],
            400,
            "not an internal note",
        ),
        (
            &jane,
            format!("/messages/{note}/edit"),
            vec![("body", "  ")],
            400,
            "empty",
        ),
        (
            &jane,
            "/messages/x/delete".to_string(),
            vec![],
            404,
            "No such note",
        ),
    ] {
        let mut form = form.clone();
        form.push(("csrf", who.csrf.as_str()));
        let r = who.post(&path, &form, &[]);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.text().contains(says), "{path}: {}", r.text());
    }
    let r = jane.post(&format!("/messages/{note}/delete"), &[], &[]);
    assert_eq!(r.status, 403);
    assert_eq!(
        show(&d, hinge),
        before,
        "a refused request changed the ticket"
    );

    // Deleted from the page, after a confirmation: gone from the thread, search and
    // Al's mentions; the history says so.
    b.open(&format!("/tickets/{hinge}"));
    b.click_css(&format!("#m{note} form.delete-note button"));
    b.answer_dialog(true);
    b.wait_until("the note gone", |b| {
        b.ready() && b.find(&format!("#m{note}")).is_none()
    });
    assert!(message_rows(&show(&d, hinge), "note").is_empty());
    assert!(!finds(&jane, "refund", hinge));
    assert_eq!(inbox_view(&al, "mentions"), (vec![], 0));
    let words = history(&show(&d, hinge));
    assert!(
        words.contains(&format!("internal note {note} deleted")),
        "{words}"
    );
    // Other people's notes offer no such buttons.
    let r = bea.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &bea.csrf), ("body", "Bea was here.")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let bea_note = *message_rows(&show(&d, hinge), "note")
        .last()
        .expect("Bea's note");
    b.open(&format!("/tickets/{hinge}"));
    b.wait_find(&format!("#m{bea_note}"));
    assert!(b.find(&format!("#m{bea_note} .note-controls")).is_none());
}
