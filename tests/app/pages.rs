use serde_json::json;

use crate::helpers::{
    TestDatabase, guide, public_id, spawn_app, spawn_app_with, spawn_configured, story, with,
};

#[tokio::test]
async fn the_demo_site_shows_guides_and_stories_in_japanese() {
    let app = spawn_app_with(TestDatabase::new(), true).await;

    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert_eq!(home.attr("html", "lang").as_deref(), Some("ja"));
    assert!(home.text("h1").contains("縁側"));
    assert!(home.texts("#latest-guides ~ .cards .card-title").len() <= 3);
    assert!(!home.texts(".guide-card .card-title").is_empty());
    assert!(home.texts(".story-card .card-title").len() >= 6);
    let browse = home.texts(".browse a");
    assert!(
        browse.iter().any(|l| l.starts_with("3年以上")),
        "{browse:?}"
    );
    assert!(
        browse.iter().any(|l| l.starts_with("5年以上")),
        "{browse:?}"
    );

    let guides = app.get("/guides").await;
    assert_eq!(guides.status, 200);
    assert!(guides.card_titles().len() >= 3);

    let stories = app.get("/stories").await;
    assert_eq!(stories.status, 200);
    assert!(stories.text(".result-count").starts_with("13件"));
}

#[tokio::test]
async fn demo_content_never_touches_a_database_that_has_content() {
    let db = TestDatabase::new();
    let app = spawn_app_with(db, false).await;
    app.seed(&[guide("ours", "私たちのガイド", "published")]);
    // A second node on the same database, with its own data dir (each node has its own index).
    let other = tempfile::tempdir().unwrap();
    let app = spawn_configured(app.db, true, |s| s.data_dir = other.path().to_owned()).await;
    let guides = app.get("/guides").await;
    assert_eq!(guides.card_titles(), vec!["私たちのガイド"]);
    assert_eq!(
        app.get("/stories").await.text(".result-count"),
        "0件の体験談"
    );
}

#[tokio::test]
async fn a_guide_page_has_its_table_of_contents_and_metadata() {
    let app = spawn_app().await;
    app.seed(&[with(
        guide("rules-that-last", "続くルールの決め方", "published"),
        "body",
        json!("# 最初に\n\n本文\n\n### 小見出し\n\n- 一つ目\n- 二つ目\n\n## 見直し\n\n本文"),
    )]);

    let page = app.get("/guides/rules-that-last").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), "続くルールの決め方");
    assert_eq!(page.text("title"), "続くルールの決め方 | 縁側");
    assert_eq!(
        page.attr("meta[name=description]", "content").as_deref(),
        Some("続くルールの決め方の概要")
    );
    assert_eq!(
        page.attr("link[rel=canonical]", "href"),
        Some(format!("{}/guides/rules-that-last", app.address))
    );
    assert_eq!(page.texts(".toc > ol > li > a"), vec!["最初に", "見直し"]);
    assert_eq!(page.texts(".toc > ol > li > ul > li"), vec!["小見出し"]);
    assert_eq!(page.attr(".toc li a", "href").as_deref(), Some("#sec-1"));
    assert_eq!(page.text(".prose h2#sec-1"), "最初に");
    assert_eq!(page.texts(".prose li"), vec!["一つ目", "二つ目"]);
    assert_eq!(page.texts(".tags a"), vec!["#ルール"]);
}

#[tokio::test]
async fn a_story_page_shows_its_facts_above_the_text() {
    let app = spawn_app().await;
    app.seed(&[json!({
        "type": "story",
        "public_id": "abcdefghjkmn",
        "title": "職場で出会って四年目",
        "body": crate::helpers::story_body("職場"),
        "length_months": 40,
        "how_met": "workplace",
        "continuing": true,
        "rules": ["連絡は平日の昼だけ", "家族の予定を最優先"],
        "tags": ["職場", "長続き"],
        "published_at": "2026-11-26T10:00:00+09:00",
    })]);

    let page = app.shown("/stories/abcdefghjkmn").await;
    assert_eq!(page.text("h1"), "職場で出会って四年目");
    assert_eq!(
        page.text(".story-facts .facts"),
        "交際4年目・職場で出会った・継続中"
    );
    assert!(
        page.texts(".story-facts dd")
            .contains(&"3年4か月".to_owned())
    );
    assert!(page.texts(".story-facts dd").contains(&"匿名".to_owned()));
    assert!(
        page.texts(".story-facts dd")
            .contains(&"2026年11月26日".to_owned())
    );
    assert_eq!(
        page.texts(".rules li"),
        vec!["連絡は平日の昼だけ", "家族の予定を最優先"]
    );
    assert!(page.text(".prose").starts_with("職場についての体験談です"));
    assert!(
        page.attr("meta[name=description]", "content")
            .unwrap()
            .starts_with("職場についての")
    );
}

