//! RSS 2.0 and Atom feeds, the sitemap and robots.txt.

use actix_web::http::header::{self, CacheControl, CacheDirective, HttpDate};
use actix_web::{HttpResponse, web};
use atom_syndication as atom;
use chrono::{FixedOffset, NaiveDateTime};

use crate::error::AppError;
use crate::feeds::{self, Entry, Scope};
use crate::models::now;
use crate::state::AppState;
use crate::views::{SITE_NAME, SITE_TAGLINE, tag_href};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/feed.xml", web::get().to(|s| rss(s, Scope::All)))
        .route("/feed.atom", web::get().to(|s| atom_feed(s, Scope::All)))
        .route("/guides/feed.xml", web::get().to(|s| rss(s, Scope::Guides)))
        .route(
            "/guides/feed.atom",
            web::get().to(|s| atom_feed(s, Scope::Guides)),
        )
        .route(
            "/stories/feed.xml",
            web::get().to(|s| rss(s, Scope::Stories)),
        )
        .route(
            "/stories/feed.atom",
            web::get().to(|s| atom_feed(s, Scope::Stories)),
        )
        .route(
            "/tags/{tag}/feed.xml",
            web::get().to(|s, t: web::Path<String>| rss(s, Scope::Tag(t.into_inner()))),
        )
        .route(
            "/tags/{tag}/feed.atom",
            web::get().to(|s, t: web::Path<String>| atom_feed(s, Scope::Tag(t.into_inner()))),
        )
        .route("/sitemap.xml", web::get().to(sitemap))
        .route("/robots.txt", web::get().to(robots));
}

/// The path of a feed (without extension) and its title.
fn describe(scope: &Scope) -> (String, String) {
    match scope {
        Scope::All => ("/feed".to_owned(), format!("{SITE_NAME} — {SITE_TAGLINE}")),
        Scope::Guides => ("/guides/feed".to_owned(), format!("{SITE_NAME}：ガイド")),
        Scope::Stories => ("/stories/feed".to_owned(), format!("{SITE_NAME}：体験談")),
        Scope::Tag(t) => (
            format!("{}/feed", tag_href(t)),
            format!("{SITE_NAME}：タグ「{t}」"),
        ),
    }
}

fn page_of(scope: &Scope) -> String {
    match scope {
        Scope::All => "/".to_owned(),
        Scope::Guides => "/guides".to_owned(),
        Scope::Stories => "/stories".to_owned(),
        Scope::Tag(t) => tag_href(t),
    }
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<FixedOffset> {
    t.and_utc().fixed_offset()
}

async fn load(state: &web::Data<AppState>, scope: Scope) -> Result<(Scope, Vec<Entry>), AppError> {
    let base = state.settings.base_url.clone();
    let cooled = feeds::cooled_before(now(), state.settings.feed_delay);
    state
        .db(move |conn| {
            let entries = feeds::entries(conn, &scope, &base, cooled)?;
            if let Scope::Tag(_) = scope
                && entries.is_empty()
            {
                // Like the tag page: a tag with nothing public does not exist.
                return Err(AppError::NotFound);
            }
            Ok((scope, entries))
        })
        .await
}

/// Feeds may be kept by shared caches only if they ask again each time (`no-cache`): a kept copy
/// must never outlive a story's withdrawal. The ETag and Last-Modified make asking cheap.
fn respond(state: &AppState, scope: &Scope, content_type: &str, body: String) -> HttpResponse {
    let body = feeds::xml_chars(body);
    let (path, _) = describe(scope);
    let feed = format!("{path} {content_type}");
    let modified = state
        .feed_clock
        .modified(&feed, body.as_bytes(), std::time::SystemTime::now());
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::NoCache,
        ]))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(modified)))
        .body(body)
}

