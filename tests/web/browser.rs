//! Headless Chromium driven over the W3C WebDriver protocol: one `chromedriver` child
//! per [`Browser`] (on a free loopback port found by binding port 0), one session in it,
//! both ended on drop. Waits poll the page with a deadline; nothing sleeps to synchronise.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::wire;

/// Debian's browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver server for it.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the driver and the browser may take to start.
const START_DEADLINE: Duration = Duration::from_secs(40);
/// How long one WebDriver command may take (a page load included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a page may take to show what a test waits for.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(20);
/// The key W3C WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Fail with the install hint when the browser or its driver is missing.
pub fn require_chromium() {
    for p in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: the agent-page tests drive headless Chromium. Install it with\n  \
             DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver"
        );
    }
}

/// Wraps `EventSource` to count streams whose response has started.
const STREAM_WATCH: &str = "(function () {\
  var E = window.EventSource; if (!E) { return; }\
  window.__fdStreamsOpen = 0; window.__fdNotices = [];\
  var W = function (url, opts) {\
    var s = new E(url, opts);\
    s.addEventListener('open', function () { window.__fdStreamsOpen += 1; });\
    s.addEventListener('notice', function (e) { window.__fdNotices.push(e.data); });\
    return s;\
  };\
  W.prototype = E.prototype;\
  W.CONNECTING = 0; W.OPEN = 1; W.CLOSED = 2;\
  window.EventSource = W;\
})();";

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One browser session.
pub struct Browser {
    driver: Option<Child>,
    port: u16,
    session: String,
    dir: tempfile::TempDir,
    /// Base URL of the daemon's HTTP listener (`http://host:port`).
    pub base: String,
}

