//! The editors' panel for guides: list, write with preview, save, publish now or at a time,
//! unpublish, revisions with differences and restore.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::csrf::{Csrf, TokenForm};
use crate::domain::{GuideAction, GuideBody, GuideStatus, PublicId, Slug, Summary, TagName, Title};
use crate::error::AppError;
use crate::markdown;
use crate::models::guide::Guide;
use crate::models::now;
use crate::models::revision::Revision;
use crate::models::tag::Tag;
use crate::routes::private_page;
use crate::staff::Staff;
use crate::state::AppState;
use crate::views::{PageMeta, date_ja, time_ja};
use crate::workflows::editorial::{self, EditRefused, Editor, GuideDraft, Intent};

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
            .route("/{id}/revisions", web::get().to(revisions))
            .route("/{id}/diff", web::get().to(diff))
            .route("/{id}/revisions/{rev}/restore", web::post().to(restore)),
    );
}

fn editor(staff: &Staff) -> Result<Editor<'_>, AppError> {
    staff.require_editor()?;
    Ok(Editor {
        id: staff.user.id,
        name: &staff.user.display_name,
    })
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
            when: match g.status() {
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
            status: g.status().label(),
            updated: format!("{} {}", date_ja(g.updated_at), time_ja(g.updated_at)),
            public_href: g
                .status()
                .is_public()
                .then(|| format!("/guides/{}", g.slug)),
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct GuideForm {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub tags: String,
    pub category: String,
    pub featured: String,
    pub on_home: String,
    pub publish_at: String,
    pub version: String,
    pub action: String,
    pub csrf_token: String,
}

#[derive(Debug, Default)]
pub struct GuideErrors {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub tags: Option<String>,
    pub category: Option<String>,
    pub featured: Option<String>,
    pub publish_at: Option<String>,
    pub form: Option<String>,
}

impl GuideErrors {
    fn any(&self) -> bool {
        [
            &self.title,
            &self.slug,
            &self.summary,
            &self.body,
            &self.tags,
            &self.category,
            &self.featured,
            &self.publish_at,
            &self.form,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

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

fn take<T>(r: Result<T, crate::domain::Invalid>, slot: &mut Option<String>) -> Option<T> {
    r.map_err(|e| *slot = Some(e.0)).ok()
}

impl GuideForm {
    fn from_guide(g: &Guide, tags: &[String], featured: &[String], state: &AppState) -> Self {
        GuideForm {
            title: g.title.clone(),
            slug: g.slug.clone(),
            summary: g.summary.clone(),
            body: g.body_markdown.clone(),
            tags: tags.join(", "),
            category: g.category.clone(),
            featured: featured.join("\n"),
            on_home: if g.featured_on_home {
                "yes".into()
            } else {
                String::new()
            },
            publish_at: g
                .scheduled_at
                .map(|t| {
                    state
                        .settings
                        .timezone
                        .from_utc_datetime(&t)
                        .format("%Y-%m-%dT%H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            version: g.version.to_string(),
            ..Default::default()
        }
    }

    /// Parses every field; the slug may be empty (one is suggested from the title).
    fn parse(&self, state: &AppState) -> (Option<(GuideDraftParts, Intent)>, GuideErrors) {
        let mut e = GuideErrors::default();
        let title = take(Title::parse_line(&self.title), &mut e.title);
        let slug = if self.slug.trim().is_empty() {
            Some(None)
        } else {
            take(Slug::parse(&self.slug), &mut e.slug).map(Some)
        };
        let summary = take(Summary::parse(&self.summary), &mut e.summary);
        let body = take(GuideBody::parse(&self.body), &mut e.body);
        let tags = take(
            TagName::parse_list(
                self.tags
                    .split([',', '、', '，'])
                    .filter(|t| !t.trim().is_empty()),
            ),
            &mut e.tags,
        );
        let category = self.category.trim().to_owned();
        if category.chars().count() > 40 {
            e.category = Some("カテゴリは40文字以内にしてください。".to_owned());
        }
        let featured: Result<Vec<PublicId>, _> = self
            .featured
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| PublicId::parse(s.rsplit('/').next().unwrap_or(s)))
            .collect();
        let featured = take(featured, &mut e.featured);
        let intent = match self.action.as_str() {
            "publish" => Some(Intent::PublishNow),
            "schedule" => match parse_local(&self.publish_at, state) {
                Ok(at) if at > now() => Some(Intent::Schedule(at)),
                Ok(_) => {
                    e.publish_at = Some("公開日時は今より後にしてください。".to_owned());
                    None
                }
                Err(message) => {
                    e.publish_at = Some(message);
                    None
                }
            },
            _ => Some(Intent::Save),
        };
        match (title, slug, summary, body, tags, featured, intent) {
            (
                Some(title),
                Some(slug),
                Some(summary),
                Some(body),
                Some(tags),
                Some(featured),
                Some(intent),
            ) if !e.any() => (
                Some((
                    GuideDraftParts {
                        title,
                        slug,
                        summary,
                        body,
                        tags,
                        category,
                        featured,
                        on_home: self.on_home == "yes",
                    },
                    intent,
                )),
                e,
            ),
            _ => (None, e),
        }
    }
}

/// A draft whose slug may still have to be suggested.
struct GuideDraftParts {
    title: Title,
    slug: Option<Slug>,
    summary: Summary,
    body: GuideBody,
    tags: Vec<TagName>,
    category: String,
    featured: Vec<PublicId>,
    on_home: bool,
}

/// A local date and time in the editors' time zone, as a datetime-local field sends it, in UTC.
/// The editor's local time as UTC, or the message to show beside the field.
fn parse_local(raw: &str, state: &AppState) -> Result<NaiveDateTime, String> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .map_err(|_| "公開日時を「2026-12-01T09:00」の形で入力してください。".to_owned())?;
    let zone = state.settings.timezone;
    // A time skipped when the clocks go forward does not exist there; a repeated one (clocks
    // going back) is taken at its first occurrence.
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.naive_utc())
        .ok_or_else(|| {
            format!(
                "この日時は時計の切り替えのため{}には存在しません。前後の時刻を入力してください。",
                zone.name()
            )
        })
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
    let status = guide.map_or(GuideStatus::Draft, Guide::status);
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
            GuideForm::default(),
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
    let Some((parts, intent)) = parts else {
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
            let slug = match parts.slug {
                Some(s) => s,
                None => editorial::suggest_slug(conn, parts.title.as_ref(), now)?,
            };
            let draft = GuideDraft {
                title: parts.title,
                slug,
                summary: parts.summary,
                body: parts.body,
                tags: parts.tags,
                category: parts.category,
                featured: parts.featured,
                on_home: parts.on_home,
            };
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
        .db(move |conn| Ok(editorial::unpublish(conn, id, now())))
        .await?
    {
        Ok(()) => Ok(see_other("/mod/guides?done=unpublished")),
        Err(EditRefused::NotFound) => Err(AppError::NotFound),
        Err(EditRefused::NotAllowed(why)) => Err(AppError::bad_request(why)),
        Err(e) => Err(AppError::internal(e)),
    }
}

// ---- Revisions ----------------------------------------------------------------------------

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
