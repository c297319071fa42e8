//! Anonymous submission: the form, the receipt, and what a receipt code lets its holder do
//! (see the status and any message, answer a change request, withdraw).

use std::time::{Duration, Instant};

use crate::cookies::Jar;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::csrf::Csrf;
use crate::db::DbConn;
use crate::domain::{PublicId, ReceiptCode, StoryAction, StoryField, StoryStatus};
use crate::error::AppError;
use crate::models::mod_action::ModAction;
use crate::models::now;
use crate::models::story::{Story, StoryInput};
use crate::models::tag::Tag;
use crate::rate_limit::Action;
use crate::routes::private_page;
use crate::routes::story_form::{FieldErrors, FindingViews, Parsed, SEND_AGAIN, StoryForm};
use crate::routes::visitor::Visitor;
use crate::state::AppState;
use crate::views::{PageMeta, SelectOption, date_ja};
use crate::workflows::moderation::{self, Refused};
use diesel::QueryResult;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/stories/new", web::get().to(new_form))
        .route("/stories/new", web::post().to(create))
        .route("/stories/receipt", web::get().to(receipt))
        .route("/stories/status", web::get().to(status_form))
        .route("/stories/status", web::post().to(status))
        .route("/stories/status/resubmit", web::post().to(resubmit))
        .route("/stories/status/withdraw", web::post().to(withdraw))
        .route("/stories/status/done", web::get().to(done));
}

/// Every answer to a receipt code takes at least this long, so that a right code and a wrong
/// one cannot be told apart by timing.
const CODE_ANSWER_FLOOR: Duration = Duration::from_millis(250);
const CODE_ATTEMPTS: usize = 10;
const CODE_WINDOW: Duration = Duration::from_secs(15 * 60);

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}

// ---- New story ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "stories/new.html")]
struct NewStoryPage {
    meta: PageMeta,
    form: StoryForm,
    errors: FieldErrors,
    pii: FindingViews,
    how_met_options: Vec<SelectOption>,
    csrf: String,
    limit_message: Option<String>,
    /// When this form was served, signed: see `fill_time`.
    served: String,
}

impl NewStoryPage {
    fn new(
        state: &AppState,
        csrf: &Csrf,
        form: StoryForm,
        errors: FieldErrors,
        pii: FindingViews,
    ) -> Self {
        let form_served = form.served.clone();
        NewStoryPage {
            meta: PageMeta::new(
                &state.settings.base_url,
                "体験談を送る",
                "セカンドパートナーとの体験談を匿名で送れます。編集部が確認してから公開します。",
                "/stories/new",
            ),
            how_met_options: form.how_met_options(),
            // The honeypot is never sent back filled (the confirmation box is never pre-checked:
            // the page asks again after every change).
            form: StoryForm {
                website: String::new(),
                ..form
            },
            errors,
            pii,
            csrf: csrf.token().to_owned(),
            limit_message: None,
            served: crate::fill_time::keep_or_stamp(
                &state.secret,
                &form_served,
                csrf.token(),
                chrono::Utc::now(),
            ),
        }
    }
}

async fn new_form(state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    private_page(
        &NewStoryPage::new(
            &state,
            &csrf,
            StoryForm::default(),
            FieldErrors::default(),
            FindingViews::default(),
        ),
        StatusCode::OK,
    )
}

/// Form posts one client may make per allowed submission: a story can come back a few times
/// (a field to fix, a warning to confirm) before it goes through.
const ATTEMPTS_PER_SUBMISSION: usize = 6;

const SUBMIT_LIMIT_MESSAGE: &str = "短い時間に多くの体験談が送られたため、いまは受け付けられません。入力した内容はこのページに残っています。1時間ほどたってから、もう一度送信してください。";

