//! Moderators working the queue: claims, decisions, redaction, bulk actions, reports, the log.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use engawa::db::DbConn;
use engawa::domain::StoryStatus;

use crate::helpers::{
    Browser, TestApp, TestDatabase, as_refs, spawn_app, spawn_configured, story_fields,
};

async fn submitted(app: &TestApp, title: &str) -> (String, String) {
    let code = app
        .browser()
        .send_story(&as_refs(&story_fields(title)))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    (code, public_id)
}

async fn act(
    moderator: &Browser,
    public_id: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Page {
    moderator
        .submit(
            &format!("/mod/stories/{public_id}"),
            &format!("/mod/stories/{public_id}/{action}"),
            fields,
        )
        .await
}

/// A story approved by moderator sato: sato's browser, the receipt code and the public id.
async fn published(app: &TestApp, title: &str) -> (Browser, String, String) {
    let sato = app.moderator("sato").await;
    let (code, id) = submitted(app, title).await;
    act(&sato, &id, "approve", &[]).await;
    (sato, code, id)
}

/// A site with two moderators signed in: sato and suzuki.
async fn two_moderators() -> (TestApp, Browser, Browser) {
    let app = spawn_app().await;
    let sato = app.moderator("sato").await;
    let suzuki = app.moderator("suzuki").await;
    (app, sato, suzuki)
}

#[tokio::test]
async fn each_action_leaves_exactly_one_audit_row() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    let reason = app.settings.reject_reasons[1].clone();
    let (_, a) = submitted(&app, "承認する話").await;
    let (_, b) = submitted(&app, "不採用にする話").await;
    let (_, c) = submitted(&app, "修正を頼む話").await;

    for (id, action, fields) in [
        (&a, "approve", vec![]),
        (&b, "reject", vec![("reason", reason.as_str())]),
        (
            &c,
            "request-changes",
            vec![("message", "ここを直してください")],
        ),
        (
            &a,
            "edit",
            vec![
                ("title", "承認する話"),
                (
                    "body",
                    "編集部が書き直した本文です。個人が特定されそうな部分を削りました。読んでくださった方に感謝します。ふたりの関係はいまも続いています。",
                ),
            ],
        ),
    ] {
        let before = app.audit_rows(id).len();
        let page = if action == "edit" {
            moderator.redact(id, &fields).await
        } else {
            act(&moderator, id, action, &fields).await
        };
        assert_eq!(page.status, 303, "{action}: {}", page.body);
        let rows = app.audit_rows(id);
        assert_eq!(rows.len(), before + 1, "{action}");
        let row = &rows[0];
        assert_eq!(row.actor_label, "sato");
        assert!(row.actor_id.is_some());
    }
    let rows = app.audit_rows(&b);
    assert_eq!(rows[0].kind, "reject");
    assert_eq!(rows[0].reason.as_deref(), Some(reason.as_str()));

    // A refused action changes nothing and writes nothing.
    let before = app.audit_rows(&b).len();
    let refused = act(&moderator, &b, "request-changes", &[("message", "今さら")]).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused
            .text(".error-summary")
            .contains("「不採用」の体験談には「修正依頼」を行えません")
    );
    assert_eq!(app.audit_rows(&b).len(), before);
}

/// Makes every insert into mod_actions fail, on either backend.
fn break_the_audit_log(conn: &mut DbConn) {
    match conn {
        DbConn::Sqlite(c) => c
            .batch_execute(
                "CREATE TRIGGER no_audit BEFORE INSERT ON mod_actions BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;",
            )
            .unwrap(),
        DbConn::Postgres(c) => c
            .batch_execute(
                "CREATE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END; $$ LANGUAGE plpgsql;
                 CREATE TRIGGER no_audit BEFORE INSERT ON mod_actions FOR EACH ROW EXECUTE FUNCTION no_audit();",
            )
            .unwrap(),
    }
}

