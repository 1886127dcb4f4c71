//! The customers directory: everyone who writes, latest first, found by name, address
//! or company domain, page after page; and a customer's page with all their tickets,
//! the tickets they were copied on, their company's people, and "Edit contact". Bad
//! requests are refused and change nothing.

use serde_json::Value;

use crate::browser::Browser;
use crate::{
    add_agent, daemon, deliver, http_sign_in, mail_to_support, text_mail, text_mail_with,
    ticket_id, PASSWORD,
};

const OLGA: &str = "olga@customer.example.org";
const PIET: &str = "piet@customer.example.org";
const CARLA: &str = "carla@partner.example.net";
const MO: &str = "mo@gmail.com";

/// The customers a directory page lists, in order: their numbers.
fn listed(page: &str) -> Vec<i64> {
    page.split(r#"<tr data-customer=""#)
        .skip(1)
        .filter_map(|row| row.split('"').next()?.parse().ok())
        .collect()
}

/// The addresses the directory rows in the browser show, in order.
pub fn addresses(b: &Browser) -> Vec<String> {
    let v: Value = b.js(
        "return Array.from(document.querySelectorAll('table.customer-list tbody tr')).map(r => r.cells[1].textContent);",
        serde_json::json!([]),
    );
    serde_json::from_value(v).unwrap_or_default()
}

#[test]
fn agents_find_a_customer_and_keep_what_they_know_about_them() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    let hinge = mail_to_support(&d, OLGA, "Broken hinge", "c.1@customer.example.org");
    let invoice = mail_to_support(&d, OLGA, "Invoice copy", "c.2@customer.example.org");
    // Piet copies a partner in: she is one of the ticket's people, not a customer of one.
    deliver(
        &d,
        PIET,
        "support@example.com",
        &text_mail_with(
            PIET,
            "Late parcel",
            "c.3@customer.example.org",
            "Where is it?",
            &format!("Cc: {CARLA}\r\n"),
        ),
    );
    let parcel = ticket_id(&d, "Late parcel");
    deliver(
        &d,
        MO,
        "support@example.com",
        &text_mail(&format!("Mo <{MO}>"), "Gift card", "c.4@gmail.com", "Hi."),
    );
    // Closing Olga's invoice ticket is the latest activity: she comes first.
    let (code, out, err) = d.ctl(&["tickets", "status", &invoice.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.click_css("header a.customers-link");
    b.wait_find("table.customer-list");
    assert_eq!(b.path(), "/customers");
    assert_eq!(addresses(&b), [OLGA, MO, PIET], "latest activity first");
    let counts = b.js(
        "var c = document.querySelector('table.customer-list tbody tr').cells; return [c[2].textContent, c[3].textContent];",
        serde_json::json!([]),
    );
    assert_eq!(counts, serde_json::json!(["1", "2"]), "Olga: 1 open of 2");
    assert!(
        b.text("table.customer-list").contains("Mo"),
        "named by their mail"
    );
    // The keys walk the list as they walk the inbox: j j o opens the second customer.
    b.wait_until("the page's script", |b| b.ready());
    b.press("jj");
    let marked = b.js(
        "var r = document.querySelector('table.customer-list tr.current'); return r ? r.cells[1].textContent : '';",
        serde_json::json!([]),
    );
    assert_eq!(marked, MO);
    b.press("o");
    b.wait_until("Mo's page", |b| {
        b.path().starts_with("/customers/") && b.find("section.customer").is_some()
    });
    assert_eq!(b.text("section.customer h1"), "Mo");
    b.open("/customers");
    b.wait_find("table.customer-list");

    // The search box: part of an address, a name, a company's domain; copied people too.
    let search = |words: &str| {
        let input = b.wait_find("form.customer-search input[name=q]");
        b.clear(&input);
        b.type_into(&input, &format!("{words}\u{E007}"));
        let asked = format!("q={}", words.replace('@', "%40"));
        b.wait_until("the search's page", |b| {
            b.url().ends_with(&asked) && b.find("section.customers").is_some()
        });
        addresses(&b)
    };
    assert_eq!(search("CUSTOMER.example"), [OLGA, PIET]);
    assert_eq!(search("@customer.example.org"), [OLGA, PIET]);
    assert_eq!(search("mo"), [MO], "by name or address");
    assert_eq!(
        search("partner"),
        [CARLA],
        "copied on mail only, found by a search"
    );
    assert!(
        b.text("table.customer-list").contains('—'),
        "no activity of her own"
    );
    assert!(search("nobody-like-this").is_empty());
    assert!(b.text("section.customers").contains("No customer found."));
    b.click_css("p.found a");
    b.wait_until("the whole list again", |b| addresses(b).len() == 3);

    // Olga's page: her tickets (the closed one marked), her colleague, a new ticket.
    b.click_css("table.customer-list tbody tr:nth-child(1) a");
    b.wait_find("section.customer");
    let olga_path = b.path();
    assert!(olga_path.starts_with("/customers/"), "{olga_path}");
    assert_eq!(b.text("section.customer h1"), OLGA);
    let facts = b.text("p.facts");
    assert!(facts.contains("1 open of 2 tickets"), "{facts}");
    let rows: Value = b.js(
        "return Array.from(document.querySelectorAll('table.customer-tickets tbody tr')).map(r => [r.dataset.ticket, r.classList.contains('closed')]);",
        serde_json::json!([]),
    );
    assert_eq!(
        rows,
        serde_json::json!([[invoice.to_string(), true], [hinge.to_string(), false]])
    );
    assert!(
        b.text("ul.colleagues").contains(PIET),
        "her company's people"
    );
    assert!(b.find("ul.copied-on").is_none());
    let write_first = b.js(
        "return document.querySelector('a.write-first').getAttribute('href');",
        serde_json::json!([]),
    );
    assert_eq!(
        write_first,
        "/tickets/new?to=olga%40customer.example.org&channel=support"
    );

    // "Edit contact" on her page: her name, an owner, a note every agent sees.
    b.click_css("details.edit-contact summary");
    let name = b.wait_find("details.edit-contact input[name=name]");
    b.type_into(&name, "Olga Ortiz");
    b.click_css("details.edit-contact select[name=owner] option[value='dana@acme.test']");
    let note = b.wait_find("details.edit-contact textarea[name=note]");
    b.type_into(&note, "Prefers phone");
    b.click_css("details.edit-contact button[type=submit]");
    b.wait_text("p.flash", "Saved.");
    assert_eq!(b.text("section.customer h1"), "Olga Ortiz");
    assert!(
        b.text("p.facts").contains("owner Dana Lind"),
        "{}",
        b.text("p.facts")
    );
    assert!(b.text("div.contact-note").contains("Prefers phone"));
    let contact = d.ctl_json(&["contacts", "show", OLGA]);
    assert_eq!(contact["name"], "Olga Ortiz", "{contact:#}");
    assert_eq!(contact["owner"], "dana@acme.test");
    assert_eq!(contact["note"], "Prefers phone");

    // Her ticket's panel says the same and links back to her page.
    b.open(&format!("/tickets/{hinge}"));
    b.wait_text("aside.side", "Prefers phone");
    b.click_css("aside.side a.customer-link");
    b.wait_path(&olga_path);
    b.wait_find("section.customer");

    // Piet's page lists Olga as a colleague; the partner's page has what she was copied on.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = jane.get("/customers?q=%40partner.example.net").text();
    let carla = listed(&page)[0];
    let carla_page = jane.get(&format!("/customers/{carla}")).text();
    assert!(
        carla_page.contains(&format!(
            r#"<a href="/tickets/{parcel}">#{parcel} Late parcel</a>"#
        )),
        "{carla_page}"
    );
    assert!(carla_page.contains("None of their own"), "{carla_page}");
    // A mail service's customers are strangers to each other.
    let page = jane.get("/customers?q=gmail.com").text();
    let mo = listed(&page)[0];
    let mo_page = jane.get(&format!("/customers/{mo}")).text();
    assert!(mo_page.contains("Mo"), "{mo_page}");
    assert!(!mo_page.contains("Others at"), "{mo_page}");

    // frontdeskctl lists the same, in the same order.
    let (code, out, err) = d.ctl(&["contacts", "list", "--search", "@customer.example.org"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("EMAIL"), "{out}");
    assert!(
        lines[1].starts_with(OLGA) && lines[1].contains("Olga Ortiz"),
        "{out}"
    );
    assert!(lines[2].starts_with(PIET), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    let all = d.ctl_json(&["contacts", "list", "--limit", "2"]);
    let emails: Vec<&str> = all["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .filter_map(|c| c["email"].as_str())
        .collect();
    assert_eq!(emails, [OLGA, MO], "{all:#}");
    assert_eq!(all["customers"][0]["open"], 1);
    assert_eq!(all["customers"][0]["tickets"], 2);

    // "Only mine": the customers an agent owns.
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    let olga_id: i64 = olga_path.trim_start_matches("/customers/").parse().unwrap();
    let hers = dana.get("/customers?mine=1").text();
    assert_eq!(listed(&hers), [olga_id], "{hers}");
    assert!(hers.contains(r#"value="1" checked> Only mine"#), "{hers}");
    assert!(listed(&jane.get("/customers?mine=1").text()).is_empty());
    assert!(listed(&dana.get("/customers?q=piet&mine=1").text()).is_empty());
    let (code, out, err) = d.ctl(&["contacts", "list", "--owner", "dana@acme.test"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with(OLGA)),
        "{out}"
    );

    // Refused, and nothing changes.
    let before = d.ctl_json(&["contacts", "show", OLGA]);
    let edit = format!("/customers/{olga_id}/contact");
    let r = jane.post(
        &edit,
        &[
            ("csrf", &jane.csrf),
            ("name", "X"),
            ("owner", "nobody@acme.test"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("no user nobody@acme.test"),
        "{}",
        r.text()
    );
    let r = jane.post(&edit, &[("name", "X"), ("owner", "")], &[]);
    assert_eq!(r.status, 403, "without the CSRF token");
    let r = jane.post(
        "/customers/999999/contact",
        &[("csrf", &jane.csrf), ("name", "X")],
        &[],
    );
    assert_eq!(r.status, 404);
    assert_eq!(d.ctl_json(&["contacts", "show", OLGA]), before);
    for (path, status) in [
        ("/customers/999999", 404),
        ("/customers/x", 404),
        ("/customers?after=yesterday", 400),
        (&format!("/customers?q={}", "a".repeat(321)) as &str, 400),
    ] {
        let r = jane.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
    }
}

#[test]
fn the_directory_pages_on_with_nobody_twice() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    for n in 0..57 {
        let from = format!("buyer{n}@shop{}.example", n % 4);
        deliver(
            &d,
            &from,
            "support@example.com",
            &text_mail(
                &from,
                &format!("Order {n}"),
                &format!("p{n}@shop.example"),
                "Hi.",
            ),
        );
    }
    ticket_id(&d, "Order 56");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let first = jane.get("/customers").text();
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 50, "a page holds 50");
    assert!(!first.contains("First page"));
    let next = first
        .split(r#"<a rel="next" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to more")
        .replace("&amp;", "&");
    let second = jane.get(&next).text();
    assert!(second.contains("First page"), "{second}");
    assert!(!second.contains(r#"rel="next""#), "the last page: {second}");
    seen.extend(listed(&second));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (57, 57), "{seen:?}");
    // The newest writer first.
    assert!(first.contains("buyer56@shop0.example"));
    assert!(listed(&first)[0] > listed(&first)[1]);
    // A company's search pages on as well.
    let shop = jane.get("/customers?q=%40shop1.example").text();
    assert_eq!(listed(&shop).len(), 14, "buyers 1, 5, ..., 53");
}

#[test]
fn customers_come_over_from_a_spreadsheet_all_or_none() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    mail_to_support(&d, OLGA, "Broken hinge", "i.1@customer.example.org");
    let olga = || d.ctl_json(&["contacts", "show", OLGA]);
    let before = olga();
    assert!(before["name"].is_null(), "{before:#}");
    let import = |file: &str, extra: &[&str]| {
        let mut args = vec!["contacts", "import", "-"];
        args.extend_from_slice(extra);
        d.ctl_stdin(&args, Some(file.as_bytes()))
    };
    // A HubSpot export: its own columns, a byte-order mark, CRLF lines.
    let good = format!(
        "\u{feff}\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Contact owner\",\"Notes\"\r\n\
         \"1\",\"Olga\",\"Ortiz\",\"{OLGA}\",\"Dana Lind\",\"Prefers phone\"\r\n\
         \"2\",\"Piet\",\"de Vries\",\"{PIET}\",\"\",\"\"\r\n\
         \"3\",\"Mo\",\"\",\"{MO}\",\"jane@acme.test\",\"\"\r\n"
    );

    // One owner who is no agent: the daemon refuses the file, and nothing changes.
    let (code, out, err) = import(&good.replace("Dana Lind", "Nobody Here"), &[]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("line 2: no agent \"Nobody Here\""), "{err}");
    // A row that is no customer: refused before the daemon hears of it.
    let (code, out, err) = import(&good.replace(MO, "mo-at-gmail"), &[]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("imports nothing")
            && err.contains("line 4: \"mo-at-gmail\" is not an address"),
        "{err}"
    );
    assert_eq!(olga(), before);
    let (code, _, _) = d.ctl(&["contacts", "show", PIET]);
    assert_ne!(code, 0, "Piet was added by a refused file");

    // A dry run says what it would do and does nothing.
    let (code, out, err) = import(&good, &["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "would be: 2 added, 1 changed, 0 as they were");
    assert_eq!(olga(), before);

    let (code, out, err) = import(&good, &["--as", "jane@acme.test"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "2 added, 1 changed, 0 as they were");
    let after = olga();
    assert_eq!(after["name"], "Olga Ortiz", "{after:#}");
    assert_eq!(after["owner"], "dana@acme.test");
    assert_eq!(after["note"], "Prefers phone");
    assert_eq!(
        d.ctl_json(&["contacts", "show", PIET])["name"],
        "Piet de Vries"
    );
    assert_eq!(
        d.ctl_json(&["contacts", "show", MO])["owner"],
        "jane@acme.test"
    );
    // Again: nothing to do. Empty cells leave what the desk knows.
    let (code, out, err) = import(&good, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0 added, 0 changed, 3 as they were");
    let (code, out, err) = import(&format!("email,name,owner,note\n{OLGA},,,\n"), &[]);
    assert_eq!(
        (code, out.trim()),
        (0, "0 added, 0 changed, 1 as they were"),
        "{err}"
    );
    assert_eq!(olga(), after);

    // The page knows them: her ticket's panel, and the directory's search.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let found = jane.get("/customers?q=de%20vries").text();
    assert_eq!(listed(&found).len(), 1, "{found}");
    assert!(found.contains("Piet de Vries"), "{found}");
    let piet = jane
        .get(&format!("/customers/{}", listed(&found)[0]))
        .text();
    assert!(piet.contains("0 open of 0 tickets"), "{piet}");
}
