//! The agent page's routes: sign-in, inbox, ticket, actions, search, attachments, live
//! events. Every route here needs a session; every POST needs the session's CSRF token.
//! (Apart: a customer's rating of a reply, which its link's MAC authorises.)

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{HeaderValue, COOKIE, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};

use super::session::{self, field, parse_form};
use super::{cache, live, redirect, respond, sanitize, views, Body, WebState};
use crate::desk::lifecycle::Priority;
use crate::desk::notify::{Prefs, Reason};
use crate::desk::sla::Cutoffs;
use crate::model::{percent_encode, unix_now};
use crate::outbound::compose::OutgoingAttachment;
use crate::outbound::{queue_reply, ReplyError, ReplyRequest};
use crate::store::{
    Assignment, BulkChange, InboxQuery, InboxView, NewSession, Reader, SessionView, StoreError,
    UserChanges,
};

mod agents;
mod rating;
mod two_step;

/// Largest form accepted.
const MAX_FORM: usize = 1024 * 1024;
/// Rows per inbox page.
const PAGE: u32 = 50;

/// The fields of a request's query string.
fn query_of(req: &Request<Incoming>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| parse_form(q.as_bytes()))
        .unwrap_or_default()
}

fn html(page: String) -> Response<Body> {
    respond(StatusCode::OK, "text/html; charset=utf-8", page)
}

fn text(status: StatusCode, words: &str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", format!("{words}\n"))
}

fn internal(e: StoreError) -> Response<Body> {
    log::error!("web: {e}");
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "The help desk cannot read its data right now; try again shortly.",
    )
}

/// A page as rendered: its HTML, and a policy other than the default when it needs one.
struct Rendered {
    html: String,
    csp: Option<String>,
}

impl Rendered {
    fn page(html: String) -> Rendered {
        Rendered { html, csp: None }
    }
}

fn page_response(page: &cache::CachedPage) -> Response<Body> {
    let mut r = respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        page.html.clone(),
    );
    if let Some(csp) = &page.csp {
        super::secure_headers(&mut r, csp);
    }
    r
}

/// What an entry shows besides the desk's data (see `web::cache`).
#[derive(Clone, Copy)]
struct Shows<'a> {
    /// The time to the minute (ages like "3m").
    minute: bool,
    /// Whose reading it shows (the inbox's "new to you").
    read_marks: Option<&'a str>,
}

/// Sessions, counts: the data alone.
const DATA_ONLY: Shows<'static> = Shows {
    minute: false,
    read_marks: None,
};

/// What a cached entry made now must match (see `web::cache`).
fn stamp(state: &WebState, shows: Shows<'_>) -> cache::Stamp {
    let store = state.services.pipeline.store();
    cache::Stamp {
        generation: store.generation(),
        config: state.services.pipeline.config_generation(),
        read_marks: shows
            .read_marks
            .map_or(0, |agent| store.read_marks_generation(agent)),
        minute: if shows.minute { unix_now() / 60 } else { 0 },
    }
}

/// Serve a GET page from the cache when nothing changed since it was rendered for this
/// session, else render it and keep it.
async fn cached(
    state: &WebState,
    token_hash: &str,
    uri: &str,
    read_marks: Option<&str>,
    render: impl std::future::Future<Output = Result<Rendered, Response<Body>>>,
) -> Response<Body> {
    let shows = Shows {
        minute: true,
        read_marks,
    };
    // Taken before anything is read, so a write during the render makes the entry
    // unmatchable rather than stale.
    let now = stamp(state, shows);
    if let Some(page) = state.pages.get(token_hash, uri, now) {
        return page_response(&page);
    }
    // One render per page at a time: when a write ends every cached page, the requests
    // that arrive together wait for the first render instead of all doing the work.
    let turn = state.pages.render_turn(token_hash, uri);
    let held = turn.lock().await;
    let now = stamp(state, shows);
    if let Some(page) = state.pages.get(token_hash, uri, now) {
        return page_response(&page);
    }
    let response = match render.await {
        Ok(r) => {
            let page = cache::CachedPage {
                html: Bytes::from(r.html),
                csp: r.csp,
            };
            state.pages.put(token_hash, uri, now, page.clone());
            page_response(&page)
        }
        Err(response) => response,
    };
    drop(held);
    state.pages.render_done(token_hash, uri);
    response
}

/// The signed-in agent, if the request carries a live session cookie.
async fn current_session(
    req: &Request<Incoming>,
    state: &WebState,
) -> Option<(String, SessionView)> {
    let header = req.headers().get(COOKIE)?.to_str().ok()?;
    let token = session::cookie_token(header)?;
    let hash = session::token_hash(&token);
    let stamp = stamp(state, DATA_ONLY);
    let s = match state.sessions.get(&hash, stamp) {
        Some(s) => s,
        None => {
            let h = hash.clone();
            let s = state
                .services
                .pipeline
                .store()
                .read(move |r| r.session(&h))
                .await
                .ok()??;
            state.sessions.put(&hash, stamp, s.clone());
            s
        }
    };
    let now = unix_now();
    let limits = session::SessionLimits::of(&state.services.pipeline.config().http);
    if !limits.alive(s.created_at, s.last_seen, now) {
        let _ = state.services.pipeline.store().delete_session(hash).await;
        return None;
    }
    // last_seen is refreshed at most once a minute (fewer writes), more often when the
    // idle limit is short.
    if now - s.last_seen > (limits.idle_seconds / 4).clamp(0, 60) {
        let touched = state
            .services
            .pipeline
            .store()
            .touch_session(hash.clone(), now)
            .await;
        if touched.is_ok() {
            // The touch leaves the store's generation alone, so the cached copy must
            // learn it here (or every request would touch again).
            let mut fresh = s.clone();
            fresh.last_seen = now;
            state.sessions.put(&hash, stamp, fresh);
        }
    }
    Some((hash, s))
}

/// A POST's fields, and the files of a multipart form; or why it was refused.
async fn read_post(
    req: Request<Incoming>,
) -> Result<(Vec<(String, String)>, Vec<OutgoingAttachment>), (StatusCode, String)> {
    let boundary = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
        .map(multer::parse_boundary);
    match boundary {
        None => read_form(req).await.map(|form| (form, Vec::new())).ok_or((
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form is too large.".into(),
        )),
        Some(Err(_)) => Err((
            StatusCode::BAD_REQUEST,
            "The form's multipart boundary is missing.".into(),
        )),
        Some(Ok(boundary)) => read_multipart(req, boundary).await,
    }
}

/// Most bytes a multipart form (a reply with its files) may carry.
const MAX_UPLOAD: u64 = 25 * 1024 * 1024;

async fn read_multipart(
    req: Request<Incoming>,
    boundary: String,
) -> Result<(Vec<(String, String)>, Vec<OutgoingAttachment>), (StatusCode, String)> {
    use futures_util::TryStreamExt;
    let stream = http_body_util::BodyStream::new(req.into_body())
        .try_filter_map(|frame| async move { Ok(frame.into_data().ok()) });
    let limits = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(MAX_UPLOAD)
            .for_field("body", MAX_FORM as u64)
            .for_field("csrf", 256),
    );
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, limits);
    let refused = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The reply and its files are too large (at most {} MiB in all).",
                MAX_UPLOAD / (1024 * 1024)
            ),
        ),
        other => (
            StatusCode::BAD_REQUEST,
            format!("The form could not be read: {other}"),
        ),
    };
    let mut form = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let content_type = field.content_type().map(|m| m.essence_str().to_string());
                let data = field.bytes().await.map_err(refused)?;
                // A file input left empty still sends a part, with no name and no bytes.
                if file_name.is_empty() && data.is_empty() {
                    continue;
                }
                files.push(OutgoingAttachment {
                    filename: sanitize::upload_file_name(&file_name),
                    content_type: content_type
                        .filter(|t| crate::model::plausible_mime_type(t))
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    data: data.to_vec(),
                });
            }
            None => {
                let value = field.text().await.map_err(refused)?;
                form.push((name, value));
            }
        }
    }
    Ok((form, files))
}

async fn read_form(req: Request<Incoming>) -> Option<Vec<(String, String)>> {
    let body = Limited::new(req.into_body(), MAX_FORM)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some(parse_form(&body))
}

/// The page's forms carry `csrf`; scripts send `X-CSRF-Token`.
fn csrf_ok(header: Option<&HeaderValue>, form: &[(String, String)], session: &SessionView) -> bool {
    let given = header
        .and_then(|h| h.to_str().ok())
        .or_else(|| field(form, "csrf"))
        .unwrap_or("");
    !given.is_empty() && session::same_secret(given, &session.csrf)
}

