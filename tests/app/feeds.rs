//! Feeds, conditional GET, the sitemap and robots.txt, and the page metadata readers and
//! search engines use to find them.

use serde_json::json;

use std::time::Duration;

use crate::helpers::{
    TestApp, TestDatabase, as_refs, guide, spawn_app, spawn_configured, story, story_fields, with,
};

const PAST: &str = "2026-10-01T09:00:00+09:00";

/// Public content, plus everything that must never be followed.
async fn app_with_content() -> TestApp {
    let app = spawn_app().await;
    let old = |r: serde_json::Value| with(r, "published_at", json!(PAST));
    app.seed(&[
        old(with(
            guide("public-guide", "公開のガイド", "published"),
            "tags",
            json!(["ルール"]),
        )),
        with(
            guide("draft-guide", "下書きのガイド", "draft"),
            "tags",
            json!(["ルール"]),
        ),
        old(with(
            story("pubxxxxxxxx2", "公開の体験談", "approved"),
            "tags",
            json!(["ルール", "読書"]),
        )),
        // Approved just now: still cooling off.
        with(
            story("cxxxxxxxxxx2", "冷却中の体験談", "approved"),
            "tags",
            json!(["ルール"]),
        ),
        old(story("pendxxxxxxx2", "審査待ちの体験談", "pending")),
        old(story("rejxxxxxxxx2", "不採用の体験談", "rejected")),
        old(story("wthxxxxxxxx2", "取り下げの体験談", "withdrawn")),
    ]);
    app
}

const HIDDEN: [&str; 5] = [
    "下書きのガイド",
    "冷却中の体験談",
    "審査待ちの体験談",
    "不採用の体験談",
    "取り下げの体験談",
];

async fn parse(app: &TestApp, path: &str) -> feed_rs::model::Feed {
    let response = app
        .client
        .get(format!("{}{}", app.address, path))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&body).into_owned();
    for hidden in HIDDEN {
        assert!(!text.contains(hidden), "{path} leaks {hidden}");
    }
    if path.ends_with(".atom") {
        assert!(kind.starts_with("application/atom+xml"), "{kind}");
        assert!(text.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    } else {
        assert!(kind.starts_with("application/rss+xml"), "{kind}");
        assert!(text.contains("<rss version=\"2.0\""));
    }
    feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

#[tokio::test]
async fn every_feed_parses_with_absolute_links_and_intact_japanese() {
    let app = app_with_content().await;
    for (path, titles) in [
        ("/feed", vec!["公開のガイド", "公開の体験談"]),
        ("/guides/feed", vec!["公開のガイド"]),
        ("/stories/feed", vec!["公開の体験談"]),
        (
            "/tags/%E3%83%AB%E3%83%BC%E3%83%AB/feed",
            vec!["公開のガイド", "公開の体験談"],
        ),
        ("/tags/%E8%AA%AD%E6%9B%B8/feed", vec!["公開の体験談"]),
    ] {
        for ext in [".xml", ".atom"] {
            let feed = parse(&app, &format!("{path}{ext}")).await;
            let mut got: Vec<String> = feed
                .entries
                .iter()
                .map(|e| e.title.as_ref().unwrap().content.clone())
                .collect();
            got.sort();
            assert_eq!(got, titles, "{path}{ext}");
            for entry in &feed.entries {
                let link = &entry.links[0].href;
                assert!(link.starts_with(&app.address), "{path}{ext}: {link}");
                assert!(
                    entry.id.starts_with("http"),
                    "stable absolute ids: {}",
                    entry.id
                );
                assert!(entry.published.is_some() || entry.updated.is_some());
                let content = entry
                    .content
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .unwrap_or_default();
                assert!(
                    content.contains("体験談です") || content.contains("本文です"),
                    "{path}{ext}: full content: {content}"
                );
            }
        }
    }
    let story = parse(&app, "/stories/feed.atom").await;
    let content = story.entries[0]
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(
        content.contains("交際4年目・趣味のコミュニティで出会った・継続中"),
        "{content}"
    );
    assert_eq!(
        app.get("/tags/%E3%81%AA%E3%81%84/feed.xml").await.status,
        404
    );
}

#[tokio::test]
async fn a_story_enters_the_feeds_after_its_cooling_off_and_leaves_at_once_when_withdrawn() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::from_secs(4)
    })
    .await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("追われる話")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;
    assert_eq!(
        app.get(&format!("/stories/{public_id}")).await.status,
        200,
        "public at once"
    );
    let feed = app.get("/feed.atom").await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("<feed"), "{}", feed.body);
    assert!(!feed.body.contains("追われる話"), "but not yet in feeds");
    let sitemap = app.get("/sitemap.xml").await;
    assert_eq!(sitemap.status, 200);
    assert!(sitemap.body.contains("<urlset"), "{}", sitemap.body);
    assert!(!sitemap.body.contains(&public_id), "nor in the sitemap");
    // In feeds once the cooling-off has passed (within a few seconds of it, under load).
    let started = std::time::Instant::now();
    loop {
        let feed = app.get("/feed.atom").await;
        assert_eq!(feed.status, 200);
        if feed.body.contains("追われる話") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not in feeds after cooling off"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    submitter.withdraw(&code).await;
    for (path, root) in [
        ("/feed.xml", "<rss"),
        ("/feed.atom", "<feed"),
        ("/stories/feed.atom", "<feed"),
        ("/sitemap.xml", "<urlset"),
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(root), "{path}: {}", page.body);
        assert!(
            !page.body.contains("追われる話") && !page.body.contains(&public_id),
            "{path} still lists the withdrawn story"
        );
    }
    // Its tag has nothing public left: the tag's feed is gone with it.
    assert_eq!(
        app.get("/tags/%E8%AA%AD%E6%9B%B8/feed.xml").await.status,
        404
    );
}

