//! One story as a moderator sees it (opening it claims it), and the decisions on it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::OptionalExtension;
use serde::Deserialize;

use super::{Panel, PanelNav, panel_meta, see_other};
use crate::csrf::Csrf;
use crate::domain::{HowMet, PublicId, StoryAction};
use crate::error::AppError;
use crate::models::mod_action::{ActionKind, ModAction};
use crate::models::now;
use crate::models::report::Report;
use crate::models::tag::Tag;
use crate::routes::private_page;
use crate::routes::story_form::{FieldErrors, Parsed, StoryForm};
use crate::staff::Staff;
use crate::state::AppState;
use crate::views::{PageMeta, date_ja};
use crate::workflows::moderation::{self, Decision, Moderator, Refused, Site};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/stories/{public_id}", web::get().to(show))
        .route(
            "/stories/{public_id}/{decision:approve|reject|request-changes}",
            web::post().to(decide),
        )
        .route("/stories/{public_id}/edit", web::post().to(edit))
        .route("/stories/{public_id}/claim", web::post().to(claim));
}

pub struct HistoryEntry {
    pub when: String,
    pub what: &'static str,
    pub who: String,
    pub detail: String,
}

pub struct PiiView {
    pub field: String,
    pub kind: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "mod/story.html")]
struct StoryPage {
    meta: PageMeta,
    nav: PanelNav,
    public_id: String,
    title: String,
    status: &'static str,
    /// None: the story came without its facts (情報未設定).
    facts: Option<String>,
    pen_name: String,
    submitted: String,
    rules: Vec<String>,
    body_html: String,
    tags: Vec<String>,
    pii: Vec<PiiView>,
    reports: Vec<(String, i64)>,
    history: Vec<HistoryEntry>,
    claim_notice: Option<String>,
    /// Until when the viewer holds the story, if they do.
    claimed_by_me: Option<String>,
    can_claim: bool,
    wants_contact: bool,
    can_approve: bool,
    can_reject: bool,
    can_request_changes: bool,
    can_edit: bool,
    is_public: bool,
    reject_reasons: Vec<String>,
    error: Option<String>,
    /// The redaction form: every field the submitter wrote, as stored or as just typed.
    form: StoryForm,
    errors: FieldErrors,
    how_met_options: Vec<crate::views::SelectOption>,
}

/// What the page shows besides the story: a refusal, or a redaction to correct.
enum Notice {
    None,
    Refused(String),
    Redaction(Box<(StoryForm, FieldErrors)>),
}

fn parse_id(raw: &str) -> Result<PublicId, AppError> {
    PublicId::parse(raw).map_err(|_| AppError::NotFound)
}

