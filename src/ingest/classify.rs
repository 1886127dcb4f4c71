//! Is a message automatic, bulk or ordinary? (pure)
//!
//! Invariant 3 ("mail never loops") rests on this module: no automatic answer goes to a
//! bounce, an auto-reply, a feedback report or read receipt, list or bulk mail, or mail
//! from one of our own addresses. Signals, strongest first:
//! - MIME: `multipart/report` and its report parts (RFC 3462/3464, ARF, MDN);
//! - headers: `Auto-Submitted` (RFC 3834), `X-Failed-Recipients`, `X-Autoreply`,
//!   `Precedence`, `List-Id`;
//! - the null sender (`<>`) or a mailer-daemon/postmaster From, together with a bounce
//!   subject or delivery-failure wording, which catches the non-standard bounce formats
//!   (qmail, Exim, Postfix text, Exchange, Lotus Domino, Yahoo, ...);
//! - auto-reply subjects ("Out of Office", "Automatic reply:", "Abwesenheitsnotiz", ...).
//!
//! Automatic kinds win over [`AutoKind::Bulk`]: a bounce sent with `Precedence: bulk` is
//! still a bounce.

use super::forward::{is_forward_subject, is_reply_subject};
use super::parse::ParsedMail;

/// What kind of automatic mail a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoKind {
    /// A delivery status notification or non-standard bounce.
    Bounce,
    /// An auto-reply (vacation, out of office) or other auto-generated mail.
    AutoReply,
    /// An ARF feedback report or an MDN read receipt.
    Report,
    /// List or bulk mail: a real message that gets no automatic answer.
    Bulk,
}

impl AutoKind {
    /// The kebab-case name stored and shown for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AutoKind::Bounce => "bounce",
            AutoKind::AutoReply => "auto-reply",
            AutoKind::Report => "report",
            AutoKind::Bulk => "bulk",
        }
    }

    /// The kind named by [`AutoKind::as_str`], if any.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bounce" => Some(AutoKind::Bounce),
            "auto-reply" => Some(AutoKind::AutoReply),
            "report" => Some(AutoKind::Report),
            "bulk" => Some(AutoKind::Bulk),
            _ => None,
        }
    }
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The kind of automatic or bulk mail, `None` for ordinary mail.
    pub auto: Option<AutoKind>,
    /// True when the From or envelope sender is one of our own addresses.
    pub from_own_address: bool,
}

impl Classification {
    /// True for machine-generated mail (bounce, auto-reply, report) — shown as `auto` to agents.
    pub fn is_automatic(&self) -> bool {
        matches!(
            self.auto,
            Some(AutoKind::Bounce | AutoKind::AutoReply | AutoKind::Report)
        )
    }

    /// True when no automatic answer may be sent (Invariant 3): automatic, bulk, or from our own address.
    pub fn suppresses_auto_reply(&self) -> bool {
        self.auto.is_some() || self.from_own_address
    }
}

/// `envelope_from`: the SMTP MAIL FROM if known (Some("") means the null sender <>); `own_addresses`: lower-case channel addresses and aliases.
pub fn classify(
    mail: &ParsedMail,
    envelope_from: Option<&str>,
    own_addresses: &[String],
) -> Classification {
    let auto = report(mail)
        .or_else(|| bounce(mail, envelope_from))
        .or_else(|| auto_reply(mail, envelope_from))
        .or_else(|| bulk(mail));
    Classification {
        auto,
        from_own_address: from_own_address(mail, envelope_from, own_addresses),
    }
}

fn from_own_address(mail: &ParsedMail, envelope_from: Option<&str>, own: &[String]) -> bool {
    let envelope = envelope_from
        .map(|e| e.trim().trim_matches(['<', '>']).to_lowercase())
        .filter(|e| !e.is_empty());
    mail.from
        .as_ref()
        .map(|f| f.email.clone())
        .into_iter()
        .chain(envelope)
        .any(|addr| {
            let bare = strip_subaddress(&addr);
            own.iter().any(|o| {
                let o = o.trim().to_lowercase();
                o == addr || strip_subaddress(&o) == bare
            })
        })
}

