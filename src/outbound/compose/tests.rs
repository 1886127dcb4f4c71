use super::*;
use crate::ingest::parse::parse;
use crate::ingest::thread::{tags_from_subject, token_from_recipients};

const SECRET: &[u8] = b"secret";

fn agent(full: &str) -> Agent {
    let mut parts = full.splitn(2, ' ');
    Agent {
        email: "jane@acme.test".into(),
        full_name: full.into(),
        first_name: parts.next().unwrap_or("").into(),
        last_name: parts.next().unwrap_or("").into(),
        signature: String::new(),
    }
}

fn identity(mode: FromNameMode, company: &str, signature: Option<&str>) -> Identity {
    Identity {
        address: "support@acme.test".into(),
        company: company.into(),
        from_name: mode,
        from_name_format: "{agent} at {company}".into(),
        signature: signature.map(|s| Template::parse(s, SIGNATURE_TOKENS).unwrap()),
        subject_tag: true,
        ratings_url: None,
    }
}

fn reply(identity: &Identity, agent: &Agent, body: &str) -> Composed {
    let to = vec!["customer@example.org".to_string()];
    let ids = vec![
        "root@example.org".to_string(),
        "second@example.org".to_string(),
    ];
    compose_reply(&ReplyInput {
        ticket: 42,
        ticket_subject: "Re: RE: Printer on fire",
        to: &to,
        cc: &[],
        agent,
        identity,
        secret: SECRET,
        body,
        quote: None,
        writing: Writing::Reply,
        thread_ids: &ids,
        in_reply_to: Some("second@example.org"),
        attachments: &[],
        message_id: "out1@acme.test",
        now: 1_700_000_000,
    })
    .unwrap()
}

#[test]
fn from_name_table() {
    let cases: &[(FromNameMode, &str, &str, &str)] = &[
        (
            FromNameMode::AgentAndCompany,
            "Jane Doe",
            "Acme",
            "Jane Doe at Acme",
        ),
        (FromNameMode::Company, "Jane Doe", "Acme", "Acme"),
        (
            FromNameMode::AgentAndCompany,
            "Zoë Ångström",
            "Bäckerei Müller",
            "Zoë Ångström at Bäckerei Müller",
        ),
        (
            FromNameMode::AgentAndCompany,
            "Jane \"JD\" Doe",
            "Acme, Inc.",
            "Jane \"JD\" Doe at Acme, Inc.",
        ),
        (
            FromNameMode::AgentAndCompany,
            "<script>",
            "A&B",
            "<script> at A&B",
        ),
    ];
    for (mode, name, company, expected) in cases {
        let id = identity(*mode, company, None);
        assert_eq!(from_name(&id, Some(&agent(name))), *expected);
        // The header must survive encoding and come back the same from a real parser.
        let composed = reply(&id, &agent(name), "hello");
        let parsed = parse(&composed.raw).unwrap();
        let from = parsed.from.unwrap();
        assert_eq!(from.email, "support@acme.test");
        assert_eq!(
            from.name.as_deref(),
            Some(*expected),
            "raw: {}",
            String::from_utf8_lossy(&composed.raw)
        );
    }
}

#[test]
fn non_ascii_names_are_rfc2047_encoded() {
    let composed = reply(
        &identity(FromNameMode::AgentAndCompany, "Acme", None),
        &agent("Zoë Ångström"),
        "hi",
    );
    let raw = String::from_utf8_lossy(&composed.raw);
    let from_line = raw.lines().find(|l| l.starts_with("From:")).unwrap();
    assert!(from_line.is_ascii(), "{from_line}");
    assert!(from_line.contains("=?utf-8?"), "{from_line}");
}

