//! The HTTP listener: the agent page (server-rendered, a little plain JavaScript, live
//! updates over Server-Sent Events), `/healthz` and `/metrics`.
//!
//! Every page is sent with a strict Content-Security-Policy (scripts from us only, no
//! inline script), `frame-ancestors 'none'`, `Referrer-Policy: no-referrer` and
//! `nosniff`; every agent route needs a session and every state-changing request a
//! CSRF token (Invariants 5 and 6).

pub mod cache;
pub mod live;
pub mod metrics;
mod pages;
pub mod sanitize;
pub mod session;
pub mod views;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channels::status::channel_state;
use crate::daemon::Services;

/// The body type of every response (pages are whole; `/events` streams).
pub type Body = BoxBody<Bytes, Infallible>;

/// State the web pages share.
pub struct WebState {
    /// The daemon's parts.
    pub services: Services,
    /// Failed sign-ins and ratings of a reply, recently.
    pub limiter: session::Limiter,
    /// Sign-ins waiting for the agent's two-step code.
    pub pending_sign_ins: session::PendingSignIns,
    /// Who is on which ticket.
    pub presence: live::Presence,
    /// Presence changes (ticket ids).
    pub presence_changes: tokio::sync::broadcast::Sender<i64>,
    /// Stops streams at shutdown.
    pub shutdown: CancellationToken,
    /// Pages rendered while nothing changed.
    pub pages: cache::PageCache,
    /// Sessions read while nothing changed.
    pub sessions: cache::Keyed<crate::store::SessionView>,
    /// Inbox counts per agent while nothing changed.
    pub counts: cache::Keyed<Vec<(crate::store::InboxView, i64)>>,
    /// Each agent's saved views' counts (view id, tickets) while nothing changed.
    pub saved_counts: cache::Keyed<Vec<(i64, i64)>>,
}

/// Request latency for `/metrics`, shared by every connection.
static LATENCY: LazyLock<metrics::LatencyHistogram> = LazyLock::new(Default::default);

/// The policy every page is sent with: nothing runs but our own script, nothing loads
/// from elsewhere (remote images only on the page where the agent asked for them).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Serve HTTP until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let state = Arc::new(WebState {
        services,
        limiter: Default::default(),
        pending_sign_ins: Default::default(),
        presence: Default::default(),
        presence_changes: tokio::sync::broadcast::channel(256).0,
        shutdown: shutdown.clone(),
        pages: Default::default(),
        sessions: Default::default(),
        counts: Default::default(),
        saved_counts: Default::default(),
    });
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => match a {
                Ok(pair) => pair,
                Err(e) => { log::warn!("http: accept failed: {e}"); continue; }
            },
        };
        let state = state.clone();
        let shutdown = shutdown.clone();
        // Read per connection, so a SIGHUP with a renewed certificate takes effect.
        let tls = state.services.pipeline.config().http.tls.clone();
        tracker.spawn(async move {
            let Some(tls) = tls else {
                return serve_connection(stream, state, peer, shutdown).await;
            };
            let handshake = tokio_rustls::TlsAcceptor::from(tls.server).accept(stream);
            let finished = tokio::select! {
                // A client that never finishes its handshake must not hold up a stop.
                _ = shutdown.cancelled() => return,
                r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake) => r,
            };
            match finished {
                Ok(Ok(stream)) => serve_connection(stream, state, peer, shutdown).await,
                Ok(Err(e)) => log::debug!("http: TLS handshake with {peer} failed: {e}"),
                Err(_) => log::debug!("http: TLS handshake with {peer} timed out"),
            }
        });
    }
}

