//! `{{token}}` templates for signatures, acknowledgements and snippets (pure).
//!
//! Tokens are checked when the config is loaded, so a typo is a config error with a
//! line number rather than a blank in a customer's mail. `{{token | fallback}}` gives
//! the words to use when a value is empty ("Hi {{contact.first_name | there}}").

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A token and the text that stands in when its value is empty.
    Token(String, String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A token not in the allowed list.
    #[error("unknown token {{{{{token}}}}} (allowed: {allowed})")]
    UnknownToken {
        /// The token.
        token: String,
        /// What may be used.
        allowed: String,
    },
    /// `{{` without `}}`.
    #[error("unclosed {{{{ in template")]
    Unclosed,
}

/// How values are escaped when rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text.
    None,
    /// HTML text and attribute values.
    Html,
}

/// Escape `&<>"'` for HTML.
pub fn html_escape(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    let _ = write!(out, "{}", Escaped(s));
    out
}

/// A string that is written out escaped for HTML (`&<>"'`), without a copy of its own:
/// for pages built with `write!`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        // Runs without a special character are written whole (pages escape whole mails).
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            // The special characters are ASCII, so `i` is always a character boundary.
            f.write_str(&s[plain..i])?;
            f.write_str(entity)?;
            plain = i + 1;
        }
        f.write_str(&s[plain..])
    }
}

