//! Crash safety: submissions sent concurrently while the server is killed with SIGKILL. Every
//! submission whose receipt page was shown must be there after a restart, whole; nothing else
//! may be half-written; and the node becomes ready again (index and outbox caught up).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{TestDatabase, as_refs, story_fields};
use crate::process::ServerProcess;

const KILLS: usize = 5;
const WRITERS: usize = 6;

/// One submission the way a browser makes it; the receipt code once the receipt page shows it,
/// None if anything failed on the way (the server may be dying).
async fn submit_once(address: &str, title: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let form = client
        .get(format!("{address}/stories/new"))
        .send()
        .await
        .ok()?;
    let token = crate::helpers::Page::parse(form.text().await.ok()?)
        .attr("input[name=csrf_token]", "value")?;
    let fields = story_fields(title);
    let mut fields = as_refs(&fields);
    fields.push(("csrf_token", &token));
    let sent = client
        .post(format!("{address}/stories/new"))
        .form(&fields)
        .send()
        .await
        .ok()?;
    if sent.status() != 303 {
        return None;
    }
    let receipt = client
        .get(format!("{address}/stories/receipt"))
        .send()
        .await
        .ok()?;
    let code = crate::helpers::Page::parse(receipt.text().await.ok()?).text("#receipt-code");
    (!code.is_empty()).then_some(code)
}

#[tokio::test]
async fn no_acknowledged_submission_is_lost_over_repeated_sigkills() {
    let db = TestDatabase::new();
    let env = [("ENGAWA_SUBMISSIONS_PER_HOUR", "1000000")];
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for round in 0..KILLS {
        let server = ServerProcess::start(&db, &["serve"], &env);
        let address = server.address.clone();
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let (address, acknowledged) = (address.clone(), acknowledged.clone());
            writers.push(tokio::spawn(async move {
                for n in 0.. {
                    let title = format!("再起動をまたぐ話 {round}-{writer}-{n}");
                    match submit_once(&address, &title).await {
                        Some(code) => acknowledged.lock().unwrap().push((code, title)),
                        None => return,
                    }
                }
            }));
        }
        // Let the writers get going, then kill the server in the middle of their work.
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        server.kill();
        for w in writers {
            w.await.unwrap();
        }
    }

    let server = ServerProcess::start(&db, &["serve"], &env);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= KILLS * WRITERS,
        "only {} submissions acknowledged: the test did not load the server",
        acknowledged.len()
    );
    let pool = engawa::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    for (code, title) in &acknowledged {
        let code = engawa::domain::ReceiptCode::parse(code).unwrap();
        let story = engawa::models::story::Story::find_by_receipt(&mut conn, &code)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged submission {title:?} was lost"));
        assert_eq!(&story.title, title);
        assert_eq!(story.status, "pending");
    }
    // Nothing half-written: every stored story is whole, with its audit row.
    {
        use diesel::prelude::*;
        use engawa::db::schema::{mod_actions, stories};
        let stored: Vec<(i32, String, String)> = stories::table
            .select((stories::id, stories::title, stories::body_markdown))
            .load(&mut conn)
            .unwrap();
        assert!(stored.len() >= acknowledged.len());
        for (id, title, body) in &stored {
            assert!(title.starts_with("再起動をまたぐ話"), "{title}");
            assert!(body.chars().count() >= 50, "{title}: body cut short");
            let audit: i64 = mod_actions::table
                .filter(mod_actions::story_id.eq(id))
                .count()
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(audit, 1, "{title} has {audit} audit rows");
        }
    }
    // The node catches up (index within reach of the outbox) and reports ready.
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    loop {
        let ready = client
            .get(format!("{}/readyz", server.address))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if ready == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not ready after restart: {ready}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{} acknowledged submissions over {KILLS} kills, all present",
        acknowledged.len()
    );
}
