use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use std::time::Duration;

use serde::Deserialize;

use crate::csrf::Csrf;
use crate::domain::{HowMet, LengthBucket, PublicId};
use crate::error::AppError;
use crate::models::PAGE_SIZE;
use crate::models::now;
use crate::models::report::{Reader, ReportReason};
use crate::models::story::{Story, StoryListItem};
use crate::models::tag::Tag;
use crate::rate_limit::Action;
use crate::routes::listing::ListingQuery;
use crate::routes::page;
use crate::routes::search::{HitView, related};
use crate::routes::visitor::Visitor;
use crate::state::AppState;
use crate::views::{PageMeta, Pagination, SelectOption, StoryCard, TagLink, date_iso, date_ja};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/stories", web::get().to(index))
        .route("/stories/reported", web::get().to(reported))
        .route("/stories/{public_id}", web::get().to(show))
        .route("/stories/{public_id}/report", web::get().to(report_form))
        .route("/stories/{public_id}/report", web::post().to(report));
}

#[derive(Template)]
#[template(path = "stories/index.html")]
struct StoriesPage {
    meta: PageMeta,
    heading: String,
    total: i64,
    stories: Vec<StoryCard>,
    lengths: Vec<SelectOption>,
    ways: Vec<SelectOption>,
    tag: String,
    filtered: bool,
    pagination: Pagination,
}

/// Loads one page of stories with their tags, as cards; shared with the tag pages.
pub fn story_cards(
    conn: &mut crate::db::DbConn,
    query: &ListingQuery,
) -> Result<(Vec<StoryCard>, i64), AppError> {
    let (items, total): (Vec<StoryListItem>, i64) =
        Story::list_public(conn, &query.filter, PAGE_SIZE, query.offset())?;
    let ids: Vec<i32> = items.iter().map(|s| s.id).collect();
    let tags = Tag::of_stories(conn, &ids)?;
    let cards = items
        .iter()
        .map(|s| StoryCard::new(s, tags.get(&s.id).map_or(&[][..], Vec::as_slice)))
        .collect();
    Ok((cards, total))
}

async fn index(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let query = ListingQuery::parse(&req)?;
    let filter = query.filter.clone();
    let (stories, total, query) = state
        .db(move |conn| {
            let (cards, total) = story_cards(conn, &query)?;
            Ok((cards, total, query))
        })
        .await?;
    let pages = query.check_page(total)?;

    let mut labels: Vec<String> = Vec::new();
    if let Some(l) = filter.length {
        labels.push(format!("交際{}", l.label()));
    }
    if let Some(h) = filter.how_met {
        labels.push(format!("出会い：{}", h.label()));
    }
    if let Some(t) = &filter.tag {
        labels.push(format!("タグ：{}", t.as_ref()));
    }
    let heading = if labels.is_empty() {
        "体験談".to_owned()
    } else {
        format!("体験談（{}）", labels.join("・"))
    };
    let filter_query = query.filter_query(true);
    let mut path = "/stories".to_owned();
    let mut params: Vec<String> = Vec::new();
    if !filter_query.is_empty() {
        params.push(filter_query.clone());
    }
    if query.page > 1 {
        params.push(format!("page={}", query.page));
    }
    if !params.is_empty() {
        path = format!("{path}?{}", params.join("&"));
    }

    page(&StoriesPage {
        meta: PageMeta::new(
            &state.settings.base_url,
            &heading,
            "セカンドパートナーとの関係を続けている人、終えた人の匿名の体験談。交際期間や出会いのきっかけで絞り込めます。",
            &path,
        )
        .with_feed("縁側：体験談", "/stories/feed"),
        heading,
        total,
        stories,
        lengths: LengthBucket::ALL
            .iter()
            .map(|b| SelectOption {
                value: b.as_str(),
                label: b.label(),
                selected: filter.length == Some(*b),
            })
            .collect(),
        ways: HowMet::ALL
            .iter()
            .map(|h| SelectOption {
                value: h.as_str(),
                label: h.label(),
                selected: filter.how_met == Some(*h),
            })
            .collect(),
        tag: filter
            .tag
            .as_ref()
            .map(|t| t.as_ref().to_owned())
            .unwrap_or_default(),
        filtered: !labels.is_empty(),
        pagination: Pagination::new("/stories", &filter_query, query.page, pages),
    })
}

#[derive(Template)]
#[template(path = "stories/show.html")]
struct StoryPage {
    meta: PageMeta,
    title: String,
    /// The facts line and the length, when the story told them.
    facts: Option<(String, String)>,
    pen_name: String,
    date: String,
    date_iso: String,
    rules: Vec<String>,
    body_html: String,
    tags: Vec<TagLink>,
    edited_by_staff: bool,
    public_id: String,
    related: Vec<HitView>,
}

