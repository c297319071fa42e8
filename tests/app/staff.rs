//! Staff accounts: login, sessions, CSRF and throttling on the moderation panel.

use std::io::Write;
use std::process::Stdio;

use engawa::domain::Role;

use std::net::{IpAddr, Ipv4Addr};

use crate::helpers::{Browser, Page, as_refs, spawn_app, story_fields};

/// Every panel route, with the method it takes.
const PANEL_ROUTES: &[(&str, &str)] = &[
    ("GET", "/mod"),
    ("GET", "/mod/log"),
    ("GET", "/mod/users"),
    ("GET", "/mod/password"),
    ("GET", "/mod/stories/abcdefghjkmn"),
    ("GET", "/mod/anything-else"),
    ("POST", "/mod/bulk"),
    ("POST", "/mod/logout"),
    ("POST", "/mod/password"),
    ("POST", "/mod/stories/abcdefghjkmn/approve"),
    ("POST", "/mod/stories/abcdefghjkmn/reject"),
    ("POST", "/mod/stories/abcdefghjkmn/request-changes"),
    ("POST", "/mod/stories/abcdefghjkmn/edit"),
    ("POST", "/mod/users/1/disable"),
    ("POST", "/mod/users/1/enable"),
    ("POST", "/mod/users/1/role"),
    ("POST", "/mod/users/1/reset"),
    ("POST", "/mod/users/invite"),
    ("GET", "/mod/guides"),
    ("GET", "/mod/guides/new"),
    ("POST", "/mod/guides/new"),
    ("GET", "/mod/guides/1/edit"),
    ("POST", "/mod/guides/1/edit"),
    ("POST", "/mod/guides/1/unpublish"),
    ("GET", "/mod/guides/1/revisions"),
    ("GET", "/mod/guides/1/diff?from=1&to=1"),
    ("POST", "/mod/guides/1/revisions/1/restore"),
];

#[tokio::test]
async fn every_panel_route_sends_a_stranger_to_the_login_page() {
    let app = spawn_app().await;
    let stranger = app.browser();
    for (method, path) in PANEL_ROUTES {
        let page = match *method {
            "GET" => stranger.get(path).await,
            _ => stranger.post(path, &[("csrf_token", "x")]).await,
        };
        assert_eq!(page.status, 303, "{method} {path}");
        let location = page.location.unwrap();
        // A page asked for comes back after login; a post is not replayed: back to the queue.
        let url = reqwest::Url::parse(&format!("http://site{location}")).unwrap();
        assert_eq!(url.path(), "/mod/login", "{method} {path}");
        let next = url
            .query_pairs()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned());
        let expected = if *method == "GET" { *path } else { "/mod" };
        assert_eq!(next.as_deref(), Some(expected), "{method} {path}");
    }
    let login = stranger.get("/mod/login?next=%2Fmod%2Flog").await;
    assert_eq!(login.status, 200);
    assert_eq!(
        login.attr("input[name=next]", "value").as_deref(),
        Some("/mod/log")
    );
}

#[tokio::test]
async fn every_panel_post_without_a_valid_token_is_forbidden() {
    let app = spawn_app().await;
    let admin_password = app.add_staff("admin@engawa.test", "admin", Role::Admin);
    let admin = app.browser();
    admin.login("admin@engawa.test", &admin_password).await;
    let code = app
        .browser()
        .send_story(&as_refs(&story_fields("狙われる話")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    for (method, path) in PANEL_ROUTES.iter().filter(|(m, _)| *m == "POST") {
        let path = path.replace("abcdefghjkmn", &public_id);
        for token in [None, Some("0".repeat(64))] {
            let fields: Vec<(&str, &str)> = match &token {
                Some(t) => vec![
                    ("csrf_token", t.as_str()),
                    ("ids", &public_id),
                    ("action", "approve"),
                ],
                None => vec![("ids", &public_id), ("action", "approve")],
            };
            let page = admin.post(&path, &fields).await;
            assert_eq!(
                page.status, 403,
                "{method} {path} with {token:?}: {}",
                page.body
            );
        }
    }
    assert_eq!(
        app.story_by_code(&code).status,
        engawa::domain::StoryStatus::Pending
    );
    assert_eq!(admin.get("/mod").await.status, 200, "still signed in");
}

async fn try_login(who: &Browser, email: &str, password: &str) -> Page {
    who.submit(
        "/mod/login",
        "/mod/login",
        &[("email", email), ("password", password)],
    )
    .await
}

fn from(app: &crate::helpers::TestApp, last: u8) -> Browser {
    Browser::from_source(
        &app.address,
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))),
    )
}

