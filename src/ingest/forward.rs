//! Who wrote a forwarded message (pure).
//!
//! An agent or a team mailbox forwards a customer's mail to the help desk; a channel with
//! "original sender" on files the ticket under the customer, not the forwarder. The author
//! is read only from a forward *header block* (the `From:`/`Date:`/`Subject:` lines a mail
//! client writes under its forward separator) or from an attached `message/rfc822`, never
//! from an ordinary reply quote ("On Mon, X wrote:"), which would file the ticket under
//! whoever happened to be quoted.
//!
//! A header block counts when
//! - it follows an explicit *forward* separator ("---------- Forwarded message ---------",
//!   "Begin forwarded message:", "-------- Forwarded Message --------", localized forms), or
//! - the subject says the mail is a forward (`Fwd:`, `FW:`, `WG:`, `TR:`, ...) and the block
//!   follows an Outlook-style "-----Original Message-----" / underscore separator, or stands
//!   alone with at least three header lines.
//!
//! Outlook uses the same "Original Message" separator for replies, so without a forward
//! subject that separator proves nothing. For chains of forwards the innermost author wins:
//! a further block is followed only when it has its own forward separator or when the block
//! before it has a forward subject itself.

use super::parse::{EmbeddedMessage, Mailbox, ParsedMail};

/// How the forward was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardStyle {
    /// Gmail: "---------- Forwarded message ---------".
    Gmail,
    /// Outlook desktop or web: "-----Original Message-----", an underscore line, or `Sent:`.
    Outlook,
    /// Apple Mail: "Begin forwarded message:".
    AppleMail,
    /// Thunderbird: "-------- Forwarded Message --------".
    Thunderbird,
    /// The original attached as `message/rfc822`.
    Attached,
    /// A header block under another separator, or under none with a forward subject.
    Generic,
}

impl ForwardStyle {
    /// The kebab-case name used in logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardStyle::Gmail => "gmail",
            ForwardStyle::Outlook => "outlook",
            ForwardStyle::AppleMail => "apple-mail",
            ForwardStyle::Thunderbird => "thunderbird",
            ForwardStyle::Attached => "attached",
            ForwardStyle::Generic => "generic",
        }
    }
}

/// The original author of a forwarded message and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The innermost author (address in lower case).
    pub original: Mailbox,
    /// The style of the block (or attachment) the author was read from.
    pub style: ForwardStyle,
}

/// The original sender of a forwarded message, or None when it is not a forward or no sender can be found.
pub fn detect_forward(mail: &ParsedMail) -> Option<Forward> {
    // A reply is written by its From, whatever it quotes or attaches; a report (bounce,
    // ARF, MDN) carries a returned original, not a forwarded one.
    if is_reply_subject(&mail.subject)
        || mail.content_type == "multipart/report"
        || mail.has_report_part
    {
        return None;
    }
    let forward_subject = is_forward_subject(&mail.subject);
    match scan_text(&mail.text_body, forward_subject) {
        Scan::Found(f) => return Some(f),
        // A forward header without a usable address: do not guess from elsewhere.
        Scan::NoAddress => return None,
        Scan::Nothing => {}
    }
    if let Some(html) = &mail.html_body {
        match scan_text(&html_to_text(html), forward_subject) {
            Scan::Found(f) => return Some(f),
            Scan::NoAddress => return None,
            Scan::Nothing => {}
        }
    }
    // A digest, or several messages attached as evidence, is not one forwarded message.
    let digest = mail.content_type == "multipart/digest";
    if digest || (mail.embedded.len() > 1 && !forward_subject) {
        return None;
    }
    attached_author(&mail.embedded)
}

/// True when the subject's first prefix marks a reply (`Re:`, `AW:`, `SV:`, `RES:`, ...).
pub fn is_reply_subject(subject: &str) -> bool {
    let s = subject.trim_start();
    let Some(colon) = s.find([':', '：']) else {
        return false;
    };
    let head = s[..colon].trim();
    let head = head
        .split(['[', '('])
        .next()
        .unwrap_or(head)
        .trim()
        .to_lowercase();
    REPLY_PREFIXES.contains(&head.as_str())
}

/// Reply prefixes in the languages mail clients ship (without the colon). `VS` is left out:
/// Finnish replies with it, but Danish and Norwegian forward with it.
const REPLY_PREFIXES: &[&str] = &[
    "re", "aw", "sv", "antw", "antwort", "r", "rif", "res", "ref", "odp", "ynt", "atb", "отв",
    "回复", "答复", "返信", "回覆",
];