/// `local+tag@domain` to `local@domain`.
fn strip_subaddress(addr: &str) -> String {
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}@{domain}")
        }
        None => addr.to_string(),
    }
}

/// ARF feedback reports and MDN read receipts.
fn report(mail: &ParsedMail) -> Option<AutoKind> {
    let report_type = mail.report_type.as_deref().unwrap_or("");
    if report_type == "feedback-report" || report_type == "disposition-notification" {
        return Some(AutoKind::Report);
    }
    let report_part = mail.attachments.iter().any(|a| {
        a.content_type == "message/feedback-report"
            || a.content_type == "message/disposition-notification"
    });
    (report_part && report_type != "delivery-status").then_some(AutoKind::Report)
}

/// Local parts and display names used by mail systems, never by people.
const MAILER_LOCAL_PARTS: &[&str] = &[
    "mailer-daemon",
    "mailer_daemon",
    "mailerdaemon",
    "maildaemon",
    "postmaster",
    "post_master",
    "mail.delivery.system",
    "mail-delivery-system",
    "mail-delivery-subsystem",
    "maildeliverysystem",
    "mail-daemon",
];

const MAILER_NAMES: &[&str] = &[
    "mail delivery system",
    "mail delivery subsystem",
    "mail delivery service",
    "mailer-daemon",
    "mail administrator",
    "postmaster",
];

/// Subject beginnings that bounces use (lower case).
const BOUNCE_SUBJECTS: &[&str] = &[
    "undelivered mail returned to sender",
    "undeliverable",
    "undelivered mail",
    "undelivered message",
    "mail delivery failed",
    "mail delivery failure",
    "mail delivery error",
    "message delivery failure",
    "delivery failure",
    "delivery failed",
    "delivery status notification",
    "delivery notification: delivery has",
    "delivery has failed",
    "returned mail",
    "mail returned",
    "failure notice",
    "failure delivery",
    "non-delivery",
    "nondeliverable",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "warning: could not send message",
    "warning: message",
    "mail system error",
    "could not send message",
    "there was an error sending your mail",
    "error sending message",
    "delivery report",
    "delivery status",
    "benachrichtung zum",
    "benachrichtigung zum",
    "недоставленное сообщение",
    "ваше сообщение не доставлено",
    "[postmaster]",
    "postmaster notify",
];

/// Wording of delivery-failure notices (lower case); proof only with another bounce signal.
const BOUNCE_BODY: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "could not deliver",
    "was not delivered",
    "wasn't able to deliver",
    "unable to deliver",
    "undeliverable",
    "delivery has failed",
    "delivery failed",
    "delivery to the following recipient",
    "failed permanently",
    "permanent error",
    "permanent fatal error",
    "returned permanent errors",
    "error delivering your mail",
    "trouble delivering your message",
    "had delivery problems",
    "user unknown",
    "unknown user",
    "no such user",
    "mailbox unavailable",
    "mailbox is full",
    "this is the mail system at host",
    "created automatically by mail delivery software",
    "delivery status notification",
    "diagnostic-code:",
    "final-recipient:",
    "returned mail",
    "message you sent blocked",
];

