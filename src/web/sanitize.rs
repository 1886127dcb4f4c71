//! Inbound HTML made safe to show (Invariant 5): no script, no active content, no
//! remote loads until the agent asks, `cid:` images pointed at our own attachment URLs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sanitize one message's HTML. `cid` maps a Content-ID to a local URL; remote images
/// are dropped unless `load_remote`. Returns the safe HTML and whether remote images
/// were dropped (so the page can offer "load images").
pub fn sanitize_html(
    html: &str,
    cid: HashMap<String, String>,
    load_remote: bool,
) -> (String, bool) {
    let blocked = Arc::new(AtomicBool::new(false));
    let flag = blocked.clone();
    let clean = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto", "cid"].into_iter().collect())
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                let v = value.trim();
                if let Some(id) = v.strip_prefix("cid:") {
                    return cid
                        .get(id.trim_matches(['<', '>']))
                        .cloned()
                        .map(Into::into);
                }
                if v.starts_with("http://") || v.starts_with("https://") || v.starts_with("//") {
                    if load_remote && !v.starts_with("//") {
                        return Some(value.into());
                    }
                    flag.store(true, Ordering::Relaxed);
                    return None;
                }
                return None;
            }
            // Links leave in a new context and never run anything of ours.
            if attribute == "href" && value.trim_start().to_ascii_lowercase().starts_with("cid:") {
                return None;
            }
            Some(value.into())
        })
        .clean(html)
        .to_string();
    (clean, blocked.load(Ordering::Relaxed))
}

/// The name an uploaded file is attached under: the last path segment only (a client
/// may send a whole path), without control characters, at most 200 characters.
pub fn upload_file_name(given: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if clean.is_empty() {
        "attachment".into()
    } else {
        clean.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_cid() -> HashMap<String, String> {
        HashMap::new()
    }

    #[test]
    fn uploaded_file_names_keep_only_a_plain_name() {
        let cases = [
            ("report.pdf", "report.pdf"),
            ("C:\\Users\\jane\\report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("/tmp/x/", "attachment"),
            ("", "attachment"),
            ("..", "attachment"),
            (".bashrc", "bashrc"),
            ("a\r\nX-Evil: 1.txt", "aX-Evil: 1.txt"),
            ("  Angebot Müller €.xlsx ", "Angebot Müller €.xlsx"),
        ];
        for (given, want) in cases {
            assert_eq!(upload_file_name(given), want, "for {given:?}");
        }
        assert_eq!(upload_file_name(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn scripts_handlers_and_frames_are_removed() {
        let (html, _) = sanitize_html(
            r#"<p onclick="x()">hi<script>alert(1)</script><iframe src="https://evil"></iframe><a href="javascript:alert(1)">j</a><img src=x onerror=alert(1)><style>body{}</style><form action="https://evil"><input></form></p>"#,
            no_cid(),
            false,
        );
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "<iframe",
            "javascript:",
            "<style",
            "<form",
            "<input",
        ] {
            assert!(
                !html.to_ascii_lowercase().contains(bad),
                "{bad} survived: {html}"
            );
        }
        assert!(html.contains("hi"));
    }

    #[test]
    fn remote_images_wait_for_the_agent() {
        let src = r#"<img src="https://tracker.example/pixel.gif"><img src="//cdn.example/x.png">"#;
        let (html, blocked) = sanitize_html(src, no_cid(), false);
        assert!(blocked);
        assert!(
            !html.contains("tracker.example") && !html.contains("cdn.example"),
            "{html}"
        );
        let (html, _) = sanitize_html(src, no_cid(), true);
        assert!(html.contains("https://tracker.example/pixel.gif"));
    }

    #[test]
    fn cid_images_point_at_attachments() {
        let map = HashMap::from([("logo@x".to_string(), "/attachments/7".to_string())]);
        let (html, blocked) =
            sanitize_html(r#"<img src="cid:logo@x"><img src="cid:other">"#, map, false);
        assert!(!blocked);
        assert!(html.contains(r#"src="/attachments/7""#), "{html}");
        assert!(!html.contains("cid:other"));
    }

    #[test]
    fn links_are_safe() {
        let (html, _) = sanitize_html(r#"<a href="https://example.org">x</a>"#, no_cid(), false);
        assert!(html.contains("noopener"), "{html}");
    }
}
