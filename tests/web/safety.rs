//! Invariants 5 and 6 on the agent page: hostile mail opened in Chromium runs nothing and
//! fetches nothing from outside until the agent clicks "Load images"; every response
//! carries the security headers; attachments are downloads; a POST without the session's
//! CSRF token is refused and changes nothing; every agent route needs a session.

use serde_json::json;

use crate::browser::Browser;
use crate::tracker::Tracker;
use crate::{
    add_agent, attribute, daemon, deliver, http, http_sign_in, show, ticket_id, wire, PASSWORD,
};

/// Paths of the tracker that must never be fetched, not even after "Load images".
const NEVER: &[&str] = &[
    "/meta",
    "/base",
    "/link",
    "/css",
    "/script",
    "/frame",
    "/form",
    "/svg",
    "/style",
    "/object",
    "/embed",
    "/poster",
    "/table-bg",
    "/input",
    "/video",
    "/audio",
    "/xlink",
];

/// A multipart mail whose HTML part carries the usual attacks; `t` is the tracker base.
fn hostile_mail(t: &str) -> Vec<u8> {
    let html = format!(
        r##"<html><head>
<meta http-equiv="refresh" content="0;url={t}/meta">
<base href="{t}/base/">
<link rel="stylesheet" href="{t}/link.css">
<style>body {{ background: url({t}/css-bg) }} @import url({t}/css-import);</style>
<script>window.__pwned = 'script'; alert('script');</script>
<script src="{t}/script.js"></script>
</head>
<body onload="window.__pwned='body-onload'">
<p>HOSTILE-VISIBLE text stays readable.</p>
<img src="{t}/pixel.gif" alt="tracker" width="1" height="1">
<img src="x" onerror="window.__pwned='img-onerror'; alert('onerror')">
<IMG SRC=JaVaScRiPt:window.__pwned='img-js'>
<img src=" javascript:window.__pwned='img-js2'">
<a href="javascript:window.__pwned='js-link'">click me</a>
<a href="JaVaScRiPt:window.__pwned='js-link2'">click me too</a>
<a href="&#106;avascript:window.__pwned='js-entity'">entity link</a>
<a href="jav&#x09;ascript:window.__pwned='js-tab'">tab link</a>
<a href="data:text/html,<script>alert('data')</script>">data link</a>
<iframe src="{t}/frame"></iframe>
<iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>
<form action="{t}/form" method="post"><input name="q" value="x"><button>Go</button></form>
<svg onload="window.__pwned='svg-onload'"><script>window.__pwned='svg-script'</script><image href="{t}/svg-image"/><a xlink:href="javascript:window.__pwned='xlink'"><text>svg link</text></a></svg>
<svg><animate onbegin="window.__pwned='svg-animate'" attributeName="x" dur="1s"/></svg>
<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='math'"></style></mglyph></table></mtext></math>
<math href="javascript:window.__pwned='math-href'"><mi>x</mi></math>
<div style="background-image:url({t}/style-attr); width: expression(alert(1))">styled</div>
<object data="{t}/object"></object><embed src="{t}/embed">
<video poster="{t}/poster" src="{t}/video"></video><audio src="{t}/audio"></audio>
<table background="{t}/table-bg"><tr><td>cell</td></tr></table>
<input type="image" src="{t}/input-image">
<details open ontoggle="window.__pwned='ontoggle'">d</details>
<noscript><p title="</noscript><img src=x onerror=window.__pwned='noscript'>"></p></noscript>
<p>HOSTILE-END</p>
</body></html>"##
    );
    format!(
        "From: \"<svg onload=window.__pwned='from'>\" <evil@attacker.example>\r\n\
         To: support@example.com\r\n\
         Subject: Invoice <img src=x onerror=\"window.__pwned='subject'\"> overdue\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n\
         Message-ID: <hostile.1@attacker.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         <script>window.__pwned='text'</script> plain part\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {}\r\n--b1--\r\n",
        html.replace('\n', "\r\n")
    )
    .into_bytes()
}

const HOSTILE_SUBJECT: &str = "Invoice <img src=x onerror=\"window.__pwned='subject'\"> overdue";

