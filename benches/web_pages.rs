//! Web page benchmark (issue 6, "Performance"): a store filled with 100,000 tickets and
//! 500,000 messages, then the inbox, ticket and search pages driven by `wrk` at 16
//! connections, beside `wrk` fetching a static file from the same daemon in the same
//! run (the ceiling). Prints requests/s, latency percentiles, the ratio to the static
//! rate, frontdeskd's peak RSS and the database size.
//!
//! Run: `cargo bench --bench web_pages` (see bench/README.md for the knobs).
//!
//! The fill goes through the real ingest path in-process (`Pipeline::ingest`, many
//! concurrent tasks so the group-commit writer batches) and is cached under
//! `target/bench-web/<tickets>/`; a rerun only starts `frontdeskd` on it.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::*;

const WRITTEN_BY: &str = "benches/web_pages.rs";
/// Bump when the generated mail, the desk actions or the store's layout change: a cached
/// fill with another version is rebuilt (3: schema 9, the raw mail in its own table; a
/// fill migrated to it keeps the old table's pages free inside a file twice the size;
/// 4: schema 10, the inbox indexes by activity).
const FILL_VERSION: u64 = 4;
/// Seed of the generated mail (each ticket's thread comes from its own RNG).
const FILL_SEED: u64 = 0x5EED_0006;
/// Concurrent ingest tasks during the fill (each feeds one thread at a time, in order).
const FILL_TASKS: usize = 128;

/// The agents; the first one signs in and drives the pages.
const AGENTS: &[(&str, &str)] = &[
    ("alex.morgan@example.com", "Alex Morgan"),
    ("bea.kowalczyk@example.com", "Bea Kowalczyk"),
    ("chidi.okeke@example.com", "Chidi Okeke"),
    ("dana.lindqvist@example.com", "Dana Lindqvist"),
    ("emile.rousseau@example.com", "Émile Rousseau"),
];
/// The signed-in agent's password (a throw-away database).
const PASSWORD: &str = "bench-web-pages-password";
/// A team with the signed-in agent in it, so "My teams" is a real query.
const TEAM: (&str, &[&str]) = (
    "tier1",
    &["alex.morgan@example.com", "dana.lindqvist@example.com"],
);

/// (name, address, share of tickets in percent).
const CHANNELS: &[(&str, &str, u32)] = &[
    ("support", "support@example.com", 60),
    ("sales", "sales@example.com", 20),
    ("billing", "billing@example.com", 20),
];

