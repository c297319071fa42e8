//! Every form that changes something refuses a request without this visitor's own CSRF token,
//! and changes nothing. The forms are found on the pages themselves (every `method=post` form
//! of every page a reader, submitter, moderator, editor or admin sees), so a new form is covered
//! the day it appears.

use diesel::prelude::*;

use crate::helpers::{Browser, Page, TestApp, as_refs, spawn_app, story_fields};

/// Each post form on the page: its action and the fields a browser would send, token included.
fn post_forms(page: &Page) -> Vec<(String, Vec<(String, String)>)> {
    let doc = scraper::Html::parse_document(&page.body);
    let forms = scraper::Selector::parse("form[method=post]").unwrap();
    let controls = scraper::Selector::parse("input[name], textarea[name], select[name]").unwrap();
    let selected = scraper::Selector::parse("option[selected], option").unwrap();
    let buttons = scraper::Selector::parse("button[name]").unwrap();
    doc.select(&forms)
        .map(|form| {
            let action = form.value().attr("action").unwrap_or_default().to_owned();
            // The first named button stands for the one a person would press.
            let pressed = form.select(&buttons).next().map(|b| {
                let e = b.value();
                (
                    e.attr("name").unwrap_or_default().to_owned(),
                    e.attr("value").unwrap_or_default().to_owned(),
                )
            });
            let fields = form
                .select(&controls)
                .filter_map(|c| {
                    let e = c.value();
                    let name = e.attr("name")?.to_owned();
                    let value = match e.name() {
                        "textarea" => c.text().collect(),
                        "select" => c
                            .select(&selected)
                            .next()
                            .and_then(|o| o.value().attr("value"))
                            .unwrap_or_default()
                            .to_owned(),
                        _ => {
                            let kind = e.attr("type").unwrap_or("text");
                            if matches!(kind, "checkbox" | "radio") && e.attr("checked").is_none() {
                                return None;
                            }
                            e.attr("value").unwrap_or("on").to_owned()
                        }
                    };
                    Some((name, value))
                })
                .chain(pressed)
                .collect();
            (action, fields)
        })
        .collect()
}

/// Row counts of everything a form could change.
fn snapshot(app: &TestApp) -> Vec<(String, i64)> {
    let mut conn = app.conn();
    let mut counts = Vec::new();
    for (what, sql) in [
        ("stories", "SELECT COUNT(*) AS n FROM stories"),
        (
            "stories by status",
            "SELECT COUNT(*) AS n FROM stories WHERE status = 'approved'",
        ),
        ("mod_actions", "SELECT COUNT(*) AS n FROM mod_actions"),
        ("guides", "SELECT COUNT(*) AS n FROM guides"),
        (
            "guide_revisions",
            "SELECT COUNT(*) AS n FROM guide_revisions",
        ),
        ("reports", "SELECT COUNT(*) AS n FROM reports"),
        ("subscriptions", "SELECT COUNT(*) AS n FROM subscriptions"),
        (
            "disabled users",
            "SELECT COUNT(*) AS n FROM users WHERE disabled",
        ),
        ("sessions", "SELECT COUNT(*) AS n FROM sessions"),
        ("outbox", "SELECT COUNT(*) AS n FROM outbox"),
    ] {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n = diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .n;
        counts.push((what.to_owned(), n));
    }
    counts
}

/// Posts every form of `page` as `who` twice: without a token, and with a token that belongs to
/// another visitor. Both must be refused with the 403 page.
async fn forge_all(who: &Browser, stranger_token: &str, page_path: &str, page: &Page) -> usize {
    let forms = post_forms(page);
    for (action, fields) in &forms {
        let without: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(n, _)| n != "csrf_token")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut foreign = without.clone();
        foreign.push(("csrf_token", stranger_token));
        for (how, body) in [
            ("without a token", &without),
            ("with a stranger's token", &foreign),
        ] {
            let answer = who.post(action, body).await;
            assert_eq!(
                answer.status, 403,
                "{action} (form on {page_path}) {how}: {}",
                answer.body
            );
            assert!(answer.body.contains("この操作はできません"), "{action}");
        }
    }
    forms.len()
}

