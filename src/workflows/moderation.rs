//! Every change of a story's moderation state, by its submitter or by staff. Each one runs in a
//! transaction with its `mod_actions` row, its outbox events and any mail it causes.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{reports, stories, users};
use crate::domain::{PublicId, ReceiptCode, RelationshipLength, StoryAction, StoryStatus};
use crate::mail::messages;
use crate::models::erasure::{ErasureQueue, Held};
use crate::models::mod_action::{Actor, ModAction};
use crate::models::moderator_alert;
use crate::models::outbox::Outbox;
use crate::models::report::Report;
use crate::models::story::{Story, StoryContent, StoryInput};
use crate::models::tag::Tag;
use crate::models::to_the_hour;
use crate::models::user::User;
use crate::models::visibility::{public_stories, story_is_public};
use crate::pii::Finding;

/// How long opening a story keeps other moderators off it.
pub const CLAIM_MINUTES: i64 = 15;

/// Why a change was not made, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    NotAllowed(String),
    #[error("claimed by {name} until {until}")]
    ClaimedByOther { name: String, until: NaiveDateTime },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<Refused> for crate::error::AppError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::NotFound => crate::error::AppError::NotFound,
            Refused::Database(e) => e.into(),
            other => crate::error::AppError::bad_request(other.to_string()),
        }
    }
}

/// What the site needs to know to write mails.
pub struct Site<'a> {
    pub base_url: &'a str,
}

/// A staff member acting on a story.
pub type Moderator<'a> = super::StaffMember<'a>;

fn find(conn: &mut DbConn, public_id: &PublicId) -> Result<Story, Refused> {
    Story::find_by_public_id(conn, public_id)
        .optional()?
        .ok_or(Refused::NotFound)
}

/// Why the rules refuse `action` on a story in status `status`, in the asker's words.
pub fn refusal(status: StoryStatus, action: StoryAction) -> Refused {
    Refused::NotAllowed(match (status, action) {
        (StoryStatus::Withdrawn, StoryAction::Withdraw) => {
            "この体験談はすでに取り下げられています。".to_owned()
        }
        (_, StoryAction::Resubmit) => "この体験談はいま修正を受け付けていません。".to_owned(),
        // A second click on 承認 (or two moderators at once): nothing left to do.
        (_, StoryAction::KeepPublished) if status.is_public() => {
            "この体験談はすでに公開されています（通報もありません）。".to_owned()
        }
        (StoryStatus::Withdrawn, StoryAction::Edit) => {
            "取り下げられた体験談は編集できません。".to_owned()
        }
        (StoryStatus::Rejected, StoryAction::Edit) => {
            "不採用の体験談は編集できません。本文は保存期間の終了とともに消去されます。".to_owned()
        }
        _ => format!(
            "「{}」の体験談には「{}」を行えません。",
            status.label(),
            action.label()
        ),
    })
}

/// Moves the story as `action` says, if the rules allow it from the status read in this
/// transaction and nobody changed it since; announced through `Story::set_status`.
fn take(
    conn: &mut DbConn,
    story: &Story,
    action: StoryAction,
    open_reports: bool,
    now: NaiveDateTime,
) -> Result<StoryStatus, Refused> {
    let was = story.status;
    if !was.allows(action, open_reports) {
        return Err(refusal(was, action));
    }
    let Some(to) = action.leads_to() else {
        return Ok(was);
    };
    if Story::set_status(conn, story.id, &story.public_id, was, to, now)? {
        Ok(to)
    } else {
        Err(Refused::NotAllowed(
            "ほかの操作で状態が変わりました。もう一度開いて確かめてください。".to_owned(),
        ))
    }
}

fn set_message(conn: &mut DbConn, id: i32, message: Option<&str>) -> QueryResult<()> {
    diesel::update(stories::table.find(id))
        .set(stories::moderator_message.eq(message))
        .execute(conn)
        .map(|_| ())
}

// ---- The submitter's side: times kept to the hour, so they cannot be matched to anyone ----

