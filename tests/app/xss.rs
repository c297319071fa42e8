//! The XSS corpus (`fixtures/xss.txt`: tag, attribute, URL-scheme, encoding and Markdown tricks)
//! through every field a writer controls and the one a reader controls (the search words), into
//! every page and feed they reach: no executable markup comes out anywhere.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    TestDatabase, public_id, results_within, spawn_configured, story_body, urlencode,
};
use crate::sanitizing::assert_no_executable_markup;

fn corpus() -> impl Iterator<Item = String> {
    include_str!("fixtures/xss.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| l.replace("\\n", "\n"))
}

/// The payloads the forms accept, to follow into every page.
pub fn payloads() -> Vec<String> {
    corpus()
        .filter(|p| !p.chars().any(engawa::domain::forbidden_character))
        .collect()
}

/// The payloads the forms refuse at the door (a bidi override, for one): they are checked to be
/// refused, on a page that does not run them either.
pub fn refused_payloads() -> Vec<String> {
    corpus()
        .filter(|p| p.chars().any(engawa::domain::forbidden_character))
        .collect()
}

/// The payload itself where it is a valid tag name, else a plain tag.
pub fn tag_for(payload: &str) -> String {
    if engawa::domain::TagName::parse(payload).is_ok() {
        payload.to_owned()
    } else {
        "攻撃".to_owned()
    }
}

pub fn cut(text: &str, max: usize) -> String {
    text.replace('\n', " ").chars().take(max).collect()
}

/// What a page of the XSS test shows, so that finding no executable markup on it means something:
/// the payloads did reach it.
enum Shows {
    /// This title as its heading: the page of a story or guide titled with a payload.
    Heading(String),
    /// This query in its search box.
    Query(String),
    /// Cards, every one titled with a payload.
    Cards,
    /// The sitemap, listing the first story.
    Sitemap,
}

/// The text with each run of white space made one space, and none at either end.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Feed content, decoded from XML as a feed reader does, holds no executable markup either.
fn assert_feed_is_clean(path: &str, xml: &str) {
    let feed = feed_rs::parser::parse(xml.as_bytes())
        .unwrap_or_else(|e| panic!("{path} does not parse as a feed: {e}"));
    assert!(!feed.entries.is_empty(), "{path} is empty");
    for entry in &feed.entries {
        // A plain-text summary is shown as text by readers; HTML content and summaries are
        // rendered, so they are what must hold nothing executable.
        let html_summary = entry
            .summary
            .iter()
            .filter(|s| s.content_type.to_string().starts_with("text/html"))
            .map(|s| s.content.as_str());
        for html in entry
            .content
            .iter()
            .filter_map(|c| c.body.as_deref())
            .chain(html_summary)
        {
            assert_no_executable_markup(path, &format!("<div class=\"prose\">{html}</div>"));
        }
    }
}

#[tokio::test]
async fn no_payload_in_any_field_runs_on_any_page_or_in_any_feed() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::ZERO;
        // Every payload is searched once by the same client: the per-minute limit would answer
        // some with its 429 page, which does not echo the query, and so proves nothing.
        s.searches_per_minute = 10_000;
    })
    .await;
    let payloads = payloads();
    assert!(payloads.len() >= 100, "{} payloads", payloads.len());

    let mut records: Vec<Value> = Vec::new();
    let mut tags = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let tag = tag_for(p);
        if &tag == p {
            tags.push(tag.clone());
        }
        records.push(json!({
            "type": "story",
            "public_id": public_id(i + 1),
            "title": cut(p, 100),
            "body": format!("{p}\n\n{}\n\n{p}", story_body("攻撃")),
            "pen_name": cut(p, 30),
            "length_months": 40,
            "how_met": "hobby",
            "continuing": true,
            "rules": [cut(p, 200)],
            "tags": [tag],
            "status": "approved",
        }));
        records.push(json!({
            "type": "guide",
            "slug": format!("xss-{i}"),
            "title": cut(p, 100),
            "summary": cut(p, 300),
            "body": format!("## {}\n\n{p}\n\n家族の予定について。", cut(p, 80)),
            "tags": [tag],
            "status": "published",
        }));
    }
    app.seed(&records);
    assert!(!tags.is_empty(), "some payloads are valid tag names");

    // Every story and guide is titled with its payload, as stored: trimmed.
    let titles: Vec<String> = payloads.iter().map(|p| squeezed(&cut(p, 100))).collect();
    let mut pages: Vec<(String, Shows)> = vec![
        ("/".into(), Shows::Cards),
        ("/guides".into(), Shows::Cards),
        ("/sitemap.xml".into(), Shows::Sitemap),
    ];
    for (i, title) in titles.iter().enumerate() {
        pages.push((
            format!("/stories/{}", public_id(i + 1)),
            Shows::Heading(title.clone()),
        ));
        pages.push((format!("/guides/xss-{i}"), Shows::Heading(title.clone())));
    }
    let listing = app.get("/stories").await;
    assert_eq!(listing.status, 200, "/stories: {}", listing.body);
    let last_page: usize = listing
        .texts("nav.pagination a")
        .iter()
        .filter_map(|t| t.parse().ok())
        .max()
        .unwrap_or(1);
    for page in 1..=last_page {
        pages.push((format!("/stories?page={page}"), Shows::Cards));
    }
    for tag in tags.iter().chain(["攻撃".to_owned()].iter()) {
        pages.push((format!("/tags/{}", urlencode(tag)), Shows::Cards));
    }
    // Search results show the stories' snippets; every payload is also a reader's query.
    results_within(&app.reader, "家族の予定", 10, Duration::from_secs(20)).await;
    for page in 1..=5 {
        pages.push((
            format!("/search?q={}&page={page}", urlencode("家族の予定")),
            Shows::Query("家族の予定".to_owned()),
        ));
    }
    for p in &payloads {
        // The box shows the query as the search read it: trimmed, at most 100 characters.
        let query: String = p.trim().chars().take(100).collect();
        pages.push((
            format!("/search?q={}", urlencode(p)),
            Shows::Query(squeezed(&query)),
        ));
    }
    for (path, shows) in &pages {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        match shows {
            Shows::Heading(title) => {
                assert_eq!(
                    squeezed(&page.text("h1")),
                    *title,
                    "{path} does not show its payload as its heading"
                );
            }
            Shows::Query(query) => {
                let shown = page
                    .attr("input[name=q]", "value")
                    .unwrap_or_else(|| panic!("{path} has no search box:\n{}", page.body));
                assert_eq!(
                    squeezed(&shown),
                    *query,
                    "{path} does not show its query in the search box"
                );
            }
            Shows::Cards => {
                let cards = page.card_titles();
                assert!(!cards.is_empty(), "{path} shows no card");
                for card in &cards {
                    assert!(
                        titles.contains(&squeezed(card)),
                        "{path} shows a card not titled with a payload: {card:?}"
                    );
                }
            }
            Shows::Sitemap => {
                assert!(
                    page.body.contains("<urlset")
                        && page.body.contains(&format!("/stories/{}<", public_id(1))),
                    "{path} does not list the first story:\n{}",
                    page.body
                );
            }
        }
        assert_no_executable_markup(path, &page.body);
    }

    let tag_feeds = [
        "/tags/%E6%94%BB%E6%92%83/feed.atom",
        "/tags/%E6%94%BB%E6%92%83/feed.xml",
    ];
    for path in crate::helpers::SITE_FEEDS.into_iter().chain(tag_feeds) {
        let feed = app.shown(path).await;
        assert_feed_is_clean(path, &feed.body);
    }
}
