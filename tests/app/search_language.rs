//! Search as readers think: operators, relaxed matching at particles, the editors' synonym
//! groups, もしかして, and the judged relevance set, all over HTTP.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Browser, TestApp, TestDatabase, results_within, search_now, spawn_app, spawn_configured, story,
    urlencode, with,
};

/// A story with its own body and tags (the helper's default rule and tag would match queries).
fn told(id: &str, title: &str, body: &str) -> Value {
    let r = with(story(id, title, "approved"), "body", json!(body));
    let r = with(r, "rules", json!(["約束は守る"]));
    with(r, "tags", json!(["体験"]))
}

async fn page(r: &Browser, q: &str) -> crate::helpers::Page {
    r.shown(&format!("/search?q={}", urlencode(q))).await
}

async fn sorted(r: &Browser, q: &str) -> Vec<String> {
    let mut titles = search_now(r, q).await;
    titles.sort();
    titles
}

async fn seeded(records: &[Value], probe: &str, expected: usize) -> TestApp {
    let app = spawn_app().await;
    app.seed(records);
    results_within(&app.reader, probe, expected, Duration::from_secs(10)).await;
    app
}

#[tokio::test]
async fn quoted_phrases_exclusions_and_or_do_what_readers_expect() {
    let app = seeded(
        &[
            told(
                "qpsaaaaaaaa2",
                "春の約束",
                "三年目の春に、ふたりで新しい約束をしました。職場の近くの公園を歩きながら、無理をしないことを確かめ合った日のことです。",
            ),
            told(
                "qpsaaaaaaaa3",
                "目の話",
                "三年目になって、春が来るたびに思い出すのは、最初に職場で異動の知らせを聞いた日のことです。季節の手紙は今も続いています。",
            ),
            told(
                "qpsaaaaaaaa4",
                "ヨガの話",
                "ヨガ教室で知り合ったふたりです。週に一度のレッスンのあと、少しだけお茶を飲んで帰ります。家族の予定がいつも先です。",
            ),
            told(
                "qpsaaaaaaaa5",
                "ピラティスの話",
                "ピラティスのスタジオで出会いました。お互いの家庭を大切にしながら、月に一度だけ話す時間をつくっています。",
            ),
        ],
        "ふたり",
        2,
    )
    .await;
    let r = &app.reader;
    // "…": the phrase as written; the words apart do not count.
    assert_eq!(sorted(r, "\"三年目の春\"").await, vec!["春の約束"]);
    assert_eq!(sorted(r, "三年目 春").await, vec!["春の約束", "目の話"]);
    let quoted = page(r, "\"三年目の春\"").await;
    assert_eq!(
        quoted.texts("ol.results mark"),
        vec!["三年目の春"],
        "the phrase is marked whole"
    );
    // Full-width quotes and 「」 are quotes too; folding still applies inside them.
    assert_eq!(sorted(r, "＂3年目の春＂").await, vec!["春の約束"]);
    assert_eq!(sorted(r, "「三年目の春」").await, vec!["春の約束"]);
    // -word: without the word.
    assert_eq!(sorted(r, "職場 -異動").await, vec!["春の約束"]);
    assert_eq!(sorted(r, "職場 －異動").await, vec!["春の約束"]);
    assert_eq!(sorted(r, "三年目 -\"職場で異動\"").await, vec!["春の約束"]);
    // OR: either word.
    assert_eq!(
        sorted(r, "ヨガ OR ピラティス").await,
        vec!["ピラティスの話", "ヨガの話"]
    );
    assert_eq!(
        sorted(r, "ヨガ OR ぴらてぃす 家族").await,
        vec!["ヨガの話"],
        "OR binds two words; the next word must still match"
    );
    let either = page(r, "ヨガ OR ピラティス").await;
    assert!(!either.texts("ol.results mark").is_empty());
    assert_eq!(
        either.attr("#q", "value").as_deref(),
        Some("ヨガ OR ピラティス")
    );
    // Unknown or broken syntax is text: a lowercase or, an unclosed quote, a lone minus.
    assert_eq!(sorted(r, "ヨガ or ピラティス").await, Vec::<String>::new());
    assert_eq!(sorted(r, "\"ヨガ").await, vec!["ヨガの話"]);
    assert_eq!(sorted(r, "ヨガ -").await, vec!["ヨガの話"]);
    // Only exclusions: nothing to find, and the page says why.
    let only = page(r, "-職場").await;
    assert!(only.texts("ol.results .card-title").is_empty());
    assert!(
        only.text(".empty").contains("探す言葉も入れてください"),
        "{}",
        only.text(".empty")
    );
}

