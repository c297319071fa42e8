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

    let mut pages: Vec<String> = vec!["/".into(), "/guides".into(), "/sitemap.xml".into()];
    for i in 0..payloads.len() {
        pages.push(format!("/stories/{}", public_id(i + 1)));
        pages.push(format!("/guides/xss-{i}"));
    }
    let listing = app.get("/stories").await;
    let last_page: usize = listing
        .texts("nav.pagination a")
        .iter()
        .filter_map(|t| t.parse().ok())
        .max()
        .unwrap_or(1);
    for page in 1..=last_page {
        pages.push(format!("/stories?page={page}"));
    }
    for tag in tags.iter().chain(["攻撃".to_owned()].iter()) {
        pages.push(format!("/tags/{}", urlencode(tag)));
    }
    // Search results show the stories' snippets; every payload is also a reader's query.
    results_within(&app.reader, "家族の予定", 10, Duration::from_secs(20)).await;
    for page in 1..=5 {
        pages.push(format!("/search?q={}&page={page}", urlencode("家族の予定")));
    }
    for p in &payloads {
        pages.push(format!("/search?q={}", urlencode(p)));
    }
    for path in &pages {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_no_executable_markup(path, &page.body);
    }

    for path in [
        "/feed.atom",
        "/feed.xml",
        "/stories/feed.atom",
        "/stories/feed.xml",
        "/guides/feed.atom",
        "/guides/feed.xml",
        "/tags/%E6%94%BB%E6%92%83/feed.atom",
        "/tags/%E6%94%BB%E6%92%83/feed.xml",
    ] {
        let feed = app.get(path).await;
        assert_eq!(feed.status, 200, "{path}");
        assert_feed_is_clean(path, &feed.body);
    }
}