async fn create(visitor: Visitor, payload: web::Payload) -> Result<HttpResponse, AppError> {
    let Visitor { state, req, csrf } = &visitor;
    // Counted before anything is parsed: a client that is never accepted (every post refused or
    // sent back) is bounded too, and what it sends costs no more than reading it.
    let window = Duration::from_secs(3600);
    let attempt_allowed = visitor.allowed(
        Action::SubmitAttempt,
        state
            .settings
            .submissions_per_hour
            .saturating_mul(ATTEMPTS_PER_SUBMISSION),
        window,
    );
    let form = web::Form::<StoryForm>::from_request(req, &mut payload.into_inner()).await;
    let limited = |form: StoryForm| {
        let mut page = NewStoryPage::new(
            state,
            csrf,
            form,
            FieldErrors::default(),
            FindingViews::default(),
        );
        page.limit_message = Some(SUBMIT_LIMIT_MESSAGE.to_owned());
        private_page(&page, StatusCode::TOO_MANY_REQUESTS)
    };
    if !attempt_allowed {
        // The text comes back (decoding it is linear and cheap); nothing else is looked at.
        return match form {
            Ok(form) => limited(form.into_inner()),
            Err(_) => Err(AppError::TooManyRequests(SUBMIT_LIMIT_MESSAGE.to_owned())),
        };
    }
    // Refused as the form extractor refuses (413, 408, 400 pages).
    let form = match form {
        Ok(form) => form.into_inner(),
        Err(refused) => return Ok(refused.error_response()),
    };
    csrf.verify(&form.csrf_token)?;
    if !crate::fill_time::filled_slowly(
        &state.secret,
        &form.served,
        &form.csrf_token,
        chrono::Utc::now(),
        state.settings.min_fill_time,
    ) {
        let errors = FieldErrors {
            form: Some(SEND_AGAIN.to_owned()),
            ..Default::default()
        };
        return private_page(
            &NewStoryPage::new(state, csrf, form, errors, FindingViews::default()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (form, parsed) = form.parse_off_worker(true).await?;
    let (content, email, pii) = match parsed {
        Parsed::Ready {
            content,
            email,
            pii,
        } => (content, email, pii),
        Parsed::Again { errors, pii } => {
            let views = form.finding_views(&pii);
            return private_page(
                &NewStoryPage::new(state, csrf, form, errors, views),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if !visitor.allowed(Action::Submit, state.settings.submissions_per_hour, window) {
        return limited(form);
    }

    let code = ReceiptCode::generate();
    let input = StoryInput {
        public_id: PublicId::generate(),
        content,
        status: StoryStatus::Pending,
        submitted_at: None,
        published_at: None,
        receipt_hash: Some(code.hash()),
        contact_email: email,
        pii,
    };
    state
        .db(move |conn| {
            moderation::submit(conn, &input, now())?;
            Ok(())
        })
        .await?;

    // The code travels to the receipt page in a short-lived cookie, never in a URL or the database.
    let mut cookie = Jar::Receipt.cookie(code.display(), state.settings.is_https());
    cookie.set_max_age(actix_web::cookie::time::Duration::minutes(10));
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/stories/receipt"))
        .insert_header(no_store())
        .cookie(cookie)
        .finish())
}

#[derive(Template)]
#[template(path = "stories/receipt.html")]
struct ReceiptPage {
    meta: PageMeta,
    code: Option<String>,
}

async fn receipt(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let https = state.settings.is_https();
    let code = Jar::Receipt
        .read(&req, https)
        .and_then(|c| ReceiptCode::parse(&c).ok())
        .map(|c| c.display());
    let meta = PageMeta::new(
        &state.settings.base_url,
        "受付番号",
        "体験談の受付番号です。",
        "/stories/receipt",
    )
    .unlisted();
    let mut response = private_page(&ReceiptPage { meta, code }, StatusCode::OK)?;
    response
        .add_cookie(&Jar::Receipt.removal(https))
        .map_err(AppError::internal)?;
    Ok(response)
}

// ---- Receipt code: status, change request, withdrawal ----------------------------------------

#[derive(Template)]
#[template(path = "stories/status_form.html")]
struct StatusFormPage {
    meta: PageMeta,
    csrf: String,
    message: Option<String>,
}

fn status_meta(state: &AppState) -> PageMeta {
    PageMeta::new(
        &state.settings.base_url,
        "受付状況の確認・取り下げ",
        "受付番号で、送った体験談の審査状況の確認、修正、取り下げができます。",
        "/stories/status",
    )
    .unlisted()
}

async fn status_form(state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    private_page(
        &StatusFormPage {
            meta: status_meta(&state),
            csrf: csrf.token().to_owned(),
            message: None,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "stories/status.html")]
struct StatusPage {
    meta: PageMeta,
    csrf: String,
    code: String,
    status_label: &'static str,
    explanation: &'static str,
    title: String,
    submitted: String,
    moderator_message: Option<String>,
    /// The fields the editors changed, by the form's names.
    edited: Vec<&'static str>,
    public_href: Option<String>,
    can_resubmit: bool,
    can_withdraw: bool,
    form: StoryForm,
    errors: FieldErrors,
    pii: FindingViews,
    how_met_options: Vec<SelectOption>,
}

fn explanation(status: StoryStatus) -> &'static str {
    match status {
        StoryStatus::Pending => "編集部が内容を確認しています。公開までしばらくお待ちください。",
        StoryStatus::ChangesRequested => {
            "編集部から修正のお願いがあります。メッセージを読んで、下のフォームから修正して送り直してください。"
        }
        StoryStatus::Approved => "体験談は公開されています。",
        StoryStatus::Held => {
            "読者からの通報があったため、編集部が確認するまで一時的に非公開にしています。"
        }
        StoryStatus::Rejected => "審査の結果、今回は公開を見送らせていただきました。",
        StoryStatus::Withdrawn => "この体験談は取り下げられ、内容は削除されています。",
    }
}

/// A story as its submitter's status page shows it.
struct Submitted {
    story: Story,
    tags: Vec<String>,
    edited: Vec<StoryField>,
}

impl Submitted {
    fn find(conn: &mut DbConn, code: &ReceiptCode) -> QueryResult<Option<Submitted>> {
        let Some(story) = Story::find_by_receipt(conn, code)? else {
            return Ok(None);
        };
        let tags = Tag::of_stories(conn, &[story.id])?
            .remove(&story.id)
            .unwrap_or_default();
        let edited = ModAction::edited_fields(conn, story.id)?;
        Ok(Some(Submitted {
            story,
            tags,
            edited,
        }))
    }
}

impl StatusPage {
    fn new(state: &AppState, csrf: &Csrf, code: &ReceiptCode, found: &Submitted) -> Self {
        let story = &found.story;
        let status = story.status;
        let form = StoryForm::from_story(story, &found.tags);
        StatusPage {
            meta: status_meta(state),
            csrf: csrf.token().to_owned(),
            code: code.display(),
            status_label: status.label(),
            explanation: explanation(status),
            title: story.title.clone(),
            submitted: date_ja(story.submitted_at),
            moderator_message: story.moderator_message.clone(),
            edited: found.edited.iter().map(|f| f.label()).collect(),
            public_href: status
                .is_public()
                .then(|| crate::paths::story(&story.public_id)),
            can_resubmit: status.allows(StoryAction::Resubmit, false),
            can_withdraw: status.allows(StoryAction::Withdraw, false),
            how_met_options: form.how_met_options(),
            form,
            errors: FieldErrors::default(),
            pii: FindingViews::default(),
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    confirm: String,
}

/// Checks the rate limit for receipt codes and parses the code.
fn code_attempt(visitor: &Visitor, raw: &str) -> Result<Result<ReceiptCode, String>, AppError> {
    if !visitor.allowed(Action::ReceiptLookup, CODE_ATTEMPTS, CODE_WINDOW) {
        return Err(AppError::TooManyRequests(
            "受付番号の確認が短い時間に何度も行われました。15分ほどたってから、もう一度お試しください。".to_owned(),
        ));
    }
    Ok(ReceiptCode::parse(raw).map_err(|e| e.0))
}

async fn answer_after_floor(
    started: Instant,
    response: Result<HttpResponse, AppError>,
) -> Result<HttpResponse, AppError> {
    let elapsed = started.elapsed();
    if elapsed < CODE_ANSWER_FLOOR {
        actix_web::rt::time::sleep(CODE_ANSWER_FLOOR - elapsed).await;
    }
    response
}

fn unknown_code(state: &AppState, csrf: &Csrf, message: String) -> Result<HttpResponse, AppError> {
    private_page(
        &StatusFormPage {
            meta: status_meta(state),
            csrf: csrf.token().to_owned(),
            message: Some(message),
        },
        StatusCode::NOT_FOUND,
    )
}

/// What every form that takes a receipt code does around its own `work`: the CSRF token, the
/// rate limit, a code that cannot be one answered like an unknown one, and every answer held to
/// the time floor.
async fn by_code(
    visitor: &Visitor,
    (token, raw): (&str, &str),
    work: impl AsyncFnOnce(ReceiptCode) -> Result<HttpResponse, AppError>,
) -> Result<HttpResponse, AppError> {
    let started = Instant::now();
    let response = async {
        visitor.csrf.verify(token)?;
        match code_attempt(visitor, raw)? {
            Ok(code) => work(code).await,
            Err(message) => unknown_code(&visitor.state, &visitor.csrf, message),
        }
    }
    .await;
    answer_after_floor(started, response).await
}

/// The answer to a well-formed code that names no story.
fn no_story(state: &AppState, csrf: &Csrf) -> Result<HttpResponse, AppError> {
    unknown_code(
        state,
        csrf,
        "この受付番号の体験談は見つかりませんでした。番号をもう一度ご確認ください。".to_owned(),
    )
}

async fn status(visitor: Visitor, form: web::Form<CodeForm>) -> Result<HttpResponse, AppError> {
    let Visitor { state, csrf, .. } = &visitor;
    by_code(&visitor, (&form.csrf_token, &form.code), async |code| {
        let lookup = code.clone();
        match state
            .db(move |conn| Ok(Submitted::find(conn, &lookup)?))
            .await?
        {
            Some(found) => {
                private_page(&StatusPage::new(state, csrf, &code, &found), StatusCode::OK)
            }
            None => no_story(state, csrf),
        }
    })
    .await
}

fn done_redirect(what: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response.insert_header(no_store()).insert_header((
        header::LOCATION,
        format!("/stories/status/done?what={what}"),
    ));
    if what == "withdrawn" {
        // Nothing in this browser should point at the story any more (the receipt cookie).
        response.insert_header(("Clear-Site-Data", "\"cookies\""));
    }
    response.finish()
}

async fn resubmit(visitor: Visitor, form: web::Form<StoryForm>) -> Result<HttpResponse, AppError> {
    let Visitor { state, csrf, .. } = &visitor;
    let form = form.into_inner();
    let key = (form.csrf_token.clone(), form.code.clone());
    by_code(&visitor, (&key.0, &key.1), async |code| {
        let (form, parsed) = form.parse_off_worker(false).await?;
        match parsed {
            Parsed::Ready { content, pii, .. } => {
                let code2 = code.clone();
                let result = state
                    .db(move |conn| Ok(moderation::resubmit(conn, &code2, &content, &pii, now())))
                    .await?;
                match result {
                    Ok(()) => Ok(done_redirect("resubmitted")),
                    Err(Refused::NotFound) => no_story(state, csrf),
                    Err(other) => Err(other.into()),
                }
            }
            Parsed::Again { errors, pii } => {
                let lookup = code.clone();
                let Some(found) = state
                    .db(move |conn| Ok(Submitted::find(conn, &lookup)?))
                    .await?
                else {
                    return no_story(state, csrf);
                };
                let mut page = StatusPage::new(state, csrf, &code, &found);
                page.pii = form.finding_views(&pii);
                page.how_met_options = form.how_met_options();
                page.form = form;
                page.errors = errors;
                private_page(&page, StatusCode::UNPROCESSABLE_ENTITY)
            }
        }
    })
    .await
}

async fn withdraw(visitor: Visitor, form: web::Form<CodeForm>) -> Result<HttpResponse, AppError> {
    let Visitor { state, csrf, .. } = &visitor;
    by_code(&visitor, (&form.csrf_token, &form.code), async |code| {
        if form.confirm != "yes" {
            return Err(AppError::bad_request(
                "取り下げるには「内容が削除されることを理解しました」にチェックを入れてください。",
            ));
        }
        match state
            .db(move |conn| Ok(moderation::withdraw(conn, &code, now())))
            .await?
        {
            Ok(()) => Ok(done_redirect("withdrawn")),
            Err(Refused::NotFound) => no_story(state, csrf),
            Err(other) => Err(other.into()),
        }
    })
    .await
}

#[derive(Template)]
#[template(path = "stories/status_done.html")]
struct DonePage {
    meta: PageMeta,
    heading: &'static str,
    message: &'static str,
}

#[derive(Deserialize)]
struct DoneQuery {
    what: Option<String>,
}

async fn done(
    state: web::Data<AppState>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let (heading, message) = match query.what.as_deref() {
        Some("withdrawn") => (
            "取り下げました",
            "体験談の内容は削除され、サイトのどこからも見えなくなりました。",
        ),
        Some("resubmitted") => (
            "修正を受け付けました",
            "編集部がもう一度確認します。結果は受付状況の確認ページでご覧いただけます。",
        ),
        _ => return Err(AppError::NotFound),
    };
    private_page(
        &DonePage {
            meta: status_meta(&state),
            heading,
            message,
        },
        StatusCode::OK,
    )
}