/// Saves a new submission as pending; the moderators' next alert counts it.
pub fn submit(conn: &mut DbConn, input: &StoryInput, now: NaiveDateTime) -> QueryResult<i32> {
    let stamp = to_the_hour(now);
    crate::db::write_transaction(conn, |conn| {
        let id = Story::insert(conn, input, stamp)?;
        ModAction::about(id, input.public_id.as_ref())
            .by(Actor::Submitter)
            .submit()
            .record(conn, stamp)?;
        moderator_alert::arrived(conn)?;
        Ok(id)
    })
}

/// How often the moderators hear of the queue, and when an old item calls for a reminder.
pub struct AlertTimes {
    pub interval: std::time::Duration,
    pub remind_after: std::time::Duration,
}

/// Queues the moderators' alert if one is due: at most one per interval, in every interval in
/// which items entered the queue, with how many wait and for how long the oldest has; and a
/// reminder (at most once per `remind_after`) while an item has waited longer than that.
/// Each node's scheduler calls it; one of them sends.
pub fn alert_moderators(
    conn: &mut DbConn,
    base_url: &str,
    times: &AlertTimes,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let remind_after = Duration::from_std(times.remind_after).unwrap_or(Duration::MAX);
    let interval = Duration::from_std(times.interval).unwrap_or_default();
    crate::db::write_transaction(conn, |conn| {
        let waiting = Story::waiting_since(conn)?;
        let oldest = waiting.iter().min().copied();
        let too_long = oldest.is_some_and(|t| now - t > remind_after);
        let Some(due) = moderator_alert::take_due(conn, now, interval, too_long, remind_after)?
        else {
            return Ok(false);
        };
        let to = User::moderator_emails(conn)?;
        if to.is_empty() {
            return Ok(false);
        }
        let alert = messages::Alert {
            arrivals: due.arrivals,
            waiting: waiting.len(),
            oldest: oldest.map(|t| crate::views::age_ja(now - t)),
            reminder: due.reminder,
        };
        messages::moderator_alert(to, &alert, base_url).queue(conn, now)?;
        Ok(true)
    })
}

/// The submitter's answer to a change request: new content, back to the queue.
pub fn resubmit(
    conn: &mut DbConn,
    code: &ReceiptCode,
    content: &StoryContent,
    pii: &[Finding],
    now: NaiveDateTime,
) -> Result<(), Refused> {
    let now = to_the_hour(now);
    crate::db::write_transaction(conn, |conn| {
        let story = Story::find_by_receipt(conn, code)?.ok_or(Refused::NotFound)?;
        take(conn, &story, StoryAction::Resubmit, false, now)?;
        Story::replace_content(conn, story.id, content, pii, now)?;
        set_message(conn, story.id, None)?;
        ModAction::about(story.id, &story.public_id)
            .by(Actor::Submitter)
            .resubmit()
            .record(conn, now)?;
        moderator_alert::arrived(conn)?;
        Ok(())
    })
}

/// Erases the story's text at once and takes it out of every public place.
pub fn withdraw(conn: &mut DbConn, code: &ReceiptCode, now: NaiveDateTime) -> Result<(), Refused> {
    let now = to_the_hour(now);
    crate::db::write_transaction(conn, |conn| {
        let story = Story::find_by_receipt(conn, code)?.ok_or(Refused::NotFound)?;
        take(conn, &story, StoryAction::Withdraw, false, now)?;
        erase_text(conn, story.id, &story.public_id, now)?;
        Report::resolve_all(conn, story.id, false, now)?;
        ModAction::about(story.id, &story.public_id)
            .by(Actor::Submitter)
            .withdraw()
            .record(conn, now)?;
        Ok(())
    })
}

