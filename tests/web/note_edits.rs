//! An agent corrects or deletes their own internal note. The corrected text replaces the
//! old in the thread (marked "edited"), in search and in whom it mentions: someone no
//! longer named leaves the Mentions view, someone newly named enters it. A deleted note
//! loses its words and files (the thread shows where it was) and leaves search and
//! Mentions; the history keeps who did what. Only
//! the note's author may (and the sysadmin may delete any note with frontdeskctl); a
//! customer's mail is never changed; no CSRF token, nothing.
//! A note may carry files (downloads, as a mail's); deleted, it takes them along.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, history, http_sign_in, inbox_view, message_rows, olga_two_tickets, show,
    Agent, PASSWORD,
};

const JANE: &str = "jane@acme.test";
const BEA: &str = "bea@acme.test";
const AL: &str = "al@acme.test";

/// The notes of ticket `id` that are not deleted, oldest first.
fn live_notes(d: &crate::harness::Daemon, id: i64) -> Vec<i64> {
    show(d, id)["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["direction"] == "note" && m["deleted_at"].is_null())
                .filter_map(|m| m["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

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
    b.wait_until("the note marked deleted", |b| {
        b.ready() && b.find(&format!("#m{note} p.deleted")).is_some()
    });
    assert_eq!(
        b.text(&format!("#m{note} p.deleted")),
        "This note was deleted."
    );
    assert!(b.find(&format!("#m{note} .note-controls")).is_none());
    assert!(!b.text(&format!("#m{note}")).contains("refund"));
    assert!(live_notes(&d, hinge).is_empty());
    // Gone is gone: it can be neither corrected nor deleted again.
    let r = jane.post(
        &format!("/messages/{note}/edit"),
        &[("csrf", &jane.csrf), ("body", "back again")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("deleted already"), "{}", r.text());
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

    // The sysadmin deletes anyone's note (one posted by mistake), never a mail, and
    // only on the ticket named.
    let (code, _, err) = d.ctl(&[
        "tickets",
        "delete-note",
        &hinge.to_string(),
        "--message",
        &mail.to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("not an internal note"), "{err}");
    let (code, out, err) = d.ctl(&[
        "tickets",
        "delete-note",
        &hinge.to_string(),
        "--message",
        &bea_note.to_string(),
    ]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(live_notes(&d, hinge).is_empty());
    let t = show(&d, hinge);
    let deleted = t["events"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["detail"] == format!("internal note {bea_note} deleted"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(deleted["actor"], "admin (frontdeskctl)", "{t:#}");
}

#[test]
fn a_note_carries_files_and_takes_them_along_when_deleted() {
    let d = daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    let (hinge, _) = olga_two_tickets(&d, "files");
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open(&format!("/tickets/{hinge}"));

    // Nothing typed and no file: the page does not post it.
    let notes = || live_notes(&d, hinge).len();
    b.click_css("form.note button[type=submit]");
    assert_eq!(b.focused_id(), "note-body");
    assert_eq!(notes(), 0);

    // A log file with a few words: both in the thread, the file downloads as it was.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("printer log.txt");
    let bytes: Vec<u8> = (0..20_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&log, &bytes).unwrap();
    let picker = b.wait_find("#note-files");
    b.type_into(&picker, log.to_str().unwrap());
    let area = b.wait_find("#note-body");
    b.type_into(&area, "Her printer's log, from the call.");
    b.click_css("form.note button[type=submit]");
    b.wait_text("article.message.note", "from the call");
    let note = *message_rows(&show(&d, hinge), "note")
        .last()
        .expect("the note");
    let link = b.js(
        &format!(
            "return document.querySelector('#m{note} ul.attachments a').getAttribute('href');"
        ),
        serde_json::json!([]),
    );
    let link = link.as_str().expect("a download link").to_string();
    assert!(b
        .text(&format!("#m{note} ul.attachments"))
        .contains("printer log.txt"));
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let got = jane.get(&link);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, bytes);
    assert!(got
        .header("content-disposition")
        .is_some_and(|v| v.starts_with("attachment")));
    // A note was never mail: it has no original to download (its files are its own).
    assert_eq!(jane.get(&format!("/messages/{note}/original")).status, 404);

    // A file alone is a note too.
    let r = crate::http(
        &jane.addr,
        "POST",
        &format!("/tickets/{hinge}/note"),
        &[
            ("Cookie", &jane.cookie),
            ("Content-Type", "multipart/form-data; boundary=XyZ"),
        ],
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.png\"\r\n\
             Content-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n",
            jane.csrf
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(notes(), 2);

    // From the shell too.
    let csv = dir.path().join("calls.csv");
    std::fs::write(&csv, "when;who\n10:03;Olga\n").unwrap();
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "note",
            &hinge.to_string(),
            "--as",
            JANE,
            "--attach",
            csv.to_str().unwrap(),
        ],
        Some(b"The call list."),
    );
    assert_eq!(code, 0, "{err}{out}");
    let t = show(&d, hinge);
    let last = t["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["direction"] == "note"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["text"], "The call list.", "{t:#}");
    assert_eq!(last["attachments"], 1, "{t:#}");
    assert_eq!(notes(), 3);

    // Deleted, the note takes its file along: the link answers 404.
    b.open(&format!("/tickets/{hinge}"));
    b.click_css(&format!("#m{note} form.delete-note button"));
    b.answer_dialog(true);
    b.wait_until("the note marked deleted", |b| {
        b.ready() && b.find(&format!("#m{note} p.deleted")).is_some()
    });
    assert_eq!(jane.get(&link).status, 404);
    assert_eq!(notes(), 2);
}
