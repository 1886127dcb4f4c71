//! `/agents`: administrators add agents and change them on the page, as the sysadmin
//! does with `frontdeskctl users`: name, seat, administrator, teams, a new password,
//! two-step sign-in off, deactivate and reactivate; and they add teams. Other agents
//! get 403 and nothing changes; an administrator cannot demote nor deactivate
//! themselves, so a desk always keeps one.

use hyper::{Response, StatusCode};

use super::{html, internal, text, unless_admin, Body, WebState};
use crate::control::server::split_name;
use crate::model::percent_encode;
use crate::store::{NewUser, SessionView, StoreError, UserChanges};
use crate::web::redirect;
use crate::web::session::field;
use crate::web::views::agents::{self as view, NewAgentTyped};
use crate::web::views::{self, Flash};

/// What only an administrator may do here.
const MANAGING: &str = "add or change agents";

/// The page, with `flash` on top, the add form holding `typed`, answered with `status`.
async fn render(
    state: &WebState,
    session: &SessionView,
    editing: Option<&str>,
    flash: Option<Flash<'_>>,
    typed: &NewAgentTyped,
    status: StatusCode,
) -> Response<Body> {
    let store = state.services.pipeline.store();
    let (agents, teams) = match store.read(|r| Ok((r.users()?, r.teams()?))).await {
        Ok(read) => read,
        Err(e) => return internal(e),
    };
    let main = view::page(&view::AgentsPage {
        agents: &agents,
        teams: &teams,
        me: &session.email,
        csrf: &session.csrf,
        editing,
        flash,
        typed,
    });
    let mut r = html(views::layout("Agents", session, &main));
    *r.status_mut() = status;
    r
}

/// `GET /agents`: the list, the add form, and the agent `?edit=` names.
pub(super) async fn page(
    state: &WebState,
    session: &SessionView,
    query: &[(String, String)],
) -> Response<Body> {
    if let Some(refused) = unless_admin(session, MANAGING) {
        return refused;
    }
    let flash = match field(query, "done") {
        Some("added") => Some(Ok("Agent added: tell them their address and password.")),
        Some("saved") => Some(Ok("Saved.")),
        Some("password") => Some(Ok(
            "Password set: they are signed out everywhere and sign in with the new one.",
        )),
        Some("two-step-off") => Some(Ok(
            "Their two-step sign-in is off: their password alone signs them in.",
        )),
        Some("deactivated") => Some(Ok("Deactivated: they are signed out and cannot sign in.")),
        Some("reactivated") => Some(Ok("Reactivated: they can sign in again.")),
        Some("team") => Some(Ok("Team added: tick it for its agents.")),
        _ => None,
    };
    let typed = NewAgentTyped {
        seat: true,
        ..NewAgentTyped::default()
    };
    render(
        state,
        session,
        field(query, "edit"),
        flash,
        &typed,
        StatusCode::OK,
    )
    .await
}

/// Every `team` field of a form.
fn teams_of(form: &[(String, String)]) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == "team")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A ticked checkbox.
fn ticked(form: &[(String, String)], name: &str) -> bool {
    field(form, name) == Some("on")
}

/// A new password typed twice, hashed; the refusal's words.
async fn new_password(form: &[(String, String)]) -> Result<String, String> {
    let new = field(form, "new").unwrap_or("").to_string();
    crate::auth::check_new_password(&new, Some(field(form, "repeat").unwrap_or("")))
        .map_err(|e| e.to_string())?;
    match tokio::task::spawn_blocking(move || crate::auth::hash_password(&new)).await {
        Ok(Ok(hash)) => Ok(hash),
        _ => Err("the password cannot be hashed".into()),
    }
}

