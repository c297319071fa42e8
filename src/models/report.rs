use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{reports, stories};
use crate::domain::StoryStatus;
use crate::domain::status::text_enum;
use crate::mail::messages;
use crate::models::daily_key::DayHashes;
use crate::models::mod_action::{ActionKind, Actor, ModAction};
use crate::models::outbox::{Outbox, STORY_REMOVED};
use crate::models::user::User;

text_enum!(
    /// Why a reader reports a story.
    ReportReason, "通報の理由" {
        PersonalInfo => "personal_info", "個人が特定できる情報がある";
        Harmful => "harmful", "誰かを傷つける内容がある";
        Spam => "spam", "宣伝・スパム";
        OffTopic => "off_topic", "サイトの趣旨に合わない";
        Other => "other", "その他";
    }
);

pub struct Report;

/// Reports count from distinct readers within this window; one reader counts once in it.
pub const WINDOW_HOURS: i64 = 24;
/// After reports on a story were found unfounded, reports hide it by themselves again only
/// after this many days.
pub const UNFOUNDED_SHIELD_DAYS: i64 = 30;
/// A reader's hashes are kept this long: the day's and the day before's can match them.
const READER_KEPT_HOURS: i64 = 48;

/// Who reported, as far as counting needs: hashes under the day's random key (`DailyKey`) of
/// the reader's network and the story, today's and yesterday's (a report made just before the
/// day's change is still the same reader's after it). Nothing else of the reader is kept; the
/// hashes are forgotten after two days, and the keys that made them with them.
pub struct Reader(DayHashes);

impl Reader {
    pub fn new(
        conn: &mut DbConn,
        network: &[u8; 16],
        public_id: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Self> {
        let mut data = public_id.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(network);
        DayHashes::of(conn, now.date(), "report-reader", &data).map(Reader)
    }
}

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

impl Report {
    /// Records a report on an approved story, once per reader; when `threshold` distinct
    /// readers have reported it within the window, the story is held, with its audit row, its
    /// outbox event and the moderators' mail, in the same transaction.
    pub fn file(
        conn: &mut DbConn,
        public_id: &str,
        reason: ReportReason,
        reader: &Reader,
        threshold: i64,
        base_url: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Filed> {
        crate::db::write_transaction(conn, |conn| {
            let story_id: i32 = stories::table
                .filter(stories::public_id.eq(public_id))
                .filter(stories::status.eq(StoryStatus::Approved.as_str()))
                .select(stories::id)
                .first(conn)?;
            let known: i64 = reports::table
                .filter(reports::story_id.eq(story_id))
                .filter(reports::reader_hash.eq_any(reader.0.all()))
                .filter(
                    reports::resolved_at
                        .is_null()
                        .or(reports::unfounded.eq(true)),
                )
                .count()
                .get_result(conn)?;
            if known > 0 {
                return Ok(Filed::NotCounted);
            }
            diesel::insert_into(reports::table)
                .values((
                    reports::story_id.eq(story_id),
                    reports::reason.eq(reason.as_str()),
                    reports::created_at.eq(now),
                    reports::reader_hash.eq(&reader.0.today),
                ))
                .execute(conn)?;
            let readers = Self::readers(conn, story_id, now)?;
            if readers < threshold || Self::found_unfounded_lately(conn, story_id, now)? {
                return Ok(Filed::Recorded);
            }
            // Only from approved: a report racing another one (or a decision) hides once.
            let hidden = diesel::update(
                stories::table
                    .find(story_id)
                    .filter(stories::status.eq(StoryStatus::Approved.as_str())),
            )
            .set((
                stories::status.eq(StoryStatus::Held.as_str()),
                stories::updated_at.eq(now),
            ))
            .execute(conn)?;
            if hidden == 0 {
                return Ok(Filed::Recorded);
            }
            ModAction::record(
                conn,
                ActionKind::Hide,
                story_id,
                public_id,
                &Actor::System,
                None,
                Some(&format!(
                    "{WINDOW_HOURS}時間以内に{readers}人の読者から通報がありました"
                )),
                now,
            )?;
            Outbox::story_event(conn, STORY_REMOVED, public_id, now)?;
            let to = User::moderator_emails(conn)?;
            if !to.is_empty() {
                let reasons = Self::open_reasons(conn, story_id)?;
                messages::story_hidden(to, public_id, readers, &reasons, base_url)
                    .about_story(public_id)
                    .queue(conn, now)?;
            }
            Ok(Filed::Hidden)
        })
    }

    /// Whether a moderator restored the story lately, finding its reports unfounded: for a
    /// while after that, reports are listed in the queue but hide nothing by themselves (the
    /// readers' hashes change daily, so "the same readers" could otherwise hide it again the
    /// day after).
    fn found_unfounded_lately(
        conn: &mut DbConn,
        story_id: i32,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let found: i64 = reports::table
            .filter(reports::story_id.eq(story_id))
            .filter(reports::unfounded.eq(true))
            .filter(reports::resolved_at.gt(now - chrono::Duration::days(UNFOUNDED_SHIELD_DAYS)))
            .count()
            .get_result(conn)?;
        Ok(found > 0)
    }

    /// Distinct readers with an open, founded report on the story within the window.
    fn readers(conn: &mut DbConn, story_id: i32, now: NaiveDateTime) -> QueryResult<i64> {
        reports::table
            .filter(reports::story_id.eq(story_id))
            .filter(reports::resolved_at.is_null())
            .filter(reports::unfounded.eq(false))
            .filter(reports::created_at.gt(now - chrono::Duration::hours(WINDOW_HOURS)))
            .select(diesel::dsl::count(reports::reader_hash).aggregate_distinct())
            .get_result(conn)
    }

    /// Open reports of a story, by reason, most frequent first.
    pub fn open_reasons(conn: &mut DbConn, story_id: i32) -> QueryResult<Vec<(String, i64)>> {
        let reasons: Vec<String> = reports::table
            .filter(reports::story_id.eq(story_id))
            .filter(reports::resolved_at.is_null())
            .select(reports::reason)
            .load(conn)?;
        let mut counts: Vec<(String, i64)> = Vec::new();
        for reason in reasons {
            let label =
                ReportReason::parse(&reason).map_or(reason.clone(), |r| r.label().to_owned());
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        Ok(counts)
    }

    /// Closes the open reports of a story once a moderator has decided on it; `unfounded` when
    /// the moderator restored the story and found them so: the same readers' reports on it then
    /// no longer count.
    pub fn resolve_all(
        conn: &mut DbConn,
        story_id: i32,
        unfounded: bool,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(
            reports::table
                .filter(reports::story_id.eq(story_id))
                .filter(reports::resolved_at.is_null()),
        )
        .set((
            reports::resolved_at.eq(now),
            reports::unfounded.eq(unfounded),
        ))
        .execute(conn)
        .map(|_| ())
    }

    /// Forgets readers' hashes once they can no longer match (run by the scheduler).
    pub fn forget_readers(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
        diesel::update(
            reports::table
                .filter(reports::reader_hash.is_not_null())
                .filter(reports::created_at.lt(now - chrono::Duration::hours(READER_KEPT_HOURS))),
        )
        .set(reports::reader_hash.eq(None::<String>))
        .execute(conn)
    }
}
