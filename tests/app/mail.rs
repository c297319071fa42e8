//! Mail leaves through the outbox: to a real SMTP server, retried while it is down, and never
//! carrying story text; the submitter's address is used once and then forgotten.

use std::time::Duration;

use diesel::RunQueryDsl;
use engawa::domain::Role;

use crate::helpers::{TestApp, TestDatabase, as_refs, spawn_configured, story_fields};
use crate::smtp::{SmtpServer, free_port};

fn fields_with_email(title: &str, email: &str) -> Vec<(&'static str, String)> {
    let mut fields = story_fields(title);
    for (k, v) in fields.iter_mut() {
        if *k == "email" {
            *v = email.to_owned();
        }
    }
    fields
}

/// What the alerts said of the queue, in the order they came: (items that arrived since the
/// last alert, items waiting).
fn alert_counts(smtp: &SmtpServer) -> Vec<(usize, usize)> {
    let number = |body: &str, before: &str, after: &str| -> usize {
        body.split_once(before)
            .and_then(|(_, rest)| rest.split_once(after))
            .map_or(0, |(n, _)| n.parse().expect("a count"))
    };
    smtp.received()
        .iter()
        .filter(|m| {
            m.subject.starts_with("【縁側】審査待ち")
                || m.subject.starts_with("【縁側】長く待っている")
        })
        .map(|m| {
            (
                number(
                    &m.body,
                    "前回のお知らせのあと、",
                    "件が審査キューに入りました",
                ),
                number(&m.body, "現在、審査待ちは", "件です。"),
            )
        })
        .collect()
}

/// When each moderators' alert was queued, from the outbox.
fn alert_times(app: &TestApp) -> Vec<chrono::NaiveDateTime> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        payload: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        created_at: chrono::NaiveDateTime,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT payload, created_at FROM outbox WHERE topic = 'mail' ORDER BY id",
    )
    .load(&mut app.conn())
    .unwrap();
    rows.into_iter()
        .filter(|r| r.payload.contains("\"kind\":\"moderator_alert\""))
        .map(|r| r.created_at)
        .collect()
}

/// While stories keep arriving, the moderators get one alert per interval, each counting what
/// arrived since the last: every submission is counted exactly once, no two alerts are closer
/// than the interval, and an interval in which nothing arrived sends nothing.
#[tokio::test]
async fn alerts_batch_one_per_interval_while_stories_keep_arriving() {
    let interval = Duration::from_secs(2);
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app_with_smtp_and(port, |s| {
        s.moderator_alert_interval = interval;
        s.submissions_per_hour = 100;
    })
    .await;
    app.add_staff("sato@engawa.test", "sato", Role::Moderator);
    let submitter = app.browser();
    let sent = 6;
    for i in 0..sent {
        submitter
            .send_story(&as_refs(&story_fields(&format!("次々に届く話{i}"))))
            .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let started = std::time::Instant::now();
    let counts = loop {
        let counts = alert_counts(&smtp);
        if counts.iter().map(|c| c.0).sum::<usize>() >= sent
            || started.elapsed() > Duration::from_secs(30)
        {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        counts.iter().map(|c| c.0).sum::<usize>(),
        sent,
        "every submission counted once: {counts:?}"
    );
    assert!(
        counts.len() >= 2,
        "arrivals over several intervals, several alerts: {counts:?}"
    );
    assert!(
        counts.iter().all(|c| c.0 > 0),
        "no alert without arrivals: {counts:?}"
    );
    assert_eq!(
        counts.last().map(|c| c.1),
        Some(sent),
        "the last one counts all waiting"
    );
    let times = alert_times(&app);
    assert_eq!(times.len(), counts.len());
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= chrono::Duration::from_std(interval).unwrap(),
            "two alerts within one interval: {times:?}"
        );
    }
    for mail in smtp.received() {
        assert_eq!(mail.to, vec!["sato@engawa.test"]);
        assert!(!mail.body.contains("次々に届く話"), "no story text in mail");
    }

    // Two more intervals without arrivals: nothing more.
    tokio::time::sleep(interval * 2).await;
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(
        alert_times(&app).len(),
        times.len(),
        "an interval without arrivals sends nothing"
    );
}

