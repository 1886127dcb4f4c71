//! Two-step sign-in: an agent sets it up on their account page (a QR code and the key
//! for an authenticator app, confirmed by a code from it), and from then on signing in
//! asks for the app's code after the password. A wrong code is refused and counts as a
//! failed sign-in, three end the attempt, a code works once, the right password alone
//! gives no session. Turning it off takes the current password; the sysadmin turns it
//! off for an agent who lost their phone, but cannot turn it on for them.

use frontdesk::auth::totp;

use crate::browser::Browser;
use crate::{add_agent, attribute, daemon, http, http_sign_in, post_login, Agent, PASSWORD};

/// The code the agent's app shows `ahead` steps from now.
fn code(secret: &str, ahead: i64) -> String {
    let key = totp::from_base32(secret).expect("a base32 key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    totp::format_code(totp::code_at(&key, totp::step_at(now) + ahead))
}

/// Six digits that are none of the codes taken now (the current step and its two
/// neighbours, a step either side of them for a clock ticking over meanwhile).
fn wrong_code(secret: &str) -> String {
    let taken: Vec<String> = (-2..=2).map(|a| code(secret, a)).collect();
    (0..10u32)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !taken.contains(c))
        .expect("a code nobody's app shows")
}

/// Whether `users list` says `email` signs in with two steps.
fn two_step_on(d: &crate::harness::Daemon, email: &str) -> bool {
    d.ctl_json(&["users", "list"])["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no {email}"))["two_step"]
        .as_bool()
        .expect("two_step")
}

