//! The XSS corpus typed into the real forms, the way a submitter, a moderator and an editor send
//! it: every page that shows the text back (the form shown again with its errors, the PII
//! confirmation, the receipt, the status page, the moderation pages, the audit log, the guide
//! editor's preview, revisions and diff, the public pages) and every mail that follows holds no
//! executable markup, and the text itself arrives (so the check is not passing on empty pages).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use engawa::domain::Role;
use mail_parser::MimeHeaders;

use crate::helpers::{Browser, Page, TestApp, TestDatabase, as_refs, spawn_configured, story_body};
use crate::sanitizing::assert_no_executable_markup;
use crate::smtp::{Received, SmtpServer, free_port, link};
use crate::xss::{cut, payloads, tag_for};

/// Whitespace collapsed, as a page's text shows what was typed.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page answered one of the `expected` statuses (an error page would pass the check for
/// markup) and holds nothing that runs.
fn checked(path: &str, page: &Page, expected: &[u16]) {
    assert!(
        expected.contains(&page.status),
        "{path}: {} not {expected:?}",
        page.status
    );
    assert_no_executable_markup(path, &page.body);
}

fn story_fields_with(payload: &str) -> Vec<(&'static str, String)> {
    let tag = tag_for(payload);
    vec![
        ("title", cut(payload, 100)),
        ("body", format!("{payload}\n\n{}", story_body("攻撃"))),
        ("pen_name", cut(payload, 30)),
        ("length_years", "3".to_owned()),
        ("length_months", "0".to_owned()),
        ("how_met", "hobby".to_owned()),
        ("continuing", "yes".to_owned()),
        ("rules", cut(payload, 200)),
        ("tags", tag),
        ("email", "me@example.jp".to_owned()),
    ]
}

/// Posts a story form from `form_page` to `action`; when the PII check asks, checks that page and
/// confirms, as the submitter would.
async fn send(
    who: &Browser,
    form_page: &str,
    action: &str,
    mut fields: Vec<(&'static str, String)>,
) -> Page {
    for _ in 0..2 {
        let token = who.get(form_page).await.csrf();
        fields.push(("csrf_token", token));
        let page = who.post(action, &as_refs(&fields)).await;
        checked(action, &page, &[303, 422]);
        if page.status != 422 {
            return page;
        }
        assert!(
            page.texts(".pii-warning").len() == 1,
            "{action} refused for another reason than PII: {:?}",
            page.texts(".error-summary")
        );
        fields.pop();
        fields.push(("confirm_pii", "yes".to_owned()));
    }
    panic!("{action}: still asked to confirm after confirming");
}

async fn status_page(submitter: &Browser, code: &str) -> Page {
    let page = submitter
        .submit("/stories/status", "/stories/status", &[("code", code)])
        .await;
    checked("/stories/status", &page, &[200]);
    page
}

/// A mail is one plain-text part with only the headers we write: nothing a mail program renders
/// as HTML, and no header a title could have smuggled in.
fn assert_plain_mail(mail: &Received) {
    let message = mail_parser::MessageParser::default()
        .parse(mail.raw.as_bytes())
        .expect("a parsable mail");
    assert_eq!(message.parts.len(), 1, "one part only:\n{}", mail.raw);
    let content_type = message.content_type().expect("a content type");
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("text", Some("plain"))
    );
    let head = mail.raw.split("\r\n\r\n").next().unwrap_or_default();
    for line in head.lines().filter(|l| !l.starts_with([' ', '\t'])) {
        let name = line.split(':').next().unwrap_or_default();
        assert!(
            [
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "MIME-Version",
                "Content-Type",
                "Content-Transfer-Encoding",
                "List-Unsubscribe",
                "List-Unsubscribe-Post",
                "Received",
            ]
            .contains(&name),
            "unexpected header {line:?} in\n{}",
            mail.raw
        );
    }
}

