//! `engawa import export.xml`: a WordPress export (WXR) becomes guides and stories.

use crate::helpers::{spawn_app, succeeded_saying};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/app/fixtures/wordpress.xml"
);

#[tokio::test]
async fn a_wordpress_export_imports_posts_as_guides_and_a_category_as_stories() {
    let app = spawn_app().await;
    let out = app.cli(&["import", FIXTURE, "--stories-category", "体験談"]);
    let stdout = succeeded_saying(&out, "imported 3 guide(s) and 1 story(ies)");
    assert!(stdout.contains("1 comment(s) ignored"), "{stdout}");
    assert!(stdout.contains("skipped 3:"), "{stdout}");
    assert!(
        stdout.contains("運営者情報: 固定ページは取り込みません"),
        "{stdout}"
    );
    assert!(
        stdout.contains("photo: attachment は取り込みません"),
        "{stdout}"
    );
    assert!(
        stdout.contains("短い体験談: 体験談として本文が短すぎる"),
        "{stdout}"
    );

    let guide = app.get("/guides/futari-no-rules").await;
    assert_eq!(guide.status, 200);
    assert_eq!(guide.text("h1"), "ふたりのルール & その見直し");
    assert_eq!(guide.text(".prose h2"), "ルールを決める");
    assert!(guide.text(".prose").contains("連絡は平日の昼だけ"));
    assert_eq!(
        guide.texts(".prose li"),
        vec!["家族を優先する", "贈り物はしない"]
    );
    assert_eq!(guide.text(".lead"), "長く続けるためのルールの決め方。");
    assert_eq!(guide.text("time"), "2023年5月1日");
    for absent in [
        "<script",
        "alert(",
        "wp:paragraph",
        "wp-block",
        "このコメントは取り込まれない",
    ] {
        let body = guide
            .body
            .replace("<script type=\"application/ld+json\">", "");
        assert!(!body.contains(absent), "{absent} reached the page");
    }
    assert_eq!(guide.texts(".tags a"), vec!["#ルール", "#長続き"]);

    let old = app.get("/2023/05/futari-no-rules/").await;
    assert_eq!(old.status, 301);
    assert_eq!(old.location.as_deref(), Some("/guides/futari-no-rules"));
    let without_slash = app.get("/2023/05/futari-no-rules").await;
    assert_eq!(
        without_slash.location.as_deref(),
        Some("/guides/futari-no-rules")
    );

    // A Japanese post name gets a slug from the title; its old address still leads there.
    let moved = app.get("/%E3%81%AF%E3%81%98%E3%82%81%E3%81%AB/").await;
    assert_eq!(moved.status, 301, "{}", moved.body);
    let classic = app.get(moved.location.as_deref().unwrap()).await;
    assert_eq!(
        classic.texts(".prose p"),
        vec!["classic editor の段落です。", "二つ目の段落です。"]
    );

    assert_eq!(
        app.get("/guides/draft-post").await.status,
        404,
        "a draft stays a draft"
    );
    let stories = app.get("/stories").await;
    assert_eq!(stories.card_titles(), vec!["職場の同期と七年"]);

    // The editors can keep working on an imported guide: its text is Markdown.
    let editor_password = app.add_staff("ed@engawa.test", "ed", engawa::domain::Role::Editor);
    let editor = app.browser();
    editor.login("ed@engawa.test", &editor_password).await;
    let id = app.guide_id("futari-no-rules");
    let form = editor.get(&format!("/mod/guides/{id}/edit")).await;
    assert_eq!(
        form.attr("#category", "value").as_deref(),
        Some("ガイド"),
        "the category came along"
    );
    assert!(form.text("#body").contains("## "), "{}", form.text("#body"));
}