/// Route one request that is not a static file, health or metrics.
pub async fn handle(
    req: Request<Incoming>,
    state: &Arc<WebState>,
    peer: SocketAddr,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    // The customer's page, from the links under a reply: no session.
    if let Some(rest) = path.strip_prefix("/rate/") {
        let rest = rest.to_string();
        return rating::handle(req, state, &rest).await;
    }
    if path == "/login" {
        return match method {
            Method::GET => {
                let query = query_of(&req);
                let next = field(&query, "next").and_then(session::return_path);
                html(views::login(None, "", next))
            }
            Method::POST => login(req, state, peer).await,
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
        };
    }
    let Some((token_hash, session)) = current_session(&req, state).await else {
        return if method == Method::GET
            && !path.starts_with("/events")
            && !path.starts_with("/attachments")
        {
            // Back to this page once signed in (a ticket linked from a notification).
            let asked = req.uri().path_and_query().map_or("/", |p| p.as_str());
            match session::return_path(asked).filter(|p| *p != "/") {
                Some(p) => redirect(&format!("/login?next={}", percent_encode(p))),
                None => redirect("/login"),
            }
        } else {
            text(StatusCode::UNAUTHORIZED, "Sign in first.")
        };
    };
    let query = query_of(&req);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let uri = req.uri().to_string();
    if two_step::owed(state, &session) && !two_step::allowed_before(&method, &parts) {
        return if method == Method::GET {
            redirect("/me#two-step")
        } else {
            text(
                StatusCode::FORBIDDEN,
                "This desk requires two-step sign-in: set it up on your account page first.",
            )
        };
    }
    match (method, parts.as_slice()) {
        (Method::GET, [""]) => redirect("/inbox"),
        (Method::GET, ["inbox"]) => {
            // Its rows mark the tickets new to the agent.
            cached(
                state,
                &token_hash,
                &uri,
                Some(&session.email),
                inbox(state, &session, &query, &uri),
            )
            .await
        }
        (Method::GET, ["search"]) => {
            let page = search(state, &session, &query);
            cached(state, &token_hash, &uri, None, page).await
        }
        (Method::GET, ["reports"]) => {
            let page = reports(state, &session, &query);
            cached(state, &token_hash, &uri, None, page).await
        }
        (Method::GET, ["customers"]) => {
            let page = customers(state, &session, &query);
            cached(state, &token_hash, &uri, None, page).await
        }
        (Method::GET, ["customers", id]) => match id.parse::<i64>() {
            Ok(id) => {
                let flash = if field(&query, "saved") == Some("1") {
                    Some("Saved.".to_string())
                } else {
                    field(&query, "deleted")
                        .and_then(|t| t.parse::<i64>().ok())
                        .map(|t| format!("Ticket #{t} deleted."))
                };
                let page = customer(state, &session, id, flash);
                cached(state, &token_hash, &uri, None, page).await
            }
            Err(_) => text(StatusCode::NOT_FOUND, "No such customer."),
        },
        (Method::GET, ["customers", id, "erase"]) => match id.parse::<i64>() {
            Ok(id) => erase_page(state, &session, id).await,
            Err(_) => text(StatusCode::NOT_FOUND, "No such customer."),
        },
        (Method::GET, ["agents"]) => agents::page(state, &session, &query).await,
        (Method::GET, ["reports.csv"]) => report_csv(state, &query).await,
        (Method::GET, ["inbox.csv"]) => inbox_csv(state, &session, &query).await,
        (Method::GET, ["me"]) => {
            let flash = match field(&query, "changed") {
                Some("password") => Some(Ok(
                    "Your password is changed; every other session is signed out.",
                )),
                Some("notifications") => Some(Ok("Saved: you get the mail ticked below.")),
                Some("signature") => Some(Ok("Your signature is saved.")),
                Some("session-ended") => Some(Ok("That session is signed out.")),
                Some("sessions-ended") => Some(Ok("Signed out everywhere else.")),
                Some("two-step-off") => Some(Ok(
                    "Two-step sign-in is off: your password alone signs you in.",
                )),
                _ => None,
            };
            let flash = flash.or_else(|| {
                two_step::owed(state, &session).then_some(Err(
                    "This desk asks every agent to sign in with two steps: set it up below to go on.",
                ))
            });
            match account_settings(state, &session).await {
                Ok(mail) => html(views::layout(
                    "Your account",
                    &session,
                    &views::account(&session, flash, &mail),
                )),
                Err(e) => internal(e),
            }
        }
        (Method::GET, ["snippets"]) => {
            let flash = match field(&query, "saved") {
                Some("added") => Some(Ok(
                    "The snippet is added: every agent's reply box offers it.",
                )),
                Some("changed") => Some(Ok("The snippet is saved.")),
                Some("deleted") => Some(Ok("The snippet is deleted.")),
                _ => None,
            };
            snippets_page(state, &session, flash, None, StatusCode::OK).await
        }
        (Method::GET, ["views", "counts"]) => saved_view_counts(state, &session).await,
        (Method::GET, ["events"]) => events(state, &session, &token_hash, &query),
        (Method::GET, ["attachments", id]) => attachment(state, id).await,
        (Method::GET, ["messages", id, "original"]) => original(state, id).await,
        (Method::GET, ["tickets", "new"]) => {
            // "New ticket to them" on a ticket's contact panel fills in whom and from where.
            let typed = views::OpeningTyped {
                to: field(&query, "to").unwrap_or(""),
                channel: field(&query, "channel").unwrap_or(""),
                ..views::OpeningTyped::default()
            };
            new_ticket_page(state, &session, typed, None).await
        }
        (Method::GET, ["tickets", id]) => match id.parse::<i64>() {
            Ok(id) => {
                let shown = views::Shown {
                    images: field(&query, "images") == Some("1"),
                    whole: field(&query, "all") == Some("1"),
                };
                let page = ticket(state, &session, id, shown, None);
                cached(state, &token_hash, &uri, None, page).await
            }
            Err(_) => text(StatusCode::NOT_FOUND, "No such ticket."),
        },
        (Method::GET, ["tickets", id, "delete"]) => match id.parse::<i64>() {
            Ok(id) => delete_ticket_page(state, &session, id).await,
            Err(_) => text(StatusCode::NOT_FOUND, "No such ticket."),
        },
        (Method::POST, rest) => {
            let header = req.headers().get("x-csrf-token").cloned();
            let (form, files) = match read_post(req).await {
                Ok(posted) => posted,
                Err((status, words)) => return text(status, &words),
            };
            if !csrf_ok(header.as_ref(), &form, &session) {
                log::warn!("web: refused a {path} request without a valid CSRF token from {peer}");
                return text(
                    StatusCode::FORBIDDEN,
                    "This form has expired or did not come from this page; reload and try again.",
                );
            }
            post(state, &session, &token_hash, rest, &form, files).await
        }
        _ => text(StatusCode::NOT_FOUND, "Not found."),
    }
}

async fn login(req: Request<Incoming>, state: &WebState, peer: SocketAddr) -> Response<Body> {
    let user_agent = session::user_agent(req.headers().get(hyper::header::USER_AGENT));
    let Some(form) = read_form(req).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    };
    let client = NewSession {
        user_agent,
        address: Some(peer.ip().to_string()),
        ..NewSession::default()
    };
    if let Some(pending) = field(&form, "pending") {
        let code = field(&form, "code").unwrap_or("");
        return two_step::code(state, peer, pending, code, client).await;
    }
    let email = field(&form, "email").unwrap_or("").trim().to_lowercase();
    let password = field(&form, "password").unwrap_or("").to_string();
    let next = field(&form, "next")
        .and_then(session::return_path)
        .map(str::to_string);
    let now = unix_now();
    let keys = vec![format!("account:{email}"), format!("ip:{}", peer.ip())];
    if let Some(wait) = state.limiter.blocked(&keys, now) {
        let mut r = html(views::login(
            Some(&format!(
                "Too many failed sign-ins. Try again in {} minute(s).",
                wait.max(60) / 60
            )),
            &email,
            next.as_deref(),
        ));
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return r;
    }
    let store = state.services.pipeline.store();
    let who = email.clone();
    let record = match store.read(move |r| r.login_record(&who)).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let verified = match &record {
        Some(r) if r.active => {
            let hash = r.password_hash.clone().unwrap_or_default();
            tokio::task::spawn_blocking(move || crate::auth::verify_password(&password, &hash))
                .await
                .unwrap_or(false)
        }
        _ => {
            // Spend the same time on unknown accounts as on known ones.
            let _ =
                tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await;
            false
        }
    };
    let Some(record) = record.filter(|_| verified) else {
        state.limiter.failed(&keys, now);
        log::warn!("web: failed sign-in for {email} from {}", peer.ip());
        let mut r = html(views::login(
            Some("Wrong email or password."),
            &email,
            next.as_deref(),
        ));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    };
    if record.two_step_secret.is_some() {
        // The password was right; the code from their app comes next. Failures stay
        // counted until that is right too.
        let token = state
            .pending_sign_ins
            .start(record.user_id, &email, next, now);
        return html(views::two_step::code_page(None, &token));
    }
    state.limiter.succeeded(&keys[0]);
    let limits = session::SessionLimits::of(&state.services.pipeline.config().http);
    let token = session::new_token();
    let csrf = session::new_token();
    let new = NewSession {
        token_hash: session::token_hash(&token),
        user_id: record.user_id,
        csrf,
        ..client
    };
    if let Err(e) = store
        .create_session(new, limits.idle_seconds, limits.lifetime_seconds)
        .await
    {
        return internal(e);
    }
    signed_in(state, &token, next.as_deref())
}

/// The answer that signs an agent in with session `token`: its cookie, and on to where
/// they were going.
fn signed_in(state: &WebState, token: &str, next: Option<&str>) -> Response<Body> {
    let mut r = redirect(next.unwrap_or("/inbox"));
    let http = &state.services.pipeline.config().http;
    let cookie = session::set_cookie(
        Some(token),
        http.session_lifetime.as_secs() as i64,
        http.secure_cookies(),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// An inbox page's view and filters, as its query asks.
struct InboxAsk {
    view: InboxView,
    channel: Option<String>,
    status: Option<String>,
    priority: Option<crate::desk::lifecycle::Priority>,
    tag: Option<String>,
    oldest_first: bool,
    /// The page's cursor: activity of the last row of the page before.
    past: Option<i64>,
    awaiting_us: bool,
    contact: Option<String>,
    /// A ticket field's name and value.
    field: Option<(String, String)>,
}

impl InboxAsk {
    /// What `query` asks for; what cannot be a filter is none.
    fn of(query: &[(String, String)]) -> InboxAsk {
        let oldest_first = field(query, "order") == Some("oldest");
        // The cursor is `before` newest first, `after` oldest first. One of the older
        // (seconds.id) form reads as none: the first page.
        let cursor = if oldest_first { "after" } else { "before" };
        InboxAsk {
            view: field(query, "view")
                .and_then(InboxView::parse)
                .unwrap_or(InboxView::Mine),
            channel: field(query, "channel")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            status: field(query, "status")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            priority: field(query, "priority").and_then(crate::desk::lifecycle::Priority::parse),
            // A tag that could not be one is no filter (the page says which it applies).
            tag: field(query, "tag").and_then(|t| crate::desk::tags::normalize(t).ok().flatten()),
            oldest_first,
            past: field(query, cursor).and_then(|b| b.parse::<i64>().ok()),
            awaiting_us: field(query, "awaiting") == Some("1"),
            contact: field(query, "contact")
                .map(str::trim)
                .filter(|c| !c.is_empty() && c.len() <= MAX_ADDRESS)
                // Contacts are kept in lower case.
                .map(str::to_lowercase),
            field: match (field(query, "field"), field(query, "value")) {
                (Some(name), Some(value))
                    if !name.trim().is_empty()
                        && !value.trim().is_empty()
                        && name.len() <= 4 * crate::desk::ticket_fields::MAX_NAME
                        && value.len() <= 4 * crate::desk::ticket_fields::MAX_VALUE =>
                {
                    Some((name.trim().to_string(), value.trim().to_string()))
                }
                _ => None,
            },
        }
    }

    /// The store's query for a page of `limit` rows.
    fn query(&self, limit: u32, cutoffs: Option<Cutoffs>) -> InboxQuery {
        InboxQuery {
            channel: self.channel.clone(),
            status: self.status.clone(),
            priority: self.priority,
            tag: self.tag.clone(),
            awaiting_us: self.awaiting_us,
            contact: self.contact.clone(),
            field: self.field.clone(),
            past: self.past,
            oldest_first: self.oldest_first,
            limit,
            cutoffs,
        }
    }

    /// The filters, for the page and its links.
    fn filters(&self) -> views::Filters<'_> {
        views::Filters {
            channel: self.channel.as_deref(),
            status: self.status.as_deref(),
            priority: self.priority.map(|p| p.as_str()),
            tag: self.tag.as_deref(),
            awaiting_us: self.awaiting_us,
            contact: self.contact.as_deref(),
            field: self.field.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
            oldest_first: self.oldest_first,
        }
    }
}

async fn inbox(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
    uri: &str,
) -> Result<Rendered, Response<Body>> {
    let ask = InboxAsk::of(query);
    let view = ask.view;
    let config = state.services.pipeline.config();
    let sla = config.sla.clone();
    let cutoffs = sla.as_ref().map(|s| s.cutoffs(unix_now()));
    let q = ask.query(PAGE + 1, cutoffs.clone());
    let me = session.email.clone();
    // The counts cover the whole desk: kept per agent until something is written (and,
    // with answer targets, the minute turns: a wait becomes late by time alone).
    let now = stamp(
        state,
        Shows {
            minute: sla.is_some(),
            read_marks: None,
        },
    );
    let known = state.counts.get(&me, now);
    let want_counts = known.is_none();
    let closing_config = config.clone();
    let shown_fields = in_inbox_fields(&config);
    let reads = move |r: &Reader<'_>| {
        let counts = if want_counts {
            Some(r.inbox_counts(&me, cutoffs.as_ref())?)
        } else {
            None
        };
        let teams: Vec<String> = r.teams()?.into_iter().map(|t| t.name).collect();
        let saved = r.saved_views(&me)?;
        let rows = r.inbox(view, &me, &q)?;
        // When the desk closes a row's ticket by itself: looked up only for the rows
        // that wait on their customer on a channel that closes such tickets.
        let mut closes = Vec::new();
        for row in &rows {
            let t = &row.ticket;
            let closing = Closing {
                channel: &t.channel,
                pipeline: &t.pipeline,
                status: &t.status,
                snoozed: row.snoozed_until.is_some(),
                updated_at: &t.updated_at,
            };
            if closes_at(&closing_config, closing, None).is_none() {
                continue;
            }
            let standing = r.wait_standing(t.id)?;
            if let Some(at) = standing.and_then(|s| closes_at(&closing_config, closing, Some(&s))) {
                closes.push((t.id, at));
            }
        }
        // The values of the fields rows show (`in_inbox`), for this page's rows alone.
        let ids: Vec<i64> = rows.iter().map(|row| row.ticket.id).collect();
        let names: Vec<&str> = shown_fields.iter().map(String::as_str).collect();
        let fields = r.fields_of(&ids, &names)?;
        Ok((rows, counts, r.users()?, teams, (saved, closes, fields)))
    };
    let store = state.services.pipeline.store();
    // Counting every view walks the open tickets (milliseconds at 100,000): kept off
    // the async worker. The rows alone are one index walk.
    let result = if want_counts {
        store.read_long(reads).await
    } else {
        store.read(reads).await
    };
    let (mut rows, counts, agents, teams, (saved, closes, row_fields)) = match result {
        Ok((rows, Some(counts), agents, teams, rest)) => {
            state.counts.put(&session.email, now, counts.clone());
            (rows, counts, agents, teams, rest)
        }
        Ok((rows, None, agents, teams, rest)) => {
            (rows, known.unwrap_or_default(), agents, teams, rest)
        }
        Err(e) => return Err(internal(e)),
    };
    let filters = ask.filters();
    let next = (rows.len() > PAGE as usize).then(|| {
        rows.truncate(PAGE as usize);
        let last = &rows[rows.len() - 1];
        views::inbox_link(view, filters, Some(last.activity))
    });
    let channels: Vec<String> = config.channels.iter().map(|c| c.name.clone()).collect();
    let mut stages: Vec<String> = Vec::new();
    for stage in config.pipelines.iter().flat_map(|p| &p.stages) {
        if !stages.iter().any(|s| s.eq_ignore_ascii_case(&stage.name)) {
            stages.push(stage.name.clone());
        }
    }
    let page = views::inbox(&views::InboxPage {
        view,
        counts: &counts,
        rows: &rows,
        channels: &channels,
        filters,
        next,
        now: unix_now(),
        agents: &agents,
        teams: &teams,
        stages: &stages,
        csrf: &session.csrf,
        back: uri,
        sla: sla.as_ref(),
        saved: &saved,
        saved_link: &views::inbox_link(view, filters, None),
        closes: &closes,
        macros: &config.macros,
        ticket_fields: &config.ticket_fields,
        row_fields: &row_fields,
    });
    Ok(Rendered::page(views::layout("Inbox", session, &page)))
}

