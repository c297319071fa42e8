//! The queue of physical clean-ups after erasures (`crate::erasure` runs them). A row holds no
//! text: at most the public id of the story whose mail files must go.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::erasures;

pub struct ErasureQueue;

impl ErasureQueue {
    /// Queues the clean-up after a write that removed personal text; call it inside that write's
    /// transaction. `story_public_id` names the story whose mail files must go, if any.
    pub fn request(
        conn: &mut DbConn,
        story_public_id: Option<&str>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(erasures::table)
            .values((
                erasures::story_public_id.eq(story_public_id),
                erasures::requested_at.eq(super::to_the_hour(now)),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The queued clean-ups, oldest first: (id, story).
    pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<(i32, Option<String>)>> {
        erasures::table
            .order(erasures::id)
            .select((erasures::id, erasures::story_public_id))
            .load(conn)
    }

    /// Forgets the clean-ups up to `last`, once they are done.
    pub fn done_through(conn: &mut DbConn, last: i32) -> QueryResult<usize> {
        diesel::delete(erasures::table.filter(erasures::id.le(last))).execute(conn)
    }
}