#[test]
fn threading_headers_clients_rely_on() {
    let composed = reply(
        &identity(FromNameMode::Company, "Acme", None),
        &agent("Jane Doe"),
        "hi",
    );
    let parsed = parse(&composed.raw).unwrap();
    assert_eq!(parsed.message_id.as_deref(), Some("out1@acme.test"));
    assert_eq!(parsed.in_reply_to, vec!["second@example.org"]);
    assert_eq!(
        parsed.references,
        vec!["root@example.org", "second@example.org"]
    );
    let tag = subject_tag(SECRET, 42);
    assert_eq!(parsed.subject, format!("Re: Printer on fire {tag}"));
    assert_eq!(tags_from_subject(&parsed.subject, SECRET), (Some(42), None));
    let reply_to = parsed.reply_to[0].email.clone();
    assert_eq!(token_from_recipients([reply_to.as_str()], SECRET), Some(42));
    assert!(parsed.text_body.contains("hi"));
    assert!(parsed.html_body.is_some());
}

#[test]
fn signature_renders_in_both_parts_with_escaping() {
    let id = identity(
        FromNameMode::Company,
        "A&B <Corp>",
        Some("--\n{{agent.full_name}}\n{{company}}"),
    );
    let composed = reply(&id, &agent("Jane <Doe>"), "Thanks");
    let parsed = parse(&composed.raw).unwrap();
    let text = parsed.text_body.replace("\r\n", "\n");
    assert!(text.contains("--\nJane <Doe>\nA&B <Corp>"), "{text}");
    let html = parsed.html_body.unwrap();
    assert!(html.contains("Jane &lt;Doe&gt;<br>"), "{html}");
    assert!(html.contains("A&amp;B &lt;Corp&gt;"), "{html}");
    assert!(!html.contains("<Doe>"));
}

#[test]
fn a_reply_asks_for_a_rating_tied_to_its_message_id_when_the_channel_does() {
    let plain = identity(FromNameMode::Company, "Acme", Some("--\nAcme"));
    assert!(!reply(&plain, &agent("Jane Doe"), "Done.")
        .text
        .contains("rate"));
    let id = Identity {
        ratings_url: Some("https://desk.acme.test".into()),
        ..plain
    };
    let composed = reply(&id, &agent("Jane Doe"), "Done.");
    let mac = crate::desk::ratings::reply_mac(SECRET, "out1@acme.test");
    let page = format!("https://desk.acme.test/rate/42/{mac}");
    assert!(
        composed
            .text
            .ends_with(&format!("--\nAcme\n\nHow was this reply?\nGood: {page}?r=good\nOkay: {page}?r=okay\nNot good: {page}?r=bad\n")),
        "{}",
        composed.text
    );
    let html = parse(&composed.raw).unwrap().html_body.unwrap();
    assert!(
        html.contains(&format!("<a href=\"{page}?r=bad\">Not good</a>")),
        "{html}"
    );
    // The thread shows the reply as the agent wrote it, without the links.
    assert!(
        composed.shown.ends_with("Done.\n\n--\nAcme\n"),
        "{}",
        composed.shown
    );
    assert!(composed.text.starts_with(&composed.shown));
}

#[test]
fn subjects_do_not_pile_up() {
    assert_eq!(reply_subject("Re: AW: hello", None), "Re: hello");
    assert_eq!(
        reply_subject("hello [#4-abc]", Some("[#4-abc]")),
        "Re: hello [#4-abc]"
    );
    assert_eq!(reply_subject("  ", None), "Re: ");
}

#[test]
fn forward_subjects_drop_reply_and_forward_prefixes() {
    assert_eq!(forward_subject("Re: Fwd: hello", None), "Fwd: hello");
    assert_eq!(forward_subject("WG: AW: hallo", None), "Fwd: hallo");
    assert_eq!(
        forward_subject("hello [#4-abc]", Some("[#4-abc]")),
        "Fwd: hello [#4-abc]"
    );
    // A reply keeps a forward prefix the customer wrote.
    assert_eq!(reply_subject("Fwd: hello", None), "Re: Fwd: hello");
}