/// The QR code on screen, read from a screenshot by zbarimg as a phone's app would.
fn scanned(b: &Browser) -> String {
    b.js(
        "document.querySelector('figure.qr').scrollIntoView(); return true;",
        serde_json::json!([]),
    );
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("screen.png");
    std::fs::write(&png, b.screenshot()).unwrap();
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&png)
        .output()
        .expect("zbarimg (Debian's zbar-tools; scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "no QR code read off the screen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the agent's session still opens the inbox.
fn signed_in(agent: &Agent) -> bool {
    match agent.get("/inbox").status {
        200 => true,
        303 => false,
        other => panic!("unexpected {other}"),
    }
}

/// The key shown while setting up, without its spaces.
fn key_on(page: &str) -> String {
    attribute(page, "<code id=\"two-step-key\">")
        .map(|k| k.split('<').next().unwrap_or("").replace(' ', ""))
        .unwrap_or_else(|| panic!("no key on the page: {page}"))
}

/// The recovery codes a page lists.
fn recovery_codes_on(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .map(str::to_string)
        .collect()
}

/// Turn two-step sign-in on over plain HTTP; the key and the recovery codes shown.
fn turn_on(agent: &Agent) -> (String, Vec<String>) {
    let r = agent.post("/me/two-step/setup", &[("csrf", &agent.csrf)], &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    let secret = key_on(&agent.get("/me").text());
    let r = agent.post(
        "/me/two-step/on",
        &[("csrf", &agent.csrf), ("code", &code(&secret, 0))],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Two-step sign-in is on"), "{}", r.text());
    let codes = recovery_codes_on(&r.text());
    assert_eq!(codes.len(), 10, "{}", r.text());
    // Shown this once: the account page no longer lists them.
    assert!(recovery_codes_on(&agent.get("/me").text()).is_empty());
    (secret, codes)
}

/// `POST /login` with the code form's fields; the answer.
fn post_code(d: &crate::harness::Daemon, pending: &str, code: &str) -> crate::wire::Response {
    let body = format!(
        "pending={}&code={}",
        crate::form_encode(pending),
        crate::form_encode(code)
    );
    http(
        &d.http,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

/// The right password: the code page (200, no cookie) and its token.
fn password_step(d: &crate::harness::Daemon, email: &str) -> String {
    let r = post_login(d, email, PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);
    assert!(
        r.text().contains("Code from your authenticator app"),
        "{}",
        r.text()
    );
    attribute(&r.text(), "name=\"pending\" value=\"").expect("the code form's token")
}

#[test]
fn an_agent_sets_up_two_step_sign_in_and_then_signs_in_with_a_code() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let phone = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.click_css("header a.me");
    b.wait_path("/me");
    b.wait_text("p.two-step-state", "Off.");
    b.click_css("form.two-step-setup button[type=submit]");
    b.wait_find("#two-step-key");
    assert!(
        b.find("figure.qr svg").is_some(),
        "no QR code: {}",
        b.source()
    );
    let secret = b.text("#two-step-key").replace(' ', "");
    assert_eq!(totp::from_base32(&secret).map(|k| k.len()), Some(20));
    // What a phone's camera reads off the screen: the same key, named for the desk.
    assert_eq!(
        scanned(&b),
        format!(
            "otpauth://totp/Acme:jane@acme.test?secret={secret}&issuer=Acme&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert!(!two_step_on(&d, "jane@acme.test"), "on before a code");

    // A code the app does not show: refused, still off.
    let input = b.wait_find("form.two-step-on input[name=code]");
    b.type_into(&input, &wrong_code(&secret));
    b.click_css("form.two-step-on button[type=submit]");
    b.wait_text("p.flash.error", "Not turned on");
    assert!(!two_step_on(&d, "jane@acme.test"));
    assert_eq!(
        b.text("#two-step-key").replace(' ', ""),
        secret,
        "the same key stays on the page"
    );
    // The app's code turns it on; her other sessions end, this one stays.
    let input = b.wait_find("form.two-step-on input[name=code]");
    b.type_into(&input, &code(&secret, 0));
    b.click_css("form.two-step-on button[type=submit]");
    b.wait_text("p.flash", "Two-step sign-in is on");
    b.wait_text("p.two-step-state", "On:");
    b.wait_text("div.recovery-codes", "Your recovery codes");
    assert_eq!(recovery_codes_on(&b.source()).len(), 10);
    assert!(b.find("#two-step-key").is_none(), "the key still shows");
    assert!(two_step_on(&d, "jane@acme.test"));
    assert!(
        !signed_in(&phone),
        "a session from the password alone survived"
    );
    b.open("/inbox");
    b.wait_path("/inbox");

    // Signing in now: the password, then the code.
    b.click_css("form[action='/logout'] button[type=submit]");
    b.wait_path("/login");
    b.fill_login("jane@acme.test", PASSWORD);
    let input = b.wait_find("input[name=code]");
    assert!(
        !b.cookies().iter().any(|c| c["name"] == "fd_session"),
        "a session before the code"
    );
    let problems = crate::a11y::audit_open(&b, "the sign-in's code step");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    b.type_into(&input, &wrong_code(&secret));
    b.click_css("form[action='/login'] button[type=submit]");
    b.wait_text("p.error", "Wrong code");
    let input = b.wait_find("input[name=code]");
    // The code after the one that turned it on: that one is spent.
    b.type_into(&input, &code(&secret, 1));
    b.click_css("form[action='/login'] button[type=submit]");
    b.wait_path("/inbox");
    assert!(b.cookies().iter().any(|c| c["name"] == "fd_session"));

    // The same code again, elsewhere: refused (seen over a shoulder, say).
    let pending = password_step(&d, "jane@acme.test");
    let r = post_code(&d, &pending, &code(&secret, 1));
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("used already"), "{}", r.text());
    assert!(r.header("set-cookie").is_none());
    // Three wrong codes end the attempt: even the right code needs the password again.
    let pending = password_step(&d, "jane@acme.test");
    for i in 0..3 {
        let r = post_code(&d, &pending, &wrong_code(&secret));
        assert_eq!(r.status, 401, "wrong code {i}: {}", r.text());
        let says = if i < 2 { "Wrong code" } else { "Sign in again" };
        assert!(r.text().contains(says), "wrong code {i}: {}", r.text());
    }
    let r = post_code(&d, &pending, &code(&secret, 0));
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("has ended"), "{}", r.text());
    // Not a number, or a token never given: refused the same.
    assert_eq!(post_code(&d, "made-up", &code(&secret, 0)).status, 401);
    // That was the fifth failure since she last signed in (one used code, three wrong,
    // and now one more): the account is held, even with the right password.
    let pending = password_step(&d, "jane@acme.test");
    assert_eq!(post_code(&d, &pending, "12345x").status, 401);
    let r = post_login(&d, "jane@acme.test", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(
        r.text().contains("Too many failed sign-ins"),
        "{}",
        r.text()
    );
    // The browser's session, signed in with a code, is untouched by all this.
    b.open("/inbox");
    b.wait_path("/inbox");
}

#[test]
fn turning_it_off_takes_the_password_and_the_sysadmin_turns_it_off_for_a_lost_phone() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);

    // Nothing set up: nothing to confirm. Cancel forgets a key being set up.
    let r = jane.post(
        "/me/two-step/on",
        &[("csrf", &jane.csrf), ("code", "123456")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Nothing is being set up"), "{}", r.text());
    let r = jane.post("/me/two-step/setup", &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 303);
    let first = key_on(&jane.get("/me").text());
    assert_eq!(
        jane.post("/me/two-step/cancel", &[("csrf", &jane.csrf)], &[])
            .status,
        303
    );
    assert!(!jane.get("/me").text().contains("two-step-key"));
    // Without the form's token nothing is set up.
    let r = jane.post("/me/two-step/setup", &[], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!jane.get("/me").text().contains("two-step-key"));

    let (secret, codes) = turn_on(&jane);
    assert_ne!(secret, first, "a new key each time it is set up");
    // A recovery code signs in once, however typed; then nine are left.
    let pending = password_step(&d, "jane@acme.test");
    let r = post_code(&d, &pending, &codes[0].to_uppercase().replace('-', " "));
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(jane.get("/me").text().contains("9 recovery codes left."));
    let pending = password_step(&d, "jane@acme.test");
    let r = post_code(&d, &pending, &codes[0]);
    assert_eq!(r.status, 401, "a recovery code twice: {}", r.text());
    assert!(r.text().contains("recovery codes"), "{}", r.text());
    // New ones take the password; the old ones stop working.
    let r = jane.post(
        "/me/two-step/recovery",
        &[("csrf", &jane.csrf), ("current", "not my password")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = jane.post(
        "/me/two-step/recovery",
        &[("csrf", &jane.csrf), ("current", PASSWORD)],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let fresh = recovery_codes_on(&r.text());
    assert_eq!(fresh.len(), 10);
    assert!(
        fresh.iter().all(|c| !codes.contains(c)),
        "{fresh:?} {codes:?}"
    );
    let r = post_code(&d, &password_step(&d, "jane@acme.test"), &codes[1]);
    assert_eq!(r.status, 401, "an old recovery code: {}", r.text());
    let r = post_code(&d, &password_step(&d, "jane@acme.test"), &fresh[0]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(two_step_on(&d, "jane@acme.test"));
    assert!(
        signed_in(&jane),
        "turning it on ended the session it came from"
    );
    let r = jane.post("/me/two-step/setup", &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 200);

    // Off takes the current password and the form's token.
    let r = jane.post("/me/two-step/off", &[("current", PASSWORD)], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = jane.post(
        "/me/two-step/off",
        &[("csrf", &jane.csrf), ("current", "not my password")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("current password is wrong"),
        "{}",
        r.text()
    );
    assert!(two_step_on(&d, "jane@acme.test"));
    let r = jane.post(
        "/me/two-step/off",
        &[("csrf", &jane.csrf), ("current", PASSWORD)],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(!two_step_on(&d, "jane@acme.test"));
    assert!(jane
        .get("/me?changed=two-step-off")
        .text()
        .contains("your password alone"));
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 303);

    // On again; she loses her phone halfway through signing in.
    let (secret, _) = turn_on(&jane);
    let pending = password_step(&d, "jane@acme.test");
    let (code_on, out, err) = d.ctl(&["users", "set", "jane@acme.test", "--two-step", "on"]);
    assert_ne!(code_on, 0, "the sysadmin turned it on: {out}");
    assert!(err.contains("account page"), "{err}");
    let said = d.ctl_json(&["users", "set", "jane@acme.test", "--two-step", "off"]);
    assert!(said.to_string().contains("two-step sign-in off"), "{said}");
    assert!(!two_step_on(&d, "jane@acme.test"));
    // The sign-in she had started asks for the password again, even with a right code.
    let r = post_code(&d, &pending, &code(&secret, 1));
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("set-cookie").is_none());
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 303);
}

#[test]
fn a_desk_that_requires_two_step_sign_in_holds_agents_at_setting_it_up() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, _) = crate::olga_two_tickets(&d, "required");
    let config = std::fs::read_to_string(&d.config_path).expect("config");
    let required = config.replacen("[http]\n", "[http]\nrequire_two_step = true\n", 1);
    assert_ne!(required, config);
    std::fs::write(&d.config_path, required).expect("write config");
    let (code_reload, out, err) = d.ctl(&["reload"]);
    assert_eq!(code_reload, 0, "{out}{err}");

    // The password still signs in, but every page leads to setting it up.
    let r = post_login(&d, "jane@acme.test", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.text());
    let jane = crate::signed_in_by(&d, &r, "/me");
    let to_setup = Some("/me#two-step");
    for page in [
        "/inbox".to_string(),
        format!("/tickets/{hinge}"),
        "/search?q=hinge".to_string(),
        "/customers".to_string(),
    ] {
        let r = jane.get(&page);
        assert_eq!((r.status, r.header("location")), (303, to_setup), "{page}");
    }
    let me = jane.get("/me").text();
    assert!(
        me.contains("asks every agent to sign in with two steps"),
        "{me}"
    );
    assert!(!me.contains("Broken hinge"), "{me}");
    let r = jane.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &jane.csrf), ("body", "sneaking a note in")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("requires two-step sign-in"),
        "{}",
        r.text()
    );
    let history = crate::history(&crate::show(&d, hinge));
    assert!(!history.contains("note"), "{history}");

    // In Chromium: signed in, she lands on her account page, sets it up, and works.
    let b = Browser::start(&d.http);
    b.open("/login");
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_path("/me");
    b.wait_text("p.flash.error", "set it up below to go on");
    b.click_css("form.two-step-setup button[type=submit]");
    let input = b.wait_find("form.two-step-on input[name=code]");
    let secret = b.text("#two-step-key").replace(' ', "");
    b.type_into(&input, &code(&secret, 0));
    b.click_css("form.two-step-on button[type=submit]");
    b.wait_text("p.flash", "Two-step sign-in is on");
    b.open(&format!("/tickets/{hinge}"));
    b.wait_text("main", "Broken hinge");
    // It stays on while the desk requires it; only the sysadmin can turn it off.
    let agent_b = http_sign_in_with_code(&d, &secret);
    let r = agent_b.post(
        "/me/two-step/off",
        &[("csrf", &agent_b.csrf), ("current", PASSWORD)],
        &[],
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(two_step_on(&d, "jane@acme.test"));
    d.ctl_json(&["users", "set", "jane@acme.test", "--two-step", "off"]);
    let r = agent_b.get("/inbox");
    assert_eq!(
        (r.status, r.header("location")),
        (303, to_setup),
        "turned off, she must set it up again"
    );
}

/// Sign in over plain HTTP with the password and the app's next code.
fn http_sign_in_with_code(d: &crate::harness::Daemon, secret: &str) -> Agent {
    let pending = password_step(d, "jane@acme.test");
    let r = post_code(d, &pending, &code(secret, 1));
    assert_eq!(r.status, 303, "{}", r.text());
    crate::signed_in_by(d, &r, "/inbox")
}
