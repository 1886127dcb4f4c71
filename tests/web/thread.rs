//! The ticket page's thread and side panel in Chromium: the customer's HTML mail with its
//! `cid:` image shown from our own attachment URL, a file to download, an automatic reply
//! marked and dimmed, the agent's reply and an internal note each set apart, and the
//! contact panel listing the contact's other ticket and owner. Then priority and the
//! agent's own availability, changed from the page.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, jane_replies, show, text_mail, text_mail_with, ticket_id, PASSWORD,
};

const CUSTOMER: &str = "olga@customer.example.org";
/// A 1×1 PNG.
const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn html_mail_with_inline_image() -> Vec<u8> {
    format!(
        "From: Olga Ortiz <{CUSTOMER}>\r\nTo: support@example.com\r\nSubject: Broken hinge\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\nMessage-ID: <hinge.1@customer.example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
         --outer\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>The <b>hinge</b> snapped, see <img id=\"shot\" src=\"cid:shot@customer\" alt=\"photo\"></p>\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: inline\r\nContent-ID: <shot@customer>\r\n\r\n{PIXEL}\r\n\
         --rel--\r\n\
         --outer\r\nContent-Type: application/pdf; name=\"receipt.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"receipt.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         JVBERi0xLjQKJcfsj6IK\r\n--outer--\r\n"
    )
    .into_bytes()
}

#[test]
fn the_thread_shows_every_kind_of_message_and_the_contact_panel() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        CUSTOMER,
        "support@example.com",
        &html_mail_with_inline_image(),
    );
    let id = ticket_id(&d, "Broken hinge");
    // An out-of-office answer in the same thread: marked as automatic.
    let auto = text_mail_with(
        &format!("Olga Ortiz <{CUSTOMER}>"),
        "Re: Broken hinge",
        "hinge.auto@customer.example.org",
        "I am out of the office until Monday.",
        "Auto-Submitted: auto-replied\r\nIn-Reply-To: <hinge.1@customer.example.org>\r\n",
    );
    deliver(&d, CUSTOMER, "support@example.com", &auto);
    // Her other ticket, and Jane as her owner.
    deliver(
        &d,
        CUSTOMER,
        "support@example.com",
        &text_mail(
            CUSTOMER,
            "Invoice copy",
            "inv.1@customer.example.org",
            "Please resend.",
        ),
    );
    let other = ticket_id(&d, "Invoice copy");
    let (code, out, err) = d.ctl(&["contacts", "set-owner", CUSTOMER, "jane@acme.test"]);
    assert_eq!(code, 0, "{err}{out}");
    // The agent's reply (it reaches the relay) and an internal note.
    jane_replies(&d, id, &[], "A new hinge is in the post.");
    rx.wait_rcpt(CUSTOMER, 1, Duration::from_secs(30));
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "note", &id.to_string(), "--as", "jane@acme.test"],
        Some(b"Second hinge this month: check the batch."),
    );
    assert_eq!(code, 0, "{err}{out}");

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.wait_text("article.message.note", "check the batch");

    // Oldest first, each kind with its own class and words.
    let kinds = b.js(
        "return Array.prototype.map.call(document.querySelectorAll('article.message'), function (a) { \
           return a.className.replace('message ', '') + '|' + a.querySelector('.marks').textContent; });",
        json!([]),
    );
    assert_eq!(
        kinds,
        json!([
            "inbound|",
            "inbound automatic|auto-reply",
            "outbound|reply",
            "note|internal note"
        ]),
        "{}",
        b.source()
    );
    // The notes and automatic mail look different from the customer's mail.
    let background = |css: &str| {
        b.js(
            "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;",
            json!([css]),
        )
    };
    assert_ne!(
        background("article.message.note"),
        background("article.message.inbound")
    );
    let opacity = b.js(
        "return getComputedStyle(document.querySelector('article.message.automatic')).opacity;",
        json!([]),
    );
    assert_ne!(opacity, "1", "automatic mail is dimmed");

    // The HTML body, sanitized but intact; its cid: image comes from our attachment URL
    // and really loads; the PDF is a download, the inline image is not listed.
    assert!(b
        .text("article.message.inbound .body.html")
        .contains("The hinge snapped"));
    b.wait_until("the cid: image to load", |b| {
        b.js(
            "var i = document.querySelector('article.message.inbound img'); \
             return !!i && i.complete && i.naturalWidth === 1 && i.getAttribute('src').indexOf('/attachments/') === 0;",
            json!([]),
        ) == true
    });
    let files = b.text("article.message.inbound ul.attachments");
    assert!(
        files.contains("receipt.pdf") && !files.contains("image/png"),
        "{files}"
    );
    assert_eq!(
        b.js("return document.querySelector('article.message.inbound ul.attachments a').hasAttribute('download');", json!([])),
        true
    );

    // The contact panel: who she is, her owner and her other ticket, linked.
    let side = b.text("aside.side");
    assert!(
        side.contains("Olga Ortiz") && side.contains(CUSTOMER),
        "{side}"
    );
    assert!(side.contains("Owner: jane@acme.test"), "{side}");
    assert!(side.contains("Invoice copy"), "{side}");
    assert!(b
        .find(&format!("aside.side a[href='/tickets/{other}']"))
        .is_some());

    // Priority from the side panel.
    b.click_css("aside.side select[name=priority] option[value='urgent']");
    b.click_css("form[action$='/priority'] button[type=submit]");
    b.wait_text("p.meta", "priority urgent");
    assert_eq!(show(&d, id)["priority"], "urgent");

    // The agent's own availability, from the header.
    b.click_css("form[action='/me/availability'] button[type=submit]");
    b.wait_text("header .me", "away");
    let users = d.ctl_json(&["users", "list"]);
    let jane = users["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == "jane@acme.test"))
        .cloned()
        .unwrap_or_else(|| panic!("{users}"));
    assert_eq!(jane["available"], false, "{jane}");
}