#[test]
fn a_forward_passes_the_message_on_whole() {
    // Asking for ratings or not: a forward goes to someone else and asks nothing.
    let id = Identity {
        ratings_url: Some("https://desk.acme.test".into()),
        ..identity(FromNameMode::Company, "Acme", None)
    };
    let to = vec!["parts@supplier.example".to_string()];
    let q = Quoted {
        from: "Customer <c@example.org>".into(),
        date: "Mon, 1 Jan 2024".into(),
        text: "The hinge broke.\n> older".into(),
    };
    let composed = compose_reply(&ReplyInput {
        ticket: 1,
        ticket_subject: "Broken hinge",
        to: &to,
        cc: &[],
        agent: &agent("Jane Doe"),
        identity: &id,
        secret: SECRET,
        body: "Can you send a new one?",
        quote: Some(&q),
        writing: Writing::Forward,
        thread_ids: &["c1@example.org".to_string()],
        in_reply_to: Some("c1@example.org"),
        attachments: &[],
        message_id: "f@acme.test",
        now: 0,
    })
    .unwrap();
    assert!(
        !composed.text.contains("How was this reply"),
        "{}",
        composed.text
    );
    assert!(
        composed.subject.starts_with("Fwd: Broken hinge"),
        "{}",
        composed.subject
    );
    assert!(
        composed.text.contains(
            "---------- Forwarded message ----------\nFrom: Customer <c@example.org>\nDate: Mon, 1 Jan 2024\nSubject: Broken hinge\n\nThe hinge broke.\n> older\n"
        ),
        "{}",
        composed.text
    );
    assert!(composed.text.starts_with("Can you send a new one?"));
    assert_eq!(composed.recipients, ["parts@supplier.example"]);
    let parsed = parse(&composed.raw).unwrap();
    let to: Vec<&str> = parsed.to.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(to, ["parts@supplier.example"]);
    // The answer threads back: it names the ticket's mail.
    assert_eq!(parsed.in_reply_to, ["c1@example.org"]);
}

#[test]
fn long_reference_chains_are_shortened() {
    let ids: Vec<String> = (0..20).map(|i| format!("m{i}@x")).collect();
    let refs = references(&ids, Some("m19@x"));
    assert_eq!(refs.len(), 10);
    assert_eq!(refs[0], "m0@x");
    assert_eq!(refs[9], "m19@x");
    assert_eq!(references(&[], Some("p@x")), vec!["p@x"]);
}

#[test]
fn quoted_history_is_marked() {
    let id = identity(FromNameMode::Company, "Acme", None);
    let to = vec!["c@example.org".to_string()];
    let q = Quoted {
        from: "Customer <c@example.org>".into(),
        date: "Mon, 1 Jan 2024".into(),
        text: "line one\n> older".into(),
    };
    let composed = compose_reply(&ReplyInput {
        ticket: 1,
        ticket_subject: "x",
        to: &to,
        cc: &[],
        agent: &agent("Jane Doe"),
        identity: &id,
        secret: SECRET,
        body: "answer",
        quote: Some(&q),
        writing: Writing::Reply,
        thread_ids: &[],
        in_reply_to: None,
        attachments: &[OutgoingAttachment {
            filename: "a.txt".into(),
            content_type: "text/plain".into(),
            data: b"data".to_vec(),
        }],
        message_id: "o@acme.test",
        now: 0,
    })
    .unwrap();
    assert!(
        composed.text.contains("wrote:\n> line one\n>> older"),
        "{}",
        composed.text
    );
    let parsed = parse(&composed.raw).unwrap();
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].filename.as_deref(), Some("a.txt"));
}