#[tokio::test]
async fn stories_can_be_filtered_by_length_how_they_met_and_tag() {
    let app = spawn_app().await;
    let s = |id: &str, title: &str, months: i64, how: &str, tags: &[&str]| {
        let r = with(story(id, title, "approved"), "length_months", json!(months));
        let r = with(r, "how_met", json!(how));
        with(r, "tags", json!(tags))
    };
    app.seed(&[
        s("aaaaaaaaaaa2", "半年の話", 6, "app", &["アプリ"]),
        s("aaaaaaaaaaa3", "二年の話", 24, "workplace", &["職場"]),
        s("aaaaaaaaaaa4", "四年の話", 48, "hobby", &["読書", "ルール"]),
        s(
            "aaaaaaaaaaa5",
            "七年の話",
            84,
            "workplace",
            &["職場", "ルール"],
        ),
    ]);

    let titles = |p: crate::helpers::Page| {
        assert_eq!(p.status, 200, "{}", p.body);
        let mut t = p.card_titles();
        t.sort();
        t
    };
    assert_eq!(
        titles(app.get("/stories?length=under-1y").await),
        vec!["半年の話"]
    );
    assert_eq!(
        titles(app.get("/stories?length=1-3y").await),
        vec!["二年の話"]
    );
    assert_eq!(
        titles(app.get("/stories?length=3y-plus").await),
        vec!["七年の話", "四年の話"]
    );
    assert_eq!(
        titles(app.get("/stories?length=5y-plus").await),
        vec!["七年の話"]
    );
    assert_eq!(
        titles(app.get("/stories?how_met=workplace").await),
        vec!["七年の話", "二年の話"]
    );
    let tag = "%E3%83%AB%E3%83%BC%E3%83%AB"; // ルール
    assert_eq!(
        titles(app.get(&format!("/stories?tag={tag}")).await),
        vec!["七年の話", "四年の話"]
    );
    assert_eq!(
        titles(
            app.get(&format!(
                "/stories?tag={tag}&how_met=workplace&length=5y-plus"
            ))
            .await
        ),
        vec!["七年の話"]
    );
    // Full-width input reaches the same tag.
    assert_eq!(
        titles(app.get("/stories?tag=%EF%BE%99%EF%BD%B0%EF%BE%99").await).len(),
        2
    );
    // An empty select means no filter.
    assert_eq!(
        titles(app.get("/stories?length=&how_met=&tag=").await).len(),
        4
    );

    let none = app
        .get("/stories?tag=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84")
        .await;
    assert_eq!(none.status, 200);
    assert!(
        none.text(".empty")
            .contains("条件に合う体験談はまだありません")
    );

    let filtered = app.get("/stories?how_met=app").await;
    assert_eq!(filtered.text("h1"), "体験談（出会い：マッチングアプリ）");
    assert_eq!(
        filtered
            .attr("#filter-how-met option[selected]", "value")
            .as_deref(),
        Some("app")
    );
}

#[tokio::test]
async fn bad_filters_get_a_japanese_400_and_pages_past_the_end_a_404() {
    let app = spawn_app().await;
    app.seed(&[story("aaaaaaaaaaa2", "ひとつだけの話", "approved")]);

    let bad = app.get("/stories?length=forever").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.text("main")
            .contains("交際期間の区分「forever」は使えません")
    );
    let bad_page = app.get("/stories?page=two").await;
    assert_eq!(bad_page.status, 400);
    assert!(
        bad_page
            .text("main")
            .contains("ページ番号が正しくありません")
    );
    assert_eq!(app.get("/stories?page=0").await.status, 400);
    assert_eq!(app.get("/stories?page=2").await.status, 404);
    assert_eq!(app.get("/guides?page=2").await.status, 404);
}

