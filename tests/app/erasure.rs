//! What is erased is gone: after a withdrawal, a rejection after publication (and the retention
//! period), or a moderator's redaction, the removed text is in no file the site writes: the
//! database and its WAL, every search-index file (read through tantivy's own store and term
//! dictionary, which keep deleted documents until their segment is rewritten), the log at debug
//! level and mail files; on PostgreSQL, in no table file read through the server.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use tantivy::schema::Value;

use crate::helpers::{Browser, TestDatabase, add_user, results_within, run_cli, story_body};
use crate::process::ServerProcess;

const MODERATOR: &str = "mod@engawa.test";
const PASSWORD: &str = "moderator-password";

/// One unique marker per field a submitter writes, and the address they leave.
struct Markers {
    title: String,
    body: String,
    pen_name: String,
    rules: String,
    tag: String,
    email: String,
}

impl Markers {
    fn new() -> Self {
        let run: String = {
            use rand::Rng;
            let mut rng = rand::rng();
            (0..8)
                .map(|_| (b'a' + rng.random_range(0..26)) as char)
                .collect()
        };
        let m = |field: &str| format!("zq{field}{run}");
        Markers {
            title: m("title"),
            body: m("body"),
            pen_name: m("pen"),
            rules: m("rule"),
            tag: m("tag"),
            email: format!("erasure-{run}@example.jp"),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.title,
            &self.body,
            &self.pen_name,
            &self.rules,
            &self.tag,
            &self.email,
        ]
    }

    fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("title", format!("{} の話", self.title)),
            ("body", story_body(&format!(" {} ", self.body))),
            ("pen_name", self.pen_name.clone()),
            ("length_years", "4".to_owned()),
            ("length_months", "0".to_owned()),
            ("how_met", "hobby".to_owned()),
            ("continuing", "yes".to_owned()),
            (
                "rules",
                format!("連絡は平日の昼だけ\n{} を守る", self.rules),
            ),
            ("tags", format!("{}、ルール", self.tag)),
            ("email", self.email.clone()),
        ]
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Where the search index still holds a marker: in a stored document (deleted ones included)
/// or as a term of a segment. `Err` when the index changed while it was read.
fn markers_in_index(dir: &Path, markers: &[&str]) -> Result<Vec<String>, String> {
    let index = tantivy::Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    let schema = index.schema();
    let reader = index.reader().map_err(|e| e.to_string())?;
    let searcher = reader.searcher();
    let mut found = Vec::new();
    // Every segment file on disk belongs to a segment the index uses: none is left behind,
    // holding text that the readers below would not see.
    let live: Vec<String> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.segment_id().uuid_string())
        .collect();
    for file in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap_or_default();
        let segment_file = stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit());
        if segment_file && !live.iter().any(|id| id == stem) {
            found.push(format!("index file of a dropped segment: {name}"));
        }
    }
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(0).map_err(|e| e.to_string())?;
        for doc in store.iter::<tantivy::TantivyDocument>(None) {
            let json = tantivy::Document::to_json(&doc.map_err(|e| e.to_string())?, &schema);
            for m in markers {
                if json.to_lowercase().contains(m) {
                    found.push(format!(
                        "index store of segment {}: {m}",
                        segment.segment_id()
                    ));
                }
            }
        }
        for field in ["title", "body", "tag"] {
            let field = schema.get_field(field).map_err(|e| e.to_string())?;
            let terms = segment.inverted_index(field).map_err(|e| e.to_string())?;
            for m in markers {
                if terms
                    .terms()
                    .get(str::as_bytes(m))
                    .map_err(|e| e.to_string())?
                    .is_some()
                {
                    found.push(format!(
                        "index terms of segment {}: {m}",
                        segment.segment_id()
                    ));
                }
            }
        }
    }
    Ok(found)
}

/// How many documents share a segment with the document whose stored title holds `marker`.
fn segment_size_of(dir: &Path, marker: &str) -> Option<u32> {
    let index = tantivy::Index::open_in_dir(dir).ok()?;
    let schema = index.schema();
    let title = schema.get_field("title").ok()?;
    let searcher = index.reader().ok()?.searcher();
    searcher.segment_readers().iter().find_map(|segment| {
        let store = segment.get_store_reader(0).ok()?;
        let holds = store
            .iter::<tantivy::TantivyDocument>(segment.alive_bitset())
            .any(|d| {
                d.ok().is_some_and(|d| {
                    d.get_first(title)
                        .and_then(|v| v.as_str().map(|s| s.contains(marker)))
                        .unwrap_or(false)
                })
            });
        holds.then(|| segment.max_doc())
    })
}

