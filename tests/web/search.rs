//! The search box: a word of a mail's body finds its ticket with the word marked in the
//! snippet; the customer's address finds their ticket; other tickets stay out; each hit
//! shows its status, and closed tickets can be left out.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, text_mail, ticket_id, PASSWORD};

/// Type `q` into the header's search box and press Enter; waits for the results page.
fn search(b: &Browser, q: &str) {
    let input = b.wait_find("header form.search input[name=q]");
    b.clear(&input);
    b.type_into(&input, &format!("{q}\u{E007}"));
    b.wait_until(&format!("results for {q:?}"), |b| {
        b.path().starts_with("/search?") && b.ready() && b.text("#main h1").contains(q)
    });
}

/// (ticket link, text, marked words) of each hit.
fn hits(b: &Browser) -> Vec<(String, String, Vec<String>)> {
    let v = b.js(
        "return Array.prototype.map.call(document.querySelectorAll('#main ol.hits > li'), function (li) {\
           var a = li.querySelector('a');\
           return [a ? a.getAttribute('href') : '', li.textContent,\
             Array.prototype.map.call(li.querySelectorAll('p.snippet mark'), function (m) { return m.textContent; })];\
         });",
        json!([]),
    );
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            (
                h[0].as_str().unwrap_or("").to_string(),
                h[1].as_str().unwrap_or("").to_string(),
                h[2].as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.as_str().unwrap_or("").to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn search_box_finds_body_words_and_contact_addresses() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "marty@hillvalley.example",
        "support@example.com",
        &text_mail(
            "Marty McFly <marty@hillvalley.example>",
            "Car trouble",
            "car.1@hillvalley.example",
            "Hello,\r\n\r\nthe flux capacitor in my car stopped fluxing after the storm.\r\n\r\nMarty",
        ),
    );
    deliver(
        &d,
        "doc@other.example",
        "support@example.com",
        &text_mail(
            "Doc Brown <doc@other.example>",
            "Clock tower",
            "clock.1@other.example",
            "The clock tower needs a new lightning rod.",
        ),
    );
    let car = ticket_id(&d, "Car trouble");
    let clock = ticket_id(&d, "Clock tower");

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);

    // A word of the body: the ticket, the word marked in the snippet.
    search(&b, "capacitor");
    let h = hits(&b);
    assert_eq!(h.len(), 1, "{h:?}\n{}", b.text("#main"));
    assert_eq!(h[0].0, format!("/tickets/{car}"), "{h:?}");
    assert!(h[0].1.contains("Car trouble"), "{h:?}");
    assert!(h[0].1.contains("flux capacitor"), "snippet: {h:?}");
    assert!(
        h[0].2.iter().any(|m| m.eq_ignore_ascii_case("capacitor")),
        "the word is not marked: {h:?}"
    );

    // A half-typed last word finds the words it begins (nothing has "capac" whole),
    // as does one ending in "*".
    for typed in ["capac", "flux capac", "capac*", "-- capac"] {
        search(&b, typed);
        let h = hits(&b);
        assert_eq!(h.len(), 1, "{typed}: {h:?}\n{}", b.text("#main"));
        assert_eq!(h[0].0, format!("/tickets/{car}"), "{typed}: {h:?}");
        // The snippet marks the first word found ("flux" in the two-word search).
        let first = if typed.starts_with("flux") {
            "flux"
        } else {
            "capac"
        };
        assert!(
            h[0].2.iter().any(|m| m.eq_ignore_ascii_case(first)),
            "{typed}: {first} is not marked: {h:?}"
        );
    }

    // The contact's address.
    search(&b, "marty@hillvalley.example");
    let h = hits(&b);
    assert_eq!(h.len(), 1, "{h:?}\n{}", b.text("#main"));
    assert_eq!(h[0].0, format!("/tickets/{car}"), "{h:?}");
    assert!(h[0].1.contains("marty@hillvalley.example"), "{h:?}");

    // The other customer's ticket by a word of its body; and a hit opens the ticket.
    search(&b, "lightning");
    let h = hits(&b);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].0, format!("/tickets/{clock}"), "{h:?}");
    assert!(
        h[0].2.iter().any(|m| m.eq_ignore_ascii_case("lightning")),
        "{h:?}"
    );
    b.click_css("#main ol.hits a");
    b.wait_path(&format!("/tickets/{clock}"));

    // Each hit says its ticket's status; "Open tickets only" leaves closed ones out,
    // and the box stays ticked on the page it gives.
    let (code, out, err) = d.ctl(&["tickets", "status", &car.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    search(&b, "capacitor");
    assert_eq!(b.text("#main ol.hits > li.closed span.status"), "Closed");
    b.click_css("form.scope input[name=open]");
    b.click_css("form.scope button[type=submit]");
    b.wait_until("the open-only results", |b| {
        b.path() == "/search?q=capacitor&open=1" && b.ready()
    });
    assert!(hits(&b).is_empty(), "{}", b.text("#main"));
    assert_eq!(
        b.js(
            "return document.querySelector('form.scope input[name=open]').checked;",
            json!([])
        ),
        true
    );
    b.open("/search?q=lightning&open=1");
    assert_eq!(
        hits(&b).len(),
        1,
        "an open ticket stays: {}",
        b.text("#main")
    );
    assert_eq!(b.text("#main ol.hits > li span.status"), "New");

    // Nothing matches: an empty result, not an error.
    search(&b, "zyxxyzzy");
    assert!(hits(&b).is_empty());
    assert!(
        b.text("#main").contains("Nothing found."),
        "{}",
        b.text("#main")
    );
}

/// The ticket numbers of a search's hits, in the order shown.
fn hit_ids(jane: &crate::Agent, q: &str, open_only: bool) -> Vec<i64> {
    let path = format!(
        "/search?q={}{}",
        crate::form_encode(q),
        if open_only { "&open=1" } else { "" }
    );
    let r = jane.get(&path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    let page = r.text();
    let Some(list) = page.split(r#"<ol class="hits">"#).nth(1) else {
        assert!(page.contains("Nothing found."), "{path}: {page}");
        return Vec::new();
    };
    list.split("data-ticket=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[test]
fn filters_narrow_a_search_and_list_tickets_alone() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bea@acme.test", "Bea Kowalczyk");
    let mail = |from: &str, subject: &str, id: &str, body: &str| {
        let sender = from.split(['<', '>']).nth(1).expect("Name <address>");
        deliver(
            &d,
            sender,
            "support@example.com",
            &text_mail(from, subject, id, body),
        );
        ticket_id(&d, subject)
    };
    let broken = mail(
        "Olga Petrova <olga@customer.example.org>",
        "Broken hinge",
        "f1@customer.example.org",
        "The hinge snapped off the door.",
    );
    let question = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Hinge question",
        "f2@elsewhere.example.net",
        "Which hinge fits the cabinet?",
    );
    let invoice = mail(
        "Olga Petrova <olga@customer.example.org>",
        "Invoice copy",
        "f3@customer.example.org",
        "Please send the invoice for the hinge order to Jürgen Müller.",
    );
    let ctl = |args: &[&str]| {
        let (code, out, err) = d.ctl(args);
        assert_eq!(code, 0, "{args:?}: {err}{out}");
    };
    ctl(&["tickets", "assign", &broken.to_string(), "jane@acme.test"]);
    ctl(&["tickets", "tag", &broken.to_string(), "--add", "VIP"]);
    ctl(&["tickets", "assign", &question.to_string(), "bea@acme.test"]);
    ctl(&["tickets", "status", &question.to_string(), "Closed"]);
    ctl(&["tickets", "priority", &invoice.to_string(), "urgent"]);

    let jane = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let found = |q: &str| sorted(hit_ids(&jane, q, false));
    let all = sorted(vec![broken, question, invoice]);
    assert_eq!(found("hinge"), all);
    // Whose.
    assert_eq!(found("hinge owner:me"), [broken]);
    assert_eq!(found("hinge owner:bea"), [question], "by first name");
    assert_eq!(found("hinge owner:bea@acme.test"), [question]);
    assert_eq!(found("hinge owner:none"), [invoice]);
    // Open or closed; the page's box, unless the words say.
    assert_eq!(found("hinge is:closed"), [question]);
    assert_eq!(found("hinge is:open"), sorted(vec![broken, invoice]));
    assert_eq!(
        sorted(hit_ids(&jane, "hinge", true)),
        sorted(vec![broken, invoice])
    );
    assert_eq!(hit_ids(&jane, "hinge is:closed", true), [question]);
    // The sender's name or address, and the subject, each in its own field.
    assert_eq!(found("from:olga hinge"), sorted(vec![broken, invoice]));
    assert_eq!(found("from:ivan@elsewhere.example.net"), [question]);
    assert_eq!(found("subject:hinge"), sorted(vec![broken, question]));
    // Status, channel and tag.
    assert_eq!(found("hinge status:closed"), [question]);
    assert_eq!(found("hinge channel:support"), all);
    assert_eq!(found("hinge channel:Support"), all, "any case, as status");
    assert!(found("hinge channel:billing").is_empty());
    assert_eq!(found("hinge tag:vip"), [broken]);
    // Filters alone list their tickets; together they must all hold.
    assert_eq!(found("tag:vip"), [broken]);
    assert_eq!(found("status:Closed"), [question]);
    assert_eq!(found("owner:none is:open"), [invoice]);
    assert!(found("tag:vip is:closed").is_empty());
    // Priority, with words and alone; a priority that is none is words.
    assert_eq!(found("hinge priority:urgent"), [invoice]);
    assert_eq!(found("priority:Urgent"), [invoice]);
    assert!(found("hinge priority:high").is_empty());
    assert!(
        found("hinge priority:soon").is_empty(),
        "no mail says 'soon'"
    );
    // The words' marks stay on the words, not on the filters.
    let page = jane.get("/search?q=hinge+owner%3Ame").text();
    assert!(page.contains("<mark>hinge</mark>"), "{page}");
    // A half-typed last word finds the words it begins, in every way a whole one does:
    // filtered, in its field, with accents typed or not, in an agent's note, and in
    // mail that came after the word was first searched for.
    assert_eq!(found("hin"), all);
    assert_eq!(found("hin is:open"), sorted(vec![broken, invoice]));
    assert_eq!(found("subject:hin"), sorted(vec![broken, question]));
    assert_eq!(found("hinge cab"), [question]);
    assert!(found("hinge cab is:open").is_empty());
    assert_eq!(found("mül"), [invoice]);
    assert_eq!(found("MUL"), [invoice]);
    assert!(found("lubri").is_empty());
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "note",
            &question.to_string(),
            "--as",
            "bea@acme.test",
        ],
        Some(b"Told him to use lubricant on the pin."),
    );
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(found("lubri"), [question]);
    assert!(found("warr").is_empty());
    let warranty = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Cover",
        "f4@elsewhere.example.net",
        "Is the hinge under warranty?",
    );
    assert_eq!(found("warr"), [warranty]);
    // A prefix that begins more words than are searched one by one still finds them.
    let many: Vec<String> = (0..60).map(|i| format!("zq{i:03}")).collect();
    let crowded = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Codes",
        "f5@elsewhere.example.net",
        &many.join(" "),
    );
    assert_eq!(found("zq"), [crowded]);
    assert_eq!(found("zq05"), [crowded]);
    // Found whole, such a word is taken as typed: its sixty longer words would each be
    // walked for mail that already answered the search.
    let whole = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Code",
        "f6@elsewhere.example.net",
        "The panel shows zq0 again.",
    );
    assert_eq!(found("zq0"), [whole]);
    assert_eq!(
        found("zq0*"),
        [crowded, whole],
        "a star still asks for the prefix"
    );
    // A word found whole and beginning a few others: its own matches first, then
    // theirs, whatever their rank ("latch" is in the older mail's subject and body).
    let latches = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Latches latches latches",
        "f7@elsewhere.example.net",
        "Both latches and the latched door, latches everywhere.",
    );
    let latch = mail(
        "Ivan Horvat <ivan@elsewhere.example.net>",
        "Spare part",
        "f8@elsewhere.example.net",
        "One latch, please.",
    );
    assert_eq!(hit_ids(&jane, "latch", false), [latch, latches]);
    assert_eq!(hit_ids(&jane, "latch is:open", false), [latch, latches]);
    assert_eq!(
        found("latche"),
        [latches],
        "no word latche: its longer words"
    );
}
