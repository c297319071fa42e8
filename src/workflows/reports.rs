//! A reader's report on a public story, and the hiding it may cause.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::{PublicId, StoryAction};
use crate::mail::messages;
use crate::models::mod_action::ModAction;
use crate::models::report::{Reader, Report, ReportReason, WINDOW_HOURS};
use crate::models::story::Story;
use crate::models::user::User;

/// What filing a report did. The reader is told the same in every case.
#[derive(Debug, PartialEq, Eq)]
pub enum Filed {
    Recorded,
    /// This reader's report on this story is already counted, or was found unfounded.
    NotCounted,
    /// The report brought the story's distinct readers to the threshold: it is hidden until a
    /// moderator decides, and the moderators are told.
    Hidden,
}

/// Records a report on a public story, once per reader; when `threshold` distinct readers have
/// reported it within the window, the story is held, with its audit row, its announcement and
/// the moderators' mail, in the same transaction. A story that is not public is not found.
pub fn file(
    conn: &mut DbConn,
    public_id: &PublicId,
    reason: ReportReason,
    reader: &Reader,
    threshold: i64,
    base_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Filed> {
    crate::db::write_transaction(conn, |conn| {
        let story = Story::find_public(conn, public_id)?;
        let was = story.status;
        if !was.allows(StoryAction::Report, false) {
            return Err(diesel::result::Error::NotFound);
        }
        if Report::known(conn, story.id, reader)? {
            return Ok(Filed::NotCounted);
        }
        Report::insert(conn, story.id, reason, reader, now)?;
        let readers = Report::readers(conn, story.id, now)?;
        if readers < threshold
            || Report::found_unfounded_lately(conn, story.id, now)?
            || !was.allows(StoryAction::Hide, true)
        {
            return Ok(Filed::Recorded);
        }
        let Some(held) = StoryAction::Hide.leads_to() else {
            return Ok(Filed::Recorded);
        };
        // Conditional on the status read: a report racing another one (or a decision) hides once.
        if !Story::set_status(conn, story.id, &story.public_id, was, held, now)? {
            return Ok(Filed::Recorded);
        }
        ModAction::about(story.id, &story.public_id)
            .hide()
            .note(Some(&format!(
                "{WINDOW_HOURS}時間以内に{readers}人の読者から通報がありました"
            )))
            .record(conn, now)?;
        crate::models::moderator_alert::arrived(conn)?;
        let to = User::moderator_emails(conn)?;
        if !to.is_empty() {
            let reasons = Report::open_reasons(conn, story.id)?;
            messages::story_hidden(to, &story.public_id, readers, &reasons, base_url)
                .about_story(&story.public_id)
                .queue(conn, now)?;
        }
        Ok(Filed::Hidden)
    })
}