/// An outsider's wrong passwords make the outsider wait, longer after each failure; they never
/// stop the owner signing in from their own address, and signing in is never counted. Admins
/// see how many failures an account has had and when, and nothing of where they came from.
#[tokio::test]
async fn wrong_passwords_from_one_client_never_stop_the_right_one_from_another() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let attacker = from(&app, 2);
    for _ in 0..3 {
        let page = try_login(&attacker, "mod@engawa.test", "wrong-password-123").await;
        assert_eq!(page.status, 422);
        assert_eq!(
            page.text(".error-summary"),
            "メールアドレスかパスワードが正しくありません。"
        );
    }
    // Past the free failures the next attempt waits, whatever it is; the form keeps the address.
    let waiting = try_login(&attacker, "MOD@engawa.test", &password).await;
    assert_eq!(waiting.status, 429);
    assert!(
        waiting
            .text(".error-summary")
            .contains("次に試せるまで少しお待ちください"),
        "{}",
        waiting.text(".error-summary")
    );
    assert_eq!(waiting.headers["retry-after"], "1");
    assert_eq!(
        waiting.attr("#email", "value").as_deref(),
        Some("MOD@engawa.test")
    );

    // The owner, from their own address, right away.
    let owner = from(&app, 3);
    assert_eq!(
        try_login(&owner, "mod@engawa.test", &password).await.status,
        303
    );
    assert_eq!(owner.get("/mod").await.status, 200);

    // After the wait the outsider may try once more; the wait then doubles.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let page = try_login(&attacker, "mod@engawa.test", "wrong-password-456").await;
    assert_eq!(page.status, 422);
    let waiting = try_login(&attacker, "mod@engawa.test", "wrong-password-789").await;
    assert_eq!(waiting.status, 429);
    assert_eq!(waiting.headers["retry-after"], "2");

    // Successes never count: one moderator signing in again and again is never held back.
    let busy = from(&app, 4);
    for _ in 0..25 {
        assert_eq!(
            try_login(&busy, "mod@engawa.test", &password).await.status,
            303
        );
    }

    // An unknown address gets the same answer as a known one with a wrong password.
    let unknown = try_login(&from(&app, 5), "nobody@engawa.test", "wrong-password-123").await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.text(".error-summary"),
        "メールアドレスかパスワードが正しくありません。"
    );

    // Four failures on the account (the waits were not attempts), shown to admins only.
    let admin_password = app.add_staff("admin@engawa.test", "admin", Role::Admin);
    let admin = from(&app, 6);
    admin.login("admin@engawa.test", &admin_password).await;
    let users = admin.get("/mod/users").await;
    assert_eq!(users.status, 200, "/mod/users as an admin: {}", users.body);
    let failures = users.texts("td.failed-logins");
    assert!(
        failures.iter().any(|f| f.starts_with("4回（最後：")),
        "{failures:?}"
    );
    assert!(failures.contains(&"なし".to_owned()), "{failures:?}");
    assert!(!users.body.contains("127.0.0"), "no addresses");
    assert_eq!(owner.get("/mod/users").await.status, 403);
}

/// One client trying many accounts is slowed down as a whole: its failures over all addresses
/// count too, and a new address does not start afresh.
#[tokio::test]
async fn one_client_trying_many_accounts_waits_too() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let sprayer = from(&app, 7);
    for i in 0..10 {
        let page = try_login(&sprayer, &format!("user{i}@engawa.test"), "password-123456").await;
        assert_eq!(page.status, 422, "{i}");
    }
    let page = try_login(&sprayer, "mod@engawa.test", "password-123456").await;
    assert_eq!(page.status, 429);
    assert_eq!(
        try_login(&from(&app, 8), "mod@engawa.test", &password)
            .await
            .status,
        303
    );
}