async fn rss(state: web::Data<AppState>, scope: Scope) -> Result<HttpResponse, AppError> {
    let (scope, entries) = load(&state, scope).await?;
    let base = &state.settings.base_url;
    let (_, title) = describe(&scope);
    let items: Vec<rss::Item> = entries
        .iter()
        .map(|e| {
            rss::ItemBuilder::default()
                .title(Some(e.title.clone()))
                .link(Some(e.url.clone()))
                .guid(Some(rss::Guid {
                    value: e.url.clone(),
                    permalink: true,
                }))
                .pub_date(Some(utc(e.published).to_rfc2822()))
                // Readers render an RSS description as HTML; the summary is plain text.
                .description(Some(crate::views::escape_html(&e.summary)))
                .content(Some(e.html.clone()))
                .categories(
                    e.tags
                        .iter()
                        .map(|t| rss::Category {
                            name: t.clone(),
                            domain: None,
                        })
                        .collect::<Vec<_>>(),
                )
                .build()
        })
        .collect();
    let mut channel = rss::ChannelBuilder::default()
        .title(title)
        .link(format!("{base}{}", page_of(&scope)))
        .description(SITE_TAGLINE.to_owned())
        .language(Some("ja".to_owned()))
        .items(items)
        .build();
    if let Some(newest) = entries.iter().map(|e| e.updated).max() {
        channel.set_last_build_date(Some(utc(newest).to_rfc2822()));
    }
    Ok(respond(
        &state,
        &scope,
        "application/rss+xml; charset=utf-8",
        channel.to_string(),
    ))
}

async fn atom_feed(state: web::Data<AppState>, scope: Scope) -> Result<HttpResponse, AppError> {
    let (scope, entries) = load(&state, scope).await?;
    let base = &state.settings.base_url;
    let (path, title) = describe(&scope);
    let link = |href: String, rel: &str, kind: Option<&str>| {
        atom::LinkBuilder::default()
            .href(href)
            .rel(rel.to_owned())
            .mime_type(kind.map(str::to_owned))
            .build()
    };
    let atom_entries: Vec<atom::Entry> = entries
        .iter()
        .map(|e| {
            atom::EntryBuilder::default()
                .title(e.title.clone())
                .id(e.url.clone())
                .updated(utc(e.updated))
                .published(Some(utc(e.published)))
                .links(vec![link(e.url.clone(), "alternate", Some("text/html"))])
                .summary(Some(atom::Text::plain(e.summary.clone())))
                .content(Some(
                    atom::ContentBuilder::default()
                        .value(Some(e.html.clone()))
                        .content_type(Some("html".to_owned()))
                        .build(),
                ))
                .categories(
                    e.tags
                        .iter()
                        .map(|t| atom::CategoryBuilder::default().term(t.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .authors(vec![
                    atom::PersonBuilder::default()
                        .name(SITE_NAME.to_owned())
                        .build(),
                ])
                .build()
        })
        .collect();
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or_default();
    let feed = atom::FeedBuilder::default()
        .title(title)
        .id(format!("{base}{path}.atom"))
        .updated(utc(updated))
        .lang(Some("ja".to_owned()))
        .links(vec![
            link(
                format!("{base}{path}.atom"),
                "self",
                Some("application/atom+xml"),
            ),
            link(
                format!("{base}{}", page_of(&scope)),
                "alternate",
                Some("text/html"),
            ),
        ])
        .entries(atom_entries)
        .build();
    Ok(respond(
        &state,
        &scope,
        "application/atom+xml; charset=utf-8",
        feed.to_string(),
    ))
}

async fn sitemap(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.settings.base_url.clone();
    let cooled = feeds::cooled_before(now(), state.settings.feed_delay);
    let urls = state
        .db(move |conn| Ok(feeds::sitemap(conn, &base, cooled)?))
        .await?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, modified) in &urls {
        xml.push_str(&format!(
            "  <url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            crate::views::escape_html(loc),
            modified.format("%Y-%m-%d")
        ));
    }
    xml.push_str("</urlset>\n");
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(feeds::xml_chars(xml)))
}

async fn robots(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!(
        "User-agent: *\nDisallow: /mod\nDisallow: /stories/status\nDisallow: /stories/receipt\nDisallow: /stories/new\nDisallow: /search\n\nSitemap: {}/sitemap.xml\n",
        state.settings.base_url
    ))
}
