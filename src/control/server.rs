//! The daemon's side of the control socket.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::proto::*;
use crate::channels::status::channel_state;
use crate::daemon::Services;
use crate::desk::lifecycle::Priority;
use crate::ingest::Inbound;
use crate::model::Source;
use crate::outbound::compose::OutgoingAttachment;
use crate::outbound::{queue_reply, ReplyError, ReplyRequest};
use crate::pipeline::IngestFailure;
use crate::store::{Assignment, ChannelStats, NewUser, StoreError, UserChanges};

/// Largest request line: a 25 MiB message in base64 plus room.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Bind the control socket at `path` (replacing a stale one) with mode 0660.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        // A socket nobody answers on is left over from a crash; a live one means
        // another daemon runs.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("{} is in use by a running daemon", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// What the control server needs from the daemon.
#[derive(Clone)]
pub struct ControlContext {
    /// The daemon's running parts.
    pub services: Services,
    /// When the daemon started.
    pub started: Instant,
    /// Bound LMTP address (the config may say port 0).
    pub lmtp_listen: String,
    /// Bound HTTP address.
    pub http_listen: String,
}

/// Serve control connections until `shutdown`.
pub async fn serve(
    listener: UnixListener,
    ctx: ControlContext,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                log::warn!("control: accept failed: {e}");
                continue;
            }
        };
        let ctx = ctx.clone();
        tracker.spawn(async move {
            if let Err(e) = connection(stream, ctx).await {
                log::debug!("control: connection ended: {e}");
            }
        });
    }
}

/// Root, the daemon's own user, or a member of the daemon's group may talk to us.
fn peer_allowed(stream: &UnixStream) -> Result<(), String> {
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("cannot read peer credentials: {e}"))?;
    // SAFETY: geteuid/getegid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if cred.uid() == 0 || cred.uid() == uid || cred.gid() == gid {
        return Ok(());
    }
    if let Some(pid) = cred.pid() {
        if supplementary_groups(pid).contains(&gid) {
            return Ok(());
        }
    }
    Err(format!(
        "permission denied: uid {} is not root, the daemon's user or in its group",
        cred.uid()
    ))
}

/// A process's supplementary groups, from `/proc/PID/status`.
fn supplementary_groups(pid: i32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Groups:")).map(|g| {
                g.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
        })
        .unwrap_or_default()
}

async fn connection(stream: UnixStream, ctx: ControlContext) -> std::io::Result<()> {
    let allowed = peer_allowed(&stream);
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    if let Err(why) = allowed {
        log::warn!("control: refused a connection: {why}");
        // Read (and drop) the request first, so the client is not cut off mid-write
        // and sees the refusal rather than a broken pipe.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), discard_line(&mut reader))
            .await;
        let line =
            serde_json::to_string(&Response::err(ErrorKind::Forbidden, why)).unwrap_or_default();
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\n").await?;
        return Ok(());
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_REQUEST_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        let response = if line.len() > MAX_REQUEST_BYTES {
            let r = Response::err(ErrorKind::BadRequest, "request too large");
            write(&mut w, &r).await?;
            return Ok(());
        } else {
            match serde_json::from_slice::<Request>(&line) {
                Ok(request) => answer(request, &ctx).await,
                Err(e) => Response::err(ErrorKind::BadRequest, format!("bad request: {e}")),
            }
        };
        write(&mut w, &response).await?;
    }
}

/// Consume input through the next newline without keeping it.
async fn discard_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

