//! The editors' panel for guides: list, write with preview, save, publish now or at a time,
//! unpublish. The form is `guide_form`, the versions `guide_revisions`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;

use super::guide_form::{GuideErrors, GuideForm};
use super::guide_revisions;
use super::{Panel, PanelNav, editor, panel_meta, see_other};
use crate::csrf::{Csrf, TokenForm};
use crate::domain::{GuideAction, GuideStatus};
use crate::error::AppError;
use crate::markdown;
use crate::models::guide::Guide;
use crate::models::now;
use crate::models::tag::Tag;
use crate::routes::private_page;
use crate::staff::Staff;
use crate::state::AppState;
use crate::views::{PageMeta, date_ja, time_ja};
use crate::workflows::editorial::{self, EditRefused, Editor, Intent};

/// A guide may be 60,000 characters; percent-encoded, a kanji takes nine bytes (540 KB), and a
/// guide that is merely too long still gets its form back with a message.
const GUIDE_FORM_LIMIT: usize = 1024 * 1024;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/guides")
            .app_data(crate::routes::form_config(GUIDE_FORM_LIMIT))
            .route("", web::get().to(list))
            .route("/new", web::get().to(new_form))
            .route("/new", web::post().to(create))
            .route("/{id}/edit", web::get().to(edit_form))
            .route("/{id}/edit", web::post().to(save))
            .route("/{id}/unpublish", web::post().to(unpublish))
            .configure(guide_revisions::config),
    );
}

// ---- List ---------------------------------------------------------------------------------

pub struct GuideRow {
    pub id: i32,
    pub title: String,
    pub status: &'static str,
    pub when: String,
    pub updated: String,
    pub public_href: Option<String>,
}

#[derive(Template)]
#[template(path = "mod/guides.html")]
struct ListPage {
    meta: PageMeta,
    nav: PanelNav,
    guides: Vec<GuideRow>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct ListQuery {
    done: Option<String>,
}

fn local(state: &AppState, utc: NaiveDateTime) -> String {
    let t = state.settings.timezone.from_utc_datetime(&utc);
    t.format("%Y年%-m月%-d日 %H:%M").to_string()
}

async fn list(
    Panel { state, staff, csrf }: Panel,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    let guides = state.db(|conn| Ok(Guide::all(conn)?)).await?;
    let rows = guides
        .into_iter()
        .map(|g| GuideRow {
            when: match g.status {
                GuideStatus::Scheduled => g
                    .scheduled_at
                    .map(|t| format!("{}に公開", local(&state, t)))
                    .unwrap_or_default(),
                GuideStatus::Published => g
                    .published_at
                    .map(|t| format!("{}公開", date_ja(t)))
                    .unwrap_or_default(),
                _ => String::new(),
            },
            status: g.status.label(),
            updated: format!("{} {}", date_ja(g.updated_at), time_ja(g.updated_at)),
            public_href: g.status.is_public().then(|| crate::paths::guide(&g.slug)),
            id: g.id,
            title: g.title,
        })
        .collect();
    let notice = match query.done.as_deref() {
        Some("saved") => Some("保存しました。"),
        Some("published") => Some("公開しました。"),
        Some("scheduled") => Some("公開を予約しました。"),
        Some("unpublished") => Some("非公開にしました。"),
        Some("restored") => Some("古い版から復元しました（新しい版として保存）。"),
        _ => None,
    };
    private_page(
        &ListPage {
            meta: panel_meta("ガイド"),
            nav: PanelNav::new(&staff, &csrf),
            guides: rows,
            notice,
        },
        StatusCode::OK,
    )
}

// ---- Form ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "mod/guide_form.html")]
struct FormPage {
    meta: PageMeta,
    nav: PanelNav,
    action_url: String,
    guide_id: Option<i32>,
    status: &'static str,
    /// Which buttons the guide's status offers (`GuideStatus::allows`).
    can_save: bool,
    can_publish: bool,
    can_schedule: bool,
    can_unpublish: bool,
    form: GuideForm,
    errors: GuideErrors,
    preview_html: Option<String>,
    timezone: String,
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    csrf: &Csrf,
    guide: Option<&Guide>,
    form: GuideForm,
    errors: GuideErrors,
    preview_html: Option<String>,
) -> FormPage {
    let status = guide.map_or(GuideStatus::Draft, |g| g.status);
    FormPage {
        meta: panel_meta(if guide.is_some() {
            "ガイドの編集"
        } else {
            "新しいガイド"
        }),
        nav: PanelNav::new(staff, csrf),
        action_url: guide.map_or_else(
            || "/mod/guides/new".to_owned(),
            |g| format!("/mod/guides/{}/edit", g.id),
        ),
        guide_id: guide.map(|g| g.id),
        status: status.label(),
        can_save: status.allows(GuideAction::Save),
        can_publish: status.allows(GuideAction::PublishNow),
        can_schedule: status.allows(GuideAction::Schedule),
        // A guide not yet saved has nothing to take down.
        can_unpublish: guide.is_some() && status.allows(GuideAction::Unpublish),
        form: GuideForm {
            csrf_token: String::new(),
            action: String::new(),
            ..form
        },
        errors,
        preview_html,
        timezone: state.settings.timezone.name().to_owned(),
    }
}

async fn new_form(Panel { state, staff, csrf }: Panel) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    private_page(
        &form_page(
            &state,
            &staff,
            &csrf,
            None,
            GuideForm::new_guide(),
            GuideErrors::default(),
            None,
        ),
        StatusCode::OK,
    )
}

