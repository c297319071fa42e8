//! The least data kept: private files whatever the umask, a log without content at any level,
//! no caching of receipts and status pages, addresses the mailer cannot use refused at the form,
//! undeliverable mail dropped with its address.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::helpers::{
    Browser, TestDatabase, add_user, as_refs, spawn_app, spawn_configured, story_body, story_fields,
};
use crate::process::ServerProcess;

fn random_word() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..10)
        .map(|_| (b'a' + rng.random_range(0..26)) as char)
        .collect()
}

/// Every file and directory under `dir` with its permission bits.
fn modes_under(dir: &Path) -> Vec<(std::path::PathBuf, bool, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        out.push((
            path.clone(),
            meta.is_dir(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            out.extend(modes_under(&path));
        }
    }
    out
}

/// The mail file whose text holds `needle`, once the mailer has written it.
async fn mail_file_with(dir: &Path, needle: &str) -> String {
    let started = Instant::now();
    loop {
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries.flatten().find_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                text.contains(needle).then_some(text)
            })
        });
        if let Some(text) = found {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no mail with {needle} in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_whole_journey_under_umask_022_leaves_private_files_and_a_debug_log_without_content() {
    let db = TestDatabase::new();
    let data = db.data_dir().join("site");
    let data_str = data.to_string_lossy().into_owned();
    add_user(&db, "mod@engawa.test", "moderator", "moderator-password");
    let server = ServerProcess::start_with_umask(
        &db,
        "022",
        &["serve", "--demo"],
        &[("ENGAWA_LOG", "debug"), ("ENGAWA_DATA_DIR", &data_str)],
    );
    let address = server.address.clone();

    let text_marker = format!("zqstory{}", random_word());
    let search_word = format!("zqsearch{}", random_word());
    let submitter_address = format!("submitter-{}@example.jp", random_word());
    let subscriber_address = format!("reader-{}@example.jp", random_word());

    let reader = Browser::new(&address);
    let mut fields = story_fields(&format!("{text_marker} の話"));
    for (k, v) in fields.iter_mut() {
        match *k {
            "body" => *v = story_body(&format!(" {text_marker} ")),
            "email" => *v = submitter_address.clone(),
            _ => {}
        }
    }
    let code = reader.send_story(&as_refs(&fields)).await;
    let form = reader.get("/stories/new").await;
    let csrf_token = form.csrf();
    let search = format!("{address}/search?q={search_word}&sort=new");
    assert_eq!(
        crate::helpers::wait_for_status(&reader.client, &search, 200, Duration::from_secs(20))
            .await,
        200
    );

    assert_eq!(reader.subscribe(&subscriber_address).await.status, 303);
    let outbox = data.join("outbox");
    let confirm_mail = mail_file_with(&outbox, &subscriber_address).await;
    let confirm_path = crate::smtp::link(&confirm_mail, "/subscribe/confirm");
    let confirm_path = confirm_path[confirm_path.find("/subscribe").unwrap()..].to_owned();
    let signature = confirm_path.rsplit("sig=").next().unwrap().to_owned();
    let confirmed = reader.submit(&confirm_path, &confirm_path, &[]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("登録しました"));

    let moderator = Browser::new(&address);
    moderator
        .login("mod@engawa.test", "moderator-password")
        .await;
    let public_id = crate::helpers::story_by_code_in(&db, &code).public_id;
    moderator.approve(&public_id).await;
    mail_file_with(&outbox, &submitter_address).await;
    reader.withdraw(&code).await;
    assert_eq!(
        reader.get(&format!("/stories/{public_id}")).await.status,
        404
    );

    let log = server.log_once_it_holds("GET /stories/{public_id} 404", Duration::from_secs(10));
    server.kill();
    assert!(
        log.contains("GET /stories/{public_id} 404"),
        "routes are logged by pattern, with the status:\n{log}"
    );
    assert!(
        log.contains("POST /subscribe 303"),
        "readers' requests are logged:\n{log}"
    );
    assert!(
        !log.contains("/stories/new") && !log.contains("/stories/status"),
        "the submitter's requests are not logged (their time would point at them):\n{log}"
    );
    for secret in [
        text_marker.as_str(),
        search_word.as_str(),
        submitter_address.as_str(),
        subscriber_address.as_str(),
        code.as_str(),
        signature.as_str(),
        csrf_token.as_str(),
        public_id.as_str(),
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }

    let mut checked = modes_under(&data);
    assert!(
        checked.iter().any(|(p, _, _)| p.ends_with("secret.key"))
            && checked
                .iter()
                .any(|(p, _, _)| p.starts_with(data.join("search")))
            && checked
                .iter()
                .any(|(p, _, _)| p.extension().is_some_and(|e| e == "eml")),
        "the key, the index and mail files were checked: {checked:?}"
    );
    checked.push((
        data.clone(),
        true,
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
    ));
    if !db.is_postgres() {
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", db.url));
            if let Ok(meta) = std::fs::metadata(&path) {
                checked.push((path, false, meta.permissions().mode() & 0o777));
            }
        }
    }
    for (path, is_dir, mode) in checked {
        let wanted = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
    }
}

