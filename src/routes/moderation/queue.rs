//! The queue: stories waiting for a decision (oldest first), waiting for their submitter's answer,
//! and reported; bulk decisions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::db::DbConn;
use crate::domain::PublicId;
use crate::error::AppError;
use crate::models::now;
use crate::models::report::Report;
use crate::models::similarity::{self, Similar};
use crate::models::user::User;
use crate::pii::Finding;
use crate::routes::private_page;
use crate::views::{PageMeta, age_ja};
use crate::workflows::moderation::{self, Decision, Moderator, QueueRow, Site};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(queue))
        .route("/bulk", web::post().to(bulk));
}

pub struct QueueItem {
    pub public_id: String,
    pub title: String,
    pub status: &'static str,
    pub age: String,
    pub length: String,
    pub pii: Vec<&'static str>,
    /// Open reports by reason (the reason's label, how many), most frequent first.
    pub reports: Vec<(String, i64)>,
    pub claimed_by: Option<String>,
    /// Recent stories much like this one (the same text sent again, lightly edited).
    pub similar: Vec<Similar>,
}

fn item(conn: &mut DbConn, row: QueueRow, now: NaiveDateTime) -> Result<QueueItem, AppError> {
    let reports = Report::open_reasons(conn, row.id)?;
    let similar = similarity::similar_to(conn, row.id, now)?;
    let claimed_by = match (row.claimed_by, row.claimed_until) {
        (Some(id), Some(until)) if until > now => Some(User::find(conn, id)?.display_name),
        _ => None,
    };
    let findings: Vec<Finding> = serde_json::from_str(&row.pii_flags).unwrap_or_default();
    let mut pii: Vec<&'static str> = findings.iter().map(|f| f.kind.label()).collect();
    pii.dedup();
    Ok(QueueItem {
        title: row.title,
        status: row.status.label(),
        age: age_ja(now - row.submitted_at),
        length: if row.facts_set {
            row.length.duration_label()
        } else {
            "情報未設定".to_owned()
        },
        pii,
        reports,
        claimed_by,
        similar,
        public_id: row.public_id,
    })
}

#[derive(Template)]
#[template(path = "mod/queue.html")]
struct QueuePage {
    meta: PageMeta,
    nav: PanelNav,
    waiting: Vec<QueueItem>,
    answering: Vec<QueueItem>,
    reported: Vec<QueueItem>,
    untold: Untold,
    reject_reasons: Vec<String>,
    notice: Option<String>,
}

/// Public stories whose facts nobody has set (WordPress imports): how many, and the oldest.
pub struct Untold {
    pub total: i64,
    /// (public id, title)
    pub stories: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct QueueQuery {
    done: Option<String>,
    n: Option<usize>,
    skipped: Option<usize>,
}

fn notice(q: &QueueQuery) -> Option<String> {
    let what = match q.done.as_deref()? {
        "approve" => "承認しました",
        "reject" => "不採用にしました",
        "request_changes" => "修正を依頼しました",
        "edit" => "修正を保存しました",
        _ => return None,
    };
    Some(match (q.n, q.skipped.filter(|s| *s > 0)) {
        (Some(n), Some(s)) => format!(
            "{n}件を{what}。{s}件はほかのモデレーターが対応中のため、または状態が変わっていたため、そのままにしました。"
        ),
        (Some(n), None) => format!("{n}件を{what}。"),
        _ => format!("{what}。"),
    })
}

async fn queue(
    Panel { state, staff, csrf }: Panel,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    // The panel's front page is the editors' list for those who only write guides.
    if staff.require_moderator().is_err() && staff.require_editor().is_ok() {
        return Ok(see_other("/mod/guides"));
    }
    staff.require_moderator()?;
    let (waiting, answering, reported, untold) = state
        .db(|conn| {
            let now = now();
            let lists = moderation::queue(conn)?;
            let mut items = |rows: Vec<QueueRow>| {
                rows.into_iter()
                    .map(|r| item(conn, r, now))
                    .collect::<Result<Vec<_>, AppError>>()
            };
            let (untold, untold_total) = lists.untold;
            Ok((
                items(lists.waiting)?,
                items(lists.answering)?,
                items(lists.reported)?,
                Untold {
                    total: untold_total,
                    stories: untold.into_iter().map(|r| (r.public_id, r.title)).collect(),
                },
            ))
        })
        .await?;
    private_page(
        &QueuePage {
            meta: panel_meta("審査キュー"),
            nav: PanelNav::new(&staff, &csrf),
            waiting,
            answering,
            reported,
            untold,
            reject_reasons: state.settings.reject_reasons.clone(),
            notice: notice(&query),
        },
        StatusCode::OK,
    )
}

async fn bulk(
    Panel { state, staff, csrf }: Panel,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_moderator()?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    csrf.verify(&field("csrf_token"))?;
    let ids: Vec<PublicId> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| PublicId::parse(v).ok())
        .collect();
    if ids.is_empty() {
        return Err(AppError::bad_request(
            "体験談がひとつも選ばれていません。キューに戻って選んでください。",
        ));
    }
    let action = field("action");
    let decision = match action.as_str() {
        "approve" => Decision::Approve {
            unfounded_reports: false,
        },
        "reject" => {
            let reason = field("reason");
            if !state.settings.reject_reasons.contains(&reason) {
                return Err(AppError::bad_request(
                    "不採用の理由を一覧から選んでください。",
                ));
            }
            Decision::Reject {
                reason,
                note: None,
                tell: false,
            }
        }
        _ => return Err(AppError::bad_request("操作を選んでください。")),
    };
    let st = state.clone();
    let user = staff.user.clone();
    let (done, skipped) = state
        .db(move |conn| {
            let site = Site {
                base_url: &st.settings.base_url,
            };
            let by = Moderator::from(&user);
            let (mut done, mut skipped) = (0, 0);
            for id in &ids {
                match moderation::decide(conn, id, &decision, &by, &site, now()) {
                    Ok(()) => done += 1,
                    Err(moderation::Refused::Database(e)) => return Err(e.into()),
                    Err(_) => skipped += 1,
                }
            }
            Ok((done, skipped))
        })
        .await?;
    Ok(see_other(&format!(
        "/mod?done={action}&n={done}&skipped={skipped}"
    )))
}
