//! The editors change a published story one field at a time, as a moderator removing an
//! identifying detail would: after each change, what readers see on the page, in the feed and in
//! search, what the audit log records, and what the submitter's status page says.

use std::time::Duration;

use crate::helpers::{
    Browser, Page, TestApp, TestDatabase, as_refs, results_within, search_now, spawn_configured,
};

const WAIT: Duration = Duration::from_secs(15);

type FactsStep<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

/// The story's entry in the stories' Atom feed, as a feed reader reads it: title, content, tags.
async fn feed_entry(app: &TestApp, public_id: &str) -> (String, String, Vec<String>) {
    let feed = app.shown("/stories/feed.atom").await;
    let feed = feed_rs::parser::parse(feed.body.as_bytes()).expect("the feed parses");
    let entry = feed
        .entries
        .into_iter()
        .find(|e| e.links.iter().any(|l| l.href.ends_with(public_id)))
        .expect("the story is in the feed");
    (
        entry.title.map(|t| t.content).unwrap_or_default(),
        entry.content.and_then(|c| c.body).unwrap_or_default(),
        entry.categories.into_iter().map(|c| c.term).collect(),
    )
}

/// Posts one edit in the panel and checks that it wrote exactly one audit row, naming `field`.
async fn edit(app: &TestApp, moderator: &Browser, id: &str, field: &str, changes: &[(&str, &str)]) {
    let before = app.audit_rows(id).len();
    let mut typed = changes.to_vec();
    typed.push(("note", "特定につながる記述を修正"));
    let page = moderator.redact(id, &typed).await;
    assert_eq!(page.status, 303, "editing {field}: {}", page.body);
    let rows = app.audit_rows(id);
    assert_eq!(
        rows.len(),
        before + 1,
        "editing {field} writes one audit row"
    );
    let row = rows.iter().max_by_key(|r| r.id).expect("a row");
    assert_eq!(row.kind, "edit");
    assert_eq!(row.field.as_deref(), Some(field));
    assert_eq!(row.actor_label, "sato");
}

/// The story's public page after an edit: it says the editors changed it.
async fn public(reader: &Browser, id: &str) -> Page {
    let page = reader.shown(&format!("/stories/{id}")).await;
    assert_eq!(page.text(".edited-note"), "編集部により一部修正");
    page
}