#[tokio::test]
async fn listings_paginate_and_keep_their_filters() {
    let app = spawn_app().await;
    let records: Vec<_> = (0..25)
        .map(|i| {
            let r = story(&public_id(i), &format!("話{i:02}"), "approved");
            let r = with(
                r,
                "published_at",
                json!(format!("2026-10-{:02}T12:00:00+09:00", i + 1)),
            );
            with(
                r,
                "how_met",
                json!(if i % 5 == 0 { "friends" } else { "hobby" }),
            )
        })
        .collect();
    app.seed(&records);

    let first = app.get("/stories").await;
    assert_eq!(first.status, 200, "/stories: {}", first.body);
    assert_eq!(first.card_titles().len(), 20);
    assert_eq!(first.card_titles()[0], "話24", "newest first");
    assert_eq!(first.text(".page-status"), "1 / 2 ページ");
    assert_eq!(
        first.attr("a[rel=next]", "href").as_deref(),
        Some("/stories?page=2")
    );

    let second = app.get("/stories?page=2").await;
    assert_eq!(second.status, 200, "/stories?page=2: {}", second.body);
    assert_eq!(second.card_titles().len(), 5);
    assert_eq!(second.card_titles()[4], "話00");
    assert_eq!(
        second.attr("a[rel=prev]", "href").as_deref(),
        Some("/stories")
    );
    assert_eq!(
        second.attr("link[rel=canonical]", "href"),
        Some(format!("{}/stories?page=2", app.address))
    );

    let hobby = app.get("/stories?how_met=hobby").await;
    assert_eq!(hobby.status, 200, "/stories?how_met=hobby: {}", hobby.body);
    assert_eq!(hobby.text(".result-count"), "20件の体験談");
    assert_eq!(hobby.card_titles().len(), 20, "all 20 on the one page");
    assert!(
        hobby.attr("a[rel=next]", "href").is_none(),
        "20 fit on one page"
    );
    let friends = app.shown("/stories?how_met=friends").await;
    assert_eq!(friends.text(".result-count"), "5件の体験談");
}

#[tokio::test]
async fn a_tag_page_lists_the_guides_and_stories_with_that_tag() {
    let app = spawn_app().await;
    app.seed(&[
        with(
            guide("on-rules", "ルールのガイド", "published"),
            "tags",
            json!(["ルール"]),
        ),
        with(
            guide("other", "別のガイド", "published"),
            "tags",
            json!(["別"]),
        ),
        with(
            story("aaaaaaaaaaa2", "ルールの話", "approved"),
            "tags",
            json!(["ルール"]),
        ),
        with(
            story("aaaaaaaaaaa3", "別の話", "approved"),
            "tags",
            json!(["別"]),
        ),
    ]);

    let page = app.get("/tags/%E3%83%AB%E3%83%BC%E3%83%AB").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), "タグ「ルール」");
    assert_eq!(page.card_titles(), vec!["ルールのガイド", "ルールの話"]);
    assert_eq!(app.get("/tags/%E3%81%AA%E3%81%84").await.status, 404);
}

#[tokio::test]
async fn an_unknown_path_gets_a_japanese_404_page() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/guides/missing",
        "/stories/abcdefghjkmn",
        "/stories/1",
        "/guides/..%2F..%2Fetc",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.text("h1"), "ページが見つかりません", "{path}");
        assert_eq!(
            page.attr("meta[name=robots]", "content").as_deref(),
            Some("noindex")
        );
    }
}

#[tokio::test]
async fn every_page_has_a_title_description_and_canonical_link() {
    let app = spawn_app().await;
    app.seed(&[
        guide("g", "ガイド", "published"),
        story("aaaaaaaaaaa2", "体験", "approved"),
    ]);
    for path in [
        "/",
        "/guides",
        "/guides/g",
        "/stories",
        "/stories/aaaaaaaaaaa2",
        "/tags/%E3%83%AB%E3%83%BC%E3%83%AB",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.text("title").ends_with("縁側") || page.text("title").starts_with("縁側"),
            "{path}"
        );
        assert!(
            !page
                .attr("meta[name=description]", "content")
                .unwrap_or_default()
                .is_empty(),
            "{path}"
        );
        assert!(
            page.attr("link[rel=canonical]", "href")
                .unwrap_or_default()
                .starts_with(&app.address),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_stylesheet_is_served_under_its_content_hash_for_a_year() {
    let app = spawn_app().await;
    let href = app
        .get("/")
        .await
        .attr("link[rel=stylesheet]", "href")
        .expect("the page links its stylesheet");
    assert!(
        href.starts_with("/static/site.") && href.ends_with(".css") && href.len() > 20,
        "{href}"
    );
    let get = |path: String, gzip: bool| {
        let mut request = app.client.get(format!("{}{path}", app.address));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        request.send()
    };
    let hashed = get(href.clone(), false).await.unwrap();
    assert_eq!(hashed.status(), 200);
    assert!(
        hashed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let cache = hashed.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cache.contains("max-age=31536000") && cache.contains("immutable"),
        "{cache}"
    );
    let css = hashed.text().await.unwrap();
    assert!(css.contains("body"), "the stylesheet itself");

    let zipped = get(href, true).await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&zipped.bytes().await.unwrap()[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, css);

    // The plain name still answers, for old links, but only for an hour.
    let plain = get("/static/site.css".to_owned(), false).await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(
        plain.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=3600")
    );
    assert_eq!(plain.text().await.unwrap(), css);
    assert_eq!(
        get("/static/site.0000.css".to_owned(), false)
            .await
            .unwrap()
            .status(),
        404
    );
}