fn bounce(mail: &ParsedMail, envelope_from: Option<&str>) -> Option<AutoKind> {
    let report_type = mail.report_type.as_deref();
    if report_type == Some("delivery-status") {
        return Some(AutoKind::Bounce);
    }
    let status_part = mail.attachments.iter().any(|a| {
        a.content_type == "message/delivery-status"
            || a.content_type == "message/global-delivery-status"
    });
    if status_part || (mail.has_report_part && mail.content_type == "multipart/report") {
        return Some(AutoKind::Bounce);
    }
    if mail
        .header("x-failed-recipients")
        .is_some_and(|v| !v.trim().is_empty())
    {
        return Some(AutoKind::Bounce);
    }
    if mailer_address(mail) {
        return Some(AutoKind::Bounce);
    }
    if ses_notification(mail) {
        return Some(AutoKind::Bounce);
    }
    let subject = mail.subject.trim().to_lowercase();
    let bounce_subject = BOUNCE_SUBJECTS.iter().any(|s| subject.starts_with(s));
    let null_sender = null_sender(mail, envelope_from);
    let no_from = mail.from.is_none();
    let body = mail.text_body.to_lowercase();
    let bounce_body = BOUNCE_BODY.iter().any(|p| body.contains(p));
    let original_attached = !mail.embedded.is_empty()
        || mail
            .attachments
            .iter()
            .any(|a| a.content_type == "text/rfc822-headers");
    let auto_submitted = auto_submitted(mail).is_some();
    let hints = [
        mailer_name(mail),
        null_sender,
        no_from,
        bounce_body,
        original_attached,
        auto_submitted,
    ];
    if bounce_subject && hints.iter().any(|&h| h) {
        return Some(AutoKind::Bounce);
    }
    // A notice without the usual subject (localized, or an MTA's own wording): the failure
    // wording plus the null sender, a mail-system display name, or the returned original.
    let not_a_person_answering = !reply_or_forward(&subject);
    if bounce_body
        && (null_sender || (not_a_person_answering && (original_attached || mailer_name(mail))))
    {
        return Some(AutoKind::Bounce);
    }
    None
}

/// From (or Sender) is a mail system account such as MAILER-DAEMON or postmaster: proof
/// enough, no person writes from these.
fn mailer_address(mail: &ParsedMail) -> bool {
    [mail.from.as_ref(), mail.sender.as_ref()]
        .into_iter()
        .flatten()
        .any(|m| {
            let local = m.email.split('@').next().unwrap_or("");
            MAILER_LOCAL_PARTS.contains(&local)
        })
        || mail
            .header("from")
            .is_some_and(|v| v.to_lowercase().contains("mailer-daemon"))
}

/// From has a mail system's display name ("Mail Delivery Subsystem") on some other
/// address: a hint only, since anyone can choose a display name.
fn mailer_name(mail: &ParsedMail) -> bool {
    mail.from
        .as_ref()
        .and_then(|m| m.name.as_deref())
        .is_some_and(|n| MAILER_NAMES.contains(&n.trim().to_lowercase().as_str()))
}

/// Amazon SES bounce and delivery notifications relayed as e-mail by SNS (JSON bodies).
fn ses_notification(mail: &ParsedMail) -> bool {
    let from_sns = mail
        .from
        .as_ref()
        .is_some_and(|f| f.email.ends_with("@sns.amazonaws.com"));
    let body = mail.text_body.trim_start();
    from_sns && body.starts_with('{') && body.contains("\"notificationType\"")
}

/// The null reverse path: the envelope sender `<>` or a delivered `Return-Path: <>`.
fn null_sender(mail: &ParsedMail, envelope_from: Option<&str>) -> bool {
    let is_null = |v: &str| {
        let v = v.trim().trim_matches(['<', '>']).trim().to_lowercase();
        v.is_empty() || v == "mailer-daemon" || v.starts_with("mailer-daemon@")
    };
    match envelope_from {
        Some(e) => is_null(e),
        None => mail.header("return-path").is_some_and(is_null),
    }
}

/// The `Auto-Submitted` value when it is present and not `no`.
fn auto_submitted(mail: &ParsedMail) -> Option<String> {
    let v = mail.header("auto-submitted")?.trim().to_lowercase();
    let token = v.split([';', '(', ' ']).next().unwrap_or("").trim();
    (!token.is_empty() && token != "no").then(|| token.to_string())
}

/// Subject beginnings of auto-replies that need no other evidence (lower case).
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "automatic response",
    "auto-antwort",
    "automatische antwort",
    "automatische rückantwort",
    "abwesenheitsnotiz",
    "abwesenheitsmeldung",
    "réponse automatique",
    "reponse automatique",
    "risposta automatica",
    "respuesta automática",
    "respuesta automatica",
    "resposta automática",
    "resposta automatica",
    "automatisch antwoord",
    "automatisk svar",
    "autosvar",
    "automaattinen vastaus",
    "odpowiedź automatyczna",
    "автоматический ответ",
    "vacation reply",
    "自動応答",
    "自动回复",
    "自動回覆",
];

