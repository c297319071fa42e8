//! The least time between serving the story form and its submission, with no cookie and nothing
//! stored: the form carries the time it was served, signed with the site's key. People take
//! longer than a few seconds to write anything; a script posting the moment it loaded the form
//! (or posting without loading it) is sent back like a filled honeypot.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::secrets::SecretKey;

const PURPOSE: &str = "form-served";

/// The hidden field's value for a form served at `now`: seconds since the epoch and a signature.
pub fn stamp(secret: &SecretKey, now: DateTime<Utc>) -> String {
    let seconds = now.timestamp().to_string();
    let signature = secret.sign(PURPOSE, seconds.as_bytes());
    format!("{seconds}.{signature}")
}

/// Whether a form stamped `stamp` was served at least `least` before `now` (false for a missing,
/// altered or future stamp).
pub fn filled_slowly(secret: &SecretKey, stamp: &str, now: DateTime<Utc>, least: Duration) -> bool {
    if least.is_zero() {
        return true;
    }
    let Some((seconds, signature)) = stamp.split_once('.') else {
        return false;
    };
    if !secret.verify(PURPOSE, seconds.as_bytes(), signature) {
        return false;
    }
    let Ok(served) = seconds.parse::<i64>() else {
        return false;
    };
    let least = i64::try_from(least.as_secs()).unwrap_or(i64::MAX);
    now.timestamp() - served >= least
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_sent_too_soon_or_with_a_forged_stamp_is_not_slow() {
        let secret = SecretKey::load(
            Some("a test key that is long enough for the check"),
            std::path::Path::new("/nonexistent"),
        )
        .unwrap();
        let served = Utc::now();
        let s = stamp(&secret, served);
        let least = Duration::from_secs(3);
        assert!(!filled_slowly(&secret, &s, served, least));
        assert!(!filled_slowly(
            &secret,
            &s,
            served + chrono::Duration::seconds(2),
            least
        ));
        assert!(filled_slowly(
            &secret,
            &s,
            served + chrono::Duration::seconds(3),
            least
        ));
        let earlier = (served.timestamp() - 60).to_string();
        let forged = format!("{earlier}.{}", s.split_once('.').unwrap().1);
        assert!(!filled_slowly(&secret, &forged, served, least));
        assert!(!filled_slowly(&secret, "", served, least));
        assert!(!filled_slowly(&secret, "12.34", served, least));
        assert!(filled_slowly(&secret, "", served, Duration::ZERO));
    }
}
