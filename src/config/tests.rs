use super::*;

const GOOD: &str = r#"
[daemon]
data_dir = "./data"
control_socket = "./data/control.sock"
company_name = "Acme"

[http]
listen = "127.0.0.1:8025"

[lmtp]
listen = "127.0.0.1:2424"
max_message_bytes = 1000

[[channel]]
kind = "email"
name = "support"
address = "Support@Example.com"
aliases = ["help@example.com"]
forward_original_sender = true
"#;

fn problems(text: &str) -> Vec<ConfigProblem> {
    match Config::parse(Path::new("t.toml"), text) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn good_file_loads() {
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.channels.len(), 1);
    assert_eq!(c.channels[0].address, "support@example.com");
    assert_eq!(c.lmtp.max_message_bytes, 1000);
    assert_eq!(
        c.channel_for_recipient("<SUPPORT+t1-abc@example.com>")
            .unwrap()
            .name,
        "support"
    );
    assert_eq!(
        c.channel_for_recipient("help@example.com").unwrap().name,
        "support"
    );
    assert!(c.channel_for_recipient("sales@example.com").is_none());
}

#[test]
fn an_agents_reply_takes_an_unowned_ticket_unless_the_channel_says_no() {
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert!(c.channels[0].assign_on_reply, "on unless said");
    let off = GOOD.replace(
        "forward_original_sender = true",
        "forward_original_sender = true\nassign_on_reply = false",
    );
    let c = Config::parse(Path::new("t.toml"), &off).unwrap();
    assert!(!c.channels[0].assign_on_reply);
    let wrong = GOOD.replace(
        "forward_original_sender = true",
        "forward_original_sender = true\nassign_on_reply = \"yes\"",
    );
    assert!(!problems(&wrong).is_empty(), "a word is no yes or no");
}

#[test]
fn syntax_error_names_line() {
    let p = problems("[daemon]\ndata_dir = \"x\"\ncompany_name = \n");
    assert_eq!(p[0].line, Some(3));
}

#[test]
fn unknown_key_is_named() {
    let p = problems(&GOOD.replace(
        "company_name = \"Acme\"",
        "company_name = \"Acme\"\ncolour = 1",
    ));
    assert_eq!(p[0].key, "daemon.colour");
    assert_eq!(p[0].line, Some(6));
}

#[test]
fn missing_key_is_named() {
    let p = problems(&GOOD.replace("company_name = \"Acme\"", ""));
    assert_eq!(p[0].key, "daemon.company_name");
}

#[test]
fn bad_address_and_duplicates_all_reported() {
    let text = format!(
        "{GOOD}\n[[channel]]\nkind = \"email\"\nname = \"support\"\naddress = \"not an address\"\n\n[[channel]]\nkind = \"email\"\nname = \"sales\"\naddress = \"help@example.com\"\n"
    );
    let p = problems(&text);
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "channel[2].name",
            "channel[2].address",
            "channel[3].address"
        ]
    );
    assert!(p[2].message.contains("already used by channel \"support\""));
    assert_eq!(p[1].line, Some(24));
}

#[test]
fn bad_listen_is_refused() {
    let p = problems(&GOOD.replace("127.0.0.1:2424", "localhost"));
    assert_eq!(p[0].key, "lmtp.listen");
    assert_eq!(p[0].line, Some(11));
}

#[test]
fn address_check() {
    for good in [
        "a@b.co",
        "support+x@example.com",
        "first.last@sub.example.org",
    ] {
        assert!(is_valid_address(good), "{good}");
    }
    for bad in [
        "", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@b..c", "<a@b.c>", "a@-b.c",
    ] {
        assert!(!is_valid_address(bad), "{bad}");
    }
}

#[test]
fn subaddress_is_stripped() {
    assert_eq!(strip_subaddress("support+t12-ab@x.org"), "support@x.org");
    assert_eq!(strip_subaddress("support@x.org"), "support@x.org");
}

fn with_imap(imap: &str) -> String {
    format!("{GOOD}\n[channel.imap]\n{imap}\n")
}

#[test]
fn imap_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "secret").unwrap();
    let text = with_imap(&format!(
        "host = \"imap.example.com\"\nusername = \"support@example.com\"\npassword_file = {:?}",
        pw.display().to_string()
    ));
    let c = Config::parse(Path::new("t.toml"), &text).unwrap();
    let imap = c.channels[0].imap.as_ref().unwrap();
    assert_eq!(imap.port, 993);
    assert_eq!(imap.tls, TlsMode::Implicit);
    assert_eq!(imap.folders, vec!["INBOX"]);
    assert_eq!(imap.after_fetch, AfterFetch::Seen);
    assert_eq!(imap.import_existing, ImportExisting::Nothing);
    assert_eq!(imap.auth, ImapAuth::Password { password_file: pw });
}

#[test]
fn imap_problems_are_named() {
    let text = with_imap(
        "host = \"imap.example.com\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"/nonexistent/pw\"\nafter_fetch = \"move:INBOX\"\nimport_existing = \"since:2024-02-30\"",
    );
    let p = problems(&text);
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "channel[1].imap.tls",
            "channel[1].imap.password_file",
            "channel[1].imap.after_fetch",
            "channel[1].imap.import_existing"
        ],
        "{p:?}"
    );
    assert!(p[0].message.contains("loopback"));
}

#[test]
fn imap_plain_allowed_to_loopback_and_xoauth2_needs_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("refresh");
    std::fs::write(&tok, "r").unwrap();
    let text = with_imap(&format!(
        "host = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\nauth = \"xoauth2\"\nclient_id = \"id\"\nrefresh_token_file = {:?}\ntoken_url = \"http://127.0.0.1:9/token\"\nimport_existing = \"since:2024-02-29\"\nafter_fetch = \"move:Archive\"",
        tok.display().to_string()
    ));
    let c = Config::parse(Path::new("t.toml"), &text).unwrap();
    let imap = c.channels[0].imap.as_ref().unwrap();
    assert_eq!(imap.port, 143);
    assert_eq!(imap.import_existing, ImportExisting::Since(2024, 2, 29));
    assert_eq!(imap.after_fetch, AfterFetch::Move("Archive".into()));
    assert!(matches!(imap.auth, ImapAuth::XOAuth2 { .. }));
    let bad = with_imap("host = \"imap.example.com\"\nusername = \"u\"\nauth = \"xoauth2\"\ntoken_url = \"http://example.com/t\"");
    let keys: Vec<String> = problems(&bad).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "channel[1].imap.client_id",
            "channel[1].imap.token_url",
            "channel[1].imap.refresh_token_file"
        ]
    );
}

