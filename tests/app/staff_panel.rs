//! Staff managed in the panel by an admin: an invitation by one-time link, a role change,
//! disabling and enabling, a password-reset link, and a member's own password change, each
//! with its row in the audit log; links work once and say nothing about why they do not.

use engawa::domain::Role;

use crate::helpers::{Browser, TestApp, TestDatabase, spawn_configured};
use crate::smtp::{SmtpServer, free_port};

const BASE: &str = "https://engawa.example";

/// The audit rows about staff and guides (not stories), oldest first: (kind, actor, subject,
/// note).
fn staff_rows(app: &TestApp) -> Vec<(String, String, String, Option<String>)> {
    let mut rows: Vec<_> = app
        .audit_rows("")
        .into_iter()
        .filter(|r| r.subject.is_some())
        .collect();
    rows.sort_by_key(|r| r.id);
    rows.into_iter()
        .map(|r| (r.kind, r.actor_label, r.subject.unwrap_or_default(), r.note))
        .collect()
}

fn user_id(app: &TestApp, email: &str) -> i32 {
    use diesel::prelude::*;
    use engawa::db::schema::users;
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut app.conn())
        .expect("the account exists")
}

/// The one-time link a page shows, as a path on this site.
fn shown_link(page: &crate::helpers::Page) -> String {
    let link = page.text("#staff-link");
    link.strip_prefix(BASE)
        .unwrap_or_else(|| panic!("a link on this site: {link:?}"))
        .to_owned()
}

async fn set_password(
    who: &Browser,
    path: &str,
    password: &str,
    confirm: &str,
) -> crate::helpers::Page {
    who.submit(
        path,
        path,
        &[("new_password", password), ("confirm", confirm)],
    )
    .await
}

