//! The survey after closing ([channel.survey]): a while after an agent closes a ticket
//! the desk answered, its customer gets one mail asking how the desk did, with the three
//! rating links. The store says which tickets are due; this task composes and queues
//! their surveys, each in one transaction with its ticket's mark (asked once, ever).

use std::time::Duration;

use super::compose::{compose_survey, AckInput};
use super::{new_message_id, queued_mail};
use crate::config::Config;
use crate::model::unix_now;
use crate::pipeline::Pipeline;
use crate::store::{OutboxKind, SurveyDue};

/// Most surveys queued in one look (the rest wait for the next, moments later).
const SURVEYS_PER_LOOK: i64 = 50;

/// The channels that ask, with their delay after closing (seconds).
pub fn surveying(config: &Config) -> Vec<(String, i64)> {
    config
        .channels
        .iter()
        .filter_map(|c| c.survey.as_ref().map(|s| (c.name.clone(), s.after)))
        .collect()
}

/// How often to look for tickets due a survey (a survey goes at most that late): see
/// `desk::sla::look_every`.
pub fn look_every(channels: &[(String, i64)]) -> Duration {
    crate::desk::sla::look_every(channels.iter().map(|(_, after)| *after).min())
}

/// Until `shutdown`: keep the store's list of asking channels as the config (reloads
/// too) says, and queue the surveys that come due.
pub async fn run(pipeline: Pipeline, shutdown: tokio_util::sync::CancellationToken) {
    let store = pipeline.store();
    let mut synced: Option<Vec<(String, i64)>> = None;
    loop {
        let config = pipeline.config();
        let channels = surveying(&config);
        if synced.as_ref() != Some(&channels) {
            match store.sync_survey_channels(channels.clone()).await {
                Ok(()) => synced = Some(channels.clone()),
                Err(e) => log::warn!("surveys: cannot record which channels ask: {e}"),
            }
        }
        if synced.as_ref().is_some_and(|c| !c.is_empty()) {
            match store.surveys_due(unix_now(), SURVEYS_PER_LOOK).await {
                Ok(due) => {
                    let mut queued = false;
                    for ticket in due {
                        queued |= queue(&pipeline, &config, &ticket).await;
                    }
                    if queued {
                        pipeline.kick_outbox();
                    }
                }
                Err(e) => log::warn!("surveys: cannot read which tickets are due: {e}"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(look_every(&channels)) => {}
        }
    }
}

/// Compose and queue `due`'s survey; whether one was queued.
async fn queue(pipeline: &Pipeline, config: &Config, due: &SurveyDue) -> bool {
    let Some(channel) = config.channel(&due.channel) else {
        return false;
    };
    let Some(survey) = &channel.survey else {
        return false;
    };
    if config
        .own_addresses()
        .contains(&crate::config::strip_subaddress(&due.contact_email))
    {
        return false;
    }
    let identity = channel.identity(&config.daemon.company_name);
    let now = unix_now();
    let message_id = new_message_id(&channel.address, now);
    let store = pipeline.store();
    let composed = match compose_survey(
        &AckInput {
            ticket: due.ticket,
            ticket_subject: &due.subject,
            contact_email: &due.contact_email,
            contact_name: due.contact_name.as_deref(),
            identity: &identity,
            subject: &survey.subject,
            body: &survey.body,
            secret: store.secret(),
            in_reply_to: due.last_message_id.as_deref(),
            message_id: &message_id,
            now,
        },
        &survey.public_url,
    ) {
        Ok(c) => c,
        Err(e) => {
            log::error!("cannot build the survey for ticket #{}: {e}", due.ticket);
            return false;
        }
    };
    let mail = queued_mail(config, channel, due.ticket, OutboxKind::Survey, composed);
    match store.queue_survey(mail).await {
        Ok(Some(_)) => {
            log::info!(
                "ticket #{}: survey to {} queued",
                due.ticket,
                due.contact_email
            );
            pipeline.ticket_changed(due.ticket);
            true
        }
        Ok(None) => false,
        Err(e) => {
            log::error!("cannot queue the survey for ticket #{}: {e}", due.ticket);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_look_follows_the_shortest_delay_within_a_second_and_a_minute() {
        let ch = |after: i64| ("support".to_string(), after);
        assert_eq!(look_every(&[]), Duration::from_secs(60));
        assert_eq!(look_every(&[ch(60)]), Duration::from_secs(1));
        assert_eq!(look_every(&[ch(30 * 60)]), Duration::from_secs(30));
        assert_eq!(look_every(&[ch(3600), ch(600)]), Duration::from_secs(10));
        assert_eq!(look_every(&[ch(86_400)]), Duration::from_secs(60));
    }
}
