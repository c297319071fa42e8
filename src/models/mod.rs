//! Each model is a table: a struct and the queries that read or write it. Changes that span
//! several tables, with their audit rows and announcements, are `workflows`.

pub mod daily_key;
pub mod erasure;
pub mod guide;
pub mod mod_action;
pub mod moderator_alert;
pub mod outbox;
pub mod report;
pub mod revision;
pub mod session;
pub mod similarity;
pub mod staff_link;
pub mod stats;
pub mod story;
pub mod subscription;
pub mod synonym;
pub mod tag;
pub mod user;
pub mod visibility;

/// Rows per page in public listings.
pub const PAGE_SIZE: i64 = 20;

/// Total pages for `total` rows, at least one so that an empty listing still has page 1.
pub fn page_count(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

/// The current time as stored: UTC without an offset, on both backends.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// `t` cut to the hour: the precision kept for what a submitter does (submitting, resubmitting,
/// withdrawing), so that stored times cannot be matched against someone's activity.
pub fn to_the_hour(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(t)
}