#[tokio::test]
async fn a_state_change_never_lands_without_its_audit_row() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    let (code, id) = submitted(&app, "記録されない承認").await;
    let token = moderator.get(&format!("/mod/stories/{id}")).await.csrf();
    let outbox_before = outbox_rows(&app);
    break_the_audit_log(&mut app.conn());

    let page = moderator
        .post(
            &format!("/mod/stories/{id}/approve"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(page.status, 500);
    assert!(
        !page.body.contains("audit log unavailable"),
        "internal errors are not shown"
    );
    assert!(!page.text("h1").is_empty(), "the error page: {}", page.body);
    assert_eq!(
        app.story_by_code(&code).status,
        StoryStatus::Pending,
        "the approval was rolled back"
    );
    assert_eq!(app.get(&format!("/stories/{id}")).await.status, 404);
    assert_eq!(
        outbox_rows(&app),
        outbox_before,
        "no event announced a change that did not happen"
    );
}

fn outbox_rows(app: &TestApp) -> usize {
    diesel::sql_query("SELECT id FROM outbox")
        .load::<OutboxId>(&mut app.conn())
        .unwrap()
        .len()
}

#[derive(diesel::QueryableByName)]
struct OutboxId {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    id: i32,
}

#[tokio::test]
async fn claiming_a_story_keeps_other_moderators_off_it_and_opening_it_claims_nothing() {
    let (app, sato, suzuki) = two_moderators().await;
    let (code, id) = submitted(&app, "取り合いになる話").await;
    let path = format!("/mod/stories/{id}");

    // Opening the page (or a HEAD, or an image pointing at it) claims nothing.
    let first = sato.get(&path).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.text("h1"), "取り合いになる話");
    assert!(first.texts(".claim").is_empty());
    sato.client
        .head(format!("{}{path}", sato.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        suzuki
            .get("/mod")
            .await
            .texts("table.queue tbody tr td:last-child"),
        vec![""]
    );
    let unclaimed = suzuki.get(&path).await;
    assert_eq!(unclaimed.status, 200);
    assert_eq!(unclaimed.text("h1"), "取り合いになる話");
    assert!(unclaimed.texts(".claim").is_empty());

    let claimed = sato.submit(&path, &format!("{path}/claim"), &[]).await;
    assert_eq!(claimed.status, 303);
    assert_eq!(claimed.location.as_deref(), Some(path.as_str()));
    assert!(sato.get(&path).await.text(".claimed").contains("あなたが"));
    assert_eq!(
        suzuki
            .get("/mod")
            .await
            .texts("table.queue tbody tr td:last-child"),
        vec!["sato"]
    );
    let second = suzuki.get(&format!("/mod/stories/{id}")).await;
    assert!(
        second.text(".claim").contains("satoさんが"),
        "{}",
        second.body
    );

    let blocked = act(&suzuki, &id, "approve", &[]).await;
    assert_eq!(blocked.status, 409);
    assert!(blocked.text(".error-summary").contains("satoさんが"));
    assert_eq!(app.story_by_code(&code).status, StoryStatus::Pending);

    let page = act(&sato, &id, "approve", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(app.story_by_code(&code).status, StoryStatus::Approved);
}

/// A claim lasts fifteen minutes: then the story is free again and another moderator may decide.
#[tokio::test]
async fn a_claim_lapses_after_fifteen_minutes_and_another_moderator_may_decide() {
    use diesel::prelude::*;
    use engawa::db::schema::stories;
    let (app, sato, suzuki) = two_moderators().await;
    let (code, id) = submitted(&app, "手放される話").await;
    let path = format!("/mod/stories/{id}");
    let before = chrono::Utc::now().naive_utc();
    let claimed = sato.submit(&path, &format!("{path}/claim"), &[]).await;
    assert_eq!(claimed.status, 303);
    let until: Option<chrono::NaiveDateTime> = stories::table
        .filter(stories::public_id.eq(&id))
        .select(stories::claimed_until)
        .first(&mut app.conn())
        .unwrap();
    let minutes = (until.expect("claimed") - before).num_seconds() as f64 / 60.0;
    assert!(
        (14.9..15.1).contains(&minutes),
        "claimed for {minutes} minutes"
    );
    assert_eq!(act(&suzuki, &id, "approve", &[]).await.status, 409);

    // Fifteen minutes later (the claim's end moved to a second ago, as time would).
    diesel::update(stories::table.filter(stories::public_id.eq(&id)))
        .set(
            stories::claimed_until
                .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
        )
        .execute(&mut app.conn())
        .unwrap();
    let page = suzuki.get(&path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), "手放される話");
    assert!(page.texts(".claim").is_empty(), "{}", page.text(".claim"));
    let queue = suzuki.get("/mod").await;
    assert_eq!(queue.status, 200);
    assert_eq!(
        queue.texts("table.queue tbody tr td:last-child"),
        vec![""],
        "the queue shows it free"
    );
    let approved = act(&suzuki, &id, "approve", &[]).await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert_eq!(app.story_by_code(&code).status, StoryStatus::Approved);
}

#[tokio::test]
async fn a_redacted_story_says_so_and_the_removed_text_is_gone() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    let (code, id) = submitted(&app, "書き直される話").await;
    act(&moderator, &id, "approve", &[]).await;
    let page = moderator.redact(
        &id,
        &[("title", "書き直される話"), ("body", "勤め先の名前を含む部分を編集部で削除しました。ふたりは今も穏やかな関係を続けていて、連絡は平日の昼だけにしています。"), ("note", "勤務先の記述を削除")],
    )
    .await;
    assert_eq!(page.status, 303);

    let public = app.get(&format!("/stories/{id}")).await;
    assert_eq!(public.text(".edited-note"), "編集部により一部修正");
    assert!(public.text(".prose").contains("編集部で削除しました"));
    let story = app.story_by_code(&code);
    assert!(
        !story.body_markdown.contains("についての体験談です"),
        "the old text is not kept"
    );
    assert!(story.edited_by_staff);
}

