use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{login_throttle, sessions, users};
use crate::models::daily_key::DayHashes;
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

/// Failed logins, shared by every node through the database. Each attempt is counted under
/// three keys, hashes under the day's random key (`DailyKey`): the typed address with the
/// client's network, the network alone, and the address alone. A key's failures past a free few
/// make the next attempt under it wait, twice as long after each (never a lock): an outsider
/// guessing one account's password from one network waits longer and longer, while the owner,
/// from their own network, is not held back by it. Guessing from many networks is slowed by the
/// address's own count, from which a browser that has signed in to the account before is exempt
/// (`KnownDevice`), so the owner is never locked out by it either. Successes are never counted.
pub struct LoginThrottle;

/// The keys of one attempt.
pub struct LoginKeys {
    pub account_network: DayHashes,
    pub network: DayHashes,
    pub account: DayHashes,
}

impl LoginKeys {
    /// The keys for an attempt with the address `typed` from `network` (`client::network`).
    pub fn new(
        conn: &mut DbConn,
        typed: &str,
        network: &[u8; 16],
        now: NaiveDateTime,
    ) -> QueryResult<Self> {
        let email = typed.trim().to_lowercase();
        let mut account_network = email.clone().into_bytes();
        account_network.push(0);
        account_network.extend_from_slice(network);
        let today = now.date();
        Ok(LoginKeys {
            account_network: DayHashes::of(conn, today, "login-account-network", &account_network)?,
            network: DayHashes::of(conn, today, "login-network", network)?,
            account: DayHashes::of(conn, today, "login-account", email.as_bytes())?,
        })
    }
}

