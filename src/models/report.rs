use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{reports, stories};
use crate::domain::StoryStatus;
use crate::domain::status::text_enum;
use crate::models::mod_action::{ActionKind, Actor, ModAction};
use crate::models::outbox::{Outbox, STORY_REMOVED};

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

/// What filing a report did.
#[derive(Debug, PartialEq, Eq)]
pub enum Filed {
    Recorded,
    /// The report reached the threshold and the story is hidden until a moderator decides.
    Hidden,
}

impl Report {
    /// Records a report on an approved story; at `threshold` open reports the story is held,
    /// with its audit row and outbox event, in the same transaction.
    pub fn file(
        conn: &mut DbConn,
        public_id: &str,
        reason: ReportReason,
        threshold: i64,
        now: NaiveDateTime,
    ) -> QueryResult<Filed> {
        crate::db::write_transaction(conn, |conn| {
            let story_id: i32 = stories::table
                .filter(stories::public_id.eq(public_id))
                .filter(stories::status.eq(StoryStatus::Approved.as_str()))
                .select(stories::id)
                .first(conn)?;
            diesel::insert_into(reports::table)
                .values((
                    reports::story_id.eq(story_id),
                    reports::reason.eq(reason.as_str()),
                    reports::created_at.eq(now),
                ))
                .execute(conn)?;
            if Self::open_count(conn, story_id)? < threshold {
                return Ok(Filed::Recorded);
            }
            diesel::update(stories::table.find(story_id))
                .set((
                    stories::status.eq(StoryStatus::Held.as_str()),
                    stories::updated_at.eq(now),
                ))
                .execute(conn)?;
            ModAction::record(
                conn,
                ActionKind::Hide,
                story_id,
                public_id,
                &Actor::System,
                None,
                Some(&format!("未対応の通報が{threshold}件に達しました")),
                now,
            )?;
            Outbox::story_event(conn, STORY_REMOVED, public_id, now)?;
            Ok(Filed::Hidden)
        })
    }

    pub fn open_count(conn: &mut DbConn, story_id: i32) -> QueryResult<i64> {
        reports::table
            .filter(reports::story_id.eq(story_id))
            .filter(reports::resolved_at.is_null())
            .count()
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

    /// Closes the open reports of a story once a moderator has decided on it.
    pub fn resolve_all(conn: &mut DbConn, story_id: i32, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(
            reports::table
                .filter(reports::story_id.eq(story_id))
                .filter(reports::resolved_at.is_null()),
        )
        .set(reports::resolved_at.eq(now))
        .execute(conn)
        .map(|_| ())
    }
}