#[tokio::test]
async fn the_queue_lists_the_oldest_first_and_bulk_decisions_apply_to_the_chosen() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    let mut ids = Vec::new();
    for title in ["一番目", "二番目", "三番目"] {
        ids.push(submitted(&app, title).await.1);
    }
    let queue = moderator.get("/mod").await;
    assert_eq!(
        queue.texts("table.queue tbody a.story-title"),
        vec!["一番目", "二番目", "三番目"]
    );

    let token = queue.csrf();
    let page = moderator
        .post(
            "/mod/bulk",
            &[
                ("csrf_token", &token),
                ("action", "approve"),
                ("ids", &ids[0]),
                ("ids", &ids[2]),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let after = moderator.get(page.location.as_deref().unwrap()).await;
    assert_eq!(after.text(".notice"), "2件を承認しました。");
    assert_eq!(
        after.texts("table.queue tbody a.story-title"),
        vec!["二番目"]
    );
    let mut public = app.get("/stories").await.card_titles();
    public.sort();
    assert_eq!(public, vec!["一番目", "三番目"]);

    let reason = app.settings.reject_reasons[0].clone();
    let page = moderator
        .post(
            "/mod/bulk",
            &[
                ("csrf_token", &token),
                ("action", "reject"),
                ("reason", &reason),
                ("ids", &ids[1]),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.status, 200);
    assert!(queue.texts("table.queue tbody a.story-title").is_empty());
    assert!(
        queue
            .texts(".empty")
            .contains(&"審査待ちの体験談はありません。".to_owned())
    );
    let bad = moderator
        .post(
            "/mod/bulk",
            &[("csrf_token", &token), ("action", "approve")],
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[derive(diesel::QueryableByName)]
struct MailRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
}

/// The mails of `kind` queued so far, as their JSON payloads.
fn queued_mail(app: &TestApp, kind: &str) -> Vec<serde_json::Value> {
    let rows: Vec<MailRow> =
        diesel::sql_query("SELECT payload FROM outbox WHERE topic = 'mail' ORDER BY id")
            .load(&mut app.conn())
            .unwrap();
    rows.into_iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.payload).unwrap())
        .filter(|m| m["kind"] == kind)
        .collect()
}

/// A reader whose connections come from 127.0.0.`n`.
fn reader(app: &TestApp, n: u8) -> Browser {
    Browser::from_source(
        &app.address,
        Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, n))),
    )
}