/// True when the subject's first prefix marks a forward (`Fwd:`, `FW:`, `WG:`, `[Fwd: …]`, ...).
pub fn is_forward_subject(subject: &str) -> bool {
    let mut s = subject.trim_start();
    // Tags some gateways put first: "[EXTERNAL] FW: ...". "[Fwd: ...]" itself is a forward.
    while let Some(rest) = s.strip_prefix('[') {
        if starts_with_forward_prefix(rest) {
            return true;
        }
        match rest.find(']') {
            Some(end) => s = rest[end + 1..].trim_start(),
            None => return false,
        }
    }
    starts_with_forward_prefix(s)
}

/// Forward prefixes in the languages mail clients ship (without the colon).
const FORWARD_PREFIXES: &[&str] = &[
    "fwd",
    "fw",
    "fwrd",
    "wg",
    "w.",
    "wtrlt",
    "tr",
    "trs",
    "rv",
    "enc",
    "i",
    "doorst",
    "dtsd",
    "vs",
    "vb",
    "vl",
    "pd",
    "pr",
    "fs",
    "videresend",
    "wl",
    "rif",
    "reenv",
    "пересл",
    "转发",
    "轉寄",
    "転送",
    "πρθ",
];

fn starts_with_forward_prefix(s: &str) -> bool {
    let Some(colon) = s.find([':', '：']) else {
        return false;
    };
    let head = s[..colon].trim();
    // "Fwd[2]" / "FW(3)" counters some clients add.
    let head = head
        .split(['[', '('])
        .next()
        .unwrap_or(head)
        .trim()
        .to_lowercase();
    FORWARD_PREFIXES.contains(&head.as_str())
}

/// The kind of a separator line above a header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// Says "forwarded": a forward whatever the subject.
    Forward(ForwardStyle),
    /// "Original Message" or an underscore rule: a forward only with a forward subject.
    Original(ForwardStyle),
}

const FORWARD_WORDS: &[&str] = &[
    "forwarded message",
    "forwarded by",
    "weitergeleitete nachricht",
    "weitergeleitete e-mail",
    "message transféré",
    "message transfere",
    "mensaje reenviado",
    "correo reenviado",
    "messaggio inoltrato",
    "doorgestuurd bericht",
    "mensagem encaminhada",
    "vidarebefordrat meddelande",
    "videresendt meddelelse",
    "videresendt melding",
    "välitetty viesti",
    "przekazana wiadomość",
    "пересылаемое сообщение",
    "переадресованное сообщение",
];

const ORIGINAL_WORDS: &[&str] = &[
    "original message",
    "original nachricht",
    "originalnachricht",
    "ursprüngliche nachricht",
    "ursprungliche nachricht",
    "message original",
    "message d'origine",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "origineel bericht",
    "mensagem original",
    "ursprungligt meddelande",
    "oprindelig meddelelse",
    "opprinnelig melding",
    "alkuperäinen viesti",
    "oryginalna wiadomość",
    "исходное сообщение",
];

fn separator_of(line: &str) -> Option<Separator> {
    let l = line.trim().to_lowercase();
    if l.is_empty() {
        return None;
    }
    if l.starts_with("begin forwarded message") || l.starts_with("début du message réexpédié") {
        return Some(Separator::Forward(ForwardStyle::AppleMail));
    }
    // An Outlook rule: a line of at least 20 underscores and nothing else.
    if l.len() >= 20 && l.chars().all(|c| c == '_') {
        return Some(Separator::Original(ForwardStyle::Outlook));
    }
    let dashes = l.starts_with("--") || l.starts_with("==");
    if !dashes {
        return None;
    }
    let words = l.trim_matches(|c: char| c == '-' || c == '=' || c.is_whitespace());
    if words.is_empty() || words.len() > 80 {
        return None;
    }
    let eight_dashes = l.starts_with("--------") && !l.starts_with("---------");
    if FORWARD_WORDS.iter().any(|w| words.starts_with(w)) {
        let style = if words == "forwarded message" && l.starts_with("----------") {
            ForwardStyle::Gmail
        } else if words == "forwarded message" && eight_dashes {
            ForwardStyle::Thunderbird
        } else {
            ForwardStyle::Generic
        };
        return Some(Separator::Forward(style));
    }
    if ORIGINAL_WORDS.iter().any(|w| words.starts_with(w)) {
        let style = if words == "original message" && l.starts_with("-----o") {
            ForwardStyle::Outlook
        } else if words == "original message" && eight_dashes {
            ForwardStyle::Thunderbird
        } else {
            ForwardStyle::Generic
        };
        return Some(Separator::Original(style));
    }
    None
}