async fn write(
    w: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
) -> std::io::Result<()> {
    let mut text = serde_json::to_vec(response).unwrap_or_else(|e| {
        format!(r#"{{"ok":false,"error":"cannot encode response: {e}","kind":"failed"}}"#)
            .into_bytes()
    });
    text.push(b'\n');
    w.write_all(&text).await?;
    w.flush().await
}

fn store_err(e: crate::store::StoreError) -> Response {
    Response::err(ErrorKind::Temporary, e.to_string())
}

async fn channels(ctx: &ControlContext) -> Result<Vec<ChannelInfo>, crate::store::StoreError> {
    let stats = ctx
        .services
        .pipeline
        .store()
        .read_long(|r| r.channel_stats())
        .await?;
    let config = ctx.services.pipeline.config();
    Ok(config
        .channels
        .iter()
        .map(|c| ChannelInfo {
            name: c.name.clone(),
            kind: "email".to_string(),
            address: c.address.clone(),
            aliases: c.aliases.clone(),
            state: channel_state(&ctx.services.board.folders(&c.name)),
            imap: ctx.services.board.folders(&c.name),
            forward_original_sender: c.forward_original_sender,
            stats: stats
                .iter()
                .find(|s| s.channel == c.name)
                .cloned()
                .unwrap_or(ChannelStats {
                    channel: c.name.clone(),
                    ..Default::default()
                }),
        })
        .collect())
}

/// Handle a request; a change to a ticket is announced to the agents' open pages.
async fn answer(request: Request, ctx: &ControlContext) -> Response {
    let changed = request.changed_tickets();
    let response = handle(request, ctx).await;
    if let Response::Ok { .. } = &response {
        for id in changed {
            ctx.services.pipeline.ticket_changed(id);
        }
    }
    response
}

async fn handle(request: Request, ctx: &ControlContext) -> Response {
    let store = ctx.services.pipeline.store();
    match request {
        Request::Status {} => {
            let counts = match store.read_long(|r| r.counts()).await {
                Ok(c) => c,
                Err(e) => return store_err(e),
            };
            let channels = match channels(ctx).await {
                Ok(c) => c,
                Err(e) => return store_err(e),
            };
            Response::ok(ResponseData::Status(StatusInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                uptime_seconds: ctx.started.elapsed().as_secs(),
                pid: std::process::id(),
                database: store.path().display().to_string(),
                lmtp_listen: ctx.lmtp_listen.clone(),
                http_listen: ctx.http_listen.clone(),
                counts,
                channels,
            }))
        }
        Request::TicketsList { filter } if filter.overdue => {
            let Some(sla) = ctx.services.pipeline.config().sla.clone() else {
                return Response::err(
                    ErrorKind::BadRequest,
                    "the config has no [sla] answer targets: no answer is ever overdue",
                );
            };
            let cutoffs = sla.cutoffs(crate::model::unix_now());
            let limit = filter.limit.unwrap_or(50);
            match store
                .read_long(move |r| r.overdue_tickets(cutoffs, limit))
                .await
            {
                Ok(tickets) => Response::ok(ResponseData::Tickets { tickets }),
                Err(e) => store_err(e),
            }
        }
        Request::TicketsList { filter } => match store.read_long(move |r| r.tickets(&filter)).await
        {
            Ok(tickets) => Response::ok(ResponseData::Tickets { tickets }),
            Err(e) => store_err(e),
        },
        Request::TicketsShow { id } => match store.read_long(move |r| r.ticket(id)).await {
            Ok(Some(mut t)) => {
                let config = ctx.services.pipeline.config();
                let filled: Vec<String> = t.fields.keys().cloned().collect();
                t.needed_to_close = config
                    .pipeline(&t.pipeline)
                    .map(|p| p.needed_to_close(&t.status, &filled))
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                Response::ok(ResponseData::Ticket(Box::new(t)))
            }
            Ok(None) => Response::err(ErrorKind::NotFound, format!("no ticket #{id}")),
            Err(e) => store_err(e),
        },
        Request::ChannelsList {} => match channels(ctx).await {
            Ok(channels) => Response::ok(ResponseData::Channels { channels }),
            Err(e) => store_err(e),
        },
        Request::Inject {
            channel,
            raw_base64,
            historical,
        } => {
            let raw = match base64::engine::general_purpose::STANDARD.decode(raw_base64.as_bytes())
            {
                Ok(r) => r,
                Err(e) => {
                    return Response::err(
                        ErrorKind::BadRequest,
                        format!("raw_base64 is not base64: {e}"),
                    )
                }
            };
            let max = ctx.services.pipeline.config().lmtp.max_message_bytes;
            if raw.len() > max {
                return Response::err(
                    ErrorKind::Rejected,
                    format!("message is {} bytes, over the limit of {max}", raw.len()),
                );
            }
            let inbound = Inbound {
                channel,
                raw,
                envelope_from: None,
                recipients: Vec::new(),
                source: if historical {
                    Source::Import
                } else {
                    Source::Pipe
                },
                historical,
                imap: None,
            };
            match ctx.services.pipeline.ingest(inbound).await {
                Ok(o) => Response::ok(ResponseData::Injected(InjectResult {
                    ticket_id: o.ticket_id,
                    message: o.message_row,
                    new_ticket: o.new_ticket,
                    duplicate: o.duplicate,
                    reason: o.reason.as_str().to_string(),
                })),
                Err(e @ IngestFailure::UnknownChannel(_)) => {
                    Response::err(ErrorKind::NotFound, e.to_string())
                }
                Err(e @ IngestFailure::Rejected(_)) => {
                    Response::err(ErrorKind::Rejected, e.to_string())
                }
                Err(e) => Response::err(ErrorKind::Temporary, e.to_string()),
            }
        }
        Request::ChannelsSync { name } => {
            if ctx.services.pipeline.config().channel(&name).is_none() {
                Response::err(ErrorKind::NotFound, format!("no channel named {name:?}"))
            } else if ctx.services.sync_now(&name) {
                Response::ok(ResponseData::Synced { channel: name })
            } else {
                Response::err(
                    ErrorKind::Failed,
                    format!("channel {name:?} has no mailbox to sync (no [channel.imap])"),
                )
            }
        }
        Request::UsersAdd {
            email,
            name,
            first_name,
            last_name,
            admin,
            seat,
        } => {
            let email = email.trim().to_lowercase();
            if !crate::config::is_valid_address(&email) {
                return Response::err(
                    ErrorKind::BadRequest,
                    format!("{email:?} is not a valid address"),
                );
            }
            let name = name.trim().to_string();
            if name.is_empty() {
                return Response::err(ErrorKind::BadRequest, "--name must not be empty");
            }
            let (first, last) = split_name(&name);
            let user = NewUser {
                email: email.clone(),
                first_name: first_name.unwrap_or(first),
                last_name: last_name.unwrap_or(last),
                full_name: name,
                admin,
                seat,
            };
            match store.add_user(user).await {
                Ok(id) => Response::ok(ResponseData::Done {
                    done: format!("user {email} added"),
                    id,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::Report {
            days,
            tz_minutes,
            zone,
        } => {
            if !(1..=crate::desk::reports::MAX_DAYS).contains(&days) {
                return Response::err(
                    ErrorKind::BadRequest,
                    format!(
                        "days must be 1 to {}, not {days}",
                        crate::desk::reports::MAX_DAYS
                    ),
                );
            }
            use crate::desk::reports::{clock_offset, Clock, Period};
            let clock = match zone {
                Some(name) => match Clock::zone(&name) {
                    Some(clock) => clock,
                    None => {
                        return Response::err(
                            ErrorKind::BadRequest,
                            format!("unknown time zone {name:?} (a name such as Europe/Berlin)"),
                        )
                    }
                },
                None => Clock::Offset(clock_offset(tz_minutes)),
            };
            let period = Period::last_days(days, crate::model::unix_now(), clock);
            let config = ctx.services.pipeline.config();
            match store
                .report(
                    period,
                    (config.channel_names(), config.ticket_fields.clone()),
                    config.sla.clone(),
                )
                .await
            {
                Ok((report, _)) => Response::ok(ResponseData::Report {
                    report: Box::new(report),
                }),
                Err(e) => store_err(e),
            }
        }
        Request::UsersList {} => match store.read(|r| r.users()).await {
            Ok(users) => Response::ok(ResponseData::Users { users }),
            Err(e) => store_err(e),
        },
        Request::TicketsOpen {
            agent,
            channel,
            to,
            subject,
            body,
            cc,
            attachments,
        } => {
            let files = match decode_attachments(attachments) {
                Ok(files) => files,
                Err(e) => return Response::err(ErrorKind::BadRequest, e),
            };
            let pipeline = &ctx.services.pipeline;
            let channel = match channel {
                Some(name) => name,
                None => match pipeline.config().channels.first() {
                    Some(c) => c.name.clone(),
                    None => {
                        return Response::err(ErrorKind::BadRequest, "no channel is configured")
                    }
                },
            };
            let request = crate::outbound::OpeningRequest {
                agent_email: agent,
                channel,
                to,
                cc,
                subject,
                body,
                attachments: files,
            };
            match crate::outbound::open_ticket(pipeline, request).await {
                Ok(id) => {
                    pipeline.ticket_changed(id);
                    Response::ok(ResponseData::Done {
                        done: format!("ticket #{id} opened; its first mail is queued"),
                        id,
                    })
                }
                Err(ReplyError::NotFound(e)) => Response::err(ErrorKind::NotFound, e),
                Err(ReplyError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(ReplyError::Store(e)) => store_err(e),
            }
        }
        Request::TicketsReply {
            id,
            agent,
            body,
            cc,
            quote,
            attachments,
            close,
            forward,
            forward_message,
            send_at,
        } => {
            let send_at = match send_at
                .as_deref()
                .map(|t| crate::outbound::scheduled_at(crate::model::unix_now(), t))
            {
                None => None,
                Some(Ok(at)) => Some(at),
                Some(Err(e)) => {
                    return Response::err(ErrorKind::BadRequest, format!("--send-at: {e}"))
                }
            };
            let files = match decode_attachments(attachments) {
                Ok(files) => files,
                Err(e) => return Response::err(ErrorKind::BadRequest, e),
            };
            let request = ReplyRequest {
                ticket: id,
                agent_email: agent,
                body,
                cc,
                quote,
                close,
                attachments: files,
                forward: forward.clone(),
                forward_message,
                // The shell copies whom --cc names; it offers no Cc box to take anyone out of.
                offered: None,
                send_at,
            };
            let what = if forward.is_some() {
                "forward of"
            } else {
                "reply to"
            };
            match queue_reply(&ctx.services.pipeline, request).await {
                Ok(outbox) => Response::ok(ResponseData::Done {
                    done: format!("{what} ticket #{id} queued as outbox entry {outbox}"),
                    id: outbox,
                }),
                Err(ReplyError::NotFound(e)) => Response::err(ErrorKind::NotFound, e),
                Err(ReplyError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(ReplyError::Store(e)) => store_err(e),
            }
        }
        Request::TicketsNote {
            id,
            agent,
            body,
            attachments,
        } => {
            if body.trim().is_empty() && attachments.is_empty() {
                return Response::err(ErrorKind::BadRequest, "the note is empty");
            }
            let files = match decode_attachments(attachments) {
                Ok(files) => files,
                Err(e) => return Response::err(ErrorKind::BadRequest, e),
            };
            let agent = agent.trim().to_lowercase();
            let who = agent.clone();
            match store.read(move |r| r.user(&who)).await {
                Ok(Some(u)) if u.active => {}
                Ok(_) => {
                    return Response::err(ErrorKind::NotFound, format!("no active agent {agent}"))
                }
                Err(e) => return store_err(e),
            }
            let files = match crate::outbound::note_files(&agent, &body, &files) {
                Ok(f) => f,
                Err(e) => return Response::err(ErrorKind::BadRequest, e.to_string()),
            };
            match store.add_note(id, agent, body, files).await {
                Ok(row) => Response::ok(ResponseData::Done {
                    done: format!("note added to ticket #{id}"),
                    id: row,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::NotFound, e),
                Err(e) => store_err(e),
            }
        }
        Request::OutboxList { status, limit } => {
            match store
                .read(move |r| r.outbox(status.as_deref(), limit.unwrap_or(50)))
                .await
            {
                Ok(outbox) => Response::ok(ResponseData::Outbox { outbox }),
                Err(e) => store_err(e),
            }
        }
        Request::OutboxRetry { id } => match store.outbox_retry(id, ADMIN.into()).await {
            Ok(ticket) => {
                ctx.services.pipeline.kick_outbox();
                ctx.services.pipeline.ticket_changed(ticket);
                Response::ok(ResponseData::Done {
                    done: format!("outbox entry {id} queued for delivery now"),
                    id,
                })
            }
            Err(StoreError::Invalid(e)) => Response::err(ErrorKind::NotFound, e),
            Err(e) => store_err(e),
        },
        Request::OutboxCancel { id } => match store
            .outbox_cancel(
                id,
                ADMIN.into(),
                ctx.services.pipeline.config().pipelines.clone(),
            )
            .await
        {
            Ok(ticket) => {
                ctx.services.pipeline.outbox_cancelled(id);
                ctx.services.pipeline.ticket_changed(ticket);
                Response::ok(ResponseData::Done {
                    done: format!("outbox entry {id} cancelled"),
                    id,
                })
            }
            Err(StoreError::Invalid(e)) => Response::err(ErrorKind::NotFound, e),
            Err(e) => store_err(e),
        },
        Request::UsersSet {
            email,
            seat,
            admin,
            available,
            name,
            first_name,
            last_name,
            notify,
            signature,
            two_step,
        } => {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Response::err(ErrorKind::BadRequest, "--name must not be empty");
            }
            if two_step == Some(true) {
                // The secret must reach the agent's phone, not the admin's terminal.
                return Response::err(
                    ErrorKind::BadRequest,
                    "--two-step on: each agent turns it on on their account page (Your account, Two-step sign-in), where their app scans the key; an administrator can only turn it off",
                );
            }
            let notify = match notify
                .as_deref()
                .map(crate::desk::notify::Prefs::parse_list)
            {
                None => None,
                Some(Ok(prefs)) => Some(prefs),
                Some(Err(e)) => {
                    return Response::err(ErrorKind::BadRequest, format!("--notify: {e}"))
                }
            };
            let signature = match signature
                .as_deref()
                .map(crate::outbound::compose::agent_signature)
            {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    return Response::err(ErrorKind::BadRequest, format!("--signature-file: {e}"))
                }
            };
            let (first, last) = match &name {
                Some(n) => {
                    let (f, l) = split_name(n);
                    (Some(first_name.unwrap_or(f)), Some(last_name.unwrap_or(l)))
                }
                None => (first_name, last_name),
            };
            let changes = UserChanges {
                seat,
                admin,
                available,
                full_name: name.map(|n| n.trim().to_string()),
                first_name: first,
                last_name: last,
                notify,
                signature,
                two_step_off: two_step == Some(false),
                ..Default::default()
            };
            done(
                store
                    .update_user(email.trim().to_lowercase(), changes)
                    .await,
            )
        }
        Request::UsersPasswd { email, password } => {
            if let Err(e) = crate::auth::check_new_password(&password, None) {
                return Response::err(ErrorKind::BadRequest, e.to_string());
            }
            let hash =
                match tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
                    .await
                {
                    Ok(Ok(h)) => h,
                    _ => return Response::err(ErrorKind::Failed, "cannot hash the password"),
                };
            done(
                store
                    .update_user(
                        email.trim().to_lowercase(),
                        UserChanges {
                            password_hash: Some(hash),
                            ..Default::default()
                        },
                    )
                    .await,
            )
        }
        Request::UsersDeactivate { email } => done(
            store
                .update_user(
                    email.trim().to_lowercase(),
                    UserChanges {
                        deactivate: true,
                        ..Default::default()
                    },
                )
                .await,
        ),
        Request::UsersReactivate { email } => done(
            store
                .update_user(
                    email.trim().to_lowercase(),
                    UserChanges {
                        reactivate: true,
                        ..Default::default()
                    },
                )
                .await,
        ),
        Request::TeamsAdd { name } => {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Response::err(ErrorKind::BadRequest, "a team needs a name");
            }
            match store.add_team(name.clone()).await {
                Ok(id) => Response::ok(ResponseData::Done {
                    done: format!("team {name} added"),
                    id,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::TeamsMembers { name, add, remove } => {
            let lower = |v: Vec<String>| v.into_iter().map(|e| e.trim().to_lowercase()).collect();
            done(store.team_members(name, lower(add), lower(remove)).await)
        }
        Request::TeamsList {} => match store.read(|r| r.teams()).await {
            Ok(teams) => Response::ok(ResponseData::Teams { teams }),
            Err(e) => store_err(e),
        },
        Request::SnippetsList {} => match store.read(|r| r.snippets()).await {
            Ok(stored) => {
                let config = ctx.services.pipeline.config();
                let configured = config.snippets.iter().map(|s| SnippetRow {
                    id: None,
                    name: s.name.clone(),
                    body: s.body.source().to_string(),
                    updated_by: None,
                });
                let written = stored.into_iter().map(|s| SnippetRow {
                    id: Some(s.id),
                    name: s.name,
                    body: s.body,
                    updated_by: Some(s.updated_by),
                });
                Response::ok(ResponseData::Snippets {
                    snippets: configured.chain(written).collect(),
                })
            }
            Err(e) => store_err(e),
        },
        Request::SnippetsSave { id, name, body } => {
            // A part not given stays as it was.
            let old = match id {
                None => None,
                Some(id) => match store.read(move |r| r.snippets()).await {
                    Ok(all) => match all.into_iter().find(|s| s.id == id) {
                        Some(s) => Some(s),
                        None => {
                            return Response::err(ErrorKind::NotFound, format!("no snippet {id}"))
                        }
                    },
                    Err(e) => return store_err(e),
                },
            };
            let name = name.or(old.as_ref().map(|s| s.name.clone()));
            let body = body.or(old.map(|s| s.body));
            let (Some(name), Some(body)) = (name, body) else {
                return Response::err(
                    ErrorKind::BadRequest,
                    "a new snippet needs a name and a text",
                );
            };
            let saved = crate::outbound::save_snippet(
                &ctx.services.pipeline,
                id,
                (&name, &body),
                ADMIN.to_string(),
            );
            match saved.await {
                Ok(saved) => Response::ok(ResponseData::Done {
                    done: format!(
                        "snippet {saved} {:?} {}",
                        name.trim(),
                        if id.is_some() { "saved" } else { "added" }
                    ),
                    id: saved,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::SnippetsDelete { id } => done(
            store
                .delete_snippet(id)
                .await
                .map(|name| format!("snippet {id} {name:?} deleted")),
        ),
        Request::TicketsFollow { id, agent, on } => {
            let agent = match checked_actor(store, Some(agent)).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            done(store.follow(id, agent.clone(), on).await.map(|words| {
                words.unwrap_or_else(|| {
                    format!(
                        "{agent} {} ticket #{id}",
                        if on {
                            "already follows"
                        } else {
                            "did not follow"
                        }
                    )
                })
            }))
        }
        Request::ContactsList {
            limit,
            search,
            owner,
        } => {
            let limit = limit.unwrap_or(100) as usize;
            let owner = owner.map(|o| o.trim().to_lowercase());
            match store
                .read_long(move |r| {
                    let search = search.as_deref().map(str::trim).filter(|s| !s.is_empty());
                    let mut customers = Vec::new();
                    let mut after = None;
                    loop {
                        let page = r.customers(search, owner.as_deref(), after)?;
                        customers.extend(page.rows);
                        match page.next {
                            Some(next) if customers.len() < limit => after = Some(next),
                            _ => break,
                        }
                    }
                    customers.truncate(limit);
                    Ok(customers)
                })
                .await
            {
                Ok(customers) => Response::ok(ResponseData::Customers { customers }),
                Err(e) => store_err(e),
            }
        }
        Request::ContactsShow { email } => {
            let email = email.trim().to_lowercase();
            let who = email.clone();
            match store.read(move |r| r.contact(&who)).await {
                Ok(Some(c)) => Response::ok(ResponseData::Contacts { contacts: vec![c] }),
                Ok(None) => Response::err(ErrorKind::NotFound, format!("no contact {email}")),
                Err(e) => store_err(e),
            }
        }
        Request::ContactsImport {
            rows,
            dry_run,
            actor,
        } => match store
            .import_contacts(
                rows,
                actor.unwrap_or_else(|| "frontdeskctl".into()),
                dry_run,
            )
            .await
        {
            Ok(imported) => Response::ok(ResponseData::Imported { imported }),
            Err(e) => store_err(e),
        },
        Request::ContactsErase { email, dry_run } => {
            erase_contact(ctx, email.trim().to_string(), dry_run).await
        }
        Request::TicketsDelete { id, dry_run } => {
            let deleted = if dry_run {
                store.read(move |r| r.ticket_deletion(id)).await
            } else {
                store.delete_ticket(id, ADMIN.to_string()).await
            };
            match deleted {
                Ok(Some(deleted)) => {
                    if !dry_run {
                        log::info!(
                            "ticket {id} deleted with frontdeskctl: {} messages",
                            deleted.messages
                        );
                    }
                    Response::ok(ResponseData::Deleted { deleted })
                }
                Ok(None) => Response::err(ErrorKind::NotFound, format!("no ticket #{id}")),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::ContactsErased { limit } => match store.read(move |r| r.erasures(limit)).await {
            Ok(erasures) => Response::ok(ResponseData::Erasures { erasures }),
            Err(e) => store_err(e),
        },
        Request::ContactsSetOwner { email, owner } => done(
            store
                .set_contact_owner(
                    email.trim().to_lowercase(),
                    owner.map(|o| o.trim().to_lowercase()),
                )
                .await,
        ),
        Request::TicketsAssign {
            id,
            agent,
            team,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let to = match (agent, team) {
                (Some(a), None) => Assignment::Agent(a.trim().to_lowercase()),
                (None, Some(t)) => Assignment::Team(t.trim().to_string()),
                (None, None) => Assignment::Nobody,
                (Some(_), Some(_)) => {
                    return Response::err(
                        ErrorKind::BadRequest,
                        "give an agent or a team, not both",
                    )
                }
            };
            done(store.assign(id, to, actor).await)
        }
        Request::TicketsMerge { id, into, actor } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            done(store.merge(id, into, actor).await)
        }
        Request::TicketsDeleteNote { id, message } => {
            let on_ticket = store
                .read(move |r| {
                    Ok(r.ticket(id)?.map(|t| {
                        t.messages
                            .iter()
                            .any(|m| m.id == message && m.direction == "note")
                    }))
                })
                .await;
            match on_ticket {
                Ok(Some(true)) => {}
                Ok(Some(false)) => {
                    return Response::err(
                        ErrorKind::BadRequest,
                        format!("message {message} is not an internal note on ticket #{id}"),
                    )
                }
                Ok(None) => return Response::err(ErrorKind::NotFound, format!("no ticket #{id}")),
                Err(e) => return store_err(e),
            }
            match store.delete_note(message, None).await {
                Ok(ticket) => Response::ok(ResponseData::Done {
                    done: format!("note {message} deleted from ticket #{ticket}"),
                    id: ticket,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::TicketsSplit { id, message, actor } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let config = ctx.services.pipeline.config();
            let desk = (config.pipelines.clone(), config.own_addresses());
            match store.split(id, message, desk, actor).await {
                Ok(new) => {
                    ctx.services.pipeline.ticket_changed(new);
                    Response::ok(ResponseData::Done {
                        done: format!("message {message} split off into ticket #{new}"),
                        id: new,
                    })
                }
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => store_err(e),
            }
        }
        Request::TicketsTag {
            id,
            add,
            remove,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            done(store.set_tags(id, add, remove, actor).await)
        }
        Request::TicketsStatus { id, stage, actor } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let pipelines = ctx.services.pipeline.config().pipelines.clone();
            done(store.change_status(id, stage, pipelines, actor).await)
        }
        Request::TicketsPipeline {
            id,
            pipeline,
            stage,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let pipelines = ctx.services.pipeline.config().pipelines.clone();
            done(
                store
                    .change_pipeline(id, pipeline, stage, pipelines, actor)
                    .await,
            )
        }
        Request::TicketsSnooze {
            id,
            length,
            until,
            wake,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let now = crate::model::unix_now();
            let end = match (length, until, wake) {
                (Some(l), None, false) => crate::desk::snooze::end_after(now, &l).map(Some),
                (None, Some(u), false) => crate::desk::snooze::end_at(now, &u).map(Some),
                (None, None, true) => Ok(None),
                _ => {
                    return Response::err(
                        ErrorKind::BadRequest,
                        "give one of: for a length, until a time, or wake",
                    )
                }
            };
            match end {
                Ok(end) => done(ctx.services.pipeline.snooze(id, end, actor).await),
                Err(e) => Response::err(ErrorKind::BadRequest, e.to_string()),
            }
        }
        Request::TicketsField {
            id,
            name,
            value,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let config = ctx.services.pipeline.config();
            let Some(def) = crate::desk::ticket_fields::find(&config.ticket_fields, &name) else {
                let names = config.ticket_fields.iter().map(|f| f.name.as_str());
                return no_such("ticket field", "fields", &name, names);
            };
            match crate::desk::ticket_fields::check(def, &value) {
                Ok(value) => done(
                    store
                        .set_ticket_fields(id, vec![(def.name.clone(), value)], actor)
                        .await,
                ),
                Err(e) => Response::err(ErrorKind::BadRequest, e.to_string()),
            }
        }
        Request::TicketsMacro { id, name, actor } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let config = ctx.services.pipeline.config();
            let Some(m) = crate::desk::macros::find(&config.macros, &name) else {
                let names = config.macros.iter().map(|m| m.name.as_str());
                return no_such("macro", "macros", &name, names);
            };
            if m.owner == Some(crate::desk::macros::Owner::Me) && actor == ADMIN {
                return Response::err(
                    ErrorKind::BadRequest,
                    format!(
                        "macro {:?} gives the ticket to whoever applies it: name them with --as",
                        m.name
                    ),
                );
            }
            let change = crate::store::BulkChange {
                assign: None,
                stage: None,
                apply: Some(crate::desk::macros::plan(
                    m,
                    &actor,
                    crate::model::unix_now(),
                )),
                spam: false,
            };
            // A reply is for an agent to read before it goes: the shell sends none.
            let words = match m.reply {
                Some(_) => format!(
                    "applied macro {:?} to ticket #{id}; its reply was not written (it is put in the reply box on the ticket's page; send one with `frontdeskctl tickets reply`)",
                    m.name
                ),
                None => format!("applied macro {:?} to ticket #{id}", m.name),
            };
            done(
                ctx.services
                    .pipeline
                    .change_many(vec![id], change, actor)
                    .await
                    .map(|_| words),
            )
        }
        Request::TicketsRename { id, subject, actor } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            done(store.rename(id, subject, actor).await)
        }
        Request::TicketsSpam {
            id,
            spam,
            domain,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            let config = ctx.services.pipeline.config();
            let domain = domain.then(|| config.own_addresses());
            done(
                store
                    .mark_spam(id, spam, (config.pipelines.clone(), domain), actor)
                    .await,
            )
        }
        Request::TicketsPriority {
            id,
            priority,
            actor,
        } => {
            let actor = match checked_actor(store, actor).await {
                Ok(a) => a,
                Err(r) => return r,
            };
            match Priority::parse(&priority) {
                Some(p) => done(store.change_priority(id, p, actor).await),
                None => Response::err(
                    ErrorKind::BadRequest,
                    format!("{priority:?} must be low, medium, high or urgent"),
                ),
            }
        }
        Request::Backup { path } => {
            let dest = std::path::PathBuf::from(&path);
            if !dest.is_absolute() {
                return Response::err(ErrorKind::BadRequest, "the backup path must be absolute");
            }
            match store.backup(dest).await {
                Ok(bytes) => Response::ok(ResponseData::Done {
                    done: format!("backup written to {path} ({bytes} bytes, integrity check ok)"),
                    id: bytes as i64,
                }),
                Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
                Err(e) => Response::err(ErrorKind::Failed, format!("backup to {path} failed: {e}")),
            }
        }
        Request::Reload {} => match ctx.services.reload().await {
            Ok(changes) => Response::ok(ResponseData::Reloaded { changes }),
            Err(e) => Response::err(ErrorKind::Failed, e),
        },
    }
}

/// "no macro named "X" (macros: A, B)": a name the config does not have, and those it
/// has.
fn no_such<'a>(
    what: &str,
    plural: &str,
    name: &str,
    names: impl Iterator<Item = &'a str>,
) -> Response {
    let names: Vec<&str> = names.collect();
    let known = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Response::err(
        ErrorKind::NotFound,
        format!("no {what} named {:?} ({plural}: {known})", name.trim()),
    )
}

/// A store write's words as a response; its refusals are the caller's fault.
fn done(result: Result<String, StoreError>) -> Response {
    match result {
        Ok(words) => Response::ok(ResponseData::Done { done: words, id: 0 }),
        Err(StoreError::Invalid(e)) => Response::err(ErrorKind::BadRequest, e),
        Err(e) => store_err(e),
    }
}

/// `contacts erase`: what erasing the customer with address `email` takes (with
/// `dry_run`, would take).
async fn erase_contact(ctx: &ControlContext, email: String, dry_run: bool) -> Response {
    let store = ctx.services.pipeline.store();
    let who = email.clone();
    let id = match store.read(move |r| r.customer_id(&who)).await {
        Ok(Some(id)) => id,
        Ok(None) => return Response::err(ErrorKind::NotFound, format!("no customer {email}")),
        Err(e) => return store_err(e),
    };
    let erased = if dry_run {
        store.read(move |r| r.erasure(id)).await
    } else {
        store.erase_customer(id, ADMIN.to_string()).await
    };
    match erased {
        Ok(Some(erased)) => {
            if !dry_run {
                log::info!(
                    "customer {id} erased with frontdeskctl: {} tickets, {} messages",
                    erased.tickets,
                    erased.messages + erased.elsewhere
                );
            }
            Response::ok(ResponseData::Erased { erased })
        }
        Ok(None) => Response::err(ErrorKind::NotFound, format!("no customer {email}")),
        Err(e) => store_err(e),
    }
}

/// Who the history names for a change made with frontdeskctl without `--as`.
const ADMIN: &str = "admin (frontdeskctl)";

/// Who a change is recorded as: the named agent, who must be an active user (the
/// event log is an audit trail), else the command line itself.
async fn checked_actor(
    store: &crate::store::Store,
    actor: Option<String>,
) -> Result<String, Response> {
    let Some(actor) = actor
        .map(|a| a.trim().to_lowercase())
        .filter(|a| !a.is_empty())
    else {
        return Ok(ADMIN.to_string());
    };
    let who = actor.clone();
    match store.read(move |r| r.user(&who)).await {
        Ok(Some(u)) if u.active => Ok(actor),
        Ok(_) => Err(Response::err(
            ErrorKind::NotFound,
            format!("no active agent {actor} (--as)"),
        )),
        Err(e) => Err(store_err(e)),
    }
}

/// "Mary Ann Smith" to ("Mary Ann", "Smith"); a single word is a first name.
pub fn split_name(full: &str) -> (String, String) {
    let full = full.trim();
    match full.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_string(), last.trim().to_string()),
        None => (full.to_string(), String::new()),
    }
}

/// Files as the control protocol carries them (base64), decoded; the words naming the
/// file that is not base64.
fn decode_attachments(
    attachments: Vec<crate::control::proto::AttachmentData>,
) -> Result<Vec<OutgoingAttachment>, String> {
    let mut files = Vec::new();
    for a in attachments {
        match base64::engine::general_purpose::STANDARD.decode(a.data_base64.as_bytes()) {
            Ok(data) => files.push(OutgoingAttachment {
                filename: a.filename,
                content_type: a.content_type,
                data,
            }),
            Err(e) => return Err(format!("attachment {}: not base64: {e}", a.filename)),
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_split_at_the_last_space() {
        assert_eq!(split_name("Jane Doe"), ("Jane".into(), "Doe".into()));
        assert_eq!(
            split_name("Mary Ann Smith"),
            ("Mary Ann".into(), "Smith".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), "".into()));
    }
}
