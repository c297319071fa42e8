//! No GET or HEAD changes anything. Every page reachable by following links (public pages, the
//! submitter's pages, the panel as an admin, a moderator and an editor), each fetched with GET
//! and with HEAD, leaves every row of every table as it was.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use engawa::db::DbConn;
use engawa::domain::Role;

use crate::helpers::{Browser, TestApp, TestDatabase, as_refs, spawn_app_with, story_fields};

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Dump {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    dump: Option<String>,
}

/// Every table's rows as text, in a stable order.
fn snapshot(conn: &mut DbConn) -> BTreeMap<String, String> {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let tables: Vec<Name> = if postgres {
        diesel::sql_query(
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'",
        )
        .load(conn)
        .expect("tables")
    } else {
        diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .load(conn)
        .expect("tables")
    };
    tables
        .into_iter()
        .map(|t| {
            let sql = if postgres {
                format!(
                    "SELECT string_agg(r::text, E'\\n' ORDER BY r::text) AS dump FROM \"{}\" r",
                    t.name
                )
            } else {
                let columns: Vec<Name> =
                    diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", t.name))
                        .load(conn)
                        .expect("columns");
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c.name))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                format!(
                    "SELECT group_concat(r, char(10)) AS dump FROM (SELECT {row} AS r FROM \"{}\" ORDER BY 1)",
                    t.name
                )
            };
            let dump: Dump = diesel::sql_query(sql).get_result(conn).expect("dump");
            (t.name, dump.dump.unwrap_or_default())
        })
        .collect()
}

/// Same-origin links and form pages on a page.
fn links(body: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let selector = scraper::Selector::parse("a[href], link[href]").expect("selector");
    doc.select(&selector)
        .filter_map(|e| e.value().attr("href"))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_owned())
        .filter(|href| !href.is_empty())
        .collect()
}

/// Fetches every page reachable from `start` with GET and HEAD (at most `limit` pages);
/// returns the paths visited.
async fn crawl(visitor: &Browser, start: &[&str], limit: usize) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = start.iter().map(|s| (*s).to_owned()).collect();
    while let Some(path) = queue.pop_front() {
        if seen.len() >= limit || !seen.insert(path.clone()) {
            continue;
        }
        let url = format!("{}{path}", visitor.address);
        let head = visitor.client.head(&url).send().await.expect("HEAD");
        assert!(
            head.status().as_u16() < 500,
            "HEAD {path}: {}",
            head.status()
        );
        let page = visitor.get(&path).await;
        assert!(page.status < 500, "GET {path}: {}", page.status);
        let html = page
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        if html {
            queue.extend(links(&page.body).into_iter().filter(|l| !seen.contains(l)));
        }
    }
    seen
}

/// Waits until background work started before the crawl is done: mail sent, clean-ups run.
async fn settled(app: &TestApp) {
    // The scheduler's work first (the moderators' alert about the submissions), then its mail.
    crate::helpers::background_work_done(&app.address).await;
    let started = Instant::now();
    loop {
        let mut conn = app.conn();
        let mail = engawa::models::outbox::Outbox::undelivered_mail_count(&mut conn).unwrap();
        let erasures = engawa::models::erasure::ErasureQueue::pending(&mut conn)
            .unwrap()
            .len();
        if mail == 0 && erasures == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "background work did not settle"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn no_get_or_head_changes_a_row_for_any_visitor_or_role() {
    let app = spawn_app_with(TestDatabase::new(), true).await;
    let search = format!("{}/search?q=%E5%AE%B6%E6%97%8F", app.address);
    let ready = crate::helpers::wait_for_status(&app.client, &search, 200, Duration::from_secs(30));
    assert_eq!(ready.await, 200, "the index was built");
    // Something in every state a page shows: a pending story with a status page, a held one.
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(&story_fields("まだ審査中の話")))
        .await;
    let pending = app.story_by_code(&code).public_id;
    let admin = app.signed_in("kato", Role::Admin).await;
    let moderator = app.moderator("sato").await;
    let editor = app.signed_in("ito", Role::Editor).await;
    settled(&app).await;
    let before = snapshot(&mut app.conn());

    let reader = crawl(
        &app.browser(),
        &[
            "/",
            "/stories/new",
            "/stories/status",
            "/subscribe",
            "/subscribe/confirm?id=1&sig=00",
            "/unsubscribe?id=1&sig=00",
            "/stories/status/done?what=withdrawn",
            "/search?q=%E5%AE%B6%E6%97%8F",
        ],
        250,
    )
    .await;
    assert!(reader.len() > 40, "the public site was crawled: {reader:?}");
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(
        status.status, 200,
        "the status page, a POST that only reads"
    );
    let story_page = format!("/mod/stories/{pending}");
    for (who, visitor) in [
        ("admin", &admin),
        ("moderator", &moderator),
        ("editor", &editor),
    ] {
        let pages = crawl(
            visitor,
            &["/mod", story_page.as_str(), "/mod/guides", "/mod/log"],
            250,
        )
        .await;
        assert!(pages.len() > 5, "{who} crawled the panel: {pages:?}");
    }
    let after = snapshot(&mut app.conn());
    for (table, rows) in &before {
        assert_eq!(
            after.get(table),
            Some(rows),
            "a GET or HEAD changed the table {table}"
        );
    }
    assert!(
        before.contains_key("stories") && before["stories"].contains("まだ審査中の話"),
        "the snapshot holds the rows"
    );
}