/// An item that has waited longer than the reminder time brings a reminder, even when nothing
/// new arrived, and only one per reminder time.
#[tokio::test]
async fn an_item_waiting_longer_than_the_reminder_time_brings_one_reminder() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app_with_smtp_and(port, |s| {
        s.moderator_alert_interval = Duration::from_secs(1);
        s.moderator_reminder = Duration::from_secs(3600);
    })
    .await;
    app.add_staff("sato@engawa.test", "sato", Role::Moderator);
    let sent_at = (chrono::Utc::now() - chrono::Duration::minutes(200))
        .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap())
        .to_rfc3339();
    app.seed(&[crate::helpers::with(
        crate::helpers::story(&crate::helpers::public_id(1), "待たされている話", "pending"),
        "submitted_at",
        serde_json::json!(sent_at),
    )]);
    let mails = smtp.wait_for(1).await;
    assert_eq!(
        mails[0].subject,
        "【縁側】長く待っている体験談があります（審査待ち1件）"
    );
    assert!(
        mails[0]
            .body
            .contains("長く審査を待っている体験談があります"),
        "{}",
        mails[0].body
    );
    assert!(
        mails[0]
            .body
            .contains("いちばん古いものは3時間前から待っています"),
        "{}",
        mails[0].body
    );
    assert!(!mails[0].body.contains("待たされている話"));
    // Several alert intervals later, still only the one reminder.
    tokio::time::sleep(Duration::from_secs(3)).await;
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(alert_times(&app).len(), 1, "one reminder per reminder time");
}

async fn app_with_smtp(port: u16) -> TestApp {
    app_with_smtp_and(port, |_| {}).await
}

/// A site that sends mail to the SMTP server on `port`, with `more` settings.
async fn app_with_smtp_and(port: u16, more: impl FnOnce(&mut engawa::config::Settings)) -> TestApp {
    spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.mail_retry = Duration::from_secs(1);
        s.base_url = "https://engawa.example".to_owned();
        more(s);
    })
    .await
}

#[derive(diesel::QueryableByName, Debug)]
struct OutboxMail {
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    delivered_at: Option<chrono::NaiveDateTime>,
}

fn outbox_mail(app: &TestApp) -> Vec<OutboxMail> {
    diesel::sql_query(
        "SELECT payload, attempts, delivered_at FROM outbox WHERE topic = 'mail' ORDER BY id",
    )
    .load(&mut app.conn())
    .unwrap()
}

