//! Limits that keep one client from taking the node: body sizes, slow bodies, oversized heads,
//! searches per minute. Each answers with a Japanese page and loses nothing already saved.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::Duration;

use crate::helpers::{
    Browser, Page, TestApp, TestDatabase, as_refs, client_by_hand, form_by_hand, public_id,
    results_within, spawn_app_with, spawn_configured, story, story_fields, urlencode,
};
use crate::security::assert_policy;

fn stories_titled(app: &TestApp, title: &str) -> i64 {
    use diesel::prelude::*;
    use engawa::db::schema::stories;
    stories::table
        .filter(stories::title.eq(title))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

/// The 413 page, in Japanese, with the usual headers.
pub fn assert_too_large(page: &Page) {
    assert_eq!(page.status, 413);
    assert!(
        page.body.contains("送信された内容が大きすぎます"),
        "{}",
        page.body
    );
    assert_policy("413", &page.headers, false);
}

/// The longest story the form allows goes through; a body beyond any story's size gets the 413
/// page in Japanese, and nothing is stored.
#[tokio::test]
async fn the_longest_story_is_accepted_and_an_oversized_form_gets_413() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    let mut fields = story_fields("とても長い話");
    fields[1].1 = "話".repeat(20_000);
    let code = app.browser().send_story(&as_refs(&fields)).await;
    assert_eq!(
        app.story_by_code(&code).body_markdown.chars().count(),
        20_000
    );

    fields[0].1 = "大きすぎる話".to_owned();
    fields[1].1 = "話".repeat(200_000);
    let refused = app
        .browser()
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_too_large(&refused);
    assert_eq!(stories_titled(&app, "大きすぎる話"), 0);
}

/// Sends `head` and the first half of `body` at once, then the rest a byte every 200 ms, until
/// the server answers; returns the answer (the server closes the connection after it).
fn trickle(address: &str, head: String, body: Vec<u8>) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    let mut reader = stream.try_clone().unwrap();
    let answer = std::thread::spawn(move || {
        let mut answer = Vec::new();
        // The read ends when the server closes; a timeout here means it never answered.
        reader.read_to_end(&mut answer).expect("an answer in time");
        String::from_utf8_lossy(&answer).into_owned()
    });
    for byte in &body[half..] {
        if answer.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
    }
    answer.join().unwrap()
}

/// A submission whose body arrives a byte at a time is cut off at the deadline with a 408 page,
/// stores nothing, and the node keeps serving everyone else.
#[tokio::test]
async fn a_body_trickled_past_the_deadline_gets_408_and_stores_nothing() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.body_timeout = Duration::from_secs(1);
    })
    .await;
    let (cookie, token) =
        form_by_hand(&client_by_hand(), &format!("{}/stories/new", app.address)).await;
    let mut fields = story_fields("ゆっくり届く話");
    fields.push(("csrf_token", token));
    let body = serde_urlencoded::to_string(&fields).unwrap().into_bytes();
    let head = format!(
        "POST /stories/new HTTP/1.1\r\nHost: {host}\r\nCookie: engawa_csrf={cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n",
        host = app.address.trim_start_matches("http://"),
        len = body.len(),
    );
    let address = app.address.clone();
    let answer = tokio::task::spawn_blocking(move || trickle(&address, head, body))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("送信に時間がかかりすぎました"), "{answer}");
    assert!(answer.contains("content-security-policy"), "{answer}");
    assert_eq!(stories_titled(&app, "ゆっくり届く話"), 0);

    // The same form sent at a normal pace is stored.
    let code = app
        .browser()
        .send_story(&as_refs(&story_fields("ゆっくり届く話")))
        .await;
    assert_eq!(app.story_by_code(&code).title, "ゆっくり届く話");
}