/// Nothing ran: no marker, no dialog, no handler attribute, no script but ours.
fn assert_inert(b: &Browser, page: &str) {
    assert_eq!(
        b.open_dialog(),
        None,
        "a dialog opened on {page}: script ran"
    );
    let state = b.js(
        r#"var bad = [];
        Array.prototype.forEach.call(document.querySelectorAll('*'), function (e) {
          Array.prototype.forEach.call(e.attributes, function (a) {
            var v = a.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
            if (/^on/i.test(a.name) || v.indexOf('javascript:') === 0 || v.indexOf('data:text/html') === 0) {
              bad.push(e.tagName + ' ' + a.name + '=' + a.value);
            }
          });
        });
        var scripts = Array.prototype.map.call(document.querySelectorAll('script'), function (s) { return s.getAttribute('src') || 'inline'; });
        var active = document.querySelectorAll('main iframe, main frame, main object, main embed, main form.hostile, main svg, main math, main meta, main base, main link, main style, main video, main audio').length;
        return { pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned), bad: bad, scripts: scripts, active: active, title: document.title };"#,
        json!([]),
    );
    assert_eq!(state["pwned"], json!(null), "script ran on {page}: {state}");
    assert_eq!(
        state["bad"],
        json!([]),
        "active attributes on {page}: {state}"
    );
    assert_eq!(
        state["scripts"],
        json!(["/static/app.js"]),
        "{page}: {state}"
    );
    assert_eq!(state["active"], 0, "active elements in {page}: {state}");
}

#[test]
fn hostile_mail_runs_nothing_and_loads_nothing_until_images_are_asked_for() {
    let tracker = Tracker::start();
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "evil@attacker.example",
        "support@example.com",
        &hostile_mail(&tracker.base()),
    );
    let id = ticket_id(&d, HOSTILE_SUBJECT);

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    // The subject and sender show in the inbox as text.
    b.open("/inbox?view=open");
    b.wait_text("#main table.tickets", HOSTILE_SUBJECT);
    assert_inert(&b, "the inbox");

    b.open(&format!("/tickets/{id}"));
    b.wait_text("#main .thread", "HOSTILE-END");
    assert!(b.text("#main .thread h1").contains(HOSTILE_SUBJECT));
    assert_inert(&b, "the ticket page");
    // Click what used to be the script links: nothing runs, the page stays.
    for label in [
        "click me",
        "click me too",
        "entity link",
        "tab link",
        "svg link",
    ] {
        b.js(
            "var label = arguments[0];\
             var a = Array.prototype.find.call(document.querySelectorAll('main a'), function (x) { return x.textContent === label; });\
             if (a) { a.click(); } return !!a;",
            json!([label]),
        );
    }
    assert!(
        b.path().starts_with(&format!("/tickets/{id}")),
        "{}",
        b.path()
    );
    assert_inert(&b, "the ticket page after clicking the links");
    // Search results show the subject as text too.
    b.open("/search?q=invoice");
    b.wait_text("#main ol.hits", "Invoice");
    assert_inert(&b, "the search page");

    assert!(
        tracker.hits().is_empty(),
        "the page fetched from the tracker before images were asked for: {:#?}",
        tracker.hits()
    );

    // The agent asks for images: the tracker pixel loads now, without a Referer, and
    // still nothing else is fetched and nothing runs.
    b.open(&format!("/tickets/{id}"));
    b.wait_text("p.images-blocked", "Remote images are blocked.");
    b.click_css("p.images-blocked a");
    b.wait_until("the page with images", |b| b.path().contains("images=1"));
    b.wait_text("#main .thread", "HOSTILE-END");
    crate::harness::wait_until(
        "the tracker pixel to be fetched",
        crate::browser::PAGE_DEADLINE,
        || !tracker.hits_for("/pixel.gif").is_empty(),
    );
    for hit in tracker.hits_for("/pixel.gif") {
        assert!(
            !hit.headers.iter().any(|(k, _)| k == "referer"),
            "the tracker learned the page address: {hit:?}"
        );
        // Only meaningful when the tracker is another site (cookies ignore ports).
        if tracker.ip.to_string() != "127.0.0.1" {
            assert!(
                !hit.headers.iter().any(|(k, _)| k == "cookie"),
                "cookies went to the tracker: {hit:?}"
            );
        }
    }
    assert_inert(&b, "the ticket page with images");
    let never: Vec<_> = tracker
        .hits()
        .into_iter()
        .filter(|h| NEVER.iter().any(|p| h.path.starts_with(p)))
        .collect();
    assert!(never.is_empty(), "fetched more than images: {never:#?}");
}

