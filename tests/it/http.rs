//! The HTTP listener: `/healthz` answers without a session and names each channel.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use crate::harness::Daemon;

/// A plain HTTP/1.1 GET; (status code, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the HTTP listener");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

#[test]
fn healthz_reports_the_store_and_every_channel() {
    let d = Daemon::start();
    let (code, body) = get(&d.http, "/healthz");
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(v["status"], "ok");
    assert_eq!(v["store"], "ok");
    let names: Vec<&str> = v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"support"), "{body}");
    assert!(v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["state"] == "active"));
    // Everything else is the agent page: without a session it sends you to sign in.
    let (code, _) = get(&d.http, "/inbox");
    assert_eq!(code, 303);
}