async fn edit_form(
    Panel { state, staff, csrf }: Panel,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    let id = id.into_inner();
    let (guide, tags, featured) = state
        .db(move |conn| {
            let g = Guide::find(conn, id)?;
            let tags = Tag::of_guide(conn, id)?;
            let featured = Guide::featured_ids(conn, id)?;
            Ok((g, tags, featured))
        })
        .await?;
    let form = GuideForm::from_guide(&guide, &tags, &featured, &state);
    private_page(
        &form_page(
            &state,
            &staff,
            &csrf,
            Some(&guide),
            form,
            GuideErrors::default(),
            None,
        ),
        StatusCode::OK,
    )
}

fn done(intent: Intent) -> &'static str {
    match intent {
        Intent::Save => "/mod/guides?done=saved",
        Intent::PublishNow => "/mod/guides?done=published",
        Intent::Schedule(_) => "/mod/guides?done=scheduled",
    }
}

/// Saves (or previews) a form for a new guide (`id` None) or an existing one.
async fn submit(
    state: web::Data<AppState>,
    staff: Staff,
    csrf: Csrf,
    id: Option<i32>,
    form: GuideForm,
) -> Result<HttpResponse, AppError> {
    let by_id = editor(&staff)?.id;
    csrf.verify(&form.csrf_token)?;
    let guide = match id {
        Some(id) => Some(state.db(move |conn| Ok(Guide::find(conn, id)?)).await?),
        None => None,
    };
    let again =
        |form: GuideForm, errors: GuideErrors, preview: Option<String>, status: StatusCode| {
            private_page(
                &form_page(&state, &staff, &csrf, guide.as_ref(), form, errors, preview),
                status,
            )
        };
    if form.action == "preview" {
        // Exactly the public rendering, sanitized; nothing is saved.
        let html = markdown::render(&form.body).html;
        return again(form, GuideErrors::default(), Some(html), StatusCode::OK);
    }
    let (parts, errors) = form.parse(&state);
    let Some((draft, intent)) = parts else {
        return again(form, errors, None, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let expected: i32 = form.version.parse().unwrap_or(0);
    let name = staff.user.display_name.clone();
    let result = state
        .db(move |conn| {
            let by = Editor {
                id: by_id,
                name: &name,
            };
            let now = now();
            Ok(match id {
                None => editorial::create(conn, &draft, intent, &by, now).map(|_| ()),
                Some(id) => {
                    let change = editorial::Change {
                        expected_version: expected,
                        intent,
                        note: "",
                    };
                    editorial::update(conn, id, &draft, &change, &by, now)
                }
            })
        })
        .await?;
    let mut errors = GuideErrors::default();
    match result {
        Ok(()) => return Ok(see_other(done(intent))),
        Err(EditRefused::NotFound) => return Err(AppError::NotFound),
        Err(EditRefused::Database(e)) => return Err(e.into()),
        Err(EditRefused::SlugTaken) => {
            errors.slug = Some(
                "このスラッグはほかのガイドが使っています。別のものにしてください。".to_owned(),
            )
        }
        Err(EditRefused::Invalid(m)) => errors.featured = Some(m),
        Err(EditRefused::NotAllowed(m)) => errors.form = Some(m),
        Err(EditRefused::Conflict { current, by }) => {
            errors.form = Some(format!(
                "あなたが編集している間に、{by}さんがこのガイドを保存しました（版{current}）。あなたの文章はこのページに残っています。最新の版を別のタブで確認し、必要な変更を反映してから保存してください。"
            ));
            let mut form = form;
            form.version = current.to_string();
            return again(form, errors, None, StatusCode::CONFLICT);
        }
    }
    again(form, errors, None, StatusCode::UNPROCESSABLE_ENTITY)
}

async fn create(
    Panel { state, staff, csrf }: Panel,
    form: web::Form<GuideForm>,
) -> Result<HttpResponse, AppError> {
    submit(state, staff, csrf, None, form.into_inner()).await
}

async fn save(
    Panel { state, staff, csrf }: Panel,
    id: web::Path<i32>,
    form: web::Form<GuideForm>,
) -> Result<HttpResponse, AppError> {
    submit(state, staff, csrf, Some(id.into_inner()), form.into_inner()).await
}

async fn unpublish(
    Panel { state, staff, csrf }: Panel,
    id: web::Path<i32>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    editor(&staff)?;
    csrf.verify(&form.csrf_token)?;
    let id = id.into_inner();
    match state
        .db(move |conn| {
            let by = editor(&staff)?;
            Ok(editorial::unpublish(conn, id, &by, now()))
        })
        .await?
    {
        Ok(()) => Ok(see_other("/mod/guides?done=unpublished")),
        Err(EditRefused::NotFound) => Err(AppError::NotFound),
        Err(EditRefused::NotAllowed(why)) => Err(AppError::bad_request(why)),
        Err(e) => Err(AppError::internal(e)),
    }
}
