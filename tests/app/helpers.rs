//! Starting the real server for a test: a fresh database (a SQLite file in a temp dir, or a new
//! PostgreSQL database when TEST_DATABASE_URL is set), port 0, and a client that keeps cookies
//! and does not follow redirects.

use std::collections::HashMap;
use std::process::Output;
use std::time::{Duration, Instant};

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

    /// The PostgreSQL server's admin URL and this test's database name.
    pub fn postgres(&self) -> Option<(&str, &str)> {
        self.postgres
            .as_ref()
            .map(|(a, n)| (a.as_str(), n.as_str()))
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
    /// A reader's browser: keeps its cookies between requests.
    pub reader: Browser,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub db: TestDatabase,
    pub settings: Settings,
}

/// A fetched page: status, where it redirects, headers and body.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
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

    /// The `attribute` of every element matching `selector` that has it.
    pub fn attrs(&self, selector: &str, attribute: &str) -> Vec<String> {
        let doc = Html::parse_document(&self.body);
        let sel = Selector::parse(selector).expect("valid selector");
        doc.select(&sel)
            .filter_map(|e| e.value().attr(attribute).map(str::to_owned))
            .collect()
    }

    /// Titles of the story and guide cards on the page.
    pub fn card_titles(&self) -> Vec<String> {
        self.texts(".card-title")
    }

    /// The CSRF token of the page's first form.
    /// What the form posting to `action` would send as shown: its inputs (radio buttons and
    /// checkboxes only when checked) and textareas, by name.
    pub fn form_fields(&self, action: &str) -> Vec<(String, String)> {
        let doc = Html::parse_document(&self.body);
        let form = Selector::parse(&format!("form[action=\"{action}\"]")).expect("selector");
        let controls = Selector::parse("input[name], textarea[name]").expect("selector");
        let form = doc
            .select(&form)
            .next()
            .unwrap_or_else(|| panic!("no form posting to {action}:\n{}", self.body));
        form.select(&controls)
            .filter(|c| {
                let kind = c.value().attr("type").unwrap_or_default();
                !matches!(kind, "radio" | "checkbox") || c.value().attr("checked").is_some()
            })
            .map(|c| {
                let name = c.value().attr("name").unwrap_or_default().to_owned();
                let value = if c.value().name() == "textarea" {
                    c.text().collect::<String>()
                } else {
                    c.value().attr("value").unwrap_or_default().to_owned()
                };
                (name, value)
            })
            .collect()
    }

    pub fn csrf(&self) -> String {
        self.attr("input[name=csrf_token]", "value")
            .unwrap_or_else(|| panic!("no CSRF token in:\n{}", self.body))
    }

    /// A page's HTML fetched some other way, to query it with the methods above.
    pub fn parse(body: String) -> Page {
        Page {
            status: 200,
            location: None,
            headers: reqwest::header::HeaderMap::new(),
            body,
        }
    }
}

/// One visitor: its own cookies, no redirects followed.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub address: String,
}

impl Browser {
    pub fn new(address: &str) -> Self {
        Self::from_source(address, None)
    }