async fn load_page(
    state: &web::Data<AppState>,
    staff: &Staff,
    csrf: &Csrf,
    public_id: PublicId,
    notice: Notice,
) -> Result<StoryPage, AppError> {
    // Reading only: claiming is its own POST, so that opening the page (or an image that
    // points at it) changes nothing.
    let (story, tags, reports, history, holder) = state
        .db(move |conn| {
            let now = now();
            let story = crate::models::story::Story::find_by_public_id(conn, &public_id)
                .optional()?
                .ok_or(AppError::NotFound)?;
            let tags = Tag::of_stories(conn, &[story.id])?
                .remove(&story.id)
                .unwrap_or_default();
            let reports = Report::open_reasons(conn, story.id)?;
            let history = ModAction::for_story(conn, story.id)?;
            let holder = moderation::claim_holder(conn, &story, now)?;
            Ok((story, tags, reports, history, holder))
        })
        .await?;
    let status = story.status;
    let mine = holder
        .as_ref()
        .is_some_and(|(user_id, ..)| *user_id == staff.user.id);
    let claim_notice = holder.as_ref().filter(|_| !mine).map(|(_, name, until)| {
        format!(
            "{name}さんが{}まで対応中です。重複を避けるため、それまでは操作できません。",
            crate::views::time_ja(*until)
        )
    });
    let claimed_by_me = holder
        .as_ref()
        .filter(|_| mine)
        .map(|(_, _, until)| crate::views::time_ja(*until));
    let reported = !reports.is_empty();
    let allows = |action| status.allows(action, reported);
    let can_claim = holder.is_none() && allows(StoryAction::Claim);
    let (error, form, errors) = match notice {
        Notice::None => (
            None,
            StoryForm::from_story(&story, &tags),
            FieldErrors::default(),
        ),
        Notice::Refused(message) => (
            Some(message),
            StoryForm::from_story(&story, &tags),
            FieldErrors::default(),
        ),
        Notice::Redaction(typed) => {
            let (form, errors) = *typed;
            (None, form, errors)
        }
    };
    Ok(StoryPage {
        how_met_options: form.how_met_options(),
        form,
        errors,
        meta: panel_meta(&format!("審査：{}", story.title)),
        nav: PanelNav::new(staff, csrf),
        facts: story.relationship.facts(),
        rules: story.rules().as_slice().to_vec(),
        pii: story
            .pii_findings()
            .into_iter()
            .map(|f| PiiView {
                kind: f.kind.label(),
                field: f.field,
                text: f.text,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|a| HistoryEntry {
                when: format!(
                    "{} {}",
                    date_ja(a.created_at),
                    crate::views::time_ja(a.created_at)
                ),
                what: ActionKind::parse(&a.kind).map_or("", |k| k.label()),
                who: a.actor_label,
                detail: [a.reason, a.note]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
            })
            .collect(),
        wants_contact: story.contact_email.is_some(),
        // One button: on a published story with reports it keeps the story up and closes them.
        can_approve: allows(StoryAction::Approve) || allows(StoryAction::KeepPublished),
        can_reject: allows(StoryAction::Reject),
        can_request_changes: allows(StoryAction::RequestChanges),
        can_edit: allows(StoryAction::Edit),
        is_public: status.is_public(),
        status: status.label(),
        submitted: date_ja(story.submitted_at),
        public_id: story.public_id,
        title: story.title,
        pen_name: story.pen_name,
        body_html: story.body_html,
        tags,
        reports,
        claim_notice,
        claimed_by_me,
        can_claim,
        reject_reasons: state.settings.reject_reasons.clone(),
        error,
    })
}

async fn show(
    Panel { state, staff, csrf }: Panel,
    public_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    staff.require_moderator()?;
    let page = load_page(&state, &staff, &csrf, parse_id(&public_id)?, Notice::None).await?;
    private_page(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    message: String,
    /// "yes" when a moderator restoring a reported story finds the reports unfounded.
    #[serde(default)]
    unfounded: String,
    /// "yes" when the rejection mail should say why (理由を伝える).
    #[serde(default)]
    tell: String,
}

/// The redaction form: the story's fields under the names of the submitter's form.
#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    note: String,
    #[serde(flatten)]
    story: StoryForm,
}

/// A moderator, a valid token, a well-formed id: what every action needs first.
fn authorize(
    staff: &Staff,
    csrf: &Csrf,
    csrf_token: &str,
    public_id: &str,
) -> Result<PublicId, AppError> {
    staff.require_moderator()?;
    csrf.verify(csrf_token)?;
    parse_id(public_id)
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Runs a decision; a refusal (claimed, wrong state, bad input) shows the story again with why.
async fn act(
    state: web::Data<AppState>,
    staff: Staff,
    csrf: Csrf,
    public_id: PublicId,
    kind: ActionKind,
    decision: Result<Decision, String>,
) -> Result<HttpResponse, AppError> {
    let decision = match decision {
        Ok(d) => d,
        Err(message) => return refused(&state, &staff, &csrf, public_id, message).await,
    };
    let st = state.clone();
    let user = staff.user.clone();
    let id = public_id.clone();
    let result = state
        .db(move |conn| {
            let site = Site {
                base_url: &st.settings.base_url,
            };
            Ok(moderation::decide(
                conn,
                &id,
                &decision,
                &Moderator::from(&user),
                &site,
                now(),
            ))
        })
        .await?;
    after(&state, &staff, &csrf, public_id, kind, result).await
}

async fn after(
    state: &web::Data<AppState>,
    staff: &Staff,
    csrf: &Csrf,
    public_id: PublicId,
    kind: ActionKind,
    result: Result<(), Refused>,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/mod?done={}", kind.as_str()))),
        Err(why) => refusal(state, staff, csrf, public_id, why).await,
    }
}

/// The story page again with why the action was not taken.
async fn refusal(
    state: &web::Data<AppState>,
    staff: &Staff,
    csrf: &Csrf,
    public_id: PublicId,
    why: Refused,
) -> Result<HttpResponse, AppError> {
    match why {
        Refused::NotFound => Err(AppError::NotFound),
        Refused::Database(e) => Err(e.into()),
        Refused::ClaimedByOther { name, until } => {
            let message = format!(
                "{name}さんが{}まで対応中のため、操作できませんでした。",
                crate::views::time_ja(until)
            );
            refused(state, staff, csrf, public_id, message).await
        }
        Refused::NotAllowed(message) => refused(state, staff, csrf, public_id, message).await,
    }
}

async fn refused(
    state: &web::Data<AppState>,
    staff: &Staff,
    csrf: &Csrf,
    public_id: PublicId,
    message: String,
) -> Result<HttpResponse, AppError> {
    let page = load_page(state, staff, csrf, public_id, Notice::Refused(message)).await?;
    private_page(&page, StatusCode::CONFLICT)
}

/// Approve, reject or request changes: the decision is the last part of the address.
async fn decide(
    Panel { state, staff, csrf }: Panel,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (public_id, decision) = path.into_inner();
    let id = authorize(&staff, &csrf, &form.csrf_token, &public_id)?;
    let (kind, decision) = match decision.as_str() {
        "approve" => (
            ActionKind::Approve,
            Ok(Decision::Approve {
                unfounded_reports: form.unfounded == "yes",
            }),
        ),
        "reject" if state.settings.reject_reasons.contains(&form.reason) => (
            ActionKind::Reject,
            Ok(Decision::Reject {
                reason: form.reason.clone(),
                note: optional(&form.note),
                tell: form.tell == "yes",
            }),
        ),
        "reject" => (
            ActionKind::Reject,
            Err("不採用の理由を一覧から選んでください。".to_owned()),
        ),
        "request-changes" => (
            ActionKind::RequestChanges,
            match optional(&form.message) {
                Some(message) if message.chars().count() <= 2000 => {
                    Ok(Decision::RequestChanges { message })
                }
                Some(_) => Err("投稿者へのメッセージは2,000文字以内にしてください。".to_owned()),
                None => Err("投稿者へのメッセージを書いてください。何をどう直してほしいかが伝わるようにお願いします。".to_owned()),
            },
        ),
        _ => return Err(AppError::NotFound),
    };
    act(state, staff, csrf, id, kind, decision).await
}

async fn edit(
    Panel { state, staff, csrf }: Panel,
    public_id: web::Path<String>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    let id = authorize(&staff, &csrf, &form.story.csrf_token, &public_id)?;
    let EditForm { note, story } = form.into_inner();
    // Facts left blank stay (or become) 情報未設定: placeholders are parsed and marked unknown.
    let untold = story.facts_blank();
    // A moderator removing details does not confirm findings: they are recomputed from what is
    // left and shown on the page.
    let typed = StoryForm {
        confirm_pii: "yes".to_owned(),
        website: String::new(),
        length_years: if untold {
            "0".to_owned()
        } else {
            story.length_years.clone()
        },
        how_met: if untold {
            HowMet::Other.as_str().to_owned()
        } else {
            story.how_met.clone()
        },
        continuing: if untold {
            "yes".to_owned()
        } else {
            story.continuing.clone()
        },
        ..story
    };
    let (typed, parsed) = typed.parse_off_worker(false).await?;
    let (content, pii) = match parsed {
        Parsed::Ready {
            mut content, pii, ..
        } => {
            content.facts_known = !untold;
            (content, pii)
        }
        Parsed::Again { errors, .. } => {
            let typed = if untold { typed.without_facts() } else { typed };
            let page = load_page(
                &state,
                &staff,
                &csrf,
                id,
                Notice::Redaction(Box::new((typed, errors))),
            )
            .await?;
            return private_page(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let note = optional(&note);
    let user = staff.user.clone();
    let target = id.clone();
    let result = state
        .db(move |conn| {
            Ok(moderation::redact(
                conn,
                &target,
                &content,
                &pii,
                note.as_deref(),
                &Moderator::from(&user),
                now(),
            ))
        })
        .await?;
    after(&state, &staff, &csrf, id, ActionKind::Edit, result).await
}

/// Takes the story for fifteen minutes, so that no one else decides on it meanwhile.
async fn claim(
    Panel { state, staff, csrf }: Panel,
    public_id: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let id = authorize(&staff, &csrf, &form.csrf_token, &public_id)?;
    let user = staff.user.clone();
    let target = id.clone();
    let result = state
        .db(move |conn| {
            Ok(moderation::claim(conn, &target, &Moderator::from(&user), now()).map(|_| ()))
        })
        .await?;
    match result {
        Ok(()) => Ok(see_other(&format!("/mod/stories/{}", id.as_ref()))),
        Err(why) => refusal(&state, &staff, &csrf, id, why).await,
    }
}
