//! Ticket fields (`[[ticket_field]]`): what the desk records about each ticket ("Order
//! number", "Product", "Quantity", "Renewal") is filled in from the ticket's panel, with
//! `frontdeskctl tickets field`, or by a macro; each value is checked against its
//! field's kind, the history says what changed, and a merge or a split carries them.

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::{
    add_agent, deliver, history, http_sign_in, message_rows, olga_asks_about_the_hinge,
    olga_two_tickets, show, text_mail, ticket_id, PASSWORD, SUPPORT,
};

/// A field of each kind, answer targets and a macro setting fields (the a11y audit
/// uses them too).
pub const FIELDS: &str = r#"
[sla]
first_answer = { medium = "1d" }

[[ticket_field]]
name = "Order number"

[[ticket_field]]
name = "Product"
kind = "choice"
choices = ["Hinge", "Desk lamp"]
in_inbox = true

[[ticket_field]]
name = "Quantity"
kind = "number"

[[ticket_field]]
name = "Renewal"
kind = "date"

[[macro]]
name = "Lamp order"
fields = { Product = "desk lamp", Quantity = "" }
"#;

fn settings(fields: &str) -> Settings {
    Settings {
        channels: format!("{SUPPORT}{fields}"),
        ..Settings::default()
    }
}

fn fields(d: &Daemon, id: i64) -> serde_json::Value {
    show(d, id)["fields"].clone()
}

