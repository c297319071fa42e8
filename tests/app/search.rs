//! Japanese search, kept in step with what is published.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    Browser, TestApp, TestDatabase, as_refs, guide, results_within, search_now, spawn_app, story,
    story_fields, succeeded_saying, urlencode, with,
};
use crate::process::ServerProcess;

fn fixture() -> Vec<serde_json::Value> {
    let s = |id: &str, title: &str, body: &str, status: &str, how: &str, tags: &[&str]| {
        let r = with(story(id, title, status), "body", json!(body));
        let r = with(r, "how_met", json!(how));
        with(r, "tags", json!(tags))
    };
    vec![
        s(
            "aaaaaaaaaaa2",
            "アプリの話",
            "マッチングアプリで出会いました。長続きの秘訣は、ふたりで決めたルールを守ることだと思っています。家族の予定を何より優先しています。",
            "approved",
            "app",
            &["アプリ"],
        ),
        s(
            "aaaaaaaaaaa3",
            "長い話",
            "長い間、穏やかな関係が続きました。趣味の仲間として出会い、ルールを決めてから五年が過ぎました。家族には感謝しています。",
            "approved",
            "hobby",
            &["趣味"],
        ),
        s(
            "aaaaaaaaaaa4",
            "連絡の話",
            "ＬＩＮＥで連絡をとっています。帰り道、電線の下で少しだけ話すのが私たちの習慣です。お互いの家族を大切にしています。",
            "approved",
            "workplace",
            &["職場"],
        ),
        s(
            "aaaaaaaaaaa5",
            "不採用のアプリの話",
            "アプリで出会った秘密の話です。不採用になったので検索に出てはいけません。長続きしたかった関係でした。",
            "rejected",
            "app",
            &["アプリ"],
        ),
        s(
            "aaaaaaaaaaa6",
            "取り下げたアプリの話",
            "アプリで出会った秘密の話です。取り下げたので検索に出てはいけません。長続きしたかった関係でした。残念です。",
            "withdrawn",
            "app",
            &["アプリ"],
        ),
        s(
            "aaaaaaaaaaa7",
            "審査待ちのアプリの話",
            "アプリで出会った秘密の話です。審査待ちなので検索に出てはいけません。長続きしたかった関係でした。残念です。",
            "pending",
            "app",
            &["アプリ"],
        ),
        with(
            guide("rules", "ルールの決め方", "published"),
            "body",
            json!("## ルール\n\nふたりのルールは守れる量にとどめます。"),
        ),
        with(
            guide("draft", "下書きのルール", "draft"),
            "body",
            json!("## ルール\n\n下書きのルールです。"),
        ),
    ]
}

async fn results(reader: &Browser, q: &str) -> Vec<String> {
    let mut titles = search_now(reader, q).await;
    titles.sort();
    titles
}

async fn app_with_fixture() -> TestApp {
    let app = spawn_app().await;
    app.seed(&fixture());
    // The seed's outbox events reach the index through the indexer, as in production.
    results_within(&app.reader, "家族", 3, Duration::from_secs(10)).await;
    app
}