/// Subject beginnings that need a second auto-reply hint ("Auto: ..." is Lotus Notes, but
/// a person could write it too).
const WEAK_AUTO_REPLY_SUBJECTS: &[&str] = &["auto:", "away", "absence", "abwesend", "vacation"];

fn auto_reply(mail: &ParsedMail, envelope_from: Option<&str>) -> Option<AutoKind> {
    if auto_submitted(mail).is_some() {
        return Some(AutoKind::AutoReply);
    }
    let flagged = |name: &str| {
        mail.header(name).is_some_and(|v| {
            let v = v.trim().to_lowercase();
            !matches!(v.as_str(), "no" | "false" | "0")
        })
    };
    if [
        "x-autoreply",
        "x-autorespond",
        "x-autoresponder",
        "x-autoreply-from",
        "x-mail-autoreply",
    ]
    .iter()
    .any(|h| flagged(h))
    {
        return Some(AutoKind::AutoReply);
    }
    let precedence = |name: &str| {
        mail.header(name)
            .is_some_and(|v| v.trim().to_lowercase().starts_with("auto_reply"))
    };
    if precedence("precedence") || precedence("x-precedence") {
        return Some(AutoKind::AutoReply);
    }
    if mail
        .header("x-apple-action")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("vacation"))
    {
        return Some(AutoKind::AutoReply);
    }
    if list_server_notice(mail) {
        return Some(AutoKind::AutoReply);
    }
    let subject = mail.subject.trim().to_lowercase();
    if AUTO_REPLY_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Some(AutoKind::AutoReply);
    }
    let suppress = mail.header("x-auto-response-suppress").is_some_and(|v| {
        let v = v.to_lowercase();
        v.contains("all") || v.contains("oof")
    });
    let weak_hint = suppress
        || mail.header("x-ms-exchange-inbox-rules-loop").is_some()
        || null_sender(mail, envelope_from);
    if weak_hint
        && WEAK_AUTO_REPLY_SUBJECTS
            .iter()
            .any(|s| subject.starts_with(s))
    {
        return Some(AutoKind::AutoReply);
    }
    None
}

/// A mailing-list server answering by itself ("you are not a member", "confirm your
/// subscription"): sent from the list's `-admin`/`-owner`/`-request` address with list headers.
fn list_server_notice(mail: &ParsedMail) -> bool {
    let Some(from) = &mail.from else {
        return false;
    };
    let local = from.email.split('@').next().unwrap_or("");
    let server_address = ["-admin", "-owner", "-request", "-bounces", "-errors"]
        .iter()
        .any(|s| local.ends_with(s));
    let list_headers = [
        "list-id",
        "mailing-list",
        "list-subscribe",
        "x-mlserver",
        "x-ml-name",
    ]
    .iter()
    .any(|h| mail.header(h).is_some());
    server_address && list_headers
}

fn bulk(mail: &ParsedMail) -> Option<AutoKind> {
    let precedence = mail.header("precedence").is_some_and(|v| {
        let v = v.trim().to_lowercase();
        ["bulk", "junk", "list"].iter().any(|p| v.starts_with(p))
    });
    let list_id = mail.header("list-id").is_some_and(|v| !v.trim().is_empty());
    (precedence || list_id).then_some(AutoKind::Bulk)
}

