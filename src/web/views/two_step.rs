//! Two-step sign-in on the page (pure): the account page's section that sets it up or
//! turns it off, and the sign-in step that asks for the code.

use std::fmt::Write;

use crate::auth::totp;
use crate::outbound::template::html_escape as esc;

/// Where an agent's two-step sign-in stands, as their account page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwoStep {
    /// Off, nothing being set up.
    Off,
    /// Being set up: the secret their app is to take, not yet confirmed by a code.
    Setting {
        /// Base32 secret.
        secret: String,
        /// The desk's name, which the app shows beside the codes.
        issuer: String,
    },
    /// On.
    On {
        /// Recovery codes not used yet.
        recovery_left: i64,
        /// Recovery codes just made, shown this once.
        fresh: Vec<String>,
    },
}

/// The account page's "Two-step sign-in" section for `email`.
pub fn section(out: &mut String, state: &TwoStep, email: &str, csrf: &str) {
    let csrf = format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(csrf));
    out.push_str(r#"<h2 id="two-step">Two-step sign-in</h2>"#);
    match state {
        TwoStep::On {
            recovery_left,
            fresh,
        } => {
            out.push_str(r#"<p class="two-step-state">On: after your password, signing in asks for the code your authenticator app shows.</p>"#);
            if fresh.is_empty() {
                let _ = write!(
                    out,
                    r#"<p class="recovery-left">{}</p><form class="two-step-recovery" method="post" action="/me/two-step/recovery">{csrf}<label>Current password <input type="password" name="current" autocomplete="current-password" required></label><button type="submit">Make new recovery codes</button></form>"#,
                    match recovery_left {
                        0 => "No recovery codes left: make new ones, or a lost phone locks you out until your administrator lets you in.".to_string(),
                        1 => "1 recovery code left.".to_string(),
                        n => format!("{n} recovery codes left."),
                    }
                );
            } else {
                out.push_str(r#"<div class="recovery-codes" role="region" aria-label="Your recovery codes"><p><strong>Your recovery codes.</strong> Keep them somewhere safe away from your phone (print them, or write them down). If you lose the phone, each one signs you in once instead of the app's code. They are shown only now.</p><ul class="recovery-codes">"#);
                for code in fresh {
                    let _ = write!(out, "<li><code>{}</code></li>", esc(code));
                }
                out.push_str("</ul></div>");
            }
            let _ = write!(
                out,
                r#"<form class="two-step-off" method="post" action="/me/two-step/off">{csrf}<label>Current password <input type="password" name="current" autocomplete="current-password" required></label><button type="submit">Turn two-step sign-in off</button></form><p class="hint">Lost your phone and your recovery codes? Your administrator turns it off on the Agents page, or with <code>frontdeskctl users set {} --two-step off</code>.</p>"#,
                esc(email)
            );
        }
        TwoStep::Off => {
            let _ = write!(
                out,
                r#"<p class="two-step-state">Off. With it on, signing in asks for your password and then a six-digit code from an authenticator app on your phone (such as Aegis, FreeOTP, 1Password or Google Authenticator), so a password that leaks does not open the desk by itself.</p><form class="two-step-setup" method="post" action="/me/two-step/setup">{csrf}<button type="submit">Set up two-step sign-in</button></form>"#
            );
        }
        TwoStep::Setting { secret, issuer } => {
            let link = totp::uri(secret, issuer, email);
            let _ = write!(
                out,
                r#"<div class="two-step-setting"><ol><li><p>In your authenticator app, add an account by scanning this code:</p><figure class="qr">{}</figure><p>or by typing this key (time-based): <code id="two-step-key">{}</code></p></li><li><form class="two-step-on" method="post" action="/me/two-step/on">{csrf}<label>Then type the code the app shows <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 \-]*" maxlength="9" required></label><button type="submit">Turn two-step sign-in on</button></form></li></ol><form class="two-step-cancel" method="post" action="/me/two-step/cancel">{csrf}<button type="submit">Cancel</button></form><p class="hint">Turning it on signs you out everywhere else.</p></div>"#,
                qr_svg(&link, "QR code of the key for your authenticator app"),
                esc(&totp::grouped(secret)),
            );
        }
    }
}

/// `text` as a QR code in inline SVG (no script, no remote image: the page's policy
/// allows neither), named `label` for screen readers.
pub fn qr_svg(text: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        // Longer than a QR code holds: the key below it still works.
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let body = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
    body.replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-label="{}" "#, esc(label)),
        1,
    )
}

/// The sign-in step after a right password: the code from the agent's app.
pub fn code_page(error: Option<&str>, token: &str) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: code · frontdesk</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="login"><main><h1>frontdesk</h1>{error}
<form method="post" action="/login"><input type="hidden" name="pending" value="{token}">
<label>Code from your authenticator app <input type="text" name="code" autocomplete="one-time-code" maxlength="20" required autofocus></label>
<button type="submit">Sign in</button></form>
<p class="hint">Six digits; a new one every 30 seconds. Lost your phone? Type one of your recovery codes instead. <a href="/login">Start again</a></p></main></body></html>"#,
        token = esc(token),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(state: &TwoStep) -> String {
        let mut out = String::new();
        section(&mut out, state, "jane@acme.test", "tok\"en");
        out
    }

    #[test]
    fn off_offers_set_up_with_the_token() {
        let html = render(&TwoStep::Off);
        assert!(html.contains(r#"action="/me/two-step/setup""#), "{html}");
        assert!(html.contains(r#"value="tok&quot;en""#), "{html}");
        assert!(!html.contains("/me/two-step/off"), "{html}");
    }

    #[test]
    fn on_asks_for_the_password_to_turn_it_off() {
        let html = render(&TwoStep::On {
            recovery_left: 1,
            fresh: Vec::new(),
        });
        assert!(html.contains("1 recovery code left."), "{html}");
        assert!(html.contains(r#"action="/me/two-step/recovery""#), "{html}");
        assert!(html.contains(r#"action="/me/two-step/off""#), "{html}");
        assert!(html.contains(r#"name="current""#), "{html}");
        assert!(
            html.contains("frontdeskctl users set jane@acme.test --two-step off"),
            "{html}"
        );
    }

    #[test]
    fn fresh_recovery_codes_are_listed_once_escaped() {
        let html = render(&TwoStep::On {
            recovery_left: 2,
            fresh: vec!["abcde-fghij".into(), "<b>".into()],
        });
        assert!(html.contains("<li><code>abcde-fghij</code></li>"), "{html}");
        assert!(html.contains("<li><code>&lt;b&gt;</code></li>"), "{html}");
        assert!(!html.contains("recovery codes left"), "{html}");
        let none = render(&TwoStep::On {
            recovery_left: 0,
            fresh: Vec::new(),
        });
        assert!(none.contains("No recovery codes left"), "{none}");
    }

    #[test]
    fn setting_up_shows_the_key_grouped_and_a_qr_code_of_the_link() {
        let html = render(&TwoStep::Setting {
            secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
            issuer: "Acme <Support>".into(),
        });
        assert!(
            html.contains(
                r#"<code id="two-step-key">GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ</code>"#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<svg role="img" aria-label="QR code"#),
            "{html}"
        );
        assert!(!html.contains("<?xml"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains(r#"action="/me/two-step/on""#), "{html}");
        assert!(html.contains(r#"action="/me/two-step/cancel""#), "{html}");
        assert!(!html.contains("<Support>"), "issuer unescaped: {html}");
    }

    #[test]
    fn the_qr_code_is_svg_with_dark_modules() {
        let svg = qr_svg("otpauth://totp/A:b?secret=GEZD", "label \"x\"");
        assert!(
            svg.starts_with(r#"<svg role="img" aria-label="label &quot;x&quot;" "#),
            "{svg}"
        );
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert!(svg.contains("<path") || svg.contains("<rect"), "{svg}");
    }

    #[test]
    fn the_code_page_escapes_its_message_and_token() {
        let html = code_page(Some("<b>wrong</b>"), "a\"b");
        assert!(html.contains("&lt;b&gt;wrong&lt;/b&gt;"), "{html}");
        assert!(
            html.contains(r#"name="pending" value="a&quot;b""#),
            "{html}"
        );
        assert!(html.contains(r#"autocomplete="one-time-code""#), "{html}");
        assert!(!code_page(None, "t").contains("role=\"alert\""));
    }
}