async fn report(who: &Browser, id: &str, reason: &str) {
    let page = who
        .submit(
            &format!("/stories/{id}/report"),
            &format!("/stories/{id}/report"),
            &[("reason", reason)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
}

/// Reports take a community, not one person: one reader's reports on a story count once, however
/// many; three readers hide it and the moderators get a mail saying why (quoting nothing of it);
/// the queue shows the reasons. A moderator who restores it may find the reports unfounded,
/// after which the same readers' reports on it no longer count, while new readers' still do.
#[tokio::test]
async fn one_reader_cannot_hide_a_story_and_three_readers_do_and_tell_the_moderators() {
    let app = spawn_configured(TestDatabase::new(), false, |s| s.report_threshold = 3).await;
    let (moderator, code, id) = published(&app, "通報される話").await;

    let first = reader(&app, 2);
    for reason in ["personal_info", "harmful", "spam", "personal_info"] {
        report(&first, &id, reason).await;
    }
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        200,
        "one reader's reports count once"
    );
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.text("#reported-heading"), "通報のあった体験談（1件）");
    assert_eq!(
        queue.texts("td.report-reasons .flag"),
        vec!["個人が特定できる情報がある 1件".to_owned()]
    );
    assert!(queued_mail(&app, "story_hidden").is_empty());

    report(&reader(&app, 3), &id, "personal_info").await;
    assert_eq!(app.get(&format!("/stories/{id}")).await.status, 200);
    report(&reader(&app, 4), &id, "harmful").await;
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        404,
        "hidden at three readers"
    );
    assert_eq!(app.story_by_code(&code).status, StoryStatus::Held);
    assert_eq!(app.audit_rows(&id)[0].actor_label, "システム");

    let mails = queued_mail(&app, "story_hidden");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], serde_json::json!(["sato@engawa.test"]));
    assert_eq!(
        mails[0]["subject"],
        "【縁側】通報により体験談を非公開にしました"
    );
    let body = mails[0]["body"].as_str().unwrap();
    assert!(body.contains("3人の読者"), "{body}");
    assert!(body.contains("個人が特定できる情報がある：2件"), "{body}");
    assert!(body.contains("誰かを傷つける内容がある：1件"), "{body}");
    assert!(body.contains(&format!("/mod/stories/{id}")), "{body}");
    assert!(
        !body.contains("通報される話"),
        "no mail quotes a story: {body}"
    );
    let queue = moderator.get("/mod").await;
    assert_eq!(
        queue.texts("td.report-reasons .flag"),
        vec![
            "個人が特定できる情報がある 2件".to_owned(),
            "誰かを傷つける内容がある 1件".to_owned()
        ]
    );

    // Restored, the reports found unfounded: the same readers no longer count.
    let detail = moderator.get(&format!("/mod/stories/{id}")).await;
    assert!(
        detail
            .text("label[for=unfounded]")
            .contains("通報には根拠がない")
    );
    act(&moderator, &id, "approve", &[("unfounded", "yes")]).await;
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        200,
        "restored"
    );
    assert!(
        app.audit_rows(&id)[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("根拠がない")),
        "the audit row says so"
    );
    for n in [2, 3, 4] {
        report(&reader(&app, n), &id, "spam").await;
    }
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        200,
        "the same readers no longer count"
    );
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.text("#reported-heading"), "通報のあった体験談（0件）");
    // For a while after that, new readers' reports are listed for the moderators but hide
    // nothing by themselves (tomorrow the same readers would look new).
    for n in [5, 6, 7] {
        report(&reader(&app, n), &id, "off_topic").await;
    }
    assert_eq!(app.get(&format!("/stories/{id}")).await.status, 200);
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.text("#reported-heading"), "通報のあった体験談（1件）");
    assert_eq!(
        queue.texts("td.report-reasons .flag"),
        vec!["サイトの趣旨に合わない 3件".to_owned()]
    );
    assert_eq!(queued_mail(&app, "story_hidden").len(), 1);

    // A decision closes them.
    act(&moderator, &id, "approve", &[]).await;
    let queue = moderator.get("/mod").await;
    assert_eq!(queue.text("#reported-heading"), "通報のあった体験談（0件）");
}

