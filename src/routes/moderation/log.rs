//! The audit log of every moderation event, with filters.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Panel, PanelNav, panel_meta};
use crate::domain::StoryField;
use crate::error::AppError;
use crate::models::mod_action::{ActionKind, LogFilter, ModAction, Subject};
use crate::models::user::User;
use crate::models::{PAGE_SIZE, page_count};
use crate::routes::private_page;
use crate::views::{PageMeta, Pagination, SelectOption, date_ja, encode, time_ja};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/log", web::get().to(log));
}

pub struct LogRow {
    pub when: String,
    pub what: String,
    pub who: String,
    pub story: String,
    /// What a row not about a story is about: 「スタッフ：佐藤」, 「ガイド：/guides/…」.
    pub subject: String,
    pub reason: String,
    pub note: String,
}

pub struct ActorOption {
    pub id: i32,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "mod/log.html")]
struct LogPage {
    meta: PageMeta,
    nav: PanelNav,
    rows: Vec<LogRow>,
    total: i64,
    kinds: Vec<SelectOption>,
    actors: Vec<ActorOption>,
    story: String,
    pagination: Pagination,
}

#[derive(Deserialize, Default)]
struct LogQuery {
    kind: Option<String>,
    actor: Option<String>,
    story: Option<String>,
    page: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn log(
    Panel { state, staff, csrf }: Panel,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    staff.require_moderator()?;
    let bad = || AppError::bad_request("絞り込みの条件が正しくありません。");
    let filter = LogFilter {
        kind: present(&query.kind)
            .map(ActionKind::parse)
            .transpose()
            .map_err(|_| bad())?,
        actor_id: present(&query.actor)
            .map(str::parse)
            .transpose()
            .map_err(|_| bad())?,
        story_public_id: present(&query.story).map(str::to_owned),
    };
    let page: i64 = match present(&query.page) {
        None => 1,
        Some(p) => p.parse().ok().filter(|p| *p >= 1).ok_or_else(bad)?,
    };
    let f = filter.clone();
    let (rows, total, users) = state
        .db(move |conn| {
            let (rows, total) = ModAction::list(conn, &f, PAGE_SIZE, (page - 1) * PAGE_SIZE)?;
            Ok((rows, total, User::list(conn)?))
        })
        .await?;
    let pages = page_count(total);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let mut params = Vec::new();
    if let Some(k) = filter.kind {
        params.push(format!("kind={}", k.as_str()));
    }
    if let Some(a) = filter.actor_id {
        params.push(format!("actor={a}"));
    }
    if let Some(s) = &filter.story_public_id {
        params.push(format!("story={}", encode(s)));
    }
    private_page(
        &LogPage {
            meta: panel_meta("操作ログ"),
            nav: PanelNav::new(&staff, &csrf),
            rows: rows
                .into_iter()
                .map(|a| LogRow {
                    when: format!("{} {}", date_ja(a.created_at), time_ja(a.created_at)),
                    what: what_happened(&a),
                    who: a.actor_label,
                    subject: subject_label(a.subject.as_deref(), &users),
                    story: a.story_public_id,
                    reason: a.reason.unwrap_or_default(),
                    note: a.note.unwrap_or_default(),
                })
                .collect(),
            total,
            kinds: ActionKind::ALL
                .iter()
                .map(|k| SelectOption {
                    value: k.as_str(),
                    label: k.label(),
                    selected: filter.kind == Some(*k),
                })
                .collect(),
            actors: users
                .into_iter()
                .map(|u| ActorOption {
                    selected: filter.actor_id == Some(u.id),
                    id: u.id,
                    name: u.display_name,
                })
                .collect(),
            story: filter.story_public_id.clone().unwrap_or_default(),
            pagination: Pagination::new("/mod/log", &params.join("&"), page, pages),
        },
        StatusCode::OK,
    )
}

/// The kind of action, with the field for an editors' change: 「編集部による修正（タイトル）」.
fn what_happened(a: &ModAction) -> String {
    let kind = ActionKind::parse(&a.kind).map_or("", |k| k.label());
    match a.field.as_deref().and_then(|f| StoryField::parse(f).ok()) {
        Some(field) => format!("{kind}（{}）", field.label()),
        None => kind.to_owned(),
    }
}

fn subject_label(stored: Option<&str>, users: &[User]) -> String {
    match stored.and_then(Subject::read) {
        Some(Subject::Staff(id)) => {
            let name = users
                .iter()
                .find(|u| u.id == id)
                .map_or("（削除されたアカウント）", |u| {
                    u.display_name.as_str()
                });
            format!("スタッフ：{name}")
        }
        Some(Subject::Guide(slug)) => format!("ガイド：{}", crate::paths::guide(&slug)),
        Some(Subject::Invitation) => "招待".to_owned(),
        Some(Subject::Synonyms(_)) => "検索の同義語".to_owned(),
        None => String::new(),
    }
}
