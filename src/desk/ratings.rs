//! Customers rating replies (pure): each reply from a channel with `ratings = true`
//! ends with three links ("Good", "Okay", "Not good"); the link's MAC proves which reply
//! it came with, so nobody can rate a reply they did not get. The reports count them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::outbound::template::html_escape;

/// What a customer thought of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// It helped.
    Good,
    /// It was all right.
    Okay,
    /// It did not help.
    Bad,
}

impl Rating {
    /// Every rating, best first (the order of the links and buttons).
    pub const ALL: [Rating; 3] = [Rating::Good, Rating::Okay, Rating::Bad];

    /// The name stored and used in links.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Okay => "okay",
            Rating::Bad => "bad",
        }
    }

    /// The rating named `s`.
    pub fn parse(s: &str) -> Option<Rating> {
        Rating::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What the customer and the agents read.
    pub fn label(self) -> &'static str {
        match self {
            Rating::Good => "Good",
            Rating::Okay => "Okay",
            Rating::Bad => "Not good",
        }
    }
}

/// Hex digits of MAC in a rating link: 64 bits, for a link that lives as long as the mail.
const MAC_HEX: usize = 16;

/// The MAC that ties a rating link to the reply with Message-ID `message_id`.
pub fn reply_mac(secret: &[u8], message_id: &str) -> String {
    // An HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"frontdesk-rating:");
    mac.update(message_id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..MAC_HEX / 2])
}

/// Whether `mac`, from a link, is the one of the reply with Message-ID `message_id`.
pub fn mac_matches(secret: &[u8], message_id: &str, mac: &str) -> bool {
    let want = reply_mac(secret, message_id);
    // Same length first; then every byte compared, so timing tells nothing.
    want.len() == mac.len()
        && want
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b.to_ascii_lowercase()))
            == 0
}

/// The rating page of a reply: `{public_url}/rate/{ticket}/{mac}`.
pub fn page_url(public_url: &str, ticket: i64, mac: &str) -> String {
    format!("{}/rate/{ticket}/{mac}", public_url.trim_end_matches('/'))
}

/// What a reply's links ask.
pub const REPLY_QUESTION: &str = "How was this reply?";

/// What the survey after closing asks.
pub const SURVEY_QUESTION: &str = "How did we do?";

/// The question and its three links, as text: a line each.
pub fn footer_text(question: &str, page: &str) -> String {
    let mut out = format!("{question}\n");
    for r in Rating::ALL {
        out.push_str(&format!("{}: {page}?r={}\n", r.label(), r.as_str()));
    }
    out
}

/// The question and its three links, as HTML.
pub fn footer_html(question: &str, page: &str) -> String {
    let links: Vec<String> = Rating::ALL
        .iter()
        .map(|r| {
            format!(
                "<a href=\"{}?r={}\">{}</a>",
                html_escape(page),
                r.as_str(),
                r.label()
            )
        })
        .collect();
    format!(
        "<p class=\"rating\">{} {}</p>\n",
        html_escape(question),
        links.join(" · ")
    )
}

/// A reply's text without the question and links [`footer_text`] put under it (and the
/// blank line before them), when it holds them: replies stored before the thread kept
/// them out still have them, and an agent clicking one would rate their own reply.
/// Any other text comes back as it is.
pub fn without_rating_links(text: &str) -> std::borrow::Cow<'_, str> {
    let question = format!("\n{REPLY_QUESTION}\n");
    let mut from = 0;
    while let Some(found) = text[from..].find(&question) {
        let start = from + found;
        let links_at = start + question.len();
        if let Some(len) = rating_links_len(&text[links_at..]) {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start]);
            out.push_str(&text[links_at + len..]);
            return std::borrow::Cow::Owned(out);
        }
        from = start + 1;
    }
    std::borrow::Cow::Borrowed(text)
}

/// The length of the three link lines [`footer_text`] writes, if `text` starts with them.
fn rating_links_len(text: &str) -> Option<usize> {
    let mut len = 0;
    let mut page: Option<&str> = None;
    for r in Rating::ALL {
        let line_end = text[len..].find('\n')?;
        let line = &text[len..len + line_end];
        let link = line.strip_prefix(r.label())?.strip_prefix(": ")?;
        let this_page = link.strip_suffix(&format!("?r={}", r.as_str()))?;
        let (_, tail) = this_page.rsplit_once("/rate/")?;
        let (ticket, mac) = tail.split_once('/')?;
        let well_formed = !ticket.is_empty()
            && ticket.bytes().all(|b| b.is_ascii_digit())
            && mac.len() == MAC_HEX
            && mac.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed || page.is_some_and(|p| p != this_page) {
            return None;
        }
        page = Some(this_page);
        len += line_end + 1;
    }
    Some(len)
}

/// Ratings counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Good.
    pub good: usize,
    /// Okay.
    pub okay: usize,
    /// Not good.
    pub bad: usize,
}

impl Tally {
    /// Count one more.
    pub fn add(&mut self, r: Rating) {
        match r {
            Rating::Good => self.good += 1,
            Rating::Okay => self.okay += 1,
            Rating::Bad => self.bad += 1,
        }
    }

    /// How many in all.
    pub fn total(&self) -> usize {
        self.good + self.okay + self.bad
    }

