//! Two `engawa serve` processes on one PostgreSQL database, as behind a load balancer: any node
//! takes any request, each keeps its own search index, and what must happen once happens once.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::helpers::{Browser, TestDatabase, add_user, as_refs, story_fields};
use crate::process::ServerProcess;
use crate::smtp::{SmtpServer, free_port};

async fn eventually(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_nodes_share_sessions_search_mail_and_schedules() {
    let db = TestDatabase::new();
    if !db.is_postgres() {
        return; // Several nodes need PostgreSQL; runs in the PostgreSQL pass.
    }
    let port = free_port();
    let smtp = SmtpServer::start(port);
    add_user(&db, "mod@engawa.test", "moderator", "moderator-password");
    add_user(&db, "ed@engawa.test", "editor", "editor-password!");
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let env = [
        (
            "ENGAWA_SECRET_KEY",
            "a-secret-shared-by-every-node-of-the-site",
        ),
        ("ENGAWA_SMTP_URL", smtp_url.as_str()),
        ("ENGAWA_FEED_DELAY_MINUTES", "0"),
        ("ENGAWA_MAIL_RETRY_SECONDS", "1"),
    ];
    let a = ServerProcess::start(&db, &["serve"], &env);
    let b_dir = tempfile::tempdir().unwrap();
    let mut b_env = env.to_vec();
    b_env.push(("ENGAWA_DATA_DIR", b_dir.path().to_str().unwrap()));
    let b = ServerProcess::start(&db, &["serve"], &b_env);

    // Submitted on A, approved on B.
    let submitter = Browser::new(&a.address);
    let mut fields = story_fields("二つのノードの話");
    for (k, v) in fields.iter_mut() {
        if *k == "email" {
            *v = "me@example.jp".to_owned();
        }
        if *k == "body" {
            v.push_str("灯台守の話をしました。");
        }
    }
    let code = submitter.send_story(&as_refs(&fields)).await;
    let moderator = Browser::new(&b.address);
    moderator
        .login("mod@engawa.test", "moderator-password")
        .await;
    let queue = moderator.get("/mod").await;
    let href = queue
        .attr("table.queue tbody a.story-title", "href")
        .expect("the story is in B's queue");
    let public_id = href.rsplit('/').next().unwrap().to_owned();
    let approved = moderator
        .submit(&href, &format!("{href}/approve"), &[])
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);

    // On A's pages at once, in A's own search index within seconds.
    let reader = Browser::new(&a.address);
    assert_eq!(
        reader.get(&format!("/stories/{public_id}")).await.status,
        200
    );
    eventually(
        "the story in A's search",
        Duration::from_secs(5),
        async || {
            !reader
                .get("/search?q=%E7%81%AF%E5%8F%B0")
                .await
                .texts("ol.results .card-title")
                .is_empty()
        },
    )
    .await;
    // The receipt code works on either node.
    let status = Browser::new(&b.address)
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(status.text(".status-label"), "公開中");

    // Mail: the moderators' alert and the decision, each exactly once though two nodes deliver.
    let mails = smtp.wait_for(2).await;
    for node in [&a.address, &b.address] {
        crate::helpers::worker_passed(node, "mail").await;
    }
    let mails_after = smtp.received();
    assert_eq!(
        mails_after.len(),
        2,
        "each mail once: {:#?}",
        mails_after.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(mails.iter().any(|m| m.to == vec!["me@example.jp"]));

    // A guide scheduled on B publishes once, and A shows it.
    let editor = Browser::new(&b.address);
    editor.login("ed@engawa.test", "editor-password!").await;
    let form = editor.get("/mod/guides/new").await;
    let at = {
        use chrono::TimeZone;
        chrono_tz::Asia::Tokyo
            .from_utc_datetime(&(chrono::Utc::now().naive_utc() + chrono::Duration::seconds(4)))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    let token = form.csrf();
    let saved = editor
        .post(
            "/mod/guides/new",
            &[
                ("csrf_token", &token),
                ("title", "予約されたガイド"),
                ("slug", "scheduled-on-b"),
                ("body", "二つのノードで一度だけ公開されます。"),
                ("publish_at", &at),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    eventually(
        "the scheduled guide on A",
        Duration::from_secs(30),
        async || reader.get("/guides/scheduled-on-b").await.status == 200,
    )
    .await;
    // Both schedulers have looked again since: neither publishes it a second time.
    for node in [&a.address, &b.address] {
        crate::helpers::worker_passed(node, "scheduler").await;
    }
    let mut conn = engawa::db::establish(&db.url).unwrap();
    let events: i64 = engawa::db::schema::outbox::table
        .filter(engawa::db::schema::outbox::topic.eq("guide.published"))
        .filter(engawa::db::schema::outbox::payload.like("%scheduled-on-b%"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(events, 1, "published once, by one node");
    let logged = [a.log(), b.log()]
        .iter()
        .map(|l| l.matches("scheduled guide published").count())
        .sum::<usize>();
    assert_eq!(logged, 1);

    // A synonym group added on B widens A's next searches: A holds the groups it read for its
    // content version, and B's change moves that version.
    let lighthouse = "/search?q=%E3%83%A9%E3%82%A4%E3%83%88%E3%83%8F%E3%82%A6%E3%82%B9";
    assert!(
        reader
            .get(lighthouse)
            .await
            .texts("ol.results .card-title")
            .is_empty()
    );
    let added = editor
        .submit(
            "/mod/synonyms",
            "/mod/synonyms",
            &[("words", "灯台・ライトハウス")],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    eventually(
        "B's synonym group in A's search",
        Duration::from_secs(5),
        async || {
            reader.get(lighthouse).await.texts("ol.results .card-title")
                == vec!["二つのノードの話".to_owned()]
        },
    )
    .await;
}

/// Every node follows the outbox by id ("nothing after N"), so on PostgreSQL, where a sequence
/// hands out ids before commit, a later id must never become visible while an earlier one is
/// still uncommitted: the reader would skip the earlier event for good.
#[test]
fn outbox_ids_become_visible_in_order() {
    use engawa::db::schema::outbox;
    use engawa::models::outbox::Outbox;
    let db = TestDatabase::new();
    if !db.is_postgres() {
        return; // SQLite has one writer at a time; the question is PostgreSQL's.
    }
    let pool = engawa::db::connect(&db.url).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let payload = serde_json::json!({});
    let (started, wait_started) = std::sync::mpsc::channel();
    let (release, wait_release) = std::sync::mpsc::channel::<()>();
    // The slow writer publishes and keeps its transaction open until the test lets it commit.
    let slow = {
        let pool = pool.clone();
        let payload = payload.clone();
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            conn.transaction(|conn| {
                Outbox::publish(conn, "test.slow", &payload, now)?;
                started.send(()).unwrap();
                wait_release.recv().unwrap();
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        })
    };
    wait_started.recv().unwrap();
    let fast = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            Outbox::publish(&mut pool.get().unwrap(), "test.fast", &payload, now).unwrap();
        })
    };
    // The fast writer is seen waiting for its turn (an advisory lock), not merely slow to start.
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let started_at = std::time::Instant::now();
    loop {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        )
        .get_result(&mut pool.get().unwrap())
        .unwrap();
        if waiting.n >= 1 {
            break;
        }
        assert!(
            !fast.is_finished(),
            "the second writer finished while the first was still open"
        );
        assert!(
            started_at.elapsed() < Duration::from_secs(20),
            "the second writer never waited"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let visible_meanwhile = Outbox::max_id(&mut pool.get().unwrap()).unwrap();
    assert!(
        !fast.is_finished(),
        "the second writer waits until the first commits"
    );
    release.send(()).unwrap();
    slow.join().unwrap();
    fast.join().unwrap();

    let id_of = |topic: &str| -> i64 {
        let id: i32 = outbox::table
            .filter(outbox::topic.eq(topic))
            .select(outbox::id)
            .first(&mut pool.get().unwrap())
            .unwrap();
        i64::from(id)
    };
    let (slow_id, fast_id) = (id_of("test.slow"), id_of("test.fast"));
    assert!(
        visible_meanwhile < slow_id,
        "row {visible_meanwhile} was visible while row {slow_id} was not committed"
    );
    assert!(fast_id > slow_id);
}