#[derive(diesel::QueryableByName)]
struct RelationFile {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    bytes: Vec<u8>,
}

/// Where a PostgreSQL table, TOAST table or index file of the test database holds a marker,
/// read through the server after a checkpoint (so the files hold what shared buffers held).
/// An empty stories file is an Err to retry: the erasure worker's `VACUUM FULL` can commit a new
/// file between the checkpoint and the read (CI met it), and a new file is empty until the next
/// checkpoint.
fn markers_in_postgres(url: &str, markers: &[&str]) -> Result<Vec<String>, String> {
    let mut conn = engawa::db::establish(url).expect("connect");
    diesel::sql_query("CHECKPOINT")
        .execute(&mut conn)
        .expect("checkpoint (the tests connect as a superuser)");
    let files: Vec<RelationFile> = diesel::sql_query(
        "SELECT c.relname::text AS name, pg_read_binary_file(pg_relation_filepath(c.oid)) AS bytes
         FROM pg_class c
         WHERE c.relkind IN ('r', 't', 'i') AND pg_relation_filepath(c.oid) IS NOT NULL
           AND c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace)",
    )
    .load(&mut conn)
    .expect("read the relation files");
    if !files
        .iter()
        .any(|f| f.name == "stories" && !f.bytes.is_empty())
    {
        return Err("the stories table file was empty when read".to_owned());
    }
    let mut found = Vec::new();
    for file in files {
        let text = String::from_utf8_lossy(&file.bytes).to_lowercase();
        for m in markers {
            if text.contains(m) {
                found.push(format!("PostgreSQL relation {}: {m}", file.name));
            }
        }
    }
    Ok(found)
}

/// Every place under the data dir (and in PostgreSQL's table files) that still holds a marker.
fn markers_left(db: &TestDatabase, markers: &[&str]) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for path in files_under(db.data_dir()) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue; // deleted while listed
        };
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for m in markers {
            if text.contains(m) {
                found.push(format!("{}: {m}", path.display()));
            }
        }
    }
    let index = db.data_dir().join("search");
    if index.exists() {
        found.extend(markers_in_index(&index, markers)?);
    }
    if db.is_postgres() {
        found.extend(markers_in_postgres(&db.url, markers)?);
    }
    Ok(found)
}