    /// "2 of 3" good, or "–" for none (a table's cell).
    pub fn good_of_all(&self) -> String {
        match self.total() {
            0 => "–".into(),
            n => format!("{} of {n}", self.good),
        }
    }

    /// "5 good, 1 okay, 1 not good (71 % good)", or "none yet".
    pub fn words(&self) -> String {
        match self.total() {
            0 => "none yet".into(),
            n => format!(
                "{} good, {} okay, {} not good ({} % good)",
                self.good,
                self.okay,
                self.bad,
                (self.good * 100 + n / 2) / n
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_round_trip_by_name() {
        for r in Rating::ALL {
            assert_eq!(Rating::parse(r.as_str()), Some(r));
        }
        assert_eq!(Rating::parse("great"), None);
        assert_eq!(Rating::parse("GOOD"), None);
        assert_eq!(Rating::Bad.label(), "Not good");
    }

    #[test]
    fn a_mac_names_one_reply_under_one_secret() {
        let a = reply_mac(b"secret", "r1@acme.test");
        assert_eq!(a.len(), MAC_HEX);
        assert_eq!(a, reply_mac(b"secret", "r1@acme.test"), "stable");
        assert_ne!(a, reply_mac(b"secret", "r2@acme.test"));
        assert_ne!(a, reply_mac(b"other", "r1@acme.test"));
        assert!(mac_matches(b"secret", "r1@acme.test", &a));
        assert!(mac_matches(b"secret", "r1@acme.test", &a.to_uppercase()));
        assert!(!mac_matches(b"secret", "r2@acme.test", &a));
        assert!(!mac_matches(b"secret", "r1@acme.test", &a[..15]));
        assert!(!mac_matches(b"secret", "r1@acme.test", ""));
        let mut wrong = a.clone();
        wrong.replace_range(..1, if a.starts_with('0') { "1" } else { "0" });
        assert!(!mac_matches(b"secret", "r1@acme.test", &wrong));
    }

    #[test]
    fn the_footer_links_each_rating_to_the_page() {
        let page = page_url("https://desk.acme.test/", 42, "00ff");
        assert_eq!(page, "https://desk.acme.test/rate/42/00ff");
        assert_eq!(
            footer_text(REPLY_QUESTION, &page),
            "How was this reply?\n\
             Good: https://desk.acme.test/rate/42/00ff?r=good\n\
             Okay: https://desk.acme.test/rate/42/00ff?r=okay\n\
             Not good: https://desk.acme.test/rate/42/00ff?r=bad\n"
        );
        let html = footer_html(REPLY_QUESTION, "https://x.test/a&b\"/rate/1/ab");
        assert!(
            html.contains("<a href=\"https://x.test/a&amp;b&quot;/rate/1/ab?r=bad\">Not good</a>"),
            "{html}"
        );
    }

    #[test]
    fn a_stored_reply_loses_its_rating_links_and_nothing_else() {
        let page = page_url("https://desk.acme.test", 42, "00ff00ff00ff00ff");
        let signed = "Done.\n\n--\nAcme\n";
        let sent = format!("{signed}\n{}", footer_text(REPLY_QUESTION, &page));
        assert_eq!(without_rating_links(&sent), signed);
        // The quote under the links stays.
        let quoted = format!("{sent}\nOlga wrote:\n> It squeaks.\n");
        assert_eq!(
            without_rating_links(&quoted),
            format!("{signed}\nOlga wrote:\n> It squeaks.\n")
        );
        // Text that only looks like it, or a customer's quote of it, is left alone.
        for kept in [
            signed.to_string(),
            "How was this reply?\nGood: fine\n".to_string(),
            format!("{signed}\nHow was this reply?\nGood: {page}?r=good\nOkay: {page}?r=okay\n"),
            format!(
                "{signed}\nHow was this reply?\nGood: {page}?r=good\nOkay: {}?r=okay\nNot good: {page}?r=bad\n",
                page_url("https://desk.acme.test", 43, "00ff00ff00ff00ff")
            ),
            format!("{signed}\nHow was this reply?\nGood: https://x.test/rate/42/zz?r=good\nOkay: https://x.test/rate/42/zz?r=okay\nNot good: https://x.test/rate/42/zz?r=bad\n"),
            format!("> {}", footer_text(REPLY_QUESTION, &page).replace('\n', "\n> ")),
        ] {
            assert_eq!(without_rating_links(&kept), kept.as_str());
        }
    }

    #[test]
    fn a_tally_says_how_many_were_good() {
        let mut t = Tally::default();
        assert_eq!(t.words(), "none yet");
        for r in [
            Rating::Good,
            Rating::Good,
            Rating::Okay,
            Rating::Bad,
            Rating::Good,
        ] {
            t.add(r);
        }
        assert_eq!(t.total(), 5);
        assert_eq!(t.words(), "3 good, 1 okay, 1 not good (60 % good)");
        assert_eq!(t.good_of_all(), "3 of 5");
        assert_eq!(Tally::default().good_of_all(), "–");
        let two_of_three = Tally {
            good: 2,
            okay: 0,
            bad: 1,
        };
        assert_eq!(
            two_of_three.words(),
            "2 good, 0 okay, 1 not good (67 % good)"
        );
    }
}
