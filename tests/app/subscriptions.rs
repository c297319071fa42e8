//! Email subscriptions against a real SMTP server: double opt-in, digest, one-click unsubscribe.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, TestDatabase, guide, spawn_configured, story, with};
use crate::smtp::{SmtpServer, free_port, link};

async fn app(port: u16) -> TestApp {
    spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.base_url = "https://engawa.example".to_owned();
        s.digest_interval = Duration::from_secs(1);
        s.feed_delay = Duration::ZERO;
        s.mail_retry = Duration::from_secs(1);
    })
    .await
}

fn subscriptions(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    engawa::db::schema::subscriptions::table
        .select(engawa::db::schema::subscriptions::email)
        .load(&mut app.conn())
        .unwrap()
}

#[tokio::test]
async fn subscribe_confirm_digest_and_one_click_unsubscribe() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app(port).await;
    let reader = app.browser();

    let bad = reader
        .submit(
            "/subscribe",
            "/subscribe",
            &[("email", "not-an-address"), ("guides", "yes")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text(".error-summary").contains("メールアドレスの形式"));

    let page = reader.subscribe("reader@example.jp").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/subscribe/sent"));
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["reader@example.jp"]);
    assert_eq!(
        mails[0].subject,
        "【縁側】メール配信の登録を確認してください"
    );
    let confirm = link(&mails[0].body, "https://engawa.example/subscribe/confirm");

    // Nothing but the confirmation goes to an unconfirmed address, even with news to tell.
    app.seed(&[guide("before-confirm", "確認前のガイド", "published")]);
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(smtp.received().len(), 1, "no digest before confirmation");

    // Opening the link shows a button; only the button confirms.
    let landing = reader.get(&confirm).await;
    assert_eq!(landing.status, 200);
    let forged = reader.get(&confirm.replace("sig=", "sig=0")).await;
    assert_eq!(
        forged.status, 404,
        "a link that was not signed by us does nothing"
    );
    let token = landing.csrf();
    let done = reader.post(&confirm, &[("csrf_token", &token)]).await;
    assert_eq!(done.status, 200);
    assert_eq!(done.text("h1"), "登録しました");

    app.seed(&[
        guide("after-confirm", "確認後のガイド", "published"),
        with(
            story("dgstxxxxxxx2", "確認後の体験談", "approved"),
            "published_at",
            json!(chrono::Utc::now().to_rfc3339()),
        ),
        story("pendxxxxxxx2", "審査待ちの話", "pending"),
        story("rejxxxxxxxx2", "不採用の話", "rejected"),
        story("wthxxxxxxxx2", "取り下げの話", "withdrawn"),
        guide("draft-after", "下書きのガイド", "draft"),
    ]);
    let mails = smtp.wait_for(2).await;
    let digest = &mails[1];
    assert_eq!(digest.to, vec!["reader@example.jp"]);
    assert_eq!(digest.subject, "【縁側】新着のお知らせ（2件）");
    assert!(
        digest.body.contains("確認後のガイド") && digest.body.contains("確認後の体験談"),
        "{}",
        digest.body
    );
    assert!(
        digest
            .body
            .contains("https://engawa.example/guides/after-confirm")
    );
    assert!(
        !digest.body.contains("確認前のガイド"),
        "only what is new since confirmation"
    );
    for hidden in [
        "審査待ちの話",
        "不採用の話",
        "取り下げの話",
        "下書きのガイド",
    ] {
        assert!(
            !digest.body.contains(hidden),
            "never what is not public: {hidden}"
        );
    }
    let unsubscribe = link(&digest.body, "https://engawa.example/unsubscribe");
    assert!(
        digest.raw.contains(&format!(
            "List-Unsubscribe: <https://engawa.example{unsubscribe}>"
        )),
        "{}",
        digest.raw
    );
    assert!(
        digest
            .raw
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );

    // RFC 8058: the mail program posts, with no page, no cookie and no token.
    let one_click = reqwest::Client::new()
        .post(format!("{}{unsubscribe}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert!(
        subscriptions(&app).is_empty(),
        "unsubscribing deletes the address"
    );

    app.seed(&[guide("after-unsubscribe", "停止後のガイド", "published")]);
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(smtp.received().len(), 2, "nothing after unsubscribing");
}

