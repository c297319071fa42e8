//! Spam without tracking: near-copies of recent stories are flagged for moderators, and a form
//! sent the moment it was served is sent back.

use diesel::prelude::*;
use engawa::db::schema::stories;
use engawa::models::similarity;

use crate::helpers::{Page, TestApp, TestDatabase, as_refs, spawn_configured, story_fields};

/// What the story form says when it comes back sent too soon, or with no stamp or another's.
const SEND_AGAIN: &str = "送信内容を確認できませんでした。お手数ですが、内容を確かめて、もう一度「送信する」を押してください。";

/// The story form came back (422) with the message for a form sent too soon.
fn assert_sent_back(page: &Page, what: &str) {
    assert_eq!(page.status, 422, "{what}: {}", page.body);
    assert_eq!(
        page.texts(".error-summary p"),
        vec![SEND_AGAIN],
        "{what} is not sent back as too soon"
    );
}

/// What a spammer sending the same story again does to it: a new first sentence, a few words
/// changed, one sentence left out, the punctuation and width played with.
fn lightly_edited(body: &str) -> String {
    let sentences: Vec<&str> = body.split_inclusive('。').collect();
    let kept: String = sentences
        .iter()
        .enumerate()
        .filter(|(i, _)| sentences.len() < 4 || *i != sentences.len() / 2)
        .map(|(_, s)| *s)
        .collect();
    format!("はじめて投稿します。{kept}")
        .replacen("私", "わたし", 2)
        .replacen("、", "，", 3)
        .replacen("ルール", "ﾙｰﾙ", 1)
        .replacen("。", "！", 2)
}

/// (id, public id, title, body) of every story.
fn all_stories(app: &TestApp) -> Vec<(i32, String, String, String)> {
    stories::table
        .order(stories::id)
        .select((
            stories::id,
            stories::public_id,
            stories::title,
            stories::body_markdown,
        ))
        .load(&mut app.conn())
        .unwrap()
}

/// On the demo corpus: no two of its stories are flagged as like each other; a lightly edited
/// copy of every one of them is flagged, naming its original; the queue shows 「似た投稿が
/// あります」 with a link on the copy and nothing on an unrelated new story.
#[tokio::test]
async fn a_lightly_edited_copy_is_flagged_and_unrelated_stories_are_not() {
    let app = spawn_configured(TestDatabase::new(), true, |s| {
        s.submissions_per_hour = 1_000;
    })
    .await;
    let demo = all_stories(&app);
    assert!(demo.len() >= 13, "{}", demo.len());
    let now = engawa::models::now();
    let mut false_positives = Vec::new();
    for (id, _, title, _) in &demo {
        let found = similarity::similar_to(&mut app.conn(), *id, now).unwrap();
        if !found.is_empty() {
            false_positives.push((title.clone(), found));
        }
    }
    assert!(false_positives.is_empty(), "{false_positives:?}");

    let moderator = app.moderator("sato").await;
    let sender = app.browser();
    let mut copies = Vec::new();
    for (_, original, title, body) in &demo {
        let mut fields = story_fields(&format!("{title}（改）"));
        fields[1].1 = lightly_edited(body);
        fields.push(("confirm_pii", "yes".to_owned()));
        let code = sender.send_story(&as_refs(&fields)).await;
        copies.push((app.story_by_code(&code), original.clone()));
    }
    let unrelated = sender
        .send_story(&as_refs(&story_fields("まったく別の新しい話")))
        .await;
    let unrelated = app.story_by_code(&unrelated);

    let mut found = 0;
    for (copy, original) in &copies {
        let similar = similarity::similar_to(&mut app.conn(), copy.id, now).unwrap();
        let ids: Vec<&str> = similar.iter().map(|s| s.public_id.as_str()).collect();
        assert!(
            !ids.iter()
                .any(|id| copies.iter().any(|(c, _)| c.public_id == *id)),
            "copies of different stories are not alike: {ids:?}"
        );
        if ids.contains(&original.as_str()) {
            found += 1;
        }
    }
    println!(
        "near-copies flagged: {found} of {}; false positives among {} demo stories: 0",
        copies.len(),
        demo.len()
    );
    assert_eq!(found, copies.len(), "every lightly edited copy is flagged");
    assert!(
        similarity::similar_to(&mut app.conn(), unrelated.id, now)
            .unwrap()
            .is_empty()
    );

    let queue = moderator.get("/mod").await;
    let rows = queue.texts("table.queue tbody tr");
    let copy_row = rows
        .iter()
        .find(|r| r.contains(&copies[0].0.title))
        .expect("the copy is queued");
    assert!(copy_row.contains("似た投稿があります"), "{copy_row}");
    assert!(copy_row.contains("一致度"), "{copy_row}");
    let links = queue.texts(".similar a");
    assert!(links.contains(&demo[0].2), "{links:?}");
    let href = format!("/mod/stories/{}", demo[0].1);
    assert!(queue.body.contains(&format!("href=\"{href}\"")));
    let unrelated_row = rows
        .iter()
        .find(|r| r.contains("まったく別の新しい話"))
        .expect("queued");
    assert!(!unrelated_row.contains("似た投稿"), "{unrelated_row}");
    assert_eq!(moderator.get(&href).await.status, 200);
}