impl Template {
    /// Parse `text`, allowing only the tokens in `allowed`.
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
            let (token, fallback) = match after[..end].split_once('|') {
                Some((token, fallback)) => (token.trim().to_string(), fallback.trim().to_string()),
                None => (after[..end].trim().to_string(), String::new()),
            };
            if !allowed.contains(&token.as_str()) {
                return Err(TemplateError::UnknownToken {
                    token,
                    allowed: allowed.join(", "),
                });
            }
            pieces.push(Piece::Token(token, fallback));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// Render with `value(token)` (or the token's fallback when that is blank). A line
    /// that holds nothing but values that came out blank is left out whole, so an
    /// unset value leaves no empty line ("{{agent.signature}}" for an agent without
    /// one). HTML mode escapes values and the literal text alike and turns line breaks
    /// into `<br>`.
    pub fn render(&self, value: impl Fn(&str) -> String, escape: Escape) -> String {
        /// One line as rendered: its text, whether it held a token, whether anything
        /// on it is more than blanks.
        struct Line {
            text: String,
            token: bool,
            filled: bool,
        }
        let new_line = || Line {
            text: String::new(),
            token: false,
            filled: false,
        };
        let mut lines = vec![new_line()];
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => {
                    for (i, part) in t.split('\n').enumerate() {
                        if i > 0 {
                            lines.push(new_line());
                        }
                        if let Some(line) = lines.last_mut() {
                            line.text.push_str(part);
                            line.filled |= !part.trim().is_empty();
                        }
                    }
                }
                Piece::Token(t, fallback) => {
                    let v = value(t);
                    let v = if v.trim().is_empty() {
                        fallback.clone()
                    } else {
                        v
                    };
                    if let Some(line) = lines.last_mut() {
                        line.filled |= !v.trim().is_empty();
                        line.token = true;
                        line.text.push_str(&v);
                    }
                }
            }
        }
        let text = lines
            .iter()
            .filter(|l| !l.token || l.filled)
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        match escape {
            Escape::None => text,
            Escape::Html => html_escape(&text).replace('\n', "<br>\n"),
        }
    }

    /// True when the template has a place for `token`.
    pub fn uses(&self, token: &str) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Token(t, _) if t == token))
    }

    /// True when the template renders nothing.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The template written out again (its tokens in braces, with their fallbacks).
    pub fn source(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Token(t, f) if f.is_empty() => format!("{{{{{t}}}}}"),
                Piece::Token(t, f) => format!("{{{{{t} | {f}}}}}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_written_out_again_parses_to_the_same() {
        let allowed = ["contact.first_name", "agent.name"];
        for text in [
            "",
            "plain",
            "Hi {{contact.first_name | there}},\n\n-- {{ agent.name }}",
            "{{agent.name}}{{contact.first_name|you}}",
        ] {
            let t = Template::parse(text, &allowed).unwrap();
            assert_eq!(
                Template::parse(&t.source(), &allowed).unwrap(),
                t,
                "{text:?}"
            );
        }
        assert_eq!(
            Template::parse("Hi {{ contact.first_name|there }}!", &allowed)
                .unwrap()
                .source(),
            "Hi {{contact.first_name | there}}!"
        );
    }

    #[test]
    fn html_escape_replaces_the_five_specials_and_keeps_the_rest() {
        assert_eq!(html_escape(""), "");
        assert_eq!(html_escape("plain"), "plain");
        assert_eq!(
            html_escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(html_escape("&&"), "&amp;&amp;");
        assert_eq!(html_escape("Zoë <ö> ünï"), "Zoë &lt;ö&gt; ünï");
        assert_eq!(html_escape("日本<"), "日本&lt;");
    }

    const AGENT: &[&str] = &[
        "agent.full_name",
        "agent.first_name",
        "agent.last_name",
        "company",
    ];

    fn values(t: &str) -> String {
        match t {
            "agent.full_name" => "Zoë \"Z\" <O'Neil>".into(),
            "agent.first_name" => "Zoë".into(),
            "company" => "Acme & Co".into(),
            _ => String::new(),
        }
    }

    #[test]
    fn renders_text_and_html() {
        let t = Template::parse("--\n{{agent.full_name}}\n{{ company }}", AGENT).unwrap();
        assert_eq!(
            t.render(values, Escape::None),
            "--\nZoë \"Z\" <O'Neil>\nAcme & Co"
        );
        assert_eq!(
            t.render(values, Escape::Html),
            "--<br>\nZoë &quot;Z&quot; &lt;O&#39;Neil&gt;<br>\nAcme &amp; Co"
        );
    }

    #[test]
    fn unknown_tokens_are_refused() {
        let e = Template::parse("Hi {{agent.nickname}}", AGENT).unwrap_err();
        assert!(
            matches!(e, TemplateError::UnknownToken { ref token, .. } if token == "agent.nickname")
        );
        assert!(e.to_string().contains("{{agent.nickname}}"));
        assert_eq!(
            Template::parse("{{company", AGENT).unwrap_err(),
            TemplateError::Unclosed
        );
    }

    #[test]
    fn a_fallback_stands_in_for_an_empty_value_only() {
        let t = Template::parse("Hi {{agent.last_name | there}},", AGENT).unwrap();
        assert_eq!(t.render(values, Escape::None), "Hi there,");
        let t = Template::parse("Hi {{agent.first_name|there}},", AGENT).unwrap();
        assert_eq!(t.render(values, Escape::None), "Hi Zoë,");
        // Blank counts as empty; the fallback is escaped like any text.
        let t = Template::parse("{{agent.last_name | <you> & co}}", AGENT).unwrap();
        assert_eq!(
            t.render(|_| "  ".into(), Escape::Html),
            "&lt;you&gt; &amp; co"
        );
        // Without a fallback an empty value stays empty; the token is still checked.
        let t = Template::parse("[{{ agent.last_name }}]", AGENT).unwrap();
        assert_eq!(t.render(values, Escape::None), "[]");
        assert!(matches!(
            Template::parse("{{agent.nick | x}}", AGENT),
            Err(TemplateError::UnknownToken { ref token, .. }) if token == "agent.nick"
        ));
        // An empty fallback is the same as none.
        let t = Template::parse("a{{company|}}b{{agent.last_name|}}c", AGENT).unwrap();
        assert_eq!(t.render(values, Escape::None), "aAcme & Cobc");
    }

    #[test]
    fn plain_text_and_empty() {
        let t = Template::parse("no tokens } {", AGENT).unwrap();
        assert_eq!(t.render(values, Escape::None), "no tokens } {");
        assert!(Template::parse("", AGENT).unwrap().is_empty());
    }

    #[test]
    fn a_line_of_blank_values_disappears_but_blank_lines_of_text_stay() {
        let t = Template::parse(
            "Hi {{agent.first_name | there}},\n\n{{agent.full_name}}\n  {{agent.last_name}}  \nBye {{agent.last_name}}\n",
            AGENT,
        )
        .unwrap();
        let none = |_: &str| String::new();
        assert_eq!(t.render(none, Escape::None), "Hi there,\n\nBye \n");
        let named = |k: &str| match k {
            "agent.full_name" => "Zoë O".to_string(),
            _ => String::new(),
        };
        assert_eq!(t.render(named, Escape::None), "Hi there,\n\nZoë O\nBye \n");
    }
}