/// An HTML attachment, an inline SVG and a file named to climb out of a directory.
fn mail_with_attachments() -> Vec<u8> {
    "From: Carla <carla@customer.example.org>\r\n\
     To: support@example.com\r\n\
     Subject: Files attached\r\n\
     Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n\
     Message-ID: <files.1@customer.example.org>\r\n\
     MIME-Version: 1.0\r\n\
     Content-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n\
     --m1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attached files.\r\n\
     --m1\r\nContent-Type: text/html; name=\"page.html\"\r\n\
     Content-Disposition: attachment; filename=\"page.html\"\r\n\r\n\
     <html><script>alert(document.cookie)</script>PAGE-HTML</html>\r\n\
     --m1\r\nContent-Type: image/svg+xml; name=\"pic.svg\"\r\n\
     Content-Disposition: inline; filename=\"pic.svg\"\r\nContent-ID: <pic@x>\r\n\r\n\
     <svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>\r\n\
     --m1\r\nContent-Type: application/x-sh; name=\"../../../etc/evil.sh\"\r\n\
     Content-Disposition: attachment; filename=\"../../../etc/evil.sh\"\r\n\r\n\
     echo pwned\r\n\
     --m1--\r\n"
        .as_bytes()
        .to_vec()
}

fn assert_secure(r: &wire::Response, what: &str) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy: {:?}", r.headers));
    assert!(
        csp.contains("script-src 'self'") || csp.contains("default-src 'none'"),
        "{what}: CSP allows scripts from elsewhere: {csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    let framing = csp.contains("frame-ancestors 'none'")
        || r.header("x-frame-options")
            .is_some_and(|v| v.eq_ignore_ascii_case("deny"));
    assert!(framing, "{what}: the page may be framed: {:?}", r.headers);
    assert_eq!(
        r.header("referrer-policy"),
        Some("no-referrer"),
        "{what}: {:?}",
        r.headers
    );
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}: {:?}",
        r.headers
    );
}