impl Browser {
    /// Start chromedriver and a headless Chromium session; `base` is the daemon's address.
    pub fn start(http_addr: &str) -> Browser {
        require_chromium();
        let dir = tempfile::Builder::new()
            .prefix("fd-chrome")
            .tempdir()
            .expect("temp dir");
        let mut last = String::new();
        // The port is free when we pick it; another process could take it before the
        // driver binds it, so a driver that exits at once is started again.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("bind a free port")
                .port();
            let log =
                std::fs::File::create(dir.path().join("chromedriver.log")).expect("driver log");
            let mut driver = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().expect("dup log")))
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}"));
            let deadline = Instant::now() + START_DEADLINE;
            let mut ready = false;
            while Instant::now() < deadline {
                if driver.try_wait().expect("try_wait").is_some() {
                    break;
                }
                if let Ok(r) = wire::request(
                    &format!("127.0.0.1:{port}"),
                    "GET",
                    "/status",
                    &[],
                    b"",
                    Duration::from_secs(5),
                ) {
                    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                    if v["value"]["ready"] == true {
                        ready = true;
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !ready {
                let _ = driver.kill();
                let _ = driver.wait();
                last = std::fs::read_to_string(dir.path().join("chromedriver.log"))
                    .unwrap_or_default();
                continue;
            }
            let profile = dir.path().join("profile");
            let caps = json!({
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "unhandledPromptBehavior": "ignore",
                        "pageLoadStrategy": "normal",
                        "goog:chromeOptions": {
                            "binary": CHROMIUM,
                            "args": [
                                "--headless=new",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-dev-shm-usage",
                                "--disable-quic",
                                "--no-first-run",
                                "--no-default-browser-check",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--disable-extensions",
                                "--disable-features=Translate,OptimizationHints,MediaRouter",
                                "--window-size=1280,900",
                                format!("--user-data-dir={}", profile.display()),
                            ]
                        }
                    }
                }
            });
            let mut b = Browser {
                driver: Some(driver),
                port,
                session: String::new(),
                dir,
                base: format!("http://{http_addr}"),
            };
            let v = b.call("POST", "/session", Some(&caps));
            b.session = v["value"]["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no session from chromedriver: {v}\n{}", b.log()))
                .to_string();
            b.call(
                "POST",
                &format!("/session/{}/timeouts", b.session),
                Some(&json!({"pageLoad": 30000, "script": 20000, "implicit": 0})),
            );
            b.watch_streams();
            return b;
        }
        panic!("chromedriver did not start within {START_DEADLINE:?} (3 tries)\n{last}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    /// A raw WebDriver command; the parsed answer (`{"value": ...}`), any status.
    fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = vec![];
        if body.is_some() {
            headers.push(("Content-Type", "application/json; charset=utf-8"));
        }
        let r = wire::request(
            &format!("127.0.0.1:{}", self.port),
            method,
            path,
            &headers,
            text.as_bytes(),
            COMMAND_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}\n{}", self.log()));
        let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| {
            panic!(
                "WebDriver {method} {path}: not JSON ({e}): {}\n{}",
                r.text(),
                self.log()
            )
        });
        (r.status, v)
    }

    /// A WebDriver command that must succeed; its answer.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, v) = self.raw(method, path, body);
        assert!(
            status == 200,
            "WebDriver {method} {path} {} answered {status}: {v}",
            body.map(|b| b.to_string()).unwrap_or_default()
        );
        v
    }

    fn s(&self, tail: &str) -> String {
        format!("/session/{}{tail}", self.session)
    }

    /// Load `path` (relative to the daemon) and wait for the page to load.
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.call("POST", &self.s("/url"), Some(&json!({ "url": url })));
    }

    /// Count opened event streams (`window.__fdStreamsOpen`) so a test can wait for the
    /// page's live connection instead of guessing, and keep the notices they bring
    /// (`window.__fdNotices`); injected into the current tab through DevTools, outside
    /// the page's own scripts.
    fn watch_streams(&self) {
        self.call(
            "POST",
            &self.s("/goog/cdp/execute"),
            Some(&json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": { "source": STREAM_WATCH }
            })),
        );
    }

    /// Open a new tab beside the others and make it the one commands go to; its handle.
    pub fn new_tab(&self) -> String {
        let v = self.call(
            "POST",
            &self.s("/window/new"),
            Some(&json!({ "type": "tab" })),
        );
        let handle = v["value"]["handle"].as_str().unwrap_or("").to_string();
        self.switch_to(&handle);
        self.watch_streams();
        handle
    }

    /// The tab commands go to now.
    pub fn tab(&self) -> String {
        self.call("GET", &self.s("/window"), None)["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Send the commands to (and bring to the front) the tab `handle`.
    pub fn switch_to(&self, handle: &str) {
        self.call(
            "POST",
            &self.s("/window"),
            Some(&json!({ "handle": handle })),
        );
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The path (and query) of the current URL.
    pub fn path(&self) -> String {
        let url = self.url();
        url.strip_prefix(&self.base).unwrap_or(&url).to_string()
    }

    /// The window as a PNG, for a person to look at.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let encoded = self.call("GET", &self.s("/screenshot"), None)["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_default()
    }

    /// Make the window `width` × `height` CSS pixels (a phone, a narrow window).
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.s("/window/rect"),
            Some(&json!({ "width": width, "height": height })),
        );
    }

    /// Run `script` (a function body; `arguments` holds `args`) in the page; its result.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(&json!({ "script": script, "args": args })),
        )["value"]
            .clone()
    }

    /// Run `script` in the page, which calls `arguments[arguments.length - 1]` with its
    /// result (for promises); that result.
    pub fn js_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.s("/execute/async"),
            Some(&json!({ "script": script, "args": args })),
        )["value"]
            .clone()
    }

    /// Set a permission for the daemon's pages as the agent's answer to the browser's
    /// question would (`state`: granted, denied or prompt).
    pub fn set_permission(&self, name: &str, state: &str) {
        self.call(
            "POST",
            &self.s("/permissions"),
            Some(&json!({ "descriptor": { "name": name }, "state": state })),
        );
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<Element> {
        let (status, v) = self.raw(
            "POST",
            &self.s("/element"),
            Some(&json!({"using": "css selector", "value": css})),
        );
        if status != 200 {
            return None;
        }
        v["value"][ELEMENT].as_str().map(|e| Element(e.to_string()))
    }

    /// Wait until an element matches `css`.
    pub fn wait_find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PAGE_DEADLINE;
        loop {
            if let Some(e) = self.find(css) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no {css:?} on {} within {PAGE_DEADLINE:?}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Click an element.
    pub fn click(&self, e: &Element) {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/click", e.0)),
            Some(&json!({})),
        );
    }

    /// Click the first element matching `css` (waiting for it).
    pub fn click_css(&self, css: &str) {
        let e = self.wait_find(css);
        self.click(&e);
    }

    /// Type `text` into an element (WebDriver key codes allowed, e.g. `\u{E007}` Enter).
    pub fn type_into(&self, e: &Element, text: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/value", e.0)),
            Some(&json!({ "text": text })),
        );
    }

    /// Press keys on whatever has the focus (the page itself when nothing does), one
    /// after another, as a person would (WebDriver key codes allowed, e.g. `\u{E007}`).
    pub fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [
                    json!({ "type": "keyDown", "value": k.to_string() }),
                    json!({ "type": "keyUp", "value": k.to_string() }),
                ]
            })
            .collect();
        self.call(
            "POST",
            &self.s("/actions"),
            Some(&json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        );
    }

    /// The id of the focused element ("" for none or the page itself).
    pub fn focused_id(&self) -> String {
        self.js(
            "var e = document.activeElement; return e && e.id ? e.id : '';",
            json!([]),
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Clear an input.
    pub fn clear(&self, e: &Element) {
        self.call(
            "POST",
            &self.s(&format!("/element/{}/clear", e.0)),
            Some(&json!({})),
        );
    }

    /// The visible text of the first element matching `css` ("" when none).
    pub fn text(&self, css: &str) -> String {
        self.js(
            "var e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// The current value of the first form field matching `css` ("" when none).
    pub fn value(&self, css: &str) -> String {
        self.js(
            "var e = document.querySelector(arguments[0]); return e ? e.value : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// The ticket ids of the inbox rows on the page, top to bottom.
    pub fn row_ids(&self) -> Vec<i64> {
        self.js(
            "return Array.prototype.map.call(document.querySelectorAll('tr.ticket'), function (r) { return Number(r.getAttribute('data-ticket')); });",
            json!([]),
        )
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
        .unwrap_or_default()
    }

    /// Wait until `condition(self)` holds; fail naming `what` with the page source.
    pub fn wait_until(&self, what: &str, mut condition: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + PAGE_DEADLINE;
        while !condition(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {PAGE_DEADLINE:?} waiting for {what} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the text of `css` contains `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) {
        self.wait_until(&format!("{needle:?} in {css:?}"), |b| {
            b.text(css).contains(needle)
        });
    }

    /// Wait until the current path starts with `prefix`.
    pub fn wait_path(&self, prefix: &str) {
        self.wait_until(&format!("a page under {prefix:?}"), |b| {
            b.path().starts_with(prefix) && b.ready()
        });
    }

    /// Wait until the page's live event stream is connected (the server subscribed).
    pub fn wait_event_stream(&self) {
        self.wait_until("the page's /events stream to open", |b| {
            b.js("return window.__fdStreamsOpen || 0;", json!([]))
                .as_i64()
                .unwrap_or(0)
                >= 1
        });
    }

    /// The document has loaded.
    pub fn ready(&self) -> bool {
        self.js("return document.readyState;", json!([])) == "complete"
    }

    /// The page's HTML as the browser sees it now.
    pub fn source(&self) -> String {
        self.call("GET", &self.s("/source"), None)["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Cookies the browser holds for the current page.
    pub fn cookies(&self) -> Vec<Value> {
        self.call("GET", &self.s("/cookie"), None)["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The text of an open alert/confirm/prompt, if one is open.
    pub fn open_dialog(&self) -> Option<String> {
        let (status, v) = self.raw("GET", &self.s("/alert/text"), None);
        (status == 200).then(|| v["value"].as_str().unwrap_or("").to_string())
    }

    /// Wait for an alert/confirm to open and answer it (OK or Cancel); its text.
    pub fn answer_dialog(&self, accept: bool) -> String {
        let mut asked = None;
        self.wait_until("a dialog to open", |b| {
            asked = b.open_dialog();
            asked.is_some()
        });
        let verb = if accept { "accept" } else { "dismiss" };
        let (status, v) = self.raw("POST", &self.s(&format!("/alert/{verb}")), Some(&json!({})));
        assert_eq!(status, 200, "{verb} the dialog: {v}");
        asked.unwrap_or_default()
    }

    /// Sign in through the form on `/login`; waits for the inbox.
    pub fn sign_in(&self, email: &str, password: &str) {
        self.open("/login");
        self.fill_login(email, password);
        self.wait_path("/inbox");
    }

    /// Fill the sign-in form and press the button (no waiting).
    pub fn fill_login(&self, email: &str, password: &str) {
        let e = self.wait_find("input[name=email]");
        self.clear(&e);
        self.type_into(&e, email);
        let p = self.wait_find("input[name=password]");
        self.clear(&p);
        self.type_into(&p, password);
        self.click_css("form[action='/login'] button[type=submit]");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = wire::request(
                &format!("127.0.0.1:{}", self.port),
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
                Duration::from_secs(20),
            );
        }
        if let Some(mut d) = self.driver.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("---- chromedriver log (tail) ----\n{tail}");
        }
    }
}