/// How many of a thread's newest messages its page shows; a link shows the rest (a
/// mail loop of thousands would otherwise make a page of megabytes).
const THREAD_NEWEST: u32 = 50;

/// How many of the customer's other tickets the ticket page lists (newest activity
/// first); past that it links to the inbox filtered to them.
const OTHER_TICKETS: usize = 20;

/// The longest address the inbox's contact filter takes (RFC 5321's path limit).
const MAX_ADDRESS: usize = 256;

/// A ticket's last change as unix seconds, from the RFC 3339 time the store gives.
fn last_change(updated_at: &str) -> i64 {
    time::OffsetDateTime::parse(updated_at, &time::format_description::well_known::Rfc3339)
        .map_or_else(|_| unix_now(), |d| d.unix_timestamp())
}

/// What of a ticket says whether the desk closes it by itself.
#[derive(Clone, Copy)]
struct Closing<'a> {
    channel: &'a str,
    pipeline: &'a str,
    status: &'a str,
    snoozed: bool,
    /// RFC 3339, as the store gives it.
    updated_at: &'a str,
}

/// When the desk closes `t` by itself (`[channel.auto_close]`), if it will. Without
/// `standing` (not read yet), whether it might: the reminder only puts the time off.
/// Not while a reply or forward waits to go: the desk leaves such a ticket be.
fn closes_at(
    config: &crate::config::Config,
    t: Closing<'_>,
    standing: Option<&crate::store::WaitStanding>,
) -> Option<i64> {
    if standing.is_some_and(|s| s.sending) {
        return None;
    }
    // Most channels close nothing: their rows cost no more than this look.
    let rule = config.channel(t.channel)?.auto_close.as_ref()?;
    crate::desk::auto_close::closes_at(
        Some(rule),
        config.pipeline(t.pipeline),
        crate::desk::auto_close::Waiting {
            status: t.status,
            snoozed: t.snoozed,
            last_change: last_change(t.updated_at),
            reminded_at: standing.and_then(|s| s.reminded_at),
        },
        unix_now(),
    )
}

async fn ticket(
    state: &WebState,
    session: &SessionView,
    id: i64,
    shown: views::Shown,
    flash: Option<&str>,
) -> Result<Rendered, Response<Body>> {
    let load_images = shown.images;
    let store = state.services.pipeline.store();
    let me = session.email.clone();
    let newest = (!shown.whole).then_some(THREAD_NEWEST);
    let closing_config = state.services.pipeline.config();
    let own = closing_config.own_addresses();
    let reads = move |r: &Reader<'_>| {
        let Some(t) = r.ticket_thread(id, newest)? else {
            return Ok(None);
        };
        // The reminder of this wait (it puts the closing off), a reply waiting to go:
        // only on a channel that closes tickets by itself.
        let standing = match closing_config.channel(&t.channel) {
            Some(c) if c.auto_close.is_some() => r.wait_standing(t.id)?,
            _ => None,
        };
        let attachments = r.ticket_attachments(t.id)?;
        let users = r.users()?;
        let teams: Vec<String> = r.teams()?.into_iter().map(|t| t.name).collect();
        // The customer's colleagues: others writing from their company's domain.
        let company = (t.contact.email != crate::ingest::UNKNOWN_SENDER)
            .then(|| crate::desk::spam::company_domain(&t.contact.email, &own))
            .flatten();
        let contact = r.contact_panel(t.id, OTHER_TICKETS, company.as_deref())?;
        let seen = r.last_seen(&me, t.id)?;
        let stored = r.snippets()?;
        Ok(Some((
            t,
            attachments,
            users,
            teams,
            contact,
            seen,
            stored,
            standing,
        )))
    };
    // The whole of a long thread can take milliseconds to read: off the async worker.
    let data = if shown.whole {
        store.read_long(reads).await
    } else {
        store.read(reads).await
    };
    let (t, attachments, users, teams, contact, seen, stored, standing) = match data {
        Ok(Some(v)) => v,
        Ok(None) => return Err(text(StatusCode::NOT_FOUND, "No such ticket.")),
        Err(e) => return Err(internal(e)),
    };
    if let Some(into) = t.merged_into {
        return Err(redirect(&format!("/tickets/{into}")));
    }
    let mut blocked = false;
    let safe: std::collections::HashMap<i64, String> = t
        .messages
        .iter()
        .filter_map(|m| Some((m.id, m.html.as_deref()?)))
        .map(|(row, h)| {
            let cid: std::collections::HashMap<String, String> = attachments
                .iter()
                .filter(|a| a.message_row == row)
                .filter_map(|a| Some((a.content_id.clone()?, format!("/attachments/{}", a.id))))
                .collect();
            let (clean, b) = sanitize::sanitize_html(h, cid, load_images);
            blocked |= b;
            (row, clean)
        })
        .collect();
    let config = state.services.pipeline.config();
    let channel = config.channel(&t.channel);
    // The signed-in agent, as replies name and sign them.
    let me = users
        .iter()
        .find(|u| u.email == session.email)
        .map(crate::outbound::compose::Agent::from);
    let (from_preview, signature_preview) = match (channel, &me) {
        (Some(c), Some(agent)) => mail_preview(&config, c, agent),
        _ => (String::new(), String::new()),
    };
    // Each macro's reply, filled in for this ticket as a snippet is.
    let mut macro_replies: Vec<(String, String)> = Vec::new();
    let snippets: Vec<(String, String)> = match &me {
        Some(agent) => {
            let context = crate::outbound::compose::SnippetContext {
                agent,
                company: &config.daemon.company_name,
                contact_name: t.contact.name.as_deref(),
                contact_email: &t.contact.email,
                ticket_id: t.id,
                ticket_subject: &t.subject,
            };
            // The configuration's first, then the agents' own (checked when saved; one
            // a newer frontdesk stored with tokens this one lacks is left out).
            let written: Vec<(&str, crate::outbound::template::Template)> = stored
                .iter()
                .filter_map(|s| {
                    crate::outbound::template::Template::parse(
                        &s.body,
                        crate::outbound::compose::SNIPPET_TOKENS,
                    )
                    .ok()
                    .map(|body| (s.name.as_str(), body))
                })
                .collect();
            for m in &config.macros {
                let reply = m.reply.as_deref().and_then(|r| {
                    crate::outbound::template::Template::parse(
                        r,
                        crate::outbound::compose::SNIPPET_TOKENS,
                    )
                    .ok()
                });
                if let Some(reply) = reply {
                    let text = crate::outbound::compose::render_snippet(&reply, &context);
                    macro_replies.push((m.name.clone(), text));
                }
            }
            config
                .snippets
                .iter()
                .map(|s| (s.name.as_str(), &s.body))
                .chain(written.iter().map(|(name, body)| (*name, body)))
                .map(|(name, body)| {
                    let text = crate::outbound::compose::render_snippet(body, &context);
                    (name.to_string(), text)
                })
                .collect()
        }
        None => Vec::new(),
    };
    let pipelines: Vec<String> = config.pipelines.iter().map(|p| p.name.clone()).collect();
    let pipeline = config.pipeline(&t.pipeline);
    let stages: Vec<String> = pipeline
        .map(|p| p.stages.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let filled: Vec<String> = t.fields.keys().cloned().collect();
    let missing_to_close: Vec<&str> = pipeline
        .map(|p| p.needed_to_close(&t.status, &filled))
        .unwrap_or_default();
    let page = views::ticket(&views::TicketPage {
        ticket: &t,
        html: &safe,
        attachments: &attachments,
        images_blocked: blocked && !load_images,
        shown,
        agents: &users,
        teams: &teams,
        stages: &stages,
        pipelines: &pipelines,
        from_preview,
        signature_preview,
        snippets: &snippets,
        macros: &config.macros,
        macro_replies: &macro_replies,
        ticket_fields: &config.ticket_fields,
        required_to_close: pipeline.map_or(&[][..], |p| p.required_to_close.as_slice()),
        missing_to_close: &missing_to_close,
        closing_stages: &pipeline.map_or_else(Vec::new, |p| {
            p.stages
                .iter()
                .filter(|s| s.closed)
                .map(|s| s.name.clone())
                .collect()
        }),
        contact: &contact,
        copies: crate::outbound::copies::kept(&t.participants, &users, &config.own_addresses())
            .join(", "),
        closed: pipeline.is_some_and(|p| p.is_closed(&t.status)),
        csrf: &session.csrf,
        me: &session.email,
        admin: session.admin,
        own: &config.own_addresses(),
        flash,
        sla: config.sla.as_ref(),
        closes_at: closes_at(
            &config,
            Closing {
                channel: &t.channel,
                pipeline: &t.pipeline,
                status: &t.status,
                snoozed: t.snoozed_until.is_some(),
                updated_at: &t.updated_at,
            },
            standing.as_ref(),
        ),
        now: unix_now(),
    });
    let html = views::layout(&format!("#{} {}", t.id, t.subject), session, &page);
    // The agent has now had every message on screen: the inbox stops marking the ticket
    // as new to them. Only when there is something new, so a page view is not a write.
    let newest = t.messages.iter().map(|m| m.id).max().unwrap_or(0);
    if newest > seen {
        if let Err(e) = store.mark_seen(session.email.clone(), t.id, newest).await {
            log::warn!("web: cannot mark ticket #{} read: {e}", t.id);
        }
    }
    Ok(Rendered {
        html,
        // Only this page, on the agent's request, may load remote images.
        csp: load_images.then(|| {
            super::CSP.replace("img-src 'self' data:", "img-src 'self' data: https: http:")
        }),
    })
}

