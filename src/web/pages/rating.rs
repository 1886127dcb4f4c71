//! `/rate/{ticket}/{mac}`: a customer rates a reply from the links under it. No
//! session: the link's MAC is the customer's proof (it names one reply and cannot be
//! guessed), so a link that does not verify is refused and changes nothing. Opening the
//! page only asks (mail scanners follow links); the rating is kept when it is sent.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::{current_session, internal, query_of, read_form, text, Body, WebState};
use crate::desk::ratings::{mac_matches, Rating};
use crate::model::unix_now;
use crate::store::RateableReply;
use crate::web::respond;
use crate::web::session::field;
use crate::web::views::rating as view;

/// A page of the rating flow with its status.
fn page(status: StatusCode, html: String) -> Response<Body> {
    respond(status, "text/html; charset=utf-8", html)
}

/// Handle `/rate/` + `rest`.
pub(super) async fn handle(
    req: Request<Incoming>,
    state: &Arc<WebState>,
    rest: &str,
) -> Response<Body> {
    let not_known = || {
        page(
            StatusCode::NOT_FOUND,
            view::refused(
                "This rating link is not known. Please use the link in our mail as it came.",
            ),
        )
    };
    let Some((ticket, mac)) = rest.split_once('/') else {
        return not_known();
    };
    let Ok(ticket) = ticket.parse::<i64>() else {
        return not_known();
    };
    if current_session(&req, state).await.is_some() {
        // An agent following the link in the thread would rate their own reply.
        return page(
            StatusCode::FORBIDDEN,
            view::refused(
                "You are signed in to the desk: this link is for the customer who got the reply.",
            ),
        );
    }
    let reply = match find(state, ticket, mac).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_known(),
        Err(r) => return r,
    };
    let action = format!("/rate/{ticket}/{mac}");
    let company = state.services.pipeline.config().daemon.company_name.clone();
    match *req.method() {
        Method::GET => {
            let chosen = field(&query_of(&req), "r").and_then(Rating::parse);
            page(StatusCode::OK, view::ask(&reply, chosen, &action, &company))
        }
        Method::POST => {
            let Some(form) = read_form(req).await else {
                return text(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
            };
            let Some(rating) = field(&form, "rating").and_then(Rating::parse) else {
                return page(
                    StatusCode::BAD_REQUEST,
                    view::refused("Please choose Good, Okay or Not good."),
                );
            };
            let comment = field(&form, "comment").unwrap_or("").trim().to_string();
            if comment.chars().count() > view::MAX_COMMENT {
                return page(
                    StatusCode::BAD_REQUEST,
                    view::refused(&format!(
                        "Please keep your words under {} characters.",
                        view::MAX_COMMENT
                    )),
                );
            }
            let now = unix_now();
            let keys = [format!("rating:{}", reply.row)];
            if let Some(wait) = state.limiter.blocked(&keys, now) {
                return page(
                    StatusCode::TOO_MANY_REQUESTS,
                    view::refused(&format!(
                        "This rating was changed many times in a short while. Please try again in {} minutes.",
                        (wait + 59) / 60
                    )),
                );
            }
            state.limiter.failed(&keys, now);
            let store = state.services.pipeline.store();
            match store.rate(reply.row, rating, comment, now).await {
                Ok(words) => {
                    log::info!("ticket #{}: the customer {words}", reply.ticket);
                    state.services.pipeline.ticket_changed(reply.ticket);
                    page(StatusCode::OK, view::thanks(rating))
                }
                Err(e) => internal(e),
            }
        }
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
    }
}

/// The reply on `ticket` whose rating MAC is `mac`.
async fn find(
    state: &WebState,
    ticket: i64,
    mac: &str,
) -> Result<Option<RateableReply>, Response<Body>> {
    let store = state.services.pipeline.store();
    let replies = store
        .read(move |r| r.rateable_replies(ticket))
        .await
        .map_err(internal)?;
    let secret = store.secret();
    Ok(replies
        .into_iter()
        .find(|r| mac_matches(secret, &r.message_id, mac)))
}
