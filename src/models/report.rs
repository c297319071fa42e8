use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::reports;
use crate::domain::status::text_enum;
use crate::models::daily_key::DayHashes;

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

impl Report {
    /// Whether this reader's report on the story is already counted, or was found unfounded.
    pub fn known(conn: &mut DbConn, story_id: i32, reader: &Reader) -> QueryResult<bool> {
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
        Ok(known > 0)
    }

    pub fn insert(
        conn: &mut DbConn,
        story_id: i32,
        reason: ReportReason,
        reader: &Reader,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(reports::table)
            .values((
                reports::story_id.eq(story_id),
                reports::reason.eq(reason.as_str()),
                reports::created_at.eq(now),
                reports::reader_hash.eq(&reader.0.today),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Whether readers' reports on the story wait for a decision.
    pub fn has_open(conn: &mut DbConn, story_id: i32) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            reports::table
                .filter(reports::story_id.eq(story_id))
                .filter(reports::resolved_at.is_null()),
        ))
        .get_result(conn)
    }

    /// Whether a moderator restored the story lately, finding its reports unfounded: for a
    /// while after that, reports are listed in the queue but hide nothing by themselves (the
    /// readers' hashes change daily, so "the same readers" could otherwise hide it again the
    /// day after).
    pub fn found_unfounded_lately(
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
    pub fn readers(conn: &mut DbConn, story_id: i32, now: NaiveDateTime) -> QueryResult<i64> {
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