/// Attempts sent at once are each checked and counted before any password is: of ten parallel
/// wrong passwords from one client, three get an answer and seven wait.
#[tokio::test]
async fn parallel_attempts_cannot_all_pass_the_check() {
    let app = spawn_app().await;
    app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let attacker = from(&app, 9);
    let form = attacker.get("/mod/login").await;
    assert_eq!(form.status, 200, "/mod/login: {}", form.body);
    let token = form.csrf();
    let attempts = (0..10).map(|i| {
        let attacker = attacker.clone();
        let token = token.clone();
        async move {
            let password = format!("wrong-password-{i}");
            attacker
                .post(
                    "/mod/login",
                    &[
                        ("email", "mod@engawa.test"),
                        ("password", &password),
                        ("csrf_token", &token),
                    ],
                )
                .await
                .status
        }
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort();
    assert_eq!(statuses, [vec![422; 3], vec![429; 7]].concat());
}

/// Guessing one account's password from many networks: past the account's own free failures a
/// browser that never signed in to it waits, wherever it is; the owner's browser, which has
/// signed in before, never does.
#[tokio::test]
async fn guesses_from_many_networks_never_stop_a_browser_that_signed_in_before() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let owner = from(&app, 60);
    assert_eq!(
        try_login(&owner, "mod@engawa.test", &password).await.status,
        303
    );
    for n in 10..30 {
        let page = try_login(&from(&app, n), "mod@engawa.test", "wrong-password-123").await;
        assert_eq!(page.status, 422, "{n}");
    }
    let stranger = try_login(&from(&app, 40), "mod@engawa.test", "wrong-password-123").await;
    assert_eq!(stranger.status, 429);
    assert_eq!(
        try_login(&owner, "MOD@engawa.test", &password).await.status,
        303,
        "the owner's browser is known"
    );
}

/// A form token fetched before signing in does not work after it, nor one from before signing
/// out after that: the visitor's CSRF id is replaced at both.
#[tokio::test]
async fn signing_in_and_out_replaces_the_visitors_csrf_id() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let who = app.browser();
    let form = who.get("/mod/login").await;
    assert_eq!(form.status, 200, "/mod/login: {}", form.body);
    let before = form.csrf();
    let page = who
        .post(
            "/mod/login",
            &[
                ("email", "mod@engawa.test"),
                ("password", &password),
                ("csrf_token", &before),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let stale = who.post("/mod/logout", &[("csrf_token", &before)]).await;
    assert_eq!(stale.status, 403, "a token from before signing in");
    assert_eq!(who.get("/mod").await.status, 200, "still signed in");

    let front = who.get("/mod").await;
    assert_eq!(front.status, 200, "/mod once signed in: {}", front.body);
    let signed_in = front.csrf();
    assert_ne!(signed_in, before);
    let out = who.post("/mod/logout", &[("csrf_token", &signed_in)]).await;
    assert_eq!(out.status, 303);
    let stale = who
        .post(
            "/mod/login",
            &[
                ("email", "mod@engawa.test"),
                ("password", &password),
                ("csrf_token", &signed_in),
            ],
        )
        .await;
    assert_eq!(stale.status, 403, "a token from before signing out");
    assert_eq!(
        try_login(&who, "mod@engawa.test", &password).await.status,
        303
    );
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let app = spawn_app().await;
    let admin_password = app.add_staff("admin@engawa.test", "admin", Role::Admin);
    let admin = app.browser();
    admin.login("admin@engawa.test", &admin_password).await;
    let moderator = app.moderator("tanaka").await;
    assert_eq!(moderator.get("/mod").await.status, 200);

    let users = admin.get("/mod/users").await;
    assert_eq!(users.status, 200, "/mod/users as an admin: {}", users.body);
    let action = users
        .attr("form[action$='/disable']", "action")
        .expect("a disable button for the moderator");
    let page = admin.submit("/mod/users", &action, &[]).await;
    assert_eq!(page.status, 303);

    let after = moderator.get("/mod").await;
    assert_eq!(after.status, 303, "the disabled moderator's session ended");
    let again = app
        .browser()
        .submit(
            "/mod/login",
            "/mod/login",
            &[
                ("email", "tanaka@engawa.test"),
                ("password", "tanaka-password-long"),
            ],
        )
        .await;
    assert_eq!(again.status, 422, "a disabled account cannot log in");
    assert!(
        admin
            .get("/mod/users")
            .await
            .text("table.users")
            .contains("無効")
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let laptop = app.browser();
    laptop.login("mod@engawa.test", &password).await;
    let phone = app.browser();
    phone.login("mod@engawa.test", &password).await;

    let short = laptop
        .submit(
            "/mod/password",
            "/mod/password",
            &[
                ("current", &password),
                ("new_password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.text(".error-summary").contains("12文字以上"));

    let new = "a-much-longer-new-password";
    let changed = laptop
        .submit(
            "/mod/password",
            "/mod/password",
            &[
                ("current", &password),
                ("new_password", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(
        phone.get("/mod").await.status,
        303,
        "the other device was signed out"
    );
    assert_eq!(laptop.get("/mod").await.status, 303);
    app.browser().login("mod@engawa.test", new).await;
}

#[tokio::test]
async fn logging_out_ends_the_session_and_login_never_redirects_elsewhere() {
    let app = spawn_app().await;
    let password = app.add_staff("mod@engawa.test", "mod", Role::Moderator);
    let browser = app.browser();
    for (next, expected) in [
        ("/mod/log", "/mod/log"),
        ("https://evil.example/", "/mod"),
        ("//evil.example", "/mod"),
        ("/stories", "/mod"),
    ] {
        let page = browser
            .submit(
                "/mod/login",
                "/mod/login",
                &[
                    ("email", "mod@engawa.test"),
                    ("password", &password),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some(expected), "next={next}");
    }
    let out = browser.submit("/mod", "/mod/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(browser.get("/mod").await.status, 303);
}

#[tokio::test]
async fn an_editor_cannot_moderate() {
    let app = spawn_app().await;
    let password = app.add_staff("ed@engawa.test", "ed", Role::Editor);
    let editor = app.browser();
    editor.login("ed@engawa.test", &password).await;
    let front = editor.get("/mod").await;
    assert_eq!(front.status, 303, "editors land on their guides");
    assert_eq!(front.location.as_deref(), Some("/mod/guides"));
    assert_eq!(editor.get("/mod/log").await.status, 403);
    assert_eq!(editor.get("/mod/users").await.status, 403);
    let code = app
        .browser()
        .send_story(&as_refs(&story_fields("編集者には承認できない話")))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let token = editor.get("/mod/guides").await.csrf();
    let approve = editor
        .post(
            &format!("/mod/stories/{public_id}/approve"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(approve.status, 403);
}

#[tokio::test]
async fn the_cli_adds_an_account_with_the_password_from_standard_input() {
    let app = spawn_app().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engawa"))
        .args([
            "user",
            "add",
            "--email",
            "Chief@Engawa.test",
            "--role",
            "admin",
            "--name",
            "編集長",
        ])
        .env("DATABASE_URL", &app.db.url)
        .env("ENGAWA_DATA_DIR", app.db.data_dir())
        .env("ENGAWA_CONFIG", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-admin-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created admin account chief@engawa.test")
    );

    let admin = app.browser();
    admin
        .login("chief@engawa.test", "a-long-admin-password")
        .await;
    assert!(
        admin
            .get("/mod/users")
            .await
            .text("table.users")
            .contains("編集長")
    );

    let weak = app.cli(&[
        "user",
        "add",
        "--email",
        "x@engawa.test",
        "--role",
        "moderator",
    ]);
    assert_eq!(weak.status.code(), Some(1), "an empty password is refused");
    let bad_role = app.cli(&["user", "add", "--email", "y@engawa.test", "--role", "owner"]);
    assert!(
        String::from_utf8_lossy(&bad_role.stderr)
            .contains("--role must be admin, moderator or editor")
    );
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours() {
    use diesel::{ExpressionMethods, RunQueryDsl};
    let app = spawn_app().await;
    let moderator = app.moderator("sato").await;
    assert_eq!(moderator.get("/mod").await.status, 200);
    // Move every session's start thirteen hours back, as if the login were yesterday.
    let past = engawa::models::now() - chrono::Duration::hours(13);
    diesel::update(engawa::db::schema::sessions::table)
        .set((
            engawa::db::schema::sessions::created_at.eq(past),
            engawa::db::schema::sessions::expires_at.eq(past + chrono::Duration::hours(12)),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let page = moderator.get("/mod").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/mod/login?next=%2Fmod"));
}