#[tokio::test]
async fn every_form_refuses_a_request_without_the_visitors_own_token() {
    let app = spawn_app().await;
    // Content for every form to act on: a pending and an approved story, a guide with two
    // versions, a second staff account.
    let submitter = app.browser();
    let pending_code = submitter
        .send_story(&as_refs(&story_fields("保留中の話")))
        .await;
    let pending = app.story_by_code(&pending_code).public_id;
    let approved_code = app
        .browser()
        .send_story(&as_refs(&story_fields("公開された話")))
        .await;
    let approved = app.story_by_code(&approved_code).public_id;
    let admin_password = app.add_staff("admin@engawa.test", "admin", engawa::domain::Role::Admin);
    let admin = app.browser();
    admin.login("admin@engawa.test", &admin_password).await;
    admin.approve(&approved).await;
    app.add_staff(
        "other@engawa.test",
        "other",
        engawa::domain::Role::Moderator,
    );
    let guide = admin
        .submit(
            "/mod/guides/new",
            "/mod/guides/new",
            &[
                ("title", "守るためのガイド"),
                ("slug", "guarded"),
                ("summary", "概要"),
                ("body", "## はじめに\n\n本文です。"),
                ("tags", "ルール"),
                ("category", "はじめに"),
                ("action", "publish"),
                ("version", ""),
            ],
        )
        .await;
    assert_eq!(guide.status, 303, "{}", guide.body);
    let guide_id = app.guide_id("guarded");

    let stranger = app.browser();
    let stranger_token = stranger.get("/stories/new").await.csrf();
    // The moderators' alert about the submissions above goes out first.
    crate::helpers::background_work_done(&app.address).await;
    let before = snapshot(&app);

    let status_page = submitter
        .submit(
            "/stories/status",
            "/stories/status",
            &[("code", &pending_code)],
        )
        .await;
    assert_eq!(status_page.status, 200);
    let reader = app.browser();
    let mut forms = 0;
    for (who, path) in [
        (&reader, "/stories/new".to_owned()),
        (&reader, "/stories/status".to_owned()),
        (&reader, format!("/stories/{approved}/report")),
        (&reader, "/subscribe".to_owned()),
        (&reader, "/mod/login".to_owned()),
        (&admin, "/mod".to_owned()),
        (&admin, format!("/mod/stories/{pending}")),
        (&admin, format!("/mod/stories/{approved}")),
        (&admin, "/mod/password".to_owned()),
        (&admin, "/mod/users".to_owned()),
        (&admin, "/mod/guides/new".to_owned()),
        (&admin, format!("/mod/guides/{guide_id}/edit")),
        (&admin, format!("/mod/guides/{guide_id}/revisions")),
    ] {
        let page = who.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        forms += forge_all(who, &stranger_token, &path, &page).await;
    }
    forms += forge_all(
        &submitter,
        &stranger_token,
        "/stories/status (POST)",
        &status_page,
    )
    .await;
    assert!(forms >= 18, "only {forms} forms found");

    assert_eq!(snapshot(&app), before, "a refused form changed something");
    // The admin's session survived the forged logout and password change.
    assert_eq!(admin.get("/mod").await.status, 200);
}

/// A CSRF cookie that is not one of our ids (wrong length, not hex) is never used: the visitor
/// gets a fresh id, and a token made for the malformed value is refused.
#[tokio::test]
async fn a_malformed_csrf_cookie_is_replaced_and_its_token_refused() {
    let app = spawn_app().await;
    let client = crate::helpers::client_by_hand();
    for planted in ["short", &"g".repeat(64), &"a".repeat(63), &"a".repeat(65)] {
        let form = client
            .get(format!("{}/subscribe", app.address))
            .header("cookie", format!("engawa_csrf={planted}"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let fresh = crate::helpers::cookie_value(form.headers(), "engawa_csrf")
            .unwrap_or_else(|| panic!("{planted:?} was kept"));
        assert!(
            fresh.len() == 64 && fresh.bytes().all(|b| b.is_ascii_hexdigit()),
            "{fresh}"
        );
        let token = Page::parse(form.text().await.unwrap()).csrf();
        // The page's token belongs to the fresh id, not to the planted value.
        let subscribe_with = async |cookie: &str| {
            client
                .post(format!("{}/subscribe", app.address))
                .header("cookie", format!("engawa_csrf={cookie}"))
                .form(&[
                    ("email", "planted@example.jp"),
                    ("guides", "yes"),
                    ("csrf_token", &token),
                ])
                .send()
                .await
                .unwrap()
        };
        let with_planted = subscribe_with(planted).await;
        assert_eq!(with_planted.status(), 403, "{planted:?}");
        let with_fresh = subscribe_with(&fresh).await;
        assert_eq!(with_fresh.status(), 303, "{planted:?}");
    }
}