/// How `agent`'s mail from channel `c` looks to the customer: its From line (name and
/// address) and the signature it ends with (may be empty).
fn mail_preview(
    config: &crate::config::Config,
    c: &crate::config::Channel,
    agent: &crate::outbound::compose::Agent,
) -> (String, String) {
    let identity = c.identity(&config.daemon.company_name);
    let from = format!(
        "{} <{}>",
        crate::outbound::compose::from_name(&identity, Some(agent)),
        c.address
    );
    let sig = crate::outbound::compose::render_signature(
        &identity,
        agent,
        crate::outbound::template::Escape::None,
    )
    .unwrap_or_default();
    (from, sig)
}

/// The new-ticket form, empty or put back with what was typed and why it was refused.
async fn new_ticket_page(
    state: &WebState,
    session: &SessionView,
    typed: views::OpeningTyped<'_>,
    refused: Option<(StatusCode, &str)>,
) -> Response<Body> {
    let store = state.services.pipeline.store();
    let me = session.email.clone();
    let agent = match store.read(move |r| r.user(&me)).await {
        Ok(Some(user)) => crate::outbound::compose::Agent::from(&user),
        Ok(None) => return text(StatusCode::FORBIDDEN, "No such agent."),
        Err(e) => return internal(e),
    };
    let config = state.services.pipeline.config();
    let previews: Vec<(String, (String, String))> = config
        .channels
        .iter()
        .map(|c| (c.name.clone(), mail_preview(&config, c, &agent)))
        .collect();
    let channels: Vec<views::OpeningChannel<'_>> = previews
        .iter()
        .map(|(name, (from, signature))| views::OpeningChannel {
            name,
            from: from.clone(),
            signature: signature.clone(),
        })
        .collect();
    let page = views::layout(
        "New ticket",
        session,
        &views::new_ticket(&views::OpeningPage {
            channels: &channels,
            typed,
            error: refused.map(|(_, words)| words),
            csrf: &session.csrf,
        }),
    );
    let mut r = html(page);
    if let Some((status, _)) = refused {
        *r.status_mut() = status;
    }
    r
}

/// Open a ticket with the agent's first mail (the new-ticket form), or put the form
/// back with why not.
async fn open_ticket(
    state: &WebState,
    session: &SessionView,
    form: &[(String, String)],
    files: Vec<OutgoingAttachment>,
) -> Response<Body> {
    let typed = views::OpeningTyped {
        channel: field(form, "channel").unwrap_or(""),
        to: field(form, "to").unwrap_or(""),
        cc: field(form, "cc").unwrap_or(""),
        subject: field(form, "subject").unwrap_or(""),
        body: field(form, "body").unwrap_or(""),
    };
    let request = crate::outbound::OpeningRequest {
        agent_email: session.email.clone(),
        channel: typed.channel.to_string(),
        to: typed.to.to_string(),
        cc: vec![typed.cc.to_string()],
        subject: typed.subject.to_string(),
        body: typed.body.to_string(),
        attachments: files,
    };
    let had_files = !request.attachments.is_empty();
    match crate::outbound::open_ticket(&state.services.pipeline, request).await {
        Ok(id) => {
            state.services.pipeline.ticket_changed(id);
            redirect(&format!("/tickets/{id}"))
        }
        Err(ReplyError::Store(e)) => internal(e),
        Err(ReplyError::NotFound(e) | ReplyError::Invalid(e)) => {
            // Browsers do not put files back in a form: say so.
            let words = if had_files {
                format!("Not sent: {e}. Attach the files again.")
            } else {
                format!("Not sent: {e}.")
            };
            new_ticket_page(
                state,
                session,
                typed,
                Some((StatusCode::BAD_REQUEST, &words)),
            )
            .await
        }
    }
}

async fn search(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
) -> Result<Rendered, Response<Body>> {
    let q = field(query, "q").unwrap_or("").trim().to_string();
    let open_only = field(query, "open") == Some("1");
    let mut parsed = crate::desk::search::parse(&q);
    // The page's "Open tickets only" box, unless the words say `is:`.
    if open_only && parsed.open.is_none() {
        parsed.open = Some(true);
    }
    let me = session.email.clone();
    let config = state.services.pipeline.config();
    let shown = in_inbox_fields(&config);
    let (hits, fields) = match state
        .services
        .pipeline
        .store()
        .read_long(move |r| {
            let hits = r.search(&parsed, &me, 50)?;
            // The values of the fields inbox rows show, for these tickets alone.
            let ids: Vec<i64> = hits.iter().map(|h| h.ticket_id).collect();
            let names: Vec<&str> = shown.iter().map(String::as_str).collect();
            let fields = r.fields_of(&ids, &names)?;
            Ok((hits, fields))
        })
        .await
    {
        Ok(found) => found,
        Err(e) => return Err(internal(e)),
    };
    Ok(Rendered::page(views::layout(
        "Search",
        session,
        &views::search(&q, open_only, &hits, (&config.ticket_fields, &fields)),
    )))
}

/// The names of the ticket fields a ticket's row shows (`in_inbox`).
fn in_inbox_fields(config: &crate::config::Config) -> Vec<String> {
    config
        .ticket_fields
        .iter()
        .filter(|f| f.in_inbox)
        .map(|f| f.name.clone())
        .collect()
}

/// The customers directory: everyone with a ticket, latest first, or those a search
/// (`q`: words of a name or address, or `@domain`) finds, or (`mine=1`) the agent's own
/// customers; `after` pages on.
async fn customers(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
) -> Result<Rendered, Response<Body>> {
    use views::customers::{Directory, MAX_SEARCH};
    let search = field(query, "q").unwrap_or("").trim().to_string();
    if search.chars().count() > MAX_SEARCH {
        return Err(text(
            StatusCode::BAD_REQUEST,
            &format!("Search for at most {MAX_SEARCH} characters."),
        ));
    }
    let after = match field(query, "after").filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match crate::store::CustomerCursor::parse(a) {
            Some(c) => Some(c),
            None => {
                return Err(text(
                    StatusCode::BAD_REQUEST,
                    "That is not a page of the customers list; start from the first.",
                ))
            }
        },
    };
    let mine = field(query, "mine") == Some("1");
    let erased = field(query, "erased") == Some("1");
    let words = search.clone();
    let me = mine.then(|| session.email.clone());
    let (list, agents) = state
        .services
        .pipeline
        .store()
        .read_long(move |r| {
            let words = Some(words.as_str()).filter(|w| !w.is_empty());
            Ok((r.customers(words, me.as_deref(), after)?, r.users()?))
        })
        .await
        .map_err(internal)?;
    let page = views::customers::directory(&Directory {
        search: &search,
        mine,
        list: &list,
        agents: &agents,
        later: after.is_some(),
        flash: erased.then_some(Ok("Erased: the desk no longer knows them.")),
    });
    Ok(Rendered::page(views::layout("Customers", session, &page)))
}

/// Customer `id`'s page (`flash`: what the last form did).
async fn customer(
    state: &WebState,
    session: &SessionView,
    id: i64,
    flash: Option<String>,
) -> Result<Rendered, Response<Body>> {
    let own = state.services.pipeline.config().own_addresses();
    let (found, agents) = state
        .services
        .pipeline
        .store()
        .read(move |r| Ok((r.customer(id, &own)?, r.users()?)))
        .await
        .map_err(internal)?;
    let Some(found) = found else {
        return Err(text(StatusCode::NOT_FOUND, "No such customer."));
    };
    let page = views::customers::customer(&views::customers::CustomerPage {
        customer: &found,
        agents: &agents,
        flash: flash.as_deref().map(Ok),
        csrf: &session.csrf,
        admin: session.admin,
    });
    let title = found
        .row
        .name
        .clone()
        .unwrap_or_else(|| found.row.email.clone());
    Ok(Rendered::page(views::layout(&title, session, &page)))
}

/// What only an administrator may do with customers and tickets.
const ERASING: &str = "erase a customer or delete a ticket";

/// The refusal for an agent who is not an administrator, naming what only one may do
/// (`doing`: "erase a customer or delete a ticket").
fn unless_admin(session: &SessionView, doing: &str) -> Option<Response<Body>> {
    (!session.admin).then(|| {
        text(
            StatusCode::FORBIDDEN,
            &format!("Only an administrator can {doing}."),
        )
    })
}

/// An administrator's page that says what an erasure would take and asks to confirm
/// it (never cached: it counts what is there now). `read` finds what it would take;
/// none is a 404 saying `missing`; `render` shows it under `title`.
async fn confirm_page<T, R>(
    state: &WebState,
    session: &SessionView,
    read: R,
    (missing, title): (&str, &str),
    render: impl FnOnce(&T, &str) -> String,
) -> Response<Body>
where
    T: Send + 'static,
    R: FnOnce(&Reader<'_>) -> Result<Option<T>, StoreError> + Send + 'static,
{
    if let Some(refused) = unless_admin(session, ERASING) {
        return refused;
    }
    match state.services.pipeline.store().read(read).await {
        Ok(Some(found)) => {
            let page = render(&found, &session.csrf);
            html(views::layout(title, session, &page))
        }
        Ok(None) => text(StatusCode::NOT_FOUND, missing),
        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
        Err(e) => internal(e),
    }
}

/// The page that says what deleting ticket `id` takes and asks to confirm it.
async fn delete_ticket_page(state: &WebState, session: &SessionView, id: i64) -> Response<Body> {
    confirm_page(
        state,
        session,
        move |r| r.ticket_deletion(id),
        ("No such ticket.", "Delete ticket"),
        |deletion, csrf| views::erase::ticket(&views::erase::TicketDelete { deletion, csrf }),
    )
    .await
}

/// "Delete for good": the ticket goes; back to its customer's page, which says so.
async fn delete_ticket(state: &WebState, session: &SessionView, id: &str) -> Response<Body> {
    if let Some(refused) = unless_admin(session, ERASING) {
        return refused;
    }
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "No such ticket.");
    };
    let store = state.services.pipeline.store();
    match store.delete_ticket(id, session.email.clone()).await {
        Ok(Some(deleted)) => {
            log::info!(
                "web: {} deleted ticket {id}: {} messages",
                session.email,
                deleted.messages
            );
            redirect(&format!("/customers/{}?deleted={id}", deleted.customer))
        }
        Ok(None) => text(StatusCode::NOT_FOUND, "No such ticket."),
        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
        Err(e) => internal(e),
    }
}

/// The page that says what erasing customer `id` takes and asks to confirm it.
async fn erase_page(state: &WebState, session: &SessionView, id: i64) -> Response<Body> {
    confirm_page(
        state,
        session,
        move |r| r.erasure(id),
        ("No such customer.", "Erase customer"),
        |erasure, csrf| views::erase::customer(&views::erase::CustomerErase { erasure, csrf }),
    )
    .await
}

/// "Erase for good": the address typed must be the customer's.
async fn erase_customer(
    state: &WebState,
    session: &SessionView,
    id: &str,
    form: &[(String, String)],
) -> Response<Body> {
    if let Some(refused) = unless_admin(session, ERASING) {
        return refused;
    }
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "No such customer.");
    };
    let store = state.services.pipeline.store();
    let email = match store.read(move |r| r.customer_email(id)).await {
        Ok(Some(email)) => email,
        Ok(None) => return text(StatusCode::NOT_FOUND, "No such customer."),
        Err(e) => return internal(e),
    };
    let typed = field(form, "confirm").unwrap_or("").trim();
    if !typed.eq_ignore_ascii_case(&email) {
        return text(
            StatusCode::BAD_REQUEST,
            "Nothing was erased: the address typed is not the customer's.",
        );
    }
    match store.erase_customer(id, session.email.clone()).await {
        Ok(Some(erased)) => {
            log::info!(
                "web: {} erased customer {id}: {} tickets, {} messages",
                session.email,
                erased.tickets,
                erased.messages + erased.elsewhere
            );
            redirect("/customers?erased=1")
        }
        Ok(None) => text(StatusCode::NOT_FOUND, "No such customer."),
        Err(e) => internal(e),
    }
}