/// A huge cookie or a huge address is refused with its Japanese page before any handler runs;
/// a long but ordinary search address still works, its words cut to what the search uses.
#[tokio::test]
async fn oversized_heads_are_refused_and_long_queries_are_cut() {
    let app = spawn_app_with(TestDatabase::new(), false).await;
    let client = client_by_hand();
    for (what, request, status, heading) in [
        (
            "cookie",
            client
                .get(format!("{}/", app.address))
                .header("cookie", format!("x={}", "a".repeat(40 * 1024))),
            431,
            "リクエストが大きすぎます",
        ),
        (
            "address",
            client.get(format!("{}/search?q={}", app.address, "a".repeat(9 * 1024))),
            414,
            "アドレスが長すぎます",
        ),
    ] {
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), status, "{what}");
        assert_policy(what, res.headers(), false);
        let page = Page::parse(res.text().await.unwrap());
        assert_eq!(page.text("h1"), heading, "{what}");
    }

    // The search index of a new node is built in the background; wait as a load balancer would.
    app.wait_until_ready().await;
    let words = urlencode(&"家族の予定 ".repeat(120));
    assert!(words.len() > 4 * 1024 && words.len() < 8 * 1024);
    let page = app.get(&format!("/search?q={words}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let shown = page.attr("input[name=q]", "value").unwrap_or_default();
    assert_eq!(
        shown.chars().count(),
        100,
        "the query is cut to 100 characters"
    );
    assert_eq!(app.get("/").await.status, 200, "the node serves on");
}

/// Each client may run a number of searches a minute; past it a 429 page in Japanese. Results
/// already on a page (cached) stay available, and other clients are not affected.
#[tokio::test]
async fn searches_are_limited_per_client() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.searches_per_minute = 5;
    })
    .await;
    app.seed(&[story(&public_id(1), "家族の予定を守る話", "approved")]);
    // Waiting for the index counts against the waiting client only.
    results_within(&app.reader, "家族の予定", 1, Duration::from_secs(20)).await;

    let source = |n| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)));
    let reader = Browser::from_source(&app.address, source(3));
    // (家族の予定 was searched while waiting: its page is cached and costs nothing.)
    assert_eq!(
        reader
            .get(&format!("/search?q={}", urlencode("家族の予定")))
            .await
            .status,
        200
    );
    for word in ["家族", "予定", "守る", "話", "ふたり"] {
        let page = reader.get(&format!("/search?q={}", urlencode(word))).await;
        assert_eq!(page.status, 200, "{word}");
    }
    let refused = reader
        .get(&format!("/search?q={}", urlencode("ルール")))
        .await;
    assert_eq!(refused.status, 429);
    assert!(
        refused.text("main").contains("短い時間に多くの検索"),
        "{}",
        refused.body
    );
    let again = reader
        .get(&format!("/search?q={}", urlencode("家族")))
        .await;
    assert_eq!(again.status, 200, "a page already searched is served");
    assert_eq!(reader.get("/search").await.status, 200, "the empty form");

    let other = Browser::from_source(&app.address, source(4));
    let page = other
        .get(&format!("/search?q={}", urlencode("ルール")))
        .await;
    assert_eq!(page.status, 200, "another client searches on");
}

/// Many distinct phone numbers, e-mail addresses and handles: every one a finding.
fn findings_text(chars: usize) -> String {
    let mut text = String::new();
    let mut i = 0u64;
    while text.chars().count() < chars {
        text += &match i % 3 {
            0 => format!("090-{:04}-{:04} ", i / 10_000 % 10_000, i % 10_000),
            1 => format!("a{i}@example.jp "),
            _ => format!("@user{i} "),
        };
        i += 1;
    }
    text.chars().take(chars).collect()
}

