//! Two-step sign-in: the code step of `/login` for an agent who has it on (the app's
//! code or a recovery code), and the account page's forms that set it up
//! (`/me/two-step/setup`, `on`, `cancel`), make new recovery codes (`recovery`) and turn
//! it off (`off`); those two take the current password. Every wrong code counts as a
//! failed sign-in of the account and of the address, under the same limits as
//! passwords.

use std::net::SocketAddr;

use hyper::{Method, Response, StatusCode};

use super::{
    account_refused, account_settings, current_password_ok, html, internal, signed_in, text, Body,
    WebState,
};
use crate::auth::totp;
use crate::model::unix_now;
use crate::store::{NewSession, SecondStep, SessionView, UserChanges};
use crate::web::session::{self, field};
use crate::web::{redirect, views};

/// Whether the desk requires two-step sign-in (`[http] require_two_step`) of this
/// agent, who has not set it up.
pub(super) fn owed(state: &WebState, session: &SessionView) -> bool {
    state.services.pipeline.config().http.require_two_step && !session.two_step
}

/// What an agent who [`owed`] two-step sign-in may still do: set it up on their
/// account page (kept live), and sign out.
pub(super) fn allowed_before(method: &Method, parts: &[&str]) -> bool {
    match (method, parts) {
        (&Method::GET, ["me"] | ["events"]) => true,
        (&Method::POST, ["logout"]) => true,
        (&Method::POST, ["me", "two-step", step]) => matches!(*step, "setup" | "on" | "cancel"),
        _ => false,
    }
}

/// The code page again, saying why, answered with `status`.
fn code_again(status: StatusCode, why: &str, token: &str) -> Response<Body> {
    let mut r = html(views::two_step::code_page(Some(why), token));
    *r.status_mut() = status;
    r
}

/// The sign-in form from the start, saying why, answered with `status`.
fn start_again(status: StatusCode, why: &str, email: &str) -> Response<Body> {
    let mut r = html(views::login(Some(why), email, None));
    *r.status_mut() = status;
    r
}

/// The second step of signing in: `code` for the sign-in the form's `pending` token
/// names, whose password was right.
pub(super) async fn code(
    state: &WebState,
    peer: SocketAddr,
    pending: &str,
    code: &str,
    client: NewSession,
) -> Response<Body> {
    let now = unix_now();
    let pendings = &state.pending_sign_ins;
    let Some(waiting) = pendings.get(pending, now) else {
        return start_again(
            StatusCode::UNAUTHORIZED,
            "That sign-in took too long or has ended. Sign in again.",
            "",
        );
    };
    let keys = vec![
        format!("account:{}", waiting.email),
        format!("ip:{}", peer.ip()),
    ];
    if let Some(wait) = state.limiter.blocked(&keys, now) {
        pendings.finish(pending);
        return start_again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many failed sign-ins. Try again in {} minute(s).",
                wait.max(60) / 60
            ),
            &waiting.email,
        );
    }
    // Read afresh: an administrator may have turned it off, or the agent off, meanwhile.
    let store = state.services.pipeline.store();
    let who = waiting.email.clone();
    let record = match store.read(move |r| r.login_record(&who)).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let Some(secret) = record
        .filter(|r| r.active && r.user_id == waiting.user_id)
        .and_then(|r| r.two_step_secret)
    else {
        pendings.finish(pending);
        return start_again(StatusCode::UNAUTHORIZED, "Sign in again.", &waiting.email);
    };
    // Six digits from the app, or one of the recovery codes kept for a lost phone.
    let second = match totp::matching_step(&secret, code, now) {
        Some(step) => Some(SecondStep::Step(step)),
        None => totp::recovery_key(code).map(|k| SecondStep::Recovery(totp::recovery_hash(&k))),
    };
    let wrong = || {
        state.limiter.failed(&keys, now);
        log::warn!(
            "web: wrong two-step code for {} from {}",
            waiting.email,
            peer.ip()
        );
        if !pendings.wrong_code(pending) {
            return start_again(
                StatusCode::UNAUTHORIZED,
                "Too many wrong codes. Sign in again.",
                &waiting.email,
            );
        }
        code_again(
            StatusCode::UNAUTHORIZED,
            "Wrong code. Type the six digits your authenticator app shows now (check that your phone's clock is right), or one of your recovery codes.",
            pending,
        )
    };
    let Some(second) = second else {
        return wrong();
    };
    let limits = session::SessionLimits::of(&state.services.pipeline.config().http);
    let token = session::new_token();
    let recovering = matches!(second, SecondStep::Recovery(_));
    match store
        .create_session_with_code(
            NewSession {
                token_hash: session::token_hash(&token),
                user_id: waiting.user_id,
                csrf: session::new_token(),
                ..client
            },
            second,
            (limits.idle_seconds, limits.lifetime_seconds),
        )
        .await
    {
        Ok(true) => {
            pendings.finish(pending);
            state.limiter.succeeded(&keys[0]);
            if recovering {
                log::warn!(
                    "web: {} signed in with a recovery code from {}",
                    waiting.email,
                    peer.ip()
                );
            }
            signed_in(state, &token, waiting.next.as_deref())
        }
        // Not one of theirs, or used before.
        Ok(false) if recovering => wrong(),
        // Typed twice, or seen over a shoulder and typed elsewhere first.
        Ok(false) => {
            state.limiter.failed(&keys, now);
            log::warn!(
                "web: a used two-step code again for {} from {}",
                waiting.email,
                peer.ip()
            );
            code_again(
                StatusCode::UNAUTHORIZED,
                "That code was used already. Wait for the next one and type it.",
                pending,
            )
        }
        Err(e) => internal(e),
    }
}