#[tokio::test]
async fn a_conditional_get_answers_304_with_no_body() {
    let app = app_with_content().await;
    for path in [
        "/feed.atom",
        "/feed.xml",
        "/guides/public-guide",
        "/sitemap.xml",
    ] {
        let first = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(first.headers().contains_key("cache-control"), "{path}");
        let again = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert!(
            again.bytes().await.unwrap().is_empty(),
            "{path}: a 304 has no body"
        );
    }
    let feed = app
        .client
        .get(format!("{}/feed.atom", app.address))
        .send()
        .await
        .unwrap();
    let modified = feed.headers()["last-modified"].to_str().unwrap().to_owned();
    let since = app
        .client
        .get(format!("{}/feed.atom", app.address))
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), 304);
    let stale = app
        .client
        .get(format!("{}/feed.atom", app.address))
        .header("if-none-match", "W/\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn the_sitemap_lists_every_public_page_and_nothing_else() {
    let app = app_with_content().await;
    let sitemap = app.get("/sitemap.xml").await;
    assert_eq!(sitemap.status, 200);
    let mut locs: Vec<String> = sitemap
        .body
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap().replace(&app.address, ""))
        .collect();
    locs.sort();
    let mut expected = vec![
        "/",
        "/guides",
        "/stories",
        "/transparency",
        "/guides/public-guide",
        "/stories/pubxxxxxxxx2",
        "/tags/%E3%83%AB%E3%83%BC%E3%83%AB",
        "/tags/%E8%AA%AD%E6%9B%B8",
    ];
    expected.sort();
    assert_eq!(locs, expected);
    assert!(sitemap.body.contains("<lastmod>2026-10-01</lastmod>"));
    for path in &expected {
        assert_eq!(
            app.get(path).await.status,
            200,
            "{path} is listed but not public"
        );
    }
    let robots = app.get("/robots.txt").await;
    for line in [
        "Disallow: /mod",
        "Disallow: /stories/status",
        &format!("Sitemap: {}/sitemap.xml", app.address),
    ] {
        assert!(robots.body.contains(line), "{line}");
    }
}

#[tokio::test]
async fn pages_announce_their_feeds_and_describe_themselves() {
    let app = app_with_content().await;
    let home = app.get("/").await;
    assert_eq!(
        home.attr("link[rel=alternate][type='application/atom+xml']", "href")
            .as_deref(),
        Some("/feed.atom")
    );
    assert_eq!(
        home.attr("meta[property='og:type']", "content").as_deref(),
        Some("website")
    );
    let tag = app.get("/tags/%E3%83%AB%E3%83%BC%E3%83%AB").await;
    let feeds: Vec<String> = {
        let doc = scraper::Html::parse_document(&tag.body);
        let sel = scraper::Selector::parse("link[rel=alternate]").unwrap();
        doc.select(&sel)
            .filter_map(|e| e.value().attr("href").map(str::to_owned))
            .collect()
    };
    assert!(
        feeds.contains(&"/tags/%E3%83%AB%E3%83%BC%E3%83%AB/feed.atom".to_owned()),
        "{feeds:?}"
    );

    let page = app.get("/guides/public-guide").await;
    assert_eq!(
        page.attr("meta[property='og:type']", "content").as_deref(),
        Some("article")
    );
    assert_eq!(
        page.attr("meta[property='og:title']", "content").as_deref(),
        Some("公開のガイド | 縁側")
    );
    assert_eq!(
        page.attr("meta[property='og:url']", "content"),
        Some(format!("{}/guides/public-guide", app.address))
    );
    assert_eq!(
        page.attr("meta[name='twitter:card']", "content").as_deref(),
        Some("summary")
    );
    let ld: serde_json::Value =
        serde_json::from_str(&page.text("script[type='application/ld+json']")).unwrap();
    assert_eq!(ld["@type"], "Article");
    assert_eq!(ld["headline"], "公開のガイド");
    assert_eq!(ld["inLanguage"], "ja");
}

