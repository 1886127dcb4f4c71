//! Saved views: an agent keeps an inbox view with its filters under a name and opens it
//! from the inbox again; saving a name again replaces it; it is theirs alone; a bad one
//! is refused and changes nothing.

use serde_json::Value;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, http_sign_in, text_mail, ticket_id, PASSWORD};

/// The saved views an inbox page lists: (link, name).
fn saved(page: &str) -> Vec<(String, String)> {
    let Some(list) = page
        .split(r#"<nav class="saved-views" aria-label="Saved views">"#)
        .nth(1)
        .and_then(|rest| rest.split("</nav>").next())
    else {
        return Vec::new();
    };
    list.split("<li><a href=\"")
        .skip(1)
        .filter_map(|li| {
            let (link, rest) = li.split_once('"')?;
            let name = rest.split_once('>')?.1.split('<').next()?;
            Some((link.replace("&amp;", "&"), name.trim().to_string()))
        })
        .collect()
}

#[test]
fn an_agent_saves_an_inbox_view_and_opens_it_again() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bea@acme.test", "Bea Kowalczyk");
    for (from, subject, id) in [
        (
            "olga@customer.example.org",
            "Broken hinge",
            "v1@customer.example.org",
        ),
        (
            "ivan@elsewhere.example.net",
            "Invoice copy",
            "v2@elsewhere.example.net",
        ),
    ] {
        deliver(
            &d,
            from,
            "support@example.com",
            &text_mail(from, subject, id, "Hello."),
        );
    }
    let hinge = ticket_id(&d, "Broken hinge");
    let (code, out, err) = d.ctl(&["tickets", "tag", &hinge.to_string(), "--add", "vip"]);
    assert_eq!(code, 0, "{err}{out}");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let bea = http_sign_in(&d, "bea@acme.test", PASSWORD);

    // The page offers to save the view it shows, with its filters, from its first page.
    let page = jane
        .get("/inbox?view=all&tag=vip&before=99999999999")
        .text();
    assert!(
        page.contains(r#"<input type="hidden" name="link" value="/inbox?view=all&amp;tag=vip">"#),
        "{page}"
    );
    assert!(saved(&page).is_empty());
    let save = |who: &crate::Agent, name: &str, link: &str| {
        who.post(
            "/views",
            &[("csrf", &who.csrf), ("name", name), ("link", link)],
            &[],
        )
    };
    let r = save(
        &jane,
        " VIP customers ",
        "/inbox?view=all&tag=vip&before=99999999999",
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/inbox?view=all&tag=vip"));
    let inbox = jane.get("/inbox").text();
    let views = saved(&inbox);
    assert_eq!(
        views,
        [(
            "/inbox?view=all&tag=vip".to_string(),
            "VIP customers".to_string()
        )]
    );
    let opened = jane.get(&views[0].0).text();
    assert_eq!(crate::inbox_rows(&opened), [hinge]);
    assert!(
        opened.contains(r#"aria-current="page">VIP customers <span class="count""#),
        "{opened}"
    );
    // Bea's inbox has none of Jane's.
    assert!(saved(&bea.get("/inbox").text()).is_empty());

    // The same name again replaces the view; another name adds one, listed by name.
    assert_eq!(
        save(&jane, "VIP customers", "/inbox?view=open&tag=vip").status,
        303
    );
    assert_eq!(
        save(&jane, "Anyone waiting", "/inbox?view=all&awaiting=1").status,
        303
    );
    assert_eq!(
        saved(&jane.get("/inbox").text()),
        [
            (
                "/inbox?view=all&awaiting=1".to_string(),
                "Anyone waiting".to_string()
            ),
            (
                "/inbox?view=open&tag=vip".to_string(),
                "VIP customers".to_string()
            ),
        ]
    );

    // Refused, nothing saved: no name, a name too long, a page that is no inbox view,
    // and a form without its token.
    for (name, link, status) in [
        ("  ", "/inbox?view=all", 400),
        (&"x".repeat(41) as &str, "/inbox?view=all", 400),
        ("Elsewhere", "https://evil.example/inbox?view=all", 400),
        ("Reports", "/reports?days=7", 400),
    ] {
        let r = save(&jane, name, link);
        assert_eq!(r.status, status, "{name:?} {link}: {}", r.text());
    }
    let r = jane.post(
        "/views",
        &[("name", "No token"), ("link", "/inbox?view=all")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(saved(&jane.get("/inbox").text()).len(), 2);

    // Deleting: only one's own.
    let page = jane.get("/inbox").text();
    let id: i64 = crate::attribute(&page, r#"<form method="post" action="/views/"#)
        .and_then(|a| a.split('/').next()?.parse().ok())
        .expect("a delete form");
    let r = bea.post(&format!("/views/{id}/delete"), &[("csrf", &bea.csrf)], &[]);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(saved(&jane.get("/inbox").text()).len(), 2);
    let r = jane.post(&format!("/views/{id}/delete"), &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        saved(&jane.get("/inbox").text()),
        [(
            "/inbox?view=open&tag=vip".to_string(),
            "VIP customers".to_string()
        )]
    );

    // In the browser: name the view shown and press Enter; it opens, saved and marked.
    let b = Browser::start(&d.http);
    b.sign_in("bea@acme.test", PASSWORD);
    b.open("/inbox?view=all&awaiting=1");
    let input = b.wait_find("form.save-view input[name=name]");
    b.type_into(&input, "Waiting on us\u{E007}");
    b.wait_until("the saved view", |b| {
        b.ready() && b.find("nav.saved-views a[aria-current]").is_some()
    });
    assert_eq!(b.path(), "/inbox?view=all&awaiting=1");
    // Its count comes after the page: both tickets wait on us.
    b.wait_until("the saved view's count", |b| {
        b.text("nav.saved-views a[aria-current] .count") == "2"
    });
    assert_eq!(
        b.text("nav.saved-views a[aria-current]").trim(),
        "Waiting on us 2"
    );
    assert_eq!(
        saved(&bea.get("/inbox").text()),
        [(
            "/inbox?view=all&awaiting=1".to_string(),
            "Waiting on us".to_string()
        )]
    );
}

/// `/views/counts` for `who`: saved view id → tickets.
fn counts(who: &crate::Agent) -> Vec<(i64, i64)> {
    let r = who.get("/views/counts");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&r.text()).expect("JSON");
    let mut out: Vec<(i64, i64)> = body
        .as_object()
        .expect("an object")
        .iter()
        .map(|(id, n)| (id.parse().expect("an id"), n.as_i64().expect("a count")))
        .collect();
    out.sort();
    out
}

#[test]
fn saved_views_show_how_many_tickets_they_hold() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bea@acme.test", "Bea Kowalczyk");
    let mail = |from: &str, subject: &str, id: &str| crate::mail_to_support(&d, from, subject, id);
    let hinge = mail(
        "olga@customer.example.org",
        "Broken hinge",
        "c1@customer.example.org",
    );
    let lid = mail(
        "olga@customer.example.org",
        "Loose lid",
        "c2@customer.example.org",
    );
    let invoice = mail(
        "ivan@elsewhere.example.net",
        "Invoice copy",
        "c3@elsewhere.example.net",
    );
    for id in [hinge, invoice] {
        let (code, out, err) = d.ctl(&["tickets", "tag", &id.to_string(), "--add", "vip"]);
        assert_eq!(code, 0, "{err}{out}");
    }
    let (code, out, err) = d.ctl(&["tickets", "status", &lid.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let bea = http_sign_in(&d, "bea@acme.test", PASSWORD);
    assert_eq!(counts(&jane), [], "no saved views, no counts");

    let links = [
        "/inbox?view=open&tag=vip",
        "/inbox?view=all&contact=olga%40customer.example.org",
        "/inbox?view=unassigned&order=oldest",
        "/inbox?view=closed",
        "/inbox?view=mine",
    ];
    for (i, link) in links.iter().enumerate() {
        let r = jane.post(
            "/views",
            &[
                ("csrf", &jane.csrf),
                ("name", &format!("View {i}")),
                ("link", link),
            ],
            &[],
        );
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let page = jane.get("/inbox").text();
    // Each view's count is what its page lists.
    let ids: Vec<i64> = page
        .split(r#"data-saved-view=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    assert_eq!(ids.len(), links.len(), "{page}");
    let listed = |link: &str| crate::inbox_rows(&jane.get(link).text()).len() as i64;
    let by_link = |c: &[(i64, i64)]| -> Vec<(String, i64)> {
        saved(&jane.get("/inbox").text())
            .into_iter()
            .map(|(link, name)| {
                let i: usize = name["View ".len()..].parse().expect("a view number");
                let id = ids[i];
                let n = c.iter().find(|(v, _)| *v == id).map_or(-1, |(_, n)| *n);
                (link, n)
            })
            .collect()
    };
    let now = by_link(&counts(&jane));
    assert_eq!(
        now,
        [
            ("/inbox?view=open&tag=vip".to_string(), 2),
            (
                "/inbox?view=all&contact=olga%40customer.example.org".to_string(),
                2
            ),
            ("/inbox?view=unassigned&order=oldest".to_string(), 2),
            ("/inbox?view=closed".to_string(), 1),
            ("/inbox?view=mine".to_string(), 0),
        ]
    );
    for (link, n) in &now {
        assert_eq!(listed(link), *n, "{link}");
    }
    // Bea saved none: Jane's are hers alone.
    assert_eq!(counts(&bea), []);

    // Something written: new mail and a ticket taken change the counts at once.
    let more = mail(
        "olga@customer.example.org",
        "Cracked screen",
        "c4@customer.example.org",
    );
    let (code, out, err) = d.ctl(&["tickets", "assign", &hinge.to_string(), "jane@acme.test"]);
    assert_eq!(code, 0, "{err}{out}");
    let after = by_link(&counts(&jane));
    assert_eq!(
        after.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [2, 3, 2, 1, 1],
        "{after:?} (#{more} is Olga's, unassigned; #{hinge} is Jane's)"
    );
    for (link, n) in &after {
        assert_eq!(listed(link), *n, "{link}");
    }

    // Without a session: sent to sign in, no counts.
    let anonymous = crate::wire::request(
        &d.http,
        "GET",
        "/views/counts",
        &[],
        b"",
        std::time::Duration::from_secs(10),
    )
    .expect("an answer");
    assert_eq!(anonymous.status, 303);
    assert!(!anonymous.text().contains(':'), "{}", anonymous.text());
}
