//! The transactional outbox: events written in the same transaction as the change they announce.
//! Mail rows are delivered once, with retries; other topics are read in id order by every node.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::outbox;

pub const MAIL: &str = "mail";
/// A story became public, or its public text changed.
pub const STORY_PUBLISHED: &str = "story.published";
/// A story left every public place.
pub const STORY_REMOVED: &str = "story.removed";
/// A guide became public or changed while public; `GUIDE_REMOVED` when it stops being public.
pub const GUIDE_PUBLISHED: &str = "guide.published";
pub const GUIDE_REMOVED: &str = "guide.removed";
/// The editors changed the search's synonym groups: search pages answer differently.
pub const SYNONYMS_CHANGED: &str = "search.synonyms";
/// The topics that change what the public sees, read in order by every node (the page cache
/// keys on the newest). Only `models::visibility` writes them.
pub const CONTENT_TOPICS: [&str; 5] = [
    STORY_PUBLISHED,
    STORY_REMOVED,
    GUIDE_PUBLISHED,
    GUIDE_REMOVED,
    SYNONYMS_CHANGED,
];

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i32,
    pub topic: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

pub struct Outbox;

impl Outbox {
    pub fn publish(
        conn: &mut DbConn,
        topic: &str,
        payload: &impl Serialize,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let payload = serde_json::to_string(payload)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        // Readers follow the outbox by id: "nothing after id N" must stay true once seen. On
        // PostgreSQL a sequence hands out ids before commit, so a later id could become visible
        // before an earlier one and every reader would skip the earlier event. Writers therefore
        // take turns from their insert until their transaction ends (inside the caller's
        // transaction, this one is a savepoint and the lock lasts until the caller commits).
        // SQLite has a single writer already.
        crate::db::write_transaction(conn, |conn| {
            if let DbConn::Postgres(c) = conn {
                use diesel::connection::SimpleConnection;
                c.batch_execute(&format!(
                    "SELECT pg_advisory_xact_lock({})",
                    crate::db::OUTBOX_LOCK
                ))?;
            }
            diesel::insert_into(outbox::table)
                .values((
                    outbox::topic.eq(topic),
                    outbox::payload.eq(payload),
                    outbox::created_at.eq(now),
                    outbox::attempts.eq(0),
                    outbox::next_attempt_at.eq(now),
                ))
                .execute(conn)
                .map(|_| ())
        })
    }

    /// Content events after `after`, in order. Asked by every node's indexer four times a
    /// second: only the events after `after` are read (SQLite takes them by `outbox_by_topic`,
    /// topic and id; a planner may also take them by id), never every event of a topic.
    pub fn content_events_after(
        conn: &mut DbConn,
        after: i64,
        limit: i64,
    ) -> QueryResult<Vec<OutboxRow>> {
        let after = i32::try_from(after).unwrap_or(i32::MAX);
        outbox::table
            .filter(outbox::id.gt(after))
            .filter(outbox::topic.eq_any(CONTENT_TOPICS))
            .order(outbox::id)
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(conn)
    }

    /// The newest row's id, 0 when there is none.
    pub fn max_id(conn: &mut DbConn) -> QueryResult<i64> {
        let max: Option<i32> = outbox::table
            .select(diesel::dsl::max(outbox::id))
            .first(conn)?;
        Ok(i64::from(max.unwrap_or(0)))
    }

    /// The newest content event's id (what the public can see changed), 0 when there is none:
    /// mail rows leave public pages as they were.
    /// Asked by every node ten times a second (the page cache's watch): one topic at a time,
    /// each the last entry of its range in `outbox_by_topic`, where one maximum over the five
    /// topics read all their rows on PostgreSQL.
    pub fn max_content_id(conn: &mut DbConn) -> QueryResult<i64> {
        let mut newest = 0;
        for topic in CONTENT_TOPICS {
            let max: Option<i32> = outbox::table
                .filter(outbox::topic.eq(topic))
                .select(diesel::dsl::max(outbox::id))
                .first(conn)?;
            newest = newest.max(max.unwrap_or(0));
        }
        Ok(i64::from(newest))
    }

    /// Undelivered mail whose next attempt is due, oldest first.
    pub fn due_mail(
        conn: &mut DbConn,
        now: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<OutboxRow>> {
        outbox::table
            .filter(outbox::topic.eq(MAIL))
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::next_attempt_at.le(now))
            .order(outbox::id)
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(conn)
    }

    /// Takes a row for delivery until `lease_until`; false when another worker took it first.
    pub fn claim(
        conn: &mut DbConn,
        row: &OutboxRow,
        lease_until: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            outbox::table
                .filter(outbox::id.eq(row.id))
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::next_attempt_at.eq(row.next_attempt_at)),
        )
        .set(outbox::next_attempt_at.eq(lease_until))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks a mail sent and replaces its payload, so that no address outlives its use.
    pub fn delivered(
        conn: &mut DbConn,
        id: i32,
        redacted_payload: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::delivered_at.eq(now),
                outbox::payload.eq(redacted_payload),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Finishes mail rows without sending them: no more attempts (`delivered_at` is set), no
    /// address or text kept, and why in `last_error`.
    fn finish_unsent(
        conn: &mut DbConn,
        ids: &[i32],
        redacted_payload: &str,
        why: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set((
                outbox::delivered_at.eq(now),
                outbox::payload.eq(redacted_payload),
                outbox::last_error.eq(why),
            ))
            .execute(conn)
    }

    /// Gives up on a mail that could not be delivered within the give-up time.
    pub fn dropped(
        conn: &mut DbConn,
        id: i32,
        redacted_payload: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let why = "dropped: not deliverable within the give-up time";
        Self::finish_unsent(conn, &[id], redacted_payload, why, now).map(|_| ())
    }

    /// Cancels the mail not yet sent that names this story (its decision mail, a digest listing
    /// it): the story was erased, and neither its address nor its title may leave now.
    pub fn cancel_mail_about(
        conn: &mut DbConn,
        public_id: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        let about = format!("%\"story\":\"{public_id}\"%");
        let linking = format!("%/stories/{public_id}%");
        let ids: Vec<i32> = outbox::table
            .filter(outbox::topic.eq(MAIL))
            .filter(outbox::delivered_at.is_null())
            .filter(
                outbox::payload
                    .like(about)
                    .or(outbox::payload.like(linking)),
            )
            .select(outbox::id)
            .load(conn)?;
        let payload = r#"{"kind":"cancelled","to":[],"subject":"","body":""}"#;
        Self::finish_unsent(conn, &ids, payload, "cancelled: the story was erased", now)
    }

    pub fn failed(
        conn: &mut DbConn,
        id: i32,
        attempts: i32,
        next_attempt_at: NaiveDateTime,
        error: &str,
    ) -> QueryResult<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::attempts.eq(attempts),
                outbox::next_attempt_at.eq(next_attempt_at),
                outbox::last_error.eq(error),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn undelivered_mail_count(conn: &mut DbConn) -> QueryResult<i64> {
        outbox::table
            .filter(outbox::topic.eq(MAIL))
            .filter(outbox::delivered_at.is_null())
            .count()
            .get_result(conn)
    }
}