    /// A visitor whose connections come from `source` (a loopback address).
    pub fn from_source(address: &str, source: Option<std::net::IpAddr>) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .local_address(source)
            // Well under the server's keep-alive (5 s): a connection the server is closing is
            // never reused (reqwest, unlike a browser, does not retry such a request).
            .pool_idle_timeout(POOL_IDLE)
            .build()
            .expect("client");
        Browser {
            client,
            address: address.to_owned(),
        }
    }

    async fn page(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.expect("body");
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request");
        Self::page(response).await
    }

    /// A page that must answer 200; the body is in the message when it does not.
    pub async fn shown(&self, path: &str) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        page
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{}", self.address, path))
            .form(fields)
            .send()
            .await
            .expect("request");
        Self::page(response).await
    }

    /// Posts a form the way a browser does after loading `form_page`: with its CSRF token.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_page).await.csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all).await
    }

    /// Posts the guide editor's form as loaded from `form_page`: with its token and the
    /// version the editor started from.
    pub async fn submit_guide(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        let form = self.get(form_page).await;
        assert_eq!(form.status, 200, "{form_page}: {}", form.body);
        let token = form.csrf();
        let version = form
            .attr("input[name=version]", "value")
            .unwrap_or_default();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        all.push(("version", &version));
        self.post(action, &all).await
    }

    /// Asks for every digest at `email` through the subscription form.
    pub async fn subscribe(&self, email: &str) -> Page {
        self.submit(
            "/subscribe",
            "/subscribe",
            &[("email", email), ("guides", "yes"), ("stories", "yes")],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        let page = self
            .submit(
                "/mod/login",
                "/mod/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(page.status, 303, "login failed: {}", page.body);
        page
    }

    /// Withdraws the story with receipt `code`, as its submitter does from the status page.
    pub async fn withdraw(&self, code: &str) -> Page {
        let page = self
            .submit(
                "/stories/status",
                "/stories/status/withdraw",
                &[("code", code), ("confirm", "yes")],
            )
            .await;
        assert_eq!(page.status, 303, "withdrawal refused: {}", page.body);
        page
    }

    /// Approves a story from its moderation page, as a signed-in moderator.
    pub async fn approve(&self, public_id: &str) -> Page {
        let page = self
            .submit(
                &format!("/mod/stories/{public_id}"),
                &format!("/mod/stories/{public_id}/approve"),
                &[],
            )
            .await;
        assert_eq!(page.status, 303, "approval refused: {}", page.body);
        page
    }

    /// Asks the submitter for changes from the story's moderation page, as a signed-in moderator.
    pub async fn request_changes(&self, public_id: &str, message: &str) -> Page {
        let panel = format!("/mod/stories/{public_id}");
        let page = self
            .submit(
                &panel,
                &format!("{panel}/request-changes"),
                &[("message", message)],
            )
            .await;
        assert_eq!(page.status, 303, "change request refused: {}", page.body);
        page
    }

    /// The submitter's status page, as shown after typing the receipt code.
    pub async fn status_page(&self, code: &str) -> Page {
        let page = self
            .submit("/stories/status", "/stories/status", &[("code", code)])
            .await;
        assert_eq!(
            page.status, 200,
            "status page for a known code: {}",
            page.body
        );
        page
    }

    /// Redacts a story as a moderator does in the panel: the edit form as loaded (every field
    /// the submitter wrote), with `changes` typed over it.
    pub async fn redact(&self, public_id: &str, changes: &[(&str, &str)]) -> Page {
        let path = format!("/mod/stories/{public_id}");
        let page = self.get(&path).await;
        self.post_form(&page, &format!("{path}/edit"), changes)
            .await
    }

    /// Posts the form of `page` whose action is `action` as a browser would, every control as
    /// shown, with `changes` typed over it.
    pub async fn post_form(&self, page: &Page, action: &str, changes: &[(&str, &str)]) -> Page {
        let mut fields = page.form_fields(action);
        for (name, value) in changes {
            match fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) => field.1 = (*value).to_owned(),
                None => fields.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(action, &refs).await
    }

    /// Sends a story through the public form and returns its receipt code.
    pub async fn send_story(&self, fields: &[(&str, &str)]) -> String {
        let page = self.submit("/stories/new", "/stories/new", fields).await;
        assert_eq!(page.status, 303, "submission refused: {}", page.body);
        assert_eq!(page.location.as_deref(), Some("/stories/receipt"));
        let receipt = self.get("/stories/receipt").await;
        receipt.text("#receipt-code")
    }
}

/// The fields of a valid submission, with `title`.
pub fn story_fields(title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_owned()),
        ("body", story_body(title)),
        ("pen_name", "みどり".to_owned()),
        ("length_years", "4".to_owned()),
        ("length_months", "2".to_owned()),
        ("how_met", "hobby".to_owned()),
        ("continuing", "yes".to_owned()),
        ("rules", "連絡は平日の昼だけ\n家族の予定を優先".to_owned()),
        ("tags", "読書、ルール".to_owned()),
        ("email", String::new()),
    ]
}