/// Every page's headers, attachments as downloads, path traversal, CSRF and sessions,
/// all over plain HTTP.
#[test]
fn headers_attachments_csrf_and_sessions_over_plain_http() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    deliver(
        &d,
        "carla@customer.example.org",
        "support@example.com",
        &mail_with_attachments(),
    );
    let id = ticket_id(&d, "Files attached");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let bob = http_sign_in(&d, "bob@acme.test", PASSWORD);
    assert_ne!(jane.csrf, bob.csrf, "CSRF tokens must differ per session");

    // Security headers on every kind of answer.
    let ticket_page = jane.get(&format!("/tickets/{id}"));
    assert_eq!(ticket_page.status, 200);
    let mut answers: Vec<(String, wire::Response)> = vec![
        (
            "GET /login".into(),
            http(&d.http, "GET", "/login", &[], b""),
        ),
        (
            "GET /healthz".into(),
            http(&d.http, "GET", "/healthz", &[], b""),
        ),
        (
            "GET /static/app.js".into(),
            http(&d.http, "GET", "/static/app.js", &[], b""),
        ),
        (
            "GET /inbox (no session)".into(),
            http(&d.http, "GET", "/inbox", &[], b""),
        ),
        ("GET /inbox".into(), jane.get("/inbox")),
        ("GET /tickets/ID".into(), ticket_page.clone()),
        (
            "GET /tickets/ID?images=1".into(),
            jane.get(&format!("/tickets/{id}?images=1")),
        ),
        ("GET /search".into(), jane.get("/search?q=attached")),
        ("GET /nowhere".into(), jane.get("/nowhere")),
        (
            "POST without CSRF".into(),
            jane.post(&format!("/tickets/{id}/note"), &[("body", "x")], &[]),
        ),
        (
            "failed sign-in".into(),
            crate::post_login(&d, "nobody@acme.test", "wrong"),
        ),
    ];
    answers.push((
        "GET /events".into(),
        wire::request(
            &d.http,
            "GET",
            "/events",
            &[("Cookie", &jane.cookie)],
            b"",
            std::time::Duration::from_millis(1500),
        )
        .expect("/events"),
    ));
    for (what, r) in &answers {
        assert_secure(r, what);
    }
    let csp = ticket_page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(ticket_page.header("x-frame-options"), Some("DENY"));

    // /healthz needs no session.
    let health = http(&d.http, "GET", "/healthz", &[], b"");
    assert_eq!(health.status, 200, "{}", health.text());
    assert!(health.text().contains("\"status\""), "{}", health.text());

    // Attachments are downloads, never rendered, never sniffed.
    let page = ticket_page.text();
    let ids: Vec<i64> = page
        .match_indices("href=\"/attachments/")
        .filter_map(|(i, m)| {
            let rest = &page[i + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect();
    assert!(
        ids.len() >= 2,
        "attachment links on the ticket page: {page}"
    );
    let t = show(&d, id);
    let mut seen_html = false;
    let mut seen_sh = false;
    let mut all_ids = ids.clone();
    // The inline SVG is not listed; try the ids around the listed ones too.
    let max = *ids.iter().max().unwrap();
    all_ids.extend((1..=max + 1).filter(|i| !ids.contains(i)));
    for a in all_ids {
        let r = jane.get(&format!("/attachments/{a}"));
        if r.status == 404 {
            continue;
        }
        assert_eq!(r.status, 200, "attachment {a}: {}", r.text());
        assert_secure(&r, &format!("attachment {a}"));
        let ct = r.header("content-type").unwrap_or("");
        let cd = r.header("content-disposition").unwrap_or("");
        assert!(
            cd.starts_with("attachment"),
            "attachment {a} ({ct}) is not a download: {cd:?}"
        );
        assert!(
            !ct.contains("html") && !ct.contains("svg") && !ct.contains("javascript"),
            "attachment {a} would be rendered: {ct}"
        );
        let name = attribute(cd, "filename=\"").unwrap_or_default();
        assert!(
            !name.contains('/') && !name.contains('\\'),
            "attachment {a}: a path in the file name: {cd}"
        );
        let body = r.text();
        seen_html |= body.contains("PAGE-HTML");
        seen_sh |= body.contains("echo pwned");
        // Without a session: 401, no bytes.
        let anon = http(&d.http, "GET", &format!("/attachments/{a}"), &[], b"");
        assert!(
            matches!(anon.status, 401 | 303),
            "attachment {a} without a session: {}",
            anon.status
        );
        assert!(!anon.text().contains("PAGE-HTML") && !anon.text().contains("echo pwned"));
    }
    assert!(
        seen_html && seen_sh,
        "the attachments were not served: {t:#}"
    );
    // Path traversal and odd ids find nothing.
    for path in [
        "/attachments/../../../../etc/passwd",
        "/attachments/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/attachments/%2e%2e/%2e%2e/etc/passwd",
        "/attachments/1/../../etc/passwd",
        "/attachments/0",
        "/attachments/-1",
        "/attachments/999999",
        "/attachments/1%00",
        "/attachments/9223372036854775808",
    ] {
        let r = jane.get(path);
        assert!(
            matches!(r.status, 400 | 404),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains("root:"), "{path}: {}", r.text());
    }

    // CSRF: without, with a wrong, or with another session's token: 403, nothing changes.
    let before = show(&d, id);
    let outbox_before = d.ctl_json(&["outbox", "list"]).to_string();
    let status_path = format!("/tickets/{id}/status");
    let wrong = "0".repeat(jane.csrf.len());
    let attempts: Vec<(&str, wire::Response)> = vec![
        (
            "no token",
            jane.post(&status_path, &[("stage", "Closed")], &[]),
        ),
        (
            "empty token",
            jane.post(&status_path, &[("stage", "Closed"), ("csrf", "")], &[]),
        ),
        (
            "wrong token",
            jane.post(&status_path, &[("stage", "Closed"), ("csrf", &wrong)], &[]),
        ),
        (
            "wrong header",
            jane.post(
                &status_path,
                &[("stage", "Closed")],
                &[("X-CSRF-Token", &wrong)],
            ),
        ),
        (
            "another session's token",
            jane.post(
                &status_path,
                &[("stage", "Closed"), ("csrf", &bob.csrf)],
                &[],
            ),
        ),
        (
            "reply without token",
            jane.post(
                &format!("/tickets/{id}/reply"),
                &[("body", "forged reply")],
                &[],
            ),
        ),
        (
            "note without token",
            jane.post(
                &format!("/tickets/{id}/note"),
                &[("body", "forged note")],
                &[],
            ),
        ),
        (
            "assign without token",
            jane.post(
                &format!("/tickets/{id}/assign"),
                &[("to", "agent:bob@acme.test")],
                &[],
            ),
        ),
        (
            "priority without token",
            jane.post(
                &format!("/tickets/{id}/priority"),
                &[("priority", "urgent")],
                &[],
            ),
        ),
        (
            "pipeline move without token",
            jane.post(
                &format!("/tickets/{id}/pipeline"),
                &[("pipeline", "Support"), ("stage", "Closed")],
                &[],
            ),
        ),
        (
            "availability without token",
            jane.post("/me/availability", &[("available", "off")], &[]),
        ),
        ("sign-out without token", jane.post("/logout", &[], &[])),
    ];
    for (what, r) in &attempts {
        assert_eq!(r.status, 403, "{what}: {} {}", r.status, r.text());
    }
    let after = show(&d, id);
    assert_eq!(before, after, "a refused request changed the ticket");
    assert_eq!(
        outbox_before,
        d.ctl_json(&["outbox", "list"]).to_string(),
        "a refused reply was queued"
    );
    let users = d.ctl_json(&["users", "list"]).to_string();
    assert!(
        !users.contains("\"available\":false"),
        "a refused request changed availability: {users}"
    );
    // The session survived the forged sign-out.
    assert_eq!(jane.get("/inbox").status, 200);

    // The same request with the right token goes through (so the 403s above mean CSRF).
    let ok = jane.post(
        &status_path,
        &[("stage", "Closed"), ("csrf", &jane.csrf)],
        &[],
    );
    assert_eq!(ok.status, 303, "{}", ok.text());
    assert_eq!(show(&d, id)["status"], "Closed");
    let ok = jane.post(
        &format!("/tickets/{id}/priority"),
        &[("priority", "high")],
        &[("X-CSRF-Token", &jane.csrf)],
    );
    assert_eq!(ok.status, 303, "{}", ok.text());
    assert_eq!(show(&d, id)["priority"], "high");

    // Every agent route without a session: to /login or 401, and no data.
    let anon_checks = |cookie: Option<&str>| {
        let headers: Vec<(&str, &str)> = cookie.map(|c| vec![("Cookie", c)]).unwrap_or_default();
        let gets = [
            "/".to_string(),
            "/inbox".into(),
            "/inbox?view=all".into(),
            "/inbox?view=closed".into(),
            format!("/tickets/{id}"),
            format!("/tickets/{id}?images=1"),
            "/search?q=attached".into(),
            "/events".into(),
            format!("/events?ticket={id}"),
            "/attachments/1".into(),
            "/messages/1/original".into(),
            format!("/tickets/{id}?all=1"),
            "/inbox?view=all&contact=olga%40customer.example.org".into(),
            "/me".into(),
            "/snippets".into(),
            "/tickets/new".into(),
            "/reports?days=30".into(),
            "/reports.csv?table=days".into(),
            "/inbox.csv?view=all".into(),
            "/customers".into(),
            "/customers?q=olga".into(),
            "/customers/1".into(),
            "/customers/1/erase".into(),
            format!("/tickets/{id}/delete"),
            "/agents".into(),
            "/agents?edit=jane%40acme.test".into(),
            "/nowhere".into(),
        ];
        for path in &gets {
            let r = wire::request(
                &d.http,
                "GET",
                path,
                &headers,
                b"",
                std::time::Duration::from_secs(5),
            )
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            let to_login = crate::sends_to_login(&r, path);
            assert!(
                to_login || r.status == 401,
                "GET {path} without a session ({cookie:?}): {} {:?} {}",
                r.status,
                r.headers,
                r.text()
            );
            assert!(
                !r.text().contains("Files attached") && !r.text().contains("See the attached"),
                "GET {path} leaked data: {}",
                r.text()
            );
        }
        let posts: [(String, &str); 47] = [
            (format!("/tickets/{id}/reply"), "body=anon"),
            ("/tickets/bulk".into(), "ticket=1&stage=Closed"),
            (
                "/tickets/new".into(),
                "to=x%40example.org&subject=anon&body=anon",
            ),
            (format!("/tickets/{id}/pipeline"), "pipeline=Support"),
            (format!("/tickets/{id}/note"), "body=anon"),
            (
                format!("/tickets/{id}/assign"),
                "to=agent%3Abob%40acme.test",
            ),
            (format!("/tickets/{id}/status"), "stage=New"),
            (format!("/tickets/{id}/priority"), "priority=low"),
            (format!("/tickets/{id}/replying"), ""),
            (format!("/tickets/{id}/subject"), "subject=anon"),
            (format!("/tickets/{id}/people"), "remove=x%40example.org"),
            (format!("/tickets/{id}/snooze"), "for=1d"),
            (format!("/tickets/{id}/macro"), "macro=anon"),
            (format!("/tickets/{id}/fields"), "field%3AOrder=anon"),
            (format!("/tickets/{id}/tags"), "add=anon"),
            (format!("/tickets/{id}/merge"), "into=1"),
            (format!("/tickets/{id}/spam"), "spam=1"),
            (format!("/tickets/{id}/forward"), "to=x%40example.org"),
            (format!("/tickets/{id}/contact"), "name=anon&owner="),
            ("/customers/1/contact".into(), "name=anon&owner="),
            (
                "/customers/1/erase".into(),
                "confirm=olga%40customer.example.org",
            ),
            (format!("/tickets/{id}/split"), "message=1"),
            (format!("/tickets/{id}/delete"), ""),
            ("/outbox/1/cancel".into(), ""),
            ("/outbox/1/retry".into(), ""),
            ("/me/availability".into(), "available=off"),
            ("/me/notifications".into(), "notify=new-ticket"),
            ("/me/signature".into(), "signature=anon"),
            ("/snippets".into(), "name=anon&body=x"),
            ("/snippets/1".into(), "name=anon&body=x"),
            ("/snippets/1/delete".into(), ""),
            ("/messages/1/edit".into(), "body=anon"),
            ("/messages/1/delete".into(), ""),
            (
                "/me/password".into(),
                "current=x&new=anonymous1&repeat=anonymous1",
            ),
            (
                "/agents".into(),
                "email=x%40acme.test&name=x&new=anonymous1&repeat=anonymous1",
            ),
            ("/agents/save".into(), "email=jane%40acme.test&name=x"),
            ("/agents/deactivate".into(), "email=jane%40acme.test"),
            ("/agents/teams".into(), "team=anon"),
            ("/me/sessions/others".into(), ""),
            ("/me/sessions/end".into(), "session=x"),
            ("/me/two-step/recovery".into(), "current=x"),
            ("/me/two-step/setup".into(), ""),
            ("/me/two-step/on".into(), "code=123456"),
            ("/me/two-step/cancel".into(), ""),
            ("/me/two-step/off".into(), "current=x"),
            ("/logout".into(), ""),
            ("/inbox".into(), ""),
        ];
        for (path, body) in &posts {
            let mut h = headers.clone();
            h.push(("Content-Type", "application/x-www-form-urlencoded"));
            let r = http(&d.http, "POST", path, &h, body.as_bytes());
            let to_login = r.status == 303 && r.header("location") == Some("/login");
            assert!(
                to_login || r.status == 401,
                "POST {path} without a session ({cookie:?}): {} {}",
                r.status,
                r.text()
            );
        }
    };
    let snapshot = show(&d, id);
    anon_checks(None);
    anon_checks(Some(
        "fd_session=0000000000000000000000000000000000000000000000000000000000000000",
    ));
    anon_checks(Some("fd_session="));
    assert_eq!(
        snapshot,
        show(&d, id),
        "an unauthenticated request changed the ticket"
    );
}
