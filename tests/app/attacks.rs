//! Attacks over HTTP against the running server: session fixation, path traversal, SQL
//! metacharacters in every parameter, and telling accounts or receipt codes apart.

use std::time::{Duration, Instant};

use std::net::{IpAddr, Ipv4Addr};

use crate::helpers::{
    Browser, TestApp, TestDatabase, as_refs, client_by_hand, cookie_value, form_by_hand,
    login_by_hand, spawn_app_with, story_fields,
};

const PLANTED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A session id planted in the victim's browser before login is never the session they get, and
/// never grants anything.
#[tokio::test]
async fn a_planted_session_id_is_replaced_at_login_and_grants_nothing() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    let password = app.add_staff("sato@engawa.test", "sato", engawa::domain::Role::Moderator);
    let client = client_by_hand();
    let (csrf, token) = form_by_hand(&client, &format!("{}/mod/login", app.address)).await;
    let login = login_by_hand(
        &client,
        &app.address,
        &format!("engawa_csrf={csrf}; engawa_session={PLANTED}"),
        ("sato@engawa.test", &password, &token),
    )
    .await;
    assert_eq!(login.status(), 303);
    let issued = cookie_value(login.headers(), "engawa_session").expect("a session of its own");
    assert_ne!(issued, PLANTED);
    for session in [PLANTED, issued.as_str()] {
        let panel = client
            .get(format!("{}/mod", app.address))
            .header("cookie", format!("engawa_session={session}"))
            .send()
            .await
            .unwrap();
        let expected = if session == PLANTED { 303 } else { 200 };
        assert_eq!(panel.status(), expected, "session {session}");
    }
}

#[tokio::test]
async fn static_paths_cannot_climb_out_of_the_compiled_files() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static/site.css/../../secret.key",
        "/static/%252e%252e/secret.key",
        "/static/....//....//etc/passwd",
        "/static/..\\..\\secret.key",
        "/static/site.css%00.txt",
        "/static/",
        "/static",
    ] {
        let res = client_by_hand()
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(status == 404 || status == 400, "{path}: {status}");
        for secret in ["[package]", "root:x:", "engawa.sqlite3"] {
            assert!(!body.contains(secret), "{path} leaked {secret}");
        }
    }
}

const METACHARACTERS: [&str; 10] = [
    "'",
    "\"",
    "' OR '1'='1",
    "1; DROP TABLE stories; --",
    "1' UNION SELECT password_hash FROM users --",
    "\\",
    "%",
    "_",
    "\0",
    ")) OR ((1=1",
];

async fn count_stories(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use engawa::db::schema::stories;
    stories::table.count().get_result(&mut app.conn()).unwrap()
}