/// A story withdrawn (its text erased) is no longer anything's original.
#[tokio::test]
async fn an_erased_story_is_compared_with_nothing() {
    let app = spawn_configured(TestDatabase::new(), false, |_| {}).await;
    let sender = app.browser();
    let first = sender.send_story(&as_refs(&story_fields("消える話"))).await;
    let mut fields = story_fields("消える話の写し");
    fields[1].1 = lightly_edited(&app.story_by_code(&first).body_markdown);
    let copy = app.story_by_code(&sender.send_story(&as_refs(&fields)).await);
    let now = engawa::models::now();
    assert_eq!(
        similarity::similar_to(&mut app.conn(), copy.id, now)
            .unwrap()
            .len(),
        1
    );
    sender.withdraw(&first).await;
    assert!(
        similarity::similar_to(&mut app.conn(), copy.id, now)
            .unwrap()
            .is_empty()
    );
}

/// The form carries the time it was served, signed: sent sooner than the least fill time (or
/// without the stamp, or with a forged one) it comes back with its text and a message, and
/// nothing is stored; a person who sends it again a moment later gets through.
#[tokio::test]
async fn a_form_sent_the_moment_it_was_served_is_sent_back() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.min_fill_time = std::time::Duration::from_secs(2);
    })
    .await;
    let who = app.browser();
    let fields = story_fields("急いで送った話");
    let fast = who
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_sent_back(&fast, "a form sent at once");
    assert_eq!(
        fast.attr("#title", "value").as_deref(),
        Some("急いで送った話")
    );
    let count = || -> i64 {
        stories::table
            .filter(stories::title.eq("急いで送った話"))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(count(), 0);

    // Without the page at all, or with the stamp's time moved back: the same.
    let token = who.get("/stories/new").await.csrf();
    let mut posted: Vec<(&str, &str)> = as_refs(&fields);
    posted.push(("csrf_token", &token));
    assert_sent_back(
        &who.post("/stories/new", &posted).await,
        "a form sent without its stamp",
    );
    let served = fast.attr("input[name=served]", "value").unwrap();
    let (seconds, signature) = served.split_once('.').unwrap();
    let moved = format!("{}.{signature}", seconds.parse::<i64>().unwrap() - 60);
    posted.push(("served", &moved));
    assert_sent_back(
        &who.post("/stories/new", &posted).await,
        "a form whose stamp was moved back",
    );
    assert_eq!(count(), 0);

    // Another visitor's stamp is not this visitor's.
    let other = app.browser();
    let mut foreign: Vec<(&str, &str)> = as_refs(&fields);
    let other_token = other.get("/stories/new").await.csrf();
    foreign.push(("csrf_token", &other_token));
    foreign.push(("served", &served));
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_sent_back(
        &other.post("/stories/new", &foreign).await,
        "a form with another visitor's stamp",
    );

    // The page that came back kept its stamp: sent again a moment later, it goes through.
    let mut again: Vec<(&str, &str)> = as_refs(&fields);
    let token = fast.csrf();
    again.push(("csrf_token", &token));
    again.push(("served", &served));
    let sent = who.post("/stories/new", &again).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(count(), 1);

    // Someone who took their time, got the personal-information warning and confirmed it at
    // once is not "too soon": the warning page keeps the stamp the form was served with.
    let careful = app.browser();
    let form = careful.get("/stories/new").await;
    let (token, served) = (
        form.csrf(),
        form.attr("input[name=served]", "value").unwrap(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let mut with_phone = story_fields("確認してから送った話");
    with_phone[1].1 += " 連絡先は090-1234-5678です。";
    let mut posted: Vec<(&str, &str)> = as_refs(&with_phone);
    posted.extend([("csrf_token", token.as_str()), ("served", served.as_str())]);
    let warned = careful.post("/stories/new", &posted).await;
    assert_eq!(warned.status, 422);
    assert!(!warned.texts(".pii-warning li").is_empty());
    let kept = warned.attr("input[name=served]", "value").unwrap();
    assert_eq!(kept, served);
    posted.extend([("confirm_pii", "yes")]);
    let sent = careful.post("/stories/new", &posted).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
}