#[test]
fn unknown_keys_in_array_tables_name_the_table() {
    let p = problems(&format!(
        "{GOOD}\n[channel.imap]\nhost = \"h\"\nusername = \"u\"\npasword_file = \"x\"\n"
    ));
    assert_eq!(p[0].key, "channel[1].imap.pasword_file");
    let p = problems(&GOOD.replace(
        "forward_original_sender = true",
        "forward_orignal_sender = true",
    ));
    assert_eq!(p[0].key, "channel[1].forward_orignal_sender");
}

#[test]
fn address_ranges_match_what_they_say() {
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    let net = |s: &str| IpNet::parse(s).unwrap_or_else(|| panic!("{s}"));
    let cases = [
        ("127.0.0.0/8", "127.0.0.1", true),
        ("127.0.0.0/8", "127.255.1.2", true),
        ("127.0.0.0/8", "128.0.0.1", false),
        ("10.1.2.3", "10.1.2.3", true),
        ("10.1.2.3", "10.1.2.4", false),
        ("192.168.0.0/16", "192.168.40.7", true),
        ("192.168.0.0/16", "192.169.0.1", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "::1", false),
        ("::1", "::1", true),
        ("::1", "::2", false),
        ("fd00::/8", "fd12:3456::1", true),
        ("fd00::/8", "fe80::1", false),
        ("::/0", "2001:db8::1", true),
        // An IPv4 client seen through an IPv6 socket.
        ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        ("10.0.0.0/8", "::ffff:127.0.0.1", false),
    ];
    for (range, addr, inside) in cases {
        assert_eq!(net(range).contains(ip(addr)), inside, "{addr} in {range}");
    }
    for bad in [
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0/8",
        "localhost",
        "10.0.0.0/x",
    ] {
        assert!(IpNet::parse(bad).is_none(), "{bad:?}");
    }
    assert!(IpNet::loopback()
        .iter()
        .any(|n| n.contains(ip("127.0.0.1"))));
}

#[test]
fn http_settings_are_checked() {
    let with = |extra: &str| GOOD.replace("[http]\n", &format!("[http]\n{extra}\n"));
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.http.metrics_allow, IpNet::loopback());
    assert_eq!(c.http.session_idle, Duration::from_secs(12 * 3600));
    assert_eq!(c.http.session_lifetime, Duration::from_secs(7 * 86_400));
    assert!(c.http.tls.is_none() && !c.http.secure_cookies());
    assert!(
        !c.http.require_two_step,
        "two-step sign-in is each agent's choice"
    );
    let c = Config::parse(Path::new("t.toml"), &with("require_two_step = true")).unwrap();
    assert!(c.http.require_two_step);
    let p = problems(&with("require_two_step = \"yes\""));
    assert_eq!(p[0].line, Some(8), "{:?}", p[0]);
    assert!(p[0].message.contains("bool"), "{}", p[0].message);
    let c = Config::parse(
        Path::new("t.toml"),
        &with("metrics_allow = [\"10.0.0.0/8\"]\nsession_idle_seconds = 2\nsession_lifetime_seconds = 5"),
    )
    .unwrap();
    assert_eq!(
        c.http.metrics_allow,
        vec![IpNet::parse("10.0.0.0/8").unwrap()]
    );
    assert_eq!(c.http.session_idle, Duration::from_secs(2));
    assert_eq!(c.http.session_lifetime, Duration::from_secs(5));

    let p = problems(&with("metrics_allow = [\"127.0.0.1\", \"everyone\"]"));
    assert_eq!(
        (p[0].key.as_str(), p[0].line),
        ("http.metrics_allow", Some(8))
    );
    let p = problems(&with("session_idle_seconds = 0"));
    assert_eq!(p[0].key, "http.session_idle_seconds");
    let p = problems(&with("tls_cert_file = \"/nonexistent/cert.pem\""));
    assert_eq!(p[0].key, "http");
    assert!(p[0].message.contains("both or neither"), "{}", p[0].message);
    let p = problems(&with(
        "tls_cert_file = \"/nonexistent/cert.pem\"\ntls_key_file = \"/nonexistent/key.pem\"",
    ));
    assert_eq!(p[0].key, "http.tls_cert_file");
    assert!(
        p[0].message.contains("/nonexistent/cert.pem"),
        "{}",
        p[0].message
    );
}

#[test]
fn snippets_load_in_order_and_bad_ones_are_named_with_their_line() {
    let good = format!(
        "{GOOD}\n[[snippet]]\nname = \"Refund policy\"\nbody = \"Hi {{{{contact.first_name}}}}, refunds take 5 days.\"\n\n[[snippet]]\nname = \"Thanks\"\nbody = \"Thanks! {{{{agent.first_name}}}}\"\n"
    );
    let c = Config::parse(Path::new("t.toml"), &good).unwrap();
    let names: Vec<&str> = c.snippets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Refund policy", "Thanks"]);
    // No snippets is fine.
    assert!(Config::parse(Path::new("t.toml"), GOOD)
        .unwrap()
        .snippets
        .is_empty());

    let lines_before = GOOD.lines().count();
    let bad = format!(
        "{GOOD}\n[[snippet]]\nname = \"A\"\nbody = \"Hi {{{{contact.nickname}}}}\"\n\n[[snippet]]\nname = \"B\"\nbody = \"x\"\n\n[[snippet]]\nname = \"b\"\nbody = \"y\"\n\n[[snippet]]\nname = \" \"\nbody = \"  \"\n"
    );
    let p = problems(&bad);
    let find = |key: &str| {
        p.iter()
            .find(|x| x.key == key)
            .unwrap_or_else(|| panic!("no problem at {key}: {p:?}"))
    };
    let token = find("snippet[1].body");
    assert!(token.message.contains("contact.nickname"), "{token:?}");
    assert_eq!(token.line, Some(lines_before + 4));
    assert!(find("snippet[3].name")
        .message
        .contains("duplicate snippet"));
    assert!(find("snippet[4].name")
        .message
        .contains("must not be empty"));
    assert!(find("snippet[4].body")
        .message
        .contains("must not be empty"));
}

#[test]
fn the_undo_window_is_off_by_default_and_bounded() {
    let with = |extra: &str| {
        format!("{GOOD}\n[smtp]\nhost = \"127.0.0.1\"\nport = 25\ntls = \"none\"\n{extra}\n")
    };
    let undo = |extra: &str| {
        Config::parse(Path::new("t.toml"), &with(extra))
            .unwrap()
            .smtp
            .map(|s| s.undo)
    };
    assert_eq!(undo(""), Some(Duration::ZERO));
    assert_eq!(undo("undo_seconds = 0"), Some(Duration::ZERO));
    assert_eq!(undo("undo_seconds = 10"), Some(Duration::from_secs(10)));
    assert_eq!(undo("undo_seconds = 300"), Some(Duration::from_secs(300)));
    for bad in ["undo_seconds = -1", "undo_seconds = 301"] {
        let p = problems(&with(bad));
        assert_eq!(p[0].key, "smtp.undo_seconds", "{bad}");
        assert!(
            p[0].message.contains("out of range (0 to 300)"),
            "{bad}: {}",
            p[0].message
        );
    }
}