#[test]
fn acknowledgement_is_marked_automatic() {
    let id = identity(FromNameMode::Company, "Acme", None);
    let subject = Template::parse("We got it: {{ticket.subject}}", ACK_TOKENS).unwrap();
    let body =
        Template::parse("Hello {{contact.name}},\nticket {{ticket.id}}.", ACK_TOKENS).unwrap();
    let composed = compose_ack(&AckInput {
        ticket: 9,
        ticket_subject: "Help",
        contact_email: "c@example.org",
        contact_name: Some("Cleo"),
        identity: &id,
        subject: &subject,
        body: &body,
        secret: SECRET,
        in_reply_to: Some("orig@example.org"),
        message_id: "ack1@acme.test",
        now: 0,
    })
    .unwrap();
    let parsed = parse(&composed.raw).unwrap();
    assert_eq!(parsed.header("Auto-Submitted"), Some("auto-replied"));
    assert!(parsed.subject.starts_with("We got it: Help [#9-"));
    assert!(parsed
        .text_body
        .replace("\r\n", "\n")
        .contains("Hello Cleo,\nticket 9."));
    assert_eq!(parsed.in_reply_to, vec!["orig@example.org"]);
    // Our own acknowledgement, if it came back, is automatic mail.
    let c = crate::ingest::classify::classify(&parsed, None, &["support@acme.test".to_string()]);
    assert!(c.suppresses_auto_reply());
}

#[test]
fn snippets_are_filled_in_for_the_ticket_as_plain_text() {
    let t = Template::parse(
        "Hi {{contact.first_name}}, about #{{ticket.id}} ({{ticket.subject}}) from {{contact.email}}: {{agent.first_name}} at {{company}}",
        SNIPPET_TOKENS,
    )
    .unwrap();
    let agent = agent("Jane Doe");
    let mut c = SnippetContext {
        agent: &agent,
        company: "Acme <Ltd>",
        contact_name: Some("Olga  Ortiz"),
        contact_email: "olga@x.example",
        ticket_id: 42,
        ticket_subject: "Broken <hinge>",
    };
    assert_eq!(
        render_snippet(&t, &c),
        "Hi Olga, about #42 (Broken <hinge>) from olga@x.example: Jane at Acme <Ltd>"
    );
    c.contact_name = None;
    assert!(render_snippet(&t, &c).starts_with("Hi , about #42"));
    // The way out of "Hi ,": a fallback for a contact without a name.
    let greet = Template::parse("Hi {{contact.first_name | there}},", SNIPPET_TOKENS).unwrap();
    assert_eq!(render_snippet(&greet, &c), "Hi there,");
    c.contact_name = Some("  ");
    assert_eq!(render_snippet(&greet, &c), "Hi there,");
    let full = Template::parse("{{contact.name}}", SNIPPET_TOKENS).unwrap();
    c.contact_name = Some("Olga Ortiz");
    assert_eq!(render_snippet(&full, &c), "Olga Ortiz");
}

#[test]
fn an_agent_signature_is_kept_tidy_and_bounded() {
    assert_eq!(
        agent_signature("Senior Support  \r\n+1 555 0100\r\n\r\n").as_deref(),
        Ok("Senior Support\n+1 555 0100")
    );
    assert_eq!(agent_signature("").as_deref(), Ok(""));
    assert!(agent_signature(&"x".repeat(MAX_AGENT_SIGNATURE)).is_ok());
    let long = agent_signature(&"é".repeat(MAX_AGENT_SIGNATURE + 1)).unwrap_err();
    assert!(long.contains("1000 characters"), "{long}");
    let tall = agent_signature(&"line\n".repeat(MAX_AGENT_SIGNATURE_LINES + 1)).unwrap_err();
    assert!(tall.contains("10 lines"), "{tall}");
}

#[test]
fn the_agent_signature_fills_its_place_and_an_empty_one_leaves_no_blank_line() {
    let sig = "-- \n{{agent.full_name}}\n{{agent.signature}}\nAcme Support Team";
    let id = identity(FromNameMode::Company, "Acme", Some(sig));
    let mut jane = agent("Jane Doe");
    assert_eq!(
        render_signature(&id, &jane, Escape::None).as_deref(),
        Some("-- \nJane Doe\nAcme Support Team")
    );
    jane.signature = "Senior Support\n+1 555 0100".into();
    assert_eq!(
        render_signature(&id, &jane, Escape::None).as_deref(),
        Some("-- \nJane Doe\nSenior Support\n+1 555 0100\nAcme Support Team")
    );
    assert_eq!(
        render_signature(&id, &jane, Escape::Html).as_deref(),
        Some("-- <br>\nJane Doe<br>\nSenior Support<br>\n+1 555 0100<br>\nAcme Support Team")
    );
}