#[tokio::test]
async fn japanese_queries_find_what_a_reader_means() {
    let app = app_with_fixture().await;
    let r = &app.reader;
    assert_eq!(
        results(r, "秘訣").await,
        vec!["アプリの話"],
        "an exact word"
    );
    assert_eq!(
        results(r, "アプリ").await,
        vec!["アプリの話"],
        "アプリ inside マッチングアプリ, and nothing unpublished"
    );
    assert_eq!(
        results(r, "ﾏｯﾁﾝｸﾞ").await,
        vec!["アプリの話"],
        "half-width katakana"
    );
    assert_eq!(
        results(r, "line").await,
        vec!["連絡の話"],
        "full-width ＬＩＮＥ from lower-case ASCII"
    );
    assert_eq!(results(r, "ＬＩＮＥ").await, vec!["連絡の話"]);
    assert_eq!(
        results(r, "長続き").await,
        vec!["アプリの話"],
        "長い…続き is not 長続き"
    );
    assert_eq!(
        results(r, "線").await,
        vec!["連絡の話"],
        "a one-character query"
    );
    assert_eq!(
        results(r, "ルール 家族").await,
        vec!["アプリの話", "長い話"],
        "every word must match"
    );
    assert_eq!(
        results(r, "ルール").await,
        vec!["アプリの話", "ルールの決め方", "長い話"],
        "guides too, not drafts"
    );
    // Words only the hidden stories hold: the search answers, and finds nothing.
    for q in ["審査待ち", "秘密"] {
        let page = r.get(&format!("/search?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q}");
        assert!(
            page.texts("ol.results .card-title").is_empty(),
            "rejected, withdrawn and pending stories are never returned: {q}"
        );
        assert!(page.text(".empty").contains("見つかりませんでした"), "{q}");
        assert!(page.text(".result-count").ends_with("：0件"), "{q}");
    }
}

/// Numbers in kanji, ASCII or full-width digits are one thing; hiragana and katakana are one
/// thing; a snippet still shows what the writer wrote, marked.
#[tokio::test]
async fn numbers_and_kana_are_found_however_the_reader_writes_them() {
    let app = spawn_app().await;
    let s =
        |id: &str, title: &str, body: &str| with(story(id, title, "approved"), "body", json!(body));
    app.seed(&[
        s(
            "numaaaaaaaa2",
            "三年目の約束",
            "交際三年目になりました。週に一度だけ、駅前のかふぇで会うと決めています。家族の予定が最優先で、会えない週があっても責めないことにしています。",
        ),
        s(
            "numaaaaaaaa3",
            "長く続いた話",
            "もう10年続いています。パートナーとは、連絡は昼だけという約束をずっと守ってきました。お互いの家庭を大切にしています。",
        ),
        s(
            "numaaaaaaaa4",
            "出会いの話",
            "２５歳のとき、趣味のサークルで出会いました。それから三ヶ月は、ほとんど話しませんでした。ゆっくり近づいた関係です。",
        ),
    ]);
    let r = &app.reader;
    results_within(r, "約束", 2, Duration::from_secs(10)).await;
    for (q, expected) in [
        ("3年", "三年目の約束"),
        ("三年", "三年目の約束"),
        ("３年目", "三年目の約束"),
        ("十年", "長く続いた話"),
        ("１０年", "長く続いた話"),
        ("二十五歳", "出会いの話"),
        ("25歳", "出会いの話"),
        ("3か月", "出会いの話"),
        ("カフェ", "三年目の約束"),
        ("ぱーとなー", "長く続いた話"),
        ("ﾊﾟｰﾄﾅｰ", "長く続いた話"),
        ("サークル", "出会いの話"),
        ("さーくる", "出会いの話"),
    ] {
        assert_eq!(results(r, q).await, vec![expected], "{q}");
    }
    assert!(results(r, "4年").await.is_empty(), "三年 is not 四年");
    assert!(results(r, "5年").await.is_empty(), "二十五 holds no 五年");
    // The snippet shows the writer's own spelling, marked.
    let page = r.get(&format!("/search?q={}", urlencode("3年"))).await;
    assert_eq!(page.texts("ol.results mark"), vec!["三年"]);
    let page = r.get(&format!("/search?q={}", urlencode("カフェ"))).await;
    assert_eq!(page.texts("ol.results mark"), vec!["かふぇ"]);
}

/// Whether the relationship continues is a filter with counts, like the others; guides have
/// no such fact and drop out once it is chosen.
#[tokio::test]
async fn the_continuing_filter_counts_and_narrows() {
    let app = spawn_app().await;
    let s = |id: &str, title: &str, continuing: bool| {
        let r = with(
            story(id, title, "approved"),
            "continuing",
            json!(continuing),
        );
        with(
            r,
            "body",
            json!(format!(
                "{title}。ふたりの約束について書きました。家族の予定を優先し、連絡は昼だけにして、長く穏やかに続けてきた関係です。"
            )),
        )
    };
    app.seed(&[
        s("ctnaaaaaaaa2", "続いている約束の話", true),
        s("ctnaaaaaaaa3", "もう一つ続いている約束", true),
        s("ctnaaaaaaaa4", "終わった約束の話", false),
        with(
            guide("promise", "約束の決め方", "published"),
            "body",
            json!("## 約束\n\nふたりの約束を決めます。"),
        ),
    ]);
    let r = &app.reader;
    results_within(r, "約束", 4, Duration::from_secs(10)).await;
    let page = r.shown(&format!("/search?q={}", urlencode("約束"))).await;
    assert_eq!(
        page.texts(".facet[aria-label='関係で絞り込む'] a"),
        vec!["継続中2", "終わった1"]
    );
    let ended = r
        .shown(&format!("/search?q={}&continuing=no", urlencode("約束")))
        .await;
    assert_eq!(
        ended.texts("ol.results .card-title"),
        vec!["終わった約束の話"]
    );
    assert_eq!(ended.text(".result-count"), "「約束」：1件");
    let going = r
        .shown(&format!("/search?q={}&continuing=yes", urlencode("約束")))
        .await;
    let mut titles = going.texts("ol.results .card-title");
    titles.sort();
    assert_eq!(titles, vec!["もう一つ続いている約束", "続いている約束の話"]);
    assert_eq!(
        ended.attr(".facet a.selected", "aria-current").as_deref(),
        Some("true"),
        "the chosen filter is marked"
    );
    let bad = r.get("/search?q=x&continuing=maybe").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("関係の状態"), "{}", bad.body);
}