/// One client may send ten reports an hour: the eleventh is refused with a message, and it
/// neither counts nor holds back another reader.
#[tokio::test]
async fn one_client_may_send_ten_reports_an_hour() {
    let app = spawn_configured(TestDatabase::new(), false, |s| s.report_threshold = 2).await;
    let (_, _, id) = published(&app, "何度も通報される話").await;
    let first = reader(&app, 2);
    for _ in 0..10 {
        report(&first, &id, "spam").await;
    }
    let refused = first
        .submit(
            &format!("/stories/{id}/report"),
            &format!("/stories/{id}/report"),
            &[("reason", "spam")],
        )
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.text("main").contains("短い時間に多くの通報"),
        "{}",
        refused.text("main")
    );
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        200,
        "one reader, however many reports, hides nothing"
    );
    report(&reader(&app, 3), &id, "spam").await;
    assert_eq!(
        app.get(&format!("/stories/{id}")).await.status,
        404,
        "a second reader's report counts: two readers hide it"
    );
}

/// IPv6 readers count per /48: one person's home line (often a /56 or a /48) is one reader
/// however many /64s it has.
#[tokio::test]
async fn the_networks_of_one_ipv6_line_are_one_reader() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.report_threshold = 3;
        s.trusted_proxies = engawa::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let (_, _, id) = published(&app, "一つの回線から通報される話").await;
    for address in ["2001:db8:1:1::1", "2001:db8:1:2::1", "2001:db8:1:ff00::1"] {
        report(&crate::limits::behind_proxy(&app, address), &id, "spam").await;
    }
    assert_eq!(app.get(&format!("/stories/{id}")).await.status, 200);
    for address in ["2001:db8:2::1", "2001:db8:3::1"] {
        report(&crate::limits::behind_proxy(&app, address), &id, "spam").await;
    }
    assert_eq!(app.get(&format!("/stories/{id}")).await.status, 404);
}

#[tokio::test]
async fn the_log_filters_and_the_transparency_page_shows_counts_only() {
    let (app, sato, suzuki) = two_moderators().await;
    let (_, a) = submitted(&app, "透明性の話A").await;
    let (_, b) = submitted(&app, "透明性の話B").await;
    act(&sato, &a, "approve", &[]).await;
    let reason = app.settings.reject_reasons[0].clone();
    act(&suzuki, &b, "reject", &[("reason", &reason)]).await;

    let all = sato.get("/mod/log").await;
    assert_eq!(all.text(".result-count"), "4件");
    let approvals = sato.get("/mod/log?kind=approve").await;
    assert_eq!(approvals.texts("table.log td.kind"), vec!["承認"]);
    let by_story = sato.get(&format!("/mod/log?story={b}")).await;
    assert_eq!(by_story.texts("table.log td.kind"), vec!["不採用", "投稿"]);
    let bad = sato.get("/mod/log?kind=nonsense").await;
    assert_eq!(bad.status, 400);

    let public = app.get("/transparency").await;
    assert_eq!(public.status, 200);
    let cells = public.texts("table.transparency tbody td");
    assert_eq!(cells, vec!["2", "1", "1", "0", "0"]);
    for hidden in ["透明性の話", "sato", "suzuki", &reason] {
        assert!(!public.body.contains(hidden), "{hidden} on the public page");
    }
}

