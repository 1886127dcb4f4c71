//! The customer's rating page (pure): reached from the links under a reply, without
//! signing in. It asks, with the rating the link chose already ticked, and thanks.

use crate::desk::ratings::Rating;
use crate::outbound::template::html_escape as esc;
use crate::store::RateableReply;

/// A page of its own, not the desk's: no header, no agent's controls.
fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{} · frontdesk</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="login rating-page"><main>{body}</main></body></html>"#,
        esc(title)
    )
}

/// The question about `reply`, `chosen` ticked (the link's), posting to `action`.
pub fn ask(reply: &RateableReply, chosen: Option<Rating>, action: &str, company: &str) -> String {
    let chosen = chosen.or(reply.rating.as_ref().map(|(r, _)| *r));
    let comment = reply.rating.as_ref().map_or("", |(_, c)| c.as_str());
    let mut choices = String::new();
    for r in Rating::ALL {
        let checked = if Some(r) == chosen { " checked" } else { "" };
        choices.push_str(&format!(
            r#"<label><input type="radio" name="rating" value="{}" required{checked}> {}</label>"#,
            r.as_str(),
            r.label()
        ));
    }
    let again = if reply.rating.is_some() {
        r#"<p class="hint">You rated this before; sending again replaces it.</p>"#
    } else {
        ""
    };
    // The survey after closing asks about the desk's help; a reply's links, the reply.
    let (question, about) = if reply.survey {
        (
            crate::desk::ratings::SURVEY_QUESTION,
            format!(
                "Your request “{}” to {}.",
                esc(&reply.subject),
                esc(company)
            ),
        )
    } else {
        (
            crate::desk::ratings::REPLY_QUESTION,
            format!(
                "{}'s reply about “{}” from {}.",
                esc(&reply.agent_name),
                esc(&reply.subject),
                esc(company)
            ),
        )
    };
    page(
        question,
        &format!(
            r#"<h1>{question}</h1><p>{about}</p>{again}
<form method="post" action="{action}"><fieldset><legend>Your rating</legend>{choices}</fieldset>
<label>Anything to add? (optional) <textarea name="comment" rows="4" maxlength="{max}">{comment}</textarea></label>
<button type="submit">Send rating</button></form>"#,
            action = esc(action),
            max = MAX_COMMENT,
            comment = esc(comment),
        ),
    )
}

/// Most characters of a comment.
pub const MAX_COMMENT: usize = 2000;

/// Thanks, and what was kept.
pub fn thanks(rating: Rating) -> String {
    page(
        "Thank you",
        &format!(
            r#"<h1>Thank you</h1><p role="status">Your rating, “{}”, reached the team.</p>"#,
            rating.label()
        ),
    )
}

/// A link that names no reply, or a page an agent opened.
pub fn refused(words: &str) -> String {
    page(
        "Rating",
        &format!(
            r#"<h1>Rating</h1><p class="error" role="alert">{}</p>"#,
            esc(words)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(rating: Option<(Rating, &str)>) -> RateableReply {
        RateableReply {
            row: 7,
            ticket: 42,
            message_id: "r@acme.test".into(),
            subject: "Broken <hinge>".into(),
            agent_name: "Jane \"JD\" Doe".into(),
            written_at: 0,
            rating: rating.map(|(r, c)| (r, c.to_string())),
            survey: false,
        }
    }

    #[test]
    fn the_question_ticks_the_links_choice_and_escapes_the_mail() {
        let html = ask(&reply(None), Some(Rating::Bad), "/rate/42/ab", "A&B");
        assert!(html.contains(r#"value="bad" required checked"#), "{html}");
        assert!(!html.contains(r#"value="good" required checked"#));
        assert!(
            html.contains(
                "Jane &quot;JD&quot; Doe's reply about “Broken &lt;hinge&gt;” from A&amp;B"
            ),
            "{html}"
        );
        assert!(!html.contains("<hinge>"));
        assert!(!html.contains("rated this before"));
    }

    #[test]
    fn a_second_visit_shows_the_first_rating_and_words() {
        let html = ask(
            &reply(Some((Rating::Okay, "slow </textarea>"))),
            None,
            "/rate/42/ab",
            "Acme",
        );
        assert!(html.contains(r#"value="okay" required checked"#), "{html}");
        assert!(html.contains("slow &lt;/textarea&gt;</textarea>"), "{html}");
        assert!(html.contains("rated this before"));
        // The link's choice wins over the earlier one.
        let html = ask(
            &reply(Some((Rating::Okay, ""))),
            Some(Rating::Good),
            "/x",
            "Acme",
        );
        assert!(html.contains(r#"value="good" required checked"#), "{html}");
    }

    #[test]
    fn the_survey_asks_about_the_request_not_a_reply() {
        let survey = RateableReply {
            survey: true,
            ..reply(None)
        };
        let html = ask(&survey, Some(Rating::Good), "/rate/42/ab", "A&B");
        assert!(html.contains("<h1>How did we do?</h1>"), "{html}");
        assert!(
            html.contains("Your request “Broken &lt;hinge&gt;” to A&amp;B."),
            "{html}"
        );
        assert!(!html.contains("Jane"), "no agent named: {html}");
        assert!(html.contains(r#"value="good" required checked"#), "{html}");
    }
}