/// The worst personal-information input the form can carry: a body filling the 512 KB form with
/// findings gets its 422 (the length message), the longest allowed body full of them gets its
/// warning (bounded, saying how many more), and nothing is stored. Every post counts against the
/// client's form posts before it is read: past them even a post that is not a form at all gets
/// the 429 page, and a valid story gets it with its text still in the form.
#[tokio::test]
async fn the_worst_personal_information_input_gets_its_422_and_posts_are_limited_before_parsing() {
    let app = spawn_configured(TestDatabase::new(), false, |s| s.submissions_per_hour = 1).await;
    let browser = app.browser();
    let mut fields = story_fields("番号だらけの話");

    // As many findings as fit in the form (an @ travels as three bytes).
    fields[1].1 = findings_text(420 * 1024);
    let page = browser
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(
        page.status,
        422,
        "{}",
        &page.body[..300.min(page.body.len())]
    );
    assert!(
        page.text(".error-summary").contains("本文は20000文字以内"),
        "{}",
        page.text(".error-summary")
    );

    fields[1].1 = findings_text(20_000);
    let page = browser
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(page.status, 422);
    let listed = page.texts(".pii-warning li");
    assert_eq!(listed.len(), 30, "{listed:?}");
    assert!(listed[0].contains("090-0000-0000"), "{listed:?}");
    let more = page.text(".pii-warning");
    assert!(
        more.contains("ほかに") && more.contains("件あります"),
        "{more}"
    );
    assert_eq!(stories_titled(&app, "番号だらけの話"), 0);

    // One submission an hour allows six form posts; two are spent.
    for _ in 0..4 {
        let page = browser
            .submit("/stories/new", "/stories/new", &as_refs(&fields))
            .await;
        assert_eq!(page.status, 422);
    }
    let not_a_form = browser
        .client
        .post(format!("{}/stories/new", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=%ZZ&&&=%")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status().as_u16(), 429);
    let text = not_a_form.text().await.unwrap();
    assert!(text.contains("1時間ほどたってから"), "{text}");

    let valid = story_fields("ふつうの話");
    let page = browser
        .submit("/stories/new", "/stories/new", &as_refs(&valid))
        .await;
    assert_eq!(page.status, 429);
    assert!(page.text(".error-summary").contains("1時間ほどたってから"));
    assert_eq!(page.attr("#title", "value").as_deref(), Some("ふつうの話"));
    assert_eq!(stories_titled(&app, "ふつうの話"), 0);

    // Another client is not affected.
    let other = Browser::from_source(&app.address, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    let code = other.send_story(&as_refs(&valid)).await;
    assert_eq!(app.story_by_code(&code).title, "ふつうの話");
}

/// A visitor behind the trusted proxy whose address is `forwarded`.
pub fn behind_proxy(app: &TestApp, forwarded: &str) -> Browser {
    forwarding(app, [127, 0, 0, 1], forwarded)
}

/// IPv6 visitors are counted per /64: addresses of one network share one budget (a phone or a
/// household gets a whole /64), another network has its own, and an IPv4 client mapped into
/// IPv6 is that IPv4 client.
#[tokio::test]
async fn addresses_of_one_ipv6_network_share_a_budget() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.submissions_per_hour = 2;
        s.trusted_proxies = engawa::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let fields = story_fields("同じネットワークの話");
    for address in ["2001:db8:1:2::a", "2001:db8:1:2:ffff:ffff:ffff:b"] {
        behind_proxy(&app, address)
            .send_story(&as_refs(&fields))
            .await;
    }
    let third = behind_proxy(&app, "2001:db8:1:2:1234::c")
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(third.status, 429);
    assert!(third.text(".error-summary").contains("1時間ほどたってから"));
    behind_proxy(&app, "2001:db8:1:3::a")
        .send_story(&as_refs(&fields))
        .await;

    for _ in 0..2 {
        behind_proxy(&app, "::ffff:198.51.100.7")
            .send_story(&as_refs(&fields))
            .await;
    }
    let same_v4 = behind_proxy(&app, "198.51.100.7")
        .submit("/stories/new", "/stories/new", &as_refs(&fields))
        .await;
    assert_eq!(same_v4.status, 429);
    assert_eq!(stories_titled(&app, "同じネットワークの話"), 5);
}

/// A visitor connecting from `source` that sends `forwarded` as X-Forwarded-For.
fn forwarding(app: &TestApp, source: [u8; 4], forwarded: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", forwarded.parse().unwrap());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .local_address(Some(IpAddr::V4(Ipv4Addr::from(source))))
        .default_headers(headers)
        .build()
        .unwrap();
    Browser {
        client,
        address: app.address.clone(),
    }
}

/// X-Forwarded-For is believed only from a trusted proxy, and only its nearest untrusted hop: a
/// client that writes the header itself, directly or through the proxy, gets no new budget.
#[tokio::test]
async fn only_a_trusted_proxy_names_the_client() {
    let app = spawn_configured(TestDatabase::new(), false, |s| {
        s.submissions_per_hour = 1;
        s.trusted_proxies = engawa::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let fields = story_fields("転送の話");
    let fields = as_refs(&fields);
    let send = async |who: Browser| {
        who.submit("/stories/new", "/stories/new", &fields)
            .await
            .status
    };
    // Directly, from an address that is not the proxy: the header is ignored.
    assert_eq!(
        send(forwarding(&app, [127, 0, 0, 5], "203.0.113.1")).await,
        303
    );
    assert_eq!(
        send(forwarding(&app, [127, 0, 0, 5], "203.0.113.2")).await,
        429,
        "a forged header from an untrusted peer changes nothing"
    );
    // Through the proxy: the nearest untrusted hop is the client, whatever it wrote before it.
    assert_eq!(
        send(forwarding(
            &app,
            [127, 0, 0, 1],
            "203.0.113.3, 198.51.100.1"
        ))
        .await,
        303
    );
    assert_eq!(
        send(forwarding(
            &app,
            [127, 0, 0, 1],
            "203.0.113.4, 198.51.100.1"
        ))
        .await,
        429,
        "the client's own additions to the header do not make it someone else"
    );
    assert_eq!(
        send(forwarding(&app, [127, 0, 0, 1], "198.51.100.2")).await,
        303,
        "another client behind the proxy has its own budget"
    );
    assert_eq!(stories_titled(&app, "転送の話"), 3);
}