/// [`GOOD`] with `[smtp]` (when `relay`) and a `[notifications]` table of these lines.
fn with_notifications(relay: bool, lines: &str) -> String {
    let smtp = if relay {
        "[smtp]\nhost = \"relay.example\"\n"
    } else {
        ""
    };
    format!("{GOOD}\n{smtp}\n[notifications]\n{lines}\n")
}

#[test]
fn notifications_need_a_from_address_and_have_a_default_delay() {
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.notifications, None);
    let text = with_notifications(true, "from = \"Desk-NoReply@Acme.test\"");
    let n = Config::parse(Path::new("t.toml"), &text)
        .unwrap()
        .notifications
        .unwrap();
    assert_eq!(n.from, "desk-noreply@acme.test");
    assert_eq!(n.from_name, "frontdesk");
    assert_eq!(n.delay, Duration::from_secs(60));
    let text = with_notifications(
        true,
        "from = \"d@acme.test\"\nfrom_name = \"Acme desk\"\ndelay_seconds = 0",
    );
    let n = Config::parse(Path::new("t.toml"), &text)
        .unwrap()
        .notifications
        .unwrap();
    assert_eq!(
        (n.from_name.as_str(), n.delay),
        ("Acme desk", Duration::ZERO)
    );
    let p = problems(&with_notifications(true, "from_name = \"x\""));
    assert!(p[0].message.contains("from"), "{p:?}");
}

#[test]
fn notifications_refuse_what_would_not_work() {
    let cases = [
        (
            false,
            "from = \"d@acme.test\"",
            "notifications",
            "needs an [smtp] relay",
        ),
        (
            true,
            "from = \"not an address\"",
            "notifications.from",
            "not a valid mail address",
        ),
        (
            true,
            "from = \"help@example.com\"",
            "notifications.from",
            "channel \"support\"",
        ),
        (
            true,
            "from = \"d@acme.test\"\ndelay_seconds = -1",
            "notifications.delay_seconds",
            "out of range (0 to 3600)",
        ),
        (
            true,
            "from = \"d@acme.test\"\ndelay_seconds = 3601",
            "notifications.delay_seconds",
            "out of range",
        ),
        (
            true,
            "from = \"d@acme.test\"\nfrom_name = \"A\\nBcc: x@evil.example\"",
            "notifications.from_name",
            "one line",
        ),
        (
            true,
            "from = \"d@acme.test\"\nevery = 5",
            "",
            "unknown field",
        ),
    ];
    for (relay, lines, key, words) in cases {
        let p = problems(&with_notifications(relay, lines));
        assert!(
            p.iter()
                .any(|p| p.key.starts_with(key) && p.message.contains(words)),
            "{lines}: {p:?}"
        );
    }
}

/// [`GOOD`] with an `[sla]` table of these lines.
fn with_sla(lines: &str) -> String {
    format!("{GOOD}\n[sla]\n{lines}\n")
}

#[test]
fn answer_targets_by_priority_with_office_hours() {
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.sla, None);
    let text = with_sla(
        "first_answer = { urgent = \"1h\", high = \"4h\", medium = \"1d\" }\n\
         office_hours = \"mon-fri 09:00-17:00\"\ntimezone = \"Europe/Berlin\"\n\
         holidays = [\"2026-12-24\", \"12-25\"]",
    );
    let sla = Config::parse(Path::new("t.toml"), &text)
        .unwrap()
        .sla
        .unwrap();
    assert_eq!(sla.first_answer.urgent, Some(3600));
    assert_eq!(sla.first_answer.medium, Some(86_400));
    assert_eq!(sla.first_answer.low, None);
    // Later answers have the first answer's targets unless told otherwise.
    assert_eq!(sla.next_answer, sla.first_answer);
    let hours = sla.hours.unwrap();
    assert_eq!(hours.days[0], Some((540, 1020)));
    assert_eq!(hours.days[6], None);
    assert_eq!(hours.zone.iana_name(), Some("Europe/Berlin"));
    assert_eq!(
        hours.holidays,
        [
            crate::desk::sla::Holiday::Once(jiff::civil::date(2026, 12, 24)),
            crate::desk::sla::Holiday::Yearly(12, 25)
        ]
    );

    let text = with_sla(
        "first_answer = { low = \"3d\", high = \"4h\" }\nnext_answer = { low = \"1d 12h\" }",
    );
    let sla = Config::parse(Path::new("t.toml"), &text)
        .unwrap()
        .sla
        .unwrap();
    assert_eq!(sla.next_answer.low, Some(36 * 3600));
    assert_eq!(sla.next_answer.high, Some(4 * 3600), "as the first answer");
    assert_eq!(sla.next_answer.medium, None);
    assert!(sla.hours.is_none(), "around the clock without office_hours");
}

#[test]
fn answer_targets_that_would_not_work_name_line_and_key() {
    for (lines, key, says) in [
        ("office_hours = \"mon-fri 09:00-17:00\"", "sla.first_answer", "is needed"),
        ("first_answer = { urgent = \"soon\" }", "sla.first_answer.urgent", "not a span of time"),
        ("first_answer = { high = \"30s\" }", "sla.first_answer.high", "not a span of time"),
        ("first_answer = {}", "sla.first_answer", "names no priority"),
        ("first_answer = { high = \"4h\" }\nnext_answer = { high = \"0m\" }", "sla.next_answer.high", "not a span"),
        ("first_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 17:00-09:00\"", "sla.office_hours", "closes before it opens"),
        ("first_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 09:00-17:00\"\ntimezone = \"Mars/Base\"", "sla.timezone", "not a time zone"),
        ("first_answer = { high = \"4h\" }\ntimezone = \"Europe/Paris\"", "sla.timezone", "office_hours, which are not set"),
        ("first_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 09:00-17:00\"\nholidays = [\"12-25\", \"12/26\"]", "sla.holidays", "\"12/26\" is not a day"),
        ("first_answer = { high = \"4h\" }\nholidays = [\"12-25\"]", "sla.holidays", "office_hours, which are not set"),
    ] {
        let p = problems(&with_sla(lines));
        assert_eq!(p.len(), 1, "{lines}: {p:?}");
        assert_eq!(p[0].key, key, "{lines}");
        assert!(p[0].message.contains(says), "{lines}: {p:?}");
        assert!(p[0].line.is_some_and(|l| l > 20), "{lines}: {p:?}");
    }
    let p = problems(&with_sla(
        "first_answer = { high = \"4h\", critical = \"1h\" }",
    ));
    assert!(p[0].message.contains("critical"), "{p:?}");
}