#[test]
fn fields_are_filled_in_checked_kept_in_the_history_and_follow_merges_and_splits() {
    let d = Daemon::start_with(settings(FIELDS));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "fld");
    assert_eq!(fields(&d, hinge), serde_json::json!({}));

    // From the panel, in Chromium: every kind has its box.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    b.wait_text("form.ticket-fields", "Save fields");
    let order = b.wait_find("input[name='field:Order number']");
    b.type_into(&order, "A-4711 <b>");
    b.click_css("select[name='field:Product'] option[value='Hinge']");
    let quantity = b.wait_find("input[name='field:Quantity']");
    b.type_into(&quantity, "+2");
    // A date box takes the day as the agent's browser shows it; set it as a script
    // would, since typing depends on the browser's locale.
    b.js(
        "document.querySelector(\"input[name='field:Renewal']\").value = '2027-03-01';",
        serde_json::json!([]),
    );
    b.click_css("#save-fields");
    // Saved once the page comes back with the change in its history (the box held
    // the typed value all along).
    b.wait_until("the fields saved", |b| {
        b.ready() && b.text("ol.events").contains("Order number: A-4711")
    });
    assert_eq!(b.value("input[name='field:Order number']"), "A-4711 <b>");
    assert_eq!(
        fields(&d, hinge),
        serde_json::json!({
            "Order number": "A-4711 <b>",
            "Product": "Hinge",
            "Quantity": "2",
            "Renewal": "2027-03-01",
        })
    );
    assert_eq!(b.value("input[name='field:Quantity']"), "2");
    assert_eq!(b.value("input[name='field:Renewal']"), "2027-03-01");
    assert_eq!(b.value("select[name='field:Product']"), "Hinge");
    let h = history(&show(&d, hinge));
    for words in [
        "Order number: A-4711 <b>",
        "Product: Hinge",
        "Quantity: 2",
        "Renewal: 2027-03-01",
    ] {
        assert!(h.contains(words), "{words:?} not in:\n{h}");
    }
    // The markup typed stays text: nothing bold came of it.
    assert!(b.find("form.ticket-fields b").is_none());
    assert!(b.find("ol.events b").is_none());

    // Values that do not fit their kind: refused, nothing changes (not even the good
    // ones sent along).
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, hinge);
    for (name, value, says) in [
        ("field:Quantity", "1,5", "Quantity: \"1,5\" is not a number"),
        ("field:Product", "Chair", "is not one of Hinge, Desk lamp"),
        ("field:Renewal", "2027-02-30", "is not a day"),
        ("field:Order number", "two\nlines", "one line"),
    ] {
        let good = if name == "field:Order number" {
            ("field:Quantity", "3")
        } else {
            ("field:Order number", "B-1")
        };
        let r = jane.post(
            &format!("/tickets/{hinge}/fields"),
            &[("csrf", &jane.csrf), good, (name, value)],
            &[],
        );
        assert_eq!(r.status, 400, "{name}={value:?}: {}", r.text());
        assert!(r.text().contains(says), "{name}: {}", r.text());
        assert_eq!(
            show(&d, hinge),
            before,
            "{name}={value:?} changed the ticket"
        );
    }
    let r = jane.post(
        &format!("/tickets/{hinge}/fields"),
        &[("field:Quantity", "3")],
        &[],
    );
    assert_eq!(r.status, 403);
    let r = jane.post(
        &format!("/tickets/{hinge}/fields"),
        &[("csrf", &jane.csrf), ("field:Colour", "red")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(show(&d, hinge), before);

    // Emptied, a field goes; the history says what it was. The same value again
    // records nothing.
    let r = jane.post(
        &format!("/tickets/{hinge}/fields"),
        &[
            ("csrf", &jane.csrf),
            ("field:Quantity", ""),
            ("field:Product", "hinge"),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let t = show(&d, hinge);
    assert!(t["fields"].get("Quantity").is_none(), "{t}");
    assert_eq!(t["fields"]["Product"], "Hinge");
    let h = history(&t);
    assert!(h.contains("Quantity removed (was 2)"), "{h}");
    assert_eq!(h.matches("Product:").count(), 1, "{h}");

    // frontdeskctl, and a macro.
    let (code, out, err) = d.ctl(&[
        "tickets",
        "field",
        &invoice.to_string(),
        "order NUMBER",
        "INV-9",
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("Order number: INV-9"), "{out}");
    // The search box finds a ticket by a field's whole value, first; filters apply.
    let found = jane.get("/search?q=inv-9").text();
    assert!(
        found.contains(&format!(r#"<li data-ticket="{invoice}">"#))
            && found.contains("Order number: <mark>INV-9</mark>"),
        "{found}"
    );
    let closed_only = jane.get("/search?q=inv-9+is%3Aclosed").text();
    assert!(
        !closed_only.contains(&format!(r#"data-ticket="{invoice}""#)),
        "{closed_only}"
    );
    let (code, out, err) = d.ctl(&["tickets", "field", &invoice.to_string(), "Colour", "red"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains(
            "no ticket field named \"Colour\" (fields: Order number, Product, Quantity, Renewal)"
        ),
        "{err}"
    );
    let (code, _, err) = d.ctl(&["tickets", "field", &invoice.to_string(), "Quantity", "lots"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a number"), "{err}");
    d.ctl_json(&["tickets", "field", &invoice.to_string(), "Quantity", "5"]);
    let r = jane.post(
        &format!("/tickets/{invoice}/macro"),
        &[("csrf", &jane.csrf), ("macro", "Lamp order")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        fields(&d, invoice),
        serde_json::json!({"Order number": "INV-9", "Product": "Desk lamp"})
    );
    let (code, out, _) = d.ctl(&["tickets", "show", &invoice.to_string()]);
    assert_eq!(code, 0);
    assert!(out.contains("Product: Desk lamp"), "{out}");

    // A merge: the ticket that stays keeps its own values and gains what it lacked.
    let r = jane.post(
        &format!("/tickets/{hinge}/merge"),
        &[("csrf", &jane.csrf), ("into", &invoice.to_string())],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        fields(&d, invoice),
        serde_json::json!({
            "Order number": "INV-9",
            "Product": "Desk lamp",
            "Renewal": "2027-03-01",
        })
    );

    // A split: the new ticket starts with the same fields.
    olga_asks_about_the_hinge(&d, "fld");
    let follow_up = *message_rows(&show(&d, invoice), "inbound").last().unwrap();
    let r = jane.post(
        &format!("/tickets/{invoice}/split"),
        &[("csrf", &jane.csrf), ("message", &follow_up.to_string())],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let new: i64 = r
        .header("location")
        .and_then(|l| l.strip_prefix("/tickets/"))
        .and_then(|n| n.parse().ok())
        .expect("the new ticket's page");
    assert_ne!(new, invoice);
    assert_eq!(fields(&d, new), fields(&d, invoice));

    // The panel links to the other tickets with the same value: the inbox, filtered.
    d.ctl_json(&["tickets", "field", &new.to_string(), "Product", "Hinge"]);
    b.open(&format!("/tickets/{invoice}"));
    b.wait_text("form.ticket-fields", "Tickets with Product Desk lamp");
    b.click_css("form.ticket-fields a.same-field[href*='Product']");
    b.wait_path("/inbox");
    b.wait_text("#main", "Product");
    assert_eq!(
        b.path(),
        "/inbox?view=all&field=Product&value=Desk%20lamp",
        "the link"
    );
    assert_eq!(b.row_ids(), vec![invoice]);
    assert!(b.text("span.field-filter").contains("Desk lamp"));
    // Letter case aside, in every view, the overdue one's parameters included.
    for view in ["all", "open", "unassigned", "overdue", "mine"] {
        let r = jane.get(&format!(
            "/inbox?view={view}&field=product&value=DESK%20LAMP"
        ));
        assert_eq!(r.status, 200, "{view}: {}", r.text());
        let rows = crate::inbox_rows(&r.text());
        assert!(!rows.contains(&new), "{view}: {rows:?}");
        if view == "all" || view == "open" || view == "unassigned" {
            assert_eq!(rows, vec![invoice], "{view}");
        }
    }
    let hinges = crate::inbox_rows(&jane.get("/inbox?view=all&field=Product&value=Hinge").text());
    assert_eq!(hinges, vec![new]);
    // The inbox's filters offer the same: a field, and its value as typed.
    b.open("/inbox?view=all");
    b.click_css("form.filters select[name='field'] option[value='Product']");
    let value = b.wait_find("form.filters input[name='value']");
    b.type_into(&value, "hinge");
    b.click_css("form.filters button[type='submit']");
    b.wait_until("the inbox filtered by the field", |b| {
        b.ready() && b.url().contains("field=Product") && b.find("span.field-filter").is_some()
    });
    assert_eq!(b.row_ids(), vec![new]);
    assert!(b.text("span.field-filter").contains("hinge"));
    // Product is shown on the inbox's rows (`in_inbox`); the order number is not.
    let all = jane.get("/inbox?view=all").text();
    let row = |id: i64| {
        all.split(&format!(r#"data-ticket="{id}""#))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("no row #{id}: {all}"))
            .to_string()
    };
    assert!(
        row(invoice).contains(r#"class="row-field" href="/inbox?view=all&amp;field=Product&amp;value=Desk%20lamp">Product: Desk lamp</a>"#),
        "{}",
        row(invoice)
    );
    assert!(row(new).contains(">Product: Hinge</a>"), "{}", row(new));
    assert!(!all.contains("Order number: INV-9"), "not shown on rows");
    // Search hits show them too.
    let found = jane.get("/search?q=invoice").text();
    let hit = found
        .split(&format!(r#"<li data-ticket="{invoice}""#))
        .nth(1)
        .and_then(|r| r.split("</li>").next())
        .unwrap_or_else(|| panic!("no hit #{invoice}: {found}"));
    assert!(
        hit.contains(r#"<a class="row-field" href="/inbox?view=all&amp;field=Product&amp;value=Desk%20lamp">Product: Desk lamp</a>"#),
        "{hit}"
    );
    assert!(!hit.contains("INV-9"), "{hit}");
    // The view downloads as CSV, every page of it, a column per field.
    assert!(
        all.contains(r#"<a href="/inbox.csv?view=all" download>Download these tickets (CSV)</a>"#),
        "{all}"
    );
    let csv = jane.get("/inbox.csv?view=all");
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"frontdesk-all.csv\"")
    );
    let csv = csv.text();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "id,subject,customer_name,customer_email,channel,status,priority,owner,team,tags,created_at,updated_at,customer_wrote_last,Order number,Product,Quantity,Renewal"
    );
    let line = |id: i64| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("no line for #{id}: {csv}"))
            .to_string()
    };
    assert!(
        line(invoice).ends_with(",INV-9,Desk lamp,,2027-03-01"),
        "{}",
        line(invoice)
    );
    assert!(line(invoice).contains(",Olga,olga@customer.example.org,support,"));
    assert!(line(new).contains(",Hinge,"), "{}", line(new));
    // With the inbox's filters: only the tickets with the value.
    let hinge_csv = jane
        .get("/inbox.csv?view=all&field=Product&value=Hinge")
        .text();
    assert_eq!(
        hinge_csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        2,
        "{hinge_csv}"
    );
    // Saved as a view, with its count.
    let r = jane.post(
        "/views",
        &[
            ("csrf", &jane.csrf),
            ("name", "Lamps"),
            ("link", "/inbox?view=all&field=Product&value=Desk%20lamp"),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/inbox?view=all&field=Product&value=Desk%20lamp")
    );
    let counts: serde_json::Value =
        serde_json::from_str(&jane.get("/views/counts").text()).unwrap();
    assert_eq!(
        counts
            .as_object()
            .map(|c| c.values().cloned().collect::<Vec<_>>()),
        Some(vec![serde_json::json!(1)]),
        "{counts}"
    );
    // frontdeskctl lists them too, for a script.
    let listed = d.ctl_json(&["tickets", "list", "--field", "product=DESK LAMP"]);
    let ids: Vec<i64> = listed["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![invoice], "{listed}");
    let (code, _, err) = d.ctl(&["tickets", "list", "--field", "Product"]);
    assert_ne!(code, 0);
    assert!(err.contains("NAME=VALUE"), "{err}");

    // A reload that drops a field: its kept values still show, as text, and its box
    // is gone.
    d.write_config(&settings(&FIELDS.replace(
        "[[ticket_field]]\nname = \"Renewal\"\nkind = \"date\"\n",
        "",
    )));
    let (code, out, err) = d.ctl(&["reload"]);
    assert_eq!(code, 0, "reload refused: {err}{out}");
    let page = jane.get(&format!("/tickets/{invoice}")).text();
    assert!(!page.contains("name=\"field:Renewal\""), "the box is gone");
    assert!(
        page.contains("<dl class=\"former-fields\"><dt>Renewal</dt><dd>2027-03-01</dd></dl>"),
        "kept values show"
    );
}

#[test]
fn without_fields_the_panel_has_none() {
    let d = Daemon::start_with(settings(""));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail(
            "olga@customer.example.org",
            "Plain",
            "plain.1@x.example",
            "Hi.",
        ),
    );
    let id = ticket_id(&d, "Plain");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = jane.get(&format!("/tickets/{id}")).text();
    assert!(!page.contains("<h2>Fields</h2>"), "no fields section");
}