async fn show(
    state: web::Data<AppState>,
    public_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = PublicId::parse(&public_id).map_err(|_| AppError::NotFound)?;
    let (story, tags) = state
        .db(move |conn| {
            let story = Story::find_public(conn, &public_id)?;
            let tags = Tag::of_stories(conn, &[story.id])?
                .remove(&story.id)
                .unwrap_or_default();
            Ok((story, tags))
        })
        .await?;
    let related = related(&state, format!("story:{}", story.public_id)).await;
    let published = story.published_at.unwrap_or(story.submitted_at);
    page(&StoryPage {
        related,
        meta: PageMeta::new(
            &state.settings.base_url,
            &story.title,
            &story.excerpt,
            &crate::paths::story(&story.public_id),
        )
        .article(),
        facts: story
            .relationship
            .facts()
            .map(|f| (f, story.relationship.length.duration_label())),
        rules: story.rules().as_slice().to_vec(),
        title: story.title,
        pen_name: story.pen_name,
        date: date_ja(published),
        date_iso: date_iso(published),
        body_html: story.body_html,
        tags: tags.iter().map(|t| TagLink::new(t)).collect(),
        edited_by_staff: story.edited_by_staff,
        public_id: story.public_id,
    })
}

#[derive(Template)]
#[template(path = "stories/report.html")]
struct ReportPage {
    meta: PageMeta,
    title: String,
    public_id: String,
    report_reasons: Vec<SelectOption>,
    csrf: String,
}

/// The report form lives on its own page, so that a story's page is the same for every reader
/// (and can be cached).
async fn report_form(
    state: web::Data<AppState>,
    public_id: web::Path<String>,
    csrf: Csrf,
) -> Result<HttpResponse, AppError> {
    let public_id = PublicId::parse(&public_id).map_err(|_| AppError::NotFound)?;
    let story = state
        .db(move |conn| Ok(Story::find_public(conn, &public_id)?))
        .await?;
    let meta = PageMeta::new(
        &state.settings.base_url,
        "体験談を通報する",
        "体験談の通報。",
        &format!("{}/report", crate::paths::story(&story.public_id)),
    )
    .unlisted();
    page(&ReportPage {
        meta,
        title: story.title,
        public_id: story.public_id,
        report_reasons: ReportReason::ALL
            .iter()
            .map(|r| SelectOption {
                value: r.as_str(),
                label: r.label(),
                selected: false,
            })
            .collect(),
        csrf: csrf.token().to_owned(),
    })
}

#[derive(Deserialize)]
struct ReportForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    csrf_token: String,
}

const REPORTS_PER_HOUR: usize = 10;

async fn report(
    visitor: Visitor,
    public_id: web::Path<String>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, AppError> {
    let Visitor { state, csrf, .. } = &visitor;
    csrf.verify(&form.csrf_token)?;
    let public_id = PublicId::parse(&public_id).map_err(|_| AppError::NotFound)?;
    let reason = ReportReason::parse(&form.reason).map_err(|e| AppError::bad_request(e.0))?;
    if !visitor.allowed(Action::Report, REPORTS_PER_HOUR, Duration::from_secs(3600)) {
        return Err(AppError::TooManyRequests(
            "短い時間に多くの通報が送られました。しばらくたってから、もう一度お試しください。"
                .to_owned(),
        ));
    }
    let at = now();
    // IPv6 readers count per /48 at most: a home line often has a /56 or a /48, and one person
    // with 256 networks must not be 256 readers.
    let network = crate::client::network(
        visitor.client(),
        state.settings.rate_limit_ipv6_prefix.min(48),
    );
    let st = state.clone();
    // Counted or not, the reader is told the same.
    state
        .db(move |conn| {
            let reader = Reader::new(conn, &network, public_id.as_ref(), at)?;
            Ok(crate::workflows::reports::file(
                conn,
                &public_id,
                reason,
                &reader,
                st.settings.report_threshold,
                &st.settings.base_url,
                at,
            )?)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/stories/reported"))
        .finish())
}

#[derive(Template)]
#[template(path = "stories/reported.html")]
struct ReportedPage {
    meta: PageMeta,
}

async fn reported(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let meta = PageMeta::new(
        &state.settings.base_url,
        "通報を受け付けました",
        "通報を受け付けました。",
        "/stories/reported",
    )
    .unlisted();
    page(&ReportedPage { meta })
}
