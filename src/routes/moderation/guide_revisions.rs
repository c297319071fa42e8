//! A guide's saved versions: the list, the difference between two, and restoring one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Panel, PanelNav, editor, panel_meta, see_other};
use crate::csrf::TokenForm;
use crate::error::AppError;
use crate::models::guide::Guide;
use crate::models::now;
use crate::models::revision::Revision;
use crate::routes::private_page;
use crate::views::{PageMeta, date_ja, time_ja};
use crate::workflows::editorial::{self, EditRefused, Editor};

/// Inside the editors' `/mod/guides` scope.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/revisions", web::get().to(revisions))
        .route("/{id}/diff", web::get().to(diff))
        .route("/{id}/revisions/{rev}/restore", web::post().to(restore));
}

pub struct RevisionRow {
    pub id: i32,
    pub version: i32,
    pub when: String,
    pub who: String,
    pub note: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "mod/revisions.html")]
struct RevisionsPage {
    meta: PageMeta,
    nav: PanelNav,
    guide_id: i32,
    title: String,
    revisions: Vec<RevisionRow>,
}

async fn revisions(
    Panel { state, staff, csrf }: Panel,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    let id = id.into_inner();
    let (guide, revs) = state
        .db(move |conn| Ok((Guide::find(conn, id)?, Revision::of_guide(conn, id)?)))
        .await?;
    private_page(
        &RevisionsPage {
            meta: panel_meta("版の履歴"),
            nav: PanelNav::new(&staff, &csrf),
            guide_id: id,
            title: guide.title,
            revisions: revs
                .into_iter()
                .map(|r| RevisionRow {
                    id: r.id,
                    version: r.version,
                    when: format!("{} {}", date_ja(r.created_at), time_ja(r.created_at)),
                    who: r.author_label,
                    note: r.note,
                    title: r.title,
                })
                .collect(),
        },
        StatusCode::OK,
    )
}

/// One line of a difference: `kind` is "same", "added" or "removed".
pub struct DiffLine {
    pub kind: &'static str,
    pub sign: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "mod/diff.html")]
struct DiffPage {
    meta: PageMeta,
    nav: PanelNav,
    guide_id: i32,
    from: String,
    to: String,
    lines: Vec<DiffLine>,
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i32,
    to: i32,
}

fn revision_text(r: &Revision) -> String {
    format!(
        "タイトル: {}\nスラッグ: {}\n概要: {}\nタグ: {}\nカテゴリ: {}\n\n{}",
        r.title, r.slug, r.summary, r.tags, r.category, r.body_markdown
    )
}

async fn diff(
    Panel { state, staff, csrf }: Panel,
    id: web::Path<i32>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    let id = id.into_inner();
    let (from, to) = (query.from, query.to);
    // The comparison is CPU work: done with the reads, on the blocking pool.
    let (a, b, changes) = state
        .db(move |conn| {
            let a = Revision::find(conn, id, from)?;
            let b = Revision::find(conn, id, to)?;
            let changes = editorial::line_changes(&revision_text(&a), &revision_text(&b));
            Ok((a, b, changes))
        })
        .await?;
    let lines = changes
        .into_iter()
        .map(|(tag, text)| {
            let (kind, sign) = match tag {
                similar::ChangeTag::Equal => ("same", " "),
                similar::ChangeTag::Insert => ("added", "+"),
                similar::ChangeTag::Delete => ("removed", "−"),
            };
            DiffLine { kind, sign, text }
        })
        .collect();
    private_page(
        &DiffPage {
            meta: panel_meta("版の比較"),
            nav: PanelNav::new(&staff, &csrf),
            guide_id: id,
            from: format!(
                "版{}（{}・{}）",
                a.version,
                a.author_label,
                date_ja(a.created_at)
            ),
            to: format!(
                "版{}（{}・{}）",
                b.version,
                b.author_label,
                date_ja(b.created_at)
            ),
            lines,
        },
        StatusCode::OK,
    )
}

async fn restore(
    Panel { state, staff, csrf }: Panel,
    path: web::Path<(i32, i32)>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let by_id = editor(&staff)?.id;
    csrf.verify(&form.csrf_token)?;
    let (id, rev) = path.into_inner();
    let name = staff.user.display_name.clone();
    let result = state
        .db(move |conn| {
            Ok(editorial::restore(
                conn,
                id,
                rev,
                &Editor {
                    id: by_id,
                    name: &name,
                },
                now(),
            ))
        })
        .await?;
    match result {
        Ok(()) => Ok(see_other("/mod/guides?done=restored")),
        Err(EditRefused::NotFound) => Err(AppError::NotFound),
        Err(EditRefused::Database(e)) => Err(e.into()),
        Err(other) => Err(AppError::bad_request(format!(
            "この版は復元できません：{other}"
        ))),
    }
}