/// Waits (the index follows the database a moment later) until the one search result for `q`
/// shows `facts`; panics with what it shows if it never does.
async fn search_shows_facts(reader: &Browser, q: &str, facts: &str) {
    let started = std::time::Instant::now();
    loop {
        let page = reader
            .shown(&format!("/search?q={}", crate::helpers::urlencode(q)))
            .await;
        let shown = page.texts("ol.results .facts");
        if shown == [facts] {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "search for {q:?} shows {shown:?}, not {facts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_field_the_editors_change_shows_on_the_page_in_the_feed_and_search_and_to_the_submitter()
 {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::ZERO;
    })
    .await;
    let body = "図書館の読書会で知り合いました。お互いに家庭があることを最初から話し、家族の予定を何より優先することを約束しました。連絡は平日の昼だけです。";
    let fields = [
        ("title", "読書会の縁"),
        ("body", body),
        ("pen_name", "みどり"),
        ("length_years", "4"),
        ("length_months", "2"),
        ("how_met", "hobby"),
        ("continuing", "yes"),
        ("rules", "連絡は平日の昼だけ\n家族の予定を優先"),
        ("tags", "読書、ルール"),
    ];
    let submitter = app.browser();
    let code = submitter
        .send_story(&as_refs(
            &fields
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect::<Vec<_>>(),
        ))
        .await;
    let id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    assert_eq!(moderator.approve(&id).await.status, 303);
    let reader = app.browser();
    results_within(&reader, "読書会の縁", 1, WAIT).await;
    assert_eq!(
        submitter
            .status_page(&code)
            .await
            .texts(".edited-fields li"),
        Vec::<String>::new(),
        "nothing was edited yet"
    );
    let mut edited: Vec<&str> = Vec::new();
    let mut named_to_the_submitter = async |label: &'static str| {
        edited.push(label);
        let status = submitter.status_page(&code).await;
        assert_eq!(status.texts(".edited-fields li"), edited, "after {label}");
        assert!(
            !status.body.contains("特定につながる記述を修正"),
            "the staff's note stays with the staff"
        );
    };

    // Title.
    edit(
        &app,
        &moderator,
        &id,
        "title",
        &[("title", "本の話から始まった縁")],
    )
    .await;
    assert_eq!(
        public(&reader, &id).await.text("h1"),
        "本の話から始まった縁"
    );
    assert_eq!(feed_entry(&app, &id).await.0, "本の話から始まった縁");
    results_within(&reader, "本の話から始まった縁", 1, WAIT).await;
    assert_eq!(
        search_now(&reader, "\"読書会の縁\"").await,
        Vec::<String>::new(),
        "the old title as a phrase is gone from the index"
    );
    named_to_the_submitter("タイトル").await;

    // Body.
    let new_body = "ある集まりで知り合いました。お互いに家庭があることを最初から話し、家族の予定を何より優先することを約束しました。連絡は平日の昼だけです。";
    edit(&app, &moderator, &id, "body", &[("body", new_body)]).await;
    let page = public(&reader, &id).await;
    assert!(page.text(".prose").contains("ある集まりで知り合いました"));
    assert!(
        !page.body.contains("図書館"),
        "the removed detail is gone from the page"
    );
    let (_, content, _) = feed_entry(&app, &id).await;
    assert!(content.contains("ある集まりで知り合いました"), "{content}");
    assert!(!content.contains("図書館"), "{content}");
    results_within(&reader, "図書館", 0, WAIT).await;
    results_within(&reader, "ある集まり", 1, WAIT).await;
    named_to_the_submitter("本文").await;

    // Pen name.
    edit(&app, &moderator, &id, "pen_name", &[("pen_name", "M・K")]).await;
    let page = public(&reader, &id).await;
    assert!(page.texts(".story-facts dd").contains(&"M・K".to_owned()));
    assert!(!page.body.contains("みどり"));
    assert!(!reader.shown("/stories").await.body.contains("みどり"));
    named_to_the_submitter("ペンネーム").await;

    // Length, how they met, whether it continues: the facts line everywhere.
    // The field, what is typed, the facts line after it, the field's name on the status page.
    let steps: [FactsStep; 3] = [
        (
            "length",
            &[("length_years", "2"), ("length_months", "0")],
            "交際3年目・趣味のコミュニティで出会った・継続中",
            "交際期間",
        ),
        (
            "how_met",
            &[("how_met", "other")],
            "交際3年目・その他のきっかけで出会った・継続中",
            "出会いのきっかけ",
        ),
        (
            "continuing",
            &[("continuing", "no")],
            "交際3年目・その他のきっかけで出会った・現在は終了",
            "関係が続いているか",
        ),
    ];
    for (field, changes, facts, label) in steps {
        edit(&app, &moderator, &id, field, changes).await;
        assert_eq!(
            public(&reader, &id).await.text(".story-facts .facts"),
            facts
        );
        assert!(feed_entry(&app, &id).await.1.contains(facts), "{field}");
        search_shows_facts(&reader, "ある集まり", facts).await;
        named_to_the_submitter(label).await;
    }

    // Rules.
    edit(
        &app,
        &moderator,
        &id,
        "rules",
        &[("rules", "連絡は昼だけ\n家族を優先")],
    )
    .await;
    assert_eq!(
        public(&reader, &id).await.texts(".rules li"),
        vec!["連絡は昼だけ", "家族を優先"]
    );
    results_within(&reader, "家族を優先", 1, WAIT).await;
    // As a phrase: the old rule's words still occur apart in the story.
    results_within(&reader, "\"家族の予定を優先\"", 0, WAIT).await;
    named_to_the_submitter("ふたりで決めたルール").await;

    // Tags.
    edit(&app, &moderator, &id, "tags", &[("tags", "ルール、距離感")]).await;
    assert_eq!(
        public(&reader, &id).await.texts("ul.tags a"),
        vec!["#ルール", "#距離感"]
    );
    let (_, _, mut categories) = feed_entry(&app, &id).await;
    categories.sort();
    assert_eq!(categories, vec!["ルール", "距離感"]);
    assert!(
        reader
            .get("/tags/%E8%AA%AD%E6%9B%B8")
            .await
            .card_titles()
            .is_empty()
    );
    named_to_the_submitter("タグ").await;

    // The log names each field, newest first.
    let log = moderator.shown(&format!("/mod/log?story={id}")).await;
    assert_eq!(
        log.texts("td.kind")[..8],
        [
            "編集部による修正（タグ）",
            "編集部による修正（ふたりで決めたルール）",
            "編集部による修正（関係が続いているか）",
            "編集部による修正（出会いのきっかけ）",
            "編集部による修正（交際期間）",
            "編集部による修正（ペンネーム）",
            "編集部による修正（本文）",
            "編集部による修正（タイトル）",
        ]
    );

    // Saving the form unchanged changes nothing and says so.
    let before = app.audit_rows(&id).len();
    let same = moderator.redact(&id, &[]).await;
    assert_eq!(same.status, 409, "{}", same.body);
    assert_eq!(
        same.text(".error-summary"),
        "どの欄も変わっていません。修正する欄を書き換えてから保存してください。"
    );
    assert_eq!(
        same.text("h1"),
        "本の話から始まった縁",
        "the story's page, as it was"
    );
    assert_eq!(app.audit_rows(&id).len(), before);
}