async fn subscribed_reader(app: &TestApp, smtp: &SmtpServer) {
    let reader = app.browser();
    let sent = reader.subscribe("reader@example.jp").await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let mails = smtp.wait_for(1).await;
    let confirm = link(&mails[0].body, "https://engawa.example/subscribe/confirm");
    let token = reader.get(&confirm).await.csrf();
    let done = reader.post(&confirm, &[("csrf_token", &token)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
}

#[tokio::test]
async fn no_payload_typed_into_a_form_runs_on_a_page_or_reaches_a_mail_as_markup() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.base_url = "https://engawa.example".to_owned();
        s.submissions_per_hour = 100_000;
        s.feed_delay = Duration::ZERO;
        s.digest_interval = Duration::from_secs(1);
        s.mail_retry = Duration::from_secs(1);
    })
    .await;
    subscribed_reader(&app, &smtp).await;
    let moderator = app.moderator("sato").await;
    let editor = app.signed_in("kato", Role::Editor).await;
    let reason = app.settings.reject_reasons[0].clone();
    let payloads = payloads();
    let mut published_titles = Vec::new();
    let refused = crate::xss::refused_payloads();
    assert!(
        !refused.is_empty(),
        "the corpus has payloads with forbidden characters"
    );
    for p in &refused {
        let submitter = app.browser();
        let token = submitter.get("/stories/new").await.csrf();
        let mut fields = story_fields_with(p);
        fields.push(("csrf_token", token));
        let page = submitter.post("/stories/new", &as_refs(&fields)).await;
        checked("/stories/new", &page, &[422]);
        assert!(
            page.text(".error-summary").contains("使えない文字"),
            "{p:?}"
        );
    }

    for (i, p) in payloads.iter().enumerate() {
        // Receipt codes are limited per address; each submitter comes from their own.
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, (i / 250) as u8, (i % 250 + 2) as u8));
        let submitter = Browser::from_source(&app.address, Some(source));
        let sent = send(
            &submitter,
            "/stories/new",
            "/stories/new",
            story_fields_with(p),
        )
        .await;
        assert_eq!(sent.status, 303, "payload {i}: {}", sent.body);
        let receipt = submitter.get("/stories/receipt").await;
        checked("/stories/receipt", &receipt, &[200]);
        let code = receipt.text("#receipt-code");
        let id = app.story_by_code(&code).public_id;
        let panel = format!("/mod/stories/{id}");
        let review = moderator.get(&panel).await;
        checked(&panel, &review, &[200]);
        assert_eq!(
            squeeze(&review.text("h1")),
            squeeze(&cut(p, 100)),
            "payload {i}: the title arrives as text"
        );

        match i % 3 {
            0 => {
                let asked = moderator
                    .submit(
                        &panel,
                        &format!("{panel}/request-changes"),
                        &[("message", p)],
                    )
                    .await;
                assert_eq!(asked.status, 303, "payload {i}: {}", asked.body);
                let status = status_page(&submitter, &code).await;
                assert_eq!(
                    squeeze(&status.text(".moderator-message p")),
                    squeeze(p),
                    "payload {i}: the message arrives as text"
                );
                let mut fields = story_fields_with(p);
                fields.push(("code", code.clone()));
                let again = send(
                    &submitter,
                    "/stories/status",
                    "/stories/status/resubmit",
                    fields,
                )
                .await;
                assert_eq!(again.status, 303, "payload {i}: {}", again.body);
                status_page(&submitter, &code).await;
            }
            1 => {
                let rejected = moderator
                    .submit(
                        &panel,
                        &format!("{panel}/reject"),
                        &[("reason", &reason), ("note", p)],
                    )
                    .await;
                assert_eq!(rejected.status, 303, "payload {i}: {}", rejected.body);
                let status = status_page(&submitter, &code).await;
                assert!(
                    squeeze(&status.text("main")).contains(&squeeze(p)),
                    "payload {i}: the note arrives as text"
                );
            }
            _ => {
                let title = cut(p, 100);
                let edited = moderator
                    .redact(
                        &id,
                        &[
                            ("title", &title),
                            ("body", &format!("{p}\n\n{}", story_body("編集"))),
                            ("note", &cut(p, 200)),
                        ],
                    )
                    .await;
                assert_eq!(edited.status, 303, "payload {i}: {}", edited.body);
                moderator.approve(&id).await;
                let public = app.get(&format!("/stories/{id}")).await;
                checked(&format!("/stories/{id}"), &public, &[200]);
                assert_eq!(squeeze(&public.text("h1")), squeeze(&title), "payload {i}");
                let review = moderator.get(&panel).await;
                checked(&panel, &review, &[200]);
                assert_eq!(squeeze(&review.text("h1")), squeeze(&title), "payload {i}");
                published_titles.push(squeeze(&title));
            }
        }
        let log = format!("/mod/log?story={id}");
        let entries = moderator.get(&log).await;
        checked(&log, &entries, &[200]);
        assert!(
            !entries.texts("tbody td.kind").is_empty(),
            "payload {i}: the story's log lists its decisions"
        );

        // The same text as a guide, through the editor: preview, publish, edit, history.
        let slug = format!("xss-form-{i}");
        let title = cut(p, 100);
        let summary = cut(p, 300);
        let category = cut(p, 40);
        let body = format!("## {}\n\n{p}\n\n家族の予定について。", cut(p, 80));
        let tags = tag_for(p);
        let guide_fields = |action: &'static str, body: &str| {
            vec![
                ("title", title.clone()),
                ("slug", slug.clone()),
                ("summary", summary.clone()),
                ("body", body.to_owned()),
                ("tags", tags.clone()),
                ("category", category.clone()),
                ("action", action.to_owned()),
            ]
        };
        for (action, expected) in [("preview", 200), ("publish", 303)] {
            let fields = guide_fields(action, &body);
            let page = editor
                .submit_guide("/mod/guides/new", "/mod/guides/new", &as_refs(&fields))
                .await;
            assert_eq!(page.status, expected, "payload {i} {action}: {}", page.body);
            checked("/mod/guides/new", &page, &[expected]);
        }
        let guide_id = app.guide_id(&slug);
        let edit = format!("/mod/guides/{guide_id}/edit");
        let form = editor.get(&edit).await;
        checked(&edit, &form, &[200]);
        assert_eq!(
            squeeze(&form.attr("#title", "value").unwrap_or_default()),
            squeeze(&title),
            "payload {i}: the edit form holds the title as typed"
        );
        let changed = format!("{body}\n\n{p}");
        let fields = guide_fields("publish", &changed);
        let saved = editor.submit_guide(&edit, &edit, &as_refs(&fields)).await;
        assert_eq!(saved.status, 303, "payload {i}: {}", saved.body);
        let revisions_path = format!("/mod/guides/{guide_id}/revisions");
        let revisions = editor.get(&revisions_path).await;
        checked(&revisions_path, &revisions, &[200]);
        let from = revisions
            .attr("input[name=from][checked]", "value")
            .expect("a revision to compare from");
        let to = revisions
            .attr("input[name=to][checked]", "value")
            .expect("a revision to compare to");
        let diff = format!("/mod/guides/{guide_id}/diff?from={from}&to={to}");
        checked(&diff, &editor.get(&diff).await, &[200]);
        let public = app.get(&format!("/guides/{slug}")).await;
        checked(&format!("/guides/{slug}"), &public, &[200]);
        assert_eq!(squeeze(&public.text("h1")), squeeze(&title), "payload {i}");
        published_titles.push(squeeze(&title));
    }

    // The queue holds the reported stories too; every panel page must answer, not a 404 or a
    // 403 page (the guides' list is the editors').
    for (who, path) in [
        (&moderator, "/mod"),
        (&moderator, "/mod/log"),
        (&editor, "/mod/guides"),
    ] {
        let page = who.get(path).await;
        checked(path, &page, &[200]);
    }
    for path in ["/", "/stories", "/guides", "/tags/%E6%94%BB%E6%92%83"] {
        let page = app.get(path).await;
        checked(path, &page, &[200]);
        // The lists show the payloads' titles, as text.
        let cards = page.card_titles();
        assert!(!cards.is_empty(), "{path} lists nothing");
        for card in cards {
            assert!(
                published_titles.contains(&squeeze(&card)),
                "{path}: {card:?} is not a published title"
            );
        }
    }

    // Mail: decisions to the submitters (never quoting them) and digests to the subscriber.
    let digests = || {
        let bodies: Vec<String> = smtp
            .received()
            .into_iter()
            .filter(|m| m.subject.contains("新着"))
            .map(|m| m.body)
            .collect();
        squeeze(&bodies.join("\n"))
    };
    let started = std::time::Instant::now();
    while !published_titles
        .iter()
        .all(|t| digests().contains(t.as_str()))
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let digested = digests();
    for title in &published_titles {
        assert!(
            digested.contains(title.as_str()),
            "{title:?} is in a digest"
        );
    }
    for mail in smtp.received() {
        assert_plain_mail(&mail);
    }
    let decisions: Vec<Received> = smtp
        .received()
        .into_iter()
        .filter(|m| m.to == vec!["me@example.jp".to_owned()])
        .collect();
    assert!(!decisions.is_empty(), "the submitters heard the decisions");
    for mail in &decisions {
        assert!(
            !mail.body.contains("攻撃"),
            "a decision mail never quotes the story:\n{}",
            mail.body
        );
    }
}