/// Every parameter a reader can send, filled with SQL metacharacters: a clear 4xx or an ordinary
/// page, never a 500, and the database as it was.
#[tokio::test]
async fn sql_metacharacters_in_every_parameter_are_just_text() {
    // Sixty searches from one client: above the default limit per minute, which has its own test.
    let app = crate::helpers::spawn_configured(TestDatabase::new(), true, |s| {
        s.searches_per_minute = 10_000;
    })
    .await;
    app.wait_until_ready().await;
    let before = count_stories(&app).await;
    let reader = Browser::new(&app.address);
    for raw in METACHARACTERS {
        // A search for them is an ordinary search: the page answers and shows what was typed.
        let search = reader
            .get(&format!("/search?q={}", crate::helpers::urlencode(raw)))
            .await;
        assert_eq!(search.status, 200, "search {raw:?}: {}", search.body);
        if raw != "\0" {
            assert_eq!(
                search.attr("input[name=q]", "value").as_deref(),
                Some(raw.trim()),
                "search {raw:?}"
            );
        }
        let v = crate::helpers::urlencode(raw);
        for path in [
            format!("/stories?how_met={v}"),
            format!("/stories?length={v}"),
            format!("/stories?tag={v}"),
            format!("/stories?page={v}"),
            format!("/stories?continuing={v}"),
            format!("/search?q={v}"),
            format!("/search?q=a&kind={v}"),
            format!("/search?q=a&length={v}"),
            format!("/search?q=a&how_met={v}"),
            format!("/search?q=a&tag={v}"),
            format!("/search?q=a&page={v}"),
            format!("/stories/{v}"),
            format!("/guides/{v}"),
            format!("/tags/{v}"),
            format!("/tags/{v}/feed.atom"),
            format!("/guides?page={v}"),
            format!("/mod/login?next={v}"),
            format!("/{v}"),
        ] {
            let page = reader.get(&path).await;
            assert!(
                [200, 400, 404].contains(&page.status),
                "{path}: {} {}",
                page.status,
                page.body
            );
        }
        // The forms that look things up by what a stranger types.
        let status = reader
            .submit("/stories/status", "/stories/status", &[("code", raw)])
            .await;
        assert!(
            [404, 422, 429].contains(&status.status),
            "code {raw:?}: {}",
            status.status
        );
        let login = reader
            .submit(
                "/mod/login",
                "/mod/login",
                &[("email", raw), ("password", raw)],
            )
            .await;
        assert!(
            [422, 429].contains(&login.status),
            "login {raw:?}: {}",
            login.status
        );
        let subscribe = reader
            .submit("/subscribe", "/subscribe", &[("email", raw)])
            .await;
        assert!(
            [200, 422].contains(&subscribe.status),
            "subscribe {raw:?}: {}",
            subscribe.status
        );
    }
    // A story made of every one of them that a story may hold (all but the NUL character) is
    // accepted and stored as typed, character for character.
    let typed: String = METACHARACTERS
        .iter()
        .filter(|m| !m.contains('\0'))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let title = format!("記号の話 {}", METACHARACTERS[3]);
    let mut fields = story_fields(&title);
    for (name, value) in fields.iter_mut() {
        match *name {
            "body" => *value = format!("{value}\n\n{typed}"),
            "pen_name" => *value = "o'brien\"%_".to_owned(),
            "rules" => *value = format!("{}\n{}", METACHARACTERS[2], METACHARACTERS[4]),
            "tags" => *value = format!("{}、_、{}", METACHARACTERS[2], METACHARACTERS[9]),
            "email" => *value = "o'brien%_x@example.jp".to_owned(),
            _ => {}
        }
    }
    let sent = reader
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(sent.status, 303, "story: {}", sent.body);
    assert_eq!(count_stories(&app).await, before + 1);
    let stored: (String, String, String, Option<String>) = {
        use diesel::prelude::*;
        use engawa::db::schema::stories;
        stories::table
            .filter(stories::title.eq(&title))
            .select((
                stories::body_markdown,
                stories::pen_name,
                stories::rules,
                stories::contact_email,
            ))
            .first(&mut app.conn())
            .expect("the story is stored under its title")
    };
    assert!(stored.0.ends_with(&typed), "body: {}", stored.0);
    assert_eq!(stored.1, "o'brien\"%_");
    assert!(
        stored.2.contains(METACHARACTERS[2]) && stored.2.contains(METACHARACTERS[4]),
        "rules: {}",
        stored.2
    );
    assert_eq!(stored.3.as_deref(), Some("o'brien%_x@example.jp"));
    let tags: Vec<String> = {
        use diesel::prelude::*;
        use engawa::db::schema::{stories, story_tags, tags};
        story_tags::table
            .inner_join(tags::table)
            .inner_join(stories::table)
            .filter(stories::title.eq(&title))
            .select(tags::name)
            .order(tags::name)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(tags, vec!["' or '1'='1", ")) or ((1=1", "_"]);
    // A NUL character is refused with the form, and nothing is stored.
    let mut fields = story_fields("記号の話 その二");
    fields[1].1 = format!("{}\0", fields[1].1);
    let refused = reader
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(refused.status, 422, "NUL: {}", refused.body);
    assert_eq!(count_stories(&app).await, before + 1);
}

/// The login form answers an unknown address exactly as it answers a known one with a wrong
/// password, in about the same time (both verify a password hash).
#[tokio::test]
async fn the_login_form_does_not_tell_accounts_apart() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    app.add_staff(
        "known@engawa.test",
        "known",
        engawa::domain::Role::Moderator,
    );
    let mut answers = Vec::new();
    let mut spent: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    // Known and unknown in turn, seven of each, so that a busy machine slows both alike; each
    // round from an address of its own, so that no attempt waits on the login throttle.
    for round in 0..7u8 {
        for (which, email) in ["known@engawa.test", "nobody@engawa.test"]
            .iter()
            .enumerate()
        {
            let browser = Browser::from_source(
                &app.address,
                Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                    127,
                    0,
                    1,
                    round + 1,
                ))),
            );
            let token = browser.get("/mod/login").await.csrf();
            let started = Instant::now();
            let page = browser
                .post(
                    "/mod/login",
                    &[
                        ("email", email),
                        ("password", "wrong-password-1234"),
                        ("csrf_token", &token),
                    ],
                )
                .await;
            spent[which].push(started.elapsed());
            answers.push((page.status, page.text(".form-error, [role=alert]")));
        }
    }
    let [known_times, unknown_times] = spent;
    let times = [median(known_times), median(unknown_times)];
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "different answers: {answers:?}"
    );
    let (known, unknown) = (times[0], times[1]);
    eprintln!("login answers: known {known:?}, unknown {unknown:?} (medians of 7)");
    let ratio = known.as_secs_f64() / unknown.as_secs_f64().max(1e-6);
    assert!(
        (0.5..2.0).contains(&ratio) || known.abs_diff(unknown) < Duration::from_millis(30),
        "known {known:?} vs unknown {unknown:?}"
    );
}