/// A regular customer's ticket lists only their latest other tickets (newest activity
/// first, merged ones left out) and links to the inbox filtered to them, which lists
/// them all; the filter shows as a chip whose × lifts it, and each inbox row's contact
/// links to the same filter.
#[test]
fn the_contact_panel_lists_the_latest_other_tickets_and_links_to_all_of_them() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    const REGULAR: &str = "rita@regular.example.org";
    let mut ids = Vec::new();
    for n in 1..=24 {
        let subject = format!("Question {n}");
        let mail = text_mail(
            REGULAR,
            &subject,
            &format!("q{n}@regular.example.org"),
            "Another question.",
        );
        deliver(&d, REGULAR, "support@example.com", &mail);
        ids.push(ticket_id(&d, &subject));
    }
    // Someone else's ticket, newest of all: in no list of hers.
    let other = text_mail(CUSTOMER, "Only one", "one.1@customer.example.org", "Hi.");
    deliver(&d, CUSTOMER, "support@example.com", &other);
    let only_one = ticket_id(&d, "Only one");
    let jane = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    // Question 23 merged into 24: it is no longer a ticket of its own.
    let r = jane.post(
        &format!("/tickets/{}/merge", ids[22]),
        &[("into", &ids[23].to_string()), ("csrf", &jane.csrf)],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());

    let page = jane.get(&format!("/tickets/{}", ids[0]));
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let panel = html
        .split(r#"<ul class="others">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("no list of other tickets: {html}"));
    // The newest first: 24 (with 23 merged into it), then 22 down to 4; 1 is this page.
    let mut expected = vec![ids[23]];
    expected.extend(ids[3..22].iter().rev());
    assert_eq!(linked_tickets(panel), expected, "{panel}");
    let all = "/inbox?view=all&amp;contact=rita%40regular.example.org";
    assert!(
        html.contains(&format!(r#"<a href="{all}">All their tickets</a>"#)),
        "{html}"
    );

    // That link: every ticket of hers still on its own, newest first, and nobody else's.
    let inbox = jane.get(&all.replace("&amp;", "&"));
    assert_eq!(inbox.status, 200);
    let inbox = inbox.text();
    let mut expected = vec![ids[23]];
    expected.extend(ids[..22].iter().rev());
    assert_eq!(crate::inbox_rows(&inbox), expected, "{inbox}");
    assert!(
        inbox.contains(r#"<span class="contact-filter">customer <b>rita@regular.example.org</b> <a href="/inbox?view=all" aria-label"#),
        "{inbox}"
    );
    // The filter stays through the filter form (a hidden field) and narrows other views.
    assert!(
        inbox.contains(r#"<input type="hidden" name="contact" value="rita@regular.example.org">"#)
    );
    let closed = jane.get("/inbox?view=closed&contact=rita%40regular.example.org");
    assert_eq!(crate::inbox_rows(&closed.text()), Vec::<i64>::new());
    // An address typed into the URL in another case finds her as well.
    let typed = jane.get("/inbox?view=all&contact=Rita%40Regular.Example.org");
    assert_eq!(crate::inbox_rows(&typed.text()), expected);

    // In the unfiltered inbox each row's contact links to the filter.
    let everyone = jane.get("/inbox?view=all").text();
    let rows_all = crate::inbox_rows(&everyone);
    assert_eq!(rows_all.first(), Some(&only_one));
    assert!(
        everyone.contains(
            r#"<a class="contact" href="/inbox?view=all&amp;contact=olga%40customer.example.org""#
        ),
        "{everyone}"
    );

    // A customer with one ticket gets no list and no link.
    let page = jane.get(&format!("/tickets/{only_one}"));
    assert!(!page.text().contains("All their tickets"));
    assert!(!page.text().contains(r#"<ul class="others">"#));
}

/// Ticket numbers linked from a piece of a page, in order.
fn linked_tickets(html: &str) -> Vec<i64> {
    html.split(r#"<a href="/tickets/"#)
        .skip(1)
        .filter_map(|a| a.split('"').next()?.parse().ok())
        .collect()
}

/// The customer's colleagues: the latest tickets of others who write from their
/// company's domain, with a search for all of it when there are more; none for a mail
/// service many strangers share, nor for a domain so many write from that it must be one.
#[test]
fn the_contact_panel_lists_the_tickets_of_colleagues_at_the_same_company() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let mail = |from: &str, subject: &str, id: &str| crate::mail_to_support(&d, from, subject, id);
    let olga = mail("olga@globex.example", "Olga's printer", "g1@globex.example");
    let hank = mail(
        "hank@globex.example",
        "Hank's <b>invoice</b>",
        "g2@globex.example",
    );
    let hank_again = mail("Hank@Globex.Example", "Hank again", "g3@globex.example");
    let sub = mail(
        "sam@sub.globex.example",
        "Subsidiary",
        "g4@sub.globex.example",
    );
    let ivan = mail("ivan@gmail.com", "Ivan asks", "g5@gmail.com");
    mail("gina@gmail.com", "Gina asks", "g6@gmail.com");
    let jane = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    let colleagues = |ticket: i64| -> Option<(String, Vec<i64>)> {
        let html = jane.get(&format!("/tickets/{ticket}")).text();
        let (head, rest) = html.split_once(r#"<ul class="colleagues">"#)?;
        let title = head
            .rsplit("<h3>")
            .next()?
            .trim_end_matches("</h3>")
            .to_string();
        Some((title, linked_tickets(rest.split("</ul>").next()?)))
    };
    // Olga sees Hank's two, newest first, the subject shown as text.
    assert_eq!(
        colleagues(olga),
        Some((
            "Others at globex.example".to_string(),
            vec![hank_again, hank]
        ))
    );
    let page = jane.get(&format!("/tickets/{olga}")).text();
    assert!(
        page.contains(&format!(
            "#{hank} Hank&#39;s &lt;b&gt;invoice&lt;/b&gt;</a> (New) · hank@globex.example"
        )),
        "{page}"
    );
    assert!(!page.contains("All mail from"), "no more than the list");
    // Hank sees Olga's (his own other ticket is in his own list, not here).
    assert_eq!(colleagues(hank).map(|c| c.1), Some(vec![olga]));
    // Another domain, even a subdomain, is another company; a mail service is none.
    assert_eq!(colleagues(sub), None);
    assert_eq!(colleagues(ivan), None);

    // More colleagues than the panel lists: the latest, and a search for the rest.
    let mut newest = Vec::new();
    for n in 0..21 {
        newest.push(mail(
            &format!("staff{n}@globex.example"),
            &format!("Staff question {n}"),
            &format!("s{n}@globex.example"),
        ));
    }
    let (_, listed) = colleagues(olga).expect("colleagues");
    newest.reverse();
    assert_eq!(listed, newest[..20], "the 20 latest");
    let page = jane.get(&format!("/tickets/{olga}")).text();
    assert!(
        page.contains(
            r#"<a href="/search?q=from%3Aglobex.example">All mail from globex.example</a>"#
        ),
        "{page}"
    );
    let found = jane.get("/search?q=from%3Aglobex.example").text();
    for t in [olga, hank, newest[0]] {
        assert!(
            found.contains(&format!("data-ticket=\"{t}\"")),
            "{t}: {found}"
        );
    }

    // So many write from it (more than 50) that it is a mail provider: no list.
    for n in 21..60 {
        mail(
            &format!("staff{n}@globex.example"),
            &format!("Staff question {n}"),
            &format!("s{n}@globex.example"),
        );
    }
    assert_eq!(colleagues(olga), None);
}
