//! `/mod/synonyms`, for editors: the synonym groups search applies to readers' queries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Panel, PanelNav, editor, panel_meta, see_other};
use crate::csrf::TokenForm;
use crate::db::DbConn;
use crate::domain::SynonymGroup;
use crate::error::AppError;
use crate::models::now;
use crate::models::synonym::SynonymRow;
use crate::routes::private_page;
use crate::views::PageMeta;
use crate::workflows::StaffMember;
use crate::workflows::synonyms::{self, SynonymsRefused};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/synonyms", web::get().to(list))
        .route("/synonyms", web::post().to(add))
        .route("/synonyms/{id}", web::post().to(change))
        .route("/synonyms/{id}/delete", web::post().to(remove));
}

pub struct GroupRow {
    pub id: i32,
    pub words: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "mod/synonyms.html")]
struct SynonymsPage {
    meta: PageMeta,
    nav: PanelNav,
    groups: Vec<GroupRow>,
    notice: Option<&'static str>,
    message: Option<String>,
    new_words: String,
    new_error: Option<String>,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

#[derive(Deserialize)]
struct WordsForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    words: String,
}

/// What went wrong with one form (`row` None: the new group's), to show beside it.
struct Failed {
    row: Option<i32>,
    words: String,
    error: String,
}

async fn render(
    Panel { state, staff, csrf }: Panel,
    notice: Option<&'static str>,
    failed: Option<Failed>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let rows = state.db(|conn| Ok(SynonymRow::all(conn)?)).await?;
    let mut page = SynonymsPage {
        meta: panel_meta("検索の同義語"),
        nav: PanelNav::new(&staff, &csrf),
        groups: rows
            .into_iter()
            .map(|r| GroupRow {
                id: r.id,
                words: r.words,
                error: None,
            })
            .collect(),
        notice,
        message: None,
        new_words: String::new(),
        new_error: None,
    };
    if let Some(Failed { row, words, error }) = failed {
        page.message = Some(error.clone());
        match row {
            None => {
                page.new_words = words;
                page.new_error = Some(error);
            }
            Some(id) => {
                if let Some(g) = page.groups.iter_mut().find(|g| g.id == id) {
                    g.words = words;
                    g.error = Some(error);
                }
            }
        }
    }
    private_page(&page, status)
}

async fn list(panel: Panel, query: web::Query<Done>) -> Result<HttpResponse, AppError> {
    editor(&panel.staff)?;
    let notice = match query.done.as_deref() {
        Some("added") => Some("グループを追加しました。次の検索から使われます。"),
        Some("changed") => Some("グループを保存しました。次の検索から使われます。"),
        Some("removed") => Some("グループを削除しました。"),
        _ => None,
    };
    render(panel, notice, None, StatusCode::OK).await
}

/// Runs `change` as the signed-in editor (checked before).
async fn as_editor<T: Send + 'static>(
    panel: &Panel,
    change: impl FnOnce(&mut DbConn, &StaffMember) -> Result<T, SynonymsRefused> + Send + 'static,
) -> Result<Result<T, SynonymsRefused>, AppError> {
    let (id, name) = (panel.staff.user.id, panel.staff.user.display_name.clone());
    panel
        .state
        .db(move |conn| Ok(change(conn, &StaffMember { id, name: &name })))
        .await
}

/// The refusal's status and message.
fn refusal(e: SynonymsRefused) -> Result<(StatusCode, String), AppError> {
    match e {
        SynonymsRefused::Taken(why) => Ok((StatusCode::CONFLICT, why)),
        SynonymsRefused::NotFound => Err(AppError::NotFound),
        SynonymsRefused::Database(e) => Err(e.into()),
    }
}

/// Adds a group (`row` None) or changes one; a refusal shows the form again with the words
/// as typed and why.
async fn save(panel: Panel, row: Option<i32>, form: WordsForm) -> Result<HttpResponse, AppError> {
    editor(&panel.staff)?;
    panel.csrf.verify(&form.csrf_token)?;
    let words = form.words;
    let (status, error) = match SynonymGroup::parse(&words) {
        Err(e) => (StatusCode::BAD_REQUEST, e.0),
        Ok(group) => {
            let done = as_editor(&panel, move |conn, by| match row {
                None => synonyms::add(conn, &group, by.actor(), now()).map(|_| "added"),
                Some(id) => {
                    synonyms::change(conn, id, &group, by.actor(), now()).map(|()| "changed")
                }
            })
            .await?;
            match done {
                Ok(done) => return Ok(see_other(&format!("/mod/synonyms?done={done}"))),
                Err(e) => refusal(e)?,
            }
        }
    };
    let failed = Failed { row, words, error };
    render(panel, None, Some(failed), status).await
}

async fn add(panel: Panel, form: web::Form<WordsForm>) -> Result<HttpResponse, AppError> {
    save(panel, None, form.into_inner()).await
}

async fn change(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<WordsForm>,
) -> Result<HttpResponse, AppError> {
    save(panel, Some(id.into_inner()), form.into_inner()).await
}

async fn remove(
    panel: Panel,
    id: web::Path<i32>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    editor(&panel.staff)?;
    panel.csrf.verify(&form.csrf_token)?;
    let id = id.into_inner();
    match as_editor(&panel, move |conn, by| {
        synonyms::remove(conn, id, by.actor(), now())
    })
    .await?
    {
        Ok(()) => Ok(see_other("/mod/synonyms?done=removed")),
        Err(SynonymsRefused::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(AppError::internal(e)),
    }
}