#[test]
fn a_snippet_typed_in_the_page_is_checked() {
    assert_eq!(
        snippet_input(
            "  Refund  ",
            "Hi {{contact.first_name | there}},\r\nrefunds take 5 days.",
            &["Sign-off"]
        ),
        Ok((
            "Refund".to_string(),
            "Hi {{contact.first_name | there}},\nrefunds take 5 days.".to_string()
        ))
    );
    let refused = [
        ("", "x", "needs a name"),
        ("a\nb", "x", "one line"),
        (&"n".repeat(MAX_SNIPPET_NAME + 1), "x", "one line"),
        ("sign-off", "x", "the configuration has a snippet named"),
        ("Empty", " \n ", "no text"),
        (
            "Long",
            &"x".repeat(MAX_SNIPPET_TEXT + 1),
            "at most 10000 characters",
        ),
        (
            "Phone",
            "Call {{contact.phone}}",
            "unknown token {{contact.phone}}",
        ),
        ("Open", "Hi {{contact.name", "unclosed"),
    ];
    for (name, text, says) in refused {
        let e = snippet_input(name, text, &["Sign-off"]).unwrap_err();
        assert!(e.contains(says), "{name:?}: {e}");
    }
}

#[test]
fn a_note_with_files_keeps_them_readable_by_position() {
    let files = [
        OutgoingAttachment {
            filename: "log.txt".into(),
            content_type: "text/plain".into(),
            data: b"E42 at 10:03".to_vec(),
        },
        OutgoingAttachment {
            filename: "screen.png".into(),
            content_type: "image/png".into(),
            data: vec![0x89, b'P', b'N', b'G', 0, 1, 2],
        },
    ];
    let raw = note_original("jane@acme.test", "See the log.", &files, 1_700_000_000).unwrap();
    for (position, f) in files.iter().enumerate() {
        assert_eq!(
            crate::ingest::parse::attachment_data(&raw, position).as_deref(),
            Some(f.data.as_slice()),
            "{}",
            f.filename
        );
    }
}

#[test]
fn a_new_tickets_subject_is_one_trimmed_line() {
    assert_eq!(
        first_subject_input("  Your  replacement\r\nhinge "),
        Ok("Your replacement hinge".into())
    );
    assert_eq!(first_subject_input("Größe 42"), Ok("Größe 42".into()));
    assert_eq!(
        first_subject_input("x".repeat(MAX_SUBJECT).as_str()).map(|s| s.len()),
        Ok(MAX_SUBJECT)
    );
}

#[test]
fn a_new_tickets_subject_is_refused_in_words() {
    assert_eq!(first_subject_input(""), Err("give it a subject".into()));
    assert_eq!(
        first_subject_input(" \t\r\n"),
        Err("give it a subject".into())
    );
    assert_eq!(
        first_subject_input(&"é".repeat(MAX_SUBJECT + 1)),
        Err(format!(
            "the subject is 201 characters long; at most {MAX_SUBJECT}"
        ))
    );
}

#[test]
fn a_new_tickets_subject_carries_the_tag_without_re() {
    assert_eq!(
        first_subject(" Your replacement hinge ", Some("[#7-abc]")),
        "Your replacement hinge [#7-abc]"
    );
    assert_eq!(
        first_subject("Re: about [#7-abc]", Some("[#7-abc]")),
        "Re: about [#7-abc]"
    );
    assert_eq!(first_subject("Hello", None), "Hello");
}