/// Which header a line of a forward block names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    From,
    Date,
    To,
    Cc,
    Subject,
    ReplyTo,
}

fn key_of(name: &str) -> Option<Key> {
    let n = name.to_lowercase();
    let key = match n.as_str() {
        "from" | "von" | "de" | "da" | "van" | "från" | "fra" | "lähettäjä" | "od" | "от"
        | "feladó" | "kimden" | "差出人" | "发件人" | "寄件者" | "expéditeur" | "remitente" => {
            Key::From
        }
        "date"
        | "sent"
        | "datum"
        | "gesendet"
        | "envoyé"
        | "envoye"
        | "data"
        | "inviato"
        | "enviado"
        | "enviada"
        | "fecha"
        | "verzonden"
        | "skickat"
        | "sendt"
        | "lähetetty"
        | "wysłano"
        | "отправлено"
        | "дата"
        | "送信日時"
        | "日期"
        | "发送时间"
        | "sent at"
        | "date sent" => Key::Date,
        "to" | "an" | "à" | "a" | "para" | "aan" | "till" | "til" | "vastaanottaja" | "do"
        | "кому" | "宛先" | "收件人" | "destinataire" => Key::To,
        "cc" | "kopie" | "copie" | "cópia" | "copia" | "kopia" | "копия" => Key::Cc,
        "subject" | "betreff" | "objet" | "oggetto" | "asunto" | "assunto" | "onderwerp"
        | "ämne" | "emne" | "aihe" | "temat" | "тема" | "件名" | "主题" | "主旨" | "sujet" => {
            Key::Subject
        }
        "reply-to" | "antwort an" | "répondre à" => Key::ReplyTo,
        _ => return None,
    };
    Some(key)
}

/// Split `Key: value` (also `De :`, `*From:*`, tab-separated) into a known key and its value.
fn header_line(line: &str) -> Option<(Key, &str)> {
    let l = line.trim_start_matches(|c: char| c.is_whitespace() || c == '*');
    let colon = l.find([':', '：'])?;
    let name = l[..colon].trim_end_matches(|c: char| c.is_whitespace() || c == '*');
    if name.is_empty() || name.chars().count() > 20 {
        return None;
    }
    let key = key_of(name)?;
    let sep_len = l[colon..].chars().next().map_or(1, char::len_utf8);
    let value = l[colon + sep_len..].trim_start_matches(|c: char| c.is_whitespace() || c == '*');
    Some((key, value.trim_end()))
}

/// One header block found in a body.
#[derive(Debug)]
struct Block {
    separator: Option<Separator>,
    /// The author, when the From line has an address.
    from: Option<Mailbox>,
    /// True when the block has a From line at all.
    has_from: bool,
    subject: Option<String>,
    /// Number of distinct keys seen.
    keys: usize,
    uses_sent: bool,
}

impl Block {
    fn style(&self) -> ForwardStyle {
        match self.separator {
            Some(Separator::Forward(s)) | Some(Separator::Original(s)) => {
                if s == ForwardStyle::Generic && self.uses_sent {
                    ForwardStyle::Outlook
                } else {
                    s
                }
            }
            None if self.uses_sent => ForwardStyle::Outlook,
            None => ForwardStyle::Generic,
        }
    }
}

/// Read the header block starting at `lines[start]` (blank lines may sit between its lines).
/// Returns the block and the index of the first line after it.
fn read_block(lines: &[&str], start: usize, separator: Option<Separator>) -> (Block, usize) {
    let mut block = Block {
        separator,
        from: None,
        has_from: false,
        subject: None,
        keys: 0,
        uses_sent: false,
    };
    let mut seen: Vec<Key> = Vec::new();
    let mut i = start;
    let mut last = start;
    let mut blank_run = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            blank_run += 1;
            // Outlook HTML turned into text puts a blank line between the header lines;
            // two blank lines end the block.
            if blank_run > 1 {
                break;
            }
            i += 1;
            continue;
        }
        let Some((key, value)) = header_line(line) else {
            // The address of a From line can sit on the next line (table cells).
            if seen.last() == Some(&Key::From) && block.from.is_none() && blank_run == 0 {
                block.from = extract_mailbox(line);
                if block.from.is_some() {
                    last = i + 1;
                    i += 1;
                    continue;
                }
            }
            break;
        };
        blank_run = 0;
        if seen.contains(&key) {
            // A second From: the next block begins.
            break;
        }
        seen.push(key);
        match key {
            Key::From => {
                block.has_from = true;
                block.from = extract_mailbox(value);
            }
            Key::Subject => block.subject = Some(value.to_string()),
            Key::Date => {
                let name = line.trim_start_matches(|c: char| c.is_whitespace() || c == '*');
                if name.to_lowercase().starts_with("sent") {
                    block.uses_sent = true;
                }
            }
            Key::To | Key::Cc | Key::ReplyTo => {}
        }
        i += 1;
        last = i;
    }
    block.keys = seen.len();
    (block, last.max(start + 1))
}