/// The channels of the config. With `routing`, billing's new tickets are routed to three
/// agents (the routing query runs inside every ingest of that channel).
fn channels_toml(routing: bool) -> String {
    let mut out = String::new();
    for (name, address, _) in CHANNELS {
        let _ = write!(
            out,
            "[[channel]]\nkind = \"email\"\nname = \"{name}\"\naddress = \"{address}\"\nforward_original_sender = true\n"
        );
        match *name {
            "sales" => out.push_str("[channel.ticket]\npriority = \"low\"\n"),
            "billing" => {
                out.push_str("[channel.ticket]\npriority = \"high\"\n");
                if routing {
                    let _ = write!(
                        out,
                        "[channel.routing]\nmode = \"users_and_teams\"\nusers = [\"{}\", \"{}\", \"{}\"]\n",
                        AGENTS[0].0, AGENTS[1].0, AGENTS[2].0
                    );
                }
            }
            _ => {}
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------- settings

struct Settings {
    tickets: usize,
    per_ticket: usize,
    seconds: u64,
    warmup: u64,
    conns: Vec<usize>,
    threads: usize,
    only: Option<Vec<String>>,
    refill: bool,
    paths: Paths,
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let tickets = env_usize("FRONTDESK_BENCH_TICKETS", 100_000)?;
        let per_ticket = env_usize("FRONTDESK_BENCH_PER_TICKET", 5)?;
        if tickets == 0 || per_ticket == 0 {
            bail!("FRONTDESK_BENCH_TICKETS and FRONTDESK_BENCH_PER_TICKET must be at least 1");
        }
        let seconds = env_usize("FRONTDESK_BENCH_SECONDS", 15)?.max(1) as u64;
        let warmup = env_usize("FRONTDESK_BENCH_WARMUP", 3)? as u64;
        let threads = env_usize("FRONTDESK_BENCH_WRK_THREADS", 2)?.max(1);
        let conns = env_conns(&[16])?;
        if conns.iter().any(|&c| c < threads) {
            bail!(
                "FRONTDESK_BENCH_CONNS: wrk needs at least one connection per thread ({threads})"
            );
        }
        let only = match std::env::var("FRONTDESK_BENCH_TARGETS") {
            Ok(v) if !v.trim().is_empty() => Some(
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            _ => None,
        };
        Ok(Settings {
            tickets,
            per_ticket,
            seconds,
            warmup,
            conns,
            threads,
            only,
            refill: std::env::var_os("FRONTDESK_BENCH_REFILL")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            paths: Paths::from_env(),
        })
    }

    /// `target/bench-web/<tickets>/` (`<tickets>x<per_ticket>` for other thread lengths).
    fn cache_dir(&self) -> PathBuf {
        let name = if self.per_ticket == 5 {
            self.tickets.to_string()
        } else {
            format!("{}x{}", self.tickets, self.per_ticket)
        };
        self.paths.target_dir.join("bench-web").join(name)
    }
}

// ---------------------------------------------------------------- the generated mail

/// (as written, ASCII for the address).
const FIRST: &[(&str, &str)] = &[
    ("Anna", "anna"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Jürgen", "juergen"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("François", "francois"),
    ("Chloé", "chloe"),
    ("Ömer", "oemer"),
    ("Mei", "mei"),
    ("Aiko", "aiko"),
    ("Liam", "liam"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Mateo", "mateo"),
    ("Sofía", "sofia"),
    ("Lars", "lars"),
    ("Ingrid", "ingrid"),
    ("Rahul", "rahul"),
    ("Priya", "priya"),
    ("Kwame", "kwame"),
    ("Fatima", "fatima"),
    ("Dmitri", "dmitri"),
    ("Agnieszka", "agnieszka"),
    ("Hannah", "hannah"),
    ("Lucas", "lucas"),
    ("Marta", "marta"),
    ("Björn", "bjoern"),
    ("Siobhán", "siobhan"),
];
const LAST: &[(&str, &str)] = &[
    ("Müller", "mueller"),
    ("Núñez", "nunez"),
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Kowalski", "kowalski"),
    ("Dubois", "dubois"),
    ("Rossi", "rossi"),
    ("Yamamoto", "yamamoto"),
    ("Chen", "chen"),
    ("Johansson", "johansson"),
    ("O'Brien", "obrien"),
    ("Novák", "novak"),
    ("Schröder", "schroeder"),
    ("Jensen", "jensen"),
    ("Patel", "patel"),
    ("Okafor", "okafor"),
    ("Ivanova", "ivanova"),
    ("Silva", "silva"),
    ("Martin", "martin"),
    ("Brown", "brown"),
    ("Lefèvre", "lefevre"),
    ("Åberg", "aberg"),
    ("Kim", "kim"),
    ("Nguyen", "nguyen"),
    ("Fischer", "fischer"),
];
const DOMAINS: &[(&str, &str)] = &[
    ("contoso.example", "Contoso Ltd."),
    ("fabrikam.example", "Fabrikam GmbH"),
    ("northwind.example", "Northwind Traders"),
    ("tailspin.example", "Tailspin Toys"),
    ("wingtip.example", "Wingtip Toys"),
    ("adatum.example", "A. Datum Corporation"),
    ("litware.example", "Litware Inc."),
    ("proseware.example", "Proseware SARL"),
    ("woodgrove.example", "Woodgrove Bank"),
    ("mailbox.example", ""),
    ("webmail.example", ""),
    ("posteo.example", ""),
];
/// Products: each ticket is about one (and mentions another); the search words.
const PRODUCTS: &[&str] = &[
    "printer",
    "router",
    "laptop",
    "invoice",
    "subscription",
    "dashboard",
    "app",
    "password",
    "account",
    "shipment",
    "refund",
    "license",
    "backup",
    "calendar",
    "webhook",
    "firmware",
    "scanner",
    "headset",
    "monitor",
    "vpn",
    "mailbox",
    "export",
    "report",
    "integration",
    "checkout",
    "coupon",
    "warranty",
    "delivery",
    "keyboard",
    "tablet",
    "thermostat",
    "camera",
];
const PROBLEMS: &[&str] = &[
    "does not start any more",
    "keeps disconnecting",
    "shows an error after the update",
    "was charged twice",
    "is missing from my account",
    "cannot be renewed",
    "is extremely slow since Monday",
    "stopped syncing",
    "arrived damaged",
    "fails after the latest firmware",
    "rejects my credit card",
    "expired earlier than expected",
    "sends me the wrong notifications",
    "lost all our settings",
    "cannot be exported to CSV",
    "shows the wrong VAT number",
];
const ERRORS: &[&str] = &[
    "0x80070005",
    "E-1023 timeout",
    "HTTP 502 Bad Gateway",
    "certificate expired",
    "license key invalid",
    "device not found",
];
const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "the weekend",
    "yesterday",
    "last week",
];
const EN: &[&str] = &[
    "Since {day} our {p} {problem}.",
    "I have already restarted the {p} twice and checked the cables, but nothing changed.",
    "The error message says \"{err}\" and then the {p} {problem2}.",
    "We bought it in spring with order number {order}, the serial number is {serial}.",
    "Could you please tell me whether this is covered by the warranty?",
    "Our accounting team needs a corrected invoice before the end of the month.",
    "This is blocking {k} people in our office, so an answer today would be great.",
    "I attached a screenshot of the settings page to my first message.",
    "After the last update the {p} asks for my password every few minutes.",
    "We also use the {p2} with the same account, and that one works fine.",
    "Is there a way to export our data before you reset the {p}?",
    "The tracking page has not changed for {k} days.",
    "Please cancel the automatic renewal for our second office.",
    "I followed the steps from your help article, but step {k} fails every time.",
    "It worked fine until we moved to the new office network on {day}.",
    "Our IT department checked the firewall and nothing is blocked on our side.",
    "Can you send someone to look at it, or should we ship the {p} back to you?",
    "We are a small team and depend on the {p} for our daily work.",
    "If you need remote access, I am available between nine and five.",
    "The same thing happened in March and your colleague fixed it within a day.",
];
const DE: &[&str] = &[
    "Seit {day} funktioniert der {p} leider nicht mehr richtig.",
    "Die Lieferung ist beschädigt angekommen, die Verpackung war völlig durchnässt.",
    "Können Sie mir bitte eine korrigierte Rechnung schicken?",
    "Wir haben das Gerät schon zweimal neu gestartet – ohne Erfolg.",
    "Für eine schnelle Rückmeldung wäre ich Ihnen sehr dankbar.",
    "Die Fehlermeldung lautet „{err}“.",
];
const FR: &[&str] = &[
    "Je n'arrive plus à me connecter à mon compte depuis ce matin.",
    "La facture reçue ne correspond pas à notre commande {order}.",
    "Pourriez-vous vérifier l'état de la livraison, s'il vous plaît ?",
    "Nous avons déjà réinitialisé le {p} deux fois, sans succès.",
    "Le message d'erreur indique « {err} ».",
];
const ES: &[&str] = &[
    "¿Pueden ayudarme con la factura del mes pasado?",
    "El {p} no enciende desde la última actualización.",
    "Necesitamos una solución urgente, gracias de antemano.",
    "Ya probamos reiniciar el equipo, pero el problema continúa.",
];
const RU: &[&str] = &[
    "Заказ {order} до сих пор не доставлен.",
    "Пожалуйста, проверьте статус возврата.",
    "После обновления {p} работает очень медленно.",
];
const JA: &[&str] = &[
    "注文 {order} がまだ届いていません。",
    "請求書を再発行していただけますか。",
    "アップデート後、{p} が起動しなくなりました。",
];
const FOLLOW_UPS: &[&str] = &[
    "Thanks for the quick answer.",
    "Any news on this? We still have the problem.",
    "Following up on my previous message below.",
    "I tried what you suggested, but unfortunately it did not help.",
    "Quick update: it happened again this morning.",
    "Thank you, that partly solved it.",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    De,
    Fr,
    Es,
    Ru,
    Ja,
}

struct Person {
    name: String,
    email: String,
    domain: &'static str,
    company: &'static str,
    lang: Lang,
}

/// Contact number `c`: a stable name, address and language.
fn person(c: usize) -> Person {
    let f = FIRST[c % FIRST.len()];
    let l = LAST[(c / FIRST.len()) % LAST.len()];
    let (domain, company) = DOMAINS[(c / 7) % DOMAINS.len()];
    let n = c / (FIRST.len() * LAST.len());
    let suffix = if n == 0 { String::new() } else { n.to_string() };
    let lang = match c % 40 {
        0..=2 => Lang::De,
        3 | 4 => Lang::Fr,
        5 => Lang::Es,
        6 => Lang::Ru,
        7 => Lang::Ja,
        _ => Lang::En,
    };
    Person {
        name: format!("{} {}", f.0, l.0),
        email: format!("{}.{}{suffix}@{domain}", f.1, l.1),
        domain,
        company,
        lang,
    }
}

/// A header value with non-ASCII text as RFC 2047 encoded words (UTF-8, base64).
fn encode_words(s: &str) -> String {
    use base64::Engine as _;
    if s.is_ascii() {
        return s.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for ch in s.chars() {
        if chunk.len() + ch.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn mailbox(p: &Person) -> String {
    let name = if p.name.is_ascii() {
        format!("\"{}\"", p.name)
    } else {
        encode_words(&p.name)
    };
    format!("{name} <{}>", p.email)
}

/// Quoted-printable (RFC 2045) with CRLF lines.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 5 / 4);
    for line in text.split('\n') {
        let mut col = 0;
        for &b in line.as_bytes() {
            let enc = if (b == b' ' || b == b'\t' || b.is_ascii_graphic()) && b != b'=' {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if col + enc.len() > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            out.push_str(&enc);
            col += enc.len();
        }
        out.push_str("\r\n");
    }
    out
}

/// Wrap plain text at 72 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for word in text.split(' ') {
        let w = word.chars().count();
        if col > 0 && col + 1 + w > 72 {
            out.push('\n');
            col = 0;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

/// One thread of the fill: who, where, about what.
struct Plan {
    channel: usize,
    customer: Person,
    colleague: Option<Person>,
    product: &'static str,
    product2: &'static str,
    problem: &'static str,
    subject: String,
    order: String,
    serial: String,
    start: i64,
}

/// The plan of thread `t` (deterministic: the same fill every time).
fn plan(t: usize, contacts: usize, rng: &mut StdRng) -> Plan {
    let roll = rng.gen_range(0..100u32);
    let mut acc = 0;
    let channel = CHANNELS
        .iter()
        .position(|c| {
            acc += c.2;
            roll < acc
        })
        .unwrap_or(0);
    // A fifth of the tickets come from 500 frequent customers; the rest spread out.
    let c = if rng.gen_bool(0.2) {
        rng.gen_range(0..contacts.min(500))
    } else {
        rng.gen_range(0..contacts)
    };
    let customer = person(c);
    let colleague = rng.gen_bool(0.25).then(|| {
        let mut p = person(c + 1 + rng.gen_range(0..FIRST.len()));
        let local = p.email.split('@').next().unwrap_or("colleague").to_string();
        p.email = format!("{local}@{}", customer.domain);
        p.domain = customer.domain;
        p.company = customer.company;
        p
    });
    let product = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    let product2 = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    let problem = pick(rng, PROBLEMS);
    let order = format!("FD-{}", rng.gen_range(10_000..99_999));
    let cap = |s: &str| {
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect::<String>(),
            None => String::new(),
        }
    };
    let subject = match (customer.lang, rng.gen_range(0..4)) {
        (Lang::De, _) => format!(
            "{}: Problem mit Bestellung {order} – bitte prüfen",
            cap(product)
        ),
        (Lang::Fr, _) => format!("Problème avec {product} (commande {order})"),
        (Lang::Es, _) => format!("Consulta sobre {product} – pedido {order}"),
        (Lang::Ru, _) => format!("Проблема: {product}, заказ {order}"),
        (Lang::Ja, _) => format!("{product} の不具合について（注文 {order}）"),
        (_, 0) => format!("Order {order}: {product} {problem}"),
        (_, 1) => format!("URGENT: {product} {problem}"),
        _ => format!("{} {problem}", cap(product)),
    };
    Plan {
        channel,
        customer,
        colleague,
        product,
        product2,
        problem,
        subject,
        serial: format!("SN{:08X}", rng.gen::<u32>()),
        order,
        // Threads start a few minutes apart over about a year.
        start: 1_700_000_000 + t as i64 * 311,
    }
}

fn sentence(rng: &mut StdRng, p: &Plan, lang: Lang) -> String {
    let list = match lang {
        Lang::En => EN,
        Lang::De => DE,
        Lang::Fr => FR,
        Lang::Es => ES,
        Lang::Ru => RU,
        Lang::Ja => JA,
    };
    pick(rng, list)
        .replace("{day}", pick(rng, DAYS))
        .replace("{problem2}", pick(rng, PROBLEMS))
        .replace("{problem}", p.problem)
        .replace("{p2}", p.product2)
        .replace("{p}", p.product)
        .replace("{err}", pick(rng, ERRORS))
        .replace("{order}", &p.order)
        .replace("{serial}", &p.serial)
        .replace("{k}", &rng.gen_range(2..12).to_string())
}

/// The paragraphs of one message (English mixed into other languages, as real mail is).
fn paragraphs(rng: &mut StdRng, p: &Plan, sender: &Person, k: usize) -> Vec<String> {
    let mut out = Vec::new();
    if k > 0 {
        out.push(pick(rng, FOLLOW_UPS).to_string());
    }
    let n = rng.gen_range(2..=4);
    for i in 0..n {
        out.push(paragraph(rng, p, sender, i == 0));
    }
    out
}

/// One paragraph of 2–4 sentences, in the sender's language or in English.
fn paragraph(rng: &mut StdRng, p: &Plan, sender: &Person, first: bool) -> String {
    let lang = if sender.lang != Lang::En && (first || rng.gen_bool(0.5)) {
        sender.lang
    } else {
        Lang::En
    };
    let sentences = rng.gen_range(2..=4);
    let para: Vec<String> = (0..sentences).map(|_| sentence(rng, p, lang)).collect();
    para.join(" ")
}

fn greeting(rng: &mut StdRng, lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Guten Tag,",
        Lang::Fr => "Bonjour,",
        Lang::Es => "Hola,",
        Lang::Ru => "Здравствуйте,",
        Lang::Ja => "お世話になっております。",
        Lang::En => pick(
            rng,
            &["Hello support team,", "Hi,", "Dear Sir or Madam,", "Hello,"],
        ),
    }
}

fn closing(rng: &mut StdRng, lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Mit freundlichen Grüßen",
        Lang::Fr => "Cordialement,",
        Lang::Es => "Saludos,",
        Lang::Ru => "С уважением,",
        Lang::Ja => "よろしくお願いいたします。",
        Lang::En => pick(
            rng,
            &["Best regards,", "Thanks,", "Kind regards,", "Cheers,"],
        ),
    }
}

/// Smallest and largest generated message (the issue asks for 2–4 KB help-desk mail).
const MIN_MAIL: usize = 2150;
const MAX_MAIL: usize = 3950;

/// One message's parts, drawn once, so it can be rendered again with more or fewer
/// paragraphs and quoted lines until its size fits.
struct Draft<'a> {
    sender: &'a Person,
    cc: Option<&'a Person>,
    address: &'static str,
    id: &'a str,
    refs: &'a [String],
    date: i64,
    subject: String,
    hello: &'static str,
    bye: &'static str,
    signature: String,
    ip: u8,
    qid: u64,
    agent: &'static str,
    /// multipart/alternative: (boundary, remote logo image in the signature).
    html: Option<(String, bool)>,
    /// The message answered: (sender line, its own text, date).
    previous: Option<&'a (String, String, i64)>,
}

impl Draft<'_> {
    /// The sender's own words (greeting to signature), LF lines.
    fn own_text(&self, paras: &[String]) -> String {
        let first_name = self.sender.name.split(' ').next().unwrap_or("");
        let mut text = format!("{}\n\n", self.hello);
        for para in paras {
            text.push_str(&wrap(para));
            text.push_str("\n\n");
        }
        let _ = write!(text, "{}\n{first_name}\n\n{}\n", self.bye, self.signature);
        text
    }

    /// RFC 5322 bytes with CRLF lines.
    fn render(&self, paras: &[String], quote_lines: usize) -> Vec<u8> {
        let sender = self.sender;
        let text = self.own_text(paras);
        let quote = self
            .previous
            .filter(|_| quote_lines > 0)
            .map(|(who, prev, at)| {
                let lines: Vec<&str> = prev.lines().take(quote_lines).collect();
                (
                    format!("On {}, {who} wrote:", frontdesk::model::rfc2822(*at)),
                    lines,
                )
            });
        let mut full_text = text;
        if let Some((attribution, lines)) = &quote {
            let _ = writeln!(full_text, "\n{attribution}");
            for l in lines {
                full_text.push_str(if l.is_empty() { ">" } else { "> " });
                full_text.push_str(l);
                full_text.push('\n');
            }
        }
        let date = frontdesk::model::rfc2822(self.date);
        let mut raw = String::with_capacity(MAX_MAIL + 1024);
        let _ = write!(
            raw,
            "Return-Path: <{email}>\r\n\
             Received: from mail.{domain} (mail.{domain} [198.51.100.{ip}])\r\n\
             \tby mx.example.com (Postfix) with ESMTPS id {qid:X}\r\n\
             \tfor <{address}>; {date}\r\n\
             Message-ID: <{id}>\r\n\
             Date: {date}\r\n\
             From: {from}\r\n\
             To: Support <{address}>\r\n",
            email = sender.email,
            domain = sender.domain,
            ip = self.ip,
            qid = self.qid,
            address = self.address,
            id = self.id,
            from = mailbox(sender),
        );
        if let Some(c) = self.cc {
            let _ = write!(raw, "Cc: {}\r\n", mailbox(c));
        }
        let _ = write!(raw, "Subject: {}\r\n", encode_words(&self.subject));
        if let Some(last) = self.refs.last() {
            let _ = write!(raw, "In-Reply-To: <{last}>\r\n");
            let refs: Vec<String> = self.refs.iter().map(|i| format!("<{i}>")).collect();
            let _ = write!(raw, "References: {}\r\n", refs.join("\r\n "));
        }
        let _ = write!(raw, "X-Mailer: {}\r\nMIME-Version: 1.0\r\n", self.agent);
        let cte = if full_text.is_ascii() { "7bit" } else { "8bit" };
        let crlf = |s: &str| s.replace('\n', "\r\n");
        match &self.html {
            Some((boundary, logo)) => {
                // multipart/alternative with an HTML part, as Outlook and webmail send it.
                let first_name = sender.name.split(' ').next().unwrap_or("");
                let mut html = String::from(
                    "<html><head><meta charset=\"utf-8\"></head><body><div dir=\"ltr\" style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px\">",
                );
                let _ = write!(html, "<p>{}</p>", html_escape(self.hello));
                for para in paras {
                    let _ = write!(html, "<p>{}</p>", html_escape(para));
                }
                let _ = write!(
                    html,
                    "<p>{}<br>{}</p><div class=\"signature\" style=\"color:#555\">{}",
                    html_escape(self.bye),
                    html_escape(first_name),
                    html_escape(&self.signature).replace('\n', "<br>")
                );
                if *logo {
                    let _ = write!(
                        html,
                        "<br><img src=\"https://www.{}/logo.png\" width=\"120\" height=\"40\" alt=\"{}\">",
                        sender.domain,
                        html_escape(sender.company)
                    );
                }
                html.push_str("</div>");
                if let Some((attribution, lines)) = &quote {
                    let _ = write!(
                        html,
                        "<div class=\"gmail_quote\"><p>{}</p><blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">{}</blockquote></div>",
                        html_escape(attribution),
                        html_escape(&lines.join("\n")).replace('\n', "<br>\n")
                    );
                }
                html.push_str("</div></body></html>");
                let _ = write!(
                    raw,
                    "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
                     This is a multi-part message in MIME format.\r\n\r\n\
                     --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{}\r\n\
                     --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\
                     --{boundary}--\r\n",
                    crlf(&full_text),
                    quoted_printable(&html),
                );
            }
            None => {
                let _ = write!(
                    raw,
                    "Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{}",
                    crlf(&full_text)
                );
            }
        }
        raw.into_bytes()
    }
}

/// Every message of thread `t`, in order: RFC 5322 bytes (CRLF), the envelope sender and
/// the channel. Replies carry In-Reply-To and References to everything before them and
/// quote the message they answer; each message is grown or trimmed (paragraphs, quoted
/// lines) to 2–4 KB.
fn thread_messages(t: usize, per: usize, contacts: usize) -> (usize, Vec<(String, Vec<u8>)>) {
    let mut rng = StdRng::seed_from_u64(FILL_SEED ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let p = plan(t, contacts, &mut rng);
    let (_, address, _) = CHANNELS[p.channel];
    let mut ids: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut previous: Option<(String, String, i64)> = None;
    let mut date = p.start;
    for k in 0..per {
        let sender = match &p.colleague {
            Some(c) if k > 0 && rng.gen_bool(0.3) => c,
            _ => &p.customer,
        };
        let id = format!("{t:x}.{k}.{:08x}@mail.{}", rng.gen::<u32>(), sender.domain);
        let mut paras = paragraphs(&mut rng, &p, sender, k);
        let signature = if sender.company.is_empty() {
            format!("-- \n{}", sender.name)
        } else {
            format!(
                "-- \n{}\n{}\nPhone +49 30 {:07}",
                sender.name,
                sender.company,
                rng.gen_range(1_000_000..9_999_999)
            )
        };
        let html = rng.gen_bool(0.35).then(|| {
            (
                format!("----=_Part_{t}_{k}_{:x}", rng.gen::<u32>()),
                !sender.company.is_empty() && rng.gen_bool(0.5),
            )
        });
        let draft = Draft {
            sender,
            cc: p.colleague.as_ref().filter(|_| k == 0),
            address,
            id: &id,
            refs: &ids,
            date,
            subject: if k == 0 {
                p.subject.clone()
            } else {
                format!("Re: {}", p.subject)
            },
            hello: greeting(&mut rng, sender.lang),
            bye: closing(&mut rng, sender.lang),
            signature,
            ip: rng.gen_range(1..255),
            qid: rng.gen::<u64>() & 0xFFFF_FFFF_FFFF,
            agent: pick(
                &mut rng,
                &[
                    "Microsoft Outlook 16.0",
                    "Mozilla Thunderbird 115.6",
                    "Apple Mail (2.3774)",
                    "Roundcube Webmail/1.6.5",
                ],
            ),
            html,
            previous: previous.as_ref(),
        };
        let mut quote_lines = 14;
        let mut raw = draft.render(&paras, quote_lines);
        while raw.len() < MIN_MAIL && paras.len() < 12 {
            paras.push(paragraph(&mut rng, &p, sender, false));
            raw = draft.render(&paras, quote_lines);
        }
        while raw.len() > MAX_MAIL && (quote_lines > 0 || paras.len() > 1) {
            if quote_lines > 0 {
                quote_lines = quote_lines.saturating_sub(4);
            } else {
                paras.pop();
            }
            raw = draft.render(&paras, quote_lines);
        }
        let own = draft.own_text(&paras);
        out.push((sender.email.clone(), raw));
        previous = Some((format!("{} <{}>", sender.name, sender.email), own, date));
        ids.push(id);
        date += rng.gen_range(600..3 * 86_400);
    }
    (p.channel, out)
}

/// The search box queries the search target cycles through: product words (about 3 %
/// of the threads each), words in most mail, two-word queries, half-typed words (the
/// last word is a prefix), a contact's name and non-ASCII words.
const SEARCHES: &[&str] = &[
    "printer",
    "invoice",
    "refund",
    "firmware",
    "password",
    "shipment",
    "warranty",
    "webhook",
    "calendar",
    "thermostat",
    "error",
    "update",
    "printer firmware",
    "refund invoice",
    "router disconnecting",
    "subscr",
    "warr",
    "certificate expired",
    "müller",
    "sofia garcia",
    "beschädigt",
    "connecter",
    "factura",
    "0x80070005",
];

/// Filters the `search-filtered` target adds to each of [`SEARCHES`].
const SEARCH_FILTERS: &[&str] = &["is:open", "is:closed", "owner:me", "owner:none"];

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- the fill

/// What `fill.json` records about a cached fill.
struct FillInfo {
    json: serde_json::Value,
}

impl FillInfo {
    fn num(&self, key: &str) -> f64 {
        self.json
            .get(key)
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN)
    }
}

fn frontdeskctl(paths: &Paths, fd: &Frontdesk, args: &[&str], stdin: Option<&str>) -> Result<()> {
    let mut cmd = Command::new(&paths.frontdeskctl);
    cmd.arg("--socket")
        .arg(fd.socket())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("running frontdeskctl")?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "frontdeskctl {} failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The cached fill, made if missing (or with another version, or on request).
fn ensure_fill(s: &Settings) -> Result<FillInfo> {
    let dir = s.cache_dir();
    let info_path = dir.join("fill.json");
    if !s.refill {
        if let Ok(text) = std::fs::read_to_string(&info_path) {
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", info_path.display()))?;
            if json.get("version").and_then(|v| v.as_u64()) == Some(FILL_VERSION) {
                eprintln!(
                    "bench: using the cached fill in {} (made in {:.0} s; FRONTDESK_BENCH_REFILL=1 remakes it)",
                    dir.display(),
                    json.get("fill_seconds").and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
                );
                return Ok(FillInfo { json });
            }
            eprintln!(
                "bench: the cached fill in {} is from another version of this bench; remaking it",
                dir.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)?;
    let json = fill(s, &partial)?;
    std::fs::write(
        partial.join("fill.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    std::fs::rename(&partial, &dir)
        .with_context(|| format!("renaming {} to {}", partial.display(), dir.display()))?;
    Ok(FillInfo { json })
}

fn fill(s: &Settings, dir: &Path) -> Result<serde_json::Value> {
    let started = Instant::now();
    let n_messages = s.tickets * s.per_ticket;
    eprintln!(
        "bench: filling {} with {} tickets × {} messages = {n_messages} messages (once; cached)",
        dir.display(),
        s.tickets,
        s.per_ticket
    );

    // 1. Agents the way an admin adds them: frontdeskctl against a daemon on the new
    //    data dir (no routing yet: the config may only name agents that exist).
    {
        let mut fd = Frontdesk::start(&s.paths, dir, WRITTEN_BY, &channels_toml(false))?;
        for (email, name) in AGENTS {
            frontdeskctl(
                &s.paths,
                &fd,
                &["users", "add", "--seat", "--name", name, email],
                None,
            )?;
        }
        frontdeskctl(
            &s.paths,
            &fd,
            &["users", "passwd", AGENTS[0].0],
            Some(&format!("{PASSWORD}\n")),
        )?;
        frontdeskctl(&s.paths, &fd, &["teams", "add", TEAM.0], None)?;
        let mut args = vec!["teams", "members", TEAM.0];
        for m in TEAM.1 {
            args.extend(["--add", m]);
        }
        frontdeskctl(&s.paths, &fd, &args, None)?;
        let stop = fd.stop();
        if !stop.exit.starts_with("exit 0") {
            bail!("the set-up frontdeskd did not stop cleanly: {}", stop.exit);
        }
    }

    // 2. The messages, through the real ingest path in this process.
    let config_path = dir.join("frontdesk.toml");
    std::fs::write(
        &config_path,
        Frontdesk::config_text(dir, WRITTEN_BY, &channels_toml(true)),
    )?;
    let config = frontdesk::config::Config::load(&config_path)
        .map_err(|e| anyhow!("{e}"))
        .context("loading the bench config")?;
    let data_dir = config.daemon.data_dir.clone();
    let pipelines = config.pipelines.clone();
    let store = frontdesk::store::Store::open(&data_dir).map_err(|e| anyhow!("{e}"))?;
    let pipeline = frontdesk::pipeline::Pipeline::new(config, store.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let contacts = (s.tickets / 4).max(1);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let raw_bytes = Arc::new(AtomicU64::new(0));
    let ingest_started = Instant::now();
    let (tickets, per) = (s.tickets, s.per_ticket);
    let result: Result<(usize, usize)> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..FILL_TASKS {
            let (pipeline, next, done, raw_bytes) = (
                pipeline.clone(),
                next.clone(),
                done.clone(),
                raw_bytes.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut odd = 0usize; // messages not threaded as expected
                let mut merges = 0usize;
                loop {
                    let t = next.fetch_add(1, Ordering::Relaxed);
                    if t >= tickets {
                        break;
                    }
                    let (channel, msgs) = thread_messages(t, per, contacts);
                    let (name, address, _) = CHANNELS[channel];
                    let mut ticket = None;
                    for (k, (from, raw)) in msgs.into_iter().enumerate() {
                        raw_bytes.fetch_add(raw.len() as u64, Ordering::Relaxed);
                        let inbound = frontdesk::ingest::Inbound {
                            channel: name.to_string(),
                            raw,
                            envelope_from: Some(from),
                            recipients: vec![address.to_string()],
                            source: frontdesk::model::Source::Lmtp,
                            historical: false,
                            imap: None,
                        };
                        let outcome = pipeline
                            .ingest(inbound)
                            .await
                            .map_err(|e| anyhow!("ingest of thread {t} message {k}: {e}"))?;
                        if (k == 0) != outcome.new_ticket
                            || outcome.duplicate
                            || (k > 0 && ticket != Some(outcome.ticket_id))
                        {
                            odd += 1;
                        }
                        merges += outcome.merged.len();
                        ticket = Some(outcome.ticket_id);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok::<_, anyhow::Error>((odd, merges))
            }));
        }
        let progress = {
            let done = done.clone();
            tokio::spawn(async move {
                let mut last = (Instant::now(), 0usize);
                loop {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    let d = done.load(Ordering::Relaxed);
                    let rate = (d - last.1) as f64 / last.0.elapsed().as_secs_f64();
                    eprintln!(
                        "bench:   {d} / {} messages ({rate:.0} msgs/s, {:.0} s)",
                        tickets * per,
                        ingest_started.elapsed().as_secs_f64()
                    );
                    last = (Instant::now(), d);
                }
            })
        };
        let mut total = (0, 0);
        let mut first_err = None;
        for t in tasks {
            match t.await {
                Ok(Ok((odd, merges))) => {
                    total.0 += odd;
                    total.1 += merges;
                }
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(anyhow!("fill task failed: {e}"));
                }
            }
        }
        progress.abort();
        match first_err {
            Some(e) => Err(e),
            None => Ok(total),
        }
    });
    let (odd, merges) = result?;
    let ingest_seconds = ingest_started.elapsed().as_secs_f64();
    eprintln!(
        "bench: ingested {n_messages} messages in {ingest_seconds:.1} s ({:.0} msgs/s); {odd} not threaded as planned, {merges} merges",
        n_messages as f64 / ingest_seconds
    );

    // 3. Desk work, through the same store calls the web page and frontdeskctl make:
    //    tickets assigned by hand (billing's were routed at ingest) and moved along
    //    the pipeline, so the views hold a realistic mix.
    let desk_started = Instant::now();
    let tickets_in_db: Vec<(i64, String)> = {
        let conn = open_db_readonly(&data_dir.join("frontdesk.db"))?;
        let mut stmt =
            conn.prepare("SELECT id, channel FROM tickets WHERE merged_into IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let plan_of = |id: i64| {
        let mut rng = StdRng::seed_from_u64(
            FILL_SEED ^ 0xDE5C ^ (id as u64).wrapping_mul(0xA24B_AED4_963E_E407),
        );
        let assign = rng.gen_bool(0.3).then(|| {
            // The signed-in agent gets about a third of what is assigned by hand.
            if rng.gen_bool(0.34) {
                AGENTS[0].0
            } else {
                AGENTS[rng.gen_range(1..AGENTS.len())].0
            }
        });
        let roll = rng.gen_range(0..100);
        let status = match roll {
            0..=49 => Some("Closed"),
            50..=61 => Some("Waiting on contact"),
            62..=69 => Some("Waiting on us"),
            _ => None,
        };
        (assign, status)
    };
    let work: Vec<(i64, Option<&'static str>, Option<&'static str>)> = tickets_in_db
        .iter()
        .map(|(id, channel)| {
            let (assign, status) = plan_of(*id);
            (*id, assign.filter(|_| channel != "billing"), status)
        })
        .collect();
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..FILL_TASKS {
            let (store, work, next, pipelines) =
                (store.clone(), work.clone(), next.clone(), pipelines.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(id, assign, status)) = work.get(i) else {
                        break;
                    };
                    if let Some(agent) = assign {
                        store
                            .assign(
                                id,
                                frontdesk::store::Assignment::Agent(agent.to_string()),
                                agent.to_string(),
                            )
                            .await
                            .map_err(|e| anyhow!("assigning ticket {id}: {e}"))?;
                    }
                    if let Some(stage) = status {
                        store
                            .change_status(
                                id,
                                stage.to_string(),
                                pipelines.clone(),
                                AGENTS[1].0.to_string(),
                            )
                            .await
                            .map_err(|e| anyhow!("moving ticket {id} to {stage}: {e}"))?;
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await.map_err(|e| anyhow!("desk task failed: {e}"))??;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let desk_seconds = desk_started.elapsed().as_secs_f64();
    drop(pipeline);
    drop(rt);
    store.close();
    let fill_seconds = started.elapsed().as_secs_f64();

    // 4. What is in it.
    let conn = open_db_readonly(&data_dir.join("frontdesk.db"))?;
    let q = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let stored_tickets = q("SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL")?;
    let stored_messages = q("SELECT COUNT(*) FROM messages")?;
    let html_messages = q("SELECT COUNT(*) FROM messages WHERE html_body IS NOT NULL")?;
    let stored_contacts = q("SELECT COUNT(*) FROM contacts")?;
    let schema = q("PRAGMA user_version")?;
    let mine_open = {
        let mut stmt =
            conn.prepare("SELECT COUNT(*) FROM tickets WHERE owner = ?1 AND closed = 0")?;
        stmt.query_row([AGENTS[0].0], |r| r.get::<_, i64>(0))?
    };
    let unassigned_open = q("SELECT COUNT(*) FROM tickets WHERE owner IS NULL AND closed = 0")?;
    let open = q("SELECT COUNT(*) FROM tickets WHERE closed = 0")?;
    drop(conn);
    if stored_tickets != s.tickets as i64 || stored_messages != n_messages as i64 {
        bail!(
            "the fill stored {stored_tickets} tickets and {stored_messages} messages, wanted {} and {n_messages}",
            s.tickets
        );
    }
    let raw = raw_bytes.load(Ordering::Relaxed);
    eprintln!(
        "bench: desk work in {desk_seconds:.1} s; fill done in {fill_seconds:.1} s: {stored_tickets} tickets ({open} open, \
         {unassigned_open} open unassigned, {mine_open} open for {}), {stored_messages} messages ({html_messages} with HTML, \
         {:.1} KiB average), {stored_contacts} contacts, database {:.0} MiB",
        AGENTS[0].0,
        raw as f64 / n_messages as f64 / 1024.0,
        mib(dir_size(&data_dir))
    );
    Ok(serde_json::json!({
        "version": FILL_VERSION,
        "tickets": stored_tickets,
        "messages": stored_messages,
        "per_ticket": s.per_ticket,
        "html_messages": html_messages,
        "contacts": stored_contacts,
        "open": open,
        "unassigned_open": unassigned_open,
        "mine_open": mine_open,
        "raw_bytes": raw,
        "not_threaded_as_planned": odd,
        "merges": merges,
        "ingest_seconds": ingest_seconds,
        "desk_seconds": desk_seconds,
        "fill_seconds": fill_seconds,
        "agent": AGENTS[0].0,
        "schema": schema,
    }))
}

// ---------------------------------------------------------------- wrk

/// Every script gets this: per-thread counts of answers other than 200 (a lost session
/// shows up as a 303 to /login, which wrk itself would not count), and a `done` hook
/// printing exact percentiles from wrk's latency histogram (microseconds).
const LUA_PRELUDE: &str = r#"
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  not200 = 0
  first_bad = 0
  math.randomseed(id * 7919 + os.time())
end
function response(status, headers, body)
  if status ~= 200 then
    not200 = not200 + 1
    if first_bad == 0 then first_bad = status end
  end
end
function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("not200")
    local f = t:get("first_bad")
    if first == 0 and f ~= 0 then first = f end
  end
  io.write(string.format("BENCH requests %d\n", summary.requests))
  io.write(string.format("BENCH duration_us %d\n", summary.duration))
  io.write(string.format("BENCH bytes %d\n", summary.bytes))
  for _, p in ipairs({50, 90, 95, 99, 99.9}) do
    io.write(string.format("BENCH p%s %d\n", tostring(p), latency:percentile(p)))
  end
  io.write(string.format("BENCH max %d\n", latency.max))
  io.write(string.format("BENCH mean %.1f\n", latency.mean))
  io.write(string.format("BENCH err_connect %d\n", summary.errors.connect))
  io.write(string.format("BENCH err_read %d\n", summary.errors.read))
  io.write(string.format("BENCH err_write %d\n", summary.errors.write))
  io.write(string.format("BENCH err_timeout %d\n", summary.errors.timeout))
  io.write(string.format("BENCH not200 %d\n", bad))
  io.write(string.format("BENCH first_bad %d\n", first))
end
"#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Static,
    Inbox,
    Ticket,
    Search,
}

struct Target {
    name: String,
    /// What is fetched, for the report.
    what: String,
    /// The URL path wrk is given (scripts with `request()` replace it).
    path: String,
    /// Lua appended to the prelude.
    lua: String,
    kind: Kind,
}

/// The issue's targets: inbox and ticket p99 < 25 ms, search p95 < 50 ms, every page at
/// least 0.3× the static file's rate.
fn verdict(kind: Kind, r: &WrkRun, static_rate: Option<f64>) -> (String, bool) {
    let ratio = static_rate.filter(|s| *s > 0.0).map(|s| r.rate() / s);
    let (label, lat_ok) = match kind {
        Kind::Static => return ("ceiling".into(), true),
        Kind::Inbox | Kind::Ticket => ("p99 < 25 ms, ≥ 0.30×", r.p99_ms() < 25.0),
        Kind::Search => ("p95 < 50 ms, ≥ 0.30×", r.p95_ms() < 50.0),
    };
    let ratio_ok = ratio.is_some_and(|q| q >= 0.30);
    let mut missed = Vec::new();
    if !lat_ok {
        missed.push(if kind == Kind::Search { "p95" } else { "p99" });
    }
    if !ratio_ok {
        missed.push("rate");
    }
    if missed.is_empty() {
        (format!("{label}: MET"), true)
    } else {
        (format!("{label}: MISSED ({})", missed.join(", ")), false)
    }
}

#[derive(Default, Clone)]
struct WrkRun {
    target: usize,
    conns: usize,
    requests: u64,
    seconds: f64,
    bytes: u64,
    /// Microseconds.
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    p999: f64,
    max: f64,
    not200: u64,
    first_bad: u64,
    socket_errors: u64,
    socket_detail: String,
    /// frontdeskd's CPU seconds during the run, and the machine's.
    server_cpu: Option<f64>,
    machine_cpu: f64,
    /// wrk's CPU seconds.
    client_cpu: f64,
    /// frontdeskd's VmRSS right after the run.
    rss_kib: Option<u64>,
}

impl WrkRun {
    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }
    fn p95_ms(&self) -> f64 {
        self.p95 / 1000.0
    }
    fn p99_ms(&self) -> f64 {
        self.p99 / 1000.0
    }
    fn failures(&self) -> u64 {
        self.not200 + self.socket_errors
    }
}

/// One wrk run against `target`; `Ok` also when requests failed (counted in the result).
#[allow(clippy::too_many_arguments)]
fn run_wrk(
    s: &Settings,
    scratch: &Path,
    http: std::net::SocketAddr,
    cookie: &str,
    targets: &[Target],
    index: usize,
    conns: usize,
    seconds: u64,
    pid: u32,
) -> Result<WrkRun> {
    let t = &targets[index];
    let script = scratch.join(format!("{}.lua", t.name));
    std::fs::write(&script, format!("{LUA_PRELUDE}\n{}", t.lua))?;
    let url = format!("http://{http}{}", t.path);
    let c0 = proc_cpu_seconds(pid);
    let m0 = machine_cpu();
    // Output to files, so the child can be reaped with wait4 for its CPU time.
    let out_path = scratch.join(format!("{}-{conns}c.out", t.name));
    let err_path = scratch.join(format!("{}-{conns}c.err", t.name));
    let mut child = Command::new("wrk")
        .arg(format!("-t{}", s.threads))
        .arg(format!("-c{conns}"))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "30s", "--latency", "-s"])
        .arg(&script)
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()
        .context("running wrk")?;
    let (status, usage) = wait_rusage(&mut child)?;
    let m1 = machine_cpu();
    let c1 = proc_cpu_seconds(pid);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !status.success() {
        bail!(
            "wrk failed for {} ({status}):\n{stdout}{}",
            t.name,
            std::fs::read_to_string(&err_path).unwrap_or_default()
        );
    }
    let mut r = WrkRun {
        target: index,
        conns,
        server_cpu: c0.zip(c1).map(|(a, b)| b - a),
        machine_cpu: m1 - m0,
        client_cpu: usage.cpu_seconds,
        rss_kib: proc_status_kib(pid, "VmRSS:"),
        ..Default::default()
    };
    let mut seen = 0;
    let mut socket = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("BENCH ") else {
            continue;
        };
        let Some((key, value)) = rest.split_once(' ') else {
            continue;
        };
        let v: f64 = value
            .trim()
            .parse()
            .with_context(|| format!("wrk output line {line:?}"))?;
        seen += 1;
        match key {
            "requests" => r.requests = v as u64,
            "duration_us" => r.seconds = v / 1e6,
            "bytes" => r.bytes = v as u64,
            "p50" => r.p50 = v,
            "p90" => r.p90 = v,
            "p95" => r.p95 = v,
            "p99" => r.p99 = v,
            "p99.9" => r.p999 = v,
            "max" => r.max = v,
            "not200" => r.not200 = v as u64,
            "first_bad" => r.first_bad = v as u64,
            k if k.starts_with("err_") => {
                r.socket_errors += v as u64;
                if v > 0.0 {
                    socket.push(format!("{} {}", &k[4..], v as u64));
                }
            }
            _ => {}
        }
    }
    if seen < 10 {
        bail!("wrk printed no results for {}:\n{stdout}", t.name);
    }
    r.socket_detail = socket.join(", ");
    Ok(r)
}

// ---------------------------------------------------------------- set-up over HTTP

/// Sign in as the agent: POST /login, the session cookie from the 303.
fn sign_in(http: std::net::SocketAddr) -> Result<String> {
    let body = format!(
        "email={}&password={}",
        url_encode(AGENTS[0].0),
        url_encode(PASSWORD)
    );
    let r = http_request(
        http,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )?;
    if r.status != 303 {
        bail!("POST /login answered {}:\n{}", r.status, r.text());
    }
    let set = r
        .header("set-cookie")
        .ok_or_else(|| anyhow!("POST /login set no cookie"))?;
    let cookie = set.split(';').next().unwrap_or("").trim().to_string();
    if !cookie.contains('=') || cookie.ends_with('=') {
        bail!("POST /login set an empty cookie: {set:?}");
    }
    Ok(cookie)
}

/// GET a page as the agent; it must answer 200.
fn get_page(http: std::net::SocketAddr, cookie: &str, path: &str) -> Result<String> {
    let r = http_request(http, "GET", path, &[("Cookie", cookie)], b"")?;
    if r.status != 200 {
        bail!("GET {path} answered {} (expected 200)", r.status);
    }
    Ok(r.text())
}

/// The "Older tickets" keyset link of an inbox page.
fn next_link(page: &str) -> Option<String> {
    let at = page.find(r#"<a class="next" href=""#)?;
    let rest = &page[at + r#"<a class="next" href=""#.len()..];
    let end = rest.find('"')?;
    Some(rest[..end].replace("&amp;", "&"))
}

/// The ticket numbers of an inbox page's rows.
fn row_ids(page: &str) -> Vec<i64> {
    page.split(r#"data-ticket=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

fn targets(
    s: &Settings,
    first_ticket: i64,
    last_ticket: i64,
    page2: Option<String>,
    queue: &[i64],
) -> Vec<Target> {
    let mut v = vec![
        Target {
            name: "static".into(),
            what: "/static/app.css".into(),
            path: "/static/app.css".into(),
            lua: String::new(),
            kind: Kind::Static,
        },
        Target {
            name: "inbox-all".into(),
            what: "/inbox?view=all".into(),
            path: "/inbox?view=all".into(),
            lua: String::new(),
            kind: Kind::Inbox,
        },
        Target {
            name: "inbox-mine".into(),
            what: "/inbox?view=mine".into(),
            path: "/inbox?view=mine".into(),
            lua: String::new(),
            kind: Kind::Inbox,
        },
        Target {
            name: "inbox-unassigned".into(),
            what: "/inbox?view=unassigned".into(),
            path: "/inbox?view=unassigned".into(),
            lua: String::new(),
            kind: Kind::Inbox,
        },
    ];
    // The same page under a URL never asked for before: the daemon keeps rendered pages
    // until something is written, so this is the render itself (the per-agent counts
    // are still kept: they too change only with a write).
    v.push(Target {
        name: "inbox-all-uncached".into(),
        what: "/inbox?view=all&n=<random>".into(),
        path: "/inbox?view=all".into(),
        lua: "function request()\n  return wrk.format(\"GET\", \"/inbox?view=all&n=\" .. math.random(1, 1000000000))\nend\n".into(),
        kind: Kind::Inbox,
    });
    if let Some(p2) = page2 {
        v.push(Target {
            name: "inbox-all-page2".into(),
            what: p2.clone(),
            path: p2,
            lua: String::new(),
            kind: Kind::Inbox,
        });
    }
    v.push(Target {
        name: "ticket".into(),
        what: format!("/tickets/<random {first_ticket}..{last_ticket}>"),
        path: "/tickets/1".into(),
        lua: format!(
            "function request()\n  return wrk.format(\"GET\", \"/tickets/\" .. math.random({first_ticket}, {last_ticket}))\nend\n"
        ),
        kind: Kind::Ticket,
    });
    // The tickets an agent works through: the first page of "mine", opened in any order
    // again and again. Kept rendered until something is written, like the inbox views.
    if let Some(&first_of_queue) = queue.first() {
        let ids: Vec<String> = queue.iter().map(i64::to_string).collect();
        v.push(Target {
            name: "ticket-queue".into(),
            what: format!("/tickets/<random of my {} open>", queue.len()),
            path: format!("/tickets/{first_of_queue}"),
            lua: format!(
                "local ids = {{{}}}\nfunction request()\n  return wrk.format(\"GET\", \"/tickets/\" .. ids[math.random(1, #ids)])\nend\n",
                ids.join(", ")
            ),
            kind: Kind::Ticket,
        });
    }
    let queries: Vec<String> = SEARCHES
        .iter()
        .map(|q| format!("\"/search?q={}\"", url_encode(q)))
        .collect();
    v.push(Target {
        name: "search".into(),
        what: format!("/search?q=<random of {} queries>", SEARCHES.len()),
        path: "/search?q=printer".into(),
        lua: format!(
            "local paths = {{ {} }}\nfunction request()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n",
            queries.join(", ")
        ),
        kind: Kind::Search,
    });
    v.push(Target {
        name: "search-uncached".into(),
        what: format!("/search?q=<random of {} queries>&n=<random>", SEARCHES.len()),
        path: "/search?q=printer".into(),
        lua: format!(
            "local paths = {{ {} }}\nfunction request()\n  return wrk.format(\"GET\", paths[math.random(#paths)] .. \"&n=\" .. math.random(1, 1000000000))\nend\n",
            queries.join(", ")
        ),
        kind: Kind::Search,
    });
    // The same words narrowed by a filter of the ticket (see `desk::search`), uncached.
    let filtered: Vec<String> = SEARCHES
        .iter()
        .flat_map(|q| {
            SEARCH_FILTERS
                .iter()
                .map(move |f| format!("\"/search?q={}\"", url_encode(&format!("{q} {f}"))))
        })
        .collect();
    v.push(Target {
        name: "search-filtered".into(),
        what: format!(
            "/search?q=<random of {} queries> <{}>&n=<random>",
            SEARCHES.len(),
            SEARCH_FILTERS.join(" | ")
        ),
        path: format!("/search?q={}", url_encode("printer is:open")),
        lua: format!(
            "local paths = {{ {} }}\nfunction request()\n  return wrk.format(\"GET\", paths[math.random(#paths)] .. \"&n=\" .. math.random(1, 1000000000))\nend\n",
            filtered.join(", ")
        ),
        kind: Kind::Search,
    });
    if let Some(only) = &s.only {
        v.retain(|t| t.kind == Kind::Static || only.iter().any(|o| t.name.starts_with(o.as_str())));
    }
    v
}

// ---------------------------------------------------------------- report

struct Report<'a> {
    s: &'a Settings,
    fill: &'a FillInfo,
    targets: &'a [Target],
    runs: &'a [WrkRun],
    hwm_kib: Option<u64>,
    db_bytes: u64,
    ready_after: Duration,
    stop: &'a str,
    schema_note: &'a str,
}

fn print_report(r: &Report<'_>) {
    let mut out = String::new();
    let f = r.fill;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Web pages: {:.0} tickets, {:.0} messages ({:.0} with HTML, {:.1} KiB average as generated), {:.0} contacts; \
         {:.0} open, {:.0} open unassigned, {:.0} open for the signed-in agent",
        f.num("tickets"),
        f.num("messages"),
        f.num("html_messages"),
        f.num("raw_bytes") / f.num("messages") / 1024.0,
        f.num("contacts"),
        f.num("open"),
        f.num("unassigned_open"),
        f.num("mine_open"),
    );
    let _ = writeln!(
        out,
        "fill: {:.0} s once (ingest {:.0} s = {:.0} msgs/s through Pipeline::ingest, desk work {:.0} s), cached in {}",
        f.num("fill_seconds"),
        f.num("ingest_seconds"),
        f.num("messages") / f.num("ingest_seconds"),
        f.num("desk_seconds"),
        r.s.cache_dir().display()
    );
    let _ = writeln!(
        out,
        "wrk {} threads, {} s per target after a {} s warm-up; {} CPU(s), load average {}",
        r.s.threads,
        r.s.seconds,
        r.s.warmup,
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(0),
        loadavg()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<17} {:>5} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>7} {:>8}  {:<30} what",
        "target",
        "conns",
        "requests",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "×static",
        "KiB/page",
        "cpu ms",
        "non-200",
        "target"
    );
    for run in r.runs {
        let t = &r.targets[run.target];
        let static_rate = r
            .runs
            .iter()
            .find(|x| x.conns == run.conns && r.targets[x.target].kind == Kind::Static)
            .map(|x| x.rate());
        let ratio = static_rate
            .filter(|s| *s > 0.0)
            .map(|s| format!("{:.2}×", run.rate() / s))
            .unwrap_or_else(|| "-".into());
        let (verdict_text, _) = verdict(t.kind, run, static_rate);
        let cpu_per_req = run
            .server_cpu
            .filter(|_| run.requests > 0)
            .map(|c| format!("{:.2}", c * 1000.0 / run.requests as f64))
            .unwrap_or_else(|| "?".into());
        let failures = if run.socket_errors > 0 {
            format!("{}+{}sock", run.not200, run.socket_errors)
        } else {
            run.not200.to_string()
        };
        let _ = writeln!(
            out,
            "{:<17} {:>5} {:>9} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.1} {:>7} {:>9.1} {:>7} {:>8}  {:<30} {}",
            t.name,
            run.conns,
            run.requests,
            run.rate(),
            run.p50 / 1000.0,
            run.p90 / 1000.0,
            run.p95 / 1000.0,
            run.p99 / 1000.0,
            run.max / 1000.0,
            ratio,
            if run.requests > 0 { run.bytes as f64 / run.requests as f64 / 1024.0 } else { 0.0 },
            cpu_per_req,
            failures,
            verdict_text,
            t.what,
        );
    }
    let _ = writeln!(
        out,
        "(req/s: completed requests ÷ wrk's run time; pN: wrk's latency histogram, exact from its done() hook; \
         ×static: req/s ÷ the static file's req/s at the same connections; KiB/page: response bytes incl. headers; \
         cpu ms: frontdeskd CPU per request — wrk shares the same {} cores)",
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(0)
    );
    for run in r.runs {
        let busy = run.machine_cpu;
        let srv = run.server_cpu.unwrap_or(f64::NAN);
        let other = busy - srv - run.client_cpu;
        let _ = writeln!(
            out,
            "  {:<17} {}c: frontdeskd {srv:.1} CPU-s, wrk {:.1}, other {other:.1} of the machine's {busy:.1} CPU-s{}, VmRSS after {:.1} MiB{}",
            r.targets[run.target].name,
            run.conns,
            run.client_cpu,
            if other > 0.1 * busy { " (DISTURBED: something else ran)" } else { "" },
            run.rss_kib.map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN),
            if run.not200 > 0 {
                format!(", first answer other than 200: {}", run.first_bad)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(out);
    match r.hwm_kib {
        Some(k) => {
            let m = k as f64 / 1024.0;
            let _ = writeln!(
                out,
                "frontdeskd peak RSS (VmHWM before SIGTERM): {m:.1} MiB   target < 150 MiB: {}",
                if m < 150.0 { "MET" } else { "MISSED" }
            );
        }
        None => {
            let _ = writeln!(out, "frontdeskd peak RSS: unknown (could not read /proc)");
        }
    }
    let _ = writeln!(
        out,
        "database: {:.0} MiB (data dir: DB + WAL), {}; frontdeskd answered on its control socket {:.0} ms after spawn; stopped: {}",
        mib(r.db_bytes),
        r.schema_note,
        r.ready_after.as_secs_f64() * 1000.0,
        r.stop
    );
    let failures: u64 = r.runs.iter().map(WrkRun::failures).sum();
    if failures == 0 {
        let _ = writeln!(out, "every request answered 200");
    } else {
        let _ = writeln!(out, "PROBLEMS: {failures} failed requests:");
        for run in r.runs.iter().filter(|x| x.failures() > 0) {
            let _ = writeln!(
                out,
                "  {} {}c: {} answers other than 200 (first: {}){}",
                r.targets[run.target].name,
                run.conns,
                run.not200,
                run.first_bad,
                if run.socket_errors > 0 {
                    format!(", socket errors: {}", run.socket_detail)
                } else {
                    String::new()
                }
            );
        }
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
}

// ---------------------------------------------------------------- main

/// Read `db` and its WAL from start to end (so the OS keeps them cached); bytes read.
/// Forget which tickets the agents have opened in earlier runs on this fill: every
/// run's random tickets are then first views (each records a read mark), as on a fresh
/// fill, and the inboxes mark the same tickets new. Without it the ticket row depended
/// on how many runs came before.
fn forget_read_marks(db: &Path) -> Result<usize> {
    let conn = rusqlite::Connection::open(db)
        .with_context(|| format!("opening {} to forget read marks", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn.execute("DELETE FROM ticket_seen", [])?)
}

fn warm_page_cache(db: &Path) -> Result<u64> {
    let mut total = 0;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    for path in [db.to_path_buf(), PathBuf::from(wal)] {
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        total += std::io::copy(&mut file, &mut std::io::sink())
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(total)
}

fn main() -> ExitCode {
    // cargo passes `--bench` (and any filter); nothing to parse.
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("web_pages: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<bool> {
    let s = Settings::from_env()?;
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        bail!(
            "wrk is not installed, and this benchmark drives the pages with it.\n\
             Install it with: sudo apt-get install -y wrk"
        );
    }
    s.paths.check_binaries()?;

    let fill = ensure_fill(&s)?;
    let dir = s.cache_dir();
    let scratch = s.paths.scratch("web_pages-")?;

    let forgotten = forget_read_marks(&dir.join("data").join("frontdesk.db"))?;
    eprintln!("bench: forgot {forgotten} read marks of earlier runs");
    eprintln!("bench: starting frontdeskd on {}", dir.display());
    let mut fd = Frontdesk::start(&s.paths, &dir, WRITTEN_BY, &channels_toml(true))?;
    let http = fd.http_listen()?;
    let pid = fd.pid();
    let cookie = sign_in(http).context("signing in")?;
    // The static file answers from memory; read the database through once so the
    // pages do too, as they do on a desk whose host has the memory for its database,
    // and a first run after the fill does not measure the disk.
    let started = Instant::now();
    let warmed = warm_page_cache(&fd.db_path())?;
    eprintln!(
        "bench: read the database once into the OS page cache ({:.0} MiB, {:.1} s)",
        warmed as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    let (first, last, schema) = {
        let conn = open_db_readonly(&fd.db_path())?;
        let (first, last) = conn.query_row(
            "SELECT MIN(id), MAX(id) FROM tickets WHERE merged_into IS NULL",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        let schema: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        (first, last, schema)
    };
    // A frontdeskd with a newer schema migrates the cached fill at start-up and keeps a
    // backup beside it; in the bench's own cache that copy is only in the way.
    let mut schema_note = format!("schema v{schema}");
    let filled_at = fill.num("schema");
    if filled_at.is_finite() && filled_at as i64 != schema {
        let _ = write!(
            schema_note,
            "; the cached fill was made at v{filled_at} and has been migrated since by frontdeskd"
        );
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("data")) {
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("frontdesk.db.before-v")
            {
                eprintln!(
                    "bench: removing the migration backup {} from the bench cache",
                    e.path().display()
                );
                let _ = std::fs::remove_file(e.path());
                let _ = write!(
                    schema_note,
                    " ({} removed from the cache)",
                    e.file_name().to_string_lossy()
                );
            }
        }
    }
    // Every page answers before any load: the views, a ticket, a search.
    let first_page = get_page(http, &cookie, "/inbox?view=all")?;
    let page2 = next_link(&first_page);
    if page2.is_none() {
        eprintln!("bench: the inbox has no \"Older tickets\" link; no page-2 target");
    }
    let queue = row_ids(&get_page(http, &cookie, "/inbox?view=mine")?);
    if queue.is_empty() {
        eprintln!("bench: the agent has no open tickets; no ticket-queue target");
    }
    let targets = targets(&s, first, last, page2, &queue);
    for t in &targets {
        if t.kind != Kind::Static {
            get_page(http, &cookie, &t.path).with_context(|| format!("checking {}", t.name))?;
        }
    }

    let mut runs = Vec::new();
    let outcome: Result<()> = (|| {
        for &conns in &s.conns {
            for (i, t) in targets.iter().enumerate() {
                if s.warmup > 0 {
                    eprintln!(
                        "bench: {} at {conns} connections: {} s warm-up ...",
                        t.name, s.warmup
                    );
                    run_wrk(
                        &s,
                        scratch.path(),
                        http,
                        &cookie,
                        &targets,
                        i,
                        conns,
                        s.warmup,
                        pid,
                    )?;
                }
                eprintln!(
                    "bench: {} at {conns} connections: {} s ...",
                    t.name, s.seconds
                );
                let r = run_wrk(
                    &s,
                    scratch.path(),
                    http,
                    &cookie,
                    &targets,
                    i,
                    conns,
                    s.seconds,
                    pid,
                )?;
                eprintln!(
                    "bench:   {:.0} req/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, {} failed",
                    r.rate(),
                    r.p50 / 1000.0,
                    r.p95_ms(),
                    r.p99_ms(),
                    r.failures()
                );
                runs.push(r);
            }
        }
        Ok(())
    })();
    let stop = fd.stop();
    if !runs.is_empty() {
        print_report(&Report {
            s: &s,
            fill: &fill,
            targets: &targets,
            runs: &runs,
            hwm_kib: stop.vm_hwm_kib,
            db_bytes: stop.db_bytes,
            ready_after: fd.ready_after,
            stop: &stop.exit,
            schema_note: &schema_note,
        });
    }
    outcome.map_err(|e| anyhow!("{e:#}\nfrontdeskd log tail:\n{}", log_tail(&fd.log, 20)))?;
    Ok(runs.iter().all(|r| r.failures() == 0))
}