/// What an "Edit contact" form says: the name, the owner (none: nobody) and the note
/// (absent: left as it is).
fn contact_edit(form: &[(String, String)]) -> (String, Option<String>, Option<String>) {
    let name = field(form, "name").unwrap_or("").to_string();
    let owner = field(form, "owner")
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_lowercase);
    (name, owner, field(form, "note").map(str::to_string))
}

/// "Edit contact" on a customer's page: their name, owner and note.
async fn save_customer(
    state: &WebState,
    me: String,
    id: &str,
    form: &[(String, String)],
) -> Response<Body> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "No such customer.");
    };
    let store = state.services.pipeline.store();
    let email = match store.read(move |r| r.customer_email(id)).await {
        Ok(Some(email)) => email,
        Ok(None) => return text(StatusCode::NOT_FOUND, "No such customer."),
        Err(e) => return internal(e),
    };
    let (name, owner, note) = contact_edit(form);
    match store.update_contact(email, name, owner, note, me).await {
        Ok(_) => redirect(&format!("/customers/{id}?saved=1")),
        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
        Err(e) => internal(e),
    }
}

/// The report the query asks for: the period (`days`, 7 unless said) in the agent's
/// clock (`zone`, else `tz` in minutes east of UTC, which the page's script adds), and
/// the agents.
async fn report_for(
    state: &WebState,
    query: &[(String, String)],
) -> Result<(crate::desk::reports::Report, Vec<crate::store::UserView>), Response<Body>> {
    use crate::desk::reports::{Clock, Period};
    let days = field(query, "days")
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(7);
    let clock = Clock::from_fields(field(query, "zone"), field(query, "tz"));
    let period = Period::last_days(days, unix_now(), clock);
    let config = state.services.pipeline.config();
    state
        .services
        .pipeline
        .store()
        .report(
            period,
            (config.channel_names(), config.ticket_fields.clone()),
            config.sla.clone(),
        )
        .await
        .map_err(internal)
}

/// The reports page.
async fn reports(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
) -> Result<Rendered, Response<Body>> {
    let (report, users) = report_for(state, query).await?;
    Ok(Rendered::page(views::layout(
        "Reports",
        session,
        &views::reports::page(&report, &users),
    )))
}

/// A table of the reports page as a CSV download (`table`: agents, channels, fields or
/// days).
async fn report_csv(state: &WebState, query: &[(String, String)]) -> Response<Body> {
    use views::reports::Table;
    let Some(table) = field(query, "table").and_then(Table::parse) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Say which table: table=agents, channels, fields or days.",
        );
    };
    let (report, users) = match report_for(state, query).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let mut r = respond(
        StatusCode::OK,
        "text/csv; charset=utf-8",
        views::reports::csv(&report, table, &users),
    );
    let name = format!("frontdesk-{}-{}-days.csv", table.name(), report.period.days);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut()
            .insert(hyper::header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Most rows an inbox download holds: past that, filters narrow it.
const EXPORT_MAX: usize = 50_000;

/// Rows an inbox download reads per step of its keyset walk.
const EXPORT_STEP: u32 = 1_000;

/// The rows of every page of a keyset walk, at most `max`: `page(cursor)` reads up to
/// `step` rows after `cursor` (`None`: from the first), and `cursor_of` gives a row's
/// place; a page shorter than `step` is the last.
fn every_page<T, E>(
    (step, max): (usize, usize),
    cursor_of: impl Fn(&T) -> i64,
    mut page: impl FnMut(Option<i64>) -> Result<Vec<T>, E>,
) -> Result<Vec<T>, E> {
    let mut rows: Vec<T> = Vec::new();
    let mut cursor = None;
    loop {
        let got = page(cursor)?;
        let last_page = got.len() < step;
        cursor = got.last().map(&cursor_of);
        rows.extend(got);
        if last_page || rows.len() >= max {
            rows.truncate(max);
            return Ok(rows);
        }
    }
}

/// An inbox view with its filters, every page of it (up to [`EXPORT_MAX`] rows), as a
/// CSV download for a spreadsheet: one row per ticket, a column per ticket field.
async fn inbox_csv(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
) -> Response<Body> {
    let mut ask = InboxAsk::of(query);
    // From the first page, whatever the link was on.
    ask.past = None;
    let view = ask.view;
    let config = state.services.pipeline.config();
    let cutoffs = config.sla.as_ref().map(|s| s.cutoffs(unix_now()));
    let me = session.email.clone();
    let names: Vec<String> = config
        .ticket_fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let found = state
        .services
        .pipeline
        .store()
        .read_long(move |r| {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let rows = every_page(
                (EXPORT_STEP as usize, EXPORT_MAX),
                |row: &crate::store::InboxRow| row.activity,
                |past| {
                    ask.past = past;
                    r.inbox(view, &me, &ask.query(EXPORT_STEP, cutoffs.clone()))
                },
            )?;
            let mut fields = Vec::new();
            let ids: Vec<i64> = rows.iter().map(|row| row.ticket.id).collect();
            for some in ids.chunks(EXPORT_STEP as usize) {
                fields.extend(r.fields_of(some, &names)?);
            }
            Ok((rows, fields))
        })
        .await;
    let (rows, fields) = match found {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let mut r = respond(
        StatusCode::OK,
        "text/csv; charset=utf-8",
        views::inbox_csv(&rows, &fields, &config.ticket_fields),
    );
    let name = format!("frontdesk-{}.csv", view.as_str());
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut()
            .insert(hyper::header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A message as it was received or sent (headers and all), as an `.eml` download: for
/// checking where a mail came from, or passing it on to someone who asks for it.
async fn original(state: &WebState, id: &str) -> Response<Body> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "No such message.");
    };
    let found = state
        .services
        .pipeline
        .store()
        .read_long(move |r| r.message_original(id))
        .await;
    let (ticket, raw) = match found {
        Ok(Some(f)) => f,
        Ok(None) => return text(StatusCode::NOT_FOUND, "No such message."),
        Err(e) => return internal(e),
    };
    // A download, never shown: a browser must not render what a stranger sent.
    let mut r = respond(StatusCode::OK, "message/rfc822", raw);
    let disposition = format!("attachment; filename=\"ticket-{ticket}-message-{id}.eml\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut()
            .insert(hyper::header::CONTENT_DISPOSITION, v);
    }
    super::secure_headers(&mut r, "default-src 'none'; sandbox");
    r
}

async fn attachment(state: &WebState, id: &str) -> Response<Body> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "No such file.");
    };
    let found = match state
        .services
        .pipeline
        .store()
        .read_long(move |r| r.attachment(id))
        .await
    {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let Some((a, _ticket, raw)) = found else {
        return text(StatusCode::NOT_FOUND, "No such file.");
    };
    let position = a.position as usize;
    let data =
        tokio::task::spawn_blocking(move || crate::ingest::parse::attachment_data(&raw, position))
            .await
            .ok()
            .flatten();
    let Some(data) = data else {
        return text(
            StatusCode::NOT_FOUND,
            "The file could not be read from the message.",
        );
    };
    // Images shown inline keep their type; everything else is a download, never rendered.
    let inline_image = a.inline
        && matches!(
            a.content_type.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        );
    let content_type = if inline_image {
        a.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let mut r = respond(StatusCode::OK, content_type, data);
    let name: String = a
        .filename
        .unwrap_or_else(|| "attachment".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = if inline_image { "inline" } else { "attachment" };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        r.headers_mut()
            .insert(hyper::header::CONTENT_DISPOSITION, v);
    }
    super::secure_headers(&mut r, "default-src 'none'; sandbox");
    r
}

/// An SSE `notice` event: what a desktop notification shows, and where it leads.
fn notice_event(n: &crate::store::DueNotice) -> String {
    let notice = crate::outbound::notice::Notice::of(n);
    let (title, body) = crate::outbound::notice::desktop(&notice);
    let data = serde_json::json!({
        "id": n.id,
        "ticket": n.ticket,
        "title": title,
        "body": body,
        "url": format!("/tickets/{}", n.ticket),
    });
    format!("event: notice\ndata: {data}\n\n")
}

fn events(
    state: &Arc<WebState>,
    session: &SessionView,
    token_hash: &str,
    query: &[(String, String)],
) -> Response<Body> {
    // An agent who owes the desk two-step sign-in keeps their account page live
    // (signed out, the page says so) but hears of no ticket's words or viewers.
    let quiet = two_step::owed(state, session);
    let ticket: Option<i64> = field(query, "ticket")
        .and_then(|t| t.parse().ok())
        .filter(|_| !quiet);
    let mut changes = state.services.pipeline.subscribe_changes();
    let mut presence_changes = state.presence_changes.subscribe();
    let mut notices = state.services.pipeline.store().subscribe_notices();
    let join = ticket.map(|t| {
        let id = state.presence.join(
            t,
            live::Viewer {
                email: session.email.clone(),
                name: session.name.clone(),
                replying: false,
            },
        );
        let _ = state.presence_changes.send(t);
        (t, id)
    });
    let me = session.email.clone();
    let token_hash = token_hash.to_string();
    let state = state.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let send = |b: String| tx.send(Bytes::from(b));
        let presence_json = |t: i64| {
            let list: Vec<serde_json::Value> = state
                .presence
                .on(t)
                .into_iter()
                .map(|v| serde_json::json!({ "name": v.name, "email": v.email, "replying": v.replying, "me": v.email == me }))
                .collect();
            serde_json::Value::Array(list).to_string()
        };
        if let Some((t, _)) = join {
            let _ = send(format!("event: presence\ndata: {}\n\n", presence_json(t))).await;
        }
        let mut keepalive = tokio::time::interval(Duration::from_secs(25));
        loop {
            let line = tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = tx.closed() => break,
                _ = keepalive.tick() => ": keep-alive\n\n".to_string(),
                c = changes.recv() => match c {
                    Ok(id) => format!("event: ticket\ndata: {id}\n\n"),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => "event: ticket\ndata: *\n\n".to_string(),
                    Err(_) => break,
                },
                p = presence_changes.recv() => match (p, join) {
                    (Ok(changed), Some((t, _))) if changed == t => format!("event: presence\ndata: {}\n\n", presence_json(t)),
                    (Err(tokio::sync::broadcast::error::RecvError::Closed), _) => break,
                    _ => continue,
                },
                // What the agent would be mailed about, at once, for the page to show
                // on their screen (see app.js).
                n = notices.recv() => match n {
                    Ok(n) if n.email == me && !n.moot && !quiet => notice_event(&n),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    _ => continue,
                },
            };
            // A stream lives no longer than its session: signing out or being
            // deactivated ends it at the next event.
            let hash = token_hash.clone();
            let alive = match state
                .services
                .pipeline
                .store()
                .read(move |r| r.session(&hash))
                .await
            {
                Ok(Some(s)) => session::SessionLimits::of(&state.services.pipeline.config().http)
                    .alive(s.created_at, s.last_seen, unix_now()),
                _ => false,
            };
            if !alive {
                // The page says so (and stops), rather than trying again to a refusal.
                let _ = send("event: signed-out\ndata: \n\n".to_string()).await;
                break;
            }
            if send(line).await.is_err() {
                break;
            }
        }
        if let Some((t, id)) = join {
            state.presence.leave(t, id);
            let _ = state.presence_changes.send(t);
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut r = Response::new(StreamBody::new(stream).boxed());
    if let Ok(v) = HeaderValue::from_str("text/event-stream") {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    super::secure_headers(&mut r, super::CSP);
    r
}

/// An owner menu's value: `agent:<email>`, `team:<name>` or `none`.
/// The answer to a reply or forward the page asked for: back to the ticket, or why not.
fn queued(state: &WebState, id: i64, result: Result<i64, ReplyError>) -> Response<Body> {
    match result {
        Ok(_) => {
            state.services.pipeline.ticket_changed(id);
            redirect(&format!("/tickets/{id}"))
        }
        Err(ReplyError::NotFound(e)) => text(StatusCode::NOT_FOUND, &e),
        // What the store refuses (a close the ticket's fields do not allow) is the
        // request's fault too, and nothing was kept.
        Err(ReplyError::Invalid(e) | ReplyError::Store(StoreError::Invalid(e))) => {
            text(StatusCode::BAD_REQUEST, &e)
        }
        Err(ReplyError::Store(e)) => internal(e),
    }
}

fn assignment(value: &str) -> Option<Assignment> {
    match value.split_once(':') {
        Some(("agent", a)) if !a.is_empty() => Some(Assignment::Agent(a.to_string())),
        Some(("team", t)) if !t.is_empty() => Some(Assignment::Team(t.to_string())),
        _ if value == "none" => Some(Assignment::Nobody),
        _ => None,
    }
}

/// Most tickets one bulk change may name (a page shows fewer).
const BULK_MAX: usize = 500;

/// Where a form may send the agent back to: one of our own inbox pages, else the inbox.
fn back_to(value: Option<&str>) -> &str {
    match value {
        Some(v) if v.starts_with("/inbox") && v.bytes().all(|b| b.is_ascii_graphic()) => v,
        _ => "/inbox",
    }
}

/// The inbox's bulk form: the checked tickets get a new owner and/or status, all or none.
async fn bulk(state: &WebState, form: &[(String, String)], me: String) -> Response<Body> {
    let mut tickets: Vec<i64> = Vec::new();
    for (name, value) in form {
        if name != "ticket" {
            continue;
        }
        match value.parse::<i64>() {
            Ok(id) if !tickets.contains(&id) => tickets.push(id),
            Ok(_) => {}
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "A selected ticket is not a number.",
                )
            }
        }
    }
    if tickets.is_empty() {
        return text(StatusCode::BAD_REQUEST, "Select at least one ticket.");
    }
    if tickets.len() > BULK_MAX {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("At most {BULK_MAX} tickets can be changed at once."),
        );
    }
    let assign = match field(form, "to").unwrap_or("") {
        "" => None,
        v => match assignment(v) {
            Some(to) => Some(to),
            None => return text(StatusCode::BAD_REQUEST, "Unknown assignment."),
        },
    };
    let stage = field(form, "stage")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    // The form's "Mark as spam" button.
    let spam = field(form, "spam") == Some("1");
    let apply = match macro_plan(state, form, (&me, false)) {
        Ok(plan) => plan,
        Err(why) => return text(StatusCode::BAD_REQUEST, &why),
    };
    if assign.is_none() && stage.is_none() && apply.is_none() && !spam {
        return text(
            StatusCode::BAD_REQUEST,
            "Choose a new owner, a new status or a macro for the selected tickets.",
        );
    }
    let change = BulkChange {
        assign,
        stage,
        apply,
        spam,
    };
    match state
        .services
        .pipeline
        .change_many(tickets, change, me)
        .await
    {
        Ok(_) => redirect(back_to(field(form, "back"))),
        Err(StoreError::Invalid(e)) => text(
            StatusCode::BAD_REQUEST,
            &format!("Nothing was changed: {e}."),
        ),
        Err(e) => internal(e),
    }
}

