//! A reader sends a story without an account; it stays invisible until a moderator approves it.

use crate::helpers::{Browser, as_refs, assert_empty_list, spawn_app, story_fields};
use engawa::domain::StoryStatus;

/// The fields of a valid submission with one field replaced.
fn fields_with(title: &str, key: &'static str, value: &str) -> Vec<(&'static str, String)> {
    let mut fields = story_fields(title);
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value.to_owned(),
        None => fields.push((key, value.to_owned())),
    }
    fields
}

async fn public_listing_titles(reader: &Browser, path: &str) -> Vec<String> {
    let page = reader.get(path).await;
    assert_eq!(page.status, 200, "{path}");
    page.card_titles()
}

#[tokio::test]
async fn a_submitted_story_is_invisible_until_approved_and_then_public_everywhere() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("読書会で出会った話")))
        .await;
    let story = app.story_by_code(&code);
    assert_eq!(story.status, StoryStatus::Pending);

    let tag = "/tags/%E8%AA%AD%E6%9B%B8"; // 読書
    assert_eq!(
        app.get(&format!("/stories/{}", story.public_id))
            .await
            .status,
        404
    );
    assert_empty_list(&app.reader, "/stories").await;
    assert_eq!(app.get(tag).await.status, 404);

    let moderator = app.moderator("sato").await;
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.status, 200);
    assert!(
        queue
            .texts("table.queue a")
            .contains(&"読書会で出会った話".to_owned())
    );
    let approved = moderator
        .submit(
            &format!("/mod/stories/{}", story.public_id),
            &format!("/mod/stories/{}/approve", story.public_id),
            &[],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);

    let page = app.shown(&format!("/stories/{}", story.public_id)).await;
    assert_eq!(page.text("h1"), "読書会で出会った話");
    assert_eq!(
        page.text(".story-facts .facts"),
        "交際5年目・趣味のコミュニティで出会った・継続中"
    );
    assert_eq!(
        page.texts(".rules li"),
        vec!["連絡は平日の昼だけ", "家族の予定を優先"]
    );
    assert_eq!(
        public_listing_titles(&app.reader, "/stories").await,
        vec!["読書会で出会った話"]
    );
    assert_eq!(
        public_listing_titles(&app.reader, tag).await,
        vec!["読書会で出会った話"]
    );
}

#[tokio::test]
async fn rejected_and_withdrawn_stories_never_appear() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let rejected = submitter
        .send_story(&as_refs(&story_fields("不採用になる話")))
        .await;
    let withdrawn = submitter
        .send_story(&as_refs(&story_fields("取り下げる話")))
        .await;
    let moderator = app.moderator("sato").await;

    let r = app.story_by_code(&rejected);
    let reason = app.settings.reject_reasons[0].clone();
    let page = moderator
        .submit(
            &format!("/mod/stories/{}", r.public_id),
            &format!("/mod/stories/{}/reject", r.public_id),
            &[
                ("reason", &reason),
                ("note", "住んでいる地域がわかる記述があります。"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);

    let w = app.story_by_code(&withdrawn);
    submitter.withdraw(&withdrawn).await;

    // Nothing is public: the lists say they are empty, and the tag both carried has no page.
    for path in ["/", "/stories", "/stories?how_met=hobby"] {
        assert_empty_list(&app.reader, path).await;
        let page = app.get(path).await;
        assert!(
            !page.body.contains("不採用になる話") && !page.body.contains("取り下げる話"),
            "{path}"
        );
    }
    assert_eq!(app.get("/tags/%E8%AA%AD%E6%9B%B8").await.status, 404);
    for story in [&r, &w] {
        assert_eq!(
            app.get(&format!("/stories/{}", story.public_id))
                .await
                .status,
            404
        );
    }
    // A rejected story cannot be approved later by mistake from the public side either.
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &rejected)])
        .await;
    assert_eq!(status.text(".status-label"), "不採用");
    assert!(
        status
            .text(".moderator-message")
            .contains("住んでいる地域がわかる記述があります。")
    );
}