pub fn as_refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
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
        // Test clients post the moment a form is served; the wait has a test of its own.
        ("ENGAWA_MIN_FILL_SECONDS", "0".to_owned()),
        ("ENGAWA_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
    ]);
    Settings::load(|k| vars.get(k).cloned()).expect("test settings")
}

/// The bearer token every test server accepts on /metrics.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// How many passes the background loop `worker` ("mail", "scheduler", "erasure") of the server
/// at `address` has finished, as /metrics reports them.
pub async fn worker_passes(address: &str, worker: &str) -> u64 {
    worker_passes_with(address, METRICS_TOKEN, worker).await
}

/// The same, from a server with its own metrics token.
pub async fn worker_passes_with(address: &str, token: &str, worker: &str) -> u64 {
    let res = client_by_hand()
        .get(format!("{address}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("metrics request");
    assert_eq!(res.status(), 200, "/metrics");
    let text = res.text().await.expect("metrics body");
    let prefix = format!("engawa_worker_passes_total{{worker=\"{worker}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no passes of {worker} in {text}"))
}

/// Returns once `worker` has finished a whole pass that began after this call, so whatever that
/// loop would do about the state before the call is done: how a test shows that something did
/// *not* happen, without sleeping. Panics after a minute.
pub async fn worker_passed(address: &str, worker: &str) {
    // The pass running now may have begun before the call; the next one did not.
    let wanted = worker_passes(address, worker).await + 2;
    let started = Instant::now();
    while worker_passes(address, worker).await < wanted {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{worker} finished no pass in a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Returns once the scheduler, and after it the mail worker, have each finished a pass that
/// began after this call: every mail the state before the call would cause has been sent.
pub async fn background_work_done(address: &str) {
    worker_passed(address, "scheduler").await;
    worker_passed(address, "mail").await;
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestDatabase::new(), false).await
}

pub async fn spawn_app_with(db: TestDatabase, demo: bool) -> TestApp {
    spawn_configured(db, demo, |_| {}).await
}

/// Starts the app with settings changed by `adjust`.
pub async fn spawn_configured(
    db: TestDatabase,
    demo: bool,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = settings_for(&db);
    adjust(&mut settings);
    let app = Application::build(settings.clone(), demo).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    tokio::spawn(app.run());
    let reader = Browser::new(&address);
    TestApp {
        client: reader.client.clone(),
        reader,
        address,
        pool,
        db,
        settings,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Page {
        self.reader.get(path).await
    }

    pub async fn shown(&self, path: &str) -> Page {
        self.reader.shown(path).await
    }

    /// Waits, as a load balancer would, until the node says it is ready (its search index built
    /// in the background); panics if it never does.
    pub async fn wait_until_ready(&self) {
        let ready = format!("{}/readyz", self.address);
        let status = wait_for_status(&client_by_hand(), &ready, 200, Duration::from_secs(60)).await;
        assert_eq!(status, 200, "/readyz never answered 200");
    }

    /// A new visitor with no cookies.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Imports JSON Lines records through the same code as `engawa import`.
    pub fn seed(&self, records: &[Value]) {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        let mut conn = self.pool.get().expect("connection");
        engawa::import::import_str(&mut conn, &text).expect("seed imports");
    }

    /// Creates a staff account and returns its password.
    pub fn add_staff(&self, email: &str, name: &str, role: engawa::domain::Role) -> String {
        let password = format!("{name}-password-long");
        let hash = engawa::passwords::hash(&password).expect("hash");
        let mut conn = self.pool.get().expect("connection");
        let email = engawa::domain::Email::parse(email).expect("email");
        engawa::models::user::User::create(
            &mut conn,
            &email,
            name,
            role,
            &hash,
            engawa::models::now(),
        )
        .expect("staff account");
        password
    }

    /// A browser signed in as a new moderator called `name`.
    pub async fn moderator(&self, name: &str) -> Browser {
        self.signed_in(name, engawa::domain::Role::Moderator).await
    }

    /// A browser signed in as a new staff member called `name` with `role`.
    pub async fn signed_in(&self, name: &str, role: engawa::domain::Role) -> Browser {
        let email = format!("{name}@engawa.test");
        let password = self.add_staff(&email, name, role);
        let browser = self.browser();
        browser.login(&email, &password).await;
        browser
    }

    pub fn conn(&self) -> engawa::db::PooledConn {
        self.pool.get().expect("connection")
    }

    /// The story a receipt code belongs to, as stored.
    pub fn story_by_code(&self, code: &str) -> engawa::models::story::Story {
        story_by_code_in(&self.db, code)
    }

    /// The id of the guide with `slug`.
    pub fn guide_id(&self, slug: &str) -> i32 {
        use diesel::prelude::*;
        use engawa::db::schema::guides;
        guides::table
            .filter(guides::slug.eq(slug))
            .select(guides::id)
            .first(&mut self.conn())
            .expect("a guide with that slug")
    }

    /// How many audit rows name the story.
    pub fn audit_rows(&self, public_id: &str) -> Vec<engawa::models::mod_action::ModAction> {
        let filter = engawa::models::mod_action::LogFilter {
            story_public_id: Some(public_id.to_owned()),
            ..Default::default()
        };
        engawa::models::mod_action::ModAction::list(&mut self.conn(), &filter, 1000, 0)
            .expect("log")
            .0
    }

    /// Runs the `engawa` binary against this test's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.db.url, self.db.data_dir(), args)
    }
}

/// The story a receipt code belongs to, read from `db` directly (for a server in its own
/// process as well).
pub fn story_by_code_in(db: &TestDatabase, code: &str) -> engawa::models::story::Story {
    let mut conn = engawa::db::establish(&db.url).expect("connect");
    let code = engawa::domain::ReceiptCode::parse(code).expect("code");
    engawa::models::story::Story::find_by_receipt(&mut conn, &code)
        .expect("query")
        .expect("a story with that code")
}

/// The standard output of an `engawa` command that must have succeeded saying `expected`.
pub fn succeeded_saying(out: &Output, expected: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(expected), "{stdout}");
    stdout
}

/// Creates a staff account with `engawa user add`, the password given on standard input.
pub fn add_user(db: &TestDatabase, email: &str, role: &str, password: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engawa"))
        .args(["user", "add", "--email", email, "--role", role])
        .env("DATABASE_URL", &db.url)
        .env("ENGAWA_DATA_DIR", db.data_dir())
        .env("ENGAWA_CONFIG", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("engawa runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password written");
    assert!(child.wait().expect("engawa exits").success());
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

/// Titles of the results for `q`, waiting (up to `limit`) for the index to show `expected` results.
pub async fn results_within(
    reader: &Browser,
    q: &str,
    expected: usize,
    limit: Duration,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let page = reader.get(&format!("/search?q={}", urlencode(q))).await;
        if page.status == 200 {
            let titles = page.texts("ol.results .card-title");
            if titles.len() == expected {
                return titles;
            }
            assert!(
                started.elapsed() <= limit,
                "search for {q:?} still finds {titles:?} after {limit:?}, not {expected} result(s)"
            );
        } else {
            assert!(
                started.elapsed() <= limit,
                "search still answers {} after {limit:?}",
                page.status
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The list at `path` answers 200, shows no card and says it is empty (its `.empty` notice), so
/// an error page can never pass for an empty list.
/// The public guide list is the real one and lists nothing (after an import that was refused).
pub async fn assert_no_guides(app: &TestApp) {
    let guides = app.get("/guides").await;
    assert_eq!(guides.status, 200, "/guides: {}", guides.body);
    assert_eq!(guides.text("h1"), "ガイド", "/guides is not the guide list");
    assert_eq!(
        guides.text("p.empty"),
        "まだガイドはありません。",
        "/guides does not say it has no guides"
    );
    assert!(
        guides.card_titles().is_empty(),
        "/guides lists guides of a refused import: {:?}",
        guides.card_titles()
    );
}

pub async fn assert_empty_list(reader: &Browser, path: &str) {
    let page = reader.get(path).await;
    assert_eq!(page.status, 200, "{path}");
    assert_eq!(page.card_titles(), Vec::<String>::new(), "{path}");
    assert!(
        !page.texts(".empty").is_empty(),
        "{path} does not say it is empty"
    );
}

/// The search results for `q` right now (the page must answer 200).
pub async fn search_now(reader: &Browser, q: &str) -> Vec<String> {
    let page = reader.get(&format!("/search?q={}", urlencode(q))).await;
    assert_eq!(page.status, 200, "search for {q:?}: {}", page.body);
    page.texts("ol.results .card-title")
}

pub fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A client that keeps no cookies and follows no redirects, for tests that set and read cookies
/// by hand (a real browser would not send Secure cookies over the tests' plain HTTP).
/// Every site-wide feed, in both formats.
pub const SITE_FEEDS: [&str; 6] = [
    "/feed.atom",
    "/feed.xml",
    "/stories/feed.atom",
    "/stories/feed.xml",
    "/guides/feed.atom",
    "/guides/feed.xml",
];

/// The body of the answer to `request`, whatever its status.
pub async fn body_of(request: reqwest::RequestBuilder) -> String {
    request
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

pub fn client_by_hand() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .expect("client")
}

/// How long test clients keep an idle connection (see `Browser::from_source`).
const POOL_IDLE: Duration = Duration::from_secs(2);

/// A form page fetched by a client without a cookie jar: the CSRF cookie it sets (plain `http`
/// name) and the token in its form.
pub async fn form_by_hand(client: &reqwest::Client, url: &str) -> (String, String) {
    let form = client.get(url).send().await.expect("form request");
    let cookie = cookie_value(form.headers(), "engawa_csrf").expect("a CSRF cookie");
    let token = Page::parse(form.text().await.expect("form body")).csrf();
    (cookie, token)
}

/// The value the response sets for cookie `name`.
pub fn cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

/// Posts the staff login form by hand with the given Cookie header.
pub async fn login_by_hand(
    client: &reqwest::Client,
    address: &str,
    cookie: &str,
    (email, password, token): (&str, &str, &str),
) -> reqwest::Response {
    client
        .post(format!("{address}/mod/login"))
        .header("cookie", cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", token),
        ])
        .send()
        .await
        .expect("login request")
}

/// Polls `url` until it answers `status` or `limit` passes; returns the last status (0 when the
/// request itself failed).
pub async fn wait_for_status(
    client: &reqwest::Client,
    url: &str,
    status: u16,
    limit: Duration,
) -> u16 {
    let started = Instant::now();
    loop {
        let got = client
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if got == status || started.elapsed() > limit {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(diesel::QueryableByName)]
struct Dump {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    dump: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Everything the database holds, as text: on PostgreSQL every table of the schema, found in
/// the catalog (so a table added later is read too); on SQLite the files themselves.
pub fn database_text(db: &TestDatabase) -> String {
    use diesel::RunQueryDsl;
    if db.is_postgres() {
        let mut conn = engawa::db::establish(&db.url).unwrap();
        let tables: Vec<TableName> = diesel::sql_query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
        )
        .load(&mut conn)
        .unwrap();
        assert!(tables.len() >= 18, "{} tables", tables.len());
        tables
            .iter()
            .map(|t| t.name.as_str())
            .map(|t| {
                let sql =
                    format!("SELECT string_agg(row_to_json(t)::text, ' ') AS dump FROM {t} t");
                let rows: Vec<Dump> = diesel::sql_query(sql).load(&mut conn).unwrap();
                rows.into_iter().filter_map(|r| r.dump).collect::<String>()
            })
            .collect()
    } else {
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::read(format!("{}{suffix}", db.url)).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .collect()
    }
}