/// The queue has three lists with their counts: waiting for a decision, waiting for the
/// submitter's answer to a change request (which used to drop out of every list), and reported.
#[tokio::test]
async fn the_queue_shows_waiting_answering_and_reported_lists_with_counts() {
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    submitted(&app, "決まるのを待つ話").await;
    let (code, asked) = submitted(&app, "返事を待つ話").await;
    moderator
        .request_changes(&asked, "題名を変えてください。")
        .await;

    let queue = moderator.get("/mod").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(
        queue.texts(".queue-views a"),
        vec!["審査待ち 1件", "返答待ち 1件", "通報あり 0件"]
    );
    let list = |section: &str| {
        queue.texts(&format!(
            "section[aria-labelledby={section}-heading] a.story-title"
        ))
    };
    assert_eq!(list("waiting"), vec!["決まるのを待つ話"]);
    assert_eq!(list("answering"), vec!["返事を待つ話"]);
    assert!(list("reported").is_empty());
    assert_eq!(
        queue.attrs(
            "section[aria-labelledby=answering-heading] a.story-title",
            "href"
        ),
        vec![format!("/mod/stories/{asked}")]
    );

    // The answer moves it back to the stories waiting for a decision.
    let submitter = app.browser();
    let status = submitter.status_page(&code).await;
    let resent = submitter
        .post_form(
            &status,
            "/stories/status/resubmit",
            &[("title", "直して戻った話")],
        )
        .await;
    assert_eq!(resent.status, 303, "{}", resent.body);
    let queue = moderator.get("/mod").await;
    assert_eq!(
        queue.texts(".queue-views a"),
        vec!["審査待ち 2件", "返答待ち 0件", "通報あり 0件"]
    );
    assert_eq!(
        queue.text("section[aria-labelledby=answering-heading] p.empty"),
        "投稿者の返答を待っている体験談はありません。"
    );
}

/// Admins see the loop in numbers: what waits and for how long, how long decisions take, and
/// each moderator's decisions this week; moderators do not see the page.
#[tokio::test]
async fn admins_see_the_queue_the_time_to_decision_and_decisions_per_moderator() {
    let (app, sato, suzuki) = two_moderators().await;
    let admin = app.signed_in("kanri", engawa::domain::Role::Admin).await;
    let mut ids = Vec::new();
    for title in [
        "数える話1",
        "数える話2",
        "数える話3",
        "数える話4",
        "数える話5",
    ] {
        ids.push(submitted(&app, title).await.1);
    }
    assert_eq!(act(&sato, &ids[0], "approve", &[]).await.status, 303);
    assert_eq!(act(&sato, &ids[1], "approve", &[]).await.status, 303);
    let asked = act(
        &suzuki,
        &ids[2],
        "request-changes",
        &[("message", "地名を消してください")],
    )
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);

    let page = admin.shown("/mod/stats").await;
    assert_eq!(page.text("#stat-waiting"), "2件");
    assert_eq!(page.text("#stat-answering"), "1件");
    // Submission times are kept to the hour: everything here is under an hour old.
    assert!(
        page.text("#stat-oldest").ends_with("分前から"),
        "{}",
        page.text("#stat-oldest")
    );
    for id in ["#stat-median", "#stat-p90"] {
        let shown = page.text(id);
        assert!(shown.ends_with('分') && shown != "—", "{id}: {shown}");
    }
    assert!(
        page.text(".hint").contains("3件"),
        "three stories decided: {}",
        page.text(".hint")
    );
    assert_eq!(
        page.texts("table.stats-weeks tbody th"),
        vec!["sato", "suzuki"]
    );
    assert_eq!(
        page.texts("table.stats-weeks tbody td:nth-child(2)"),
        vec!["2", "1"],
        "this week's decisions, newest week first"
    );
    assert_eq!(
        page.texts("table.stats-weeks thead th").len(),
        9,
        "a column per week"
    );
    assert_eq!(sato.get("/mod/stats").await.status, 403, "admins only");
}
