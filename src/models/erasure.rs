//! The queue of physical clean-ups after erasures (`crate::erasure` runs them). A row holds no
//! text and no time: at most the public id of the story whose mail files must go, and on
//! PostgreSQL the id of the erasing transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::erasures;

pub struct ErasureQueue;

/// One queued clean-up.
#[derive(Debug, Queryable)]
pub struct Queued {
    pub id: i32,
    pub story_public_id: Option<String>,
    pub xid: Option<i64>,
}

impl ErasureQueue {
    /// Queues the clean-up after a write that removed personal text; call it inside that write's
    /// transaction. `story_public_id` names the story whose mail files must go, if any.
    pub fn request(conn: &mut DbConn, story_public_id: Option<&str>) -> QueryResult<()> {
        diesel::insert_into(erasures::table)
            .values(erasures::story_public_id.eq(story_public_id))
            .execute(conn)
            .map(|_| ())
    }

    /// The queued clean-ups, oldest first.
    pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<Queued>> {
        erasures::table
            .order(erasures::id)
            .select((erasures::id, erasures::story_public_id, erasures::xid))
            .load(conn)
    }

    /// Forgets these clean-ups, once done. By id: on PostgreSQL a row with a lower id may commit
    /// later, and it is not done yet.
    pub fn forget(conn: &mut DbConn, done: &[Queued]) -> QueryResult<usize> {
        let ids: Vec<i32> = done.iter().map(|q| q.id).collect();
        diesel::delete(erasures::table.filter(erasures::id.eq_any(ids))).execute(conn)
    }
}