/// Waits until no marker is left anywhere, or fails saying where they are.
async fn assert_gone(db: &TestDatabase, markers: &[&str], what: &str) {
    let started = Instant::now();
    loop {
        match markers_left(db, markers) {
            Ok(found) if found.is_empty() => return,
            Ok(found) if started.elapsed() > Duration::from_secs(30) => {
                panic!(
                    "{what}: the erased text is still stored:\n{}",
                    found.join("\n")
                )
            }
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                panic!("{what}: the stores stayed unreadable: {e}")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A site whose story holding the markers is published and indexed in one segment together with
/// the demo stories (by `engawa reindex`), as it is after a rebuild or a merge.
struct Published {
    db: TestDatabase,
    server: ServerProcess,
    reader: Browser,
    moderator: Browser,
    code: String,
    public_id: String,
}

const SERVER_ENV: &[(&str, &str)] = &[
    ("ENGAWA_LOG", "debug"),
    // No cooling-off, so that feeds show the story at once; rewrite PostgreSQL tables at once.
    ("ENGAWA_FEED_DELAY_MINUTES", "0"),
    ("ENGAWA_ERASURE_REWRITE_MINUTES", "0"),
];

async fn signed_in(address: &str) -> Browser {
    let moderator = Browser::new(address);
    moderator.login(MODERATOR, PASSWORD).await;
    moderator
}

async fn published(markers: &Markers) -> Published {
    let db = TestDatabase::new();
    add_user(&db, MODERATOR, "moderator", PASSWORD);
    let server = ServerProcess::start(&db, &["serve", "--demo"], SERVER_ENV);
    let reader = Browser::new(&server.address);
    let fields = markers.form();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let code = reader.send_story(&refs).await;
    let public_id = crate::helpers::story_by_code_in(&db, &code).public_id;
    signed_in(&server.address).await.approve(&public_id).await;
    let titles = results_within(&reader, &markers.body, 1, Duration::from_secs(20)).await;
    assert_eq!(titles.len(), 1, "the story was indexed");
    // The approval mail is written (as a file: no SMTP server here) before the server stops.
    let mail_dir = db.data_dir().join("outbox");
    let started = Instant::now();
    while !files_under(&mail_dir).iter().any(|p| {
        p.file_name().is_some_and(|n| {
            n.to_string_lossy()
                .starts_with(&format!("story-{public_id}-"))
        })
    }) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no approval mail was written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();

    let out = run_cli(&db.url, db.data_dir(), &["reindex"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shared = segment_size_of(&db.data_dir().join("search"), &markers.title);
    assert!(
        shared.is_some_and(|n| n > 1),
        "the story shares its segment with others: {shared:?}"
    );

    let server = ServerProcess::start(&db, &["serve"], SERVER_ENV);
    let reader = Browser::new(&server.address);
    let moderator = signed_in(&server.address).await;
    assert_eq!(
        reader.get(&format!("/stories/{public_id}")).await.status,
        200
    );
    Published {
        db,
        server,
        reader,
        moderator,
        code,
        public_id,
    }
}

fn assert_not_in_log(server: &ServerProcess, markers: &[&str]) {
    let log = server.log().to_lowercase();
    assert!(log.contains("engawa ready"), "the log was captured");
    for m in markers {
        assert!(!log.contains(m), "the log holds {m}:\n{log}");
    }
}

#[tokio::test]
async fn a_withdrawn_story_leaves_no_copy_in_any_file() {
    let markers = Markers::new();
    let site = published(&markers).await;
    site.reader.withdraw(&site.code).await;
    assert_gone(&site.db, &markers.all(), "after the withdrawal").await;
    assert_not_in_log(&site.server, &markers.all());
    assert_eq!(
        site.reader
            .get(&format!("/stories/{}", site.public_id))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_story_rejected_after_publication_leaves_the_index_at_once_and_the_database_after_the_retention()
 {
    let markers = Markers::new();
    let site = published(&markers).await;
    let path = format!("/mod/stories/{}", site.public_id);
    let rejected = site
        .moderator
        .submit(
            &path,
            &format!("{path}/reject"),
            &[
                ("reason", "個人を特定できる情報が含まれている"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    // The submitter may still read the decision: the database keeps the text for now, but
    // nothing public and no index file does.
    let stored = {
        let mut conn = engawa::db::establish(&site.db.url).expect("connect");
        let id = engawa::domain::PublicId::parse(&site.public_id).expect("id");
        engawa::models::story::Story::find_by_public_id(&mut conn, &id).expect("story")
    };
    assert!(
        stored.body_markdown.contains(&markers.body),
        "kept until the retention ends"
    );
    let decided = site.moderator.get(&path).await;
    assert_eq!(
        decided.status, 200,
        "{path} after the rejection: {}",
        decided.body
    );
    assert_eq!(
        decided.text("h1"),
        format!("{} の話", markers.title),
        "{path} does not show the rejected story"
    );
    assert!(
        !decided.body.contains("/edit\""),
        "a rejected story is not edited (that would restart its retention)"
    );
    let index = site.db.data_dir().join("search");
    let started = Instant::now();
    loop {
        match markers_in_index(&index, &markers.all()) {
            Ok(found) if found.is_empty() => break,
            other => {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the index still holds the rejected story: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    // The retention period runs out (the clock moved 31 days on); the server's clean-up follows.
    let mut conn = engawa::db::establish(&site.db.url).expect("connect");
    let later = engawa::models::now() + chrono::Duration::days(31);
    let before = engawa::workflows::moderation::expire_rejected(
        &mut conn,
        Duration::from_secs(30 * 86_400),
        engawa::models::now(),
    )
    .expect("expire");
    assert_eq!(before, 0, "nothing expires within the 30 days");
    let expired = engawa::workflows::moderation::expire_rejected(
        &mut conn,
        Duration::from_secs(30 * 86_400),
        later,
    )
    .expect("expire");
    assert_eq!(expired, 1);
    assert_gone(&site.db, &markers.all(), "after the retention period").await;
    assert_not_in_log(&site.server, &markers.all());
}

#[tokio::test]
async fn a_redaction_of_each_field_leaves_no_copy_of_what_was_removed() {
    let markers = Markers::new();
    let site = published(&markers).await;
    let path = format!("/mod/stories/{}", site.public_id);
    let clean_body = story_body("書き換えた");
    // One field at a time, as a moderator removes one detail: each time that field's marker is
    // gone from every file, and the others are still stored (the redaction took only that one).
    let steps: [(&str, &str, &str); 5] = [
        ("title", "編集部が書き換えた題", &markers.title),
        ("body", &clean_body, &markers.body),
        ("pen_name", "匿名の人", &markers.pen_name),
        ("rules", "連絡は平日の昼だけ", &markers.rules),
        ("tags", "ルール", &markers.tag),
    ];
    for (i, (field, clean, marker)) in steps.iter().enumerate() {
        let edited = site
            .moderator
            .redact(&site.public_id, &[(field, clean), ("note", "連絡先を削除")])
            .await;
        assert_eq!(edited.status, 303, "{field}: {}", edited.body);
        assert_gone(&site.db, &[marker], &format!("after redacting {field}")).await;
        let story = crate::helpers::story_by_code_in(&site.db, &site.code);
        let stored = format!(
            "{} {} {} {}",
            story.title, story.body_markdown, story.pen_name, story.rules
        );
        for (_, _, kept) in &steps[i + 1..] {
            let in_tags = kept == &markers.tag.as_str();
            assert!(
                in_tags || stored.contains(kept),
                "redacting {field} also removed {kept}"
            );
        }
    }
    let edited = site
        .moderator
        .redact(
            &site.public_id,
            &[
                ("length_years", "3"),
                ("length_months", "0"),
                ("how_met", "other"),
                ("continuing", "no"),
            ],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let markers_without_address: Vec<&str> = markers
        .all()
        .into_iter()
        .filter(|m| !m.contains('@'))
        .collect();
    assert_gone(&site.db, &markers_without_address, "after the redactions").await;
    assert_not_in_log(&site.server, &markers.all());

    let moderators_page = site.moderator.get(&path).await;
    assert_eq!(
        moderators_page.status, 200,
        "{path} after the redactions: {}",
        moderators_page.body
    );
    assert_eq!(
        moderators_page.text("h1"),
        "編集部が書き換えた題",
        "{path} does not show the redacted story"
    );
    let page = moderators_page.body.to_lowercase();
    for m in &markers_without_address {
        assert!(!page.contains(m), "the moderator's page shows {m}");
    }
    let public = site
        .reader
        .get(&format!("/stories/{}", site.public_id))
        .await;
    assert_eq!(public.status, 200);
    assert!(public.body.contains("編集部が書き換えた題"));
    assert!(
        public.body.contains("3年"),
        "the structured fields changed too"
    );
}

#[tokio::test]
async fn a_phone_number_redacted_from_the_rules_is_on_no_page_feed_or_card_nor_the_moderators_page()
{
    let app = crate::helpers::spawn_configured(TestDatabase::new(), false, |s| {
        s.feed_delay = Duration::ZERO;
    })
    .await;
    let seeded = ["昼だけの約束", "平日の昼の話", "家族を優先する話"];
    app.seed(
        &seeded
            .iter()
            .enumerate()
            .map(|(i, t)| crate::helpers::story(&crate::helpers::public_id(i + 1), t, "approved"))
            .collect::<Vec<_>>(),
    );
    let phone = "090-4321-8765";
    let title = "電話番号を書いた話";
    let mut fields = crate::helpers::story_fields(title);
    for (k, v) in fields.iter_mut() {
        if *k == "rules" {
            *v = format!("連絡は平日の昼だけ\n急ぎは {phone} に電話");
        }
    }
    fields.push(("confirm_pii", "yes".to_owned()));
    let code = app
        .browser()
        .send_story(&crate::helpers::as_refs(&fields))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    moderator.approve(&public_id).await;
    let path = format!("/mod/stories/{public_id}");
    let flagged = moderator.get(&path).await;
    assert_eq!(flagged.status, 200, "{path}: {}", flagged.body);
    assert!(flagged.body.contains(phone), "flagged for the moderator");
    let published = app.get(&format!("/stories/{public_id}")).await;
    assert_eq!(
        published.status, 200,
        "the published story: {}",
        published.body
    );
    assert!(
        published.body.contains(phone),
        "the published story shows its rules before the redaction"
    );
    assert_eq!(
        results_within(&app.reader, phone, 1, Duration::from_secs(20))
            .await
            .len(),
        1,
        "the index holds the rules"
    );

    let edited = moderator
        .redact(
            &public_id,
            &[("rules", "連絡は平日の昼だけ"), ("note", "連絡先を削除")],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    assert!(
        results_within(&app.reader, phone, 0, Duration::from_secs(20))
            .await
            .is_empty(),
        "the index applied the redaction"
    );

    // Each page with the heading it shows (a story's page), or None for the lists and feeds,
    // which must list the redacted story.
    let mut pages: Vec<(String, Option<&str>)> = vec![
        (format!("/stories/{public_id}"), Some(title)),
        ("/".to_owned(), None),
        ("/stories".to_owned(), None),
        ("/feed.atom".to_owned(), None),
        ("/feed.xml".to_owned(), None),
        ("/stories/feed.atom".to_owned(), None),
        ("/stories/feed.xml".to_owned(), None),
        (
            format!("/search?q={}", crate::helpers::urlencode("昼")),
            None,
        ),
    ];
    pages.extend(seeded.iter().enumerate().map(|(i, t)| {
        (
            format!("/stories/{}", crate::helpers::public_id(i + 1)),
            Some(*t),
        )
    }));
    let mut cards = 0;
    for (page, heading) in &pages {
        let got = app.get(page).await;
        assert_eq!(got.status, 200, "{page}");
        if page.ends_with(".atom") || page.ends_with(".xml") {
            let root = if page.ends_with(".atom") {
                "<feed"
            } else {
                "<rss"
            };
            assert!(
                got.body.contains(root),
                "{page} is not a feed: {}",
                got.body
            );
            let feed = feed_rs::parser::parse(got.body.as_bytes())
                .unwrap_or_else(|e| panic!("{page} does not parse: {e}"));
            let titles: Vec<String> = feed
                .entries
                .iter()
                .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
                .collect();
            assert!(
                titles.iter().any(|t| t == title),
                "{page} does not list the redacted story: {titles:?}"
            );
        } else if let Some(heading) = heading {
            assert_eq!(got.text("h1"), *heading, "{page} is not that story's page");
        } else {
            assert!(
                got.card_titles().iter().any(|t| t == title),
                "{page} does not list the redacted story: {:?}",
                got.card_titles()
            );
        }
        cards += got.texts("section.related .card-title").len();
        for digits in ["4321-8765", "43218765", "４３２１"] {
            assert!(
                !got.body.contains(digits),
                "{page} still shows the phone number"
            );
        }
    }
    assert!(cards > 0, "related-story cards were on the pages checked");
    for (page, heading) in [(path.clone(), title), ("/mod/log".to_owned(), "操作ログ")] {
        let got = moderator.get(&page).await;
        assert_eq!(got.status, 200, "{page}");
        assert_eq!(got.text("h1"), heading, "{page} is not the page expected");
        assert!(
            !got.body.contains("4321-8765"),
            "{page} still shows the phone number"
        );
        if page == "/mod/log" {
            assert!(
                got.texts("table.log td a").contains(&public_id),
                "{page} does not list the redaction of {public_id}"
            );
        }
    }
}

/// The retention is the scheduler's: with a period of zero, a rejected story's text is erased at
/// its next round, with an audit row saying why, and the submitter still sees the decision.
#[tokio::test]
async fn the_scheduler_erases_a_rejected_story_when_its_retention_ends() {
    let app = crate::helpers::spawn_configured(TestDatabase::new(), false, |s| {
        s.rejected_retention = Duration::ZERO;
    })
    .await;
    let submitter = app.browser();
    let code = submitter
        .send_story(&crate::helpers::as_refs(&crate::helpers::story_fields(
            "見送られる話",
        )))
        .await;
    let public_id = app.story_by_code(&code).public_id;
    let moderator = app.moderator("sato").await;
    let path = format!("/mod/stories/{public_id}");
    let rejected = moderator
        .submit(
            &path,
            &format!("{path}/reject"),
            &[
                ("reason", "サイトの趣旨に合わない"),
                ("note", "趣旨が違うため"),
            ],
        )
        .await;
    assert_eq!(rejected.status, 303);
    let started = Instant::now();
    while !app.story_by_code(&code).body_markdown.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the text was not erased"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let story = app.story_by_code(&code);
    assert_eq!(story.status, engawa::domain::StoryStatus::Rejected);
    assert!(story.title.is_empty() && story.rules.is_empty() && story.pen_name.is_empty());
    let rows = app.audit_rows(&public_id);
    assert_eq!(rows[0].kind, "erase", "the newest audit row says why");
    assert!(
        rows.iter().all(|r| r.note.is_none()),
        "the moderator's note to the submitter went with the text"
    );
    let status = submitter
        .submit("/stories/status", "/stories/status", &[("code", &code)])
        .await;
    assert_eq!(status.status, 200);
    assert!(
        status.text("main").contains("不採用"),
        "{}",
        status.text("main")
    );
}
