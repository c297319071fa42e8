use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::Slug;
use crate::error::AppError;
use crate::models::PAGE_SIZE;
use diesel::OptionalExtension;

use crate::models::guide::Guide;
use crate::models::tag::Tag;
use crate::routes::listing::ListingQuery;
use crate::routes::page;
use crate::routes::search::{HitView, related};
use crate::state::AppState;
use crate::views::{
    GuideCard, PageMeta, Pagination, StoryCard, TagLink, TocSection, date_iso, date_ja,
    toc_sections,
};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/guides", web::get().to(index))
        .route("/guides/{slug}", web::get().to(show));
}

#[derive(Template)]
#[template(path = "guides/index.html")]
struct GuidesPage {
    meta: PageMeta,
    guides: Vec<GuideCard>,
    pagination: Pagination,
}

async fn index(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    // Guides have no filters; only the page number of the shared listing query applies.
    let query = ListingQuery::parse(&req)?;
    let offset = query.offset();
    let (guides, total) = state
        .db(move |conn| {
            let total = Guide::count_published(conn)?;
            let guides = Guide::list_published(conn, PAGE_SIZE, offset)?;
            Ok((guides, total))
        })
        .await?;
    let pages = query.check_page(total)?;
    let path = match query.page {
        1 => "/guides".to_owned(),
        n => format!("/guides?page={n}"),
    };
    page(&GuidesPage {
        meta: PageMeta::new(
            &state.settings.base_url,
            "ガイド",
            "セカンドパートナーという関係を、家族を傷つけずに長く健やかに続けるための編集部のガイド。",
            &path,
        )
        .with_feed("縁側：ガイド", "/guides/feed"),
        guides: guides.iter().map(GuideCard::from).collect(),
        pagination: Pagination::new("/guides", "", query.page, pages),
    })
}

#[derive(Template)]
#[template(path = "guides/show.html")]
struct GuidePage {
    meta: PageMeta,
    title: String,
    summary: String,
    author: String,
    date: String,
    date_iso: String,
    toc: Vec<TocSection>,
    body_html: String,
    tags: Vec<TagLink>,
    related: Vec<HitView>,
    featured: Vec<StoryCard>,
}

async fn show(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug).map_err(|_| AppError::NotFound)?;
    let found = state
        .db(move |conn| {
            let Some(guide) = Guide::find_published(conn, &slug).optional()? else {
                // A renamed guide keeps its old address.
                let moved = Guide::redirect_for(conn, &crate::paths::guide(slug.as_ref()))?;
                return Ok(Err(moved.ok_or(AppError::NotFound)?));
            };
            let tags = Tag::of_guide(conn, guide.id)?;
            let featured = Guide::featured_stories(conn, guide.id)?;
            let ids: Vec<i32> = featured.iter().map(|s| s.id).collect();
            let featured_tags = Tag::of_stories(conn, &ids)?;
            let cards: Vec<StoryCard> = featured
                .iter()
                .map(|s| StoryCard::new(s, featured_tags.get(&s.id).map_or(&[][..], Vec::as_slice)))
                .collect();
            Ok(Ok((guide, tags, cards)))
        })
        .await?;
    let (guide, tags, featured) = match found {
        Ok(found) => found,
        Err(location) => {
            return Ok(HttpResponse::MovedPermanently()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish());
        }
    };
    let related = related(&state, format!("guide:{}", guide.slug)).await;
    let published = guide.published_at.unwrap_or(guide.updated_at);
    let toc = guide.toc();
    page(&GuidePage {
        related,
        featured,
        meta: PageMeta::new(
            &state.settings.base_url,
            &guide.title,
            if guide.summary.is_empty() {
                &guide.title
            } else {
                &guide.summary
            },
            &crate::paths::guide(&guide.slug),
        )
        .article()
        .with_json_ld(&serde_json::json!({
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": guide.title,
            "description": guide.summary,
            "inLanguage": "ja",
            "datePublished": published.and_utc().to_rfc3339(),
            "dateModified": guide.updated_at.and_utc().to_rfc3339(),
            "author": { "@type": "Organization", "name": guide.author_name },
            "publisher": { "@type": "Organization", "name": crate::views::SITE_NAME },
            "mainEntityOfPage": format!("{}{}", state.settings.base_url, crate::paths::guide(&guide.slug)),
        })),
        // A table of contents of one heading helps nobody.
        toc: if toc.len() >= 2 {
            toc_sections(toc)
        } else {
            Vec::new()
        },
        title: guide.title,
        summary: guide.summary,
        author: guide.author_name,
        date: date_ja(published),
        date_iso: date_iso(published),
        body_html: guide.body_html,
        tags: tags.iter().map(|t| TagLink::new(t)).collect(),
    })
}