/// "Set up two-step sign-in": a new secret for the agent's app, shown on the account
/// page until a code from it turns it on.
pub(super) async fn setup(state: &WebState, session: &SessionView) -> Response<Body> {
    if session.two_step {
        return account_refused(
            state,
            session,
            StatusCode::CONFLICT,
            "Two-step sign-in is on already.",
        )
        .await;
    }
    let store = state.services.pipeline.store();
    match store
        .set_two_step_pending(session.email.clone(), Some(totp::new_secret()))
        .await
    {
        Ok(()) => redirect("/me#two-step"),
        Err(e) => internal(e),
    }
}

/// "Cancel" while setting up: the secret shown is forgotten.
pub(super) async fn cancel(state: &WebState, session: &SessionView) -> Response<Body> {
    let store = state.services.pipeline.store();
    match store
        .set_two_step_pending(session.email.clone(), None)
        .await
    {
        Ok(()) => redirect("/me#two-step"),
        Err(e) => internal(e),
    }
}

/// A code from the app being set up turns two-step sign-in on, and signs the agent out
/// everywhere else (a session started with the password alone must not outlive it).
/// The answer shows the agent's recovery codes, this once.
pub(super) async fn turn_on(
    state: &WebState,
    session: &SessionView,
    token_hash: &str,
    form: &[(String, String)],
) -> Response<Body> {
    let keys = vec![format!("account:{}", session.email)];
    let now = unix_now();
    if let Some(wait) = state.limiter.blocked(&keys, now) {
        return account_refused(
            state,
            session,
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many wrong codes. Try again in {} minute(s).",
                wait.max(60) / 60
            ),
        )
        .await;
    }
    let store = state.services.pipeline.store();
    let who = session.email.clone();
    let secret = match store.read(move |r| r.two_step_pending(&who)).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return account_refused(
                state,
                session,
                StatusCode::BAD_REQUEST,
                "Nothing is being set up: choose \"Set up two-step sign-in\" first.",
            )
            .await
        }
        Err(e) => return internal(e),
    };
    let code = field(form, "code").unwrap_or("");
    let Some(step) = totp::matching_step(&secret, code, now) else {
        state.limiter.failed(&keys, now);
        return account_refused(
            state,
            session,
            StatusCode::BAD_REQUEST,
            "Not turned on: that is not the code the app shows now. Check that the app has the key below and that your phone's clock is right, and type the code again.",
        )
        .await;
    };
    let codes = totp::new_recovery_codes();
    let hashes = hashes_of(&codes);
    match store
        .turn_on_two_step(
            session.email.clone(),
            secret,
            step,
            hashes,
            token_hash.to_string(),
        )
        .await
    {
        Ok(true) => {
            log::info!("web: {} turned two-step sign-in on", session.email);
            with_fresh_codes(
                state,
                session,
                "Two-step sign-in is on: signing in now asks for a code from your app. Every other session is signed out.",
                codes,
            )
            .await
        }
        Ok(false) => {
            account_refused(
                state,
                session,
                StatusCode::CONFLICT,
                "Not turned on: another page set up a new key meanwhile. Use the key shown below.",
            )
            .await
        }
        Err(e) => internal(e),
    }
}