#[test]
fn a_channel_keeps_hours_of_its_own_or_the_desk_s() {
    let desk = "[sla]\nfirst_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 09:00-17:00\"\n\
                timezone = \"Europe/Paris\"\nholidays = [\"12-25\"]\n";
    let parse = |channel_lines: &str| {
        let text = format!("{GOOD}\n[channel.sla]\n{channel_lines}\n\n{desk}");
        Config::parse(Path::new("t.toml"), &text)
            .unwrap()
            .sla
            .unwrap()
    };
    let desk_hours = parse("first_answer = { high = \"1h\" }").hours.unwrap();
    // Targets alone: the desk's hours.
    let sla = parse("first_answer = { high = \"1h\" }");
    assert_eq!(sla.channels[0].hours.as_ref(), Some(&desk_hours));
    // "always": around the clock, whatever the desk keeps.
    let sla = parse("office_hours = \"always\"");
    assert_eq!(sla.channels[0].hours, None);
    assert_eq!(
        sla.channels[0].first_answer, sla.first_answer,
        "the desk's targets"
    );
    // Its own days, the desk's zone and holidays.
    let sla = parse("office_hours = \"mon-sun 08:00-20:00\"");
    let own = sla.channels[0].hours.clone().unwrap();
    assert_eq!(
        own.days,
        crate::desk::sla::parse_hours("mon-sun 08:00-20:00").unwrap()
    );
    assert_eq!(own.zone, desk_hours.zone);
    assert_eq!(own.holidays, desk_hours.holidays);
    // The desk's days in its own zone, with no holidays.
    let sla = parse("timezone = \"America/New_York\"\nholidays = []");
    let own = sla.channels[0].hours.clone().unwrap();
    assert_eq!(own.days, desk_hours.days);
    assert_eq!(
        own.zone,
        crate::desk::sla::zone("America/New_York").unwrap()
    );
    assert!(own.holidays.is_empty());
}

#[test]
fn a_channel_has_answer_targets_of_its_own() {
    use crate::desk::lifecycle::Priority;
    let text = format!(
        "{GOOD}\n[channel.sla]\nfirst_answer = {{ urgent = \"15m\" }}\n\n\
         [sla]\nfirst_answer = {{ urgent = \"1h\", high = \"4h\" }}\nnext_answer = {{ high = \"8h\" }}\n"
    );
    let sla = Config::parse(Path::new("t.toml"), &text)
        .unwrap()
        .sla
        .unwrap();
    assert_eq!(sla.channels.len(), 1);
    let support = &sla.channels[0];
    assert_eq!(support.channel, "support");
    // Its own where it sets one, else the desk's; its next answers as its first.
    assert_eq!(support.first_answer.urgent, Some(15 * 60));
    assert_eq!(support.first_answer.high, Some(4 * 3600));
    assert_eq!(support.next_answer.urgent, Some(15 * 60));
    assert_eq!(support.next_answer.high, Some(8 * 3600));
    assert_eq!(
        sla.target("support", Priority::Urgent, false),
        Some(15 * 60)
    );
    assert_eq!(sla.target("sales", Priority::Urgent, false), Some(3600));
    assert_eq!(sla.target("support", Priority::Low, true), None);

    // Refused, naming the channel: without the desk's [sla], with nothing in it, and a
    // span that is none.
    for (channel_lines, desk, key, says) in [
        (
            "first_answer = { urgent = \"15m\" }",
            "",
            "channel[1].sla",
            "needs the desk's [sla]",
        ),
        (
            "",
            "[sla]\nfirst_answer = { high = \"4h\" }",
            "channel[1].sla.first_answer",
            "or next_answer or office_hours is needed",
        ),
        (
            "next_answer = { high = \"soon\" }",
            "[sla]\nfirst_answer = { high = \"4h\" }",
            "channel[1].sla.next_answer.high",
            "not a span of time",
        ),
        (
            "office_hours = \"mon-fri 17:00-09:00\"",
            "[sla]\nfirst_answer = { high = \"4h\" }",
            "channel[1].sla.office_hours",
            "closes before it opens",
        ),
        (
            "timezone = \"Mars/Base\"",
            "[sla]\nfirst_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 09:00-17:00\"",
            "channel[1].sla.timezone",
            "not a time zone",
        ),
        (
            "timezone = \"Europe/Paris\"",
            "[sla]\nfirst_answer = { high = \"4h\" }",
            "channel[1].sla.timezone",
            "which neither this channel nor [sla] sets",
        ),
        (
            "office_hours = \"always\"\nholidays = [\"12-25\"]",
            "[sla]\nfirst_answer = { high = \"4h\" }\noffice_hours = \"mon-fri 09:00-17:00\"",
            "channel[1].sla.holidays",
            "which are \"always\"",
        ),
    ] {
        let text = format!("{GOOD}\n[channel.sla]\n{channel_lines}\n\n{desk}\n");
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{text}: {p:?}");
        assert_eq!(p[0].key, key, "{text}");
        assert!(p[0].message.contains(says), "{text}: {p:?}");
        assert!(p[0].line.is_some_and(|l| l > 20), "{text}: {p:?}");
    }
}

#[test]
fn ratings_need_the_address_customers_reach_the_desk_at() {
    let with = |http: &str| {
        GOOD.replace(
            "[http]\nlisten = \"127.0.0.1:8025\"\n",
            &format!("[http]\nlisten = \"127.0.0.1:8025\"\n{http}"),
        )
        .replace(
            "forward_original_sender = true\n",
            "forward_original_sender = true\nratings = true\n",
        )
    };
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.channels[0].ratings, None, "off unless asked");
    let c = Config::parse(
        Path::new("t.toml"),
        &with("public_url = \"https://desk.acme.test/\"\n"),
    )
    .unwrap();
    assert_eq!(
        c.channels[0].ratings.as_deref(),
        Some("https://desk.acme.test")
    );
    let p = problems(&with(""));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].ratings");
    assert!(p[0].message.contains("public_url"), "{p:?}");
}