#[test]
fn a_new_tickets_first_mail_starts_a_thread_under_its_own_subject() {
    let id = identity(
        FromNameMode::AgentAndCompany,
        "Acme",
        Some("-- \n{{agent.full_name}}"),
    );
    let to = vec!["customer@example.org".to_string()];
    let composed = compose_reply(&ReplyInput {
        ticket: 7,
        ticket_subject: "Re: your order",
        to: &to,
        cc: &[],
        agent: &agent("Jane Doe"),
        identity: &id,
        secret: SECRET,
        body: "Hello Olga,\nit ships today.",
        quote: None,
        writing: Writing::First,
        thread_ids: &[],
        in_reply_to: None,
        attachments: &[],
        message_id: "first@acme.test",
        now: 1_700_000_000,
    })
    .unwrap();
    let tag = subject_tag(SECRET, 7);
    // As typed (a "Re:" the agent typed stays; none is added), then the tag.
    assert_eq!(composed.subject, format!("Re: your order {tag}"));
    assert_eq!(
        tags_from_subject(&composed.subject, SECRET),
        (Some(7), None)
    );
    let raw = String::from_utf8_lossy(&composed.raw).to_string();
    assert!(!raw.contains("In-Reply-To:"), "{raw}");
    assert!(!raw.contains("References:"), "{raw}");
    assert!(
        composed
            .text
            .starts_with("Hello Olga,\nit ships today.\n\n-- \nJane Doe"),
        "{}",
        composed.text
    );
}

#[test]
fn a_reply_box_mail_is_the_first_while_the_ticket_has_no_mail() {
    assert_eq!(Writing::from_ticket(false, true), Writing::Reply);
    assert_eq!(Writing::from_ticket(false, false), Writing::First);
    assert_eq!(Writing::from_ticket(true, true), Writing::Forward);
    // A forward needs a mail to pass on; the caller refuses one without. It stays a
    // forward here rather than turning into a first mail to a stranger.
    assert_eq!(Writing::from_ticket(true, false), Writing::Forward);
}

#[test]
fn a_survey_asks_how_the_desk_did_with_links_tied_to_its_message_id() {
    let id = identity(FromNameMode::Company, "Acme", None);
    let subject = Template::parse(crate::config::SURVEY_SUBJECT, ACK_TOKENS).unwrap();
    let body = Template::parse(crate::config::SURVEY_BODY, ACK_TOKENS).unwrap();
    let composed = compose_survey(
        &AckInput {
            ticket: 9,
            ticket_subject: "Broken hinge",
            contact_email: "c@example.org",
            contact_name: Some("Cleo"),
            identity: &id,
            subject: &subject,
            body: &body,
            secret: SECRET,
            in_reply_to: Some("last@acme.test"),
            message_id: "survey1@acme.test",
            now: 0,
        },
        "https://desk.acme.test",
    )
    .unwrap();
    let mac = crate::desk::ratings::reply_mac(SECRET, "survey1@acme.test");
    let page = format!("https://desk.acme.test/rate/9/{mac}");
    let parsed = parse(&composed.raw).unwrap();
    assert_eq!(parsed.header("Auto-Submitted"), Some("auto-generated"));
    assert!(
        parsed
            .subject
            .starts_with("How did we do with \"Broken hinge\"? [#9-"),
        "{}",
        parsed.subject
    );
    assert_eq!(parsed.in_reply_to, vec!["last@acme.test"]);
    let text = parsed.text_body.replace("\r\n", "\n");
    assert!(
        text.contains("we closed your request \"Broken hinge\" (#9)."),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "Acme\n\nHow did we do?\nGood: {page}?r=good\nOkay: {page}?r=okay\nNot good: {page}?r=bad\n"
        )),
        "{text}"
    );
    // The thread shows the words without the links.
    assert!(!composed.shown.contains("/rate/"), "{}", composed.shown);
    assert!(composed.shown.contains("we closed your request"));
    assert!(composed.text.starts_with(composed.shown.trim_end()));
    // A survey that came back is automatic mail: nothing answers it.
    let c = crate::ingest::classify::classify(&parsed, None, &["support@acme.test".to_string()]);
    assert!(c.suppresses_auto_reply());
}
