//! Random keys, one per day, shared by the nodes through the database, for hashes that must
//! match across nodes for a day or two and then mean nothing: a login failure's network, a
//! report's reader. A key is deleted two days after its day (`forget_old`).

use chrono::NaiveDate;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::DbConn;
use crate::db::schema::daily_keys;
use crate::secrets::random_hex;

/// The key of one day.
pub struct DailyKey(String);

impl DailyKey {
    /// The key of `day`, made when missing (another node making it at the same moment wins).
    pub fn of(conn: &mut DbConn, day: NaiveDate) -> QueryResult<DailyKey> {
        if let Some(key) = Self::existing(conn, day)? {
            return Ok(key);
        }
        let made = diesel::insert_into(daily_keys::table)
            .values((
                daily_keys::day.eq(day.to_string()),
                daily_keys::key.eq(random_hex(32)),
            ))
            .execute(conn);
        match made {
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Self::existing(conn, day)?.ok_or(diesel::result::Error::NotFound),
            Err(e) => Err(e),
        }
    }

    /// The key of `day` if it was made and is still kept.
    pub fn existing(conn: &mut DbConn, day: NaiveDate) -> QueryResult<Option<DailyKey>> {
        daily_keys::table
            .find(day.to_string())
            .select(daily_keys::key)
            .first(conn)
            .optional()
            .map(|k| k.map(DailyKey))
    }

    /// A hash of `data` for `purpose` under this key, as hex.
    pub fn hash(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Deletes the keys of days before `keep_from`.
    pub fn forget_before(conn: &mut DbConn, keep_from: NaiveDate) -> QueryResult<usize> {
        diesel::delete(daily_keys::table.filter(daily_keys::day.lt(keep_from.to_string())))
            .execute(conn)
    }
}

/// Today's and yesterday's hashes of the same data: what was counted just before the day's
/// change still counts after it.
pub struct DayHashes {
    pub today: String,
    pub yesterday: Option<String>,
}

impl DayHashes {
    pub fn of(
        conn: &mut DbConn,
        today: NaiveDate,
        purpose: &str,
        data: &[u8],
    ) -> QueryResult<DayHashes> {
        let yesterday = today - chrono::Days::new(1);
        Ok(DayHashes {
            today: DailyKey::of(conn, today)?.hash(purpose, data),
            yesterday: DailyKey::existing(conn, yesterday)?.map(|k| k.hash(purpose, data)),
        })
    }

    /// Both, for queries.
    pub fn all(&self) -> Vec<&str> {
        std::iter::once(self.today.as_str())
            .chain(self.yesterday.as_deref())
            .collect()
    }
}