#[tokio::test]
async fn validation_errors_keep_everything_typed_with_a_message_beside_each_field() {
    let app = spawn_app().await;
    let browser = app.browser();
    let mut fields = fields_with("", "length_years", "たくさん");
    fields.retain(|(k, _)| *k != "how_met");
    fields.push(("email", "not-an-address".to_owned()));
    fields.retain(|(k, v)| !(*k == "email" && v.is_empty()));
    let page = browser
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;

    assert_eq!(page.status, 422);
    assert_eq!(page.text("#title-error"), "タイトルを入力してください。");
    assert_eq!(
        page.text("#length-error"),
        "年数は0以上の数字で入力してください。"
    );
    assert_eq!(
        page.text("#how_met-error"),
        "出会いのきっかけを選んでください。"
    );
    assert!(page.text("#email-error").contains("メールアドレスの形式"));
    assert_eq!(page.attr("#title", "aria-invalid").as_deref(), Some("true"));
    assert!(
        page.attr("#title", "aria-describedby")
            .unwrap()
            .contains("title-error")
    );
    assert!(
        page.text(".error-summary")
            .contains("入力内容を確認してください")
    );
    // Everything typed comes back.
    assert!(page.text("#body").starts_with("についての体験談です"));
    assert_eq!(page.attr("#pen_name", "value").as_deref(), Some("みどり"));
    assert_eq!(
        page.attr("#length_years", "value").as_deref(),
        Some("たくさん")
    );
    assert_eq!(page.text("#rules"), "連絡は平日の昼だけ\n家族の予定を優先");
    assert_eq!(page.attr("#tags", "value").as_deref(), Some("読書、ルール"));
    assert_eq!(
        page.attr("#email", "value").as_deref(),
        Some("not-an-address")
    );
    assert_eq!(page.attr("#continuing-yes", "checked").as_deref(), Some(""));

    let short = browser
        .submit(
            "/stories/new",
            "/stories/new",
            &as_refs(&fields_with("題", "body", "短すぎる本文")),
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.text("#body-error").contains("50文字以上"));
    assert_empty_list(&app.reader, "/stories").await;
}

#[tokio::test]
async fn personal_information_is_shown_and_can_be_edited_or_confirmed() {
    let app = spawn_app().await;
    let browser = app.browser();
    let body = format!(
        "{} 連絡は０９０－１２３４－５６７８かhanako@example.jpまで。LINEのIDは hanako77 です。",
        crate::helpers::story_body("連絡先")
    );
    let fields = fields_with("連絡先を書いた話", "body", &body);
    let page = browser
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;

    assert_eq!(page.status, 422);
    let marked = page.texts(".pii-warning mark");
    assert_eq!(
        marked,
        vec![
            "０９０－１２３４－５６７８",
            "hanako@example.jp",
            "LINEのIDは hanako77"
        ]
    );
    assert!(page.text(".pii-warning").contains("電話番号"));
    assert!(
        page.text("#body").contains("０９０－１２３４－５６７８"),
        "the text is kept for editing"
    );
    assert_empty_list(&app.reader, "/stories").await;

    // Confirming keeps the text and sends it; moderators see the same flags.
    let mut confirmed = fields.clone();
    confirmed.push(("confirm_pii", "yes".to_owned()));
    let code = browser.send_story(&as_refs(&confirmed)).await;
    let story = app.story_by_code(&code);
    assert_eq!(story.pii_findings().len(), 3);
    let moderator = app.moderator("sato").await;
    let queue = moderator.get("/mod").await;
    assert_eq!(
        queue.texts("table.queue .pii-flags .flag"),
        vec!["電話番号", "メールアドレス", "LINE・SNSのID"]
    );
    let detail = moderator
        .get(&format!("/mod/stories/{}", story.public_id))
        .await;
    assert!(
        detail
            .texts(".pii-warning mark")
            .contains(&"hanako@example.jp".to_owned())
    );
}

#[tokio::test]
async fn the_receipt_code_is_shown_once_and_only_its_hash_is_stored() {
    let app = spawn_app().await;
    let browser = app.browser();
    let code = browser
        .send_story(&as_refs(&story_fields("受付番号の話")))
        .await;
    assert_eq!(code.len(), 29, "{code}");

    let again = browser.get("/stories/receipt").await;
    assert_eq!(again.status, 200);
    assert!(again.texts("#receipt-code").is_empty(), "shown only once");
    assert_eq!(again.headers["cache-control"], "no-store");
    assert!(again.text("h1").contains("すでに表示しました"));

    // The stored form is the SHA-256 of the code without hyphens, computed here on its own.
    let canonical = code.replace('-', "");
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    };
    let stored_hash: Option<String> = {
        use diesel::prelude::*;
        use engawa::db::schema::stories;
        stories::table
            .filter(stories::title.eq("受付番号の話"))
            .select(stories::receipt_hash)
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(stored_hash.as_deref(), Some(hash.as_str()));
    let stored = app.story_by_code(&code);
    // Neither form of the code is anywhere in the database: every table on PostgreSQL, the
    // files (with the write-ahead log) on SQLite.
    let everything = crate::helpers::database_text(&app.db);
    assert!(everything.contains(&hash), "the dump holds the hash");
    assert!(!everything.contains(&canonical) && !everything.contains(&code));
    assert!(!everything.contains(&code.to_lowercase()));
    assert_eq!(stored.title, "受付番号の話");
}

