use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::TagName;
use crate::error::AppError;
use crate::models::guide::Guide;
use crate::models::tag::Tag;
use crate::routes::listing::ListingQuery;
use crate::routes::page;
use crate::routes::stories::story_cards;
use crate::state::AppState;
use crate::views::{GuideCard, PageMeta, Pagination, StoryCard, tag_href};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/tags/{tag}", web::get().to(show));
}

#[derive(Template)]
#[template(path = "tags/show.html")]
struct TagPage {
    meta: PageMeta,
    tag: String,
    guides: Vec<GuideCard>,
    stories: Vec<StoryCard>,
    total_stories: i64,
    pagination: Pagination,
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    tag: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let tag = TagName::parse(&tag).map_err(|_| AppError::NotFound)?;
    let mut query = ListingQuery::parse(&req)?;
    query.filter.tag = Some(tag.clone());
    let lookup = tag.clone();
    let (guides, stories, total, query) = state
        .db(move |conn| {
            let tag_id = Tag::find(conn, &lookup)?.ok_or(AppError::NotFound)?;
            // Guides are few; they are shown in full on the first page only.
            let guides = if query.page == 1 {
                Guide::published_with_tag(conn, tag_id)?
            } else {
                Vec::new()
            };
            let (stories, total) = story_cards(conn, &query)?;
            Ok((guides, stories, total, query))
        })
        .await?;
    // A tag used only by hidden content must not reveal that the content exists.
    if guides.is_empty() && total == 0 {
        return Err(AppError::NotFound);
    }
    let pages = query.check_page(total)?;
    let base = tag_href(tag.as_ref());
    let filter_query = query.filter_query(false);
    let path = match query.page {
        1 => base.clone(),
        n => format!("{base}?page={n}"),
    };
    page(&TagPage {
        meta: PageMeta::new(
            &state.settings.base_url,
            &format!("タグ「{}」", tag.as_ref()),
            &format!("タグ「{}」のついたガイドと体験談。", tag.as_ref()),
            &path,
        )
        .with_feed(
            &format!("縁側：タグ「{}」", tag.as_ref()),
            &format!("{base}/feed"),
        ),
        tag: tag.as_ref().to_owned(),
        guides: guides.iter().map(GuideCard::from).collect(),
        stories,
        total_stories: total,
        pagination: Pagination::new(&base, &filter_query, query.page, pages),
    })
}
