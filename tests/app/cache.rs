//! Cached pages are never older than the content they show.

use diesel::prelude::*;

use crate::helpers::{as_refs, spawn_app, story_fields};

#[tokio::test]
async fn pages_are_cached_until_content_changes_and_a_withdrawn_story_leaves_every_one_at_once() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("キャッシュされる話")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;

    let pages = [
        "/".to_owned(),
        "/stories".to_owned(),
        "/stories?how_met=hobby".to_owned(),
        format!("/stories/{public_id}"),
        "/tags/%E8%AA%AD%E6%9B%B8".to_owned(),
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

    // Withdrawal writes its outbox row: every cached page is stale at once.
    let done = submitter
        .submit(
            "/stories/status",
            "/stories/status/withdraw",
            &[("code", &code), ("confirm", "yes")],
        )
        .await;
    assert_eq!(done.status, 303);
    for path in &pages {
        let page = app.get(path).await;
        assert!(
            !page.body.contains("キャッシュされる話") && !page.body.contains("裏で書き換えた題"),
            "{path} still shows the withdrawn story"
        );
    }
    assert_eq!(app.get(&format!("/stories/{public_id}")).await.status, 404);
    assert_eq!(app.get("/tags/%E8%AA%AD%E6%9B%B8").await.status, 404);
}