#[tokio::test]
async fn a_change_request_is_answered_with_the_code_and_then_approved() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("直す前の題")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    let page = moderator
        .submit(
            &format!("/mod/stories/{public_id}"),
            &format!("/mod/stories/{public_id}/request-changes"),
            &[(
                "message",
                "題名に地名が入っているので、変えていただけますか。",
            )],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);

    // Lower case, spaces instead of hyphens: still the same code.
    let typed = code.to_lowercase().replace('-', " ");
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &typed)])
        .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.text(".status-label"), "修正のお願い中");
    assert!(
        status
            .text(".status-explanation")
            .contains("下のフォームから修正して送り直してください"),
        "{}",
        status.text(".status-explanation")
    );
    assert!(
        status
            .text(".moderator-message")
            .contains("題名に地名が入っている")
    );
    assert_eq!(
        status.attr("#title", "value").as_deref(),
        Some("直す前の題")
    );

    let mut fields = fields_with("直した後の題", "code", &code);
    fields.push(("csrf_token", status.csrf()));
    let done = submitter
        .post("/stories/status/resubmit", &as_refs(&fields))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/stories/status/done?what=resubmitted")
    );
    assert!(
        done.headers.get("clear-site-data").is_none(),
        "only withdrawing clears the browser's cookies"
    );
    let said = submitter.get("/stories/status/done?what=resubmitted").await;
    assert_eq!(said.status, 200);
    assert_eq!(said.text("h1"), "修正を受け付けました");
    let waiting = submitter
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(waiting.status, 200);
    assert_eq!(waiting.text(".status-label"), "審査待ち");
    assert!(
        waiting
            .text(".status-explanation")
            .contains("編集部が内容を確認しています"),
        "{}",
        waiting.text(".status-explanation")
    );
    let story = app.story_by_code(&code);
    assert_eq!(story.status, StoryStatus::Pending);
    assert_eq!(story.title, "直した後の題");
    assert_eq!(
        app.get(&format!("/stories/{public_id}")).await.status,
        404,
        "still waiting"
    );

    let approved = moderator.approve(&public_id).await;
    assert_eq!(approved.status, 303);
    assert_eq!(
        app.get(&format!("/stories/{public_id}")).await.text("h1"),
        "直した後の題"
    );
    let kinds: Vec<String> = app
        .audit_rows(&public_id)
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(
        kinds,
        vec!["approve", "resubmit", "request_changes", "submit"]
    );
}

#[tokio::test]
async fn withdrawing_erases_the_text_at_once_and_removes_the_story_from_public_pages() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&fields_with(
            "消したい話",
            "email",
            "me@example.jp",
        )))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;
    assert_eq!(app.get(&format!("/stories/{public_id}")).await.status, 200);

    let without_confirm = submitter
        .submit(
            "/stories/status",
            "/stories/status/withdraw",
            &[("code", &code)],
        )
        .await;
    assert_eq!(without_confirm.status, 400);
    assert_eq!(
        app.get(&format!("/stories/{public_id}")).await.status,
        200,
        "nothing changed"
    );

    let done = submitter.withdraw(&code).await;
    assert_eq!(
        submitter
            .get(done.location.as_deref().unwrap())
            .await
            .text("h1"),
        "取り下げました"
    );

    assert_eq!(app.get(&format!("/stories/{public_id}")).await.status, 404);
    assert_empty_list(&app.reader, "/stories").await;
    let story = app.story_by_code(&code);
    assert_eq!(story.status, StoryStatus::Withdrawn);
    for erased in [
        &story.title,
        &story.body_markdown,
        &story.body_html,
        &story.excerpt,
        &story.pen_name,
        &story.rules,
    ] {
        assert!(erased.is_empty(), "left behind: {erased}");
    }
    assert!(story.contact_email.is_none());
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(status.status, 200);
    assert_eq!(status.text(".status-label"), "取り下げ済み");
    assert!(
        status
            .texts("form[action='/stories/status/withdraw']")
            .is_empty()
    );
}