/// The macro a form names (`macro`) made concrete for `me`: none when the form names
/// none; refused in words when the config has no such macro (a reload took it away).
fn macro_plan(
    state: &WebState,
    form: &[(String, String)],
    (me, one_ticket): (&str, bool),
) -> Result<Option<crate::desk::macros::Plan>, String> {
    let Some(name) = field(form, "macro").filter(|n| !n.trim().is_empty()) else {
        return Ok(None);
    };
    let config = state.services.pipeline.config();
    match crate::desk::macros::find(&config.macros, name) {
        // Its reply is read and sent on each ticket's own page.
        Some(m) if m.reply.is_some() && !one_ticket => Err(format!(
            "Nothing was changed: the macro {:?} writes a reply for you to review, so it is applied from each ticket's page.",
            m.name
        )),
        Some(m) => Ok(Some(crate::desk::macros::plan(m, me, unix_now()))),
        None => Err(format!(
            "Nothing was changed: there is no macro named {:?}.",
            name.trim()
        )),
    }
}

/// The snippets page, with `flash` and (for a refused new snippet) its form refilled.
async fn snippets_page(
    state: &WebState,
    session: &SessionView,
    flash: Option<views::Flash<'_>>,
    draft: Option<(&str, &str)>,
    status: StatusCode,
) -> Response<Body> {
    let stored = match state.services.pipeline.store().read(|r| r.snippets()).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let config = state.services.pipeline.config();
    let page = views::snippets(&views::SnippetsPage {
        configured: config.snippets.iter().map(|s| s.name.as_str()).collect(),
        stored: &stored,
        flash,
        draft,
        csrf: &session.csrf,
    });
    let mut r = html(views::layout("Snippets", session, &page));
    *r.status_mut() = status;
    r
}

/// Add (`id` `None`), rewrite or delete a snippet written in the page.
async fn change_snippet(
    state: &WebState,
    session: &SessionView,
    id: Option<&str>,
    delete: bool,
    form: &[(String, String)],
) -> Response<Body> {
    let store = state.services.pipeline.store();
    let id = match id.map(str::parse::<i64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return text(StatusCode::NOT_FOUND, "No such snippet."),
    };
    let result = match (id, delete) {
        (Some(id), true) => store.delete_snippet(id).await.map(|_| "deleted"),
        (_, true) => return text(StatusCode::NOT_FOUND, "No such snippet."),
        (id, false) => {
            let typed = (
                field(form, "name").unwrap_or(""),
                field(form, "body").unwrap_or(""),
            );
            crate::outbound::save_snippet(
                &state.services.pipeline,
                id,
                typed,
                session.email.clone(),
            )
            .await
            .map(|_| if id.is_some() { "changed" } else { "added" })
        }
    };
    match result {
        Ok(what) => redirect(&format!("/snippets?saved={what}")),
        Err(StoreError::Invalid(e)) => {
            let why = format!("Nothing was saved: {e}.");
            // A refused new snippet goes back into its form; an edit stays in the list's.
            let draft = id.is_none().then(|| {
                (
                    field(form, "name").unwrap_or(""),
                    field(form, "body").unwrap_or(""),
                )
            });
            snippets_page(
                state,
                session,
                Some(Err(&why)),
                draft,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => internal(e),
    }
}

/// What the account page shows for `session`'s agent besides the password.
async fn account_settings(
    state: &WebState,
    session: &SessionView,
) -> Result<views::AccountSettings, StoreError> {
    let who = session.email.clone();
    let csrf = session.csrf.clone();
    let (prefs, user, setting, recovery_left, sessions) = state
        .services
        .pipeline
        .store()
        .read(move |r| {
            Ok((
                r.notify_prefs(&who)?,
                r.user(&who)?,
                r.two_step_pending(&who)?,
                r.recovery_left(&who)?,
                r.sessions_of(&who, &csrf)?,
            ))
        })
        .await?;
    let config = state.services.pipeline.config();
    let sessions = views::sessions::live(
        sessions,
        session::SessionLimits::of(&config.http),
        unix_now(),
    );
    let two_step = match (user.as_ref().is_some_and(|u| u.two_step), setting) {
        (true, _) => views::two_step::TwoStep::On {
            recovery_left,
            fresh: Vec::new(),
        },
        (false, Some(secret)) => views::two_step::TwoStep::Setting {
            secret,
            issuer: config.daemon.company_name.clone(),
        },
        (false, None) => views::two_step::TwoStep::Off,
    };
    Ok(views::AccountSettings {
        two_step,
        sessions,
        prefs: prefs.unwrap_or_default(),
        enabled: config.notifications.is_some(),
        signature: user.map(|u| u.signature).unwrap_or_default(),
        signature_shown: config.channels.iter().any(|c| {
            c.signature
                .as_ref()
                .is_some_and(|t| t.uses("agent.signature"))
        }),
    })
}

/// An agent keeps their own signature lines (see
/// [`crate::outbound::compose::agent_signature`]); one too long changes nothing.
async fn save_signature(state: &WebState, me: String, form: &[(String, String)]) -> Response<Body> {
    let signature =
        match crate::outbound::compose::agent_signature(field(form, "signature").unwrap_or("")) {
            Ok(s) => s,
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("Nothing was changed: {e}."),
                )
            }
        };
    let changes = UserChanges {
        signature: Some(signature),
        ..Default::default()
    };
    save_account(state, me, changes, "signature").await
}

/// Store a change an agent made on their account page, then show the page again
/// saying `what` changed.
async fn save_account(
    state: &WebState,
    me: String,
    changes: UserChanges,
    what: &str,
) -> Response<Body> {
    match state
        .services
        .pipeline
        .store()
        .update_user(me, changes)
        .await
    {
        Ok(words) => {
            log::info!("web: {words}");
            redirect(&format!("/me?changed={what}"))
        }
        Err(e) => internal(e),
    }
}

/// An agent chooses which notification mail they get: the ticked boxes (`notify`),
/// every other kind off. An unknown kind changes nothing.
async fn save_notifications(
    state: &WebState,
    me: String,
    form: &[(String, String)],
) -> Response<Body> {
    let mut chosen = Vec::new();
    for (key, value) in form.iter().filter(|(k, _)| k == "notify") {
        match Reason::parse(value) {
            Some(r) => chosen.push(r),
            None => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("Nothing was changed: unknown {key} {value:?}."),
                )
            }
        }
    }
    let changes = UserChanges {
        notify: Some(Prefs::from_fn(|r| chosen.contains(&r))),
        ..Default::default()
    };
    save_account(state, me, changes, "notifications").await
}

/// The account page again with `why` on top, answered with `status`.
async fn account_refused(
    state: &WebState,
    session: &SessionView,
    status: StatusCode,
    why: &str,
) -> Response<Body> {
    match account_settings(state, session).await {
        Ok(settings) => {
            let mut r = html(views::layout(
                "Your account",
                session,
                &views::account(session, Some(Err(why)), &settings),
            ));
            *r.status_mut() = status;
            r
        }
        Err(e) => internal(e),
    }
}

/// Check the current password an account form carries (`current`): a wrong one counts
/// as a failed sign-in of the account, with the same limit. The refusal's status and
/// words, to be said on the account page.
async fn current_password_ok(
    state: &WebState,
    session: &SessionView,
    form: &[(String, String)],
) -> Result<(), (StatusCode, String)> {
    let keys = vec![format!("account:{}", session.email)];
    let now = unix_now();
    if let Some(wait) = state.limiter.blocked(&keys, now) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong passwords. Try again in {} minute(s).",
                wait.max(60) / 60
            ),
        ));
    }
    let current = field(form, "current").unwrap_or("").to_string();
    let store = state.services.pipeline.store();
    let who = session.email.clone();
    let hash = match store.read(move |r| r.login_record(&who)).await {
        Ok(Some(record)) => record.password_hash.unwrap_or_default(),
        Ok(None) => return Err((StatusCode::FORBIDDEN, "No such agent.".into())),
        Err(e) => {
            log::error!("web: {e}");
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "The desk cannot check your password now; try again shortly.".into(),
            ));
        }
    };
    let verified =
        tokio::task::spawn_blocking(move || crate::auth::verify_password(&current, &hash))
            .await
            .unwrap_or(false);
    if !verified {
        state.limiter.failed(&keys, now);
        log::warn!(
            "web: wrong current password from {}'s session",
            session.email
        );
        return Err((
            StatusCode::BAD_REQUEST,
            "Not changed: the current password is wrong.".into(),
        ));
    }
    Ok(())
}