#[tokio::test]
async fn a_malformed_export_names_the_problem_and_imports_nothing() {
    let app = spawn_app().await;
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let cut = &text[..text.find("<title>下書きの記事").unwrap()];
    let file = app.db.data_dir().join("broken.xml");
    std::fs::write(&file, format!("{cut}<title>壊れた</titel>")).unwrap();
    let out = app.cli(&["import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not a readable WordPress export: line"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(app.get("/guides/futari-no-rules").await.status, 404);
    crate::helpers::assert_no_guides(&app).await;
}

/// A story imported from WordPress comes without its facts: readers see none (no placeholder
/// 「交際1年目・その他…」 on the page, the cards, the feed or in search, and no filter counts it),
/// moderators see 情報未設定 until one of them sets the facts; an edit that leaves them blank
/// keeps them unset.
#[tokio::test]
async fn an_imported_story_without_facts_shows_none_until_a_moderator_sets_them() {
    let app = crate::helpers::spawn_configured(crate::helpers::TestDatabase::new(), false, |s| {
        s.feed_delay = std::time::Duration::ZERO;
    })
    .await;
    succeeded_saying(
        &app.cli(&["import", FIXTURE, "--stories-category", "体験談"]),
        "1 story(ies)",
    );
    let story = {
        use diesel::prelude::*;
        use engawa::db::schema::stories;
        stories::table
            .select(stories::public_id)
            .first::<String>(&mut app.conn())
            .unwrap()
    };
    let path = format!("/stories/{story}");
    let placeholder = ["交際1年目", "その他のきっかけ", "交際期間0か月"];
    let reader = app.browser();
    let page = reader.shown(&path).await;
    assert_eq!(page.text("h1"), "職場の同期と七年");
    assert!(
        page.texts(".story-facts .facts").is_empty(),
        "no facts line"
    );
    let list = reader.shown("/stories").await;
    assert!(
        list.texts(".card .facts").is_empty(),
        "no facts on the card"
    );
    let feed = reader.shown("/stories/feed.atom").await;
    for text in [&page.body, &list.body, &feed.body] {
        for p in placeholder {
            assert!(!text.contains(p), "a placeholder shown as a fact: {p}");
        }
    }
    let hits = crate::helpers::results_within(
        &reader,
        "職場の同期と七年",
        1,
        std::time::Duration::from_secs(15),
    )
    .await;
    assert_eq!(hits, vec!["職場の同期と七年"]);
    let search = reader.shown("/search?q=%E5%90%8C%E6%9C%9F").await;
    assert!(
        search.texts("ol.results .facts").is_empty(),
        "no facts in search"
    );
    assert!(
        reader
            .shown("/stories?how_met=other")
            .await
            .card_titles()
            .is_empty(),
        "placeholders match no filter"
    );
    assert!(
        reader
            .shown("/stories?length=under-1y")
            .await
            .card_titles()
            .is_empty()
    );

    let moderator = app.moderator("sato").await;
    let queue = moderator.shown("/mod").await;
    assert_eq!(queue.text("#untold-heading"), "情報未設定の体験談（1件）");
    assert_eq!(queue.texts("ul.untold a"), vec!["職場の同期と七年"]);
    let panel = moderator.shown(&format!("/mod{path}")).await;
    assert!(
        panel.text(".story-facts .facts").starts_with("情報未設定"),
        "{}",
        panel.text(".story-facts .facts")
    );
    for field in ["#length_years", "#length_months"] {
        assert_eq!(
            panel.attr(field, "value").as_deref(),
            Some(""),
            "{field} blank, not a placeholder"
        );
    }

    // An edit that leaves the facts blank keeps them unset.
    let edited = moderator
        .redact(&story, &[("title", "職場の同期と七年目")])
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    assert!(
        moderator
            .shown(&format!("/mod{path}"))
            .await
            .text(".story-facts .facts")
            .starts_with("情報未設定")
    );
    assert!(
        reader
            .shown(&path)
            .await
            .texts(".story-facts .facts")
            .is_empty()
    );

    // Setting them shows them everywhere, and each is an audit row.
    let set = moderator
        .redact(
            &story,
            &[
                ("length_years", "7"),
                ("length_months", "0"),
                ("how_met", "workplace"),
                ("continuing", "yes"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let facts = "交際8年目・職場で出会った・継続中";
    assert_eq!(reader.shown(&path).await.text(".story-facts .facts"), facts);
    assert_eq!(
        moderator
            .shown(&format!("/mod{path}"))
            .await
            .text(".story-facts .facts"),
        facts
    );
    assert_eq!(
        reader
            .shown("/stories?how_met=workplace")
            .await
            .card_titles(),
        vec!["職場の同期と七年目"]
    );
    assert!(
        moderator
            .shown("/mod")
            .await
            .texts("#untold-heading")
            .is_empty(),
        "none left to set"
    );
    let fields: Vec<String> = app
        .audit_rows(&story)
        .into_iter()
        .filter_map(|r| r.field)
        .collect();
    for f in ["length", "how_met", "continuing", "title"] {
        assert!(fields.contains(&f.to_owned()), "{f}: {fields:?}");
    }
}
