//! The moderators' alerts, batched: a count of what entered the queue since the last alert, and
//! when the last alert and reminder went. One row, naming no story and no submission's time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::moderator_alerts;

const ROW: i32 = 1;

/// What an alert says beyond the queue's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Items that entered the queue since the last alert.
    pub arrivals: i32,
    /// Whether it is (also) a reminder that an item has waited too long.
    pub reminder: bool,
}

/// Counts one item entering the queue; the next alert will include it.
pub fn arrived(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(moderator_alerts::table.find(ROW))
        .set(moderator_alerts::arrivals.eq(moderator_alerts::arrivals + 1))
        .execute(conn)
        .map(|_| ())
}

/// Takes the alert that is due at `now`, if any, and marks it sent: at most one per `interval`,
/// sent when items arrived since the last one or (a reminder) when `waited_too_long` and no
/// reminder went in the last `reminder_every`. Call it inside a write transaction: it first
/// locks the row (a no-op update), so of two nodes deciding at once the second reads what the
/// first wrote.
pub fn take_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    interval: chrono::Duration,
    waited_too_long: bool,
    reminder_every: chrono::Duration,
) -> QueryResult<Option<Due>> {
    diesel::update(moderator_alerts::table.find(ROW))
        .set(moderator_alerts::arrivals.eq(moderator_alerts::arrivals))
        .execute(conn)?;
    let (arrivals, alerted_at, reminded_at): (i32, Option<NaiveDateTime>, Option<NaiveDateTime>) =
        moderator_alerts::table
            .find(ROW)
            .select((
                moderator_alerts::arrivals,
                moderator_alerts::alerted_at,
                moderator_alerts::reminded_at,
            ))
            .first(conn)?;
    if alerted_at.is_some_and(|t| now - t < interval) {
        return Ok(None);
    }
    let reminder = waited_too_long && reminded_at.is_none_or(|t| now - t >= reminder_every);
    if arrivals == 0 && !reminder {
        return Ok(None);
    }
    diesel::update(moderator_alerts::table.find(ROW))
        .set((
            // Arrivals during this transaction wait for its lock, and count for the next alert.
            moderator_alerts::arrivals.eq(moderator_alerts::arrivals - arrivals),
            moderator_alerts::alerted_at.eq(Some(now)),
            moderator_alerts::reminded_at.eq(if reminder { Some(now) } else { reminded_at }),
        ))
        .execute(conn)?;
    Ok(Some(Due { arrivals, reminder }))
}