#[tokio::test]
async fn a_natural_query_is_split_at_particles_with_a_notice_and_the_phrase_first() {
    let app = seeded(
        &[
            told(
                "rxzaaaaaaaa2",
                "続けるために",
                "長続きするかどうかは分かりませんでした。それでも、ふたりで話し合って決めたことが、今思えば一番の秘訣だったのでしょう。",
            ),
            told(
                "rxzaaaaaaaa3",
                "コミュニティの話",
                "映画コミュニティのオフ会で出会いました。好きな監督が同じで、話が尽きませんでした。会うのは上映会の日だけです。",
            ),
            told(
                "rxzaaaaaaaa4",
                "秘訣だけの話",
                "料理の秘訣を教えてもらったのが始まりです。今も、新しい味を見つけたら短いメッセージで教え合っています。",
            ),
        ],
        "ふたり OR オフ会",
        2,
    )
    .await;
    let r = &app.reader;
    let relaxed = page(r, "長続きの秘訣").await;
    assert_eq!(
        relaxed.texts("ol.results .card-title"),
        vec!["続けるために"],
        "both parts must appear"
    );
    assert!(
        relaxed.text(".search-notices").contains(
            "『長続きの秘訣』そのものは見つかりませんでした。『長続き』『秘訣』を含むものを表示しています"
        ),
        "{}",
        relaxed.text(".search-notices")
    );
    let marks = relaxed.texts("ol.results mark");
    assert!(marks.contains(&"秘訣".to_owned()), "{marks:?}");
    assert_eq!(
        sorted(r, "映画のコミュニティ").await,
        vec!["コミュニティの話"],
        "映画のコミュニティ finds 映画コミュニティ"
    );

    // Once the phrase exists, it comes first, and the page says how many had it.
    app.seed(&[told(
        "rxzaaaaaaaa5",
        "秘訣の話",
        "長続きの秘訣を聞かれたら、無理をしないことと答えます。会えない週があっても責めないと決めてから、ずっと穏やかです。",
    )]);
    results_within(r, "無理をしない", 1, Duration::from_secs(10)).await;
    let both = page(r, "長続きの秘訣").await;
    assert_eq!(
        both.texts("ol.results .card-title"),
        vec!["秘訣の話", "続けるために"]
    );
    assert!(
        both.text(".search-notices")
            .contains("『長続きの秘訣』そのものを含むものは1件でした"),
        "{}",
        both.text(".search-notices")
    );
    // A quoted phrase is never relaxed, and a word without particles has nothing to split.
    assert_eq!(sorted(r, "\"長続きの秘訣\"").await, vec!["秘訣の話"]);
    assert!(
        page(r, "\"長続きの秘訣\"")
            .await
            .texts(".search-notices")
            .is_empty()
    );
    assert_eq!(sorted(r, "長続きする秘訣").await, Vec::<String>::new());
}

