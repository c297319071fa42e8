//! `/mod/stats`, for admins: the moderation loop in numbers (`models::stats`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Panel, PanelNav, panel_meta};
use crate::error::AppError;
use crate::models::now;
use crate::models::stats::{self, DECISION_DAYS};
use crate::routes::private_page;
use crate::views::{PageMeta, age_ja, span_ja};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/stats", web::get().to(show));
}

pub struct ModeratorRow {
    pub name: String,
    pub counts: Vec<usize>,
}

#[derive(Template)]
#[template(path = "mod/stats.html")]
struct StatsPage {
    meta: PageMeta,
    nav: PanelNav,
    waiting: usize,
    answering: i64,
    /// 「3時間前」, or empty when nothing waits.
    oldest: String,
    decided: usize,
    decision_days: i64,
    median: String,
    p90: String,
    /// 「11月30日〜」, newest first.
    weeks: Vec<String>,
    moderators: Vec<ModeratorRow>,
}

async fn show(Panel { state, staff, csrf }: Panel) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let tz = state.settings.timezone;
    let at = now();
    let s = state
        .db(move |conn| Ok(stats::stats(conn, at, &tz)?))
        .await?;
    let span = |d: Option<chrono::Duration>| d.map(span_ja).unwrap_or_else(|| "—".to_owned());
    private_page(
        &StatsPage {
            meta: panel_meta("審査の状況"),
            nav: PanelNav::new(&staff, &csrf),
            waiting: s.waiting,
            answering: s.answering,
            oldest: s.oldest_waiting.map(|t| age_ja(at - t)).unwrap_or_default(),
            decided: s.decided,
            decision_days: DECISION_DAYS,
            median: span(s.median),
            p90: span(s.p90),
            weeks: s
                .weeks
                .iter()
                .map(|w| w.format("%-m月%-d日〜").to_string())
                .collect(),
            moderators: s
                .per_moderator
                .into_iter()
                .map(|(name, counts)| ModeratorRow { name, counts })
                .collect(),
        },
        StatusCode::OK,
    )
}