/// Erases everything a submitter wrote in a story and every moderator message about it; the row
/// keeps its status and bare facts, the audit rows their kind and time. Queues the physical
/// clean-up (`crate::erasure`). Call inside the transaction that records why.
fn erase_text(
    conn: &mut DbConn,
    story_id: i32,
    public_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    Story::erase(conn, story_id, now)?;
    ModAction::erase_messages(conn, story_id)?;
    Outbox::cancel_mail_about(conn, public_id, now)?;
    ErasureQueue::request(conn, Held::Story, Some(public_id))
}

/// Erases the text of rejected stories decided more than `retention` ago (their submitters could
/// read the decision until then); returns how many.
pub fn expire_rejected(
    conn: &mut DbConn,
    retention: std::time::Duration,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let cutoff = now - Duration::from_std(retention).unwrap_or(Duration::MAX);
    let from: Vec<&str> = StoryStatus::allowing(StoryAction::EraseExpired, false)
        .into_iter()
        .map(StoryStatus::as_str)
        .collect();
    let due: Vec<(i32, String)> = stories::table
        .filter(stories::status.eq_any(&from))
        .filter(stories::updated_at.le(cutoff))
        .filter(stories::body_markdown.ne(""))
        .limit(100)
        .select((stories::id, stories::public_id))
        .load(conn)?;
    for (id, public_id) in &due {
        crate::db::write_transaction(conn, |conn| {
            erase_text(conn, *id, public_id, now)?;
            ModAction::about(*id, public_id).erase().record(conn, now)
        })?;
    }
    Ok(due.len())
}

// ---- The moderators' side -------------------------------------------------------------------

/// The moderator holding a story, if the claim is still running.
fn live_claim(
    conn: &mut DbConn,
    story: &Story,
    now: NaiveDateTime,
) -> QueryResult<Option<(i32, String, NaiveDateTime)>> {
    match (story.claimed_by, story.claimed_until) {
        (Some(user_id), Some(until)) if until > now => {
            let name: String = users::table
                .find(user_id)
                .select(users::display_name)
                .first(conn)?;
            Ok(Some((user_id, name, until)))
        }
        _ => Ok(None),
    }
}

fn check_claim(
    conn: &mut DbConn,
    story: &Story,
    by: &Moderator,
    now: NaiveDateTime,
) -> Result<(), Refused> {
    match live_claim(conn, story, now)? {
        Some((user_id, name, until)) if user_id != by.id => {
            Err(Refused::ClaimedByOther { name, until })
        }
        _ => Ok(()),
    }
}

/// Takes a story for `by` for fifteen minutes, unless another moderator holds it. Only ever
/// asked for with a POST: a page view (or an image pointing at the page) must not claim.
pub fn claim(
    conn: &mut DbConn,
    public_id: &PublicId,
    by: &Moderator,
    now: NaiveDateTime,
) -> Result<Story, Refused> {
    crate::db::write_transaction(conn, |conn| {
        let story = find(conn, public_id)?;
        check_claim(conn, &story, by, now)?;
        if !story.status.allows(StoryAction::Claim, false) {
            return Err(refusal(story.status, StoryAction::Claim));
        }
        diesel::update(stories::table.find(story.id))
            .set((
                stories::claimed_by.eq(by.id),
                stories::claimed_until.eq(now + Duration::minutes(CLAIM_MINUTES)),
            ))
            .execute(conn)?;
        Ok(Story::find_by_public_id(conn, public_id)?)
    })
}

/// Who holds a story now, for the page: (user id, name, until).
pub fn claim_holder(
    conn: &mut DbConn,
    story: &Story,
    now: NaiveDateTime,
) -> QueryResult<Option<(i32, String, NaiveDateTime)>> {
    live_claim(conn, story, now)
}

/// A moderator's decision.
pub enum Decision {
    /// `unfounded_reports`: the story was hidden by reports that the moderator found unfounded;
    /// the same readers' reports on it no longer count.
    Approve {
        unfounded_reports: bool,
    },
    Reject {
        reason: String,
        note: Option<String>,
        /// Whether the reason and the note go into the mail too (the status page shows them
        /// whatever this says).
        tell: bool,
    },
    RequestChanges {
        message: String,
    },
}

