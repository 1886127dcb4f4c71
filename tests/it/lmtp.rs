//! LMTP (RFC 2033) driven by an independent client: Python's `smtplib.LMTP` and a raw
//! socket client for PIPELINING (`tests/clients/`). After each session the result is
//! checked the way a user would, through `frontdeskctl --json`.

use std::time::Duration;

use serde_json::json;

use crate::harness::{codes, Daemon, Mail, RawLmtp, Settings};

/// LHLO, then one full transaction to `rcpt` with the file at `path`.
fn deliver_steps(rcpt: &str, path: &str) -> Vec<serde_json::Value> {
    vec![
        json!(["mail", "customer@example.org"]),
        json!(["rcpt", rcpt]),
        json!(["data", path, 1]),
    ]
}

fn session(steps: Vec<serde_json::Value>) -> serde_json::Value {
    let mut all = vec![json!(["lhlo", "client.example"])];
    all.extend(steps);
    all.push(json!(["quit"]));
    serde_json::Value::Array(all)
}

/// A channel address, its alias, a `+tag` subaddress, and another channel in mixed case.
const RCPTS: [&str; 4] = [
    "support@example.com",
    "help@example.com",
    "support+order-1234@example.com",
    "Sales@Example.com",
];

#[test]
fn delivery_to_address_alias_and_subaddress_opens_tickets_in_the_channel() {
    let d = Daemon::start();
    let dir = d.dir.path();
    let mut steps = Vec::new();
    for (i, rcpt) in RCPTS.iter().enumerate() {
        let m = Mail::new(
            &format!("Customer {i} <c{i}@example.org>"),
            rcpt,
            &format!("question {i}"),
            &format!("q{i}@example.org"),
        );
        let path = m.write(dir, &format!("m{i}.eml"));
        steps.extend(deliver_steps(rcpt, &path));
    }
    let r = d.lmtp_session(&session(steps));
    let c = codes(&r);
    assert_eq!(c[0], vec![220], "greeting: {r:?}");
    assert_eq!(c[1], vec![250], "LHLO: {r:?}");
    let lhlo = &r[1][0].1;
    for ext in ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE"] {
        assert!(lhlo.contains(ext), "LHLO does not announce {ext}: {lhlo}");
    }
    assert_eq!(c[2..14], vec![vec![250]; 12], "{r:?}");
    assert_eq!(c[14], vec![221], "{r:?}");
    // Every 250 after DATA names the recipient and the enhanced code.
    for (step, rcpt) in [4, 7, 10, 13].into_iter().zip(RCPTS) {
        let text = &r[step][0].1;
        assert!(text.starts_with("2.0.0") && text.contains(rcpt), "{text:?}");
    }

    let tickets = d.tickets();
    assert_eq!(tickets.len(), 4, "{tickets:#?}");
    let mut support: Vec<String> = tickets
        .iter()
        .filter(|t| t["channel"] == "support")
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect();
    support.sort();
    assert_eq!(support, vec!["question 0", "question 1", "question 2"]);
    let sales: Vec<&serde_json::Value> =
        tickets.iter().filter(|t| t["channel"] == "sales").collect();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0]["subject"], "question 3");
    assert_eq!(sales[0]["contact"]["email"], "c3@example.org");
    assert_eq!(sales[0]["contact"]["name"], "Customer 3");
    let shown = d.ticket(sales[0]["id"].as_i64().unwrap());
    assert_eq!(shown["messages"].as_array().unwrap().len(), 1);
    let m = &shown["messages"][0];
    assert_eq!(m["direction"], "inbound");
    assert_eq!(m["source"], "lmtp");
    assert_eq!(
        m["message_id"].as_str().unwrap().trim_matches(['<', '>']),
        "q3@example.org"
    );
    assert_eq!(m["auto"], false);
    let listed = d.ctl_json(&["tickets", "list", "--channel", "support"]);
    assert_eq!(listed["tickets"].as_array().unwrap().len(), 3);
    let status = tickets[0]["status"].as_str().unwrap().to_string();
    assert_eq!(
        d.ctl_json(&["tickets", "list", "--status", &status])["tickets"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        d.ctl_json(&["tickets", "list", "--status", "no-such-status"])["tickets"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        d.ctl_json(&["tickets", "list", "--limit", "2"])["tickets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (code, out, _) = d.ctl(&["tickets", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("question 3") && out.contains("c3@example.org"),
        "human output: {out}"
    );
}

#[test]
fn eight_bit_mail_declared_8bitmime_is_stored_intact() {
    let d = Daemon::start();
    let mut m = Mail::new(
        "Zoë Ærø <zoe@example.org>",
        "support@example.com",
        "Grüße",
        "8bit@example.org",
    );
    m.body = "Grüße aus Köln – 日本語のテキスト – ½ €\r\n".into();
    let mut bytes = m.bytes();
    // Raw UTF-8 in the headers and body, announced by the sender.
    bytes = String::from_utf8(bytes)
        .unwrap()
        .replace(
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit",
        )
        .into_bytes();
    let path = d.dir.path().join("8bit.eml");
    std::fs::write(&path, bytes).unwrap();
    let r = d.lmtp_session(&session(vec![
        json!(["mail", "zoe@example.org", ["BODY=8BITMIME"]]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", path, 1]),
    ]));
    assert_eq!(codes(&r)[2..5], [vec![250], vec![250], vec![250]], "{r:?}");
    let t = &d.tickets()[0];
    assert_eq!(t["subject"], "Grüße");
    assert_eq!(t["contact"]["name"], "Zoë Ærø");
    let shown = d.ticket(t["id"].as_i64().unwrap());
    let text = shown["messages"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Grüße aus Köln – 日本語のテキスト – ½ €"),
        "{text:?}"
    );
}

#[test]
fn sessions_over_max_sessions_get_421_and_a_freed_slot_is_reused() {
    let d = Daemon::start_with(Settings {
        max_sessions: Some(2),
        ..Settings::default()
    });
    let mut a = RawLmtp::connect(&d.lmtp);
    a.expect(220);
    let mut b = RawLmtp::connect(&d.lmtp);
    b.expect(220);
    let mut c = RawLmtp::connect(&d.lmtp);
    let r = c.reply();
    assert_eq!(r.as_ref().map(|r| r.0), Some(421), "{r:?}");
    assert!(c.reply().is_none(), "closed after the 421");
    a.send(b"QUIT\r\n");
    a.expect(221);
    drop(a);
    // The slot frees once the first session is gone; a new client gets in (poll, no sleep).
    crate::harness::wait_until("a free LMTP session slot", Duration::from_secs(20), || {
        let mut n = RawLmtp::connect(&d.lmtp);
        n.reply().is_some_and(|r| r.0 == 220)
    });
    b.send(b"NOOP\r\n");
    b.expect(250);
}

#[test]
fn a_client_silent_mid_data_gets_421_and_nothing_is_stored() {
    let d = Daemon::start_with(Settings {
        idle_timeout_seconds: Some(1),
        ..Settings::default()
    });
    let mut c = RawLmtp::connect(&d.lmtp);
    c.expect(220);
    c.send(b"LHLO slow.example\r\nMAIL FROM:<slow@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n");
    c.expect(250);
    c.expect(250);
    c.expect(250);
    c.expect(354);
    c.send(b"From: slow@example.org\r\nSubject: never finished\r\nMessage-ID: <slow@example.org>\r\n\r\nhalf a bo");
    let r = c.reply();
    assert_eq!(r.as_ref().map(|r| r.0), Some(421), "{r:?}");
    assert!(c.reply().is_none(), "closed after the 421");
    assert_eq!(d.counts()["messages"], 0);
    assert!(d.tickets().is_empty());
}

#[test]
fn one_unknown_recipient_is_refused_and_the_others_get_one_reply_each_after_data() {
    let d = Daemon::start();
    let m = Mail::new(
        "Ann <ann@example.org>",
        "support@example.com, sales@example.com",
        "two teams",
        "two@example.org",
    );
    let path = m.write(d.dir.path(), "m.eml");
    let r = d.lmtp_session(&session(vec![
        json!(["mail", "ann@example.org"]),
        json!(["rcpt", "support@example.com"]),
        json!(["rcpt", "nobody@example.com"]),
        json!(["rcpt", "sales@example.com"]),
        json!(["data", path, 2]),
    ]));
    let c = codes(&r);
    assert_eq!(
        c[2..7],
        [vec![250], vec![250], vec![550], vec![250], vec![250, 250]],
        "{r:?}"
    );
    assert!(
        r[4][0].1.starts_with("5.1.1"),
        "unknown recipient needs 5.1.1: {:?}",
        r[4]
    );
    assert!(
        r[6][0].1.contains("support@example.com"),
        "first reply is for the first recipient: {:?}",
        r[6]
    );
    assert!(
        r[6][1].1.contains("sales@example.com"),
        "second reply is for the second recipient: {:?}",
        r[6]
    );
    assert_eq!(c[7], vec![221], "{r:?}");
    // One message, stored once (Invariant 2), in a ticket a user can find.
    assert_eq!(d.counts()["messages"], 1);
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(tickets[0]["subject"], "two teams");
    assert_eq!(tickets[0]["messages"], 1);
}

#[test]
fn pipelined_commands_get_every_reply_in_order() {
    let d = Daemon::start();
    let mut files = Vec::new();
    for i in 0..3 {
        let mut m = Mail::new(
            &format!("p{i}@example.org"),
            "support@example.com",
            &format!("pipelined {i}"),
            &format!("pipe{i}@example.org"),
        );
        // A line starting with a dot must survive dot-stuffing.
        m.body = format!("line one\r\n.dotted line {i}\r\n..two dots\r\nend\r\n");
        files.push(m.write(d.dir.path(), &format!("p{i}.eml")));
    }
    let (host, port) = d.lmtp.rsplit_once(':').unwrap();
    for mode in ["rfc2920", "burst"] {
        let mut args = vec![host, port, mode, "support@example.com"];
        args.extend(files.iter().map(String::as_str));
        let v = crate::harness::python("lmtp_pipeline.py", &args);
        assert_eq!(v["lhlo"][0], 250, "{v}");
        let got: Vec<i64> = v["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = [250, 250, 550, 354, 250]
            .repeat(3)
            .into_iter()
            .chain([221])
            .collect();
        assert_eq!(got, want, "{mode}: {v:#}");
    }
    // Three messages, each stored once although sent twice; dots unstuffed.
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 3, "{tickets:#?}");
    assert!(tickets.iter().all(|t| t["messages"] == 1), "{tickets:#?}");
    for t in &tickets {
        let shown = d.ticket(t["id"].as_i64().unwrap());
        let text = shown["messages"][0]["text"]
            .as_str()
            .unwrap()
            .replace("\r\n", "\n");
        let i = t["subject"]
            .as_str()
            .unwrap()
            .trim_start_matches("pipelined ");
        assert_eq!(
            text.trim_end(),
            format!("line one\n.dotted line {i}\n..two dots\nend"),
            "dot-unstuffing"
        );
    }
    let support = &d.ctl_json(&["channels", "list"])["channels"][0];
    assert_eq!(support["stats"]["messages"], 3);
    assert_eq!(support["stats"]["duplicates"], 3);
}

#[test]
fn oversize_messages_get_552_and_nothing_is_stored() {
    let d = Daemon::start_with(Settings {
        max_message_bytes: Some(10_000),
        ..Settings::default()
    });
    let mut big = Mail::new(
        "big@example.org",
        "support@example.com",
        "too big",
        "big@example.org",
    );
    big.body = ("x".repeat(70) + "\r\n").repeat(300);
    let big_path = big.write(d.dir.path(), "big.eml");
    let small = Mail::new(
        "small@example.org",
        "support@example.com",
        "small enough",
        "small@example.org",
    );
    let small_path = small.write(d.dir.path(), "small.eml");
    let r = d.lmtp_session(&session(vec![
        // Declared too big: refused at MAIL.
        json!(["mail", "big@example.org", ["SIZE=20000"]]),
        // Not declared: accepted until the body goes over, then 552 after the dot.
        json!(["mail", "big@example.org"]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", big_path, 1]),
        // The session is still usable.
        json!(["mail", "small@example.org", ["SIZE=2000"]]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", small_path, 1]),
    ]));
    let c = codes(&r);
    assert_eq!(
        c[2..9],
        [
            vec![552],
            vec![250],
            vec![250],
            vec![552],
            vec![250],
            vec![250],
            vec![250]
        ],
        "{r:?}"
    );
    assert!(r[2][0].1.starts_with("5.3.4"), "{:?}", r[2]);
    assert!(r[5][0].1.starts_with("5.3.4"), "{:?}", r[5]);
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(tickets[0]["subject"], "small enough");
    assert_eq!(d.counts()["messages"], 1);
}

#[test]
fn a_bad_command_mid_session_gets_5xx_and_the_session_still_delivers() {
    let d = Daemon::start();
    let m = Mail::new(
        "bob@example.org",
        "support@example.com",
        "after the typo",
        "typo@example.org",
    );
    let path = m.write(d.dir.path(), "m.eml");
    let r = d.lmtp_session(&session(vec![
        json!(["cmd", "BOGUS", "verb"]),
        json!(["cmd", "MAIL", "FROM:<bob@example.org> FROBNICATE=yes"]),
        json!(["cmd", "RCPT", "nobody"]),
        json!(["noop"]),
        json!(["mail", "bob@example.org"]),
        json!(["cmd", "MAIL", "FROM:<bob@example.org>"]),
        json!(["cmd", "XYZZY"]),
        json!([
            "cmd",
            "RCPT",
            format!("TO:<{}@example.com>", "a".repeat(5000))
        ]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", path, 1]),
    ]));
    let c = codes(&r);
    let check = |i: usize, range: std::ops::RangeInclusive<i64>| {
        assert!(
            range.contains(&c[i][0]),
            "step {i}: {:?} (all: {r:?})",
            r[i]
        );
    };
    check(2, 500..=599); // unknown verb
    check(3, 500..=599); // unknown MAIL parameter
    check(4, 500..=599); // RCPT without TO: / out of sequence
    assert_eq!(c[5], vec![250]);
    assert_eq!(c[6], vec![250]);
    assert_eq!(c[7], vec![503], "nested MAIL: {r:?}");
    check(8, 500..=599);
    check(9, 500..=599); // a line over the limit
    assert_eq!(c[10..13], [vec![250], vec![250], vec![221]], "{r:?}");
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["subject"], "after the typo");
}

#[test]
fn rset_clears_the_transaction() {
    let d = Daemon::start();
    let m = Mail::new(
        "carol@example.org",
        "sales@example.com",
        "after rset",
        "rset@example.org",
    );
    let path = m.write(d.dir.path(), "m.eml");
    let r = d.lmtp_session(&session(vec![
        json!(["mail", "carol@example.org"]),
        json!(["rcpt", "support@example.com"]),
        json!(["rset"]),
        // The recipient and sender are gone: DATA is out of sequence.
        json!(["cmd", "DATA"]),
        // A new MAIL is not "nested".
        json!(["mail", "carol@example.org"]),
        json!(["rcpt", "sales@example.com"]),
        json!(["data", path, 1]),
    ]));
    let c = codes(&r);
    assert_eq!(
        c[2..10],
        [
            vec![250],
            vec![250],
            vec![250],
            vec![503],
            vec![250],
            vec![250],
            vec![250],
            vec![221]
        ],
        "{r:?}"
    );
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 1);
    // Only the recipient given after RSET counts.
    assert_eq!(tickets[0]["channel"], "sales");
}

#[test]
fn helo_and_ehlo_are_refused_because_lmtp_needs_lhlo() {
    let d = Daemon::start();
    let m = Mail::new(
        "dan@example.org",
        "support@example.com",
        "after lhlo",
        "lhlo@example.org",
    );
    let path = m.write(d.dir.path(), "m.eml");
    let steps = json!([
        ["cmd", "HELO", "client.example"],
        ["cmd", "EHLO", "client.example"],
        ["cmd", "MAIL", "FROM:<dan@example.org>"],
        ["lhlo", "client.example"],
        ["mail", "dan@example.org"],
        ["rcpt", "support@example.com"],
        ["data", path, 1],
        ["quit"]
    ]);
    let r = d.lmtp_session(&steps);
    let c = codes(&r);
    assert_eq!(c[1][0] / 100, 5, "HELO: {r:?}");
    assert_eq!(c[2][0] / 100, 5, "EHLO: {r:?}");
    assert_eq!(c[3], vec![503], "MAIL before LHLO: {r:?}");
    assert_eq!(
        c[4..9],
        [vec![250], vec![250], vec![250], vec![250], vec![221]],
        "{r:?}"
    );
    assert_eq!(d.tickets().len(), 1);
}

#[test]
fn data_before_mail_is_out_of_sequence() {
    let d = Daemon::start();
    let r = d.lmtp_session(&session(vec![json!(["cmd", "DATA"]), json!(["noop"])]));
    assert_eq!(codes(&r)[2..5], [vec![503], vec![250], vec![221]], "{r:?}");
    assert_eq!(d.counts()["messages"], 0);
}

/// RFC 2033 §4.2: "If there were no successful RCPT commands in the mail transaction,
/// the DATA command MUST fail with a 503 reply code."
#[test]
fn data_without_an_accepted_recipient_is_503() {
    let d = Daemon::start();
    let r = d.lmtp_session(&session(vec![
        json!(["mail", "eve@example.org"]),
        json!(["cmd", "DATA"]),
        json!(["rcpt", "nobody@example.com"]),
        json!(["cmd", "DATA"]),
        json!(["noop"]),
    ]));
    let c = codes(&r);
    assert_eq!(c[2], vec![250], "{r:?}");
    assert_eq!(c[3], vec![503], "DATA with no RCPT at all: {r:?}");
    assert_eq!(c[4], vec![550], "{r:?}");
    assert_eq!(c[5], vec![503], "DATA when every RCPT was refused: {r:?}");
    assert_eq!(c[6], vec![250], "{r:?}");
    assert_eq!(d.counts()["messages"], 0);
}

#[test]
fn an_idle_session_is_closed_with_421() {
    let d = Daemon::start_with(Settings {
        idle_timeout_seconds: Some(1),
        ..Settings::default()
    });
    let steps = json!([["lhlo", "client.example"], ["wait"], ["noop"]]);
    let r = d.lmtp_session(&steps);
    let c = codes(&r);
    assert_eq!(c[1], vec![250], "{r:?}");
    assert_eq!(c[2], vec![421], "{r:?}");
    assert!(r[2][0].1.starts_with("4.4.2"), "{r:?}");
    assert_eq!(
        c[3],
        vec![-1],
        "the connection is closed after the 421: {r:?}"
    );
}

#[test]
fn a_redelivered_message_is_stored_once() {
    let d = Daemon::start();
    let m = Mail::new(
        "fay@example.org",
        "support@example.com",
        "twice",
        "twice@example.org",
    );
    let path = m.write(d.dir.path(), "m.eml");
    // The same message twice in one session, then again in another (as an MTA retrying).
    let r = d.lmtp_session(&session(
        [
            deliver_steps("support@example.com", &path),
            deliver_steps("support@example.com", &path),
        ]
        .concat(),
    ));
    assert_eq!(
        codes(&r)[2..9],
        [
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![221]
        ],
        "{r:?}"
    );
    let r = d.lmtp_session(&session(deliver_steps("help@example.com", &path)));
    assert_eq!(codes(&r)[4], vec![250], "{r:?}");
    // The same bytes without a Message-ID dedupe by content hash.
    let mut anon = Mail::new(
        "gil@example.org",
        "support@example.com",
        "no message id",
        "",
    );
    anon.body = "unique body 7f3a\r\n".into();
    let anon_path = anon.write(d.dir.path(), "anon.eml");
    let r = d.lmtp_session(&session(
        [
            deliver_steps("support@example.com", &anon_path),
            deliver_steps("support@example.com", &anon_path),
        ]
        .concat(),
    ));
    assert_eq!(codes(&r)[4], vec![250], "{r:?}");
    assert_eq!(codes(&r)[7], vec![250], "{r:?}");

    let tickets = d.tickets();
    assert_eq!(tickets.len(), 2, "{tickets:#?}");
    for t in &tickets {
        let shown = d.ticket(t["id"].as_i64().unwrap());
        assert_eq!(shown["messages"].as_array().unwrap().len(), 1, "{shown:#}");
    }
    assert_eq!(d.counts()["messages"], 2);
    let support = &d.ctl_json(&["channels", "list"])["channels"][0];
    assert_eq!(support["name"], "support");
    assert_eq!(support["stats"]["duplicates"], 3, "{support:#}");
}

#[test]
fn a_reply_with_in_reply_to_lands_in_the_same_ticket() {
    let d = Daemon::start();
    let first = Mail::new(
        "Hal <hal@example.org>",
        "support@example.com",
        "printer on fire",
        "orig-1@example.org",
    );
    let mut reply = Mail::new(
        "Hal <hal@example.org>",
        "support@example.com",
        "Re: printer on fire (more)",
        "reply-1@example.org",
    );
    reply.in_reply_to = "orig-1@example.org".into();
    let unrelated = Mail::new(
        "Hal <hal@example.org>",
        "support@example.com",
        "printer on fire",
        "other-1@example.org",
    );
    let p1 = first.write(d.dir.path(), "1.eml");
    let p2 = reply.write(d.dir.path(), "2.eml");
    let p3 = unrelated.write(d.dir.path(), "3.eml");
    let r = d.lmtp_session(&session(
        [
            deliver_steps("support@example.com", &p1),
            deliver_steps("support@example.com", &p2),
        ]
        .concat(),
    ));
    assert_eq!(codes(&r)[4], vec![250]);
    assert_eq!(codes(&r)[7], vec![250]);
    // A new message with the same subject but no reference opens its own ticket.
    let r = d.lmtp_session(&session(deliver_steps("support@example.com", &p3)));
    assert_eq!(codes(&r)[4], vec![250]);

    let tickets = d.tickets();
    assert_eq!(tickets.len(), 2, "{tickets:#?}");
    let threaded = tickets
        .iter()
        .find(|t| t["messages"] == 2)
        .expect("a ticket with both messages");
    let shown = d.ticket(threaded["id"].as_i64().unwrap());
    let msgs = shown["messages"].as_array().unwrap();
    assert_eq!(
        msgs[0]["message_id"]
            .as_str()
            .unwrap()
            .trim_matches(['<', '>']),
        "orig-1@example.org"
    );
    assert_eq!(
        msgs[1]["message_id"]
            .as_str()
            .unwrap()
            .trim_matches(['<', '>']),
        "reply-1@example.org"
    );
    assert_eq!(msgs[0]["thread_reason"], "new");
    assert_eq!(msgs[1]["thread_reason"], "headers");
    assert_eq!(shown["subject"], "printer on fire");
}

/// Bounces (null sender, multipart/report) and auto-replies arrive over LMTP like any
/// mail; `tickets show` marks them automatic so no one answers them (Invariant 3).
#[test]
fn bounces_and_auto_replies_are_stored_and_marked_automatic() {
    let d = Daemon::start();
    let corpus = crate::harness::corpus_dir();
    let bounce = corpus.join("bounces/cpython__msg_43.eml");
    let auto = corpus.join("autoreplies/sisimai__rfc3834-01.eml");
    let r = d.lmtp_session(&session(vec![
        json!(["mail", ""]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", bounce, 1]),
        json!(["mail", "vacation@example.net"]),
        json!(["rcpt", "support@example.com"]),
        json!(["data", auto, 1]),
    ]));
    assert_eq!(
        codes(&r)[2..9],
        [
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![250],
            vec![221]
        ],
        "{r:?}"
    );
    let mut kinds = Vec::new();
    for t in d.tickets() {
        let shown = d.ticket(t["id"].as_i64().unwrap());
        for m in shown["messages"].as_array().unwrap() {
            assert_eq!(m["auto"], true, "{m:#}");
            kinds.push(m["auto_kind"].as_str().unwrap_or("").to_string());
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["auto-reply", "bounce"]);
}
