//! A picture pasted into the note or reply box (a screenshot) is attached to that form as
//! a file: the note carries it, downloadable with the same bytes, and the reply's preview
//! lists it. Text pasted stays text.

use crate::browser::Browser;
use crate::{add_agent, daemon, olga_two_tickets, PASSWORD};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Paste a clipboard holding `png` (as "image.png") and `text` into the box with this id;
/// whether the page took the paste over (the browser then inserts nothing).
fn paste(b: &Browser, box_id: &str, png: Option<&[u8]>, text: &str) -> bool {
    b.js(
        "var box = document.getElementById(arguments[0]);
         box.focus();
         var data = new DataTransfer();
         if (arguments[1]) {
           data.items.add(new File([new Uint8Array(arguments[1])], 'image.png', { type: 'image/png' }));
         }
         if (arguments[2]) { data.setData('text/plain', arguments[2]); }
         var e = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
         return !box.dispatchEvent(e);",
        serde_json::json!([box_id, png.map(|p| p.to_vec()), text]),
    )
    .as_bool()
    .unwrap_or(false)
}

/// The names of the files in a form's file input.
fn chosen(b: &Browser, input_id: &str) -> Vec<String> {
    b.js(
        "return Array.prototype.map.call(document.getElementById(arguments[0]).files,
           function (f) { return f.name + ' ' + f.type + ' ' + f.size; });",
        serde_json::json!([input_id]),
    )
    .as_array()
    .cloned()
    .unwrap_or_default()
    .iter()
    .map(|v| v.as_str().unwrap_or("").to_string())
    .collect()
}

#[test]
fn a_pasted_screenshot_is_attached_to_the_note() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (id, _) = olga_two_tickets(&d, "paste");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.wait_find("#note-body");

    // Text stays the browser's to insert.
    assert!(!paste(&b, "note-body", None, "just words"));
    assert!(chosen(&b, "note-files").is_empty());

    // Two screenshots, one after the other: both kept, each its own name.
    assert!(
        paste(&b, "note-body", Some(PNG), ""),
        "the page took the paste"
    );
    assert!(paste(&b, "note-body", Some(PNG), ""));
    let files = chosen(&b, "note-files");
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert!(
            f.starts_with("screenshot-") && f.ends_with(&format!(".png image/png {}", PNG.len())),
            "{f}"
        );
    }
    assert_ne!(files[0], files[1], "two pastes, two names");
    // In the reply box too, where the preview lists it.
    assert!(paste(&b, "reply-body", Some(PNG), ""));
    assert_eq!(chosen(&b, "reply-files").len(), 1);
    assert!(
        b.text("#files-preview").contains("screenshot-"),
        "{}",
        b.text("#files-preview")
    );

    let note = b.wait_find("#note-body");
    b.type_into(&note, "The customer's screen.");
    b.click_css("form.note button[type=submit]");
    b.wait_text("article.message.note", "The customer's screen.");
    let link = b
        .js(
            "var a = document.querySelector('article.message.note a[href^=\"/attachments/\"]');
             return a ? a.getAttribute('href') + ' ' + a.textContent : '';",
            serde_json::json!([]),
        )
        .as_str()
        .unwrap_or("")
        .to_string();
    let (href, name) = link
        .split_once(' ')
        .unwrap_or_else(|| panic!("no file on the note: {link:?}"));
    assert!(name.starts_with("screenshot-"), "{name}");
    let agent = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = agent.get(href);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PNG, "the bytes pasted");
}