/// Result of scanning one body text.
enum Scan {
    Found(Forward),
    /// A forward header block was found, but its author has no address.
    NoAddress,
    Nothing,
}

/// How many lines between a separator and the header block it introduces.
const SEPARATOR_REACH: usize = 3;

fn scan_text(text: &str, forward_subject: bool) -> Scan {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !is_quoted(l) || forward_subject)
        .map(|l| if forward_subject { unquote(l) } else { l })
        .collect();
    let mut accepted: Option<Block> = None;
    let mut pending: Option<(Separator, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(sep) = separator_of(line) {
            pending = Some((sep, i));
            i += 1;
            continue;
        }
        if header_line(line).is_none() {
            if !line.trim().is_empty() {
                // Text between a separator and a block: the separator does not introduce it.
                pending = None;
            }
            i += 1;
            continue;
        }
        let separator = pending
            .take()
            .filter(|(_, at)| i - at <= SEPARATOR_REACH)
            .map(|(s, _)| s);
        let (block, next) = read_block(&lines, i, separator);
        i = next;
        if !block.has_from {
            continue;
        }
        let follows = match (&accepted, block.separator) {
            (_, Some(Separator::Forward(_))) => block.keys >= 2,
            (None, Some(Separator::Original(_))) => forward_subject && block.keys >= 2,
            (None, None) => forward_subject && block.keys >= 3,
            (Some(prev), Some(Separator::Original(_))) => prev_is_forward(prev) && block.keys >= 2,
            (Some(prev), None) => prev_is_forward(prev) && block.keys >= 3,
        };
        if follows {
            accepted = Some(block);
        }
    }
    match accepted {
        Some(block) => match block.from.clone() {
            Some(original) => Scan::Found(Forward {
                original,
                style: block.style(),
            }),
            None => Scan::NoAddress,
        },
        None => Scan::Nothing,
    }
}