#[tokio::test]
async fn subscribing_an_address_twice_reveals_nothing_and_changes_nothing() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app(port).await;
    let first = app.browser();
    let sent = first
        .submit(
            "/subscribe",
            "/subscribe",
            &[("email", "a@example.jp"), ("guides", "yes")],
        )
        .await;
    assert_eq!(sent.status, 303);
    let mails = smtp.wait_for(1).await;
    let confirm = link(&mails[0].body, "https://engawa.example/subscribe/confirm");
    let landing = first.get(&confirm).await;
    assert_eq!(landing.status, 200);
    let confirmed = first
        .post(&confirm, &[("csrf_token", &landing.csrf())])
        .await;
    assert!(
        [200, 303].contains(&confirmed.status),
        "confirming: {}",
        confirmed.status
    );
    let confirmed_at = || -> Vec<(bool, bool, bool)> {
        use diesel::prelude::*;
        use engawa::db::schema::subscriptions as subs;
        subs::table
            .select((
                subs::confirmed_at.is_not_null(),
                subs::want_guides,
                subs::want_stories,
            ))
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(
        confirmed_at(),
        vec![(true, true, false)],
        "confirmed, guides only"
    );

    let stranger = app.browser();
    let page = stranger
        .submit(
            "/subscribe",
            "/subscribe",
            &[("email", "a@example.jp"), ("stories", "yes")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("/subscribe/sent"),
        "the same answer as for a new address"
    );
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(
        smtp.received().len(),
        1,
        "no mail to a confirmed address from a stranger's request"
    );
    assert_eq!(subscriptions(&app), vec!["a@example.jp"]);
    assert_eq!(
        confirmed_at(),
        vec![(true, true, false)],
        "the stranger changed neither the confirmation nor the choice"
    );
}

/// A digest never loses an item whose writer stamped it just before the digest read but
/// committed just after (an approval waiting for the write lock while the digest runs): the
/// item comes in the next digest. The clock is passed in, so the race is staged exactly.
#[tokio::test]
async fn an_item_committed_just_after_a_digest_read_comes_in_the_next_one() {
    use diesel::prelude::*;
    use engawa::db::schema::subscriptions as subs;
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        // The node's own scheduler never finds this subscription due during the test.
        s.digest_interval = Duration::from_secs(3600);
        s.feed_delay = Duration::ZERO;
    })
    .await;
    let confirmed = chrono::Utc::now();
    diesel::insert_into(subs::table)
        .values((
            subs::email.eq("reader@example.jp"),
            subs::want_guides.eq(true),
            subs::want_stories.eq(true),
            subs::created_at.eq(confirmed.naive_utc()),
            subs::confirmed_at.eq(confirmed.naive_utc()),
            subs::digest_until.eq(confirmed.naive_utc()),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let hour = chrono::Duration::hours(1);
    let digest_at = |at: chrono::DateTime<chrono::Utc>| {
        engawa::models::subscription::send_digests(
            &mut app.conn(),
            &app.settings.base_url,
            &engawa::secrets::SecretKey::load(None, app.db.data_dir()).unwrap(),
            Duration::from_secs(3600),
            Duration::ZERO,
            at.naive_utc(),
        )
        .unwrap()
    };
    let published = |slug: &str, title: &str, at: chrono::DateTime<chrono::Utc>| {
        with(
            guide(slug, title, "published"),
            "published_at",
            json!(at.to_rfc3339()),
        )
    };

    app.seed(&[published("early", "前半のガイド", confirmed + hour / 2)]);
    let first = confirmed + hour + chrono::Duration::seconds(1);
    assert_eq!(digest_at(first), 1);
    // Stamped 200 ms before the first digest read, visible only after it.
    app.seed(&[published(
        "late",
        "遅れて確定したガイド",
        first - chrono::Duration::milliseconds(200),
    )]);
    assert_eq!(digest_at(first + hour + chrono::Duration::seconds(1)), 1);

    let digests: Vec<String> = diesel::sql_query(
        "SELECT payload FROM outbox WHERE topic = 'mail' AND payload LIKE '%新着%' ORDER BY id",
    )
    .load::<Payload>(&mut app.conn())
    .unwrap()
    .into_iter()
    .map(|p| p.payload)
    .collect();
    assert_eq!(digests.len(), 2);
    assert!(digests[0].contains("前半のガイド"), "{}", digests[0]);
    assert!(
        digests[1].contains("遅れて確定したガイド") && !digests[1].contains("前半のガイド"),
        "{}",
        digests[1]
    );
}

#[derive(diesel::QueryableByName)]
struct Payload {
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
}

/// An address someone typed and never confirmed is not kept: the confirmation mail says for how
/// long it waits, and then it is gone (the clock is moved by dating the request back).
#[tokio::test]
async fn an_unconfirmed_address_is_deleted_after_a_week() {
    use diesel::prelude::*;
    use engawa::db::schema::subscriptions as s;
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app(port).await;
    for email in ["old@example.jp", "recent@example.jp"] {
        assert_eq!(app.browser().subscribe(email).await.status, 303);
    }
    let mails = smtp.wait_for(2).await;
    assert!(
        mails[0].body.contains("7日以内に確定されない場合"),
        "{}",
        mails[0].body
    );
    let now = engawa::models::now();
    diesel::update(s::table.filter(s::email.eq("old@example.jp")))
        .set(s::created_at.eq(now - chrono::Duration::days(8)))
        .execute(&mut app.conn())
        .unwrap();
    diesel::update(s::table.filter(s::email.eq("recent@example.jp")))
        .set(s::created_at.eq(now - chrono::Duration::days(6)))
        .execute(&mut app.conn())
        .unwrap();
    let gone = engawa::models::subscription::Subscription::forget_unconfirmed(&mut app.conn(), now)
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(subscriptions(&app), vec!["recent@example.jp"]);
}

/// A subscription to one tag brings only the stories of that tag, and only the kinds chosen.
#[tokio::test]
async fn a_tag_subscription_brings_only_that_tags_stories() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = app(port).await;
    let reader = app.browser();
    let sent = reader
        .submit(
            "/subscribe",
            "/subscribe",
            &[
                ("email", "tag@example.jp"),
                ("stories", "yes"),
                ("tag", "読書"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let mails = smtp.wait_for(1).await;
    let confirm = link(&mails[0].body, "https://engawa.example/subscribe/confirm");
    let landing = reader.get(&confirm).await;
    assert_eq!(landing.status, 200);
    let done = reader
        .post(&confirm, &[("csrf_token", &landing.csrf())])
        .await;
    assert_eq!(done.status, 200);
    assert_eq!(done.text("h1"), "登録しました");

    let now = json!(chrono::Utc::now().to_rfc3339());
    let tagged = |id: &str, title: &str, tag: &str| {
        with(
            with(story(id, title, "approved"), "published_at", now.clone()),
            "tags",
            json!([tag]),
        )
    };
    app.seed(&[
        tagged("tagxxxxxxxx2", "読書の話", "読書"),
        tagged("tagxxxxxxxx3", "映画の話", "映画"),
        guide("tag-guide", "読書のガイド", "published"),
    ]);
    let mails = smtp.wait_for(2).await;
    let digest = &mails[1];
    assert_eq!(digest.to, vec!["tag@example.jp"]);
    assert_eq!(digest.subject, "【縁側】新着のお知らせ（1件）");
    assert!(digest.body.contains("読書の話"), "{}", digest.body);
    assert!(
        !digest.body.contains("映画の話"),
        "another tag: {}",
        digest.body
    );
    assert!(
        !digest.body.contains("読書のガイド"),
        "guides were not chosen: {}",
        digest.body
    );
    crate::helpers::background_work_done(&app.address).await;
    assert_eq!(smtp.received().len(), 2, "one digest, nothing more");
}

/// One client may ask for five subscriptions an hour; the sixth is refused with the form kept,
/// and another client is not held back.
#[tokio::test]
async fn one_client_may_ask_for_five_subscriptions_an_hour() {
    use std::net::{IpAddr, Ipv4Addr};
    let port = free_port();
    let _smtp = SmtpServer::start(port);
    let app = app(port).await;
    let source = |last: u8| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)));
    let asker = crate::helpers::Browser::from_source(&app.address, source(41));
    for n in 0..5 {
        let page = asker.subscribe(&format!("many{n}@example.jp")).await;
        assert_eq!(page.status, 303, "request {n}: {}", page.body);
    }
    let refused = asker.subscribe("many5@example.jp").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused
            .text(".error-summary")
            .contains("しばらくたってから"),
        "{}",
        refused.text("main")
    );
    assert_eq!(
        refused.attr("input[name=email]", "value").as_deref(),
        Some("many5@example.jp"),
        "what was typed is kept"
    );
    assert_eq!(subscriptions(&app).len(), 5, "the sixth stored nothing");
    let other = crate::helpers::Browser::from_source(&app.address, source(42));
    let page = other.subscribe("other@example.jp").await;
    assert_eq!(page.status, 303, "another client: {}", page.body);
    assert_eq!(subscriptions(&app).len(), 6);
}
