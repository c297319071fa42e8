//! The rules of what may happen to a story or a guide live in one function each
//! (`StoryStatus::allows`, `GuideStatus::allows`). These tests walk every status and every
//! action and check, over HTTP, that the pages offer exactly what the rules allow and that the
//! server does exactly that: an allowed action is done and leads where the rules say, a refused
//! one changes nothing.

use diesel::prelude::*;
use engawa::db::schema::{guides, reports, stories};
use engawa::domain::{GuideAction, GuideStatus, ReceiptCode, StoryAction, StoryStatus};
use engawa::workflows::moderation::Decision;

use crate::helpers::{
    Browser, Page, TestApp, TestDatabase, as_refs, guide, public_id, spawn_configured, story,
    story_fields,
};

/// A story seeded in `status`, with a receipt code and, if `reported`, an open report.
struct Seeded {
    public_id: String,
    code: String,
    n: usize,
}

/// The submitter or reader of story `n`, each from an address of their own (the per-client
/// limits are not what is tested here).
fn person(app: &TestApp, n: usize) -> Browser {
    let [_, _, hi, lo] = u32::try_from(n).expect("small").to_be_bytes();
    Browser::from_source(
        &app.address,
        Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 1, hi, lo,
        ))),
    )
}

fn seed_story(app: &TestApp, n: usize, status: StoryStatus, reported: bool) -> Seeded {
    let id = public_id(n);
    app.seed(&[story(&id, &format!("状態の確認{n}"), status.as_str())]);
    let code = ReceiptCode::generate();
    let mut conn = app.conn();
    diesel::update(stories::table.filter(stories::public_id.eq(&id)))
        .set(stories::receipt_hash.eq(code.hash()))
        .execute(&mut conn)
        .expect("receipt");
    if reported {
        let story_id: i32 = stories::table
            .filter(stories::public_id.eq(&id))
            .select(stories::id)
            .first(&mut conn)
            .expect("story");
        diesel::insert_into(reports::table)
            .values((
                reports::story_id.eq(story_id),
                reports::reason.eq("spam"),
                reports::created_at.eq(engawa::models::now()),
                reports::reader_hash.eq(format!("seeded-{n}")),
            ))
            .execute(&mut conn)
            .expect("report");
    }
    Seeded {
        public_id: id,
        code: code.display(),
        n,
    }
}

fn status_of(app: &TestApp, public_id: &str) -> StoryStatus {
    let raw: String = stories::table
        .filter(stories::public_id.eq(public_id))
        .select(stories::status)
        .first(&mut app.conn())
        .expect("story");
    StoryStatus::parse(&raw).expect("known status")
}

/// Whether the server did what was posted (it redirects); a refusal is a page saying why (the
/// form again, or an error status), never a server error.
fn accepted(page: &Page, what: &str) -> bool {
    assert!(
        matches!(page.status, 200 | 303 | 400 | 404 | 409 | 422),
        "{what}: {} {}",
        page.status,
        page.body
    );
    page.status == 303
}

fn has_form(page: &Page, action: &str) -> bool {
    !page
        .attrs(&format!("form[action=\"{action}\"]"), "action")
        .is_empty()
}

/// Does `action` on the story the way its actor does, over HTTP where there is a page for it;
/// returns whether the server accepted it.
async fn act(
    app: &TestApp,
    moderator: &Browser,
    s: &Seeded,
    action: StoryAction,
    reason: &str,
) -> bool {
    let id = &s.public_id;
    let panel = format!("/mod/stories/{id}");
    let posted = |page: Page, what: &str| accepted(&page, &format!("{what} on {id}"));
    match action {
        StoryAction::Claim => {
            let page = moderator
                .submit(&panel, &format!("{panel}/claim"), &[])
                .await;
            posted(page, "claim");
            let claimed: Option<i32> = stories::table
                .filter(stories::public_id.eq(id))
                .select(stories::claimed_by)
                .first(&mut app.conn())
                .expect("story");
            claimed.is_some()
        }
        StoryAction::Approve | StoryAction::KeepPublished => posted(
            moderator
                .submit(&panel, &format!("{panel}/approve"), &[])
                .await,
            "approve",
        ),
        StoryAction::RequestChanges => posted(
            moderator
                .submit(
                    &panel,
                    &format!("{panel}/request-changes"),
                    &[("message", "ここを直してください")],
                )
                .await,
            "request changes",
        ),
        StoryAction::Reject => posted(
            moderator
                .submit(&panel, &format!("{panel}/reject"), &[("reason", reason)])
                .await,
            "reject",
        ),
        StoryAction::Edit => {
            let fields = story_fields("編集部が整えた題");
            posted(
                moderator
                    .submit(&panel, &format!("{panel}/edit"), &as_refs(&fields))
                    .await,
                "edit",
            )
        }
        StoryAction::Resubmit => {
            // Posted as a submitter would who kept the form open, whatever the page shows now.
            let submitter = person(app, s.n);
            let token = submitter.get("/stories/status").await.csrf();
            let mut fields = story_fields("直して送り直した題");
            fields.push(("code", s.code.clone()));
            fields.push(("csrf_token", token));
            posted(
                submitter
                    .post("/stories/status/resubmit", &as_refs(&fields))
                    .await,
                "resubmit",
            )
        }
        StoryAction::Withdraw => {
            let submitter = person(app, s.n);
            posted(
                submitter
                    .submit(
                        "/stories/status",
                        "/stories/status/withdraw",
                        &[("code", &s.code), ("confirm", "yes")],
                    )
                    .await,
                "withdraw",
            )
        }
        StoryAction::Report | StoryAction::Hide => {
            // The app under test hides a story at the first report, so one report is both.
            let reader = person(app, s.n);
            let form = reader.get(&format!("/stories/{id}/report")).await;
            if form.status != 200 {
                return false;
            }
            let page = reader
                .post(
                    &format!("/stories/{id}/report"),
                    &[("reason", "spam"), ("csrf_token", &form.csrf())],
                )
                .await;
            posted(page, "report")
        }
        StoryAction::EraseExpired => {
            unreachable!("the scheduler's action is checked apart")
        }
    }
}