/// A client that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serve one connection (plain or TLS) until it closes or the daemon stops.
async fn serve_connection<IO>(
    io: IO,
    state: Arc<WebState>,
    peer: SocketAddr,
    shutdown: CancellationToken,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        async move {
            let started = std::time::Instant::now();
            let response = route(req, &state, peer).await;
            LATENCY.observe(started.elapsed());
            Ok::<_, Infallible>(response)
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Add the headers every response carries.
pub fn secure_headers(response: &mut Response<Body>, csp: &str) {
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("content-security-policy", csp);
    set("x-frame-options", "DENY");
    set("referrer-policy", "no-referrer");
    set("x-content-type-options", "nosniff");
    set("cache-control", "no-store");
}

/// A whole response.
pub fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, v);
    }
    secure_headers(&mut response, CSP);
    response
}

/// A redirect after a form post (303 See Other).
pub fn redirect(to: &str) -> Response<Body> {
    let mut r = respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}

/// `/healthz`: 200 while the store answers, 503 when it does not; the body names each
/// channel's state so a monitor sees a failing mailbox too (`"status": "degraded"`).
async fn healthz(services: &Services) -> Response<Body> {
    let store = services.pipeline.store().read(|r| r.ping()).await;
    let config = services.pipeline.config();
    let channels: Vec<serde_json::Value> = config
        .channels
        .iter()
        .map(|c| {
            let folders = services.board.folders(&c.name);
            let state = channel_state(&folders);
            let error = folders.iter().find_map(|f| f.last_error.clone());
            serde_json::json!({ "name": c.name, "state": state, "last_error": error })
        })
        .collect();
    let failing = channels
        .iter()
        .any(|c| matches!(c["state"].as_str(), Some("failing" | "backing off")));
    let (code, status, store_state) = match &store {
        Ok(()) if failing => (StatusCode::OK, "degraded", "ok".to_string()),
        Ok(()) => (StatusCode::OK, "ok", "ok".to_string()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, "failing", e.to_string()),
    };
    let body = serde_json::json!({ "status": status, "store": store_state, "channels": channels });
    respond(code, "application/json", body.to_string())
}

async fn metrics_page(services: &Services) -> Response<Body> {
    let store = services.pipeline.store();
    let read = store
        .read_long(|r| Ok((r.counts()?, r.channel_stats()?, r.outbox_counts()?)))
        .await;
    let (counts, stats, outbox) = match read {
        Ok(v) => v,
        Err(e) => {
            return respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                format!("store unavailable: {e}\n"),
            )
        }
    };
    let config = services.pipeline.config();
    let channels: Vec<_> = config
        .channels
        .iter()
        .map(|c| {
            let st = stats
                .iter()
                .find(|s| s.channel == c.name)
                .cloned()
                .unwrap_or_default();
            (c.name.clone(), st, services.board.folders(&c.name))
        })
        .collect();
    let text = metrics::render(&metrics::Snapshot {
        counts: &counts,
        channels: &channels,
        outbox,
        now: crate::model::unix_now(),
        latency: &LATENCY,
    });
    respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text,
    )
}

async fn route(req: Request<Incoming>, state: &Arc<WebState>, peer: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_string();
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/healthz") => healthz(&state.services).await,
        ("GET", "/metrics") => {
            // Counts of tickets and mail are not for the world: only the addresses the
            // config allows (this host by default) may read them.
            let allowed = state.services.pipeline.config().http.metrics_allow.clone();
            if allowed.iter().any(|net| net.contains(peer.ip())) {
                metrics_page(&state.services).await
            } else {
                log::warn!("http: /metrics refused to {peer} (not in [http] metrics_allow)");
                respond(
                    StatusCode::FORBIDDEN,
                    "text/plain; charset=utf-8",
                    "/metrics is not open to this address; see [http] metrics_allow.\n",
                )
            }
        }
        ("GET", "/static/app.js") => respond(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            include_str!("assets/app.js"),
        ),
        // At the top, so its scope is the whole desk (a worker controls only below
        // its own path).
        ("GET", "/notify-worker.js") => respond(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            include_str!("assets/notify-worker.js"),
        ),
        ("GET", "/static/app.css") => respond(
            StatusCode::OK,
            "text/css; charset=utf-8",
            include_str!("assets/app.css"),
        ),
        _ => pages::handle(req, state, peer).await,
    }
}
