use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{login_throttle, sessions, users};
use crate::models::user::User;
use crate::secrets::{random_hex, sha256_hex};

/// Staff sessions live for this long after login, whatever happens in between.
pub const LIFETIME_HOURS: i64 = 12;

pub struct Session;

impl Session {
    /// Starts a session and returns its token; only the token's hash is stored.
    pub fn create(conn: &mut DbConn, user_id: i32, now: NaiveDateTime) -> QueryResult<String> {
        let token = random_hex(32);
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq(sha256_hex(token.as_bytes())),
                sessions::user_id.eq(user_id),
                sessions::created_at.eq(now),
                sessions::expires_at.eq(now + Duration::hours(LIFETIME_HOURS)),
            ))
            .execute(conn)?;
        // Expired sessions are removed as new ones start; nothing else needs them.
        diesel::delete(sessions::table.filter(sessions::expires_at.lt(now))).execute(conn)?;
        Ok(token)
    }

    /// The enabled user a live session belongs to.
    pub fn user(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> QueryResult<Option<User>> {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(sha256_hex(token.as_bytes())))
            .filter(sessions::expires_at.gt(now))
            .filter(users::disabled.eq(false))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn end(conn: &mut DbConn, token: &str) -> QueryResult<()> {
        diesel::delete(
            sessions::table.filter(sessions::token_hash.eq(sha256_hex(token.as_bytes()))),
        )
        .execute(conn)
        .map(|_| ())
    }
}

/// Failed logins per account name, shared by every node through the database.
pub struct LoginThrottle;

pub const MAX_FAILURES: i32 = 5;
pub const WINDOW_MINUTES: i64 = 15;

impl LoginThrottle {
    /// Until when logins for `key` are refused, if they are.
    pub fn locked_until(
        conn: &mut DbConn,
        key: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        let until: Option<Option<NaiveDateTime>> = login_throttle::table
            .find(key)
            .select(login_throttle::locked_until)
            .first(conn)
            .optional()?;
        Ok(until.flatten().filter(|u| *u > now))
    }

    /// Counts a failure; the fifth within the window locks the key for the window's length.
    pub fn fail(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            let row: Option<(i32, NaiveDateTime)> = login_throttle::table
                .find(key)
                .select((login_throttle::failures, login_throttle::window_start))
                .first(conn)
                .optional()?;
            let window = Duration::minutes(WINDOW_MINUTES);
            let (failures, start) = match row {
                Some((f, s)) if now - s < window => (f + 1, s),
                _ => (1, now),
            };
            let locked_until = (failures >= MAX_FAILURES).then(|| now + window);
            diesel::delete(login_throttle::table.find(key)).execute(conn)?;
            diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::key_hash.eq(key),
                    login_throttle::failures.eq(if locked_until.is_some() { 0 } else { failures }),
                    login_throttle::window_start.eq(start),
                    login_throttle::locked_until.eq(locked_until),
                ))
                .execute(conn)
                .map(|_| ())
        })
    }

    pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
        diesel::delete(login_throttle::table.find(key))
            .execute(conn)
            .map(|_| ())
    }
}