#[tokio::test]
async fn an_admin_invites_changes_a_role_disables_and_resets_and_each_step_is_audited() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.base_url = BASE.to_owned();
    })
    .await;
    let admin = app.signed_in("kanri", Role::Admin).await;

    // An invitation: the link is shown once and mailed.
    let users = admin.shown("/mod/users").await;
    let bad = admin
        .post_form(
            &users,
            "/mod/users/invite",
            &[
                ("email", "not-an-address"),
                ("name", "新人"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        bad.attr("#name", "value").as_deref(),
        Some("新人"),
        "the form comes back as typed"
    );
    let invited = admin
        .post_form(
            &users,
            "/mod/users/invite",
            &[
                ("email", "shinjin@engawa.test"),
                ("name", "新人"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(invited.status, 200, "{}", invited.body);
    assert_eq!(invited.text("h1"), "招待リンクを発行しました");
    let join = shown_link(&invited);
    assert!(join.starts_with("/mod/join/"), "{join}");
    let mail = &smtp.wait_for_mail_to("shinjin@engawa.test", 1).await[0];
    assert_eq!(mail.subject, "【縁側】管理画面への招待");
    assert!(
        mail.body.contains(&format!("{BASE}{join}")),
        "{}",
        mail.body
    );
    let again = admin
        .post_form(
            &users,
            "/mod/users/invite",
            &[
                ("email", "kanri@engawa.test"),
                ("name", "重複"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "an address that has an account");
    assert!(again.text(".error-summary").contains("すでにあります"));

    // The newcomer chooses a password; the link then works no more.
    let newcomer = app.browser();
    let form = newcomer.shown(&join).await;
    assert!(
        form.body
            .contains("新人さん（shinjin@engawa.test、編集者）"),
        "{}",
        form.body
    );
    let mismatch = set_password(
        &newcomer,
        &join,
        "first-password-long",
        "other-password-long",
    )
    .await;
    assert_eq!(mismatch.status, 422);
    assert_eq!(
        mismatch.text(".error-summary"),
        "新しいパスワードが確認用と一致しません。"
    );
    let short = set_password(&newcomer, &join, "short", "short").await;
    assert_eq!(short.status, 422);
    let joined = set_password(
        &newcomer,
        &join,
        "first-password-long",
        "first-password-long",
    )
    .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    assert_eq!(joined.location.as_deref(), Some("/mod/login?joined=1"));
    assert_eq!(newcomer.get(&join).await.status, 410, "a used link");
    assert_eq!(
        newcomer.get("/mod/join/0123456789abcdef").await.status,
        410,
        "an unknown link, the same answer"
    );
    newcomer
        .login("shinjin@engawa.test", "first-password-long")
        .await;
    let id = user_id(&app, "shinjin@engawa.test");
    assert_eq!(newcomer.get("/mod/guides").await.status, 200, "an editor");
    assert_eq!(
        newcomer.get("/mod/log").await.status,
        403,
        "not a moderator yet"
    );

    // A role change.
    let users = admin.shown("/mod/users").await;
    let changed = admin
        .post_form(
            &users,
            &format!("/mod/users/{id}/role"),
            &[("role", "moderator")],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(
        newcomer.get("/mod/log").await.status,
        200,
        "a moderator now"
    );
    let own = admin
        .post(
            &format!("/mod/users/{}/role", user_id(&app, "kanri@engawa.test")),
            &[("role", "editor"), ("csrf_token", &users.csrf())],
        )
        .await;
    assert_eq!(own.status, 400, "an admin cannot change their own role");

    // Disabled: every session ends; enabled again.
    let users = admin.shown("/mod/users").await;
    let disabled = admin
        .post_form(&users, &format!("/mod/users/{id}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303);
    assert_eq!(
        newcomer.get("/mod/log").await.status,
        303,
        "signed out at once"
    );
    let users = admin.shown("/mod/users").await;
    assert_eq!(
        admin
            .post_form(&users, &format!("/mod/users/{id}/enable"), &[])
            .await
            .status,
        303
    );

    // A reset link: shown once, mailed; the old password works until it is used.
    let users = admin.shown("/mod/users").await;
    let issued = admin
        .post_form(&users, &format!("/mod/users/{id}/reset"), &[])
        .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let reset = shown_link(&issued);
    assert!(reset.starts_with("/mod/reset/"), "{reset}");
    let mail = &smtp.wait_for_mail_to("shinjin@engawa.test", 2).await[1];
    assert_eq!(mail.subject, "【縁側】パスワードの再設定");
    assert!(mail.body.contains(&format!("{BASE}{reset}")));
    assert_eq!(
        newcomer.shown(&reset).await.text("h1"),
        "パスワードの再設定"
    );
    let done = set_password(
        &newcomer,
        &reset,
        "second-password-long",
        "second-password-long",
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/mod/login?changed=1"));
    assert_eq!(newcomer.get(&reset).await.status, 410, "used once");
    let old = newcomer
        .submit(
            "/mod/login",
            "/mod/login",
            &[
                ("email", "shinjin@engawa.test"),
                ("password", "first-password-long"),
            ],
        )
        .await;
    assert_eq!(old.status, 422, "the old password is gone");
    newcomer
        .login("shinjin@engawa.test", "second-password-long")
        .await;

    // Their own password.
    let page = newcomer.shown("/mod/password").await;
    let own = newcomer
        .post_form(
            &page,
            "/mod/password",
            &[
                ("current", "second-password-long"),
                ("new_password", "third-password-long"),
                ("confirm", "third-password-long"),
            ],
        )
        .await;
    assert_eq!(own.status, 303, "{}", own.body);
    newcomer
        .login("shinjin@engawa.test", "third-password-long")
        .await;

    let subject = format!("staff:{id}");
    let kind = |k: &str, actor: &str, subject: &str, note: Option<&str>| {
        (
            k.to_owned(),
            actor.to_owned(),
            subject.to_owned(),
            note.map(str::to_owned),
        )
    };
    assert_eq!(
        staff_rows(&app),
        vec![
            kind("invite", "kanri", "invitation:", Some("新人（編集者）")),
            kind("join", "新人", &subject, Some("kanriが発行したリンクで")),
            kind(
                "change_role",
                "kanri",
                &subject,
                Some("編集者 → モデレーター")
            ),
            kind("disable", "kanri", &subject, None),
            kind("enable", "kanri", &subject, None),
            kind("issue_reset", "kanri", &subject, None),
            kind(
                "reset_password",
                "新人",
                &subject,
                Some("kanriが発行したリンクで")
            ),
            kind("change_password", "新人", &subject, None),
        ]
    );
    let log = admin.shown("/mod/log").await;
    assert!(
        log.texts("td.subject")
            .contains(&"スタッフ：新人".to_owned())
    );
    assert!(log.texts("td.kind").contains(&"役割の変更".to_owned()));
    for m in smtp.received() {
        assert!(!m.body.contains("password-long"), "no password in mail");
    }
}

/// Links die with the trust behind them: a link used on the other kind of page, a reset for a
/// disabled account, a disabled admin's links, and an invitation for an address that has an
/// account by now are all refused, with the same page; only admins act here.
#[tokio::test]
async fn links_are_refused_once_the_account_or_the_admin_behind_them_is_disabled() {
    let port = free_port();
    let _smtp = SmtpServer::start(port);
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.base_url = BASE.to_owned();
    })
    .await;
    let kanri = app.signed_in("kanri", Role::Admin).await;
    let second = app.signed_in("nibanme", Role::Admin).await;
    let moderator = app.moderator("sato").await;
    let sato = user_id(&app, "sato@engawa.test");

    // Not an admin: refused.
    let token = moderator.shown("/mod").await.csrf();
    for path in [
        "/mod/users/invite".to_owned(),
        format!("/mod/users/{sato}/reset"),
    ] {
        let page = moderator
            .post(
                &path,
                &[
                    ("csrf_token", &token),
                    ("email", "x@engawa.test"),
                    ("name", "x"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{path}");
    }

    // A reset link is no invitation.
    let users = second.shown("/mod/users").await;
    let issued = second
        .post_form(&users, &format!("/mod/users/{sato}/reset"), &[])
        .await;
    let reset = shown_link(&issued);
    let as_join = reset.replace("/mod/reset/", "/mod/join/");
    assert_eq!(app.browser().get(&as_join).await.status, 410);

    // An invitation by the second admin, then the second admin is disabled: their links die.
    let invited = second
        .post_form(
            &users,
            "/mod/users/invite",
            &[
                ("email", "later@engawa.test"),
                ("name", "後任"),
                ("role", "admin"),
            ],
        )
        .await;
    let join = shown_link(&invited);
    let users = kanri.shown("/mod/users").await;
    let nibanme = user_id(&app, "nibanme@engawa.test");
    assert_eq!(
        kanri
            .post_form(&users, &format!("/mod/users/{nibanme}/disable"), &[])
            .await
            .status,
        303
    );
    let visitor = app.browser();
    for link in [&join, &reset] {
        let page = visitor.get(link).await;
        assert_eq!(page.status, 410, "{link} outlived its admin");
        assert!(page.body.contains("このリンクは使えません"));
    }
    let users = kanri.shown("/mod/users").await;
    assert_eq!(
        kanri
            .post_form(&users, &format!("/mod/users/{nibanme}/enable"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        visitor.get(&join).await.status,
        410,
        "enabling again revives nothing"
    );

    // A disabled account gets no reset link, and its old one is gone.
    let users = kanri.shown("/mod/users").await;
    let issued = kanri
        .post_form(&users, &format!("/mod/users/{sato}/reset"), &[])
        .await;
    let reset = shown_link(&issued);
    assert_eq!(
        kanri
            .post_form(&users, &format!("/mod/users/{sato}/disable"), &[])
            .await
            .status,
        303
    );
    assert_eq!(visitor.get(&reset).await.status, 410);
    let refused = kanri
        .post_form(&users, &format!("/mod/users/{sato}/reset"), &[])
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .body
            .contains("無効なアカウントのパスワードは再設定できません")
    );

    // An invitation whose address has an account by now says so before a password is chosen.
    let users = kanri.shown("/mod/users").await;
    let invited = kanri
        .post_form(
            &users,
            "/mod/users/invite",
            &[
                ("email", "hayai@engawa.test"),
                ("name", "早い人"),
                ("role", "editor"),
            ],
        )
        .await;
    let join = shown_link(&invited);
    app.add_staff("hayai@engawa.test", "hayai", Role::Editor);
    let page = visitor.get(&join).await;
    assert_eq!(page.status, 410);
    assert!(
        page.body
            .contains("このメールアドレスのアカウントはすでにあります"),
        "{}",
        page.body
    );
}