/// Waits until the worker has marked every queued mail delivered (it does so after the
/// server's answer); panics after ten seconds.
async fn all_marked_delivered(app: &TestApp) {
    let started = std::time::Instant::now();
    while !outbox_mail(app).iter().all(|r| r.delivered_at.is_some()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never marked delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn moderators_are_alerted_at_most_once_per_interval_and_the_submitter_hears_the_decision() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app_with_smtp(port).await;
    app.add_staff("sato@engawa.test", "sato", Role::Moderator);
    app.add_staff("ed@engawa.test", "ed", Role::Editor);
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&fields_with_email(
            "知らせてほしい話",
            "me@example.jp",
        )))
        .await;
    submitter
        .send_story(&as_refs(&story_fields("二通目を呼ばない話")))
        .await;

    let mails = smtp.wait_for(1).await;
    let alert = &mails[0];
    assert_eq!(
        alert.to,
        vec!["sato@engawa.test"],
        "moderators only, not editors"
    );
    // One alert for both: they came within one interval (30 minutes here).
    assert!(
        alert.subject.starts_with("【縁側】審査待ちの体験談が")
            && alert.subject.ends_with("件あります"),
        "{}",
        alert.subject
    );
    assert!(alert.body.contains("https://engawa.example/mod"));
    assert!(
        !alert.body.contains("知らせてほしい話"),
        "no story text in mail"
    );

    let moderator = app.browser();
    moderator
        .login("sato@engawa.test", "sato-password-long")
        .await;
    let public_id = app.story_by_code(&code).public_id;
    moderator.approve(&public_id).await;
    assert!(
        app.story_by_code(&code).contact_email.is_none(),
        "the address left the story at once"
    );

    smtp.wait_for(2).await;
    // Both workers have passed since: a second alert would have been sent by now.
    crate::helpers::background_work_done(&app.address).await;
    let mails = smtp.received();
    assert_eq!(
        mails.len(),
        2,
        "the second submission did not alert again: {mails:#?}"
    );
    let decision = &mails[1];
    assert_eq!(decision.to, vec!["me@example.jp"]);
    assert_eq!(decision.subject, "【縁側】体験談を公開しました");
    assert!(
        decision
            .body
            .contains(&format!("https://engawa.example/stories/{public_id}"))
    );
    assert!(!decision.body.contains("知らせてほしい話"));

    // Once delivered (the worker marks it after the server's answer), no address remains
    // anywhere in the outbox.
    all_marked_delivered(&app).await;
    for row in outbox_mail(&app) {
        assert!(!row.payload.contains("@"), "{}", row.payload);
    }
}

#[tokio::test]
async fn while_the_smtp_server_is_down_mail_waits_in_the_outbox_and_is_delivered_after() {
    let port = free_port();
    let app = app_with_smtp(port).await;
    app.add_staff("sato@engawa.test", "sato", Role::Moderator);
    app.browser()
        .send_story(&as_refs(&story_fields("待たされる話")))
        .await;

    // The worker tries, fails, and keeps the mail.
    let started = std::time::Instant::now();
    loop {
        let rows = outbox_mail(&app);
        if rows.iter().any(|r| r.attempts >= 1) {
            assert!(rows.iter().all(|r| r.delivered_at.is_none()));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no delivery attempt: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let smtp = SmtpServer::start(port);
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].subject, "【縁側】審査待ちの体験談が1件あります");
    // Marked delivered (waited for as a condition), then still one mail after the worker has
    // passed over the outbox twice more: never sent again.
    all_marked_delivered(&app).await;
    crate::helpers::worker_passed(&app.address, "mail").await;
    crate::helpers::worker_passed(&app.address, "mail").await;
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
}

#[tokio::test]
async fn without_smtp_mail_is_written_to_the_data_folder() {
    let app = spawn_configured(TestDatabase::new(), false, |_| {}).await;
    app.add_staff("sato@engawa.test", "sato", Role::Moderator);
    app.browser()
        .send_story(&as_refs(&story_fields("ファイルに書かれる話")))
        .await;
    let dir = app.db.data_dir().join("outbox");
    let started = std::time::Instant::now();
    let file = loop {
        let found = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "eml"))
            })
            .ok()
            .flatten();
        if let Some(file) = found {
            break file;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no .eml in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let raw = std::fs::read(&file).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        message.subject(),
        Some("【縁側】審査待ちの体験談が1件あります")
    );
}