fn prev_is_forward(block: &Block) -> bool {
    block.subject.as_deref().is_some_and(is_forward_subject)
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn unquote(line: &str) -> &str {
    line.trim_start().trim_start_matches(['>', ' '])
}

/// The first attached message with a From; followed into its own attachment while the
/// attached message is itself a forward.
fn attached_author(embedded: &[EmbeddedMessage]) -> Option<Forward> {
    let first = embedded.iter().find(|e| e.from.is_some())?;
    let mut current = first;
    while current.subject.as_deref().is_some_and(is_forward_subject) {
        match current.embedded.iter().find(|e| e.from.is_some()) {
            Some(inner) => current = inner,
            None => break,
        }
    }
    current.from.clone().map(|original| Forward {
        original,
        style: ForwardStyle::Attached,
    })
}

/// Take the mailbox out of a From value: `Name <a@b>`, `a@b`, `Name [mailto:a@b]`,
/// `<a@b>`, `a@b (Name)`, `Name <a@b<mailto:a@b>>`.
pub fn extract_mailbox(value: &str) -> Option<Mailbox> {
    let value = value.trim();
    let lower = value.to_lowercase();
    // Prefer an address in brackets or after mailto:, else the first address-like token.
    let preferred = ["mailto:", "<", "["]
        .iter()
        .filter_map(|marker| lower.find(marker).map(|at| at + marker.len()))
        .filter_map(|at| address_at(&lower, at))
        .next();
    let email = match preferred {
        Some(e) => e,
        None => first_address(&lower)?,
    };
    let name_end = value.find(['<', '[', '(']).unwrap_or(value.len());
    let name = value[..name_end]
        .trim()
        .trim_matches(|c: char| c == '"' || c == '\'' || c == '*' || c.is_whitespace())
        .to_string();
    let name = (!name.is_empty() && !name.contains('@')).then_some(name);
    Some(Mailbox { name, email })
}

fn is_addr_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-'=!#$&*/?^`{|}~".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// The address starting exactly at byte `at` of `s`, if there is one.
fn address_at(s: &str, at: usize) -> Option<String> {
    let rest = s.get(at..)?.trim_start();
    let local_len = rest.find(|c: char| !is_addr_char(c)).unwrap_or(rest.len());
    if !rest[local_len..].starts_with('@') {
        return None;
    }
    valid_address(&rest[..local_len], &rest[local_len + 1..])
}

fn first_address(s: &str) -> Option<String> {
    for (at, _) in s.match_indices('@') {
        let local_start = s[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_addr_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if let Some(addr) = valid_address(&s[local_start..at], &s[at + 1..]) {
            return Some(addr);
        }
    }
    None
}

fn valid_address(local: &str, after_at: &str) -> Option<String> {
    let local = local.trim_matches(|c: char| c == '.' || c == '\'');
    let domain_len = after_at
        .find(|c: char| !is_domain_char(c))
        .unwrap_or(after_at.len());
    let domain = after_at[..domain_len].trim_end_matches(['.', '-']);
    let labels_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-'));
    (!local.is_empty() && labels_ok).then(|| format!("{local}@{domain}"))
}

/// A small HTML-to-text pass for finding header blocks: block tags become line breaks,
/// other tags vanish, common entities are decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            out.push_str(&decode_entities(&rest[..lt]));
        }
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim().to_lowercase();
        rest = &after[gt + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(end) = skip_until {
            if tag.starts_with('/') && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "style" | "script" | "head" | "title" if !tag.starts_with('/') => {
                skip_until = Some(match name.as_str() {
                    "style" => "style",
                    "script" => "script",
                    "head" => "head",
                    _ => "title",
                });
            }
            "br" | "p" | "div" | "tr" | "li" | "hr" | "table" | "blockquote" | "h1" | "h2"
            | "h3" | "h4" | "h5" | "h6" => out.push('\n'),
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    if skip_until.is_none() {
        out.push_str(&decode_entities(rest));
    }
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.replace(['\r', '\n'], " ");
    }
    let s = s.replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|&i| i <= 8);
        let decoded = semi.and_then(|i| {
            let name = &after[..i];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, i))
        });
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse::parse;

    fn fwd(raw: &str) -> Option<Forward> {
        detect_forward(&parse(raw.as_bytes()).expect("test message parses"))
    }

    fn original(raw: &str) -> Option<String> {
        fwd(raw).map(|f| f.original.email)
    }

    #[test]
    fn forward_prefixes() {
        for s in [
            "Fwd: x",
            "FW: x",
            "Fw: x",
            "WG: x",
            "TR: x",
            "Tr: x",
            "RV: x",
            "Doorst: x",
            "VS: x",
            "Enc: x",
            "I: x",
            "W.: x",
            "Fwd[2]: x",
            "[Fwd: x]",
            "[EXT] FW: x",
            "  fwd:x",
        ] {
            assert!(is_forward_subject(s), "{s}");
        }
        for s in [
            "Re: Fwd: x",
            "AW: x",
            "Hello",
            "",
            "Forward planning",
            "[ticket#1] hi",
            "Fwd x",
            "Info: x",
        ] {
            assert!(!is_forward_subject(s), "{s}");
        }
    }

    #[test]
    fn gmail_forward() {
        let f = fwd("From: a@team.com\nSubject: Fwd: hi\n\nsee below\n\n---------- Forwarded message ---------\nFrom: Some One <Some@One.com>\nDate: Mon, 1 Dec 2016\nSubject: hi\nTo: a@team.com\n\nbody\n").unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.original.name.as_deref(), Some("Some One"));
        assert_eq!(f.style, ForwardStyle::Gmail);
    }

    #[test]
    fn gmail_separator_counts_without_forward_subject() {
        let f = fwd("From: a@team.com\nSubject: please look\n\n---------- Forwarded message ---------\nFrom: <c@d.org>\nDate: today\n\nbody\n").unwrap();
        assert_eq!(f.original.email, "c@d.org");
    }

    #[test]
    fn outlook_forward_with_mailto() {
        let f = fwd("From: a@team.com\nSubject: FW: hi\n\n-----Original Message-----\nFrom: Some One [mailto:some@one.com]\nSent: Monday, December 1, 2016 1:37 PM\nTo: a@team.com\nSubject: hi\n\nbody\n").unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.style, ForwardStyle::Outlook);
    }

    #[test]
    fn outlook_underscore_rule_and_localized_keys() {
        let raw = "From: a@team.com\nSubject: WG: Rechnung\n\n________________________________\nVon: Kunde <kunde@example.de>\nGesendet: Montag, 1. Dezember 2016\nAn: a@team.com\nBetreff: Rechnung\n\nText\n";
        assert_eq!(original(raw).as_deref(), Some("kunde@example.de"));
        let raw = "From: a@team.com\nSubject: TR: facture\n\n-----Message d'origine-----\nDe : Client <client@example.fr>\nEnvoyé : lundi\nÀ : a@team.com\nObjet : facture\n\nTexte\n";
        assert_eq!(original(raw).as_deref(), Some("client@example.fr"));
        let raw = "From: a@team.com\nSubject: I: fattura\n\n-----Messaggio originale-----\nDa: Cliente <cliente@example.it>\nInviato: lunedì\nA: a@team.com\nOggetto: fattura\n\nTesto\n";
        assert_eq!(original(raw).as_deref(), Some("cliente@example.it"));
        let raw = "From: a@team.com\nSubject: Doorst: factuur\n\n-----Oorspronkelijk bericht-----\nVan: Klant <klant@example.nl>\nVerzonden: maandag\nAan: a@team.com\nOnderwerp: factuur\n\nTekst\n";
        assert_eq!(original(raw).as_deref(), Some("klant@example.nl"));
    }

    #[test]
    fn outlook_bold_markers_from_html_conversion() {
        let raw = "From: a@team.com\nSubject: FW: x\n\n*From:* John Smith <john@example.com<mailto:john@example.com>>\n*Sent:* Monday\n*To:* a@team.com\n*Subject:* x\n\nbody\n";
        assert_eq!(original(raw).as_deref(), Some("john@example.com"));
    }

    #[test]
    fn outlook_reply_is_not_a_forward() {
        let raw = "From: a@team.com\nSubject: RE: hi\n\nThanks!\n\n-----Original Message-----\nFrom: Some One [mailto:some@one.com]\nSent: Monday\nTo: a@team.com\nSubject: hi\n\nbody\n";
        assert_eq!(fwd(raw), None);
        let raw = "From: a@team.com\nSubject: hi\n\nThanks!\n\n________________________________\nFrom: Some One <some@one.com>\nSent: Monday\nTo: a@team.com\n\nbody\n";
        assert_eq!(fwd(raw), None);
    }

    #[test]
    fn apple_mail_forward() {
        let f = fwd("From: a@team.com\nSubject: Fwd: hi\n\nBegin forwarded message:\n\nFrom: Jane Doe <jane@example.com>\nSubject: hi\nDate: 1 December 2016 at 13:37:42 CET\nTo: a@team.com\n\nbody\n").unwrap();
        assert_eq!(f.original.email, "jane@example.com");
        assert_eq!(f.style, ForwardStyle::AppleMail);
    }

    #[test]
    fn thunderbird_forward_from_in_the_middle() {
        let f = fwd("From: a@team.com\nSubject: Fwd: hi\n\n\n\n-------- Forwarded Message --------\nSubject: \thi\nDate: \tMon, 1 Dec 2016 00:13:37 +0100\nFrom: \tSome One <some@one.com>\nTo: \ta@team.com\n\n\n\nbody\n").unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.style, ForwardStyle::Thunderbird);
    }

    #[test]
    fn block_without_separator_needs_forward_subject() {
        let body = "\n\nPlease look.\n\nFrom: Some One <some@one.com>\nTo: Ba Bar <ba@bar.com>\nDate: Mon, 1 Dec 2016\nSubject: hi\n\nHello\n";
        let fw = format!("From: ba@bar.com\nSubject: FW: hi{body}");
        assert_eq!(original(&fw).as_deref(), Some("some@one.com"));
        let plain = format!("From: ba@bar.com\nSubject: hi{body}");
        assert_eq!(original(&plain), None);
    }

    #[test]
    fn block_without_separator_needs_three_lines() {
        let raw = "From: ba@bar.com\nSubject: Fwd: hi\n\nFrom: Some One <some@one.com>\nTo: x@y.com\n\nHello\n";
        assert_eq!(original(raw), None);
    }

    #[test]
    fn reply_quote_is_never_a_forward() {
        let raw = "From: a@team.com\nSubject: Fwd: hi\n\nOn Mon, 1 Dec 2016, Some One <some@one.com> wrote:\n> hello\n> there\n";
        assert_eq!(fwd(raw), None);
        let raw = "From: a@team.com\nSubject: Re: hi\n\nyes\n\n> From: Some One <some@one.com>\n> Date: Mon\n> Subject: hi\n> To: a@team.com\n";
        assert_eq!(fwd(raw), None);
    }

    #[test]
    fn quoted_forward_block_counts_with_forward_subject() {
        let raw = "From: a@team.com\nSubject: Fwd: hi\n\n> From: Some One <some@one.com>\n> Date: Mon\n> Subject: hi\n> To: a@team.com\n>\n> hello\n";
        assert_eq!(original(raw).as_deref(), Some("some@one.com"));
    }

    #[test]
    fn chain_of_forwards_gives_innermost() {
        let raw = "From: a@team.com\nSubject: Fwd: Fw: hi\n\n---------- Forwarded message ---------\nFrom: Middle <middle@example.com>\nDate: Tue\nSubject: Fw: hi\nTo: a@team.com\n\n-----Original Message-----\nFrom: Inner <inner@example.com>\nSent: Mon\nTo: middle@example.com\nSubject: hi\n\nbody\n";
        assert_eq!(original(raw).as_deref(), Some("inner@example.com"));
    }

    #[test]
    fn reply_quote_inside_forward_is_not_followed() {
        let raw = "From: a@team.com\nSubject: Fwd: Re: hi\n\n---------- Forwarded message ---------\nFrom: Customer <customer@example.com>\nDate: Tue\nSubject: Re: hi\nTo: a@team.com\n\nmy answer\n\n-----Original Message-----\nFrom: Other <other@example.com>\nSent: Mon\nTo: customer@example.com\nSubject: hi\n\nbody\n";
        assert_eq!(original(raw).as_deref(), Some("customer@example.com"));
    }

    #[test]
    fn forward_header_without_address_gives_none() {
        let raw = "From: a@team.com\nSubject: FW: hi\n\n-----Original Message-----\nFrom: Smith, John\nSent: Monday\nTo: Support\nSubject: hi\n\nbody\n";
        assert_eq!(fwd(raw), None);
    }

    #[test]
    fn address_on_the_next_line() {
        let raw = "From: a@team.com\nSubject: Fwd: hi\n\n-------- Forwarded Message --------\nSubject: hi\nFrom:\nJane <jane@example.com>\nTo: a@team.com\n\nbody\n";
        assert_eq!(original(raw).as_deref(), Some("jane@example.com"));
    }

    #[test]
    fn html_only_forward() {
        let raw = "From: a@team.com\nSubject: Fw: hi\nContent-Type: text/html\n\n<div><b>Von:</b>&nbsp;&quot;Kunde&quot; &lt;Kunde@Example.de&gt;<br/><b>An:</b>&nbsp;a@team.com<br/><b>Betreff:</b>&nbsp;hi</div><div>text</div>\n";
        assert_eq!(original(raw).as_deref(), Some("kunde@example.de"));
    }

    #[test]
    fn thunderbird_html_table() {
        let raw = "From: a@team.com\nSubject: Fwd: test\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>see</p><div class=\"moz-forward-container\"><br><br>-------- Forwarded Message --------\n<table class=\"moz-email-headers-table\"><tbody><tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">Subject: </th><td>test</td></tr><tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">Date: </th><td>Mon, 1 Dec 2016 00:13:37 +0100</td></tr><tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">From: </th><td>Some One <a class=\"moz-txt-link-rfc2396E\" href=\"mailto:some@one.com\">&lt;some@one.com&gt;</a></td></tr><tr><th>To: </th><td>a@team.com</td></tr></tbody></table><br>body</div></body></html>\n";
        let f = fwd(raw).unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.style, ForwardStyle::Thunderbird);
    }

    #[test]
    fn outlook_html_without_separator_line() {
        let raw = "From: a@team.com\nSubject: FW: test\nContent-Type: text/html; charset=utf-8\n\n<html><body><p class=MsoNormal>see below</p><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>From:</b> Some One &lt;some@one.com&gt; <br><b>Sent:</b> Monday, December 1, 2016 1:37 PM<br><b>To:</b> Team &lt;a@team.com&gt;<br><b>Subject:</b> test</p></div><p class=MsoNormal>body</p></body></html>\n";
        let f = fwd(raw).unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.style, ForwardStyle::Outlook);
    }

    #[test]
    fn gmail_bold_name() {
        let raw = "From: a@team.com\nSubject: Fwd: hi\n\n---------- Forwarded message ---------\nFrom: *Some One* <some@one.com>\nDate: Mon\nSubject: hi\nTo: <a@team.com>\n\nbody\n";
        let f = fwd(raw).unwrap();
        assert_eq!(f.original.email, "some@one.com");
        assert_eq!(f.original.name.as_deref(), Some("Some One"));
    }

    #[test]
    fn attached_message() {
        let raw = "From: a@team.com\nSubject: see attached\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nlook\n--b\nContent-Type: message/rfc822\n\nFrom: Orig <orig@example.com>\nSubject: help\n\nplease help\n--b--\n";
        let f = fwd(raw).unwrap();
        assert_eq!(f.original.email, "orig@example.com");
        assert_eq!(f.style, ForwardStyle::Attached);
    }

    #[test]
    fn reply_prefixes() {
        for s in ["Re: x", "AW: x", "SV: x", "RES: x", "Re[2]: x", "re:x"] {
            assert!(is_reply_subject(s), "{s}");
        }
        for s in ["Fwd: x", "Regarding x", "VS: x", "Hello"] {
            assert!(!is_reply_subject(s), "{s}");
        }
    }

    #[test]
    fn reply_with_forward_inside_is_not_a_forward() {
        let raw = "From: a@team.com\nSubject: RE: FW: hi\n\nok\n\n---------- Forwarded message ---------\nFrom: Some One <some@one.com>\nDate: Mon\nSubject: hi\n\nbody\n";
        assert_eq!(fwd(raw), None);
    }

    const TWO_ATTACHED: &str = "From: a@team.com\nSubject: SUBJ\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee both\n--b\nContent-Type: message/rfc822\n\nFrom: one@example.com\nSubject: a\n\na\n--b\nContent-Type: message/rfc822\n\nFrom: two@example.com\nSubject: b\n\nb\n--b--\n";

    #[test]
    fn several_attached_messages_need_a_forward_subject() {
        assert_eq!(fwd(&TWO_ATTACHED.replace("SUBJ", "evidence")), None);
        assert_eq!(fwd(&TWO_ATTACHED.replace("SUBJ", "Re: evidence")), None);
        let f = fwd(&TWO_ATTACHED.replace("SUBJ", "Fwd: two mails")).unwrap();
        assert_eq!(f.original.email, "one@example.com");
    }

    #[test]
    fn attached_forward_chain_is_followed() {
        let raw = "From: a@team.com\nSubject: look\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: message/rfc822\n\nFrom: mid@example.com\nSubject: Fwd: help\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\ny\n--c\nContent-Type: message/rfc822\n\nFrom: inner@example.com\nSubject: help\n\nz\n--c--\n--b--\n";
        assert_eq!(original(raw).as_deref(), Some("inner@example.com"));
        // An attached message that merely has an attachment itself is not a chain.
        let plain = raw.replace("Subject: Fwd: help", "Subject: my files");
        assert_eq!(original(&plain).as_deref(), Some("mid@example.com"));
    }

    #[test]
    fn bounce_with_returned_original_is_not_a_forward() {
        let raw = "From: MAILER-DAEMON@mx.test\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/rfc822\n\nFrom: me@example.com\nSubject: hi\n\nhi\n--b--\n";
        assert_eq!(fwd(raw), None);
    }

    #[test]
    fn plain_mail_is_not_a_forward() {
        assert_eq!(
            fwd("From: a@b.com\nSubject: hi\n\nFrom: here to there.\nDate: tomorrow\n"),
            None
        );
        assert_eq!(
            fwd("From: a@b.com\nSubject: Fwd: hi\n\nnothing here\n"),
            None
        );
    }

    #[test]
    fn mailbox_forms() {
        let cases = [
            ("Name <A@B.com>", "a@b.com", Some("Name")),
            ("a@b.com", "a@b.com", None),
            ("<a@b.com>", "a@b.com", None),
            (
                "Some One [mailto:some@one.com]",
                "some@one.com",
                Some("Some One"),
            ),
            ("\"Smith, J\" <j@x.org>", "j@x.org", Some("Smith, J")),
            ("j@x.org (John)", "j@x.org", None),
            (
                "John <john@x.com<mailto:john@x.com>>",
                "john@x.com",
                Some("John"),
            ),
            (
                "Un Français <un@francais.fr>",
                "un@francais.fr",
                Some("Un Français"),
            ),
        ];
        for (input, email, name) in cases {
            let m = extract_mailbox(input).unwrap();
            assert_eq!(m.email, email, "{input}");
            assert_eq!(m.name.as_deref(), name, "{input}");
        }
        assert_eq!(extract_mailbox("John Smith"), None);
        assert_eq!(extract_mailbox("a@b"), None);
        assert_eq!(extract_mailbox("@b.com"), None);
    }

    #[test]
    fn html_to_text_basics() {
        let t = html_to_text("<html><head><style>p{}</style></head><body><p>A&amp;B</p>x<br>&lt;y&gt;&#233;</body></html>");
        assert!(t.contains("A&B"));
        assert!(t.contains("<y>é"));
        assert!(!t.contains("p{}"));
    }

    #[test]
    fn style_names() {
        assert_eq!(ForwardStyle::AppleMail.as_str(), "apple-mail");
        assert_eq!(
            serde_json::to_string(&ForwardStyle::AppleMail).unwrap(),
            "\"apple-mail\""
        );
    }
}
