use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{login_throttle, sessions, users};
use crate::models::user::User;
use crate::secrets::{SecretKey, random_hex, sha256_hex};

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

/// Failed logins, shared by every node through the database. Each attempt is counted under two
/// keys, keyed hashes made by the caller (`LoginKeys`): the typed address together with the
/// client's network, and the client's network alone. A key's failures past a free few make the
/// next attempt under it wait, twice as long after each (never a lock): an outsider guessing one
/// account's password waits longer and longer, while the owner, from their own network, is never
/// held back by it. Successes are never counted.
pub struct LoginThrottle;

/// The keys of one attempt: today's and yesterday's of each kind, so that the day's change of
/// key does not start every budget afresh.
pub struct LoginKeys {
    pub account_today: String,
    pub account_yesterday: String,
    pub client_today: String,
    pub client_yesterday: String,
}

impl LoginKeys {
    /// The keys for an attempt with the address `typed` from `network` (`client::network`).
    pub fn new(secret: &SecretKey, typed: &str, network: &[u8; 16], now: NaiveDateTime) -> Self {
        let email = typed.trim().to_lowercase();
        let key = |day: chrono::NaiveDate, kind: &str, with_email: bool| {
            let mut data = format!("{day}\0{kind}\0").into_bytes();
            if with_email {
                data.extend_from_slice(email.as_bytes());
                data.push(0);
            }
            data.extend_from_slice(network);
            secret.sign("login-throttle", &data)
        };
        let today = now.date();
        let yesterday = today - chrono::Days::new(1);
        LoginKeys {
            account_today: key(today, "account", true),
            account_yesterday: key(yesterday, "account", true),
            client_today: key(today, "client", false),
            client_yesterday: key(yesterday, "client", false),
        }
    }
}

/// Failures of one address from one network before any wait: a few mistypings cost nothing.
pub const FREE_ACCOUNT_FAILURES: i32 = 3;
/// Failures from one network over all addresses before any wait: a team behind one address
/// mistypes more, and someone trying many accounts is slowed all the same.
pub const FREE_CLIENT_FAILURES: i32 = 10;
/// The longest wait.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// Counts older than this are forgotten.
const KEPT_HOURS: i64 = 48;

/// The wait after `failures`, once more than `free` of them.
fn wait_after(failures: i32, free: i32) -> Duration {
    if failures < free {
        return Duration::zero();
    }
    let doublings = u32::try_from(failures - free).unwrap_or(0).min(20);
    Duration::seconds((1i64 << doublings).min(MAX_WAIT_SECONDS))
}

impl LoginThrottle {
    fn failures(
        conn: &mut DbConn,
        keys: &[&str],
        since: NaiveDateTime,
    ) -> QueryResult<(i32, Option<NaiveDateTime>)> {
        let rows: Vec<(i32, NaiveDateTime)> = login_throttle::table
            .filter(login_throttle::key_hash.eq_any(keys))
            .filter(login_throttle::last_failure.gt(since))
            .select((login_throttle::failures, login_throttle::last_failure))
            .load(conn)?;
        Ok((
            rows.iter().map(|(f, _)| f).sum(),
            rows.iter().map(|(_, t)| *t).max(),
        ))
    }

    /// Until when the next attempt under `keys` must wait, if it must.
    pub fn wait_until(
        conn: &mut DbConn,
        keys: &LoginKeys,
        now: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        let since = now - Duration::hours(KEPT_HOURS);
        let mut until = None;
        for (pair, free) in [
            (
                [keys.account_today.as_str(), &keys.account_yesterday],
                FREE_ACCOUNT_FAILURES,
            ),
            (
                [keys.client_today.as_str(), &keys.client_yesterday],
                FREE_CLIENT_FAILURES,
            ),
        ] {
            if let (failures, Some(last)) = Self::failures(conn, &pair, since)? {
                let ready = last + wait_after(failures, free);
                if ready > now {
                    until = until.max(Some(ready));
                }
            }
        }
        Ok(until)
    }

    /// Counts a failure under today's keys, and on the account it named if there is one.
    pub fn fail(
        conn: &mut DbConn,
        keys: &LoginKeys,
        account: Option<i32>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            for key in [&keys.account_today, &keys.client_today] {
                let failures: Option<i32> = login_throttle::table
                    .find(key)
                    .select(login_throttle::failures)
                    .first(conn)
                    .optional()?;
                diesel::delete(login_throttle::table.find(key)).execute(conn)?;
                diesel::insert_into(login_throttle::table)
                    .values((
                        login_throttle::key_hash.eq(key),
                        login_throttle::failures.eq(failures.unwrap_or(0) + 1),
                        login_throttle::last_failure.eq(now),
                    ))
                    .execute(conn)?;
            }
            if let Some(id) = account {
                diesel::update(users::table.find(id))
                    .set((
                        users::failed_logins.eq(users::failed_logins + 1),
                        users::last_failed_login_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            diesel::delete(
                login_throttle::table
                    .filter(login_throttle::last_failure.lt(now - Duration::hours(KEPT_HOURS))),
            )
            .execute(conn)?;
            Ok(())
        })
    }

    /// After the right password: this address from this network starts afresh (the network's
    /// own count stays, or signing in to one account would reset a search through others).
    pub fn succeed(conn: &mut DbConn, keys: &LoginKeys) -> QueryResult<()> {
        diesel::delete(login_throttle::table.filter(
            login_throttle::key_hash.eq_any([&keys.account_today, &keys.account_yesterday]),
        ))
        .execute(conn)
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_the_free_failures_and_is_capped() {
        assert_eq!(wait_after(2, 3), Duration::zero());
        assert_eq!(wait_after(3, 3), Duration::seconds(1));
        assert_eq!(wait_after(4, 3), Duration::seconds(2));
        assert_eq!(wait_after(8, 3), Duration::seconds(32));
        assert_eq!(wait_after(40, 3), Duration::seconds(MAX_WAIT_SECONDS));
    }
}