/// An agent changes their own password: the current one first, then the new one twice.
/// Every other session of theirs ends; this one stays.
async fn change_password(
    state: &WebState,
    session: &SessionView,
    token_hash: &str,
    form: &[(String, String)],
) -> Response<Body> {
    let new = field(form, "new").unwrap_or("").to_string();
    if let Err(e) = crate::auth::check_new_password(&new, Some(field(form, "repeat").unwrap_or("")))
    {
        return account_refused(
            state,
            session,
            StatusCode::BAD_REQUEST,
            &format!("Not changed: {e}."),
        )
        .await;
    }
    if let Err((status, why)) = current_password_ok(state, session, form).await {
        return account_refused(state, session, status, &why).await;
    }
    let Ok(Ok(hash)) = tokio::task::spawn_blocking(move || crate::auth::hash_password(&new)).await
    else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot hash the password.",
        );
    };
    let changes = UserChanges {
        password_hash: Some(hash),
        keep_session: Some(token_hash.to_string()),
        ..Default::default()
    };
    match state
        .services
        .pipeline
        .store()
        .update_user(session.email.clone(), changes)
        .await
    {
        Ok(words) => {
            log::info!("web: {words}");
            redirect("/me?changed=password")
        }
        Err(e) => internal(e),
    }
}