#[test]
fn a_survey_after_closing_has_defaults_and_needs_the_public_address() {
    let public = GOOD.replace(
        "[http]\nlisten = \"127.0.0.1:8025\"\n",
        "[http]\nlisten = \"127.0.0.1:8025\"\npublic_url = \"https://desk.acme.test/\"\n",
    );
    let c = Config::parse(Path::new("t.toml"), &public).unwrap();
    assert_eq!(c.channels[0].survey, None, "off unless asked");
    let c = Config::parse(Path::new("t.toml"), &format!("{public}[channel.survey]\n")).unwrap();
    let s = c.channels[0].survey.as_ref().expect("on");
    assert_eq!(s.after, 3600, "an hour after closing");
    assert_eq!(s.public_url, "https://desk.acme.test");
    assert_eq!(
        s.subject,
        Template::parse(SURVEY_SUBJECT, ACK_TOKENS).unwrap()
    );
    let c = Config::parse(
        Path::new("t.toml"),
        &format!(
            "{public}[channel.survey]\nafter = \"1d 2h\"\nsubject = \"About #{{{{ticket.id}}}}\"\nbody = \"Hi {{{{contact.name}}}}\"\n"
        ),
    )
    .unwrap();
    let s = c.channels[0].survey.as_ref().expect("on");
    assert_eq!(s.after, 26 * 3600);
    assert_eq!(
        s.body,
        Template::parse("Hi {{contact.name}}", ACK_TOKENS).unwrap()
    );
    let c = Config::parse(
        Path::new("t.toml"),
        &format!("{public}[channel.survey]\nenabled = false\n"),
    )
    .unwrap();
    assert_eq!(c.channels[0].survey, None, "turned off");

    // Without public_url; a delay that is no span of time; an unknown token.
    let p = problems(&format!("{GOOD}[channel.survey]\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].survey");
    assert!(p[0].message.contains("public_url"), "{p:?}");
    let p = problems(&format!("{public}[channel.survey]\nafter = \"soon\"\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].survey.after");
    assert!(p[0].message.contains("not a span of time"), "{p:?}");
    let p = problems(&format!(
        "{public}[channel.survey]\nbody = \"Hi {{{{agent.name}}}}\"\n"
    ));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].survey.body");
    let p = problems(&format!("{public}[channel.survey]\nwhen = \"1h\"\n"));
    assert_eq!(p.len(), 1, "unknown key: {p:?}");
}

#[test]
fn closing_tickets_left_waiting_has_a_default_span_and_checks_its_stage() {
    use crate::desk::auto_close::AutoClose;
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert_eq!(c.channels[0].auto_close, None, "off unless asked");
    let on = |extra: &str| {
        Config::parse(
            Path::new("t.toml"),
            &format!("{GOOD}[channel.auto_close]\n{extra}"),
        )
        .map(|c| c.channels[0].auto_close.clone())
    };
    assert_eq!(
        on("").unwrap(),
        Some(AutoClose {
            after: 7 * 86_400,
            stage: None,
            reminder: None,
        }),
        "a week, in the stage a reply puts a ticket in"
    );
    assert_eq!(
        on("after = \"2d 12h\"\nstage = \" new \"\n").unwrap(),
        Some(AutoClose {
            after: 60 * 3600,
            stage: Some("new".into()),
            reminder: None,
        })
    );
    assert_eq!(on("enabled = false\n").unwrap(), None, "turned off");

    // A span that is none; stages that cannot wait on the customer; an unknown key.
    let refused = |extra: &str| problems(&format!("{GOOD}[channel.auto_close]\n{extra}"));
    let p = refused("after = \"a week\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].auto_close.after");
    assert!(p[0].message.contains("not a span of time"), "{p:?}");
    let p = refused("stage = \"Closed\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].auto_close.stage");
    assert!(p[0].message.contains("closed stage"), "{p:?}");
    let p = refused("stage = \"Waiting on us\"\n");
    assert_eq!(p[0].key, "channel[1].auto_close.stage");
    assert!(p[0].message.contains("waits on the desk"), "{p:?}");
    let p = refused("stage = \"Pending\"\n");
    assert!(
        p[0].message.contains("not a stage of pipeline \"Support\""),
        "{p:?}"
    );
    assert!(p[0].line.is_some(), "{p:?}");
    let p = refused("days = 7\n");
    assert_eq!(p.len(), 1, "unknown key: {p:?}");
}

#[test]
fn a_reminder_before_closing_goes_some_of_the_span_ahead_in_the_channels_words() {
    let on = |extra: &str| {
        Config::parse(
            Path::new("t.toml"),
            &format!("{GOOD}[channel.auto_close]\n{extra}"),
        )
        .map(|c| c.channels[0].auto_close.clone().unwrap().reminder)
    };
    assert_eq!(on("").unwrap(), None, "no reminder unless asked");
    let r = on("remind = \"2d\"\n").unwrap().unwrap();
    assert_eq!(r.before, 2 * 86_400);
    let value = |t: &str| match t {
        "ticket.subject" => "Hinge broke".to_string(),
        "ticket.id" => "42".to_string(),
        "company" => "Acme".to_string(),
        _ => String::new(),
    };
    use crate::outbound::template::Escape;
    assert_eq!(
        r.subject.render(value, Escape::None),
        "Still need help with \"Hinge broke\"?"
    );
    let body = r.body.render(value, Escape::None);
    assert!(body.contains("\"Hinge broke\" (#42)"), "{body}");
    assert!(body.contains("within 2 days, we will close"), "{body}");
    assert!(body.trim_end().ends_with("Acme"), "{body}");
    let r = on("after = \"3d\"\nremind = \"1d\"\nreminder_subject = \"About #{{ticket.id}}\"\nreminder_body = \"Still there, {{contact.name}}?\"\n")
        .unwrap()
        .unwrap();
    assert_eq!(r.subject.render(value, Escape::None), "About #42");
    assert_eq!(
        r.body.render(|_| "Olga".into(), Escape::None),
        "Still there, Olga?"
    );

    let refused = |extra: &str| problems(&format!("{GOOD}[channel.auto_close]\n{extra}"));
    let p = refused("after = \"2d\"\nremind = \"2d\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "channel[1].auto_close.remind");
    assert!(
        p[0].message.contains("not shorter than after (2 days)"),
        "{p:?}"
    );
    let p = refused("remind = \"soon\"\n");
    assert_eq!(p[0].key, "channel[1].auto_close.remind");
    assert!(p[0].message.contains("not a span of time"), "{p:?}");
    let p = refused("reminder_body = \"Still there?\"\n");
    assert_eq!(p[0].key, "channel[1].auto_close.reminder_body");
    assert!(p[0].message.contains("set remind"), "{p:?}");
    let p = refused("remind = \"1d\"\nreminder_subject = \"{{ticket.owner}}\"\n");
    assert_eq!(p[0].key, "channel[1].auto_close.reminder_subject");
}

#[test]
fn rules_for_new_tickets_are_read_in_order_with_their_conditions_lower_cased() {
    use crate::desk::lifecycle::Priority;
    use crate::desk::rules::{Assign, Rule};
    let c = Config::parse(Path::new("t.toml"), GOOD).unwrap();
    assert!(c.rules.is_empty(), "none unless written");
    let c = Config::parse(
        Path::new("t.toml"),
        &format!(
            "{GOOD}
[[rule]]
name = \"VIP\"
from = [\"@BigClient.com\", \"CEO@other.example\"]
priority = \"urgent\"
tags = [\"vip\", \"vip\"]
team = \"Key accounts\"

[[rule]]
name = \"Invoices\"
channels = [\"SUPPORT\"]
to = [\"Billing+urgent@Example.com\"]
subject = [\" Invoice \"]
text = [\"credit note\"]
owner = \"Bea@Acme.test\"

[[rule]]
name = \"Alerts\"
from = [\"@monitoring.example\"]
status = \" closed \"
acknowledge = false

[[rule]]
name = \"Churn\"
when = \"Every mail\"
text = [\"cancel\"]
tags = [\"churn-risk\"]
"
        ),
    )
    .unwrap();
    assert_eq!(
        c.rules,
        [
            Rule {
                name: "VIP".into(),
                channels: vec![],
                from: vec!["@bigclient.com".into(), "ceo@other.example".into()],
                to: vec![],
                subject: vec![],
                text: vec![],
                priority: Some(Priority::Urgent),
                tags: vec!["vip".into()],
                assign: Some(Assign::Team("Key accounts".into())),
                status: None,
                no_acknowledgement: false,
                every_mail: false,
                fields: vec![],
            },
            Rule {
                name: "Invoices".into(),
                channels: vec!["support".into()],
                from: vec![],
                to: vec!["billing@example.com".into()],
                subject: vec!["invoice".into()],
                text: vec!["credit note".into()],
                priority: None,
                tags: vec![],
                assign: Some(Assign::Agent("bea@acme.test".into())),
                status: None,
                no_acknowledgement: false,
                every_mail: false,
                fields: vec![],
            },
            Rule {
                name: "Alerts".into(),
                channels: vec![],
                from: vec!["@monitoring.example".into()],
                to: vec![],
                subject: vec![],
                text: vec![],
                priority: None,
                tags: vec![],
                assign: None,
                status: Some("Closed".into()),
                no_acknowledgement: true,
                every_mail: false,
                fields: vec![],
            },
            Rule {
                name: "Churn".into(),
                channels: vec![],
                from: vec![],
                to: vec![],
                subject: vec![],
                text: vec!["cancel".into()],
                priority: None,
                tags: vec!["churn-risk".into()],
                assign: None,
                status: None,
                no_acknowledgement: false,
                every_mail: true,
                fields: vec![],
            },
        ]
    );
}

#[test]
fn a_rule_that_cannot_match_or_does_nothing_is_refused_with_its_key() {
    let refused = |rule: &str| problems(&format!("{GOOD}\n[[rule]]\nname = \"R\"\n{rule}"));
    let p = refused("priority = \"high\"\n");
    assert_eq!(p[0].key, "rule[1]");
    assert!(p[0].message.contains("needs a condition"), "{p:?}");
    let p = refused("subject = [\"x\"]\n");
    assert!(p[0].message.contains("does nothing"), "{p:?}");
    let p = refused("subject = [\"x\"]\npriority = \"soon\"\n");
    assert_eq!(p[0].key, "rule[1].priority");
    let p = refused("from = [\"bigclient\"]\ntags = [\"vip\"]\n");
    assert_eq!(p[0].key, "rule[1].from");
    assert!(
        p[0].message.contains("neither an address nor @domain"),
        "{p:?}"
    );
    assert!(p[0].line.is_some(), "{p:?}");
    let p = refused("channels = [\"sales\"]\nsubject = [\"x\"]\ntags = [\"a\"]\n");
    assert_eq!(p[0].key, "rule[1].channels");
    assert!(p[0].message.contains("no channel named \"sales\""), "{p:?}");
    let p = refused("to = [\"billing\"]\ntags = [\"a\"]\n");
    assert_eq!(p[0].key, "rule[1].to");
    let p = refused("subject = [\" \"]\ntags = [\"a\"]\n");
    assert_eq!(p[0].key, "rule[1].subject");
    let p = refused("subject = [\"x\"]\nowner = \"bea@acme.test\"\nteam = \"Billing\"\n");
    assert_eq!(p[0].key, "rule[1].team");
    assert!(p[0].message.contains("not both"), "{p:?}");
    let p = refused("subject = [\"x\"]\ntags = [\"a,b\"]\n");
    assert_eq!(p[0].key, "rule[1].tags");
    let p = refused("subject = [\"x\"]\nstatus = \"Archived\"\n");
    assert_eq!(p[0].key, "rule[1].status");
    assert!(
        p[0].message
            .contains("\"Archived\" is not a stage of the pipeline of channel support"),
        "{p:?}"
    );
    let p = refused("subject = [\"x\"]\ntags = [\"a\"]\nwhen = \"sometimes\"\n");
    assert_eq!(p[0].key, "rule[1].when");
    assert!(
        p[0].message
            .contains("neither \"new ticket\" nor \"every mail\""),
        "{p:?}"
    );
    let p = refused("subject = [\"x\"]\nowner = \"bea@acme.test\"\nwhen = \"every mail\"\n");
    assert_eq!(p[0].key, "rule[1].owner");
    assert!(p[0].message.contains("is for new tickets only"), "{p:?}");
    let p = refused("subject = [\"x\"]\nacknowledge = true\n");
    assert!(p[0].message.contains("does nothing"), "{p:?}");
    let p = refused("subject = [\"x\"]\nacknowledge = \"no\"\n");
    assert_eq!(p.len(), 1, "not a boolean: {p:?}");
    let p = refused("subject = [\"x\"]\ntags = [\"a\"]\nthen = \"close\"\n");
    assert_eq!(p.len(), 1, "unknown key: {p:?}");
    let p = problems(&format!(
        "{GOOD}\n[[rule]]\nname = \"R\"\nsubject = [\"x\"]\ntags = [\"a\"]\n\n[[rule]]\nname = \"r\"\nsubject = [\"y\"]\ntags = [\"b\"]\n"
    ));
    assert_eq!(p[0].key, "rule[2].name");
    assert!(p[0].message.contains("duplicate rule"), "{p:?}");
}

#[test]
fn macros_are_read_in_order_with_their_stage_spelled_as_the_pipeline_does() {
    use crate::desk::macros::Owner;
    let c = Config::parse(
        Path::new("t.toml"),
        &format!(
            "{GOOD}\n[[macro]]\nname = \" Waiting on the customer \"\nowner = \"Me\"\nstatus = \"waiting ON contact\"\npriority = \"low\"\ntags = [\"needs-info\"]\nuntag = [\"triage\"]\nnote = \"  Asked for the order number.\\n\"\nsnooze = \"3d\"\n\n[[macro]]\nname = \"Billing\"\nteam = \"billing\"\n\n[[macro]]\nname = \"Hand over\"\nowner = \"Bea@Acme.test\"\n\n[[macro]]\nname = \"Drop\"\nowner = \"nobody\"\n"
        ),
    )
    .unwrap();
    let names: Vec<&str> = c.macros.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["Waiting on the customer", "Billing", "Hand over", "Drop"]
    );
    let w = &c.macros[0];
    assert_eq!(w.owner, Some(Owner::Me));
    assert_eq!(w.status.as_deref(), Some("Waiting on contact"));
    assert_eq!(w.priority, Some(Priority::Low));
    assert_eq!(w.add_tags, ["needs-info"]);
    assert_eq!(w.remove_tags, ["triage"]);
    assert_eq!(w.note.as_deref(), Some("Asked for the order number."));
    assert_eq!(w.snooze, Some(3 * 86_400));
    assert_eq!(c.macros[1].owner, Some(Owner::Team("billing".into())));
    assert_eq!(
        c.macros[2].owner,
        Some(Owner::Agent("bea@acme.test".into()))
    );
    assert_eq!(c.macros[3].owner, Some(Owner::Nobody));
    assert!(Config::parse(Path::new("t.toml"), GOOD)
        .unwrap()
        .macros
        .is_empty());
}

#[test]
fn a_macro_that_cannot_work_or_does_nothing_is_refused_with_its_key() {
    let refused = |lines: &str| problems(&format!("{GOOD}\n[[macro]]\nname = \"M\"\n{lines}"));
    let p = refused("");
    assert_eq!(p[0].key, "macro[1]");
    assert!(p[0].message.contains("does nothing"), "{p:?}");
    let p = refused("status = \"Archived\"\n");
    assert_eq!(p[0].key, "macro[1].status");
    assert!(
        p[0].message
            .contains("\"Archived\" is not a stage of any pipeline (stages: New"),
        "{p:?}"
    );
    assert!(p[0].line.is_some(), "{p:?}");
    let p = refused("owner = \"bea\"\n");
    assert_eq!(p[0].key, "macro[1].owner");
    assert!(p[0].message.contains("neither \"me\", \"nobody\""), "{p:?}");
    let p = refused("owner = \"me\"\nteam = \"billing\"\n");
    assert_eq!(p[0].key, "macro[1].team");
    assert!(p[0].message.contains("not both"), "{p:?}");
    let p = refused("priority = \"soon\"\n");
    assert_eq!(p[0].key, "macro[1].priority");
    let p = refused("tags = [\"a,b\"]\n");
    assert_eq!(p[0].key, "macro[1].tags");
    let p = refused("tags = [\"vip\"]\nuntag = [\"VIP\"]\n");
    assert_eq!(p[0].key, "macro[1].untag");
    assert!(p[0].message.contains("in tags as well"), "{p:?}");
    let p = refused("note = \"  \"\n");
    assert_eq!(p[0].key, "macro[1].note");
    let p = refused("snooze = \"soon\"\n");
    assert_eq!(p[0].key, "macro[1].snooze");
    assert!(p[0].message.contains("not a length"), "{p:?}");
    let p = refused("snooze = \"400d\"\n");
    assert!(p[0].message.contains("within a year"), "{p:?}");
    let p = refused("status = \"closed\"\nsnooze = \"1d\"\n");
    assert_eq!(p[0].key, "macro[1].snooze");
    assert!(p[0].message.contains("cannot be snoozed"), "{p:?}");
    let p = refused("reply = \" \"\n");
    assert_eq!(p[0].key, "macro[1].reply");
    assert!(p[0].message.contains("must not be empty"), "{p:?}");
    let p = refused("reply = \"Hi {{customer.name}}\"\n");
    assert_eq!(p[0].key, "macro[1].reply");
    assert!(p[0].message.contains("customer.name"), "{p:?}");
    let p = refused("tags = [\"a\"]\nsend = true\n");
    assert_eq!(p.len(), 1, "unknown key: {p:?}");
    // A reply alone is something to do; it is kept as written.
    let c = Config::parse(
        Path::new("t.toml"),
        &format!("{GOOD}\n[[macro]]\nname = \"Thanks\"\nreply = \"Hi {{{{contact.first_name}}}},\\nthanks!\"\n"),
    )
    .unwrap();
    assert_eq!(
        c.macros[0].reply.as_deref(),
        Some("Hi {{contact.first_name}},\nthanks!")
    );
    let p = problems(&format!(
        "{GOOD}\n[[macro]]\nname = \"{}\"\ntags = [\"a\"]\n",
        "x".repeat(MAX_MACRO_NAME + 1)
    ));
    assert_eq!(p[0].key, "macro[1].name");
    let p = problems(&format!(
        "{GOOD}\n[[macro]]\nname = \"M\"\ntags = [\"a\"]\n\n[[macro]]\nname = \"m\"\ntags = [\"b\"]\n"
    ));
    assert_eq!(p[0].key, "macro[2].name");
    assert!(p[0].message.contains("duplicate macro"), "{p:?}");
}

#[test]
fn ticket_fields_have_a_kind_and_macros_set_them_checked() {
    use crate::desk::ticket_fields::Kind;
    let c = Config::parse(
        Path::new("t.toml"),
        &format!(
            "{GOOD}\n[[ticket_field]]\nname = \" Order number \"\n\n[[ticket_field]]\nname = \"Product\"\nkind = \"Choice\"\nin_inbox = true\nchoices = [\"Hinge\", \" Desk lamp \"]\n\n[[ticket_field]]\nname = \"Quantity\"\nkind = \"number\"\n\n[[ticket_field]]\nname = \"Renewal\"\nkind = \"date\"\n\n[[macro]]\nname = \"Lamp\"\nfields = {{ product = \"desk lamp\", Quantity = \"\" }}\n"
        ),
    )
    .unwrap();
    let kinds: Vec<(&str, &Kind)> = c
        .ticket_fields
        .iter()
        .map(|f| (f.name.as_str(), &f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Order number", &Kind::Text),
            (
                "Product",
                &Kind::Choice(vec!["Hinge".into(), "Desk lamp".into()])
            ),
            ("Quantity", &Kind::Number),
            ("Renewal", &Kind::Date),
        ]
    );
    let shown: Vec<&str> = c
        .ticket_fields
        .iter()
        .filter(|f| f.in_inbox)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(shown, ["Product"]);
    let mut set = c.macros[0].fields.clone();
    set.sort();
    assert_eq!(
        set,
        [
            ("Product".to_string(), Some("Desk lamp".to_string())),
            ("Quantity".to_string(), None),
        ]
    );
}

#[test]
fn a_ticket_field_or_a_macro_value_that_cannot_work_is_refused_with_its_key() {
    let refused = |lines: &str| problems(&format!("{GOOD}\n[[ticket_field]]\n{lines}"));
    let p = refused("name = \"\"\n");
    assert_eq!(p[0].key, "ticket_field[1].name");
    let p = refused(&format!("name = \"{}\"\n", "x".repeat(41)));
    assert!(p[0].message.contains("longer than 40"), "{p:?}");
    let p = refused("name = \"Size\"\nkind = \"colour\"\n");
    assert_eq!(p[0].key, "ticket_field[1].kind");
    assert!(
        p[0].message
            .contains("not one of text, number, choice, date"),
        "{p:?}"
    );
    let p = refused("name = \"Size\"\nkind = \"choice\"\n");
    assert_eq!(p[0].key, "ticket_field[1].choices");
    let p = refused("name = \"Size\"\nkind = \"choice\"\nchoices = [\"S\", \"s\"]\n");
    assert!(p[0].message.contains("given twice"), "{p:?}");
    let p = refused("name = \"Size\"\nkind = \"choice\"\nchoices = [\" \"]\n");
    assert!(p[0].message.contains("not a usable choice"), "{p:?}");
    let p = refused("name = \"Size\"\nchoices = [\"S\"]\n");
    assert!(p[0].message.contains("only a field of kind"), "{p:?}");
    let p = problems(&format!(
        "{GOOD}\n[[ticket_field]]\nname = \"Size\"\n\n[[ticket_field]]\nname = \"SIZE\"\n"
    ));
    assert_eq!(p[0].key, "ticket_field[2].name");
    assert!(p[0].message.contains("duplicate ticket field"), "{p:?}");
    let with_field = |lines: &str| {
        problems(&format!(
            "{GOOD}\n[[ticket_field]]\nname = \"Quantity\"\nkind = \"number\"\n\n[[macro]]\nname = \"M\"\n{lines}"
        ))
    };
    let p = with_field("fields = { Colour = \"red\" }\n");
    assert_eq!(p[0].key, "macro[1].fields");
    assert!(
        p[0].message
            .contains("no [[ticket_field]] named \"Colour\""),
        "{p:?}"
    );
    let p = with_field("fields = { Quantity = \"lots\" }\n");
    assert_eq!(p[0].key, "macro[1].fields");
    assert!(p[0].message.contains("not a number"), "{p:?}");
    assert!(p[0].line.is_some(), "{p:?}");
    // A rule gives a new ticket fields: values, never an empty one, never for every mail.
    let rule = |lines: &str| {
        format!(
            "{GOOD}\n[[ticket_field]]\nname = \"Quantity\"\nkind = \"number\"\n\n[[rule]]\nname = \"R\"\nsubject = [\"bulk\"]\n{lines}"
        )
    };
    let c = Config::parse(
        Path::new("t.toml"),
        &rule("fields = { quantity = \"+10\" }\n"),
    )
    .unwrap();
    assert_eq!(
        c.rules[0].fields,
        [("Quantity".to_string(), "10".to_string())]
    );
    let p = problems(&rule("fields = { Quantity = \"\" }\n"));
    assert_eq!(p[0].key, "rule[1].fields");
    assert!(p[0].message.contains("give a value"), "{p:?}");
    let p = problems(&rule("fields = { Quantity = \"ten\" }\n"));
    assert!(p[0].message.contains("not a number"), "{p:?}");
    // For every mail too: the ticket gets what it lacks (see `later_mail_rules`).
    let c = Config::parse(
        Path::new("t.toml"),
        &rule("fields = { Quantity = \"10\" }\nwhen = \"every mail\"\n"),
    )
    .unwrap();
    assert!(c.rules[0].every_mail);
    assert_eq!(
        c.rules[0].fields,
        [("Quantity".to_string(), "10".to_string())]
    );
}

#[test]
fn a_field_required_to_close_goes_to_every_pipeline_or_those_named() {
    const PIPELINES: &str = "\n[[pipeline]]\nname = \"Support\"\nstages = [{ name = \"New\" }, { name = \"Closed\", closed = true }]\n\n[[pipeline]]\nname = \"Billing\"\nstages = [{ name = \"Triage\" }, { name = \"Refunded\", closed = true }]\n";
    let with = |fields: &str| format!("{GOOD}{PIPELINES}{fields}");
    let c = Config::parse(
        Path::new("t.toml"),
        &with("\n[[ticket_field]]\nname = \"Product\"\nrequired_to_close = true\n\n[[ticket_field]]\nname = \"Invoice\"\nrequired_to_close = [\"billing\"]\n\n[[ticket_field]]\nname = \"Note\"\nrequired_to_close = false\n"),
    )
    .unwrap();
    let required: Vec<(&str, &[String])> = c
        .pipelines
        .iter()
        .map(|p| (p.name.as_str(), p.required_to_close.as_slice()))
        .collect();
    assert_eq!(
        required,
        [
            ("Support", &["Product".to_string()][..]),
            (
                "Billing",
                &["Product".to_string(), "Invoice".to_string()][..]
            ),
        ]
    );
    // Without pipelines in the config, the built-in one asks too.
    let c = Config::parse(
        Path::new("t.toml"),
        &format!("{GOOD}\n[[ticket_field]]\nname = \"Product\"\nrequired_to_close = true\n"),
    )
    .unwrap();
    assert_eq!(c.pipelines[0].required_to_close, ["Product".to_string()]);
    let refused = |value: &str| {
        problems(&with(&format!(
            "\n[[ticket_field]]\nname = \"Invoice\"\nrequired_to_close = {value}\n"
        )))
    };
    let p = refused("[\"Sales\"]");
    assert_eq!(p[0].key, "ticket_field[1].required_to_close");
    assert!(
        p[0].message
            .contains("\"Sales\" is not a pipeline (pipelines: Support, Billing)"),
        "{p:?}"
    );
    assert!(p[0].line.is_some(), "{p:?}");
    let p = refused("\"yes\"");
    assert!(p[0].message.contains("true, false or a list"), "{p:?}");
    let p = refused("[]");
    assert!(p[0].message.contains("names no pipeline"), "{p:?}");
    let p = refused("[1]");
    assert!(p[0].message.contains("1 is not a pipeline"), "{p:?}");
}