/// Every (status, action) pair: the pages show the action exactly when the rules allow it, and
/// the server does it exactly then, leading where the rules say.
#[tokio::test]
async fn every_story_status_and_action_agree_between_the_rules_the_pages_and_the_server() {
    let app = spawn_configured(TestDatabase::new(), false, |s| s.report_threshold = 1).await;
    let moderator = app.moderator("walker").await;
    let reason = app.settings.reject_reasons[0].clone();
    let mut n = 0;
    let mut erase_cases = Vec::new();
    for status in StoryStatus::ALL.iter().copied() {
        for reported in [false, true] {
            // What the pages offer.
            n += 1;
            let s = seed_story(&app, n, status, reported);
            let allows = |a| status.allows(a, reported);
            let panel = format!("/mod/stories/{}", s.public_id);
            let page = moderator.get(&panel).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let case = format!("{status:?}, reported: {reported}");
            for (action, form) in [
                (StoryAction::Claim, "claim"),
                (StoryAction::RequestChanges, "request-changes"),
                (StoryAction::Reject, "reject"),
                (StoryAction::Edit, "edit"),
            ] {
                assert_eq!(
                    has_form(&page, &format!("{panel}/{form}")),
                    allows(action),
                    "{case}: the panel's {form} form"
                );
            }
            assert_eq!(
                has_form(&page, &format!("{panel}/approve")),
                allows(
                    Decision::Approve {
                        unfounded_reports: false
                    }
                    .action(status)
                ),
                "{case}: the panel's approve form"
            );
            let mine = person(&app, n).status_page(&s.code).await;
            assert_eq!(
                has_form(&mine, "/stories/status/resubmit"),
                allows(StoryAction::Resubmit),
                "{case}: the status page's resubmit form"
            );
            assert_eq!(
                has_form(&mine, "/stories/status/withdraw"),
                allows(StoryAction::Withdraw),
                "{case}: the status page's withdraw form"
            );
            let public = app.get(&format!("/stories/{}", s.public_id)).await;
            assert_eq!(
                public.status == 200,
                status.is_public(),
                "{case}: public page"
            );
            assert_eq!(
                public
                    .attrs(
                        &format!("a[href=\"/stories/{}/report\"]", s.public_id),
                        "href"
                    )
                    .len()
                    == 1,
                allows(StoryAction::Report),
                "{case}: the report link"
            );

            // What the server does.
            for action in StoryAction::ALL {
                n += 1;
                let s = seed_story(&app, n, status, reported);
                if action == StoryAction::EraseExpired {
                    erase_cases.push((s, status));
                    continue;
                }
                let expected = match action {
                    StoryAction::Approve | StoryAction::KeepPublished => allows(
                        Decision::Approve {
                            unfounded_reports: false,
                        }
                        .action(status),
                    ),
                    StoryAction::Hide => allows(StoryAction::Report),
                    other => allows(other),
                };
                let done = act(&app, &moderator, &s, action, &reason).await;
                assert_eq!(done, expected, "{case}: {action:?} accepted");
                let after = status_of(&app, &s.public_id);
                let leads_to = match action {
                    StoryAction::Report | StoryAction::Hide if allows(StoryAction::Hide) => {
                        StoryAction::Hide.leads_to()
                    }
                    StoryAction::Approve | StoryAction::KeepPublished => Decision::Approve {
                        unfounded_reports: false,
                    }
                    .action(status)
                    .leads_to(),
                    other => other.leads_to(),
                };
                let want = if done {
                    leads_to.unwrap_or(status)
                } else {
                    status
                };
                assert_eq!(after, want, "{case}: status after {action:?}");
            }
        }
    }

    // The scheduler's erasure of rejected stories whose retention ended.
    let mut conn = app.conn();
    let later = engawa::models::now() + chrono::Duration::hours(2);
    while engawa::workflows::moderation::expire_rejected(
        &mut conn,
        std::time::Duration::ZERO,
        later,
    )
    .expect("erasure")
        > 0
    {}
    for (s, status) in erase_cases {
        let body: String = stories::table
            .filter(stories::public_id.eq(&s.public_id))
            .select(stories::body_markdown)
            .first(&mut conn)
            .expect("story");
        assert_eq!(
            body.is_empty(),
            status.allows(StoryAction::EraseExpired, false),
            "{status:?}: erased when its retention ends"
        );
        assert_eq!(status_of(&app, &s.public_id), status);
    }
}