/// `POST /agents` (`action` "") and `/agents/{action}`.
pub(super) async fn post(
    state: &WebState,
    session: &SessionView,
    token_hash: &str,
    action: &str,
    form: &[(String, String)],
) -> Response<Body> {
    if let Some(refused) = unless_admin(session, MANAGING) {
        return refused;
    }
    if action.is_empty() {
        return add(state, session, form).await;
    }
    if action == "teams" {
        return add_team(state, session, form).await;
    }
    let email = field(form, "email").unwrap_or("").trim().to_lowercase();
    let store = state.services.pipeline.store();
    let who = email.clone();
    match store.read(move |r| r.user(&who)).await {
        Ok(Some(_)) => {}
        Ok(None) => return text(StatusCode::NOT_FOUND, "No such agent."),
        Err(e) => return internal(e),
    }
    let myself = email == session.email;
    let editing = email.as_str();
    let refuse = |why: String| async move {
        render(
            state,
            session,
            Some(editing),
            Some(Err(&format!("Not changed: {why}."))),
            &NewAgentTyped {
                seat: true,
                ..NewAgentTyped::default()
            },
            StatusCode::BAD_REQUEST,
        )
        .await
    };
    let (changes, done) = match action {
        "save" => {
            let name = field(form, "name").unwrap_or("").trim().to_string();
            if name.is_empty() {
                return refuse("a name is needed".into()).await;
            }
            let admin = ticked(form, "admin");
            if myself && !admin {
                return refuse(
                    "you cannot take your own administrator rights away; another administrator can"
                        .into(),
                )
                .await;
            }
            let (first, last) = split_name(&name);
            (
                UserChanges {
                    full_name: Some(name),
                    first_name: Some(first),
                    last_name: Some(last),
                    seat: Some(ticked(form, "seat")),
                    admin: Some(admin),
                    teams: Some(teams_of(form)),
                    ..Default::default()
                },
                "saved",
            )
        }
        "password" => match new_password(form).await {
            Ok(hash) => (
                UserChanges {
                    password_hash: Some(hash),
                    // Setting their own here keeps the session they set it from.
                    keep_session: myself.then(|| token_hash.to_string()),
                    ..Default::default()
                },
                "password",
            ),
            Err(why) => return refuse(why).await,
        },
        "two-step-off" => (
            UserChanges {
                two_step_off: true,
                ..Default::default()
            },
            "two-step-off",
        ),
        "deactivate" => {
            if myself {
                return refuse("you cannot deactivate yourself; another administrator can".into())
                    .await;
            }
            (
                UserChanges {
                    deactivate: true,
                    ..Default::default()
                },
                "deactivated",
            )
        }
        "reactivate" => (
            UserChanges {
                reactivate: true,
                ..Default::default()
            },
            "reactivated",
        ),
        _ => return text(StatusCode::NOT_FOUND, "Not found."),
    };
    match store.update_user(email.clone(), changes).await {
        Ok(words) => {
            log::info!("web: {} changed {words}", session.email);
            redirect(&format!(
                "/agents?done={done}&edit={}#edit",
                percent_encode(&email)
            ))
        }
        Err(StoreError::Invalid(why)) => refuse(why).await,
        Err(e) => internal(e),
    }
}

/// Add a team by name (letters as typed; a name taken in any case is refused).
async fn add_team(
    state: &WebState,
    session: &SessionView,
    form: &[(String, String)],
) -> Response<Body> {
    let name = field(form, "team").unwrap_or("").trim().to_string();
    let refused = |why: String| async move {
        render(
            state,
            session,
            None,
            Some(Err(&format!("Not added: {why}."))),
            &NewAgentTyped {
                seat: true,
                ..NewAgentTyped::default()
            },
            StatusCode::BAD_REQUEST,
        )
        .await
    };
    if name.is_empty() {
        return refused("a team needs a name".into()).await;
    }
    let store = state.services.pipeline.store();
    match store.add_team(name.clone()).await {
        Ok(_) => {
            log::info!("web: {} added team {name}", session.email);
            redirect("/agents?done=team")
        }
        Err(StoreError::Invalid(why)) => refused(why).await,
        Err(e) => internal(e),
    }
}

/// Add an agent with a password; refused with the form as typed (the password aside).
async fn add(state: &WebState, session: &SessionView, form: &[(String, String)]) -> Response<Body> {
    let typed = NewAgentTyped {
        email: field(form, "email").unwrap_or("").trim().to_lowercase(),
        name: field(form, "name").unwrap_or("").trim().to_string(),
        seat: ticked(form, "seat"),
        admin: ticked(form, "admin"),
        teams: teams_of(form),
    };
    let refused = |why: String| {
        let typed = typed.clone();
        async move {
            render(
                state,
                session,
                None,
                Some(Err(&format!("Not added: {why}."))),
                &typed,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    if !crate::config::is_valid_address(&typed.email) {
        return refused(format!("{:?} is not an address", typed.email)).await;
    }
    if typed.name.is_empty() {
        return refused("a name is needed".into()).await;
    }
    let hash = match new_password(form).await {
        Ok(hash) => hash,
        Err(why) => return refused(why).await,
    };
    let (first_name, last_name) = split_name(&typed.name);
    let user = NewUser {
        email: typed.email.clone(),
        full_name: typed.name.clone(),
        first_name,
        last_name,
        admin: typed.admin,
        seat: typed.seat,
    };
    let store = state.services.pipeline.store();
    match store.add_agent(user, hash, typed.teams.clone()).await {
        Ok(_) => {
            log::info!("web: {} added agent {}", session.email, typed.email);
            redirect(&format!(
                "/agents?done=added&edit={}#edit",
                percent_encode(&typed.email)
            ))
        }
        Err(StoreError::Invalid(why)) => refused(why).await,
        Err(e) => internal(e),
    }
}
