//! The least time between serving the story form and its submission, with no cookie and nothing
//! stored: the form carries the time it was served, signed with the site's key together with the
//! visitor's CSRF token. People take longer than a few seconds to write anything; a script
//! posting the moment it loaded the form (or without loading it) is sent back like a filled
//! honeypot. A stamp is good for a day and for the visitor it was made for; a form that comes
//! back to be corrected keeps its stamp, so sending it again is never "too soon".

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::secrets::SecretKey;

const PURPOSE: &str = "form-served";
/// A stamp older than this is not accepted (nor kept when the form comes back).
const MAX_AGE_SECONDS: i64 = 24 * 3600;

fn signed(seconds: &str, token: &str) -> Vec<u8> {
    format!("{seconds}\0{token}").into_bytes()
}

/// The hidden field's value for a form served at `now` to the visitor with CSRF `token`.
pub fn stamp(secret: &SecretKey, token: &str, now: DateTime<Utc>) -> String {
    let seconds = now.timestamp().to_string();
    let signature = secret.sign(PURPOSE, &signed(&seconds, token));
    format!("{seconds}.{signature}")
}

/// When a stamp made for `token` says its form was served, if it is genuine and not expired.
fn served_at(secret: &SecretKey, stamp: &str, token: &str, now: DateTime<Utc>) -> Option<i64> {
    let (seconds, signature) = stamp.split_once('.')?;
    if !secret.verify(PURPOSE, &signed(seconds, token), signature) {
        return None;
    }
    let served = seconds.parse::<i64>().ok()?;
    let age = now.timestamp() - served;
    (0..=MAX_AGE_SECONDS).contains(&age).then_some(served)
}

/// The stamp for a form shown again: the one it came with if still good, else a new one.
pub fn keep_or_stamp(secret: &SecretKey, stamp: &str, token: &str, now: DateTime<Utc>) -> String {
    match served_at(secret, stamp, token, now) {
        Some(_) => stamp.to_owned(),
        None => self::stamp(secret, token, now),
    }
}

/// Whether a form stamped `stamp` for `token` was served at least `least` before `now` (false
/// for a missing, altered, foreign, future or expired stamp).
pub fn filled_slowly(
    secret: &SecretKey,
    stamp: &str,
    token: &str,
    now: DateTime<Utc>,
    least: Duration,
) -> bool {
    if least.is_zero() {
        return true;
    }
    let least = i64::try_from(least.as_secs()).unwrap_or(i64::MAX);
    served_at(secret, stamp, token, now).is_some_and(|served| now.timestamp() - served >= least)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_sent_too_soon_or_with_a_forged_foreign_or_old_stamp_is_not_slow() {
        let secret = SecretKey::load(
            Some("a test key that is long enough for the check"),
            std::path::Path::new("/nonexistent"),
        )
        .unwrap();
        let served = Utc::now();
        let later = |s: i64| served + chrono::Duration::seconds(s);
        let s = stamp(&secret, "token-a", served);
        let least = Duration::from_secs(3);
        assert!(!filled_slowly(&secret, &s, "token-a", served, least));
        assert!(!filled_slowly(&secret, &s, "token-a", later(2), least));
        assert!(filled_slowly(&secret, &s, "token-a", later(3), least));
        assert!(
            !filled_slowly(&secret, &s, "token-b", later(3), least),
            "another visitor's"
        );
        assert!(!filled_slowly(
            &secret,
            &s,
            "token-a",
            later(MAX_AGE_SECONDS + 1),
            least
        ));
        let earlier = (served.timestamp() - 60).to_string();
        let forged = format!("{earlier}.{}", s.split_once('.').unwrap().1);
        assert!(!filled_slowly(&secret, &forged, "token-a", later(3), least));
        assert!(!filled_slowly(&secret, "", "token-a", served, least));
        assert!(filled_slowly(
            &secret,
            "",
            "token-a",
            served,
            Duration::ZERO
        ));
        assert_eq!(keep_or_stamp(&secret, &s, "token-a", later(1)), s);
        assert_ne!(keep_or_stamp(&secret, &forged, "token-a", later(1)), forged);
    }
}
