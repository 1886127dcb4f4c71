//! The reminder before the desk closes a ticket left waiting on the customer
//! ([channel.auto_close] remind): the store says which waits are due one; this composes
//! and queues each, in one transaction with the wait's mark (reminded once). A customer
//! no mail can go to (blocked, no address) is marked too, with the reason in the
//! ticket's history, so their ticket still closes on its span.

use super::compose::{compose_reminder, AckInput};
use super::{new_message_id, queued_mail};
use crate::config::Config;
use crate::desk::auto_close::{AutoClose, Sweep};
use crate::model::unix_now;
use crate::pipeline::Pipeline;
use crate::store::{OutboxKind, ReminderDue};

/// Most reminders queued in one look (the rest wait for the next, moments later).
pub const REMINDERS_PER_LOOK: usize = 50;

/// Queue the reminders `sweeps` find due; how many waits were marked (a full look means
/// more may wait).
pub async fn send_due(pipeline: &Pipeline, config: &Config, sweeps: Vec<Sweep>) -> usize {
    if sweeps.is_empty() {
        return 0;
    }
    let store = pipeline.store();
    let due = match store
        .read(move |r| r.close_reminders_due(&sweeps, REMINDERS_PER_LOOK))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            log::warn!("cannot look for tickets due a reminder before closing: {e}");
            return 0;
        }
    };
    let mut marked = 0;
    let mut queued = false;
    for ticket in &due {
        if let Some(mailed) = queue(pipeline, config, ticket).await {
            marked += 1;
            queued |= mailed;
        }
    }
    if queued {
        pipeline.kick_outbox();
    }
    marked
}

/// Why no reminder can go to `due`'s customer, if none can.
fn cannot_mail(config: &Config, due: &ReminderDue) -> Option<String> {
    let address = crate::config::strip_subaddress(&due.contact_email);
    if due.blocked {
        Some(format!("{} is blocked", due.contact_email))
    } else if due.contact_email == crate::ingest::UNKNOWN_SENDER {
        Some("the customer's address is unknown".into())
    } else if config.own_addresses().contains(&address) {
        Some(format!(
            "{} is one of the desk's own addresses",
            due.contact_email
        ))
    } else {
        None
    }
}

/// Compose and queue `due`'s reminder (or mark its wait passed over); `Some(true)` when
/// a mail was queued, `Some(false)` when the wait was marked without one, `None` when
/// nothing was written (the rule is gone, the ticket changed, or an error, logged).
async fn queue(pipeline: &Pipeline, config: &Config, due: &ReminderDue) -> Option<bool> {
    let channel = config.channel(&due.channel)?;
    let rule: &AutoClose = channel.auto_close.as_ref()?;
    let reminder = rule.reminder.as_ref()?;
    let now = unix_now();
    let store = pipeline.store();
    let mail = match cannot_mail(config, due) {
        Some(why) => Err(why),
        None => {
            let identity = channel.identity(&config.daemon.company_name);
            let message_id = new_message_id(&channel.address, now);
            let composed = compose_reminder(&AckInput {
                ticket: due.ticket,
                ticket_subject: &due.subject,
                contact_email: &due.contact_email,
                contact_name: due.contact_name.as_deref(),
                identity: &identity,
                subject: &reminder.subject,
                body: &reminder.body,
                secret: store.secret(),
                in_reply_to: due.last_message_id.as_deref(),
                message_id: &message_id,
                now,
            });
            match composed {
                Ok(c) => Ok(queued_mail(
                    config,
                    channel,
                    due.ticket,
                    OutboxKind::Reminder,
                    c,
                )),
                Err(e) => {
                    log::error!("cannot build the reminder for ticket #{}: {e}", due.ticket);
                    return None;
                }
            }
        }
    };
    let mailed = mail.is_ok();
    // Passed over: the ticket closes when its span ends, as without a reminder.
    let at = if mailed {
        now
    } else {
        now.min(due.last_change + rule.after - reminder.before)
    };
    match store
        .queue_close_reminder(due.ticket, due.last_change, mail, at)
        .await
    {
        Ok(true) => {
            if mailed {
                log::info!(
                    "ticket #{}: reminder before closing to {} queued",
                    due.ticket,
                    due.contact_email
                );
            }
            pipeline.ticket_changed(due.ticket);
            Some(mailed)
        }
        Ok(false) => None,
        Err(e) => {
            log::error!("cannot queue the reminder for ticket #{}: {e}", due.ticket);
            None
        }
    }
}