#[tokio::test]
async fn results_show_kind_facts_a_marked_snippet_and_filters_with_counts() {
    let app = app_with_fixture().await;
    let page = app.get(&format!("/search?q={}", urlencode("ルール"))).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.attr("#q", "value").as_deref(),
        Some("ルール"),
        "the query stays in the box"
    );
    assert_eq!(page.text(".result-count"), "「ルール」：3件");
    assert!(
        page.texts(".result .kind-label")
            .contains(&"ガイド".to_owned())
    );
    assert!(
        page.texts(".result .facts")
            .contains(&"交際4年目・マッチングアプリで出会った・継続中".to_owned())
    );
    assert!(page.texts(".snippet mark").iter().all(|m| m == "ルール"));
    assert!(!page.texts(".snippet mark").is_empty());
    let kinds = page.texts(".facet[aria-label='種類で絞り込む'] a");
    assert_eq!(kinds, vec!["体験談2", "ガイド1"]);

    let stories = app
        .get(&format!(
            "/search?q={}&kind=story&how_met=hobby",
            urlencode("ルール")
        ))
        .await;
    assert_eq!(stories.texts("ol.results .card-title"), vec!["長い話"]);
    assert_eq!(
        stories.attr(".facet a.selected", "aria-current").as_deref(),
        Some("true")
    );
    let tagged = app
        .get(&format!(
            "/search?q={}&tag={}",
            urlencode("ルール"),
            urlencode("アプリ")
        ))
        .await;
    assert_eq!(tagged.texts("ol.results .card-title"), vec!["アプリの話"]);
    let bad = app.get("/search?q=x&length=forever").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn malformed_input_is_searched_as_plain_text_and_never_fails() {
    let app = app_with_fixture().await;
    for q in [
        "\"(",
        "AND OR NOT",
        "*",
        "title:",
        "ルール)",
        "<script>alert(1)</script>",
        "　",
        "\\",
        "[]{}~^",
    ] {
        let page = app.get(&format!("/search?q={}", urlencode(q))).await;
        assert_eq!(page.status, 200, "{q}");
        assert!(!page.body.contains("<script>alert"), "{q}");
        // What was typed comes back as text in the search box.
        assert_eq!(
            page.attr("input[name=q]", "value").unwrap_or_default(),
            q.trim_matches(|c: char| c.is_whitespace()),
            "{q}"
        );
    }
    let empty = app.get("/search?q=xyzzy").await;
    assert!(empty.text(".empty").contains("見つかりませんでした"));
    assert!(empty.text(".empty").contains("体験談の一覧"));
}