/// A submitter who left an address hears of every step: the change request with the moderator's
/// message (the address is kept for what follows), then the rejection with its reason and note
/// when the moderator chose to tell them (the address is then gone); another hears of the
/// publication; a third is rejected without being told why by mail (the status page still says).
#[tokio::test]
async fn a_submitter_hears_of_every_step_and_the_address_leaves_at_the_final_one() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app_with_smtp(port).await;
    let moderator = app.moderator("sato").await;
    let reason = app.settings.reject_reasons[1].clone();
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&fields_with_email(
            "直してから決まる話",
            "first@example.jp",
        )))
        .await;
    let id = app.story_by_code(&code).public_id;
    let panel = format!("/mod/stories/{id}");

    moderator
        .request_changes(&id, "勤務先の名前を消してください。")
        .await;
    let mails = smtp.wait_for_mail_to("first@example.jp", 1).await;
    assert_eq!(mails[0].subject, "【縁側】体験談の修正のお願い");
    assert!(
        mails[0].body.contains("勤務先の名前を消してください。"),
        "{}",
        mails[0].body
    );
    assert!(
        mails[0]
            .body
            .contains("https://engawa.example/stories/status")
    );
    assert!(
        !mails[0].body.contains("直してから決まる話"),
        "no story text in mail"
    );
    assert_eq!(
        app.story_by_code(&code).contact_email.as_deref(),
        Some("first@example.jp"),
        "kept for the decision that follows"
    );

    let status = submitter.status_page(&code).await;
    let mut fields = fields_with_email("直した話", "");
    fields.retain(|(k, _)| *k != "email");
    fields.push(("code", code.clone()));
    fields.push(("csrf_token", status.csrf()));
    let resent = submitter
        .post("/stories/status/resubmit", &as_refs(&fields))
        .await;
    assert_eq!(resent.status, 303, "{}", resent.body);

    let rejected = moderator
        .submit(
            &panel,
            &format!("{panel}/reject"),
            &[
                ("reason", reason.as_str()),
                ("note", "別の形でまた送ってください。"),
                ("tell", "yes"),
            ],
        )
        .await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    let mails = smtp.wait_for_mail_to("first@example.jp", 2).await;
    assert_eq!(mails[1].subject, "【縁側】体験談の審査結果のお知らせ");
    assert!(
        mails[1].body.contains(&format!("理由: {reason}")),
        "{}",
        mails[1].body
    );
    assert!(
        mails[1].body.contains("別の形でまた送ってください。"),
        "{}",
        mails[1].body
    );
    assert_eq!(
        app.story_by_code(&code).contact_email,
        None,
        "the address left with the final decision"
    );

    // Published: the mail says where; the address is gone.
    let second = app
        .browser()
        .send_story(&as_refs(&fields_with_email(
            "公開される話",
            "second@example.jp",
        )))
        .await;
    let second_id = app.story_by_code(&second).public_id;
    moderator.approve(&second_id).await;
    let mails = smtp.wait_for_mail_to("second@example.jp", 1).await;
    assert_eq!(mails[0].subject, "【縁側】体験談を公開しました");
    assert!(
        mails[0]
            .body
            .contains(&format!("https://engawa.example/stories/{second_id}"))
    );
    assert_eq!(app.story_by_code(&second).contact_email, None);

    // Rejected without 理由を伝える: the mail says only the outcome.
    let third = app
        .browser()
        .send_story(&as_refs(&fields_with_email(
            "理由を書かない話",
            "third@example.jp",
        )))
        .await;
    let third_id = app.story_by_code(&third).public_id;
    let third_panel = format!("/mod/stories/{third_id}");
    let page = moderator.get(&third_panel).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.attr("input#tell", "type").as_deref(),
        Some("checkbox"),
        "a submitter who left an address can be told why"
    );
    let rejected = moderator
        .submit(
            &third_panel,
            &format!("{third_panel}/reject"),
            &[("reason", reason.as_str()), ("note", "ここだけの補足")],
        )
        .await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    let mails = smtp.wait_for_mail_to("third@example.jp", 1).await;
    assert_eq!(mails[0].subject, "【縁側】体験談の審査結果のお知らせ");
    assert!(!mails[0].body.contains("理由:"), "{}", mails[0].body);
    assert!(
        !mails[0].body.contains("ここだけの補足"),
        "{}",
        mails[0].body
    );
    assert_eq!(app.story_by_code(&third).contact_email, None);
    let shown = app.browser().status_page(&third).await;
    assert!(
        shown.text(".moderator-message").contains("ここだけの補足"),
        "the status page still says why: {}",
        shown.text(".moderator-message")
    );
}