/// Failures of one address from one network before any wait: a few mistypings cost nothing.
pub const FREE_ACCOUNT_NETWORK_FAILURES: i32 = 3;
/// Failures from one network over all addresses before any wait: a team behind one address
/// mistypes more, and someone trying many accounts is slowed all the same.
pub const FREE_NETWORK_FAILURES: i32 = 10;
/// Failures of one address from every network before a browser that never signed in to it
/// waits: no one mistypes that often in two days; someone guessing from many networks does.
pub const FREE_ACCOUNT_FAILURES: i32 = 20;
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
        hashes: &DayHashes,
        since: NaiveDateTime,
    ) -> QueryResult<(i32, Option<NaiveDateTime>)> {
        let rows: Vec<(i32, NaiveDateTime)> = login_throttle::table
            .filter(login_throttle::key_hash.eq_any(hashes.all()))
            .filter(login_throttle::last_failure.gt(since))
            .select((login_throttle::failures, login_throttle::last_failure))
            .load(conn)?;
        Ok((
            rows.iter().map(|(f, _)| f).sum(),
            rows.iter().map(|(_, t)| *t).max(),
        ))
    }

    fn add(conn: &mut DbConn, key: &str, by: i32, now: NaiveDateTime) -> QueryResult<()> {
        let changed = diesel::update(login_throttle::table.find(key))
            .set(login_throttle::failures.eq(login_throttle::failures + by))
            .execute(conn)?;
        // The latest failure stays the latest: attempts are counted in the order they get the
        // lock, and one that began earlier must not move the wait back.
        diesel::update(
            login_throttle::table
                .find(key)
                .filter(login_throttle::last_failure.lt(now)),
        )
        .set(login_throttle::last_failure.eq(now))
        .execute(conn)?;
        if changed == 0 && by > 0 {
            diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::key_hash.eq(key),
                    login_throttle::failures.eq(by),
                    login_throttle::last_failure.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Starts an attempt: until when it must wait, if it must; otherwise it is counted as a
    /// failure until `succeeded` says otherwise. Checking and counting happen in one
    /// transaction, serialized per network and address, so parallel attempts cannot all pass
    /// the check before any is counted.
    pub fn begin(
        conn: &mut DbConn,
        keys: &LoginKeys,
        known_device: bool,
        now: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        crate::db::write_transaction(conn, |conn| {
            let mut locks = [keys.network.today.as_str(), keys.account.today.as_str()];
            locks.sort_unstable();
            for name in locks {
                crate::db::lock_in_transaction(conn, name)?;
            }
            let since = now - Duration::hours(KEPT_HOURS);
            let mut checks = vec![
                (&keys.account_network, FREE_ACCOUNT_NETWORK_FAILURES),
                (&keys.network, FREE_NETWORK_FAILURES),
            ];
            if !known_device {
                checks.push((&keys.account, FREE_ACCOUNT_FAILURES));
            }
            let mut until = None;
            for (hashes, free) in checks {
                // Under the free failures nothing waits, even an attempt that began a moment
                // before the latest failure was counted (it was refused with a zero wait).
                if let (failures, Some(last)) = Self::failures(conn, hashes, since)?
                    && failures >= free
                {
                    let ready = last + wait_after(failures, free);
                    if ready > now {
                        until = until.max(Some(ready));
                    }
                }
            }
            if until.is_some() {
                return Ok(until);
            }
            for hashes in [&keys.account_network, &keys.network, &keys.account] {
                Self::add(conn, &hashes.today, 1, now)?;
            }
            Ok(None)
        })
    }

    /// The attempt had the right password: it was not a failure, and this address from this
    /// network starts afresh (the network's and the address's other failures stay, or signing
    /// in to one account would reset a search through others).
    pub fn succeeded(conn: &mut DbConn, keys: &LoginKeys, now: NaiveDateTime) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            diesel::delete(
                login_throttle::table
                    .filter(login_throttle::key_hash.eq_any(keys.account_network.all())),
            )
            .execute(conn)?;
            for hashes in [&keys.network, &keys.account] {
                Self::add(conn, &hashes.today, -1, now)?;
            }
            diesel::delete(login_throttle::table.filter(login_throttle::failures.le(0)))
                .execute(conn)
                .map(|_| ())
        })
    }

    /// The attempt failed: its address's count is touched, and, when the address is an
    /// account's, the account records it for admins. Known and unknown addresses write in one
    /// transaction alike, so the answer takes as long for either (a write more for one of them
    /// told accounts apart by time).
    pub fn failed(
        conn: &mut DbConn,
        keys: &LoginKeys,
        account: Option<i32>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        crate::db::write_transaction(conn, |conn| {
            diesel::update(login_throttle::table.find(&keys.account.today))
                .set(login_throttle::last_failure.eq(now))
                .execute(conn)?;
            if let Some(id) = account {
                diesel::update(users::table.find(id))
                    .set((
                        users::failed_logins.eq(users::failed_logins + 1),
                        users::last_failed_login_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Forgets counts no attempt can look at any more (run by the scheduler).
    pub fn forget_old(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(
            login_throttle::table
                .filter(login_throttle::last_failure.lt(now - Duration::hours(KEPT_HOURS))),
        )
        .execute(conn)
    }
}

/// A browser that has signed in to an account before carries a cookie saying so (signed with
/// the site's key, naming no one in clear): the account's own failure count, which outsiders
/// can raise from anywhere, never makes it wait.
pub struct KnownDevice;

impl KnownDevice {
    pub fn token(secret: &SecretKey, typed: &str) -> String {
        secret.sign("known-device", typed.trim().to_lowercase().as_bytes())
    }

    pub fn holds(secret: &SecretKey, typed: &str, cookie: Option<&str>) -> bool {
        cookie.is_some_and(|c| {
            secret.verify("known-device", typed.trim().to_lowercase().as_bytes(), c)
        })
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

    /// Attempts run in the order they get the lock, not the order they began: one that began a
    /// moment before the latest counted failure, with the free failures not used up, goes on.
    #[test]
    fn an_attempt_that_began_before_the_latest_failure_is_not_held_under_the_free_count() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(dir.path().join("t.sqlite3").to_str().unwrap()).unwrap();
        let conn = &mut pool.get().unwrap();
        let at = |s: i64| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
                + Duration::seconds(s)
        };
        let keys = LoginKeys::new(conn, "mod@engawa.test", &[7; 16], at(0)).unwrap();
        for s in [10, 11] {
            assert_eq!(
                LoginThrottle::begin(conn, &keys, false, at(s)).unwrap(),
                None
            );
        }
        assert_eq!(
            LoginThrottle::begin(conn, &keys, false, at(9)).unwrap(),
            None,
            "the third failure is free, whenever its attempt began"
        );
        assert_eq!(
            LoginThrottle::begin(conn, &keys, false, at(11)).unwrap(),
            Some(at(12)),
            "the fourth waits until a second after the latest failure"
        );
    }
}
