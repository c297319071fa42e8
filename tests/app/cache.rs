//! Cached pages are never older than the content they show.

use std::io::Read;
use std::time::Duration;

use diesel::prelude::*;

use crate::helpers::{as_refs, results_within, spawn_app, story_fields, urlencode};

#[tokio::test]
async fn pages_are_cached_until_content_changes_and_a_withdrawn_story_leaves_every_one_at_once() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("キャッシュされる話")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    // A second story like it: its page lists the first as related.
    let neighbour_code = app
        .browser()
        .send_story(&as_refs(&story_fields("隣の話")))
        .await;
    let neighbour = app.story_by_code(&neighbour_code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;
    moderator.approve(&neighbour).await;
    assert_eq!(
        results_within(&app.reader, "キャッシュされる話", 1, Duration::from_secs(5)).await,
        vec!["キャッシュされる話"]
    );
    // The neighbour is in the index too, so that search still lists it after the withdrawal.
    let both = results_within(&app.reader, "家族の予定", 2, Duration::from_secs(5)).await;
    assert!(
        both.iter().any(|t| t == "隣の話"),
        "search for 家族の予定 finds {both:?}, not the neighbour"
    );

    let pages = [
        "/".to_owned(),
        "/stories".to_owned(),
        "/stories?how_met=hobby".to_owned(),
        format!("/stories/{public_id}"),
        "/tags/%E8%AA%AD%E6%9B%B8".to_owned(),
        format!("/search?q={}", urlencode("家族の予定")),
        format!("/stories/{neighbour}"),
    ];
    for path in &pages {
        assert!(
            app.get(path).await.body.contains("キャッシュされる話"),
            "{path}"
        );
    }

    // A change made behind the app's back (no outbox row) is not seen: the pages come from the cache.
    {
        use engawa::db::schema::stories;
        diesel::update(stories::table.filter(stories::public_id.eq(&public_id)))
            .set(stories::title.eq("裏で書き換えた題"))
            .execute(&mut app.conn())
            .unwrap();
    }
    assert!(
        app.get(&format!("/stories/{public_id}"))
            .await
            .body
            .contains("キャッシュされる話"),
        "served from the cache"
    );
    // Mail (here a subscription's confirmation) changes no public page: still the cache.
    let subscribed = app.browser().subscribe("reader@example.jp").await;
    assert_eq!(subscribed.status, 303, "{}", subscribed.body);
    for path in [format!("/stories/{public_id}"), "/stories".to_owned()] {
        let page = app.get(&path).await;
        assert!(
            page.body.contains("キャッシュされる話") && !page.body.contains("裏で書き換えた題"),
            "{path}: queued mail emptied the cache"
        );
    }

    // Withdrawal writes its outbox row: every cached page is stale at once, including search
    // results and related stories, which the index would still offer for a moment.
    submitter.withdraw(&code).await;
    let withdrawn_page = format!("/stories/{public_id}");
    let neighbour_page = format!("/stories/{neighbour}");
    for path in &pages {
        let page = app.get(path).await;
        assert!(
            !page.body.contains("キャッシュされる話") && !page.body.contains("裏で書き換えた題"),
            "{path} still shows the withdrawn story"
        );
        if *path == withdrawn_page {
            assert_eq!(
                page.status, 404,
                "{path} after the withdrawal: {}",
                page.body
            );
            continue;
        }
        // Every other page still answers, and still shows the neighbour: it was re-rendered,
        // not replaced by an error page.
        assert_eq!(
            page.status, 200,
            "{path} after the withdrawal: {}",
            page.body
        );
        if *path == neighbour_page {
            assert_eq!(page.text("h1"), "隣の話", "{path} is the neighbour's page");
        } else {
            assert!(
                page.card_titles().iter().any(|t| t == "隣の話"),
                "{path} no longer lists the neighbour: {:?}",
                page.card_titles()
            );
        }
    }
    assert_eq!(app.get(&withdrawn_page).await.status, 404);
}

#[tokio::test]
async fn readers_get_no_cookie_and_cached_pages_answer_head_gzip_and_revalidation() {
    let app = spawn_app().await;
    // The new index is ready once search answers 200 (it says 準備中 before).
    results_within(&app.reader, "家族", 0, Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    for path in ["/", "/stories", "/guides", "/search?q=%E5%AE%B6%E6%97%8F"] {
        for _ in 0..2 {
            let res = client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert!(
                res.headers().get("set-cookie").is_none(),
                "{path} marks readers"
            );
        }
    }
    // A form needs a CSRF id, so its page sets the cookie.
    let form = client
        .get(format!("{}/stories/new", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        form.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("engawa_csrf=")),
        "the submission form sets its CSRF cookie"
    );

    let plain = app.get("/stories").await;
    let etag = plain.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(plain.headers["vary"], "accept-encoding");

    let head = client
        .head(format!("{}/stories", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    assert!(head.bytes().await.unwrap().is_empty());

    let zipped = client
        .get(format!("{}/stories", app.address))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["etag"].to_str().unwrap(), etag);
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&zipped.bytes().await.unwrap()[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);

    let revalidated = client
        .get(format!("{}/stories", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(revalidated.bytes().await.unwrap().is_empty());
}
