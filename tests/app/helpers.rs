//! Starting the real server for a test: a fresh database (a SQLite file in a temp dir, or a new
//! PostgreSQL database when TEST_DATABASE_URL is set), port 0, and a client that keeps cookies
//! and does not follow redirects.

use std::collections::HashMap;
use std::process::Output;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use engawa::config::Settings;
use engawa::db::DbPool;
use engawa::startup::Application;
use scraper::{Html, Selector};
use serde_json::{Value, json};

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    /// The PostgreSQL server's admin URL and the database name, to drop it afterwards.
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// Whether this run of the suite targets PostgreSQL (the second pass of CI).
pub fn testing_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

impl TestDatabase {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            None => TestDatabase {
                url: dir
                    .path()
                    .join("engawa.sqlite3")
                    .to_string_lossy()
                    .into_owned(),
                postgres: None,
                _dir: dir,
            },
            Some(admin_url) => {
                let name = format!("engawa_test_{}", random_suffix());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = replace_database(&admin_url, &name);
                TestDatabase {
                    url,
                    postgres: Some((admin_url, name)),
                    _dir: dir,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            // A leftover database only costs disk; a failed drop must not fail the test.
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| (b'a' + rng.random_range(0..26)) as char)
        .collect()
}

/// The admin URL with its database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    match base[after_scheme..].find('/') {
        Some(slash) => format!("{}/{name}{query}", &base[..after_scheme + slash]),
        None => format!("{base}/{name}{query}"),
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub db: TestDatabase,
}

/// A fetched page: status, body, and the body parsed for selectors.
pub struct Page {
    pub status: u16,
    pub body: String,
}

impl Page {
    /// The trimmed text of every element matching `selector`.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let doc = Html::parse_document(&self.body);
        let sel = Selector::parse(selector).expect("valid selector");
        doc.select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {selector:?} in:\n{}", self.body))
    }

    pub fn attr(&self, selector: &str, attribute: &str) -> Option<String> {
        let doc = Html::parse_document(&self.body);
        let sel = Selector::parse(selector).expect("valid selector");
        doc.select(&sel)
            .next()
            .and_then(|e| e.value().attr(attribute).map(str::to_owned))
    }

    /// Titles of the story and guide cards on the page.
    pub fn card_titles(&self) -> Vec<String> {
        self.texts(".card-title")
    }
}

pub fn settings_for(db: &TestDatabase) -> Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        ("ENGAWA_BIND", "127.0.0.1:0".to_owned()),
        (
            "ENGAWA_DATA_DIR",
            db.data_dir().to_string_lossy().into_owned(),
        ),
        ("DATABASE_URL", db.url.clone()),
        // An explicit empty config so that a developer's engawa.toml never leaks into tests.
        ("ENGAWA_CONFIG", "/dev/null".to_owned()),
    ]);
    Settings::load(|k| vars.get(k).cloned()).expect("test settings")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestDatabase::new(), false).await
}

pub async fn spawn_app_with(db: TestDatabase, demo: bool) -> TestApp {
    let app = Application::build(settings_for(&db), demo).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    tokio::spawn(app.run());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        pool,
        db,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        Page { status, body }
    }

    /// Imports JSON Lines records through the same code as `engawa import`.
    pub fn seed(&self, records: &[Value]) {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        let mut conn = self.pool.get().expect("connection");
        engawa::import::import_str(&mut conn, &text).expect("seed imports");
    }

    /// Runs the `engawa` binary against this test's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.db.url, self.db.data_dir(), args)
    }
}

pub fn run_cli(database_url: &str, data_dir: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_engawa"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ENGAWA_DATA_DIR", data_dir)
        .env("ENGAWA_CONFIG", "/dev/null")
        .env("NO_COLOR", "1")
        .output()
        .expect("engawa runs")
}

/// A story body long enough to be valid, mentioning `marker` so tests can find it.
pub fn story_body(marker: &str) -> String {
    format!(
        "{marker}についての体験談です。お互いに家庭があることを最初から話し、家族の予定を何より優先することを約束しました。連絡は平日の昼だけにしています。"
    )
}

pub fn story(public_id: &str, title: &str, status: &str) -> Value {
    json!({
        "type": "story",
        "public_id": public_id,
        "title": title,
        "body": story_body(title),
        "length_months": 40,
        "how_met": "hobby",
        "continuing": true,
        "rules": ["連絡は平日の昼だけ"],
        "tags": ["ルール"],
        "status": status,
    })
}

pub fn guide(slug: &str, title: &str, status: &str) -> Value {
    json!({
        "type": "guide",
        "slug": slug,
        "title": title,
        "summary": format!("{title}の概要"),
        "body": format!("## はじめに\n\n{title}の本文です。\n\n## つづき\n\nさらに本文。"),
        "status": status,
        "tags": ["ルール"],
    })
}

/// Sets a field of a JSON record.
pub fn with(mut record: Value, key: &str, value: Value) -> Value {
    record[key] = value;
    record
}

/// The `n`th of a series of valid, distinct public ids.
pub fn public_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut id = vec![b'2'; 12];
    let mut rest = n;
    for slot in id.iter_mut().rev() {
        *slot = ALPHABET[rest % ALPHABET.len()];
        rest /= ALPHABET.len();
    }
    String::from_utf8(id).expect("ascii")
}
