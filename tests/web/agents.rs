//! The administrators' Agents page: an administrator adds an agent with a password and
//! teams, who then signs in; changes their name, seat, rights and teams; sets them a new
//! password (their sessions end); turns their two-step sign-in off; deactivates them
//! (signed out, cannot sign in) and reactivates them. Other agents cannot see or use
//! it, no form works without its token, a refused form changes nothing, and an
//! administrator cannot demote nor deactivate themselves.

use crate::browser::Browser;
use crate::{add_agent, daemon, http_sign_in, post_login, Agent, PASSWORD};

const BOBS: &str = "bobs first password";

/// `users list` as JSON: the agent with `email`.
fn agent(d: &crate::harness::Daemon, email: &str) -> serde_json::Value {
    d.ctl_json(&["users", "list"])["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == email)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// The members of `team`, from `teams list`.
fn members(d: &crate::harness::Daemon, team: &str) -> Vec<String> {
    d.ctl_json(&["teams", "list"])["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| t["name"] == team)
        .map(|t| {
            t["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the agent's session still opens the inbox.
fn signed_in(a: &Agent) -> bool {
    match a.get("/inbox").status {
        200 => true,
        303 => false,
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn an_administrator_adds_changes_and_deactivates_an_agent_on_the_page() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "on"]);
    d.ctl_json(&["teams", "add", "Tier 1"]);
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.click_css("header a.agents-link");
    b.wait_path("/agents");
    b.wait_text("table.agents", "jane@acme.test");
    // A team of her own making.
    let input = b.wait_find("form.team-add input[name=team]");
    b.type_into(&input, "Billing");
    b.click_css("form.team-add button[type=submit]");
    b.wait_text("p.flash", "Team added");
    b.wait_text("ul.teams", "Billing");
    assert!(members(&d, "Billing").is_empty());

    // Add Bob: address, name, password twice, a seat, Tier 1.
    for (css, value) in [
        ("form.agent-add input[name=email]", "Bob@Acme.test"),
        ("form.agent-add input[name=name]", "Bob Builder"),
        ("form.agent-add input[name=new]", BOBS),
        ("form.agent-add input[name=repeat]", BOBS),
    ] {
        let input = b.wait_find(css);
        b.type_into(&input, value);
    }
    b.click_css("form.agent-add input[name=team][value='Tier 1']");
    b.click_css("form.agent-add button[type=submit]");
    b.wait_text("p.flash", "Agent added");
    b.wait_text("#edit h2", "Bob Builder");
    let bob = agent(&d, "bob@acme.test");
    assert_eq!(
        (&bob["full_name"], &bob["first_name"], &bob["last_name"]),
        (
            &serde_json::json!("Bob Builder"),
            &serde_json::json!("Bob"),
            &serde_json::json!("Builder")
        )
    );
    assert_eq!((&bob["seat"], &bob["admin"]), (&true.into(), &false.into()));
    assert_eq!(members(&d, "Tier 1"), ["bob@acme.test"]);
    assert!(members(&d, "Billing").is_empty());
    let bob_phone = http_sign_in(&d, "bob@acme.test", BOBS);
    // Bob is no administrator: no link, no page, no forms.
    assert!(!bob_phone.get("/inbox").text().contains("agents-link"));
    assert_eq!(bob_phone.get("/agents").status, 403);

    // Change him: administrator, no seat, Billing instead of Tier 1, a new name.
    let name = b.wait_find("form.agent-save input[name=name]");
    b.clear(&name);
    b.type_into(&name, "Robert Builder");
    b.click_css("form.agent-save input[name=seat]");
    b.click_css("form.agent-save input[name=admin]");
    b.click_css("form.agent-save input[name=team][value='Tier 1']");
    b.click_css("form.agent-save input[name=team][value='Billing']");
    b.click_css("form.agent-save button[type=submit]");
    b.wait_text("p.flash", "Saved.");
    let bob = agent(&d, "bob@acme.test");
    assert_eq!(bob["full_name"], "Robert Builder");
    assert_eq!((&bob["seat"], &bob["admin"]), (&false.into(), &true.into()));
    assert!(members(&d, "Tier 1").is_empty());
    assert_eq!(members(&d, "Billing"), ["bob@acme.test"]);
    assert!(signed_in(&bob_phone), "saving his name signed him out");

    // A new password: his sessions end, the old one no longer works.
    let new = "bobs second password";
    for css in [
        "form.agent-password input[name=new]",
        "form.agent-password input[name=repeat]",
    ] {
        let input = b.wait_find(css);
        b.type_into(&input, new);
    }
    b.click_css("form.agent-password button[type=submit]");
    b.wait_text("p.flash", "Password set");
    assert!(!signed_in(&bob_phone));
    assert_eq!(post_login(&d, "bob@acme.test", BOBS).status, 401);
    let bob_phone = http_sign_in(&d, "bob@acme.test", new);

    // He turned two-step sign-in on and lost his phone: Jane turns it off.
    let r = bob_phone.post("/me/two-step/setup", &[("csrf", &bob_phone.csrf)], &[]);
    assert_eq!(r.status, 303);
    let page = bob_phone.get("/me").text();
    let key = crate::attribute(&page, "<code id=\"two-step-key\">")
        .and_then(|k| k.split('<').next().map(|k| k.replace(' ', "")))
        .expect("key");
    let step = frontdesk::auth::totp::step_at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let code = frontdesk::auth::totp::format_code(frontdesk::auth::totp::code_at(
        &frontdesk::auth::totp::from_base32(&key).unwrap(),
        step,
    ));
    let r = bob_phone.post(
        "/me/two-step/on",
        &[("csrf", &bob_phone.csrf), ("code", &code)],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        post_login(&d, "bob@acme.test", new).status,
        200,
        "asks for a code"
    );
    b.open("/agents?edit=bob%40acme.test");
    b.click_css("form.agent-two-step-off button[type=submit]");
    b.wait_text("p.flash", "two-step sign-in is off");
    assert_eq!(agent(&d, "bob@acme.test")["two_step"], false);
    assert_eq!(post_login(&d, "bob@acme.test", new).status, 303);

    // Bob leaves: signed out, cannot sign in; his row says so. Then he comes back.
    b.click_css("form.agent-deactivate button[type=submit]");
    b.wait_text("p.flash", "Deactivated");
    b.wait_text("tr[data-agent='bob@acme.test']", "Deactivated");
    assert!(!signed_in(&bob_phone));
    assert_eq!(post_login(&d, "bob@acme.test", new).status, 401);
    assert_eq!(agent(&d, "bob@acme.test")["active"], false);
    b.click_css("form.agent-reactivate button[type=submit]");
    b.wait_text("p.flash", "Reactivated");
    assert_eq!(agent(&d, "bob@acme.test")["active"], true);
    assert_eq!(post_login(&d, "bob@acme.test", new).status, 303);
}

#[test]
fn only_administrators_change_agents_and_refusals_change_nothing() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "on"]);
    d.ctl_json(&["teams", "add", "Tier 1"]);
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let bob = http_sign_in(&d, "bob@acme.test", PASSWORD);
    let before = d.ctl_json(&["users", "list"]);
    let new_agent = |csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("email".into(), "carl@acme.test".into()),
            ("name".into(), "Carl".into()),
            ("new".into(), "carls password".into()),
            ("repeat".into(), "carls password".into()),
            ("admin".into(), "on".into()),
        ]
    };
    let as_pairs = |v: &Vec<(String, String)>| -> Vec<(String, String)> { v.clone() };
    let post = |a: &Agent, path: &str, form: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        a.post(path, &refs, &[])
    };

    // Bob is no administrator: every form is refused.
    for (path, form) in [
        ("/agents", as_pairs(&new_agent(&bob.csrf))),
        (
            "/agents/save",
            vec![
                ("csrf".into(), bob.csrf.clone()),
                ("email".into(), "bob@acme.test".into()),
                ("name".into(), "Bob".into()),
                ("admin".into(), "on".into()),
            ],
        ),
        (
            "/agents/deactivate",
            vec![
                ("csrf".into(), bob.csrf.clone()),
                ("email".into(), "jane@acme.test".into()),
            ],
        ),
    ] {
        let r = post(&bob, path, &form);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    // Jane without the form's token: refused.
    let mut no_token = new_agent(&jane.csrf);
    no_token.remove(0);
    assert_eq!(post(&jane, "/agents", &no_token).status, 403);

    // Refused additions: a bad address, no name, a short or mistyped password, an
    // address taken, a team that is not there.
    let variants: Vec<(&str, &str, &str)> = vec![
        ("email", "not an address", "is not an address"),
        ("name", " ", "a name is needed"),
        ("new", "short", "at least 8 characters"),
        ("repeat", "carls passwore", "differ"),
        ("email", "bob@acme.test", "already exists"),
    ];
    for (key, value, says) in variants {
        let mut form = new_agent(&jane.csrf);
        for pair in form.iter_mut() {
            if pair.0 == key {
                pair.1 = value.to_string();
            }
        }
        if key == "new" {
            form.retain(|(k, _)| k != "repeat");
            form.push(("repeat".into(), value.into()));
        }
        let r = post(&jane, "/agents", &form);
        assert_eq!(r.status, 400, "{key}={value}: {}", r.text());
        assert!(r.text().contains(says), "{key}={value}: {}", r.text());
        assert!(!r.text().contains("carls password"), "the password echoed");
    }
    let mut form = new_agent(&jane.csrf);
    form.push(("team".into(), "No such team".into()));
    let r = post(&jane, "/agents", &form);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("no team No such team"), "{}", r.text());
    assert_eq!(
        d.ctl_json(&["users", "list"]),
        before,
        "a refusal added someone"
    );
    let teams = d.ctl_json(&["teams", "list"]);
    for name in ["tier 1", " "] {
        let r = post(
            &jane,
            "/agents/teams",
            &[
                ("csrf".into(), jane.csrf.clone()),
                ("team".into(), name.into()),
            ],
        );
        assert_eq!(r.status, 400, "{name:?}: {}", r.text());
    }
    let r = post(
        &bob,
        "/agents/teams",
        &[
            ("csrf".into(), bob.csrf.clone()),
            ("team".into(), "Bobs".into()),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        d.ctl_json(&["teams", "list"]),
        teams,
        "a refusal added a team"
    );

    // Jane cannot demote nor deactivate herself; an unknown agent is not found.
    let r = post(
        &jane,
        "/agents/save",
        &[
            ("csrf".into(), jane.csrf.clone()),
            ("email".into(), "jane@acme.test".into()),
            ("name".into(), "Jane Doe".into()),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("your own administrator rights"),
        "{}",
        r.text()
    );
    let r = post(
        &jane,
        "/agents/deactivate",
        &[
            ("csrf".into(), jane.csrf.clone()),
            ("email".into(), "jane@acme.test".into()),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("cannot deactivate yourself"),
        "{}",
        r.text()
    );
    let r = post(
        &jane,
        "/agents/reactivate",
        &[
            ("csrf".into(), jane.csrf.clone()),
            ("email".into(), "nobody@acme.test".into()),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = post(
        &jane,
        "/agents/teleport",
        &[
            ("csrf".into(), jane.csrf.clone()),
            ("email".into(), "bob@acme.test".into()),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        d.ctl_json(&["users", "list"]),
        before,
        "a refusal changed someone"
    );
    assert!(signed_in(&jane) && signed_in(&bob));

    // The sysadmin takes Jane's rights away: the page and its link go with them.
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "off"]);
    assert_eq!(jane.get("/agents").status, 403);
    assert!(!jane.get("/inbox").text().contains("agents-link"));
}