#[tokio::test]
async fn an_approved_story_is_searchable_within_two_seconds_and_gone_once_withdrawn() {
    let app = spawn_app().await;
    let submitter = app.browser();
    let mut fields = story_fields("検索される話");
    fields[1].1 = format!("{}鎌倉の海辺を歩きました。", fields[1].1);
    let code = submitter.send_story(&as_refs(&fields)).await;
    let public_id = app.story_by_code(&code).public_id;
    // Another story with the same word stays pending: once the approved one is found, the
    // indexer has applied everything sent before it, and the pending one is still not there.
    let mut pending = story_fields("審査待ちの話");
    pending[1].1 = format!("{}鎌倉にも行きました。", pending[1].1);
    submitter.send_story(&as_refs(&pending)).await;

    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;
    // How soon is a benchmark's question; here, that it happens (within a generous limit).
    assert_eq!(
        results_within(&app.reader, "鎌倉", 1, Duration::from_secs(20)).await,
        vec!["検索される話"],
        "approved is searchable, pending is not"
    );

    submitter.withdraw(&code).await;
    assert!(
        results_within(&app.reader, "鎌倉", 0, Duration::from_secs(20))
            .await
            .is_empty()
    );
    assert_eq!(app.get("/search").await.status, 200);
}

/// A guide's page offers the approved stories most like it, never a hidden one.
#[tokio::test]
async fn a_guide_page_shows_related_stories() {
    let app = app_with_fixture().await;
    let page = app.get("/guides/rules").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), "ルールの決め方");
    assert_eq!(page.text("#related-heading"), "似た体験談");
    let related = page.texts(".related .card-title");
    assert!(!related.is_empty() && related.len() <= 5, "{related:?}");
    assert!(related.contains(&"アプリの話".to_owned()), "{related:?}");
    for hidden in [
        "不採用のアプリの話",
        "取り下げたアプリの話",
        "審査待ちのアプリの話",
    ] {
        assert!(!related.contains(&hidden.to_owned()), "{related:?}");
    }
    for href in page.attrs(".related .card-title a", "href") {
        assert!(href.starts_with("/stories/"), "only stories: {href}");
    }
}

#[tokio::test]
async fn a_story_page_shows_related_stories() {
    let app = app_with_fixture().await;
    let page = app.get("/stories/aaaaaaaaaaa2").await;
    let related = page.texts(".related .card-title");
    assert!(!related.is_empty() && related.len() <= 5, "{related:?}");
    assert!(!related.contains(&"アプリの話".to_owned()), "not itself");
    for hidden in [
        "不採用のアプリの話",
        "取り下げたアプリの話",
        "審査待ちのアプリの話",
    ] {
        assert!(!related.contains(&hidden.to_owned()));
    }
}