/// The hashes stored of recovery codes.
fn hashes_of(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter_map(|c| totp::recovery_key(c))
        .map(|k| totp::recovery_hash(&k))
        .collect()
}

/// The account page showing new recovery codes (this once: only their hashes stay).
async fn with_fresh_codes(
    state: &WebState,
    session: &SessionView,
    said: &str,
    codes: Vec<String>,
) -> Response<Body> {
    match account_settings(state, session).await {
        Ok(mut settings) => {
            settings.two_step = views::two_step::TwoStep::On {
                recovery_left: codes.len() as i64,
                fresh: codes,
            };
            html(views::layout(
                "Your account",
                session,
                &views::account(session, Some(Ok(said)), &settings),
            ))
        }
        Err(e) => internal(e),
    }
}

/// New recovery codes (the current password first): the old ones stop working.
pub(super) async fn new_recovery_codes(
    state: &WebState,
    session: &SessionView,
    form: &[(String, String)],
) -> Response<Body> {
    if !session.two_step {
        return text(StatusCode::CONFLICT, "Two-step sign-in is off.");
    }
    if let Err((status, why)) = current_password_ok(state, session, form).await {
        return account_refused(state, session, status, &why).await;
    }
    let codes = totp::new_recovery_codes();
    let store = state.services.pipeline.store();
    match store
        .replace_recovery_codes(session.email.clone(), hashes_of(&codes))
        .await
    {
        Ok(()) => {
            log::info!("web: {} made new recovery codes", session.email);
            with_fresh_codes(
                state,
                session,
                "New recovery codes: the old ones no longer work.",
                codes,
            )
            .await
        }
        Err(e) => internal(e),
    }
}

/// Turning two-step sign-in off takes the current password.
pub(super) async fn turn_off(
    state: &WebState,
    session: &SessionView,
    form: &[(String, String)],
) -> Response<Body> {
    if !session.two_step {
        return text(StatusCode::CONFLICT, "Two-step sign-in is off already.");
    }
    if state.services.pipeline.config().http.require_two_step {
        return account_refused(
            state,
            session,
            StatusCode::CONFLICT,
            "This desk requires two-step sign-in: it stays on. Your administrator can turn it off for you if you lost your phone.",
        )
        .await;
    }
    if let Err((status, why)) = current_password_ok(state, session, form).await {
        return account_refused(state, session, status, &why).await;
    }
    let changes = UserChanges {
        two_step_off: true,
        ..Default::default()
    };
    let store = state.services.pipeline.store();
    match store.update_user(session.email.clone(), changes).await {
        Ok(words) => {
            log::info!("web: {words}");
            redirect("/me?changed=two-step-off")
        }
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owing_two_step_leaves_only_setting_it_up_and_signing_out() {
        for (method, path) in [
            (Method::GET, "me"),
            (Method::GET, "events"),
            (Method::POST, "logout"),
            (Method::POST, "me/two-step/setup"),
            (Method::POST, "me/two-step/on"),
            (Method::POST, "me/two-step/cancel"),
        ] {
            let parts: Vec<&str> = path.split('/').collect();
            assert!(allowed_before(&method, &parts), "{method} /{path}");
        }
        for (method, path) in [
            (Method::GET, "inbox"),
            (Method::GET, ""),
            (Method::GET, "tickets/1"),
            (Method::GET, "search"),
            (Method::GET, "attachments/1"),
            (Method::GET, "me/two-step/setup"),
            (Method::POST, "me"),
            (Method::POST, "me/password"),
            (Method::POST, "me/two-step/off"),
            (Method::POST, "me/two-step/other"),
            (Method::POST, "tickets/1/reply"),
            (Method::POST, "events"),
        ] {
            let parts: Vec<&str> = path.split('/').collect();
            assert!(!allowed_before(&method, &parts), "{method} /{path}");
        }
    }
}
