//! Only published guides and approved stories are ever visible to the public.

use serde_json::json;

use crate::helpers::{guide, spawn_app, story, with};

const HIDDEN_TAG: &str = "/tags/%E7%A7%98%E5%AF%86"; // 秘密

#[tokio::test]
async fn a_draft_guide_is_not_reachable_by_url_listing_or_tag_page() {
    let app = spawn_app().await;
    app.seed(&[
        with(
            guide("draft-guide", "下書きのガイド", "draft"),
            "tags",
            json!(["秘密"]),
        ),
        guide("public-guide", "公開のガイド", "published"),
    ]);

    assert_eq!(app.get("/guides/draft-guide").await.status, 404);
    assert_eq!(app.get("/guides/public-guide").await.status, 200);
    // The published guide carries ルール, so its tag page answers and lists it.
    for path in ["/", "/guides", "/tags/%E3%83%AB%E3%83%BC%E3%83%AB"] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            page.card_titles().contains(&"公開のガイド".to_owned()),
            "{path} does not list the published guide: {:?}",
            page.card_titles()
        );
        assert!(
            !page.body.contains("下書きのガイド"),
            "{path} shows the draft"
        );
        assert!(!page.body.contains("draft-guide"), "{path} links the draft");
    }
    assert_eq!(
        app.get(HIDDEN_TAG).await.status,
        404,
        "a tag only drafts use stays hidden"
    );
}

#[tokio::test]
async fn pending_rejected_and_withdrawn_stories_are_not_reachable_anywhere() {
    let app = spawn_app().await;
    let hidden = [
        ("pendxxxxxxx2", "審査待ちの話", "pending"),
        ("rejectedxxx2", "不採用の話", "rejected"),
        ("wthdrawnxxx2", "取り下げの話", "withdrawn"),
    ];
    let mut records: Vec<_> = hidden
        .iter()
        .map(|(id, title, status)| {
            with(story(id, title, status), "tags", json!(["ルール", "秘密"]))
        })
        .collect();
    records.push(story("apprvdxxxxx2", "公開の話", "approved"));
    app.seed(&records);

    for (id, title, _) in hidden {
        assert_eq!(
            app.get(&format!("/stories/{id}")).await.status,
            404,
            "{title}"
        );
    }
    assert_eq!(app.get("/stories/apprvdxxxxx2").await.status, 200);
    for path in [
        "/",
        "/stories",
        "/stories?length=3y-plus",
        "/stories?how_met=hobby",
        "/stories?tag=%E3%83%AB%E3%83%BC%E3%83%AB",
        "/tags/%E3%83%AB%E3%83%BC%E3%83%AB",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        for (id, title, _) in hidden {
            assert!(!page.body.contains(title), "{path} shows {title}");
            assert!(!page.body.contains(id), "{path} links {title}");
        }
        assert!(
            page.body.contains("公開の話"),
            "{path} lost the approved story"
        );
    }
    let stories = app.get("/stories").await;
    assert_eq!(stories.status, 200, "/stories: {}", stories.body);
    assert_eq!(stories.text(".result-count"), "1件の体験談");
    assert_eq!(app.get(HIDDEN_TAG).await.status, 404);
    let home = app.get("/").await;
    assert_eq!(home.status, 200, "/: {}", home.body);
    assert!(
        home.texts(".browse a").contains(&"3年以上1件".to_owned()),
        "counts only public stories"
    );
}
