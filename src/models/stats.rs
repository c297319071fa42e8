//! The moderation loop in numbers, for admins: how much waits, how long decisions take, and who
//! decides how much, read from the stories' statuses and the audit log; nothing new is kept.
//! Submission times are kept to the hour (so they cannot be matched to anyone), so the times to
//! decision are within an hour.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{mod_actions, stories};
use crate::domain::StoryStatus;
use crate::models::mod_action::ActionKind;
use crate::models::story::Story;

/// How far back times to decision are measured.
pub const DECISION_DAYS: i64 = 30;
/// How many weeks of decisions per moderator are shown.
pub const WEEKS: usize = 8;

/// What the stats page shows.
pub struct Stats {
    pub waiting: usize,
    pub answering: i64,
    /// When the longest-waiting item began waiting.
    pub oldest_waiting: Option<NaiveDateTime>,
    /// Stories first decided in the last `DECISION_DAYS` days, and how long each took.
    pub decided: usize,
    pub median: Option<Duration>,
    pub p90: Option<Duration>,
    /// The Mondays the weeks start on (site time), newest first.
    pub weeks: Vec<NaiveDate>,
    /// Each moderator who decided anything in those weeks: their name and a count per week.
    pub per_moderator: Vec<(String, Vec<usize>)>,
}

/// An audit row as the numbers need it: story, kind, actor id and name, time.
type LogRow = (Option<i32>, String, Option<i32>, String, NaiveDateTime);

const DECISIONS: [ActionKind; 3] = [
    ActionKind::Approve,
    ActionKind::Reject,
    ActionKind::RequestChanges,
];

/// The `p`-th percentile (nearest rank) of sorted `values`.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as f64;
    let rank = ((p * n).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The Monday of the week `at` (UTC) falls in, in `tz`.
fn week_of(at: NaiveDateTime, tz: &chrono_tz::Tz) -> NaiveDate {
    let day = tz.from_utc_datetime(&at).date_naive();
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

pub fn stats(conn: &mut DbConn, now: NaiveDateTime, tz: &chrono_tz::Tz) -> QueryResult<Stats> {
    let waiting_since = Story::waiting_since(conn)?;
    let answering = stories::table
        .filter(stories::status.eq(StoryStatus::ChangesRequested.as_str()))
        .count()
        .get_result(conn)?;

    let this_week = week_of(now, tz);
    let weeks: Vec<NaiveDate> = (0..WEEKS)
        .map(|i| this_week - Duration::weeks(i as i64))
        .collect();
    let since = now - Duration::days(DECISION_DAYS.max(7 * WEEKS as i64 + 7) + 1);
    let decision_kinds: Vec<&str> = DECISIONS.iter().map(|k| k.as_str()).collect();
    let rows: Vec<LogRow> = mod_actions::table
        .filter(mod_actions::created_at.ge(since))
        .filter(
            mod_actions::kind
                .eq_any(&decision_kinds)
                .or(mod_actions::kind.eq(ActionKind::Submit.as_str())),
        )
        .order(mod_actions::id.asc())
        .select((
            mod_actions::story_id,
            mod_actions::kind,
            mod_actions::actor_id,
            mod_actions::actor_label,
            mod_actions::created_at,
        ))
        .load(conn)?;

    // Time to the first decision of each story submitted in the window.
    let mut submitted: std::collections::HashMap<i32, NaiveDateTime> = Default::default();
    let mut took: Vec<Duration> = Vec::new();
    let mut per: Vec<(i32, String, Vec<usize>)> = Vec::new();
    for (story, kind, actor, label, at) in rows {
        if kind == ActionKind::Submit.as_str() {
            if let Some(id) = story {
                submitted.insert(id, at);
            }
            continue;
        }
        if let Some(sent) = story.and_then(|id| submitted.remove(&id))
            && now - at <= Duration::days(DECISION_DAYS)
        {
            took.push((at - sent).max(Duration::zero()));
        }
        let (Some(actor), Some(week)) = (actor, weeks.iter().position(|w| *w == week_of(at, tz)))
        else {
            continue;
        };
        match per.iter_mut().find(|(id, ..)| *id == actor) {
            Some((.., counts)) => counts[week] += 1,
            None => {
                let mut counts = vec![0; WEEKS];
                counts[week] = 1;
                per.push((actor, label, counts));
            }
        }
    }
    took.sort_unstable();
    per.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Stats {
        waiting: waiting_since.len(),
        answering,
        oldest_waiting: waiting_since.into_iter().min(),
        decided: took.len(),
        median: percentile(&took, 0.5),
        p90: percentile(&took, 0.9),
        weeks,
        per_moderator: per.into_iter().map(|(_, name, c)| (name, c)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let d: Vec<Duration> = (1..=10).map(Duration::hours).collect();
        assert_eq!(percentile(&d, 0.5), Some(Duration::hours(5)));
        assert_eq!(percentile(&d, 0.9), Some(Duration::hours(9)));
        assert_eq!(percentile(&d[..1], 0.9), Some(Duration::hours(1)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn weeks_start_on_monday_in_the_site_time_zone() {
        let tokyo = chrono_tz::Asia::Tokyo;
        // Sunday 2026-11-29 20:00 UTC is Monday 05:00 in Tokyo.
        let at = NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(20, 0, 0)
            .unwrap();
        assert_eq!(
            week_of(at, &tokyo),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(
            week_of(at, &chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
    }
}