/// True when the subject starts with a reply or forward prefix (a person answering about a
/// bounce, not the bounce itself).
fn reply_or_forward(subject: &str) -> bool {
    is_reply_subject(subject) || is_forward_subject(subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse::parse;

    fn kind(raw: &str) -> Option<AutoKind> {
        classify(
            &parse(raw.as_bytes()).expect("test message parses"),
            None,
            &[],
        )
        .auto
    }

    fn kind_env(raw: &str, envelope: &str) -> Option<AutoKind> {
        classify(
            &parse(raw.as_bytes()).expect("test message parses"),
            Some(envelope),
            &[],
        )
        .auto
    }

    const PLAIN: &str = "From: Jane <jane@example.com>\nTo: support@desk.test\nSubject: Printer broken\n\nHello, my printer is broken.\n";

    #[test]
    fn ordinary_mail_is_not_automatic() {
        assert_eq!(kind(PLAIN), None);
        assert_eq!(kind_env(PLAIN, "jane@example.com"), None);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in [
            AutoKind::Bounce,
            AutoKind::AutoReply,
            AutoKind::Report,
            AutoKind::Bulk,
        ] {
            assert_eq!(AutoKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(AutoKind::parse("nope"), None);
    }

    #[test]
    fn dsn_multipart_report_is_a_bounce() {
        let raw = "From: MAILER-DAEMON@mx.test\nSubject: whatever\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.test\n\nFinal-Recipient: rfc822; x@y.test\nAction: failed\nStatus: 5.1.1\n--b--\n";
        assert_eq!(kind(raw), Some(AutoKind::Bounce));
    }

    #[test]
    fn arf_and_mdn_are_reports() {
        let arf = "From: abuse@isp.test\nSubject: FW: spam\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nreport\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--b--\n";
        assert_eq!(kind(arf), Some(AutoKind::Report));
        let mdn = "From: jane@example.com\nSubject: Read: hi\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n--b\nContent-Type: text/plain\n\nread\n--b\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n";
        assert_eq!(kind(mdn), Some(AutoKind::Report));
    }

    #[test]
    fn x_failed_recipients_is_a_bounce() {
        let raw = "From: someone@mx.test\nX-Failed-Recipients: x@y.test\nSubject: hm\n\nbody\n";
        assert_eq!(kind(raw), Some(AutoKind::Bounce));
    }

    #[test]
    fn mailer_daemon_from_is_a_bounce() {
        let raw = "From: Mail Delivery System <MAILER-DAEMON@mx.test>\nSubject: Mail delivery failed: returning message to sender\n\nThis message was created automatically by mail delivery software.\n";
        assert_eq!(kind(raw), Some(AutoKind::Bounce));
        let raw =
            "From: postmaster@example.jp\nSubject: DELIVERY FAILURE: User x not listed\n\nbody\n";
        assert_eq!(kind(raw), Some(AutoKind::Bounce));
    }

    #[test]
    fn qmail_failure_notice_with_null_sender() {
        let raw = "Return-Path: <>\nFrom: someone@mx.test\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.test.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n";
        assert_eq!(kind(raw), Some(AutoKind::Bounce));
    }

    #[test]
    fn bounce_subject_alone_is_not_enough() {
        let raw = "From: Jane <jane@example.com>\nSubject: Undeliverable parcel\n\nMy parcel came back.\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn null_sender_with_failure_wording_is_a_bounce() {
        let raw = "From: Mail System <mail@mx.test>\nSubject: Notice\n\nYour message could not be delivered to x@y.test.\n";
        assert_eq!(kind(raw), None);
        assert_eq!(kind_env(raw, ""), Some(AutoKind::Bounce));
        assert_eq!(kind_env(raw, "<>"), Some(AutoKind::Bounce));
    }

    #[test]
    fn null_sender_alone_is_not_a_bounce() {
        assert_eq!(kind_env(PLAIN, ""), None);
    }

    #[test]
    fn person_writing_about_a_bounce_is_not_a_bounce() {
        let raw = "From: Jane <jane@example.com>\nSubject: Re: your mail\n\nMy mail to you could not be delivered, see below.\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn person_forwarding_a_bounce_is_not_a_bounce() {
        let raw = "From: Jane <jane@example.com>\nSubject: Fwd: Undelivered Mail Returned to Sender\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nMy mail could not be delivered, can you help?\n--b\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@mx.test\nSubject: Undelivered Mail Returned to Sender\n\nfailed\n--b--\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn auto_submitted() {
        let raw = "From: a@b.test\nAuto-Submitted: auto-replied\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), Some(AutoKind::AutoReply));
        let raw =
            "From: a@b.test\nAuto-Submitted: auto-generated (notification)\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), Some(AutoKind::AutoReply));
        let raw = "From: a@b.test\nAuto-Submitted: no\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn x_autoreply_headers() {
        for h in [
            "X-Autoreply: yes",
            "X-Autorespond: x",
            "X-Autoresponder: 1",
            "Precedence: auto_reply",
        ] {
            let raw = format!("From: a@b.test\n{h}\nSubject: hi\n\nx\n");
            assert_eq!(kind(&raw), Some(AutoKind::AutoReply), "{h}");
        }
    }

    #[test]
    fn auto_reply_subjects() {
        for s in [
            "Out of Office: hi",
            "Automatic reply: hi",
            "Auto reply: hi",
            "AutoReply: hi",
            "Abwesenheitsnotiz: hi",
            "Réponse automatique : hi",
            "Automatische Antwort: hi",
        ] {
            let raw = format!("From: a@b.test\nSubject: {s}\n\nx\n");
            assert_eq!(kind(&raw), Some(AutoKind::AutoReply), "{s}");
        }
    }

    #[test]
    fn weak_auto_subject_needs_a_hint() {
        let raw = "From: a@b.test\nSubject: Auto: hi\n\nx\n";
        assert_eq!(kind(raw), None);
        let raw = "From: a@b.test\nX-Auto-Response-Suppress: All\nSubject: Auto: hi\n\nx\n";
        assert_eq!(kind(raw), Some(AutoKind::AutoReply));
        let raw = "From: a@b.test\nX-Auto-Response-Suppress: All\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn bulk_and_list_mail() {
        for h in [
            "Precedence: bulk",
            "Precedence: junk",
            "Precedence: list",
            "List-Id: <l.example.com>",
        ] {
            let raw = format!("From: a@b.test\n{h}\nSubject: hi\n\nx\n");
            assert_eq!(kind(&raw), Some(AutoKind::Bulk), "{h}");
        }
        let raw = "From: a@b.test\nList-Unsubscribe: <mailto:u@b.test>\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), None);
        let raw = "From: a@b.test\nPrecedence: first-class\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), None);
    }

    #[test]
    fn automatic_wins_over_bulk() {
        let raw =
            "From: a@b.test\nPrecedence: bulk\nAuto-Submitted: auto-generated\nSubject: hi\n\nx\n";
        assert_eq!(kind(raw), Some(AutoKind::AutoReply));
    }

    #[test]
    fn list_server_notice_is_automatic() {
        let raw = "From: list-admin@example.org\nMailing-List: contact list-help@example.org\nSubject: You are not member\n\nx\n";
        assert_eq!(kind(raw), Some(AutoKind::AutoReply));
    }

    #[test]
    fn own_address_detection() {
        let own = vec![
            "support@desk.test".to_string(),
            "help@desk.test".to_string(),
        ];
        let m = parse(b"From: Support <Support+abc@Desk.test>\nSubject: hi\n\nx\n").unwrap();
        let c = classify(&m, None, &own);
        assert!(c.from_own_address);
        assert!(c.suppresses_auto_reply());
        assert!(!c.is_automatic());
        let m = parse(PLAIN.as_bytes()).unwrap();
        assert!(!classify(&m, None, &own).from_own_address);
        assert!(classify(&m, Some("<help@desk.test>"), &own).from_own_address);
        assert!(!classify(&m, Some(""), &own).from_own_address);
        assert!(!classify(&m, None, &[]).suppresses_auto_reply());
    }

    #[test]
    fn bulk_suppresses_but_is_not_automatic() {
        let c = Classification {
            auto: Some(AutoKind::Bulk),
            from_own_address: false,
        };
        assert!(!c.is_automatic());
        assert!(c.suppresses_auto_reply());
    }
}