#[tokio::test]
async fn receipts_and_status_pages_are_never_stored_and_withdrawing_clears_the_cookies() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let page = submitter
        .submit(
            "/stories/new",
            "/stories/new",
            &as_refs(&story_fields("しまわれない話")),
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.headers["cache-control"], "no-store");
    // The code waits for its page in a cookie that lives ten minutes, only for that page.
    let receipt_cookie = |page: &crate::helpers::Page| -> String {
        page.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("engawa_receipt="))
            .unwrap_or_else(|| panic!("no receipt cookie in {:?}", page.headers))
            .to_owned()
    };
    let set = receipt_cookie(&page);
    for attribute in [
        "Max-Age=600",
        "Path=/stories/receipt",
        "HttpOnly",
        "SameSite=Strict",
    ] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    let receipt = submitter.get("/stories/receipt").await;
    assert_eq!(receipt.status, 200);
    assert_eq!(receipt.headers["cache-control"], "no-store");
    // Shown once: the page that shows it removes the cookie.
    let removed = receipt_cookie(&receipt);
    assert!(
        removed.starts_with("engawa_receipt=;") && removed.contains("Max-Age=0"),
        "{removed}"
    );
    let code = receipt.text("#receipt-code");
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(status.status, 200);
    assert_eq!(status.headers["cache-control"], "no-store");
    assert_eq!(
        submitter.get("/stories/status").await.headers["cache-control"],
        "no-store"
    );

    let withdrawn = submitter.withdraw(&code).await;
    assert_eq!(withdrawn.headers["cache-control"], "no-store");
    assert_eq!(withdrawn.headers["clear-site-data"], "\"cookies\"");
    let done = submitter
        .get(withdrawn.location.as_deref().expect("redirect"))
        .await;
    assert_eq!(done.status, 200);
    assert_eq!(done.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn an_address_the_mailer_cannot_use_is_refused_at_the_form_and_nothing_is_saved() {
    let app = spawn_app().await;
    let before = engawa::models::story::Story::count_all(&mut app.conn()).unwrap();
    for address in [
        "hanako..y@example.jp",
        ".hanako@example.jp",
        "hana(ko)@example.jp",
    ] {
        let mut fields = story_fields("届かない宛先の話");
        for (k, v) in fields.iter_mut() {
            if *k == "email" {
                *v = address.to_owned();
            }
        }
        let page = app
            .browser()
            .submit("/stories/new", "/stories/new", &as_refs(&fields))
            .await;
        assert_eq!(page.status, 422, "{address}");
        assert!(
            page.text(".error-summary").contains("メールアドレス"),
            "{address}: {}",
            page.text(".error-summary")
        );
        assert_eq!(
            page.attr("#title", "value").as_deref(),
            Some("届かない宛先の話"),
            "what was typed is kept"
        );
    }
    assert_eq!(
        engawa::models::story::Story::count_all(&mut app.conn()).unwrap(),
        before
    );
}

#[tokio::test]
async fn mail_undeliverable_for_three_days_is_dropped_with_its_address() {
    // Nothing listens on this port: every attempt fails.
    let port = crate::smtp::free_port();
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.mail_retry = Duration::from_secs(1);
    })
    .await;
    use engawa::db::schema::outbox;
    let now = engawa::models::now();
    // The clock as the mailer sees it: one mail queued just over 72 hours ago, one just under.
    for (to, age) in [
        (
            "old@example.jp",
            chrono::Duration::hours(72) + chrono::Duration::minutes(1),
        ),
        (
            "young@example.jp",
            chrono::Duration::hours(72) - chrono::Duration::minutes(5),
        ),
    ] {
        let mail = engawa::mail::messages::story_approved(to, "https://engawa.example/stories/x");
        diesel::insert_into(outbox::table)
            .values((
                outbox::topic.eq("mail"),
                outbox::payload.eq(serde_json::to_string(&mail).unwrap()),
                outbox::created_at.eq(now - age),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now - age),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let rows = || -> Vec<(String, Option<chrono::NaiveDateTime>, i32, Option<String>)> {
        outbox::table
            .filter(outbox::topic.eq("mail"))
            .order(outbox::id)
            .select((
                outbox::payload,
                outbox::delivered_at,
                outbox::attempts,
                outbox::last_error,
            ))
            .load(&mut app.conn())
            .unwrap()
    };
    let started = Instant::now();
    loop {
        let r = rows();
        if r[0].1.is_some() && r[1].2 >= 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the mailer did not try both: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = rows();
    assert!(
        !r[0].0.contains("old@example.jp"),
        "dropped with its address"
    );
    assert!(
        r[0].3.as_deref().is_some_and(|e| e.starts_with("dropped")),
        "{:?}",
        r[0].3
    );
    assert!(
        r[1].0.contains("young@example.jp"),
        "still tried: {:?}",
        r[1]
    );
    assert!(r[1].1.is_none());
}