/// Every (status, action) pair of a guide: the editor's page offers what the rules allow, and the
/// server does exactly that.
#[tokio::test]
async fn every_guide_status_and_action_agree_between_the_rules_the_page_and_the_server() {
    let app = spawn_configured(TestDatabase::new(), false, |_| {}).await;
    let editor = app.signed_in("walker", engawa::domain::Role::Editor).await;
    let mut n = 0;
    for status in GuideStatus::ALL.iter().copied() {
        for action in GuideAction::ALL {
            n += 1;
            let slug = format!("walk-{n}");
            app.seed(&[guide(&slug, &format!("手順の確認{n}"), status.as_str())]);
            let id = app.guide_id(&slug);
            // A scheduled guide is due a minute ago, so the scheduler's pass is its time.
            diesel::update(guides::table.find(id))
                .set(
                    guides::scheduled_at.eq((status == GuideStatus::Scheduled)
                        .then(|| engawa::models::now() - chrono::Duration::minutes(1))),
                )
                .execute(&mut app.conn())
                .expect("schedule");
            let edit = format!("/mod/guides/{id}/edit");
            let page = editor.get(&edit).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let case = format!("{status:?} {action:?}");
            let button = |value: &str| {
                !page
                    .attrs(&format!("button[name=action][value={value}]"), "value")
                    .is_empty()
            };
            let shown = match action {
                GuideAction::Save => button("save"),
                GuideAction::PublishNow => button("publish"),
                GuideAction::Schedule => button("schedule"),
                GuideAction::Unpublish => has_form(&page, &format!("/mod/guides/{id}/unpublish")),
                // No button: only the scheduler does it.
                GuideAction::PublishDue => status.allows(action),
            };
            assert_eq!(shown, status.allows(action), "{case}: shown");

            let done = match action {
                GuideAction::Save | GuideAction::PublishNow | GuideAction::Schedule => {
                    let value = match action {
                        GuideAction::Save => "save",
                        GuideAction::PublishNow => "publish",
                        _ => "schedule",
                    };
                    let at = (engawa::models::now() + chrono::Duration::days(30))
                        .format("%Y-%m-%dT%H:%M")
                        .to_string();
                    let body = "## はじめに\n\n本文です。";
                    let title = format!("手順の確認{n}");
                    let fields = [
                        ("title", title.as_str()),
                        ("slug", slug.as_str()),
                        ("summary", "概要"),
                        ("body", body),
                        ("tags", ""),
                        ("category", ""),
                        ("featured", ""),
                        ("publish_at", at.as_str()),
                        ("action", value),
                    ];
                    accepted(&editor.submit_guide(&edit, &edit, &fields).await, &case)
                }
                GuideAction::Unpublish => {
                    let page = editor
                        .submit(&edit, &format!("/mod/guides/{id}/unpublish"), &[])
                        .await;
                    accepted(&page, &case)
                }
                GuideAction::PublishDue => {
                    let published = engawa::workflows::editorial::publish_due(
                        &mut app.conn(),
                        engawa::models::now(),
                    )
                    .expect("scheduler pass");
                    published.contains(&slug)
                }
            };
            assert_eq!(done, status.allows(action), "{case}: accepted");
            let raw: String = guides::table
                .find(id)
                .select(guides::status)
                .first(&mut app.conn())
                .expect("guide");
            let after = GuideStatus::parse(&raw).expect("known status");
            let want = if done {
                action.leads_to(status)
            } else {
                status
            };
            assert_eq!(after, want, "{case}: status after");
        }
    }
}