#[tokio::test]
async fn a_wrong_code_gets_the_same_polite_answer_and_guessing_is_rate_limited() {
    let app = spawn_app().await;
    let browser = app.browser();
    for attempt in 0..10 {
        let code = format!("{:0>25}", attempt);
        let page = browser
            .submit("/stories/status", "/stories/status", &[("code", &code)])
            .await;
        assert_eq!(page.status, 404, "attempt {attempt}");
        assert!(page.text(".error-summary").contains("見つかりませんでした"));
    }
    let page = browser
        .submit(
            "/stories/status",
            "/stories/status",
            &[("code", "0000000000000000000000099")],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(page.text("main").contains("15分ほどたってから"));
}

#[tokio::test]
async fn submissions_are_rate_limited_without_losing_the_text() {
    let app = spawn_app().await;
    let browser = app.browser();
    for i in 0..5 {
        browser
            .send_story(&as_refs(&story_fields(&format!("話{i}"))))
            .await;
    }
    let page = browser
        .submit(
            "/stories/new",
            "/stories/new",
            &as_refs(&story_fields("六つ目の話")),
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(page.text(".error-summary").contains("1時間ほどたってから"));
    assert_eq!(page.attr("#title", "value").as_deref(), Some("六つ目の話"));
    assert!(page.text("#body").contains("六つ目の話についての体験談"));
}

#[tokio::test]
async fn a_filled_honeypot_or_a_missing_token_saves_nothing() {
    let app = spawn_app().await;
    let browser = app.browser();
    let bot = browser
        .submit(
            "/stories/new",
            "/stories/new",
            &as_refs(&fields_with("ボット", "website", "http://spam.example")),
        )
        .await;
    assert_eq!(bot.status, 422);
    assert_eq!(bot.attr("#website", "value").as_deref(), Some(""));

    let forged = browser
        .post("/stories/new", &as_refs(&story_fields("偽造")))
        .await;
    assert_eq!(forged.status, 403);
    let wrong = browser
        .post(
            "/stories/new",
            &as_refs(&fields_with("偽造", "csrf_token", &"0".repeat(64))),
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.text("h1").contains("この操作はできません"));

    let moderator = app.moderator("sato").await;
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.status, 200);
    assert!(queue.texts("table.queue a").is_empty());
    assert!(
        queue
            .texts(".empty")
            .contains(&"審査待ちの体験談はありません。".to_owned())
    );
}

/// Answering a change request, the submitter finds every field as they wrote it, changes only the
/// title, and sends the form as shown: everything else comes back as it was, tags included.
#[tokio::test]
async fn resubmitting_keeps_every_field_the_submitter_did_not_change() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    let submitter = app.browser();
    let written = story_fields("直す前の題");
    let code = submitter.send_story(&as_refs(&written)).await;
    let before = app.story_by_code(&code);
    let tags_of = |id: i32| {
        let mut tags = engawa::models::tag::Tag::of_stories(&mut app.conn(), &[id])
            .unwrap()
            .remove(&id)
            .unwrap_or_default();
        tags.sort();
        tags
    };
    let before_tags = tags_of(before.id);
    assert_eq!(before_tags.len(), 2, "{before_tags:?}");
    moderator
        .request_changes(&before.public_id, "題名だけ直してください。")
        .await;
    let status = submitter.status_page(&code).await;
    let shown = status.form_fields("/stories/status/resubmit");
    let value = |name: &str| {
        shown
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in the resubmit form: {shown:?}"))
    };
    for (name, typed) in written
        .iter()
        .filter(|(n, _)| !matches!(*n, "email" | "tags"))
    {
        assert_eq!(
            value(name).replace("\r\n", "\n").trim(),
            typed.trim(),
            "{name} as written"
        );
    }
    let mut shown_tags: Vec<String> = value("tags").split('、').map(str::to_owned).collect();
    shown_tags.sort();
    assert_eq!(shown_tags, before_tags, "the tags as written");

    let done = submitter
        .post_form(
            &status,
            "/stories/status/resubmit",
            &[("title", "直した後の題")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = app.story_by_code(&code);
    assert_eq!(after.status, StoryStatus::Pending);
    assert_eq!(after.title, "直した後の題");
    assert_eq!(after.body_markdown, before.body_markdown);
    assert_eq!(after.pen_name, before.pen_name);
    assert_eq!(after.relationship, before.relationship);
    assert_eq!(after.rules, before.rules);
    assert_eq!(
        tags_of(after.id),
        before_tags,
        "the tags survive the resubmission"
    );
}