/// The middle timing.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Someone guessing receipt codes learns nothing from the answers: an unknown code gets the same
/// page from the lookup, the withdrawal and the resubmission, and a lookup takes about as long
/// whether the code exists or not.
#[tokio::test]
async fn receipt_codes_cannot_be_told_apart_by_answer_or_time() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    let known = app
        .browser()
        .send_story(&as_refs(&story_fields("番号を知られたくない話")))
        .await;
    let unknown = "ABCDE-FGHJK-MNPQR-STVWX-YZ234".to_owned();
    // Each attempt from its own address: codes are rate limited per client.
    let mut next_source = (2u8..).map(|n| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, n))));
    let mut visitor = || Browser::from_source(&app.address, next_source.next().flatten());

    let mut answers = Vec::new();
    for action in [
        "/stories/status",
        "/stories/status/withdraw",
        "/stories/status/resubmit",
    ] {
        let mut fields = story_fields("別の話");
        fields.push(("code", unknown.clone()));
        fields.push(("confirm", "yes".to_owned()));
        let page = visitor()
            .submit("/stories/status", action, &as_refs(&fields))
            .await;
        answers.push((action, page.status, page.text(".error-summary")));
    }
    assert!(
        answers
            .iter()
            .all(|(_, status, text)| *status == 404 && text.contains("見つかりませんでした")),
        "{answers:?}"
    );

    // Every answer, right or wrong, takes at least the floor (250 ms): the lookup's few
    // milliseconds, longer for a known code, disappear inside it. A lower bound the server
    // enforces, so no load on the machine can make this fail.
    for code in [&known, &unknown] {
        for _ in 0..3 {
            let browser = visitor();
            let token = browser.get("/stories/status").await.csrf();
            let started = Instant::now();
            let page = browser
                .post("/stories/status", &[("code", code), ("csrf_token", &token)])
                .await;
            let spent = started.elapsed();
            assert_eq!(page.status, if code == &known { 200 } else { 404 });
            assert!(spent >= Duration::from_millis(250), "{spent:?} for {code}");
        }
    }
}

/// After login the panel returns only to its own pages: every `next=` that points anywhere
/// else, however disguised, lands on the queue.
#[tokio::test]
async fn login_never_redirects_off_the_panel() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    let password = app.add_staff("sato@engawa.test", "sato", engawa::domain::Role::Moderator);
    let returns_to = async |next: &str| {
        let page = Browser::new(&app.address)
            .submit(
                "/mod/login",
                "/mod/login",
                &[
                    ("email", "sato@engawa.test"),
                    ("password", &password),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{next:?}");
        page.location.unwrap_or_default()
    };
    for next in [
        "https://evil.example/",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/mod//evil.example",
        "/mod/..//evil.example",
        " //evil.example",
        "\t/mod",
        "https:evil.example",
        "javascript:alert(1)",
        "/mod\r\nSet-Cookie: x=1",
        "/%2F%2Fevil.example",
        "/modevil",
    ] {
        assert_eq!(returns_to(next).await, "/mod", "{next:?}");
    }
    // A real panel page is still returned to.
    assert_eq!(
        returns_to("/mod/log?kind=approve").await,
        "/mod/log?kind=approve"
    );
}
