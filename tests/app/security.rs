//! Response headers and cookies: the policy holds on every kind of answer.

use reqwest::header::HeaderMap;

use crate::helpers::{
    TestDatabase, as_refs, client_by_hand, cookie_value, login_by_hand, spawn_app_with,
    spawn_configured, story_fields,
};
use crate::process::ServerProcess;

/// The headers every answer carries, written out as an operator would read them in a response,
/// independently of the source's constant so that a change to either shows here.
const POLICY: &str = "\
content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'
x-content-type-options: nosniff
referrer-policy: no-referrer
x-frame-options: DENY
cross-origin-opener-policy: same-origin
cross-origin-resource-policy: same-origin
permissions-policy: camera=(), microphone=(), geolocation=(), interest-cohort=()";

pub fn assert_policy(what: &str, headers: &HeaderMap, https: bool) {
    for line in POLICY.lines() {
        let (name, value) = line.split_once(": ").expect("each line is `name: value`");
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
    let hsts = headers
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok());
    if https {
        assert_eq!(hsts, Some("max-age=63072000; includeSubDomains"), "{what}");
    } else {
        assert_eq!(hsts, None, "{what}: HSTS only over HTTPS");
    }
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = spawn_app_with(TestDatabase::new(), true).await;
    let story = app
        .get("/stories")
        .await
        .attr(".card-title a", "href")
        .expect("a story");
    let tag = app
        .get(&story)
        .await
        .attr("a[href^='/tags/']", "href")
        .expect("a tag");
    let stylesheet = app
        .get("/")
        .await
        .attr("link[rel=stylesheet]", "href")
        .unwrap();
    let reader_pages = [
        "/",
        "/guides",
        "/guides/before-you-begin",
        "/stories",
        story.as_str(),
        &format!("{story}/report"),
        tag.as_str(),
        "/search?q=%E5%AE%B6%E6%97%8F",
        "/feed.atom",
        "/stories/feed.xml",
        "/sitemap.xml",
        "/robots.txt",
        stylesheet.as_str(),
        "/transparency",
        "/subscribe",
        "/stories/new",
        "/stories/status",
        "/stories/receipt",
        "/mod/login",
        "/healthz",
        "/readyz",
        "/metrics",
        "/no-such-page",
        "/stories?page=abc",
        "/mod",
    ];
    for path in reader_pages {
        let page = app.get(path).await;
        assert_policy(
            &format!("GET {path} ({})", page.status),
            &page.headers,
            false,
        );
    }

    // A cached page's 304 and a HEAD answer.
    let etag = app.get("/").await.headers["etag"].clone();
    let not_modified = app
        .client
        .get(format!("{}/", app.address))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_policy("304", not_modified.headers(), false);
    let head = app
        .client
        .head(format!("{}/stories", app.address))
        .send()
        .await
        .unwrap();
    assert_policy("HEAD /stories", head.headers(), false);

    // Writes: refused without a token, refused with errors, accepted.
    let forged = app.browser().post("/stories/new", &[("title", "x")]).await;
    assert_eq!(forged.status, 403);
    assert_policy("forged POST", &forged.headers, false);
    let invalid = app
        .browser()
        .submit("/stories/new", "/stories/new", &[("title", "")])
        .await;
    assert_eq!(invalid.status, 422);
    assert_policy("invalid POST", &invalid.headers, false);
    let moderator = app.moderator("sato").await;
    for path in ["/mod", "/mod/log"] {
        let page = moderator.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_policy(path, &page.headers, false);
    }
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The cookie the response sets under `name`, checked to carry every attribute and no Domain.
fn cookie_set(headers: &HeaderMap, name: &str, attributes: &[&str]) -> String {
    let cookie = set_cookies(headers)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", set_cookies(headers)));
    let parts: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for a in attributes {
        assert!(
            parts.iter().any(|p| p.eq_ignore_ascii_case(a)),
            "{cookie} lacks {a}"
        );
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    cookie
}

const SITE_WIDE: [&str; 4] = ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"];

/// Over HTTPS (behind the TLS proxy, as `base_url` says), every cookie is Secure, HttpOnly,
/// SameSite=Strict and prefixed; the browser is told to stay on HTTPS.
#[tokio::test]
async fn over_https_cookies_are_secure_and_prefixed_and_hsts_is_sent() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.base_url = "https://engawa.example".to_owned();
    })
    .await;
    // A client without a cookie store: the test plays the browser by hand, since a real one
    // would not send Secure cookies over the test's plain HTTP.
    let client = client_by_hand();
    let form = client
        .get(format!("{}/mod/login", app.address))
        .send()
        .await
        .unwrap();
    assert_policy("login page over https", form.headers(), true);
    cookie_set(form.headers(), "__Host-engawa_csrf", &SITE_WIDE);
    let csrf_id = cookie_value(form.headers(), "__Host-engawa_csrf").unwrap();
    let token = crate::helpers::Page::parse(form.text().await.unwrap()).csrf();

    let password = app.add_staff("sato@example.jp", "sato", engawa::domain::Role::Moderator);
    let login = login_by_hand(
        &client,
        &app.address,
        &format!("__Host-engawa_csrf={csrf_id}"),
        ("sato@example.jp", &password, &token),
    )
    .await;
    assert_eq!(login.status(), 303);
    assert_policy("login over https", login.headers(), true);
    cookie_set(login.headers(), "__Host-engawa_session", &SITE_WIDE);

    // The receipt cookie is scoped to its page, so it takes the __Secure- prefix.
    let new_form = client
        .get(format!("{}/stories/new", app.address))
        .header("cookie", format!("__Host-engawa_csrf={csrf_id}"))
        .send()
        .await
        .unwrap();
    let token = crate::helpers::Page::parse(new_form.text().await.unwrap()).csrf();
    let fields = story_fields("安全な話");
    let mut fields = as_refs(&fields);
    fields.push(("csrf_token", &token));
    let sent = client
        .post(format!("{}/stories/new", app.address))
        .header("cookie", format!("__Host-engawa_csrf={csrf_id}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    cookie_set(
        sent.headers(),
        "__Secure-engawa_receipt",
        &[
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/stories/receipt",
        ],
    );
}

/// A handler that panics (forced by the `fault_injection` setting) gives the ordinary 500 page
/// and a log line, never a dropped connection, and the server goes on serving.
#[tokio::test]
async fn a_panic_in_a_handler_is_a_500_page_and_a_log_line() {
    let db = TestDatabase::new();
    let server = ServerProcess::start(&db, &["serve"], &[("ENGAWA_FAULT_INJECTION", "true")]);
    let client = reqwest::Client::new();
    // More panics than the server has workers: none of them may take a worker down.
    for _ in 0..6 {
        let res = client
            .get(format!("{}/__fault/panic", server.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("dropped: {e}\n{}", server.log()));
        assert_eq!(res.status(), 500);
        assert_policy("500 after a panic", res.headers(), false);
        let body = res.text().await.unwrap();
        assert!(body.contains("ただいま表示できません"), "{body}");
        assert!(!body.contains("forced fault"), "the cause stays in the log");
    }
    for _ in 0..10 {
        let res = client
            .get(format!("{}/stories", server.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let log = server.log();
    assert!(
        log.contains("handler panicked on /__fault/panic"),
        "no log line for the panic:\n{log}"
    );

    // Without the setting the route does not exist.
    let plain_db = TestDatabase::new();
    let plain = ServerProcess::start(&plain_db, &["serve"], &[]);
    let res = client
        .get(format!("{}/__fault/panic", plain.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
