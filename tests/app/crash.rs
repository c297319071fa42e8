//! Crash safety: submissions sent concurrently, and approved by a moderator, while the server is
//! killed with SIGKILL. Every submission whose receipt page was shown and every approval the
//! moderator saw succeed must be there after a restart, whole; nothing else may be half-written;
//! and the node catches up: every approved story is in the search index and every queued mail
//! is delivered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{TestDatabase, as_refs, story_fields};
use crate::process::ServerProcess;

const KILLS: usize = 5;
const WRITERS: usize = 6;

/// A browser-like client that gives up on a server that went away.
fn visitor() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .ok()
}

/// One submission the way a browser makes it; the receipt code once the receipt page shows it,
/// None if anything failed on the way (the server may be dying).
async fn submit_once(address: &str, title: &str) -> Option<String> {
    let client = visitor()?;
    let token = token_on(&client, &format!("{address}/stories/new")).await?;
    let mut fields = story_fields(title);
    // An address, so that each approval queues a decision mail.
    fields.retain(|(k, _)| *k != "email");
    fields.push(("email", "me@example.jp".to_owned()));
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

const MODERATOR: (&str, &str) = ("sato@engawa.test", "sato-password-long");

/// A moderator's session on the panel; None if the server went away.
async fn moderator(address: &str) -> Option<reqwest::Client> {
    let client = visitor()?;
    let token = token_on(&client, &format!("{address}/mod/login")).await?;
    let (email, password) = MODERATOR;
    let login = client
        .post(format!("{address}/mod/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .ok()?;
    (login.status() == 303).then_some(client)
}

async fn token_on(client: &reqwest::Client, url: &str) -> Option<String> {
    let page = client.get(url).send().await.ok()?.text().await.ok()?;
    crate::helpers::Page::parse(page).attr("input[name=csrf_token]", "value")
}

/// Approves the oldest story in the queue from its page; its public id once the approval was
/// answered, None if the queue is empty or the server went away.
async fn approve_oldest(client: &reqwest::Client, address: &str) -> Option<String> {
    let queue = client.get(format!("{address}/mod")).send().await.ok()?;
    let href = crate::helpers::Page::parse(queue.text().await.ok()?)
        .attr("table.queue tbody a.story-title", "href")?;
    let token = token_on(client, &format!("{address}{href}")).await?;
    let done = client
        .post(format!("{address}{href}/approve"))
        .form(&[("csrf_token", token)])
        .send()
        .await
        .ok()?;
    (done.status() == 303).then(|| href.trim_start_matches("/mod/stories/").to_owned())
}

#[tokio::test]
async fn no_acknowledged_submission_is_lost_over_repeated_sigkills() {
    let db = TestDatabase::new();
    // A node killed while sending holds its mail until the lease ends; a short lease lets the
    // test see those mails delivered after the restart.
    let env = [
        ("ENGAWA_SUBMISSIONS_PER_HOUR", "1000000"),
        ("ENGAWA_MAIL_LEASE_SECONDS", "5"),
    ];
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let approved: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let pool = engawa::db::connect(&db.url).unwrap();
        let (email, password) = MODERATOR;
        engawa::models::user::User::create(
            &mut pool.get().unwrap(),
            &engawa::domain::Email::parse(email).unwrap(),
            "sato",
            engawa::domain::Role::Moderator,
            &engawa::passwords::hash(password).unwrap(),
            engawa::models::now(),
        )
        .unwrap();
    }
    // The moderator signs in once, before the kills: the session lives in the database and
    // outlasts every restart, so each round's approvals start at once (signing in costs an
    // argon2 hash, which on a busy machine can outlast the first round).
    let signed_in = {
        let server = ServerProcess::start(&db, &["serve"], &env);
        let client = moderator(&server.address)
            .await
            .expect("the moderator signs in");
        server.kill();
        client
    };
    for round in 0..KILLS {
        let server = ServerProcess::start(&db, &["serve"], &env);
        let address = server.address.clone();
        let mut writers = Vec::new();
        {
            let (address, approved, client) =
                (address.clone(), approved.clone(), signed_in.clone());
            writers.push(tokio::spawn(async move {
                while let Some(id) = approve_oldest(&client, &address).await {
                    approved.lock().unwrap().push(id);
                }
            }));
        }
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
    }
    let approved = approved.lock().unwrap().clone();
    assert!(!approved.is_empty(), "the moderator approved nothing");
    for id in &approved {
        let public_id = engawa::domain::PublicId::parse(id).unwrap();
        let story = engawa::models::story::Story::find_by_public_id(&mut conn, &public_id)
            .unwrap_or_else(|e| panic!("approved story {id} was lost: {e}"));
        assert_eq!(
            story.status,
            engawa::domain::StoryStatus::Approved,
            "{id}: an acknowledged approval"
        );
    }
    // Nothing half-written: every stored story is whole, with its audit row.
    {
        use diesel::prelude::*;
        use engawa::db::schema::{mod_actions, stories};
        let stored: Vec<(i32, String, String, String)> = stories::table
            .select((
                stories::id,
                stories::title,
                stories::body_markdown,
                stories::status,
            ))
            .load(&mut conn)
            .unwrap();
        assert!(stored.len() >= acknowledged.len());
        for (id, title, body, status) in &stored {
            assert!(title.starts_with("再起動をまたぐ話"), "{title}");
            assert!(body.chars().count() >= 50, "{title}: body cut short");
            // Each state change landed with its own audit row, never one without the other.
            let kinds: Vec<String> = mod_actions::table
                .filter(mod_actions::story_id.eq(id))
                .filter(mod_actions::kind.eq_any(["submit", "approve"]))
                .order(mod_actions::id)
                .select(mod_actions::kind)
                .load(&mut conn)
                .unwrap();
            let expected = match status.as_str() {
                "pending" => vec!["submit"],
                "approved" => vec!["submit", "approve"],
                other => panic!("{title} is {other}"),
            };
            assert_eq!(kinds, expected, "{title} ({status})");
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
    // Every approved story is in the index: the search for the words all titles share counts
    // exactly the approved ones.
    let public: i64 = {
        use diesel::prelude::*;
        use engawa::db::schema::stories;
        stories::table
            .filter(stories::status.eq("approved"))
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    let expected = format!("：{public}件");
    let search = format!("{}/search?q=%E5%86%8D%E8%B5%B7%E5%8B%95", server.address);
    let found = loop {
        let page = crate::helpers::body_of(client.get(&search)).await;
        let count = crate::helpers::Page::parse(page).text(".result-count");
        if count.ends_with(&expected) || started.elapsed() > Duration::from_secs(60) {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(found.ends_with(&expected), "{found}, expected {public}");
    // Every mail queued before a kill is delivered after the restart (to files, without SMTP).
    let (queued, undelivered) = loop {
        #[derive(diesel::QueryableByName)]
        struct Counts {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            queued: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            undelivered: i64,
        }
        use diesel::RunQueryDsl;
        let c: Counts = diesel::sql_query(
            "SELECT count(*) AS queued, count(*) - count(delivered_at) AS undelivered \
             FROM outbox WHERE topic = 'mail'",
        )
        .get_result(&mut conn)
        .unwrap();
        if c.undelivered == 0 || started.elapsed() > Duration::from_secs(90) {
            break (c.queued, c.undelivered);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(undelivered, 0, "{queued} mails queued");
    assert!(
        queued as usize >= approved.len(),
        "a decision mail per approval"
    );
    let files = std::fs::read_dir(db.data_dir().join("outbox"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .is_ok_and(|f| f.path().extension().is_some_and(|e| e == "eml"))
        })
        .count();
    assert!(
        files as i64 >= queued,
        "{files} mail files for {queued} mails"
    );
    eprintln!(
        "{} acknowledged submissions and {} approvals over {KILLS} kills, all present; \
         {public} stories found by search, {queued} mails delivered",
        acknowledged.len(),
        approved.len()
    );
}
