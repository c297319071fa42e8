//! The queue of physical clean-ups after erasures (`crate::erasure` runs them). A row holds no
//! text and no time: what kind of thing held the removed text, at most the public id of the
//! story whose mail files must go, and on PostgreSQL the id of the erasing transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::erasures;

/// What held the removed text, which decides which tables are rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A story's text (its rows, tags, audit notes, the mail about it).
    Story,
    /// An address in a mail or a subscription.
    Address,
}

impl Held {
    fn as_str(self) -> &'static str {
        match self {
            Held::Story => "story",
            Held::Address => "address",
        }
    }

    /// The tables whose files can still hold such text.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Held::Story => &[
                "stories",
                "story_tags",
                "story_bands",
                "tags",
                "mod_actions",
                "outbox",
                "reports",
            ],
            Held::Address => &["outbox", "subscriptions"],
        }
    }
}

pub struct ErasureQueue;

/// One queued clean-up.
#[derive(Debug)]
pub struct Queued {
    pub id: i32,
    pub held: Held,
    pub story_public_id: Option<String>,
    pub xid: Option<i64>,
}

impl ErasureQueue {
    /// Queues the clean-up after a write that removed personal text; call it inside that write's
    /// transaction. `story_public_id` names the story whose mail files must go, if any.
    pub fn request(
        conn: &mut DbConn,
        held: Held,
        story_public_id: Option<&str>,
    ) -> QueryResult<()> {
        diesel::insert_into(erasures::table)
            .values((
                erasures::holds.eq(held.as_str()),
                erasures::story_public_id.eq(story_public_id),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The queued clean-ups, oldest first.
    pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<Queued>> {
        let rows: Vec<(i32, String, Option<String>, Option<i64>)> = erasures::table
            .order(erasures::id)
            .select((
                erasures::id,
                erasures::holds,
                erasures::story_public_id,
                erasures::xid,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, holds, story_public_id, xid)| Queued {
                id,
                // The database allows only the two values.
                held: if holds == "address" {
                    Held::Address
                } else {
                    Held::Story
                },
                story_public_id,
                xid,
            })
            .collect())
    }

    /// Forgets these clean-ups, once done. By id: on PostgreSQL a row with a lower id may commit
    /// later, and it is not done yet.
    pub fn forget(conn: &mut DbConn, done: &[Queued]) -> QueryResult<usize> {
        let ids: Vec<i32> = done.iter().map(|q| q.id).collect();
        diesel::delete(erasures::table.filter(erasures::id.eq_any(ids))).execute(conn)
    }
}