/// The log rows of synonym changes, newest last.
fn synonym_log(app: &TestApp) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use engawa::db::schema::mod_actions;
    mod_actions::table
        .filter(mod_actions::kind.eq("change_synonyms"))
        .order(mod_actions::id)
        .select((mod_actions::actor_label, mod_actions::note))
        .load::<(String, Option<String>)>(&mut app.conn())
        .expect("log rows")
        .into_iter()
        .map(|(who, note)| (who, note.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn editors_keep_synonym_groups_in_the_panel_and_the_next_search_uses_them() {
    let app = seeded(
        &[
            told(
                "synaaaaaaaa2",
                "恋人と呼べない人",
                "恋人とは呼べないけれど、大切な人がいます。月に一度、駅前で短い時間だけ会うと決めて、もう四年になります。",
            ),
            told(
                "synaaaaaaaa3",
                "パートナーとの約束",
                "パートナーと最初に決めたのは、家族の予定を何より優先することでした。会えない月があっても責めないと約束しています。",
            ),
            told(
                "synaaaaaaaa4",
                "喫茶店の窓際",
                "いつもの喫茶店の窓際の席で、月に一度だけ話します。珈琲が冷めるまでの一時間が、私たちの約束の時間です。",
            ),
        ],
        "月",
        3,
    )
    .await;
    let r = &app.reader;
    // Before any group: a word finds only itself (and the page is now cached).
    assert_eq!(sorted(r, "恋人").await, vec!["恋人と呼べない人"]);

    let editor = app.signed_in("editor", engawa::domain::Role::Editor).await;
    let panel = editor.shown("/mod/synonyms").await;
    assert!(panel.text("h1").contains("検索の同義語"));
    // Bad input: a Japanese message, the typed text kept, nothing saved.
    let bad = editor
        .post_form(&panel, "/mod/synonyms", &[("words", "恋人")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.text(".field-error").contains("2つ以上"), "{}", bad.body);
    assert_eq!(bad.attr("#words", "value").as_deref(), Some("恋人"));
    // One character would match inside other words (夫 in 大丈夫): refused, and said why.
    let short = editor
        .post_form(&panel, "/mod/synonyms", &[("words", "夫・旦那")])
        .await;
    assert_eq!(short.status, 400);
    assert!(
        short.text(".field-error").contains("1文字"),
        "{}",
        short.body
    );
    assert!(synonym_log(&app).is_empty());

    let added = editor
        .post_form(&panel, "/mod/synonyms", &[("words", "恋人・パートナー")])
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let panel = editor.shown("/mod/synonyms?done=added").await;
    assert!(panel.text(".notice").contains("追加しました"));
    assert_eq!(
        panel.attrs(".synonym-groups input[name=words]", "value"),
        vec!["恋人・パートナー"]
    );

    // The next search uses the group (the cached page went with the change), says so, marks
    // the related word, and links to the exact word only.
    let widened = page(r, "恋人").await;
    let mut titles = widened.texts("ol.results .card-title");
    titles.sort();
    assert_eq!(titles, vec!["パートナーとの約束", "恋人と呼べない人"]);
    assert!(
        widened
            .text(".search-notices")
            .contains("『恋人』に近い言葉（パートナー）も含めています"),
        "{}",
        widened.text(".search-notices")
    );
    assert!(
        widened
            .texts("ol.results mark")
            .contains(&"パートナー".to_owned())
    );
    let exact = widened
        .attr(".search-notices a", "href")
        .expect("a link to the exact word");
    let exact_page = r.shown(&exact).await;
    assert_eq!(
        exact_page.texts("ol.results .card-title"),
        vec!["恋人と呼べない人"]
    );
    assert_eq!(exact_page.attr("#q", "value").as_deref(), Some("\"恋人\""));
    // Kana folding applies to the group's words too.
    assert_eq!(sorted(r, "ぱーとなー").await.len(), 2);
    // An exclusion takes the word as typed, never its group.
    assert_eq!(
        sorted(r, "約束 -恋人").await,
        vec!["パートナーとの約束", "喫茶店の窓際"]
    );

    // A word may be in one group only.
    let taken = editor
        .post_form(&panel, "/mod/synonyms", &[("words", "相手・パートナー")])
        .await;
    assert_eq!(taken.status, 409);
    assert!(taken.text(".field-error").contains("すでに別のグループ"));

    // Changing the group changes the next search.
    let id = panel
        .attr(".synonym-groups form", "action")
        .expect("the group's form");
    let changed = editor
        .post_form(&panel, &id, &[("words", "恋人・パートナー・喫茶店")])
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(sorted(r, "恋人").await.len(), 3);
    let broken = editor.post_form(&panel, &id, &[("words", "・")]).await;
    assert_eq!(broken.status, 400);
    assert_eq!(
        sorted(r, "恋人").await.len(),
        3,
        "a refused change loses nothing"
    );

    // Removing it: the word finds only itself again.
    let panel = editor.shown("/mod/synonyms").await;
    let removed = editor.post_form(&panel, &format!("{id}/delete"), &[]).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(sorted(r, "恋人").await, vec!["恋人と呼べない人"]);

    // Every change is in the log, by the editor, with its words.
    let log = synonym_log(&app);
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().all(|(who, _)| who == "editor"));
    assert!(log[0].1.contains("恋人・パートナー"));
    assert!(log[2].1.starts_with("削除"));

    // Moderators who do not edit guides cannot change them; readers never reach the panel.
    let moderator = app.moderator("mod").await;
    assert_eq!(moderator.get("/mod/synonyms").await.status, 403);
    assert_eq!(app.browser().get("/mod/synonyms").await.status, 303);
}

#[tokio::test]
async fn a_query_that_finds_nothing_suggests_the_closest_that_finds_something() {
    let app = seeded(
        &[
            told(
                "sugaaaaaaaa2",
                "ピラティス教室で出会って",
                "ピラティスのスタジオで出会いました。お互いの家庭を大切にしながら、月に一度だけ話す時間をつくっています。",
            ),
            told(
                "sugaaaaaaaa3",
                "子どもの受験が終わって",
                "子どもの受験が終わるまでは会わないと決めていました。春になって、久しぶりに近況を話せたときは本当にほっとしました。",
            ),
            with(
                told(
                    "sugaaaaaaaa4",
                    "釣り堀の午後",
                    "日曜の午後、釣り堀で隣り合ったのが始まりでした。話すのは魚のことばかりですが、それが心地よいのです。",
                ),
                "tags",
                json!(["釣り"]),
            ),
        ],
        "話",
        3,
    )
    .await;
    let r = &app.reader;
    // A letter off: the word as the site writes it.
    let typo = page(r, "ピラテス").await;
    assert!(typo.texts("ol.results .card-title").is_empty());
    assert_eq!(typo.text(".suggestion a"), "ピラティス");
    let followed = r
        .shown(&typo.attr(".suggestion a", "href").expect("a link"))
        .await;
    assert_eq!(
        followed.texts("ol.results .card-title"),
        vec!["ピラティス教室で出会って"]
    );
    // Kana for kanji.
    assert_eq!(
        page(r, "こどもの受験").await.text(".suggestion a"),
        "子どもの受験"
    );
    // Each word finds something, but not together: the query without the word that finds least.
    let apart = page(r, "ピラティス 釣り堀").await;
    assert!(apart.texts("ol.results .card-title").is_empty());
    assert!(
        ["ピラティス", "釣り堀"].contains(&apart.text(".suggestion a").as_str()),
        "{}",
        apart.text(".suggestion")
    );
    // Nothing close: no suggestion, the usual hints.
    let nothing = page(r, "量子力学").await;
    assert!(nothing.texts(".suggestion").is_empty());
    assert!(nothing.text(".empty").contains("見つかりませんでした"));
}

const CORPUS: &str = include_str!("fixtures/relevance/corpus.jsonl");
const QUERIES: &str = include_str!("fixtures/relevance/queries.tsv");
const TOP: usize = 5;

/// The judged set (docs/BENCHMARKS.md; the demo content plus a corpus written for it, and
/// queries each with the items due in the top 5), searched through the page as readers do.
#[tokio::test]
async fn the_judged_relevance_set_has_at_least_nine_in_ten_queries_right() {
    let app = spawn_configured(TestDatabase::new(), true, |s| {
        s.searches_per_minute = 10_000
    })
    .await;
    let corpus: Vec<Value> = CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a corpus line"))
        .collect();
    app.seed(&corpus);
    // The demo content and the corpus, all indexed.
    results_within(
        &app.reader,
        "ヨガ OR ピラティス",
        2,
        Duration::from_secs(30),
    )
    .await;
    let mut misses = Vec::new();
    let mut judged = 0;
    for line in QUERIES.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (q, due) = (cols[0], cols[1].split(',').collect::<Vec<_>>());
        let page = app
            .reader
            .shown(&format!("/search?q={}", urlencode(q)))
            .await;
        let found: Vec<String> = page
            .attrs("ol.results .card-title a", "href")
            .into_iter()
            .take(TOP)
            .map(|href| {
                href.strip_prefix("/stories/")
                    .map(str::to_owned)
                    .unwrap_or_else(|| href.replacen("/guides/", "guide:", 1))
            })
            .collect();
        judged += 1;
        if !due.iter().all(|d| found.iter().any(|f| f == d)) {
            misses.push(format!("{q}: due {due:?}, found {found:?}"));
        }
    }
    assert!(judged >= 60, "{judged} judged queries");
    let hit = 1.0 - misses.len() as f64 / judged as f64;
    assert!(
        hit >= 0.9,
        "hit@{TOP} {hit:.2} over {judged} queries; missed:\n{}",
        misses.join("\n")
    );
}
