//! Public monthly counts of moderation outcomes: no story text, no moderator names.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::AppError;
use crate::models::mod_action::{ActionKind, ModAction};
use crate::routes::page;
use crate::state::AppState;
use crate::views::PageMeta;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/transparency", web::get().to(show));
}

#[derive(Default)]
pub struct MonthRow {
    pub month: String,
    pub submitted: i64,
    pub approved: i64,
    pub rejected: i64,
    pub withdrawn: i64,
    pub hidden: i64,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    meta: PageMeta,
    months: Vec<MonthRow>,
}

async fn show(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let outcomes = state.db(|conn| Ok(ModAction::outcomes(conn)?)).await?;
    let mut months: BTreeMap<String, MonthRow> = BTreeMap::new();
    for (kind, at) in outcomes {
        let local = at
            .and_utc()
            .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset"));
        let key = local.format("%Y-%m").to_string();
        let row = months.entry(key).or_insert_with(|| MonthRow {
            month: local.format("%Y年%-m月").to_string(),
            ..Default::default()
        });
        match ActionKind::parse(&kind) {
            Ok(ActionKind::Submit) => row.submitted += 1,
            Ok(ActionKind::Approve) => row.approved += 1,
            Ok(ActionKind::Reject) => row.rejected += 1,
            Ok(ActionKind::Withdraw) => row.withdrawn += 1,
            Ok(ActionKind::Hide) => row.hidden += 1,
            _ => {}
        }
    }
    page(&TransparencyPage {
        meta: PageMeta::new(
            &state.settings.base_url,
            "運営の透明性",
            "縁側に寄せられた体験談の月ごとの件数と審査の結果。本文やモデレーターの名前は含みません。",
            "/transparency",
        ),
        months: months.into_values().rev().collect(),
    })
}
