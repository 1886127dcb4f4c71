//! The HTTP listener: `/healthz` and `/metrics`; the agent page comes with the web issue.

pub mod metrics;

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channels::status::channel_state;
use crate::daemon::Services;

/// Serve HTTP until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => match a {
                Ok(pair) => pair,
                Err(e) => { log::warn!("http: accept failed: {e}"); continue; }
            },
        };
        let services = services.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let services = services.clone();
                async move {
                    let started = std::time::Instant::now();
                    let response = route(req, &services).await;
                    LATENCY.observe(started.elapsed());
                    Ok::<_, Infallible>(response)
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = content_type.parse() {
        headers.insert(hyper::header::CONTENT_TYPE, v);
    }
    headers.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}

/// `/healthz`: 200 while the store answers, 503 when it does not; the body names each
/// channel's state so a monitor sees a failing mailbox too (`"status": "degraded"`).
async fn healthz(services: &Services) -> Response<Full<Bytes>> {
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

/// Request latency for `/metrics`, shared by every connection.
static LATENCY: std::sync::LazyLock<metrics::LatencyHistogram> =
    std::sync::LazyLock::new(Default::default);

async fn metrics_page(services: &Services) -> Response<Full<Bytes>> {
    let store = services.pipeline.store();
    let read = store
        .read(|r| Ok((r.counts()?, r.channel_stats()?, r.outbox_counts()?)))
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

async fn route(req: Request<Incoming>, services: &Services) -> Response<Full<Bytes>> {
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/healthz") => healthz(services).await,
        ("GET", "/metrics") => metrics_page(services).await,
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n".to_string(),
        ),
    }
}