/// An agent saves the inbox view a page showed (`link`) under `name`, and sees it.
/// How many tickets each of the agent's saved views holds, as JSON (`{"id": count}`):
/// the inbox's script fills them in after the page, which would otherwise wait for a
/// walk of the desk's tickets per saved view. Kept until something is written.
async fn saved_view_counts(state: &WebState, session: &SessionView) -> Response<Body> {
    let sla = state.services.pipeline.config().sla.clone();
    let now = stamp(
        state,
        Shows {
            minute: sla.is_some(),
            read_marks: None,
        },
    );
    let me = session.email.clone();
    let counts = match state.saved_counts.get(&me, now) {
        Some(counts) => counts,
        None => {
            let cutoffs = sla.as_ref().map(|s| s.cutoffs(unix_now()));
            let who = me.clone();
            let read = state.services.pipeline.store().read_long(move |r| {
                r.saved_views(&who)?
                    .into_iter()
                    .map(|v| {
                        let query = v.link.strip_prefix("/inbox?").unwrap_or("");
                        let ask = InboxAsk::of(&session::parse_form(query.as_bytes()));
                        Ok((
                            v.id,
                            r.inbox_count(ask.view, &who, &ask.query(0, cutoffs.clone()))?,
                        ))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            });
            match read.await {
                Ok(counts) => {
                    state.saved_counts.put(&me, now, counts.clone());
                    counts
                }
                Err(e) => return internal(e),
            }
        }
    };
    let body: serde_json::Map<String, serde_json::Value> = counts
        .into_iter()
        .map(|(id, n)| (id.to_string(), n.into()))
        .collect();
    respond(
        StatusCode::OK,
        "application/json",
        serde_json::Value::Object(body).to_string(),
    )
}

async fn save_view(state: &WebState, me: String, form: &[(String, String)]) -> Response<Body> {
    let name = match views::saved_view_name(field(form, "name").unwrap_or("")) {
        Ok(name) => name,
        Err(why) => return text(StatusCode::BAD_REQUEST, why),
    };
    // Kept as the page would link it: only an inbox view and its filters, from page 1.
    let Some(query) = field(form, "link").and_then(|l| l.strip_prefix("/inbox?")) else {
        return text(StatusCode::BAD_REQUEST, "Only an inbox view can be saved.");
    };
    let ask = InboxAsk::of(&session::parse_form(query.as_bytes()));
    let link = views::inbox_link(ask.view, ask.filters(), None);
    match state
        .services
        .pipeline
        .store()
        .save_view(me, name, link.clone())
        .await
    {
        Ok(()) => redirect(&link),
        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
        Err(e) => internal(e),
    }
}

async fn post(
    state: &WebState,
    session: &SessionView,
    token_hash: &str,
    parts: &[&str],
    form: &[(String, String)],
    files: Vec<OutgoingAttachment>,
) -> Response<Body> {
    let store = state.services.pipeline.store();
    let me = session.email.clone();
    let done = |ticket: i64, result: Result<String, StoreError>| match result {
        Ok(_) => {
            state.services.pipeline.ticket_changed(ticket);
            redirect(&format!("/tickets/{ticket}"))
        }
        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
        Err(e) => internal(e),
    };
    match parts {
        ["tickets", "bulk"] => bulk(state, form, me).await,
        ["tickets", "new"] => open_ticket(state, session, form, files).await,
        ["logout"] => {
            let _ = store.delete_session(token_hash.to_string()).await;
            let mut r = redirect("/login");
            let secure = state.services.pipeline.config().http.secure_cookies();
            if let Ok(v) = HeaderValue::from_str(&session::set_cookie(None, 0, secure)) {
                r.headers_mut().insert(SET_COOKIE, v);
            }
            r
        }
        ["agents"] => agents::post(state, session, token_hash, "", form).await,
        ["agents", action] => agents::post(state, session, token_hash, action, form).await,
        ["me", "password"] => change_password(state, session, token_hash, form).await,
        ["me", "two-step", "setup"] => two_step::setup(state, session).await,
        ["me", "two-step", "cancel"] => two_step::cancel(state, session).await,
        ["me", "two-step", "on"] => two_step::turn_on(state, session, token_hash, form).await,
        ["me", "two-step", "off"] => two_step::turn_off(state, session, form).await,
        ["me", "sessions", which] => {
            let only = match *which {
                "end" => match field(form, "session") {
                    Some(hash) => Some(hash.to_string()),
                    None => return text(StatusCode::BAD_REQUEST, "Which session?"),
                },
                "others" => None,
                _ => return text(StatusCode::NOT_FOUND, "Not found."),
            };
            let one = only.is_some();
            match store
                .end_sessions(me.clone(), token_hash.to_string(), only)
                .await
            {
                Ok(ended) => {
                    log::info!("web: {me} signed out {ended} other session(s)");
                    redirect(if one {
                        "/me?changed=session-ended#sessions"
                    } else {
                        "/me?changed=sessions-ended#sessions"
                    })
                }
                Err(e) => internal(e),
            }
        }
        ["me", "two-step", "recovery"] => two_step::new_recovery_codes(state, session, form).await,
        ["me", "notifications"] => save_notifications(state, me, form).await,
        ["me", "signature"] => save_signature(state, me, form).await,
        ["views"] => save_view(state, me, form).await,
        ["views", id, "delete"] => match id.parse::<i64>() {
            Ok(id) => match store.delete_view(me, id).await {
                Ok(_) => redirect("/inbox"),
                Err(StoreError::Invalid(e)) => text(StatusCode::NOT_FOUND, &e),
                Err(e) => internal(e),
            },
            Err(_) => text(StatusCode::NOT_FOUND, "No such saved view."),
        },
        ["customers", id, "contact"] => save_customer(state, me, id, form).await,
        ["customers", id, "erase"] => erase_customer(state, session, id, form).await,
        ["snippets"] => change_snippet(state, session, None, false, form).await,
        ["snippets", id] => change_snippet(state, session, Some(id), false, form).await,
        ["snippets", id, "delete"] => change_snippet(state, session, Some(id), true, form).await,
        // An agent corrects or deletes their own internal note.
        ["messages", id, action @ ("edit" | "delete")] => {
            let Ok(row) = id.parse::<i64>() else {
                return text(StatusCode::NOT_FOUND, "No such note.");
            };
            let result = if *action == "edit" {
                let body = field(form, "body").unwrap_or("").trim().to_string();
                if body.is_empty() {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "The note is empty: to remove it, delete it.",
                    );
                }
                store.edit_note(row, me, body).await
            } else {
                store.delete_note(row, Some(me)).await
            };
            match result {
                Ok(ticket) => {
                    state.services.pipeline.ticket_changed(ticket);
                    redirect(&format!("/tickets/{ticket}"))
                }
                Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                Err(e) => internal(e),
            }
        }
        // A mail still waiting (or refused by the relay): stop it, or send it now.
        ["outbox", id, action @ ("cancel" | "retry")] => {
            let Ok(id) = id.parse::<i64>() else {
                return text(StatusCode::NOT_FOUND, "No such outgoing mail.");
            };
            let pipeline = &state.services.pipeline;
            let result = if *action == "cancel" {
                store
                    .outbox_cancel(id, me, pipeline.config().pipelines.clone())
                    .await
                    .inspect(|_| pipeline.outbox_cancelled(id))
            } else {
                store
                    .outbox_retry(id, me)
                    .await
                    .inspect(|_| pipeline.kick_outbox())
            };
            match result {
                Ok(ticket) => {
                    pipeline.ticket_changed(ticket);
                    redirect(&format!("/tickets/{ticket}"))
                }
                Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                Err(e) => internal(e),
            }
        }
        ["me", "availability"] => {
            let available = field(form, "available") == Some("on");
            match store
                .update_user(
                    me,
                    UserChanges {
                        available: Some(available),
                        ..Default::default()
                    },
                )
                .await
            {
                Ok(_) => redirect("/inbox"),
                Err(e) => internal(e),
            }
        }
        ["tickets", id, "delete"] => delete_ticket(state, session, id).await,
        ["tickets", id, action] => {
            let Ok(id) = id.parse::<i64>() else {
                return text(StatusCode::NOT_FOUND, "No such ticket.");
            };
            match *action {
                "reply" => {
                    // "Schedule": sent at the picked time (turned into UTC by the page).
                    let send_at = match field(form, "then") {
                        Some("later") => {
                            match field(form, "send_at").filter(|v| !v.trim().is_empty()) {
                                Some(v) => match crate::outbound::scheduled_at(unix_now(), v) {
                                    Ok(at) => Some(at),
                                    Err(e) => {
                                        return text(
                                            StatusCode::BAD_REQUEST,
                                            &format!("Not sent: {e}."),
                                        )
                                    }
                                },
                                None => {
                                    return text(
                                        StatusCode::BAD_REQUEST,
                                        "Not sent: pick when to send it.",
                                    )
                                }
                            }
                        }
                        _ => None,
                    };
                    let body = field(form, "body").unwrap_or("").to_string();
                    let request = ReplyRequest {
                        ticket: id,
                        agent_email: me,
                        body,
                        cc: vec![field(form, "cc").unwrap_or("").to_string()],
                        quote: field(form, "quote") == Some("1"),
                        // The form's "Send and close" button.
                        close: field(form, "then") == Some("close"),
                        attachments: files,
                        forward: None,
                        forward_message: None,
                        offered: field(form, "offered").map(str::to_string),
                        send_at,
                    };
                    queued(
                        state,
                        id,
                        queue_reply(&state.services.pipeline, request).await,
                    )
                }
                "forward" => {
                    // Which mail: the form's menu; without one, the latest incoming.
                    let forward_message = match field(form, "message").filter(|m| !m.is_empty()) {
                        None => None,
                        Some(m) => match m.parse::<i64>() {
                            Ok(row) => Some(row),
                            Err(_) => {
                                return text(StatusCode::BAD_REQUEST, "No such mail to forward.")
                            }
                        },
                    };
                    let request = ReplyRequest {
                        ticket: id,
                        agent_email: me,
                        body: field(form, "body").unwrap_or("").to_string(),
                        cc: Vec::new(),
                        quote: false,
                        close: false,
                        attachments: Vec::new(),
                        forward: Some(field(form, "to").unwrap_or("").to_string()),
                        forward_message,
                        offered: None,
                        send_at: None,
                    };
                    queued(
                        state,
                        id,
                        queue_reply(&state.services.pipeline, request).await,
                    )
                }
                "note" => {
                    let body = field(form, "body").unwrap_or("").trim().to_string();
                    if body.is_empty() && files.is_empty() {
                        return text(StatusCode::BAD_REQUEST, "The note is empty.");
                    }
                    let files = match crate::outbound::note_files(&me, &body, &files) {
                        Ok(f) => f,
                        Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
                    };
                    done(
                        id,
                        store
                            .add_note(id, me, body, files)
                            .await
                            .map(|_| String::new()),
                    )
                }
                "macro" => {
                    let apply = match macro_plan(state, form, (&me, true)) {
                        Ok(Some(plan)) => Some(plan),
                        Ok(None) => return text(StatusCode::BAD_REQUEST, "Choose a macro."),
                        Err(why) => return text(StatusCode::BAD_REQUEST, &why),
                    };
                    // A macro that writes a reply: the page puts it in the reply box
                    // (named in the fragment, which no server sees) once applied.
                    let config = state.services.pipeline.config();
                    let back = match apply.as_ref().and_then(|p| {
                        crate::desk::macros::find(&config.macros, &p.name)
                            .filter(|m| m.reply.is_some())
                    }) {
                        Some(m) => format!(
                            "/tickets/{id}#macro-reply={}",
                            crate::model::percent_encode(&m.name)
                        ),
                        None => format!("/tickets/{id}"),
                    };
                    let change = BulkChange {
                        assign: None,
                        stage: None,
                        apply,
                        spam: false,
                    };
                    match state
                        .services
                        .pipeline
                        .change_many(vec![id], change, me)
                        .await
                    {
                        Ok(_) => redirect(&back),
                        Err(StoreError::Invalid(e)) => text(
                            StatusCode::BAD_REQUEST,
                            &format!("Nothing was changed: {e}."),
                        ),
                        Err(e) => internal(e),
                    }
                }
                "fields" => {
                    let config = state.services.pipeline.config();
                    let mut changes = Vec::new();
                    // Boxes the form does not send are left as they are.
                    for def in &config.ticket_fields {
                        let Some(typed) = field(form, &format!("field:{}", def.name)) else {
                            continue;
                        };
                        match crate::desk::ticket_fields::check(def, typed) {
                            Ok(value) => changes.push((def.name.clone(), value)),
                            Err(e) => {
                                return text(
                                    StatusCode::BAD_REQUEST,
                                    &format!("Nothing was changed: {e}."),
                                )
                            }
                        }
                    }
                    if changes.is_empty() {
                        return text(StatusCode::BAD_REQUEST, "No ticket field was given.");
                    }
                    done(id, store.set_ticket_fields(id, changes, me).await)
                }
                "assign" => {
                    let to = match field(form, "to").unwrap_or("") {
                        "" => Assignment::Nobody,
                        v => match assignment(v) {
                            Some(to) => to,
                            None => return text(StatusCode::BAD_REQUEST, "Unknown assignment."),
                        },
                    };
                    done(id, store.assign(id, to, me).await)
                }
                // Back to the inbox, where it is new again (the ticket page would mark
                // it read).
                "unread" => match store.mark_unseen(me, id).await {
                    Ok(()) => redirect("/inbox"),
                    Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                    Err(e) => internal(e),
                },
                "follow" => {
                    let on = match field(form, "on") {
                        Some("1") => true,
                        Some("0") => false,
                        _ => return text(StatusCode::BAD_REQUEST, "Say on=1 or on=0."),
                    };
                    let result = store.follow(id, me, on).await;
                    done(id, result.map(|words| words.unwrap_or_default()))
                }
                "status" => {
                    let stage = field(form, "stage").unwrap_or("").to_string();
                    let pipelines = state.services.pipeline.config().pipelines.clone();
                    done(id, store.change_status(id, stage, pipelines, me).await)
                }
                "pipeline" => {
                    let pipeline = field(form, "pipeline").unwrap_or("").to_string();
                    let stage = field(form, "stage")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                    let pipelines = state.services.pipeline.config().pipelines.clone();
                    done(
                        id,
                        store
                            .change_pipeline(id, pipeline, stage, pipelines, me)
                            .await,
                    )
                }
                "merge" => {
                    let into = field(form, "into")
                        .map(|v| v.trim().trim_start_matches('#'))
                        .and_then(|v| v.parse::<i64>().ok());
                    let Some(into) = into else {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "Give the number of the ticket to merge into.",
                        );
                    };
                    match store.merge(id, into, me).await {
                        Ok(_) => {
                            state.services.pipeline.ticket_changed(id);
                            state.services.pipeline.ticket_changed(into);
                            redirect(&format!("/tickets/{into}"))
                        }
                        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                        Err(e) => internal(e),
                    }
                }
                "split" => {
                    let Some(message) = field(form, "message").and_then(|m| m.parse().ok()) else {
                        return text(StatusCode::BAD_REQUEST, "No such mail to split off.");
                    };
                    let config = state.services.pipeline.config();
                    let desk = (config.pipelines.clone(), config.own_addresses());
                    match store.split(id, message, desk, me).await {
                        Ok(new) => {
                            state.services.pipeline.ticket_changed(id);
                            state.services.pipeline.ticket_changed(new);
                            redirect(&format!("/tickets/{new}"))
                        }
                        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                        Err(e) => internal(e),
                    }
                }
                "tags" => {
                    let add = crate::desk::tags::split_list(field(form, "add").unwrap_or(""));
                    let remove: Vec<String> = form
                        .iter()
                        .filter(|(k, _)| k == "remove")
                        .map(|(_, v)| v.clone())
                        .collect();
                    if add.is_empty() && remove.is_empty() {
                        return text(StatusCode::BAD_REQUEST, "Type a tag to add.");
                    }
                    done(id, store.set_tags(id, add, remove, me).await)
                }
                "priority" => match Priority::parse(field(form, "priority").unwrap_or("")) {
                    Some(p) => done(id, store.change_priority(id, p, me).await),
                    None => text(
                        StatusCode::BAD_REQUEST,
                        "Priority must be low, medium, high or urgent.",
                    ),
                },
                "contact" => {
                    // The panel edits the ticket's customer.
                    let contact = store
                        .read(move |r| Ok(r.ticket(id)?.map(|t| t.contact.email)))
                        .await;
                    match contact {
                        Ok(Some(email)) => {
                            let (name, owner, note) = contact_edit(form);
                            done(
                                id,
                                store
                                    .update_contact(email, name, owner, note, me.to_string())
                                    .await,
                            )
                        }
                        Ok(None) => text(StatusCode::NOT_FOUND, "No such ticket."),
                        Err(e) => internal(e),
                    }
                }
                "people" => {
                    let who = field(form, "remove").unwrap_or("").trim().to_lowercase();
                    done(id, store.remove_participant(id, who, me).await)
                }
                "spam" => {
                    let spam = match field(form, "spam") {
                        Some("1") => true,
                        Some("0") => false,
                        _ => return text(StatusCode::BAD_REQUEST, "Say spam=1 or spam=0."),
                    };
                    let config = state.services.pipeline.config();
                    // "Block all of example.net" ticked: the desk's own domains are safe.
                    let domain =
                        (field(form, "domain") == Some("1")).then(|| config.own_addresses());
                    done(
                        id,
                        store
                            .mark_spam(id, spam, (config.pipelines.clone(), domain), me)
                            .await,
                    )
                }
                "subject" => done(
                    id,
                    store
                        .rename(id, field(form, "subject").unwrap_or("").to_string(), me)
                        .await,
                ),
                "snooze" => {
                    let given = |name| field(form, name).filter(|v| !v.trim().is_empty());
                    let now = unix_now();
                    // A time picked on the page comes as `until`, turned into UTC by
                    // the page's script from the agent's own clock (`at` is theirs).
                    let end = match (given("wake"), given("until"), given("at")) {
                        (Some(_), _, _) => Ok(None),
                        (None, Some(until), _) => crate::desk::snooze::end_at(now, until).map(Some),
                        (None, None, Some(_)) => {
                            return text(
                                StatusCode::BAD_REQUEST,
                                "The page could not read that time: choose a length instead.",
                            )
                        }
                        (None, None, None) => {
                            crate::desk::snooze::end_after(now, field(form, "for").unwrap_or(""))
                                .map(Some)
                        }
                    };
                    let until = match end {
                        Ok(until) => until,
                        Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
                    };
                    // The pipeline tells open pages itself (and the waker).
                    match state.services.pipeline.snooze(id, until, me).await {
                        Ok(_) => redirect(&format!("/tickets/{id}")),
                        Err(StoreError::Invalid(e)) => text(StatusCode::BAD_REQUEST, &e),
                        Err(e) => internal(e),
                    }
                }
                "replying" => {
                    state.presence.replying(id, &session.email);
                    let _ = state.presence_changes.send(id);
                    respond(StatusCode::NO_CONTENT, "text/plain", "")
                }
                _ => text(StatusCode::NOT_FOUND, "Not found."),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "Not found."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_walks_every_page_up_to_its_limit() {
        // Ten rows, newest first, by their place in the order.
        let all: Vec<i64> = (1..=10).rev().collect();
        // The rows, and the cursors the walk asked with.
        let walk = |(step, max): (usize, usize)| {
            let mut asked = Vec::new();
            let rows = every_page::<i64, ()>(
                (step, max),
                |row| *row,
                |past| {
                    asked.push(past);
                    Ok(all
                        .iter()
                        .copied()
                        .filter(|a| past.is_none_or(|p| *a < p))
                        .take(step)
                        .collect())
                },
            )
            .unwrap();
            (rows, asked)
        };
        assert_eq!(
            walk((3, 100)),
            (all.clone(), vec![None, Some(8), Some(5), Some(2)])
        );
        // A last page exactly full needs one more (empty) read.
        assert_eq!(walk((5, 100)), (all.clone(), vec![None, Some(6), Some(1)]));
        let (rows, asked) = walk((3, 5));
        assert_eq!((rows.as_slice(), asked.len()), (&all[..5], 2));
        assert!(every_page::<i64, ()>((3, 5), |r| *r, |_| Ok(Vec::new()))
            .unwrap()
            .is_empty());
        assert_eq!(
            every_page::<i64, &str>((3, 5), |r| *r, |_| Err("gone")),
            Err("gone")
        );
    }

    #[test]
    fn owner_menu_values() {
        assert_eq!(
            assignment("agent:bob@acme.test"),
            Some(Assignment::Agent("bob@acme.test".into()))
        );
        assert_eq!(
            assignment("team:tier1"),
            Some(Assignment::Team("tier1".into()))
        );
        assert_eq!(assignment("none"), Some(Assignment::Nobody));
        for bad in ["", "agent:", "team:", "bob@acme.test", "user:bob", "None"] {
            assert_eq!(assignment(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn forms_send_back_only_to_our_own_inbox() {
        assert_eq!(
            back_to(Some("/inbox?view=all&before=57")),
            "/inbox?view=all&before=57"
        );
        assert_eq!(back_to(Some("/inbox")), "/inbox");
        for bad in [
            None,
            Some(""),
            Some("https://evil.example/inbox"),
            Some("//evil.example/inbox"),
            Some("/tickets/1"),
            Some("/inbox\r\nSet-Cookie: x=1"),
            Some("/inbox?q=\u{e9}"),
            Some("/inbox view"),
        ] {
            assert_eq!(back_to(bad), "/inbox", "{bad:?}");
        }
    }
}
