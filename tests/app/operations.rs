//! Operating the site: health and readiness, backups under load, graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use diesel::{Connection, QueryDsl};

use crate::helpers::{TestDatabase, run_cli, spawn_app, wait_for_status};
use crate::process::ServerProcess;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let ready = wait_for_status(
        &app.client,
        &format!("{}/readyz", app.address),
        200,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(ready, 200);
}

#[tokio::test]
async fn readiness_follows_the_database_going_away_and_coming_back() {
    let app = spawn_app().await;
    let Some((admin, name)) = app.db.postgres().map(|(a, n)| (a.to_owned(), n.to_owned())) else {
        return; // Needs a database server that can be made unreachable; runs in the PostgreSQL pass.
    };
    let url = format!("{}/readyz", app.address);
    assert_eq!(
        wait_for_status(&app.client, &url, 200, Duration::from_secs(5)).await,
        200
    );

    let mut admin = PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut admin)
    .unwrap();
    let down = wait_for_status(&app.client, &url, 503, Duration::from_secs(10)).await;
    assert_eq!(down, 503, "not ready while the database is unreachable");
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "but the process is up"
    );

    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .unwrap();
    let up = wait_for_status(&app.client, &url, 200, Duration::from_secs(10)).await;
    assert_eq!(up, 200, "ready again when it returns");
}