/// A feed reader that sends only If-Modified-Since must not keep a withdrawn story: the date
/// moves forward when the feed changes, removals included, and feeds are never kept by shared
/// caches without asking again.
#[tokio::test]
async fn last_modified_moves_forward_when_a_story_leaves_and_caches_must_ask_again() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::ZERO
    })
    .await;
    app.seed(&[
        story(&crate::helpers::public_id(1), "残る話", "approved"),
        story(&crate::helpers::public_id(2), "去る話", "approved"),
    ]);
    let get = |since: Option<String>| {
        let mut request = app.client.get(format!("{}/feed.atom", app.address));
        if let Some(since) = since {
            request = request.header("if-modified-since", since);
        }
        request.send()
    };
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cache.contains("no-cache") && !cache.contains("max-age"),
        "{cache}"
    );
    let before = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(first.text().await.unwrap().contains("去る話"));
    assert_eq!(
        get(Some(before.clone())).await.unwrap().status(),
        304,
        "unchanged"
    );

    let moderator = app.moderator("sato").await;
    let path = format!("/mod/stories/{}", crate::helpers::public_id(2));
    let rejected = moderator
        .submit(
            &path,
            &format!("{path}/reject"),
            &[("reason", "サイトの趣旨に合わない")],
        )
        .await;
    assert_eq!(rejected.status, 303);

    let after = get(Some(before.clone())).await.unwrap();
    assert_eq!(after.status(), 200, "a removal is a change");
    let modified = after.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let parse = |d: &str| chrono::DateTime::parse_from_rfc2822(d).unwrap();
    assert!(
        parse(&modified) > parse(&before),
        "{modified} after {before}"
    );
    let after = after.text().await.unwrap();
    assert!(!after.contains("去る話"), "{after}");
    assert!(after.contains("残る話"), "the other story stays: {after}");
    assert_eq!(get(Some(modified)).await.unwrap().status(), 304);
}

/// Characters a form refuses (they broke every feed: U+FFFF in one title made them unreadable)
/// are refused where they are typed; rows that already hold them (written before, or by hand)
/// leave every feed and the sitemap well-formed XML.
#[tokio::test]
async fn forbidden_characters_are_refused_at_the_form_and_never_reach_a_feed() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::ZERO
    })
    .await;
    for (field, typed) in [
        ("title", "向きが\u{202E}変わる題"),
        ("rules", "連絡は\u{FFFF}昼だけ"),
        ("tags", "見えない\u{200B}タグ"),
        ("pen_name", "み\u{7}どり"),
    ] {
        let mut fields = story_fields("普通の題");
        for (k, v) in fields.iter_mut() {
            if *k == field {
                *v = typed.to_owned();
            }
        }
        let page = app
            .browser()
            .submit("/stories/new", "/stories/new", &as_refs(&fields))
            .await;
        assert_eq!(page.status, 422, "{field}");
        assert!(
            page.text(".error-summary").contains("文字目"),
            "{field}: {}",
            page.text(".error-summary")
        );
    }
    assert_eq!(
        engawa::models::story::Story::count_all(&mut app.conn()).unwrap(),
        0
    );
    let mut conn = app.conn();
    let bad_guide = format!(
        "{}\n",
        with(
            guide("bad-guide", "題\u{FFFE}", "published"),
            "body",
            json!("本文\u{FDD0}です")
        )
    );
    assert!(
        engawa::import::import_str(&mut conn, &bad_guide).is_err(),
        "a guide too"
    );

    app.seed(&[
        story(&crate::helpers::public_id(1), "古い行の話", "approved"),
        guide("old-guide", "古いガイド", "published"),
    ]);
    // Rows written before the forms refused them.
    for sql in [
        "UPDATE stories SET title = title || char(65535) || char(7), body_html = body_html || char(65534), excerpt = excerpt || char(1)",
        "UPDATE guides SET title = title || char(65535), summary = summary || char(8)",
        "UPDATE tags SET name = name || char(65535)",
    ] {
        let sql = if app.db.is_postgres() {
            // PostgreSQL text holds no NUL and chr() takes code points; U+FFFF is valid UTF-8.
            sql.replace("char(", "chr(")
        } else {
            sql.to_owned()
        };
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn).unwrap();
    }
    drop(conn);
    app.seed(&[story(
        &crate::helpers::public_id(2),
        "新しい行の話",
        "approved",
    )]);
    for path in crate::helpers::SITE_FEEDS
        .into_iter()
        .chain(["/sitemap.xml"])
    {
        let body = app.shown(path).await.body;
        let bad = body.chars().find(|&c| {
            !(matches!(c, '\t' | '\n' | '\r')
                || matches!(u32::from(c), 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF))
        });
        assert_eq!(bad, None, "{path} holds a character XML forbids");
        if path != "/sitemap.xml" {
            let feed =
                feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(!feed.entries.is_empty(), "{path}");
        }
    }
    assert!(
        app.get("/feed.atom").await.body.contains("古い行の話"),
        "the old row is still listed"
    );
}
