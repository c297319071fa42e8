//! Editors write guides: preview, drafts, scheduling, publishing, revisions, conflicts, slugs.

use std::time::{Duration, Instant};

use chrono::TimeZone;
use engawa::domain::Role;

use crate::helpers::{Browser, Page, TestApp, as_refs, spawn_app, story_fields};

async fn editor(app: &TestApp, name: &str) -> Browser {
    app.signed_in(name, Role::Editor).await
}

fn fields<'a>(
    title: &'a str,
    slug: &'a str,
    body: &'a str,
    action: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("title", title),
        ("slug", slug),
        ("summary", "編集部のガイドです。"),
        ("body", body),
        ("tags", "ルール、長続き"),
        ("category", "はじめに"),
        ("action", action),
    ]
}

/// Polls the public `path` until it answers `status` or `limit` passes; the last page read.
async fn wait_status(app: &TestApp, path: &str, status: u16, limit: Duration) -> Page {
    let started = Instant::now();
    loop {
        let page = app.get(path).await;
        if page.status == status || started.elapsed() > limit {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the public guide list and asserts that it answers and shows no guide, saying so.
async fn assert_no_public_guide(app: &TestApp, when: &str) {
    let list = app.get("/guides").await;
    assert_eq!(list.status, 200, "/guides {when}: {}", list.body);
    assert_eq!(
        list.text("h1"),
        "ガイド",
        "/guides {when} is not the guide list"
    );
    assert_eq!(
        list.text("p.empty"),
        "まだガイドはありません。",
        "/guides {when} does not say it has no guide"
    );
    assert!(
        list.card_titles().is_empty(),
        "/guides {when} lists {:?}",
        list.card_titles()
    );
}

#[tokio::test]
async fn a_guide_goes_from_preview_to_draft_to_scheduled_to_published_to_unpublished() {
    let app = spawn_app().await;
    let ed = editor(&app, "kato").await;
    let body =
        "## はじめに\n\n長く続けるための<b>ルール</b>について。\n\n## 見直し\n\n季節ごとに。";

    let preview = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields("続けるためのルール", "lasting-rules", body, "preview"),
        )
        .await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.text(".preview .prose h2#sec-1"), "はじめに");
    assert!(
        !preview.body.contains("<b>ルール</b>"),
        "the preview is the sanitized public rendering"
    );
    assert_eq!(
        preview.attr("#title", "value").as_deref(),
        Some("続けるためのルール"),
        "the text stays in the form"
    );
    let list = ed.get("/mod/guides").await;
    assert_eq!(
        list.status, 200,
        "/mod/guides after the preview: {}",
        list.body
    );
    assert_eq!(
        list.text("h1"),
        "ガイド",
        "/mod/guides is not the editors' list"
    );
    assert_eq!(
        list.text("p.empty"),
        "まだガイドはありません。",
        "a preview saves nothing"
    );
    assert!(
        list.texts("table.guides td a").is_empty(),
        "a preview saves nothing"
    );

    let saved = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields("続けるためのルール", "lasting-rules", body, "save"),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = ed.get("/mod/guides").await;
    assert_eq!(list.texts("table.guides td.status"), vec!["下書き"]);
    assert_eq!(
        app.get("/guides/lasting-rules").await.status,
        404,
        "a draft is not public"
    );

    // Schedule ten seconds ahead, in the editors' time zone: far enough that the checks below
    // run before it even on a busy machine (a time already past is refused). The form takes
    // whole seconds, so the time falls up to a second earlier.
    let id = app.guide_id("lasting-rules");
    let due = Instant::now() + Duration::from_secs(9);
    let at = chrono_tz::Asia::Tokyo
        .from_utc_datetime(&(chrono::Utc::now().naive_utc() + chrono::Duration::seconds(10)))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let edit = format!("/mod/guides/{id}/edit");
    let mut schedule = fields("続けるためのルール", "lasting-rules", body, "schedule");
    schedule.push(("publish_at", &at));
    let scheduled = ed.submit_guide(&edit, &edit, &schedule).await;
    assert_eq!(scheduled.status, 303, "{}", scheduled.body);
    assert_eq!(
        ed.get("/mod/guides").await.texts("table.guides td.status"),
        vec!["公開予約"]
    );
    let early = app.get("/guides/lasting-rules").await;
    assert!(
        Instant::now() < due,
        "scheduling and reading the guide back took past its time: nothing was checked early"
    );
    assert_eq!(early.status, 404, "not before its time");

    // The scheduler publishes it within a pass or two of its time; a busy machine gets a minute.
    let page = wait_status(&app, "/guides/lasting-rules", 200, Duration::from_secs(60)).await;
    assert_eq!(page.status, 200, "published by itself at its time");
    assert_eq!(page.text("h1"), "続けるためのルール");
    assert!(
        app.get("/guides")
            .await
            .card_titles()
            .contains(&"続けるためのルール".to_owned())
    );
    assert_eq!(
        app.get("/tags/%E9%95%B7%E7%B6%9A%E3%81%8D")
            .await
            .card_titles(),
        vec!["続けるためのルール"]
    );
    // …and in search, through the outbox like any other publication.
    let search = "/search?q=%E5%AD%A3%E7%AF%80"; // 季節
    let started = Instant::now();
    while app
        .get(search)
        .await
        .texts("ol.results .card-title")
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the scheduled guide never reached search"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let token = ed.get(&edit).await.csrf();
    let off = ed
        .post(
            &format!("/mod/guides/{id}/unpublish"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(off.status, 303);
    assert_eq!(app.get("/guides/lasting-rules").await.status, 404);
    assert_no_public_guide(&app, "after the unpublication").await;

    let again = ed
        .submit_guide(
            &edit,
            &edit,
            &fields("続けるためのルール", "lasting-rules", body, "publish"),
        )
        .await;
    assert_eq!(again.status, 303);
    let page = app.get("/guides/lasting-rules").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text(".byline").starts_with("編集部 ・"),
        "signed 編集部, never with the editor's account name: {}",
        page.text(".byline")
    );

    // Every change of the guide's place on the site is in the audit log, by whom.
    let rows: Vec<(String, String)> = app
        .audit_rows("")
        .into_iter()
        .rev()
        .filter(|r| r.subject.as_deref() == Some("guide:lasting-rules"))
        .map(|r| (r.kind, r.actor_label))
        .collect();
    let row = |k: &str, who: &str| (k.to_owned(), who.to_owned());
    assert_eq!(
        rows,
        vec![
            row("schedule_guide", "kato"),
            row("publish_guide", "システム"),
            row("unpublish_guide", "kato"),
            row("publish_guide", "kato"),
        ]
    );
    let log = app
        .signed_in("sato", Role::Admin)
        .await
        .get("/mod/log")
        .await;
    assert!(
        log.texts("td.subject")
            .contains(&"ガイド：/guides/lasting-rules".to_owned())
    );
}

/// A guide's byline is chosen in the editor: 編集部 by default, or a name the editors choose,
/// one line of at most 30 characters.
#[tokio::test]
async fn a_guides_byline_is_chosen_by_its_editors() {
    let app = spawn_app().await;
    let ed = editor(&app, "yamada.hanako").await;
    let form = ed.get("/mod/guides/new").await;
    assert_eq!(form.attr("#byline", "value").as_deref(), Some("編集部"));
    let mut signed = fields("署名のあるガイド", "signed", "本文です。", "publish");
    signed.push(("byline", "ふたりの編集室"));
    let saved = ed
        .submit_guide("/mod/guides/new", "/mod/guides/new", &signed)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = app.get("/guides/signed").await;
    assert!(
        page.text(".byline").starts_with("ふたりの編集室 ・"),
        "{}",
        page.text(".byline")
    );
    assert!(
        !page.body.contains("yamada"),
        "the account's name is never shown"
    );

    let id = app.guide_id("signed");
    let edit = format!("/mod/guides/{id}/edit");
    let too_long = "長".repeat(31);
    let mut bad = fields("署名のあるガイド", "signed", "本文です。", "save");
    bad.push(("byline", &too_long));
    let page = ed.submit_guide(&edit, &edit, &bad).await;
    assert_eq!(page.status, 422);
    assert!(
        page.text("#byline-error").contains("署名"),
        "{}",
        page.text("#byline-error")
    );
    let mut cleared = fields("署名のあるガイド", "signed", "本文です。", "save");
    cleared.push(("byline", ""));
    assert_eq!(ed.submit_guide(&edit, &edit, &cleared).await.status, 303);
    assert!(
        app.get("/guides/signed")
            .await
            .text(".byline")
            .starts_with("編集部 ・")
    );
}

#[tokio::test]
async fn bad_input_comes_back_with_messages_and_a_past_schedule_is_refused() {
    let app = spawn_app().await;
    let ed = editor(&app, "kato").await;
    let mut bad = fields("", "Not A Slug", "本文", "schedule");
    bad.push(("publish_at", "2020-01-01T09:00"));
    let page = ed
        .submit_guide("/mod/guides/new", "/mod/guides/new", &bad)
        .await;
    assert_eq!(page.status, 422);
    assert!(page.text("#title-error").contains("タイトル"));
    assert!(page.text("#slug-error").contains("スラッグ"));
    assert!(page.text("#publish_at-error").contains("今より後"));
    assert_eq!(page.text("#body"), "本文");
}

#[tokio::test]
async fn every_save_is_a_revision_that_can_be_compared_and_restored() {
    let app = spawn_app().await;
    let ed = editor(&app, "kato").await;
    ed.submit_guide(
        "/mod/guides/new",
        "/mod/guides/new",
        &fields("版のあるガイド", "versioned", "最初の本文です。", "publish"),
    )
    .await;
    let id = app.guide_id("versioned");
    let edit = format!("/mod/guides/{id}/edit");
    let saved = ed
        .submit_guide(
            &edit,
            &edit,
            &fields(
                "版のあるガイド",
                "versioned",
                "書き直した本文です。",
                "save",
            ),
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(
        app.get("/guides/versioned").await.text(".prose"),
        "書き直した本文です。"
    );

    let history = ed.get(&format!("/mod/guides/{id}/revisions")).await;
    assert_eq!(history.texts("td.version"), vec!["版2", "版1"]);
    assert_eq!(history.texts("td.who"), vec!["kato", "kato"]);
    let from = history.attr("input[name=from][checked]", "value").unwrap();
    let to = history.attr("input[name=to][checked]", "value").unwrap();
    let diff = ed
        .get(&format!("/mod/guides/{id}/diff?from={from}&to={to}"))
        .await;
    assert_eq!(diff.status, 200);
    assert_eq!(diff.texts(".diff .removed"), vec!["− 最初の本文です。"]);
    assert_eq!(diff.texts(".diff .added"), vec!["+ 書き直した本文です。"]);

    let token = history.csrf();
    let restored = ed
        .post(
            &format!("/mod/guides/{id}/revisions/{from}/restore"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(restored.status, 303);
    assert_eq!(
        app.get("/guides/versioned").await.text(".prose"),
        "最初の本文です。"
    );
    let history = ed.get(&format!("/mod/guides/{id}/revisions")).await;
    assert_eq!(history.texts("td.version"), vec!["版3", "版2", "版1"]);
    assert!(history.text("table.revisions").contains("版1から復元"));
}

#[tokio::test]
async fn the_second_of_two_editors_gets_a_clear_message_and_keeps_their_text() {
    let app = spawn_app().await;
    let kato = editor(&app, "kato").await;
    let mori = editor(&app, "mori").await;
    kato.submit_guide(
        "/mod/guides/new",
        "/mod/guides/new",
        &fields("取り合うガイド", "contested", "元の本文。", "save"),
    )
    .await;
    let id = app.guide_id("contested");
    let edit = format!("/mod/guides/{id}/edit");

    // Both open the form at the same version.
    let kato_form = kato.get(&edit).await;
    let mori_form = mori.get(&edit).await;
    let submit = |b: &Browser, form: &Page, body: &str| {
        let (b, token, version, body) = (
            b.clone(),
            form.csrf(),
            form.attr("input[name=version]", "value").unwrap(),
            body.to_owned(),
        );
        let edit = edit.clone();
        async move {
            let mut all = fields("取り合うガイド", "contested", &body, "save");
            all.push(("csrf_token", &token));
            all.push(("version", &version));
            b.post(&edit, &all).await
        }
    };
    assert_eq!(submit(&kato, &kato_form, "加藤の本文。").await.status, 303);
    let second = submit(&mori, &mori_form, "森の本文。").await;
    assert_eq!(second.status, 409);
    assert!(
        second
            .text(".error-summary")
            .contains("katoさんがこのガイドを保存しました"),
        "{}",
        second.body
    );
    assert_eq!(
        second.text("#body"),
        "森の本文。",
        "the second editor's text comes back"
    );

    use diesel::prelude::*;
    let body: String = engawa::db::schema::guides::table
        .find(id)
        .select(engawa::db::schema::guides::body_markdown)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(body, "加藤の本文。", "nothing was overwritten");
}

#[tokio::test]
async fn an_old_slug_answers_301_with_the_new_one() {
    let app = spawn_app().await;
    let ed = editor(&app, "kato").await;
    ed.submit_guide(
        "/mod/guides/new",
        "/mod/guides/new",
        &fields("名前の変わるガイド", "old-name", "本文です。", "publish"),
    )
    .await;
    let id = app.guide_id("old-name");
    let edit = format!("/mod/guides/{id}/edit");
    let renamed = ed
        .submit_guide(
            &edit,
            &edit,
            &fields("名前の変わるガイド", "new-name", "本文です。", "save"),
        )
        .await;
    assert_eq!(renamed.status, 303);

    let old = app.get("/guides/old-name").await;
    assert_eq!(old.status, 301);
    assert_eq!(old.location.as_deref(), Some("/guides/new-name"));
    assert_eq!(app.get("/guides/new-name").await.status, 200);

    let taken = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields("別のガイド", "new-name", "本文。", "save"),
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(
        taken
            .text("#slug-error")
            .contains("ほかのガイドが使っています")
    );
}

#[tokio::test]
async fn a_slug_is_suggested_and_featured_stories_show_as_cards() {
    let app = spawn_app().await;
    let code = app
        .browser()
        .send_story(&as_refs(&story_fields("紹介される話")))
        .await;
    let story = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&story).await;

    let ed = editor(&app, "kato").await;
    let pending = app
        .browser()
        .send_story(&as_refs(&story_fields("審査待ちの話")))
        .await;
    let pending_id = app.story_by_code(&pending).public_id;
    let mut bad = fields("LINE Rules 入門", "", "本文です。", "publish");
    bad.push(("featured", &pending_id));
    let refused = ed
        .submit_guide("/mod/guides/new", "/mod/guides/new", &bad)
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text("#featured-error")
            .contains("公開中の体験談ではありません")
    );

    let url = format!("https://engawa.example/stories/{story}");
    let mut good = fields("LINE Rules 入門", "", "本文です。", "publish");
    good.push(("featured", &url));
    good.push(("on_home", "yes"));
    let saved = ed
        .submit_guide("/mod/guides/new", "/mod/guides/new", &good)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = app.get("/guides/line-rules").await;
    assert_eq!(
        page.status, 200,
        "the slug came from the title's latin words"
    );
    assert_eq!(
        page.texts(".featured-stories .card-title"),
        vec!["紹介される話"]
    );
    assert_eq!(
        app.get("/").await.texts(".featured-guide .card-title"),
        vec!["LINE Rules 入門"]
    );
}

#[tokio::test]
async fn a_moderator_who_is_not_an_editor_cannot_reach_the_guides() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    assert_eq!(moderator.get("/mod/guides").await.status, 403);
    assert_eq!(moderator.get("/mod/guides/new").await.status, 403);
    let token = moderator.get("/mod").await.csrf();
    let post = moderator
        .post(
            "/mod/guides/new",
            &[
                ("csrf_token", &token),
                ("title", "x"),
                ("body", "y"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(post.status, 403);
    assert_no_public_guide(&app, "after the refused post").await;
}

/// A guide as long as a guide may be (60,000 characters, 540 KB as a form) is saved; one
/// character more gets the form back with the length message; a form beyond the guides' limit
/// gets the 413 page and changes nothing.
#[tokio::test]
async fn the_longest_guide_is_saved_and_a_larger_body_gets_413() {
    let app = spawn_app().await;
    let ed = editor(&app, "kato").await;
    let longest = format!("## 長い\n\n{}", "長".repeat(60_000 - 7));
    assert_eq!(longest.chars().count(), 60_000);
    let saved = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields("長いガイド", "long-guide", &longest, "save"),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let too_long = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields(
                "長すぎるガイド",
                "too-long",
                &(longest.clone() + "長"),
                "save",
            ),
        )
        .await;
    assert_eq!(too_long.status, 422);
    assert!(
        too_long.body.contains("本文は60000文字以内"),
        "{}",
        too_long.body
    );
    assert!(too_long.text("#body").ends_with("長長長"));

    let huge = "長".repeat(150_000);
    let refused = ed
        .submit_guide(
            "/mod/guides/new",
            "/mod/guides/new",
            &fields("大きすぎるガイド", "too-large", &huge, "save"),
        )
        .await;
    crate::limits::assert_too_large(&refused);
    let list = ed.get("/mod/guides").await;
    assert_eq!(list.texts("table.guides td.status").len(), 1, "one guide");
    assert!(
        list.texts("table.guides td a")
            .contains(&"長いガイド".to_owned())
    );
}

/// Editors schedule in the site's time zone, whatever it is: the time typed is stored as the
/// same instant in UTC and shown back as typed; a time the clocks skip is refused with a message.
#[tokio::test]
async fn scheduling_follows_the_configured_time_zone() {
    let app = crate::helpers::spawn_configured(crate::helpers::TestDatabase::new(), false, |s| {
        s.timezone = chrono_tz::America::Los_Angeles;
    })
    .await;
    let editor = editor(&app, "ito").await;
    let form = editor.get("/mod/guides/new").await;
    assert_eq!(form.status, 200);
    assert!(
        form.text("label[for=publish_at]")
            .contains("America/Los_Angeles"),
        "{}",
        form.text("label[for=publish_at]")
    );
    let mut scheduled = fields(
        "時差のあるガイド",
        "time-zone",
        "時差のある予約です。",
        "schedule",
    );
    scheduled.push(("publish_at", "2030-01-15T09:00"));
    let saved = editor
        .submit_guide("/mod/guides/new", "/mod/guides/new", &scheduled)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored: Option<chrono::NaiveDateTime> = {
        use diesel::prelude::*;
        use engawa::db::schema::guides;
        guides::table
            .filter(guides::slug.eq("time-zone"))
            .select(guides::scheduled_at)
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(
        stored,
        Some(
            chrono::NaiveDate::from_ymd_opt(2030, 1, 15)
                .unwrap()
                .and_hms_opt(17, 0, 0)
                .unwrap()
        ),
        "09:00 in Los Angeles is 17:00 UTC"
    );
    let list = editor.get("/mod/guides").await;
    assert_eq!(list.status, 200);
    assert!(
        list.text("main").contains("2030年1月15日 09:00に公開"),
        "{}",
        list.text("main")
    );
    let edit = format!("/mod/guides/{}/edit", app.guide_id("time-zone"));
    let form = editor.get(&edit).await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.attr("#publish_at", "value").as_deref(),
        Some("2030-01-15T09:00")
    );

    // 02:30 on 10 March 2030 does not exist in Los Angeles (the clocks go from 02:00 to 03:00).
    let mut skipped = fields(
        "存在しない時刻のガイド",
        "skipped",
        "存在しない時刻です。",
        "schedule",
    );
    skipped.push(("publish_at", "2030-03-10T02:30"));
    let refused = editor
        .submit_guide("/mod/guides/new", "/mod/guides/new", &skipped)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.text("#publish_at-error").contains("時計の切り替え"),
        "{}",
        refused.text("main")
    );
    assert_eq!(
        refused.attr("#title", "value").as_deref(),
        Some("存在しない時刻のガイド"),
        "what was typed is kept"
    );
}