fn count_stories(url: &str) -> i64 {
    let mut conn = engawa::db::establish(url).unwrap();
    engawa::db::schema::stories::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_write_load_holds_every_row_committed_before_it() {
    let db = TestDatabase::new();
    if db.is_postgres() {
        return; // `engawa backup` copies SQLite; PostgreSQL uses pg_dump (docs/OPERATIONS.md).
    }
    let out = run_cli(&db.url, db.data_dir(), &["demo", "--stories", "300"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _server = ServerProcess::start(&db, &["serve"], &[]);

    // Writers keep adding stories while the backup runs.
    let writing = Arc::new(AtomicBool::new(true));
    let (url, dir) = (db.url.clone(), db.data_dir().to_owned());
    let flag = writing.clone();
    let writer = std::thread::spawn(move || {
        let mut rounds = 0;
        while flag.load(Ordering::Relaxed) {
            let out = run_cli(
                &url,
                &dir,
                &["demo", "--stories", "200", "--seed", &rounds.to_string()],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            rounds += 1;
        }
        rounds
    });
    // The writers have committed a batch before the backup starts.
    let started = std::time::Instant::now();
    while count_stories(&db.url) <= 300 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no batch written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let committed_before = count_stories(&db.url);
    let dest = db.data_dir().join("backup.sqlite3");
    let out = run_cli(&db.url, db.data_dir(), &["backup", dest.to_str().unwrap()]);
    writing.store(false, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("backed up"), "{stdout}");
    assert!(rounds >= 1, "the writers were running");
    // Writing went on across the backup: batches before it and batches after it started.
    assert!(
        count_stories(&db.url) > committed_before,
        "the writers kept writing while the backup ran"
    );

    let in_backup = count_stories(dest.to_str().unwrap());
    assert!(
        in_backup >= committed_before,
        "{in_backup} < {committed_before}"
    );
    // 300 at first, then batches of 200, each one transaction: a copy holds whole batches only.
    assert_eq!(
        (in_backup - 300) % 200,
        0,
        "no batch is half in the copy: {in_backup}"
    );

    // The key that signs confirmation and unsubscribe links is kept beside the copy.
    let key_copy = db.data_dir().join("backup.sqlite3.secret.key");
    assert!(stdout.contains("backup.sqlite3.secret.key"), "{stdout}");
    assert_eq!(
        std::fs::read(&key_copy).unwrap(),
        std::fs::read(db.data_dir().join("secret.key")).unwrap()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the copy is private too");
    }

    // Restoring is putting the key back and starting a server on the copy.
    let restored = TestDatabase::new();
    std::fs::copy(&key_copy, restored.data_dir().join("secret.key")).unwrap();
    let server = ServerProcess::start(
        &restored,
        &["serve"],
        &[("DATABASE_URL", dest.to_str().unwrap())],
    );
    let page =
        crate::helpers::body_of(reqwest::Client::new().get(format!("{}/stories", server.address)))
            .await;
    assert!(
        page.contains(&format!("{in_backup}件の体験談")),
        "the restored site shows every story"
    );

    let again = run_cli(&db.url, db.data_dir(), &["backup", dest.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
}

#[tokio::test]
async fn sigterm_under_load_fails_no_request_in_flight_and_exits_promptly() {
    let db = TestDatabase::new();
    let server = ServerProcess::start(&db, &["serve", "--demo"], &[]);
    let address = server.address.clone();
    // One connection per request: an idle keep-alive connection closed by the stopping server is
    // not a request in flight, and would blur what this test measures.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, address, stop, answered) = (
            client.clone(),
            address.clone(),
            stop.clone(),
            answered.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match client.get(format!("{address}/stories")).send().await {
                    Ok(r) => match r.bytes().await {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.push(format!("body cut: {e}")),
                    },
                    // After shutdown starts, new connections are refused: that is not a failure
                    // of a request in flight.
                    Err(e) if e.is_connect() => break,
                    Err(e) => failures.push(format!("{e:?}")),
                }
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let terminating = tokio::task::spawn_blocking(move || server.terminate());
    // Like a load balancer: keep sending until the node reports not-ready, then stop sending.
    let drained = wait_for_status(
        &client,
        &format!("{address}/readyz"),
        503,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(drained, 503, "the node reports not-ready while it drains");
    // It still serves while draining: more answers come after it said not-ready (the drain
    // lasts two seconds; one more answer within them is enough).
    let served_while_draining = answered.load(Ordering::Relaxed);
    let drain_started = std::time::Instant::now();
    while answered.load(Ordering::Relaxed) <= served_while_draining {
        assert!(
            drain_started.elapsed() < Duration::from_secs(2),
            "it stopped serving as soon as it reported not-ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let took = terminating.await.unwrap();
    for w in workers {
        let failures = w.await.unwrap();
        assert!(
            failures.is_empty(),
            "requests in flight failed: {failures:?}"
        );
    }
    assert!(answered.load(Ordering::Relaxed) > 10, "there was load");
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
}

#[tokio::test]
async fn metrics_need_the_token_and_name_routes_not_pages() {
    let app = crate::helpers::spawn_configured(TestDatabase::new(), false, |s| {
        s.metrics_token = Some("a-long-metrics-token".to_owned())
    })
    .await;
    app.seed(&[crate::helpers::story(
        "mtrxxxxxxxx2",
        "数えられる話",
        "approved",
    )]);
    assert_eq!(app.get("/stories/mtrxxxxxxxx2").await.status, 200);
    assert_eq!(
        app.get("/metrics").await.status,
        404,
        "hidden without the token"
    );
    let wrong = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth("wrong-token-but-long")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let body = crate::helpers::body_of(
        app.client
            .get(format!("{}/metrics", app.address))
            .bearer_auth("a-long-metrics-token"),
    )
    .await;
    assert!(
        body.contains(
            "engawa_http_requests_total{route=\"/stories/{public_id}\",status=\"200\"} 1"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "engawa_http_request_duration_seconds_count{route=\"/stories/{public_id}\"} 1"
        )
    );
    assert!(body.contains("engawa_moderation_queue_length 0"));
    assert!(body.contains("engawa_mail_undelivered"));
    assert!(body.contains("engawa_outbox_lag_events"));
    // Each background loop reports its passes; they grow while the node runs.
    for worker in ["mail", "scheduler", "erasure"] {
        let before =
            crate::helpers::worker_passes_with(&app.address, "a-long-metrics-token", worker).await;
        let started = std::time::Instant::now();
        while crate::helpers::worker_passes_with(&app.address, "a-long-metrics-token", worker).await
            <= before
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{worker} never passes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        !body.contains("mtrxxxxxxxx2"),
        "no concrete page in the metrics"
    );
}

/// Without the token, /metrics answers only the networks in ENGAWA_METRICS_ALLOW, resolved through
/// trusted proxies: a public request relayed by a local proxy is not a local one.
#[tokio::test]
async fn metrics_answer_the_allowed_network_and_no_one_else() {
    let app = crate::helpers::spawn_configured(TestDatabase::new(), false, |s| {
        s.metrics_token = None;
        s.metrics_allow = engawa::client::TrustedProxies::parse("127.0.0.7/32").unwrap();
        s.trusted_proxies = engawa::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let from = |source: [u8; 4], forwarded: Option<&str>| {
        let mut request = reqwest::Client::builder()
            .local_address(Some(std::net::IpAddr::from(source)))
            .build()
            .unwrap()
            .get(format!("{}/metrics", app.address));
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        request.send()
    };
    let allowed = from([127, 0, 0, 7], None).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(
        allowed
            .text()
            .await
            .unwrap()
            .contains("engawa_worker_passes_total")
    );
    for (source, forwarded, what) in [
        ([127, 0, 0, 8], None, "another address"),
        (
            [127, 0, 0, 8],
            Some("127.0.0.7"),
            "a forged header from an untrusted peer",
        ),
        (
            [127, 0, 0, 1],
            Some("203.0.113.5"),
            "a public client through the proxy",
        ),
    ] {
        let res = from(source, forwarded).await.unwrap();
        assert_eq!(res.status(), 404, "{what}");
        assert!(!res.text().await.unwrap().contains("engawa_"), "{what}");
    }
    let relayed = from([127, 0, 0, 1], Some("127.0.0.7")).await.unwrap();
    assert_eq!(
        relayed.status(),
        200,
        "the allowed address through the proxy"
    );
}
