//! New mail becomes a ticket within 2 seconds through IDLE, with polling set to an hour.

use std::time::{Duration, Instant};

use crate::dovecot::{Dovecot, Options, User};
use crate::*;

/// Three messages delivered through Dovecot's LMTP while frontdesk waits in IDLE
/// (`poll_seconds = 3600`): each is stored within 2 s of its delivery, the folder says
/// `idle_supported`, and the new messages get `\Seen` (after_fetch = seen).
#[test]
fn new_mail_arrives_within_two_seconds_through_idle() {
    let user = "idle@test.example";
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "secret-3")],
        ..Options::default()
    });
    let mut ch = ImapChannel::plain("support", &dovecot, user);
    ch.poll_seconds = 3600;
    ch.import_existing = "false".into();
    let d = daemon(&[&ch]);
    let c = wait_channel(&d, "support", "connected", SYNC_DEADLINE, caught_up);
    assert_eq!(
        folder0(&c)["idle_supported"],
        true,
        "Dovecot offers IDLE but the folder does not say so: {c:#}"
    );

    let mut latencies = Vec::new();
    for i in 0..3 {
        // Wait until the puller is back in IDLE after the previous message.
        wait_channel(&d, "support", "connected", SYNC_DEADLINE, caught_up);
        let before = stored_messages(&d);
        let start = Instant::now();
        dovecot.lmtp_deliver(user, &test_mail("idle", i));
        let deadline = start + Duration::from_secs(2);
        while stored_messages(&d) == before {
            assert!(
                Instant::now() < deadline,
                "message {i} not stored within 2 s of delivery (IDLE not working?); channel:\n{:#}",
                channel(&d, "support")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        latencies.push(start.elapsed());
        assert_eq!(stored_messages(&d), before + 1);
    }
    eprintln!("IDLE delivery-to-ticket latencies: {latencies:?}");
    let tickets = d.tickets();
    assert_eq!(tickets.len(), 3, "{tickets:#?}");
    // Applied after the commit: each new message is \Seen on the server.
    crate::harness::wait_until("3 messages \\Seen", SYNC_DEADLINE, || {
        dovecot.search(user, "INBOX", &["SEEN"]).len() == 3
    });
}