impl Decision {
    /// The action this decision is on a story in status `was`: approving a story that is
    /// already public keeps it up.
    pub fn action(&self, was: StoryStatus) -> StoryAction {
        match self {
            Decision::Approve { .. } if was.is_public() => StoryAction::KeepPublished,
            Decision::Approve { .. } => StoryAction::Approve,
            Decision::Reject { .. } => StoryAction::Reject,
            Decision::RequestChanges { .. } => StoryAction::RequestChanges,
        }
    }
}

/// Applies a decision with its audit row, outbox events and the submitter's mail, atomically.
pub fn decide(
    conn: &mut DbConn,
    public_id: &PublicId,
    decision: &Decision,
    by: &Moderator,
    site: &Site,
    now: NaiveDateTime,
) -> Result<(), Refused> {
    crate::db::write_transaction(conn, |conn| {
        let story = find(conn, public_id)?;
        let action = decision.action(story.status);
        let open_reports = Report::has_open(conn, story.id)?;
        if story.status.allows(action, open_reports) {
            check_claim(conn, &story, by, now)?;
        }
        let was_public = story.status.is_public();
        let to_status = take(conn, &story, action, open_reports, now)?;
        diesel::update(stories::table.find(story.id))
            .set((
                stories::claimed_by.eq(None::<i32>),
                stories::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        match decision {
            Decision::Approve { unfounded_reports } => {
                set_message(conn, story.id, None)?;
                if story.published_at.is_none() {
                    diesel::update(stories::table.find(story.id))
                        .set(stories::published_at.eq(now))
                        .execute(conn)?;
                }
                Report::resolve_all(conn, story.id, *unfounded_reports, now)?;
            }
            Decision::Reject { reason, note, .. } => {
                let shown = match note {
                    Some(n) => format!("{reason}\n{n}"),
                    None => reason.clone(),
                };
                set_message(conn, story.id, Some(&shown))?;
                Report::resolve_all(conn, story.id, false, now)?;
            }
            Decision::RequestChanges { message } => set_message(conn, story.id, Some(message))?,
        }
        let about = ModAction::about(story.id, &story.public_id).by(by.actor());
        match decision {
            Decision::Approve { unfounded_reports } => {
                about.approve().note(unfounded_reports.then_some(
                    "通報には根拠がないと判断しました（同じ読者からの通報は数えません）",
                ))
            }
            Decision::Reject { reason, note, .. } => about.reject(reason).note(note.as_deref()),
            Decision::RequestChanges { message } => about.request_changes().note(Some(message)),
        }
        .record(conn, now)?;

        // The submitter hears of every decision; the address stays only until a final one.
        if let Some(to) = &story.contact_email {
            let status_url = format!("{}/stories/status", site.base_url);
            let mail = match decision {
                Decision::Approve { .. } if was_public => None,
                Decision::Approve { .. } => Some(messages::story_approved(
                    to,
                    &format!("{}{}", site.base_url, crate::paths::story(&story.public_id)),
                )),
                Decision::Reject { reason, note, tell } => Some(messages::story_rejected(
                    to,
                    tell.then_some((reason.as_str(), note.as_deref())),
                    &status_url,
                )),
                Decision::RequestChanges { message } => {
                    Some(messages::changes_requested(to, message, &status_url))
                }
            };
            if let Some(mail) = mail {
                mail.about_story(&story.public_id).queue(conn, now)?;
            }
            if to_status.is_final() {
                diesel::update(stories::table.find(story.id))
                    .set(stories::contact_email.eq(None::<String>))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

/// Replaces what the submitter wrote (any of its fields) as a moderator removing identifying
/// details; the public page then says so, and the submitter's status page names the fields.
/// Each changed field is one audit row. The personal-information flags are those of what
/// remains, and what was removed is kept nowhere (its physical clean-up is queued).
pub fn redact(
    conn: &mut DbConn,
    public_id: &PublicId,
    content: &StoryContent,
    pii: &[Finding],
    note: Option<&str>,
    by: &Moderator,
    now: NaiveDateTime,
) -> Result<(), Refused> {
    crate::db::write_transaction(conn, |conn| {
        let story = find(conn, public_id)?;
        take(conn, &story, StoryAction::Edit, false, now)?;
        check_claim(conn, &story, by, now)?;
        let tags = Tag::of_stories(conn, &[story.id])?
            .remove(&story.id)
            .unwrap_or_default();
        let changed = content.changed_from(&story, &tags);
        if changed.is_empty() {
            return Err(Refused::NotAllowed(
                "どの欄も変わっていません。修正する欄を書き換えてから保存してください。".to_owned(),
            ));
        }
        Story::redact(conn, &story, content, pii, now)?;
        ErasureQueue::request(conn, Held::Story, None)?;
        for field in changed {
            ModAction::about(story.id, &story.public_id)
                .by(by.actor())
                .edit(field)
                .note(note)
                .record(conn, now)?;
        }
        Ok(())
    })
}

/// One row of the moderation queue.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = stories)]
pub struct QueueRow {
    pub id: i32,
    pub public_id: String,
    pub title: String,
    #[diesel(column_name = length_months, deserialize_as = i32)]
    pub length: RelationshipLength,
    /// False for a story that came without its facts (the length is a placeholder).
    pub facts_set: bool,
    #[diesel(deserialize_as = String)]
    pub status: StoryStatus,
    pub submitted_at: NaiveDateTime,
    pub pii_flags: String,
    pub claimed_by: Option<i32>,
    pub claimed_until: Option<NaiveDateTime>,
}

/// How many stories without their facts the queue lists at most.
pub const UNTOLD_SHOWN: i64 = 50;

/// The moderators' lists.
pub struct Queue {
    /// Waiting for a decision, oldest first.
    pub waiting: Vec<QueueRow>,
    /// Waiting for the submitter's answer to a change request, the longest-waiting first.
    pub answering: Vec<QueueRow>,
    /// Public stories, or stories reports hid, with open reports.
    pub reported: Vec<QueueRow>,
    /// Public stories that came without their facts (情報未設定), oldest first, at most
    /// `UNTOLD_SHOWN`, and how many there are.
    pub untold: (Vec<QueueRow>, i64),
}

pub fn queue(conn: &mut DbConn) -> QueryResult<Queue> {
    let waiting = stories::table
        .filter(stories::status.eq(StoryStatus::Pending.as_str()))
        .order((stories::submitted_at.asc(), stories::id.asc()))
        .select(QueueRow::as_select())
        .load(conn)?;
    let answering = stories::table
        .filter(stories::status.eq(StoryStatus::ChangesRequested.as_str()))
        .order((stories::updated_at.asc(), stories::id.asc()))
        .select(QueueRow::as_select())
        .load(conn)?;
    // Public stories, and those readers' reports hid.
    let hidden = StoryAction::Hide.leads_to().unwrap_or(StoryStatus::Held);
    let reported = stories::table
        .filter(story_is_public().or(stories::status.eq(hidden.as_str())))
        .filter(
            stories::id.eq_any(
                reports::table
                    .filter(reports::resolved_at.is_null())
                    .select(reports::story_id),
            ),
        )
        .order((stories::status.desc(), stories::submitted_at.asc()))
        .select(QueueRow::as_select())
        .load(conn)?;
    let untold_total = public_stories()
        .filter(stories::facts_set.eq(false))
        .count()
        .get_result(conn)?;
    let untold = public_stories()
        .filter(stories::facts_set.eq(false))
        .order((stories::submitted_at.asc(), stories::id.asc()))
        .limit(UNTOLD_SHOWN)
        .select(QueueRow::as_select())
        .load(conn)?;
    Ok(Queue {
        waiting,
        answering,
        reported,
        untold: (untold, untold_total),
    })
}