#[tokio::test]
async fn what_the_index_still_holds_is_not_offered_once_the_database_withdrew_it() {
    let app = app_with_fixture().await;
    let withdrawn = "アプリの話".to_owned();
    let related = |page: &crate::helpers::Page| page.texts(".related .card-title");
    let mut offering = None;
    for id in [
        "aaaaaaaaaaa3",
        "aaaaaaaaaaa4",
        "aaaaaaaaaaa5",
        "aaaaaaaaaaa6",
    ] {
        let path = format!("/stories/{id}");
        if related(&app.get(&path).await).contains(&withdrawn) {
            offering = Some(path);
            break;
        }
    }
    let offering = offering.expect("some story lists アプリの話 as related");
    assert!(results(&app.reader, "家族").await.contains(&withdrawn));

    // Withdrawn in the database with no event about it, so the index keeps the story; another
    // content event (a guide published again) moves the content version, as any public change
    // would.
    {
        use diesel::prelude::*;
        use engawa::db::schema::{outbox, stories};
        let mut conn = app.conn();
        diesel::update(stories::table.filter(stories::title.eq(&withdrawn)))
            .set(stories::status.eq("withdrawn"))
            .execute(&mut conn)
            .unwrap();
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(outbox::table)
            .values((
                outbox::topic.eq("guide.published"),
                outbox::payload.eq(r#"{"slug":"rules"}"#),
                outbox::created_at.eq(now),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    // The cache watches the content version; the pages change once it has seen the new one.
    let started = Instant::now();
    loop {
        let found = results(&app.reader, "家族").await;
        let page = app.get(&offering).await;
        assert_eq!(page.status, 200);
        let after = related(&page);
        if !found.contains(&withdrawn) && !after.contains(&withdrawn) {
            assert!(!found.is_empty(), "the other results stay");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still shown from the cache: {found:?} {after:?}"
        );
        tokio::time::sleep(engawa::page_cache::WATCH / 2).await;
    }
}

async fn wait_for_search(address: &str, q: &str, expected: usize) -> Vec<String> {
    results_within(&Browser::new(address), q, expected, Duration::from_secs(20)).await
}

/// The demo content, indexed by a server that then stopped, and `stories` synthetic stories
/// added after it (not yet in the index).
async fn demo_with_stories(stories: usize) -> TestDatabase {
    let db = TestDatabase::new();
    let server = ServerProcess::start(&db, &["serve", "--demo"], &[]);
    assert_eq!(wait_for_search(&server.address, "読書会", 1).await.len(), 1);
    server.kill();
    let out = crate::helpers::run_cli(
        &db.url,
        db.data_dir(),
        &["demo", "--stories", &stories.to_string()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// A deleted index is rebuilt in the background at start; meanwhile search answers 503 with
/// Retry-After and a notice in Japanese that points to the story list, and /readyz says 503 so
/// that a load balancer sends readers elsewhere.
#[tokio::test]
async fn a_deleted_index_is_rebuilt_at_start_and_search_says_so_meanwhile() {
    // Enough stories that the rebuild takes seconds: the first requests come while it runs.
    let db = demo_with_stories(3000).await;
    std::fs::remove_dir_all(db.data_dir().join("search")).unwrap();
    let server = ServerProcess::start(&db, &["serve"], &[]);
    let client = crate::helpers::client_by_hand();
    let waiting = client
        .get(format!(
            "{}/search?q={}",
            server.address,
            urlencode("読書会")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(waiting.status(), 503, "{}", server.log());
    assert_eq!(
        waiting
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let page = crate::helpers::Page::parse(waiting.text().await.unwrap());
    assert!(
        page.text(".notice").contains("検索の準備中です"),
        "{}",
        page.text("main")
    );
    assert_eq!(page.attr(".notice a", "href").as_deref(), Some("/stories"));
    let ready = client
        .get(format!("{}/readyz", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    // The story list does not depend on the index and answers meanwhile.
    let list = client
        .get(format!("{}/stories", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);

    let ready = format!("{}/readyz", server.address);
    assert_eq!(
        crate::helpers::wait_for_status(&client, &ready, 200, Duration::from_secs(120)).await,
        200,
        "{}",
        server.log()
    );
    let found = search_now(&Browser::new(&server.address), "読書会").await;
    assert_eq!(
        found.len(),
        10,
        "a full first page of the demo's and the added stories"
    );
    assert!(
        server.log().contains("rebuilding it in the background"),
        "{}",
        server.log()
    );
    assert!(
        server.log().contains("search index rebuilt"),
        "{}",
        server.log()
    );
}

/// What the index's last commit recorded about itself (its `meta.json` payload).
fn index_payload(data_dir: &std::path::Path) -> serde_json::Value {
    let meta = std::fs::read_to_string(data_dir.join("search/meta.json")).unwrap_or_default();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap_or_default();
    serde_json::from_str(meta["payload"].as_str().unwrap_or("null")).unwrap_or_default()
}

/// A reindex stopped after committing part of the stories (Ctrl-C, a crash, a full disk) must not
/// leave an index that says it is whole: the next start rebuilds it, and the node is not ready
/// until every story is in it.
#[tokio::test]
async fn a_reindex_stopped_part_way_is_rebuilt_at_start_not_served_half_built() {
    let db = demo_with_stories(3000).await;

    let mut reindex = std::process::Command::new(env!("CARGO_BIN_EXE_engawa"))
        .arg("reindex")
        .env("DATABASE_URL", &db.url)
        .env("ENGAWA_DATA_DIR", db.data_dir())
        .env("ENGAWA_CONFIG", "/dev/null")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("engawa reindex starts");
    // Stopped as soon as its first part is committed (one part per core).
    let started = Instant::now();
    while index_payload(db.data_dir())["rebuilding"] != json!(true) {
        assert!(
            reindex.try_wait().expect("reindex runs").is_none(),
            "the reindex ended before a part of it was seen committed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(2));
    }
    reindex.kill().expect("reindex stopped");
    reindex.wait().expect("reindex exits");

    let server = ServerProcess::start(&db, &["serve"], &[]);
    let client = crate::helpers::client_by_hand();
    let ready = format!("{}/readyz", server.address);
    assert_eq!(
        client.get(&ready).send().await.unwrap().status(),
        503,
        "a half-built index is not served: {}",
        server.log()
    );
    assert_eq!(
        crate::helpers::wait_for_status(&client, &ready, 200, Duration::from_secs(120)).await,
        200,
        "{}",
        server.log()
    );
    assert!(server.log().contains("half-built"), "{}", server.log());
    server.kill();
    assert_eq!(index_payload(db.data_dir())["rebuilding"], json!(false));
    let (index, _) =
        engawa::search::SearchIndex::open(&db.data_dir().join("search")).expect("the index opens");
    assert_eq!(
        index.num_docs(),
        3 + 13 + 3000,
        "every guide and story, the demo's and the added ones"
    );
}

#[tokio::test]
async fn content_committed_while_the_indexer_was_down_is_indexed_after_restart() {
    let db = TestDatabase::new();
    let server = ServerProcess::start(&db, &["serve", "--demo"], &[]);
    assert_eq!(wait_for_search(&server.address, "読書会", 1).await.len(), 1);
    server.kill();

    // A commit the killed process never indexed: the story and its outbox row, nothing else.
    let file = db.data_dir().join("late.jsonl");
    let late = with(
        story("atexxxxxxxx2", "遅れて届いた話", "approved"),
        "body",
        json!(
            "灯台の見える町で出会いました。お互いの家庭を大切にしながら、月に一度だけ会う関係がもうすぐ三年になります。"
        ),
    );
    std::fs::write(&file, format!("{late}\n")).unwrap();
    let out = crate::helpers::run_cli(&db.url, db.data_dir(), &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = ServerProcess::start(&db, &["serve"], &[]);
    assert_eq!(
        wait_for_search(&server.address, "灯台", 1).await,
        vec!["遅れて届いた話"]
    );
    assert!(
        !server.log().contains("rebuilding"),
        "caught up from the outbox, not rebuilt: {}",
        server.log()
    );
}

#[tokio::test]
async fn reindex_rebuilds_with_a_summary_and_refuses_while_the_server_holds_the_index() {
    let db = TestDatabase::new();
    let server = ServerProcess::start(&db, &["serve", "--demo"], &[]);
    assert_eq!(wait_for_search(&server.address, "読書会", 1).await.len(), 1);
    let busy = crate::helpers::run_cli(&db.url, db.data_dir(), &["reindex"]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("is `engawa serve` running?"));
    server.kill();

    let out = crate::helpers::run_cli(&db.url, db.data_dir(), &["reindex"]);
    succeeded_saying(&out, "reindexed 3 guide(s) and 13 story(ies)");
    let server = ServerProcess::start(&db, &["serve"], &[]);
    assert_eq!(wait_for_search(&server.address, "読書会", 1).await.len(), 1);
}

/// The rebuild reads the stories in batches by id: a batch in which no story is public is passed
/// over, not taken for the end, and only public stories are read.
#[tokio::test]
async fn the_rebuild_reads_every_public_story_past_batches_without_one() {
    let app = spawn_app().await;
    let statuses = [
        "approved", "pending", "pending", "rejected", "approved", "pending", "approved",
    ];
    let records: Vec<serde_json::Value> = (b'a'..)
        .zip(statuses)
        .map(|(c, status)| {
            story(
                &format!("bbbbbbbbbbb{}", c as char),
                &format!("{status}の話{}", c as char),
                status,
            )
        })
        .collect();
    app.seed(&records);
    let mut conn = app.conn();
    let (mut read, mut after) = (Vec::new(), 0);
    loop {
        let (batch, last) =
            engawa::models::story::Story::public_after(&mut conn, after, 2).expect("a batch");
        let Some(last) = last else { break };
        read.extend(batch.into_iter().map(|s| s.title));
        after = last;
    }
    assert_eq!(
        read,
        vec!["approvedの話a", "approvedの話e", "approvedの話g"]
    );

    // The rebuild itself, into an index of its own (the server holds the app's).
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (index, _) = engawa::search::SearchIndex::open(&dir.path().join("search")).expect("open");
    let built = engawa::search::indexer::rebuild(&app.pool, &index, &|_, _| {}).expect("rebuilt");
    assert_eq!(built, (0, 3));
    assert_eq!(index.num_docs(), 3);
}
